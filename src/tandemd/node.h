/* SPDX-License-Identifier: MIT */
/* A running tandemd: configuration, HTTP server, worker pool and lifecycle state. */
#ifndef TANDEMD_NODE_H
#define TANDEMD_NODE_H

#include <stdatomic.h>
#include <stdint.h>

#include "node-config.h"

#define TANDEM_VERSION "0.1.0"

enum node_state {
	NODE_STARTING,
	NODE_READY,
	NODE_DRAINING,
};

struct node {
	struct node_config cfg;
	struct http_server *http;
	struct worker_pool *workers;
	_Atomic int state;
	uint64_t start_wall_ms;
};

int node_init(struct node *node, const char **error_r);
/* Starts serving and logs where. */
int node_start(struct node *node, const char **error_r);
/* Marks the node draining (health answers 503) and stops the HTTP server gracefully. */
void node_drain(struct node *node);
void node_deinit(struct node *node);

const char *node_state_name(enum node_state state);

#endif
