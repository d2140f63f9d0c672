/* SPDX-License-Identifier: MIT */
/* Cluster membership (docs/internals/cluster.md): each node heartbeats a record with a short TTL,
   so the members are the records that exist; a node that stops cleanly removes its own. */
#ifndef TANDEM_MEMBERSHIP_H
#define TANDEM_MEMBERSHIP_H

#include <stddef.h>
#include <stdint.h>

struct redis_pool;

struct member_info {
	char id[64]; /* unique per process: route and a random suffix */
	char route[64];
	char address[128]; /* host:port of its HTTP listener */
	char version[32];
	char cluster[65];
	char state[16]; /* ready | draining */
	uint64_t started_ms;
	uint64_t load;         /* requests in progress */
	uint64_t sessions;     /* live sessions created on it */
	char stream_id[48];    /* its invalidation reader's position */
	uint64_t heartbeat_ms; /* when the record was written (wall clock) */
};

/* Fills the current values of this node (id, route, … stream_id); heartbeat_ms is set by
   membership. Runs on the heartbeat thread. */
typedef void member_info_fn(struct member_info *info, void *ctx);

struct membership_settings {
	struct redis_pool *pool; /* not owned */
	const char *prefix;      /* "tandem:<cluster>:v1:" (copied) */
	uint64_t heartbeat_ms;
	uint64_t ttl_ms;
	unsigned want_replicas; /* warn while Redis has fewer replicas connected */
};

struct membership;

/* Starts the heartbeat thread; the first record is written before this returns when Redis
   answers (else the thread keeps trying). */
struct membership *membership_start(const struct membership_settings *set, member_info_fn *fn,
                                    void *ctx);
/* Writes the record now (after a state change) instead of at the next beat. */
void membership_beat_now(struct membership *m);
/* Stops the thread and removes this node's record. */
void membership_stop(struct membership **m);

/* The live members, ordered by route; returns how many were filled (up to max), or -1 with
   err set. */
int membership_list(struct redis_pool *pool, const char *prefix, struct member_info *out,
                    size_t max, char *err, size_t err_size);

/* Replicas connected to the Redis master at the last heartbeat (-1 unknown). */
int membership_redis_replicas(struct membership *m);

#endif
