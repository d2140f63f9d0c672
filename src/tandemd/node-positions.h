/* SPDX-License-Identifier: MIT */
/* The replication monitor's position store in the cluster store (Redis), so that a write on
   one node is seen by reads on every node (docs/internals/replication.md). */
#ifndef TANDEMD_NODE_POSITIONS_H
#define TANDEMD_NODE_POSITIONS_H

#include "sql.h"

struct redis_pool;

struct node_positions {
	struct sql_position_store store;
	struct redis_pool *redis;
	char prefix[120]; /* <cluster prefix>pos: */
};

/* Fills np so that np->store keeps positions in Redis under cluster_prefix. */
void node_positions_init(struct node_positions *np, struct redis_pool *redis,
                         const char *cluster_prefix);

#endif
