/* SPDX-License-Identifier: MIT */
/* Fixed slots with chained buckets and clock eviction, one mutex per cache. */
#include "cache.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "mem.h"

#define NIL (-1)

struct slot {
	int64_t cid, key;
	uint64_t expires_ms;
	uint32_t size;
	int32_t next; /* bucket chain while used, free list otherwise */
	bool used;
	bool referenced; /* read since the clock hand last passed */
};

struct cache {
	const char *name;
	pthread_mutex_t lock;
	size_t capacity, value_max;
	uint64_t ttl_ms;
	struct slot *slots;
	unsigned char *data; /* capacity * value_max */
	int32_t *buckets;
	size_t bucket_mask;
	int32_t free_head;
	size_t hand;
	uint64_t generation;
	struct cache_stats stats;
};

static size_t bucket_of(const struct cache *c, int64_t cid, int64_t key)
{
	/* splitmix64 finaliser over both halves: ids are small and dense, spread them */
	uint64_t h = (uint64_t)cid * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)key;
	h ^= h >> 30;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	h ^= h >> 31;
	return (size_t)h & c->bucket_mask;
}

struct cache *cache_create(const char *name, size_t capacity, size_t value_max, uint64_t ttl_ms)
{
	assert(capacity > 0 && capacity < INT32_MAX / 4 && value_max > 0 &&
	       value_max <= UINT32_MAX);
	struct cache *c = mem_calloc(1, sizeof(*c));
	size_t nbuckets = 16;
	while (nbuckets < capacity * 2)
		nbuckets *= 2;
	c->name = name;
	pthread_mutex_init(&c->lock, NULL);
	c->capacity = capacity;
	c->value_max = value_max;
	c->ttl_ms = ttl_ms;
	c->slots = mem_calloc(capacity, sizeof(*c->slots));
	c->data = mem_calloc(capacity, value_max);
	c->buckets = mem_calloc(nbuckets, sizeof(*c->buckets));
	c->bucket_mask = nbuckets - 1;
	for (size_t i = 0; i < nbuckets; i++)
		c->buckets[i] = NIL;
	for (size_t i = 0; i < capacity; i++)
		c->slots[i].next = i + 1 < capacity ? (int32_t)(i + 1) : NIL;
	c->free_head = 0;
	return c;
}

void cache_destroy(struct cache **cp)
{
	struct cache *c = *cp;
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	mem_free(&c->slots);
	mem_free(&c->data);
	mem_free(&c->buckets);
	mem_free(cp);
}

const char *cache_name(const struct cache *cache)
{
	return cache->name;
}

static unsigned char *value_of(struct cache *c, int32_t i)
{
	return c->data + (size_t)i * c->value_max;
}

static int32_t find(struct cache *c, int64_t cid, int64_t key)
{
	for (int32_t i = c->buckets[bucket_of(c, cid, key)]; i != NIL; i = c->slots[i].next) {
		if (c->slots[i].cid == cid && c->slots[i].key == key)
			return i;
	}
	return NIL;
}

/* Unlinks used slot i from its chain and puts it on the free list. */
static void remove_slot(struct cache *c, int32_t i)
{
	struct slot *s = &c->slots[i];
	int32_t *link = &c->buckets[bucket_of(c, s->cid, s->key)];
	while (*link != i)
		link = &c->slots[*link].next;
	*link = s->next;
	s->used = false;
	s->next = c->free_head;
	c->free_head = i;
	c->stats.entries--;
}

/* A slot to fill: a free one, else the first the clock hand finds unreferenced. */
static int32_t take_slot(struct cache *c)
{
	if (c->free_head == NIL) {
		for (;;) {
			struct slot *s = &c->slots[c->hand];
			int32_t i = (int32_t)c->hand;
			c->hand = (c->hand + 1) % c->capacity;
			if (s->referenced) {
				s->referenced = false;
				continue;
			}
			remove_slot(c, i);
			c->stats.evictions++;
			break;
		}
	}
	int32_t i = c->free_head;
	c->free_head = c->slots[i].next;
	return i;
}

int cache_get(struct cache *c, int64_t cid, int64_t key, void *value_r, size_t *size_r)
{
	uint64_t now = clock_mono_ms();
	int hit = 0;
	pthread_mutex_lock(&c->lock);
	int32_t i = find(c, cid, key);
	if (i != NIL && c->slots[i].expires_ms <= now) {
		remove_slot(c, i);
		i = NIL;
	}
	if (i != NIL) {
		c->slots[i].referenced = true;
		memcpy(value_r, value_of(c, i), c->slots[i].size);
		*size_r = c->slots[i].size;
		c->stats.hits++;
		hit = 1;
	} else {
		c->stats.misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

uint64_t cache_generation(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t g = c->generation;
	pthread_mutex_unlock(&c->lock);
	return g;
}

int cache_put(struct cache *c, int64_t cid, int64_t key, const void *value, size_t size,
              uint64_t generation)
{
	if (size > c->value_max)
		return 0;
	uint64_t expires = clock_mono_ms() + c->ttl_ms;
	pthread_mutex_lock(&c->lock);
	if (c->generation != generation) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	int32_t i = find(c, cid, key);
	if (i == NIL) {
		i = take_slot(c);
		struct slot *s = &c->slots[i];
		size_t b = bucket_of(c, cid, key);
		s->cid = cid;
		s->key = key;
		s->used = true;
		s->next = c->buckets[b];
		c->buckets[b] = i;
		c->stats.entries++;
	}
	struct slot *s = &c->slots[i];
	s->expires_ms = expires;
	s->size = (uint32_t)size;
	s->referenced = false;
	memcpy(value_of(c, i), value, size);
	pthread_mutex_unlock(&c->lock);
	return 1;
}

void cache_drop(struct cache *c, int64_t cid, int64_t key)
{
	pthread_mutex_lock(&c->lock);
	c->generation++;
	int32_t i = find(c, cid, key);
	if (i != NIL)
		remove_slot(c, i);
	pthread_mutex_unlock(&c->lock);
}

void cache_drop_if(struct cache *c, int64_t cid, cache_match_fn *match, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->generation++;
	for (size_t i = 0; i < c->capacity; i++) {
		struct slot *s = &c->slots[i];
		if (s->used && s->cid == cid &&
		    (match == NULL || match(value_of(c, (int32_t)i), s->size, ctx)))
			remove_slot(c, (int32_t)i);
	}
	pthread_mutex_unlock(&c->lock);
}

void cache_drop_context(struct cache *c, int64_t cid)
{
	cache_drop_if(c, cid, NULL, NULL);
}

void cache_clear(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->generation++;
	for (size_t i = 0; i < c->capacity; i++) {
		if (c->slots[i].used)
			remove_slot(c, (int32_t)i);
	}
	pthread_mutex_unlock(&c->lock);
}

void cache_get_stats(struct cache *c, struct cache_stats *stats_r)
{
	pthread_mutex_lock(&c->lock);
	*stats_r = c->stats;
	pthread_mutex_unlock(&c->lock);
}

int64_t cache_key_str(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return (int64_t)h;
}
