/* SPDX-License-Identifier: MIT */
/* The node's cluster layer from [cluster]: nothing extra for `store = memory`; for Redis the
   connection pool, the shared session store, the invalidation stream and membership. It knows
   the node's configuration only: node.c hands it what else it needs (the invalidation bus,
   a callback for the membership record), so node-cluster never includes node.h. */
#ifndef TANDEMD_NODE_CLUSTER_H
#define TANDEMD_NODE_CLUSTER_H

#include <stddef.h>

#include "membership.h"
#include "node-config.h"

struct inval_bus;
struct lock_store;
struct session_store;

struct node_cluster {
	const struct node_config *cfg;
	/* [cluster] store = redis…: NULL with the memory store */
	struct redis_pool *redis;
	/* where the replication monitor keeps write positions: Redis, else NULL (in-process) */
	struct node_positions *positions;
	struct inval_stream *stream;
	struct membership *membership;
	/* WebDAV locks (docs/internals/dav-locks.md): in Redis with a Redis store, so a lock taken
	   through one node holds on every node; in memory otherwise. Never NULL after init. */
	struct lock_store *locks;
	char node_id[64];         /* route-<random>: origin of events, membership id */
	char cluster_prefix[100]; /* tandem:<cluster>:v1: */
	char stream_key[110];     /* <prefix>inval: the invalidation stream */
	struct {
		member_info_fn *fn;
		void *ctx;
	} info; /* the node's part of the membership record */
};

/* Before sessions_create: sets up Redis (without contacting it: a Redis that is down makes
   requests answer 503 until it is back), starts the stream reader into inval and returns the
   session store to use (NULL = the memory store). cfg must outlive cluster. -1 with error_r
   for a bad store URL. */
int node_cluster_init(struct node_cluster *cluster, const struct node_config *cfg,
                      struct inval_bus *inval, struct session_store **store_r,
                      const char **error_r);
/* Without [session] cookie_salt and with Redis: the salt of the cluster, stored under the
   cluster prefix by the first node to ask (SET NX of proposal) and read back by every node,
   into salt_r (size bytes with the NUL). 0, or -1 with error_r (Redis unreachable, a key
   that is not a salt); error_r stays valid until this thread calls again. For
   sessions_settings.agree_salt with ctx the node_cluster. */
int node_cluster_agree_salt(void *ctx, const char *proposal, char *salt_r, size_t size,
                            const char **error_r);
/* After the listeners are up: writes the first membership record, filled by info (which
   sets everything but id and stream_id, filled here), and starts the heartbeat. */
void node_cluster_start(struct node_cluster *cluster, member_info_fn *info, void *ctx);
/* A state change (draining) shows in the membership record now, not at the next beat. */
void node_cluster_state_changed(struct node_cluster *cluster);
/* Leaves: removes the membership record, stops the stream reader. Idempotent. */
void node_cluster_stop(struct node_cluster *cluster);
/* After sessions and DAV requests are gone: drops the lock store, closes the pool. */
void node_cluster_deinit(struct node_cluster *cluster);

#endif
