/* SPDX-License-Identifier: MIT */
/* A running tandemd: configuration, HTTP server, worker pool and lifecycle state. */
#ifndef TANDEMD_NODE_H
#define TANDEMD_NODE_H

#include <pthread.h>
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
	struct admin_auth *admin_auth;
	pthread_mutex_t prov_lock;
	struct provision *prov; /* opened on first use, so a node starts before its configdb */
	struct sessions *sessions;
	struct inval_bus *inval; /* cache invalidation (in-process; Redis stream later) */
	/* Dropped only by inval's subscribers (docs/internals/cluster.md "Caches and
	   invalidation"). */
	struct cache *folder_cache; /* (cid, folder id): owner, module, permissions */
	struct cache *group_cache;  /* (cid, user id): the user's groups */
	struct cache *login_cache;  /* (cid, login hash): the login row (sessions.c) */
};

struct prov_error;
/* The provisioning handle, opening the configdb on first use; NULL with err set (503) while
   the configdb is unreachable or not initialised. Thread-safe. */
struct provision *node_provision(struct node *node, struct prov_error *err);

int node_init(struct node *node, const char **error_r);
/* Starts serving and logs where. */
int node_start(struct node *node, const char **error_r);
/* Marks the node draining (health answers 503) and stops the HTTP server gracefully. */
void node_drain(struct node *node);
void node_deinit(struct node *node);

const char *node_state_name(enum node_state state);

#endif
