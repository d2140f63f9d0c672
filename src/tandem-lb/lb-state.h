/* SPDX-License-Identifier: MIT */
/* The operator's changes made through the manager, kept in a JSON state file across restarts. */
#ifndef TANDEM_LB_STATE_H
#define TANDEM_LB_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "balancer.h"
#include "buf.h"
#include "strv.h"

/* The "version" this build writes and the only one it reads. */
#define LB_STATE_VERSION 1
/* Longest member URL kept ("http://" + BALANCER_ADDRESS_MAX + "/" fits). */
#define LB_STATE_URL_MAX 128
/* State files larger than this are refused (1024 members take about 100 KiB). */
#define LB_STATE_FILE_MAX (1024 * 1024)

/* What the operator changed about one route (docs/internals/lb-manager.md, "State file"). */
struct lb_state_member {
	char route[BALANCER_ROUTE_MAX + 1];
	bool has_state; /* state overrides the configuration */
	enum balancer_state state;
	bool has_loadfactor; /* loadfactor overrides the configuration */
	unsigned loadfactor;
	/* Non-empty for a member added through the manager: the member itself is restored from
	   here (has_state and has_loadfactor are then always true). */
	char url[LB_STATE_URL_MAX + 1];
	/* A tombstone: a configured member the operator removed stays removed. Nothing else is
	   set then. */
	bool removed;
};

struct lb_state;
struct lb_member_config;

/* An empty state that lb_state_save() writes to path (copied); path NULL = memory only, save
   is then a no-op. */
struct lb_state *lb_state_create(const char *path);
/* Creates a state for path and reads the file. A missing file is an empty state (first
   start). An unreadable, malformed or unknown-version file is -1 with *error_r naming the
   file ("/var/lib/tandem/tandem-lb.state: line 3: …"): callers refuse to start rather than
   forget an operator's maintenance mode. *error_r is valid until the next call on this
   thread. */
int lb_state_load(const char *path, struct lb_state **state_r, const char **error_r);
/* NULL is a no-op; sets *state to NULL. */
void lb_state_free(struct lb_state **state);

/* Replaces s's members with those of the JSON text (the state file format; name is used in
   messages). On -1, s is unchanged. For the file and for state shared between peers. */
int lb_state_parse(struct lb_state *s, struct strv text, const char *name, const char **error_r);
/* Appends s as JSON (the state file format, routes sorted, ending with a newline) to out. */
void lb_state_format(const struct lb_state *s, struct buf *out);
/* Writes s atomically: "<path>.tmp" is written, fsync()ed and renamed over path, then the
   directory is fsync()ed. On -1 (message names the file) the previous file is untouched. */
int lb_state_save(const struct lb_state *s, const char **error_r);
/* The file s is saved to, or NULL. */
const char *lb_state_path(const struct lb_state *s);

/* Copies src's members into dst (dst keeps its path): a backup to roll a change back. */
void lb_state_copy(struct lb_state *dst, const struct lb_state *src);
size_t lb_state_count(const struct lb_state *s);
/* Member i (sorted by route) or the one for route; NULL if none. Pointers stay valid until
   the next change to s. */
const struct lb_state_member *lb_state_at(const struct lb_state *s, size_t i);
const struct lb_state_member *lb_state_get(const struct lb_state *s, const char *route);

/* Record one operator change in memory (lb_state_save() persists). route must be
   balancer_route_valid(); values must be in range (asserted: callers validate input).
   set_state/set_loadfactor clear a tombstone and keep an added member's URL. */
void lb_state_set_state(struct lb_state *s, const char *route, enum balancer_state state);
void lb_state_set_loadfactor(struct lb_state *s, const char *route, unsigned loadfactor);
/* A member added through the manager (replaces whatever was recorded for route). */
void lb_state_add(struct lb_state *s, const char *route, const char *url, unsigned loadfactor,
                  enum balancer_state state);
/* The member was removed. Its record goes; with tombstone (a configured member) a tombstone
   takes its place so the next start removes it again. */
void lb_state_remove(struct lb_state *s, const char *route, bool tombstone);

/* Applies s over a balancer filled from the configuration, in route order:
   - a tombstone removes the configured member (no member: nothing to do);
   - an added member is added; if the configuration now has that route itself, the
     configured address stays and only state and loadfactor apply (logged);
   - state and loadfactor overrides are set on the member;
   - records for a route no member has (a member since dropped from the configuration, a
     discovered one not yet announced) are kept in s and logged, not an error.
   Returns 0, or -1 when an added member cannot be added (table full), with a message naming
   the file and the route. */
int lb_state_apply(const struct lb_state *s, struct balancer *b, const char **error_r);

/* Makes s and b follow a peer balancer's state (text in the state file format; name is used
   in messages), at run time. Only routes whose record differs between s and text are
   touched, so discovery and health checks keep their say over the others. For each:
   - a tombstone removes the member;
   - a configured route (in configured) that has no member any more is added back from its
     [member] section; an added member's record adds it where the route has no member (at
     another address than the one it has: removed and added again), except that a configured
     route keeps its configured address, as at start;
   - a member the manager had added whose record went away (the peer removed it) is removed
     unless the route is configured or discovered;
   - state and loadfactor are the record's overrides, else the configured values; a
     discovered member without an override keeps what it has.
   Then s takes text's members and is saved (a failed save is logged: the balancer follows
   anyway and the file catches up with the next change). configured may be NULL with count 0.
   Returns 1 when something changed, 0 when s already had this content, or -1 when text
   cannot be read (nothing changed; *error_r as for lb_state_parse()). */
int lb_state_follow(struct lb_state *s, struct strv text, const char *name, struct balancer *b,
                    const struct lb_member_config *configured, size_t configured_count,
                    const char **error_r);

#endif
