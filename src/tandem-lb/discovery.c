/* SPDX-License-Identifier: MIT */
/* Announcement bookkeeping per route; the balancer holds the members, this only decides. */
#include "discovery.h"

#include <stdbool.h>
#include <string.h>

#include "array.h"
#include "balancer.h"
#include "mem.h"

struct entry {
	char route[ANNOUNCE_NAME_MAX + 1];
	uint64_t started_ms, seq; /* newest datagram seen */
	uint64_t last_seen_ms;
	/* The member this discovery added (a reference), or NULL for a route some other member
	   (configured, manager-added) has. Held by pointer, not by route, so that a member the
	   operator put in place of a learned one is never removed or changed here. */
	struct balancer_member *member;
};

struct discovery {
	struct balancer *b;
	char cluster[ANNOUNCE_NAME_MAX + 1];
	uint64_t member_ttl_ms;
	unsigned loadfactor;
	struct array entries; /* struct entry */
	size_t learned;       /* entries with a member */
};

static const char *const result_names[] = {
    [DISCOVERY_ADDED] = "added",   [DISCOVERY_REFRESHED] = "refreshed", [DISCOVERY_MOVED] = "moved",
    [DISCOVERY_STATIC] = "static", [DISCOVERY_IGNORED] = "ignored",
};

const char *discovery_result_name(enum discovery_result result)
{
	return result_names[result];
}

struct discovery *discovery_create(struct balancer *b, const struct discovery_settings *set)
{
	struct discovery *d = mem_calloc(1, sizeof(*d));

	d->b = b;
	announce_field_set(d->cluster, sizeof(d->cluster), set->cluster);
	d->member_ttl_ms = set->member_ttl_ms;
	d->loadfactor = set->loadfactor == 0 ? DISCOVERY_DEFAULT_LOADFACTOR : set->loadfactor;
	array_init(&d->entries, sizeof(struct entry));
	return d;
}

/* Takes the entry's member out of the balancer (if it is still there) and drops it. */
static void forget_member(struct discovery *d, struct entry *e)
{
	if (e->member == NULL)
		return;
	(void)balancer_remove_member(d->b, e->member);
	balancer_member_unref(&e->member);
	d->learned--;
}

void discovery_destroy(struct discovery **dp)
{
	struct discovery *d = *dp;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->entries.count; i++)
		forget_member(d, array_idx(&d->entries, i));
	array_free(&d->entries);
	mem_free(dp);
}

size_t discovery_count(const struct discovery *d)
{
	return d->learned;
}

static struct entry *entry_find(struct discovery *d, const char *route)
{
	for (size_t i = 0; i < d->entries.count; i++) {
		struct entry *e = array_idx(&d->entries, i);
		if (strcmp(e->route, route) == 0)
			return e;
	}
	return NULL;
}

static bool stale(const struct entry *e, const struct announce_msg *msg)
{
	return msg->started_ms < e->started_ms ||
	       (msg->started_ms == e->started_ms && msg->seq <= e->seq);
}

/* Adds a learned member for msg; on success e->member holds it. */
static int learn(struct discovery *d, struct entry *e, const struct announce_msg *msg,
                 const char *address, unsigned loadfactor, enum balancer_state state)
{
	struct balancer_member_settings set = {
	    .route = msg->route,
	    .address = address,
	    .loadfactor = loadfactor,
	    .state = state,
	    .discovered = true,
	    .draining = msg->state == ANNOUNCE_DRAINING,
	};
	const char *error;

	if (d->learned >= DISCOVERY_MEMBERS_MAX || balancer_add(d->b, &set, &e->member, &error) < 0)
		return -1;
	d->learned++;
	return 0;
}

enum discovery_result discovery_feed(struct discovery *d, const struct announce_msg *msg,
                                     const char *address, uint64_t now_ms)
{
	enum discovery_result result;
	struct balancer_member *m;
	struct entry *e, fresh;

	if (address == NULL)
		address = msg->address;
	if (strcmp(msg->cluster, d->cluster) != 0)
		return DISCOVERY_IGNORED;
	e = entry_find(d, msg->route);
	if (e != NULL && stale(e, msg))
		return DISCOVERY_IGNORED;
	if (e == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		announce_field_set(fresh.route, sizeof(fresh.route), msg->route);
		e = &fresh;
	}

	m = balancer_find(d->b, strv_from_cstr(msg->route));
	if (m != NULL && m != e->member) {
		/* Someone else's member has the route now: ours (if any) was replaced. */
		forget_member(d, e);
		balancer_set_draining(m, msg->state == ANNOUNCE_DRAINING);
		result = DISCOVERY_STATIC;
	} else if (m == NULL) {
		/* Unknown, or ours was removed by the operator: the node is still there. */
		forget_member(d, e);
		if (learn(d, e, msg, address, d->loadfactor, BALANCER_READY) < 0)
			return DISCOVERY_IGNORED;
		result = DISCOVERY_ADDED;
	} else if (strcmp(balancer_member_address(m), address) != 0) {
		/* Restarted elsewhere: members are keyed by address in connection pools, so the
		   member is replaced rather than changed, keeping what the operator set. */
		struct balancer_member_info info;

		balancer_member_get_info(m, now_ms, &info);
		forget_member(d, e);
		if (learn(d, e, msg, address, info.loadfactor, info.state) < 0) {
			balancer_member_unref(&m);
			return DISCOVERY_IGNORED;
		}
		result = DISCOVERY_MOVED;
	} else {
		balancer_set_draining(m, msg->state == ANNOUNCE_DRAINING);
		result = DISCOVERY_REFRESHED;
	}
	balancer_member_unref(&m);

	e->started_ms = msg->started_ms;
	e->seq = msg->seq;
	e->last_seen_ms = now_ms;
	if (e == &fresh)
		*(struct entry *)array_push(&d->entries) = fresh;
	return result;
}

size_t discovery_expire(struct discovery *d, uint64_t now_ms)
{
	size_t removed = 0;

	for (size_t i = d->entries.count; i > 0; i--) {
		struct entry *e = array_idx(&d->entries, i - 1);

		if (now_ms < e->last_seen_ms + d->member_ttl_ms)
			continue;
		if (e->member != NULL)
			removed++;
		forget_member(d, e);
		array_delete(&d->entries, i - 1);
	}
	return removed;
}
