/* SPDX-License-Identifier: MIT */
/* Members learned from the nodes' multicast announcements: added, refreshed and aged out. */
#ifndef TANDEM_LB_DISCOVERY_H
#define TANDEM_LB_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "announce.h"

struct balancer;

#define DISCOVERY_MEMBERS_MAX        256 /* learned members, a bound even for key holders */
#define DISCOVERY_DEFAULT_LOADFACTOR 50

struct discovery_settings {
	const char *cluster;    /* only announcements of this cluster name count */
	uint64_t member_ttl_ms; /* a learned member without datagrams for this long goes */
	unsigned loadfactor;    /* of learned members, 1-100; 0 = 50 */
};

enum discovery_result {
	DISCOVERY_ADDED,     /* an unknown route: a new member */
	DISCOVERY_REFRESHED, /* a learned member: last seen and draining flag updated */
	DISCOVERY_MOVED,     /* a learned member at a new address: replaced, keeping its
	                        operator state and loadfactor */
	DISCOVERY_STATIC,    /* a configured (or manager-added) member: only its draining flag */
	DISCOVERY_IGNORED,   /* another cluster, an older datagram than one already seen, or
	                        DISCOVERY_MEMBERS_MAX reached */
};

struct discovery;

/* Feeds b; settings are copied (cluster too). b must outlive the discovery. A discovery
   belongs to one thread at a time (the announce receiver's). */
struct discovery *discovery_create(struct balancer *b, const struct discovery_settings *set);
/* Removes the members it learned from b, frees and sets *d = NULL; NULL is a no-op. */
void discovery_destroy(struct discovery **d);

/* One announcement received at monotonic time now_ms. address is where the node serves HTTP
   (announce_effective_address(); NULL = msg->address). Datagrams of a route are ordered by
   (started, seq): one not newer than the last seen for the route is ignored, so a reordered
   "ready" cannot undo a "draining". A datagram in state draining sets the member's draining
   flag (it takes only its sticky traffic), ready clears it; nothing else of a configured
   member is touched. */
enum discovery_result discovery_feed(struct discovery *d, const struct announce_msg *msg,
                                     const char *address, uint64_t now_ms);
/* Removes learned members not heard from for member_ttl_ms (last datagram at or before
   now_ms - member_ttl_ms) and forgets configured routes likewise (they stay in b). Returns
   the number of members removed. Call it about once a second. */
size_t discovery_expire(struct discovery *d, uint64_t now_ms);
/* Members currently learned. */
size_t discovery_count(const struct discovery *d);
/* "added" … "ignored". */
const char *discovery_result_name(enum discovery_result result);

#endif
