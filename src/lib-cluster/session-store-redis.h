/* SPDX-License-Identifier: MIT */
/* Session store on Redis (docs/internals/sessions.md): sessions shared by every node of a cluster.
 */
#ifndef TANDEM_SESSION_STORE_REDIS_H
#define TANDEM_SESSION_STORE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis.h"
#include "session-store.h"

/* Key layout and invariants: docs/internals/sessions.md, "Redis store". */
struct session_store_redis_settings {
	struct redis_pool *pool; /* not owned; must outlive the store */
	const char *prefix;      /* "tandem:<cluster>:v1:" (copied, < 256 bytes) */
	const char *route;       /* this node's route (copied, < 64 bytes): count() counts its
	                            sessions */
	unsigned backup_count;   /* after put: WAIT backup_count backup_timeout_ms (0 = no WAIT) */
	/* WAIT's timeout. It must stay below the pool's command timeout (else the socket read
	   gives up first and the connection breaks); 0 or a value that is not is replaced by
	   half the command timeout, with a warning at create. */
	unsigned backup_timeout_ms;
	bool strict; /* a WAIT shortfall fails put (-1) and removes the session again */
	/* Optional: a stream key; when set, get() also fetches the stream's newest id in the
	   same round trip (XREVRANGE key + - COUNT 1) and calls on_stream_head(ctx, id) with it
	   ("0-0" when the stream is empty or missing) before returning 1 or 0 (never before
	   -1). Called on the thread that called get. */
	const char *stream_key; /* copied */
	void (*on_stream_head)(void *ctx, const char *id);
	void *ctx;
};

/* Returns the store (free with session_store_destroy), or NULL with session_store_error()
   set when the settings are unusable (no pool, prefix or route too long). Does not contact
   Redis: a Redis that is down at start only makes the ops fail until it is back.

   Ops, beyond session-store.h: every -1 leaves a reason naming the cause (the pool's or
   the connection's error text such as "Redis 127.0.0.1:6379: Connection refused", or the
   error reply); no op waits longer than the pool's connect and command timeouts (put adds
   WAIT's timeout). get() answers 0 for an id longer than SESSION_ID_LEN without asking for
   the session. touch() returns -1 on a store error (counted; callers may ignore it).
   count() cannot fail: on an error it returns the last count it obtained. */
struct session_store *session_store_redis_create(const struct session_store_redis_settings *set);

/* Counters for /metrics: WAIT shortfalls, store errors (every op that returned -1, and
   every failed touch or count). store must be a Redis store. */
struct session_store_redis_stats {
	uint64_t wait_shortfalls, errors;
};
void session_store_redis_stats(struct session_store *store, struct session_store_redis_stats *st);

/* Cluster-wide session counts for clusterstats: total live sessions and per route (the
   routes that ever created sessions under prefix, sorted by name, 0 for a route whose
   sessions are all gone), expired ones pruned first (expired = now_ms past last use +
   lifetime). Returns the number of routes filled (up to max; *total_r counts all routes)
   or -1 (session_store_error() set). */
struct session_route_count {
	char route[64];
	uint64_t sessions;
};
int session_store_redis_count_all(struct redis_pool *pool, const char *prefix, uint64_t now_ms,
                                  struct session_route_count *out, size_t max, uint64_t *total_r);

#endif
