/* SPDX-License-Identifier: MIT */
/* In-process invalidation: a fixed subscriber list per region, called synchronously, and a
   forwarder that hands this node's events to the cluster. */
#include "invalidation.h"

#include <stdatomic.h>

#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define MAX_SUBSCRIBERS 8

struct subscriber {
	inval_handler_fn *handler;
	void *ctx;
};

struct flusher {
	inval_flush_fn *handler;
	void *ctx;
};

struct inval_bus {
	struct subscriber subs[INVAL_REGION_COUNT][MAX_SUBSCRIBERS];
	unsigned count[INVAL_REGION_COUNT];
	struct flusher flushers[MAX_SUBSCRIBERS];
	unsigned flusher_count;
	inval_forward_fn *forward;
	void *forward_ctx;
	_Atomic uint64_t published[INVAL_REGION_COUNT];
	_Atomic uint64_t flushes;
};

struct inval_bus *inval_bus_create(void)
{
	return mem_calloc(1, sizeof(struct inval_bus));
}

void inval_bus_destroy(struct inval_bus **bus)
{
	mem_free(bus);
}

void inval_subscribe(struct inval_bus *bus, enum inval_region region, inval_handler_fn *handler,
                     void *ctx)
{
	if (bus->count[region] == MAX_SUBSCRIBERS)
		abort();
	bus->subs[region][bus->count[region]++] = (struct subscriber){handler, ctx};
}

void inval_subscribe_flush(struct inval_bus *bus, inval_flush_fn *handler, void *ctx)
{
	if (bus->flusher_count == MAX_SUBSCRIBERS)
		abort();
	bus->flushers[bus->flusher_count++] = (struct flusher){handler, ctx};
}

void inval_set_forwarder(struct inval_bus *bus, inval_forward_fn *forward, void *ctx)
{
	bus->forward = forward;
	bus->forward_ctx = ctx;
}

void inval_deliver(struct inval_bus *bus, const struct inval_event *ev)
{
	if (ev->region >= INVAL_REGION_COUNT)
		return;
	for (unsigned i = 0; i < bus->count[ev->region]; i++)
		bus->subs[ev->region][i].handler(ev, bus->subs[ev->region][i].ctx);
}

void inval_publish(struct inval_bus *bus, enum inval_region region, int64_t cid, int64_t key)
{
	struct inval_event ev = {region, cid, key};
	atomic_fetch_add(&bus->published[region], 1);
	inval_deliver(bus, &ev);
	if (bus->forward != NULL)
		bus->forward(&ev, bus->forward_ctx);
}

void inval_flush_all(struct inval_bus *bus)
{
	atomic_fetch_add(&bus->flushes, 1);
	for (unsigned i = 0; i < bus->flusher_count; i++)
		bus->flushers[i].handler(bus->flushers[i].ctx);
}

uint64_t inval_flushes(struct inval_bus *bus)
{
	return atomic_load(&bus->flushes);
}

uint64_t inval_published(struct inval_bus *bus)
{
	uint64_t sum = 0;
	for (int r = 0; r < INVAL_REGION_COUNT; r++)
		sum += atomic_load(&bus->published[r]);
	return sum;
}

uint64_t inval_published_region(struct inval_bus *bus, enum inval_region region)
{
	return atomic_load(&bus->published[region]);
}

static const char *const region_names[INVAL_REGION_COUNT] = {"context", "user", "group", "folder",
                                                             "session"};

const char *inval_region_name(enum inval_region region)
{
	return region < INVAL_REGION_COUNT ? region_names[region] : "unknown";
}

int inval_region_parse(const char *name, size_t len)
{
	for (int r = 0; r < INVAL_REGION_COUNT; r++) {
		if (strlen(region_names[r]) == len && memcmp(region_names[r], name, len) == 0)
			return r;
	}
	return -1;
}
