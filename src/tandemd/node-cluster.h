/* SPDX-License-Identifier: MIT */
/* The node's cluster layer from [cluster]: nothing extra for `store = memory`; for Redis the
   connection pool, the shared session store, the invalidation stream and membership. */
#ifndef TANDEMD_NODE_CLUSTER_H
#define TANDEMD_NODE_CLUSTER_H

#include <stddef.h>

struct node;
struct session_store;

/* Before sessions_create: sets up Redis (without contacting it: a Redis that is down makes
   requests answer 503 until it is back) and returns the session store to use (NULL = the
   memory store). -1 with error_r for a bad store URL. */
int node_cluster_init(struct node *node, struct session_store **store_r, const char **error_r);
/* Without [session] cookie_salt and with Redis: the salt of the cluster, stored under the
   cluster prefix by the first node to ask (SET NX of proposal) and read back by every node,
   into salt_r (size bytes with the NUL). 0, or -1 with error_r (Redis unreachable, a key
   that is not a salt); error_r stays valid until this thread calls again. For
   sessions_settings.agree_salt with ctx the node. */
int node_cluster_agree_salt(void *ctx, const char *proposal, char *salt_r, size_t size,
                            const char **error_r);
/* After the listeners are up: writes the first membership record and starts the heartbeat. */
void node_cluster_start(struct node *node);
/* A state change (draining) shows in the membership record now, not at the next beat. */
void node_cluster_state_changed(struct node *node);
/* Leaves: removes the membership record, stops the stream reader. Idempotent. */
void node_cluster_stop(struct node *node);
/* After sessions are gone: closes the pool. */
void node_cluster_deinit(struct node *node);

#endif
