/* SPDX-License-Identifier: MIT */
/* The balancer's member table and its decisions: sticky routing, weighted picks, health. */
#ifndef TANDEM_LB_BALANCER_H
#define TANDEM_LB_BALANCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

/* Longest route accepted (the announce format's limit; config routes are at most 48). */
#define BALANCER_ROUTE_MAX      64
#define BALANCER_ADDRESS_MAX    80 /* "host:port" or "[v6]:port" */
#define BALANCER_MEMBERS_MAX    1024
#define BALANCER_EXCLUDE_MAX    8 /* members one request may try */
#define BALANCER_LOADFACTOR_MAX 100

/* The operator's state of a member (docs/internals/balancer.md, "States"). */
enum balancer_state {
	BALANCER_READY,    /* new sessions and sticky traffic */
	BALANCER_DRAIN,    /* only its sticky traffic */
	BALANCER_MAINT,    /* nothing; health checks continue */
	BALANCER_DISABLED, /* nothing; no health checks */
	BALANCER_STANDBY,  /* like ready, but only while no ready member is usable */
};

enum balancer_method {
	BALANCER_BYREQUESTS, /* smooth weighted round-robin over new-session picks */
	BALANCER_BYBUSYNESS, /* fewest in-flight requests relative to loadfactor */
};

/* How balancer_pick() chose. */
enum balancer_pick_kind {
	BALANCER_PICK_STICKY,   /* the request's route, its member usable */
	BALANCER_PICK_NEW,      /* no route, or a route no member has */
	BALANCER_PICK_FAILOVER, /* the route's member is unusable or excluded: picked as new */
};

/* "ready" … "standby". */
const char *balancer_state_name(enum balancer_state state);
/* Parses a state name; returns 0 or -1. */
int balancer_state_parse(const char *name, enum balancer_state *state_r);
const char *balancer_method_name(enum balancer_method method);
int balancer_method_parse(const char *name, enum balancer_method *method_r);
/* True if route is 1-BALANCER_ROUTE_MAX bytes of A-Z a-z 0-9 '-' '_'. */
bool balancer_route_valid(struct strv route);

struct balancer_settings {
	enum balancer_method method;
	uint64_t retry_ms;    /* a passively failed member stays out this long */
	unsigned health_rise; /* consecutive good checks to come up (>= 1) */
	unsigned health_fall; /* consecutive bad checks to go down (>= 1) */
};

struct balancer_member_settings {
	const char *route;   /* balancer_route_valid() */
	const char *address; /* "host:port" or "[v6]:port", < BALANCER_ADDRESS_MAX bytes */
	unsigned loadfactor; /* 1-100 */
	enum balancer_state state;
	bool discovered; /* learned from announcements (shown in snapshots; no other effect) */
	bool draining;   /* the node's own draining flag to start with */
};

/* A copy of one member's state and counters, for the manager and /metrics. */
struct balancer_member_info {
	char route[BALANCER_ROUTE_MAX + 1];
	char address[BALANCER_ADDRESS_MAX + 1];
	unsigned loadfactor;
	enum balancer_state state;     /* as set by the operator */
	enum balancer_state effective; /* state, or DRAIN while the node says it is draining */
	bool discovered;
	bool healthy;            /* active checks: up (true) or down */
	bool draining;           /* the node reported draining (health check or announce) */
	bool in_error;           /* passive error state at the snapshot's time */
	uint64_t error_until_ms; /* end of the last error state (0 = never failed) */
	uint64_t last_check_ms;  /* time of the last health result (0 = none yet) */
	bool last_check_ok;
	uint64_t requests; /* balancer_begin() calls */
	uint64_t in_flight;
	uint64_t bytes_in;  /* from clients towards the member */
	uint64_t bytes_out; /* from the member towards clients */
	uint64_t errors;    /* balancer_member_failed() plus balancer_end() with error */
};

struct balancer;
struct balancer_member;

/* Members one request has already tried; filled by the caller, checked by balancer_pick(). */
struct balancer_exclude {
	const struct balancer_member *members[BALANCER_EXCLUDE_MAX];
	size_t count;
};

/* Adds m to the set; returns false when the set is full (the caller stops retrying). */
bool balancer_exclude_add(struct balancer_exclude *ex, const struct balancer_member *m);

/* Creates an empty table. settings are copied; health_rise/fall of 0 count as 1. */
struct balancer *balancer_create(const struct balancer_settings *set);
/* Frees the table. Every member returned by balancer_pick() or balancer_find() must have been
   given back (balancer_end(), balancer_member_unref()) before: asserted. NULL is a no-op. */
void balancer_destroy(struct balancer **b);
/* Changes method and retry at run time (reload); rise/fall apply from the next result. */
void balancer_set_settings(struct balancer *b, const struct balancer_settings *set);

/* Adds a member, healthy and without error state; with member_r (may be NULL) also returns a
   reference to it for balancer_member_unref(). Returns 0, or -1 with a static *error_r when
   the route is taken or invalid, a field is out of range, or the table is full. */
int balancer_add(struct balancer *b, const struct balancer_member_settings *set,
                 struct balancer_member **member_r, const char **error_r);
/* Takes the member out of the table; requests holding it finish normally. -1 if unknown. */
int balancer_remove(struct balancer *b, struct strv route);
/* The same for this very member (not a later one with its route); -1 if it is not in the
   table any more. */
int balancer_remove_member(struct balancer *b, const struct balancer_member *m);
/* Runtime changes (manager). Return 0, or -1 if the route is unknown or the value invalid. */
int balancer_set_state(struct balancer *b, struct strv route, enum balancer_state state);
int balancer_set_loadfactor(struct balancer *b, struct strv route, unsigned loadfactor);
/* Members in the table. */
size_t balancer_count(struct balancer *b);

/* The member with this route, with a reference the caller gives back with
   balancer_member_unref(); NULL if unknown. For health checkers and discovery. */
struct balancer_member *balancer_find(struct balancer *b, struct strv route);
void balancer_member_unref(struct balancer_member **m);
/* Another reference to m, which the caller already holds one of. */
struct balancer_member *balancer_member_ref(struct balancer_member *m);
/* True once m has been taken out of the table (a holder of a reference drops its caches). */
bool balancer_member_removed(const struct balancer_member *m);
/* The member's route and address; constant for its lifetime, NUL-terminated. */
const char *balancer_member_route(const struct balancer_member *m);
const char *balancer_member_address(const struct balancer_member *m);

/* Chooses the member for one request at monotonic time now_ms (docs/internals/balancer.md):
   route (empty = none) is the sticky route from sticky_route(); exclude (NULL = none) lists
   members this request already failed on. Returns NULL only when no member is usable (the
   proxy answers 503). Otherwise the member is reserved: its in-flight count is already raised
   (so concurrent bybusyness picks see it) and a reference is held; give it back with exactly
   one balancer_end(). *kind_r (may be NULL) tells how it was chosen. Thread-safe. */
struct balancer_member *balancer_pick(struct balancer *b, struct strv route,
                                      const struct balancer_exclude *exclude, uint64_t now_ms,
                                      enum balancer_pick_kind *kind_r);
/* The request was forwarded to m (connected, head sent): counts one request. */
void balancer_begin(struct balancer_member *m);
/* Ends a reservation from balancer_pick(): lowers in-flight, adds the byte counts and, when
   error is true, one error (a failed exchange that is not a connect failure: the proxy reports
   those with balancer_member_failed() first). Drops the reference and sets *m = NULL.
   Lock-free. */
void balancer_end(struct balancer_member **m, uint64_t bytes_in, uint64_t bytes_out, bool error);

/* Passive failure detection: a connect failure or timeout puts m in error state until
   now_ms + retry; picks skip it until then. Counts one error. */
void balancer_member_failed(struct balancer_member *m, uint64_t now_ms);
/* One active health check result. ok: the node answered its health URI (200, or 503 with
   draining); draining: it said it is draining (then ok is true). A bad result leaves the
   draining flag as it was. Health goes down after health_fall bad results in a row and up
   after health_rise good ones. Returns true when the health changed. */
bool balancer_health_result(struct balancer_member *m, bool ok, bool draining, uint64_t now_ms);
/* The node's own draining flag, for announcements that carry it. */
void balancer_set_draining(struct balancer_member *m, bool draining);

/* Copies m's state and counters into *info_r; in_error is judged at now_ms. */
void balancer_member_get_info(struct balancer_member *m, uint64_t now_ms,
                              struct balancer_member_info *info_r);
/* Copies every member (table order) into a new array in *infos_r (free with mem_free());
   returns the count. in_error is judged at now_ms. */
size_t balancer_snapshot(struct balancer *b, uint64_t now_ms,
                         struct balancer_member_info **infos_r);

#endif
