/* SPDX-License-Identifier: MIT */
/* In-process invalidation: a fixed subscriber list per region, called synchronously. */
#include "invalidation.h"

#include <stdatomic.h>

#include <stdlib.h>

#include "mem.h"

#define MAX_SUBSCRIBERS 8

struct subscriber {
	inval_handler_fn *handler;
	void *ctx;
};

struct inval_bus {
	struct subscriber subs[INVAL_REGION_COUNT][MAX_SUBSCRIBERS];
	unsigned count[INVAL_REGION_COUNT];
	_Atomic uint64_t published[INVAL_REGION_COUNT];
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

void inval_publish(struct inval_bus *bus, enum inval_region region, int64_t cid, int64_t key)
{
	struct inval_event ev = {region, cid, key};
	atomic_fetch_add(&bus->published[region], 1);
	for (unsigned i = 0; i < bus->count[region]; i++)
		bus->subs[region][i].handler(&ev, bus->subs[region][i].ctx);
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

const char *inval_region_name(enum inval_region region)
{
	static const char *const names[INVAL_REGION_COUNT] = {"context", "user", "group", "folder",
	                                                      "session"};
	return region < INVAL_REGION_COUNT ? names[region] : "unknown";
}
