/* SPDX-License-Identifier: MIT */
/* One interface for announcing changes to cached data (DESIGN §5): in-process now; the cluster
   layer plugs a Redis stream in behind the same calls. Events carry what changed, never values:
   receivers drop their entries and reload from SQL. */
#ifndef TANDEM_INVALIDATION_H
#define TANDEM_INVALIDATION_H

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
/* handler(ev, ctx) runs for every event of region, on the publishing thread (later: on the
   stream reader's thread). Subscribe before publishing starts. */
void inval_subscribe(struct inval_bus *bus, enum inval_region region, inval_handler_fn *handler,
                     void *ctx);
/* Announces a committed change. Thread-safe. */
void inval_publish(struct inval_bus *bus, enum inval_region region, int64_t cid, int64_t key);
/* Events published so far (metrics, tests). */
uint64_t inval_published(struct inval_bus *bus);
uint64_t inval_published_region(struct inval_bus *bus, enum inval_region region);
/* "context", "user", "group", "folder", "session". */
const char *inval_region_name(enum inval_region region);

#endif
