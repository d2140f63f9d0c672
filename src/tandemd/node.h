/* SPDX-License-Identifier: MIT */
/* A running tandemd: configuration, HTTP server, worker pool and lifecycle state. */
#ifndef TANDEMD_NODE_H
#define TANDEMD_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "node-cluster.h"
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
	struct http_router *router; /* over node_route_tables (routes.c) */
	struct worker_pool *workers;
	_Atomic int state;
	uint64_t start_wall_ms;
	_Atomic uint64_t drain_wall_ms; /* when draining began; 0 before */
	struct admin_auth *admin_auth;
	struct http_access_log *access_log; /* [log] access, or NULL (node-logs.c) */
	struct log_syslog *syslog;          /* [log] syslog, or NULL */
	struct configdb_probe *probe;       /* /health's view of the configdb, or NULL (off) */
	pthread_mutex_t prov_lock;
	/* opened on first use, so a node starts before its configdb; never replaced after */
	struct provision *_Atomic prov;
	struct sessions *sessions;
	struct dav_auth *dav_auth; /* HTTP Basic for /dav/ */
	struct inval_bus *inval;   /* cache invalidation: handlers here, the stream to the others */
	/* Redis pool, positions, stream, membership, node id (node-cluster.c) */
	struct node_cluster cluster;
	/* multicast announce ([cluster] announce set), else NULL */
	struct announce_sender *announcer;
	/* folders, files, their caches and transactions (docs/internals/storage.md) */
	struct storage *storage;
	/* Dropped only by inval's subscribers (docs/internals/cluster.md "Caches and
	   invalidation"). */
	struct login_cache *login_cache; /* (cid, login): the login row; api-session.c fills it */
	struct cache *access_cache;      /* (cid, uid): module bits for DAV (node-access.c) */
	struct webui_dir *webui;         /* the web UI's files, or NULL (none installed, or off) */
	struct imap_pool *mail_pool;     /* IMAP connections ([mail] imap_url set), else NULL */
};

struct prov_error;
/* The provisioning handle, opening the configdb on first use; NULL with err set (503) while
   the configdb is unreachable or not initialised. Thread-safe. */
struct provision *node_provision(struct node *node, struct prov_error *err);

int node_init(struct node *node, const char **error_r);
/* Starts serving and logs where. */
int node_start(struct node *node, const char **error_r);
/* Marks the node draining: /health answers 503, new logins are refused, everything else is
   still served. Returns true if this call made the change, false if it was draining already.
   Thread-safe (the admin API's drain call and the main thread both call it). */
bool node_drain_begin(struct node *node);
/* Marks the node draining (if not yet) and stops the HTTP server gracefully: listeners close,
   in-flight requests finish within drain_timeout, idle connections close. Main thread. */
void node_drain(struct node *node);
void node_deinit(struct node *node);

const char *node_state_name(enum node_state state);

#endif
