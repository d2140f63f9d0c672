/* SPDX-License-Identifier: MIT */
/* One interface for announcing changes to cached data (docs/internals/cluster.md): handlers run
   in-process at once, and the cluster layer (inval-stream.c) carries each event to the other nodes.
   Events carry what changed, never values: receivers drop their entries and reload from SQL. */
#ifndef TANDEM_INVALIDATION_H
#define TANDEM_INVALIDATION_H

#include <stddef.h>
#include <stdint.h>

enum inval_region {
	INVAL_CONTEXT, /* key = 0: the whole context (enabled, quota, location, mappings) */
	INVAL_USER,    /* key = user id */
	INVAL_GROUP,   /* key = group id */
	INVAL_FOLDER,  /* key = folder id (tree and permissions); 0 = every folder of the context */
	INVAL_SESSION, /* key = 0, id in the session store */
	INVAL_REGION_COUNT,
};

struct inval_event {
	enum inval_region region;
	int64_t cid;
	int64_t key;
};

typedef void inval_handler_fn(const struct inval_event *ev, void *ctx);

struct inval_bus;

struct inval_bus *inval_bus_create(void);
void inval_bus_destroy(struct inval_bus **bus);
/* handler(ev, ctx) runs for every event of region: on the publishing thread for this node's
   events, on the stream reader's thread for other nodes'. Subscribe before publishing starts. */
void inval_subscribe(struct inval_bus *bus, enum inval_region region, inval_handler_fn *handler,
                     void *ctx);
/* handler(ctx) runs when every cache may be stale (a gap in the stream, a lost connection, a
   flush announced by another node): drop everything. Subscribe before publishing starts. */
typedef void inval_flush_fn(void *ctx);
void inval_subscribe_flush(struct inval_bus *bus, inval_flush_fn *handler, void *ctx);
/* Announces a committed change: runs this node's handlers, then the forwarder (if any).
   Thread-safe. */
void inval_publish(struct inval_bus *bus, enum inval_region region, int64_t cid, int64_t key);
/* The cluster layer's hook: called on the publishing thread after the local handlers, for
   every event published on this node. Set before publishing starts. */
typedef void inval_forward_fn(const struct inval_event *ev, void *ctx);
void inval_set_forwarder(struct inval_bus *bus, inval_forward_fn *forward, void *ctx);
/* Runs the handlers for an event another node published (never forwarded). */
void inval_deliver(struct inval_bus *bus, const struct inval_event *ev);
/* Runs every flush handler. */
void inval_flush_all(struct inval_bus *bus);
uint64_t inval_flushes(struct inval_bus *bus);
/* Events published so far (metrics, tests). */
uint64_t inval_published(struct inval_bus *bus);
uint64_t inval_published_region(struct inval_bus *bus, enum inval_region region);
/* "context", "user", "group", "folder", "session". */
const char *inval_region_name(enum inval_region region);
/* The region of a name, or -1. */
int inval_region_parse(const char *name, size_t len);

#endif
