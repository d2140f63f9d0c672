/* SPDX-License-Identifier: MIT */
/* A chained hash table of failure counters over a fixed array of entries, one mutex.
   Keys are stored as a keyed BLAKE2b-128 digest (the key is random per table), so entries
   have one size whatever the key, an attacker cannot aim keys at one bucket, and two keys
   share a counter only if their digests collide (about 2^-64 for 2^32 keys: never in
   practice). The entries also form a list in the order their windows began; as every window
   has the same length that is the order they end in, so ended ones are dropped from its
   head, and a full table gives up the entry whose window ends soonest. */
#include "throttle.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "mem.h"

#define NIL          UINT32_MAX
#define DIGEST_BYTES 16
#define CAPACITY_MAX (1u << 24)

struct entry {
	uint8_t digest[DIGEST_BYTES];
	uint32_t count;
	uint32_t chain;        /* next in the bucket, or in the free list */
	uint32_t older, newer; /* the window-start list */
	time_t window_start;
};

struct throttle {
	pthread_mutex_t lock;
	time_t window;
	uint32_t capacity, used, bucket_mask;
	uint32_t *buckets;
	struct entry *entries;
	uint32_t free_list;
	uint32_t oldest, newest;
	uint64_t evicted;
	unsigned char key[crypto_generichash_KEYBYTES];
};

struct throttle *throttle_create(unsigned window_s, unsigned capacity)
{
	struct throttle *t = mem_calloc(1, sizeof(*t));
	uint32_t buckets = 1;
	if (capacity == 0)
		capacity = 1;
	if (capacity > CAPACITY_MAX)
		capacity = CAPACITY_MAX;
	while (buckets < capacity)
		buckets <<= 1;
	pthread_mutex_init(&t->lock, NULL);
	t->window = (time_t)window_s;
	t->capacity = capacity;
	t->bucket_mask = buckets - 1;
	t->buckets = mem_calloc(buckets, sizeof(*t->buckets));
	memset(t->buckets, 0xff, buckets * sizeof(*t->buckets)); /* NIL */
	t->entries = mem_calloc(capacity, sizeof(*t->entries));
	for (uint32_t i = 0; i < capacity; i++)
		t->entries[i].chain = i + 1 < capacity ? i + 1 : NIL;
	t->free_list = 0;
	t->oldest = t->newest = NIL;
	randombytes_buf(t->key, sizeof(t->key));
	return t;
}

void throttle_destroy(struct throttle **tp)
{
	struct throttle *t = *tp;
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	mem_free(&t->buckets);
	mem_free(&t->entries);
	mem_free(tp);
}

static void digest_of(const struct throttle *t, const void *key, size_t len,
                      uint8_t out[DIGEST_BYTES])
{
	crypto_generichash(out, DIGEST_BYTES, key, len, t->key, sizeof(t->key));
}

static uint32_t *bucket_of(struct throttle *t, const uint8_t digest[DIGEST_BYTES])
{
	uint32_t h;
	memcpy(&h, digest, sizeof(h));
	return &t->buckets[h & t->bucket_mask];
}

static uint32_t find(struct throttle *t, const uint8_t digest[DIGEST_BYTES])
{
	for (uint32_t i = *bucket_of(t, digest); i != NIL; i = t->entries[i].chain) {
		if (memcmp(t->entries[i].digest, digest, DIGEST_BYTES) == 0)
			return i;
	}
	return NIL;
}

static bool ended(const struct throttle *t, uint32_t i, time_t now)
{
	return now >= t->entries[i].window_start + t->window;
}

static void list_unlink(struct throttle *t, uint32_t i)
{
	struct entry *e = &t->entries[i];
	if (e->older != NIL)
		t->entries[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != NIL)
		t->entries[e->newer].older = e->older;
	else
		t->newest = e->older;
}

static void list_append(struct throttle *t, uint32_t i)
{
	struct entry *e = &t->entries[i];
	e->older = t->newest;
	e->newer = NIL;
	if (t->newest != NIL)
		t->entries[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

static void drop(struct throttle *t, uint32_t i)
{
	uint32_t *link = bucket_of(t, t->entries[i].digest);
	while (*link != i)
		link = &t->entries[*link].chain;
	*link = t->entries[i].chain;
	list_unlink(t, i);
	t->entries[i].chain = t->free_list;
	t->free_list = i;
	t->used--;
}

unsigned throttle_count(struct throttle *t, const void *key, size_t len, time_t now,
                        time_t *ends_in_r)
{
	uint8_t digest[DIGEST_BYTES];
	unsigned count = 0;
	time_t ends_in = 0;
	digest_of(t, key, len, digest);
	pthread_mutex_lock(&t->lock);
	uint32_t i = find(t, digest);
	if (i != NIL && !ended(t, i, now)) {
		count = t->entries[i].count;
		ends_in = t->entries[i].window_start + t->window - now;
	}
	pthread_mutex_unlock(&t->lock);
	if (ends_in_r != NULL)
		*ends_in_r = ends_in;
	return count;
}

void throttle_fail(struct throttle *t, const void *key, size_t len, time_t now)
{
	uint8_t digest[DIGEST_BYTES];
	digest_of(t, key, len, digest);
	pthread_mutex_lock(&t->lock);
	while (t->oldest != NIL && ended(t, t->oldest, now))
		drop(t, t->oldest);
	uint32_t i = find(t, digest);
	if (i == NIL) {
		if (t->free_list == NIL) {
			drop(t, t->oldest); /* its window ends soonest */
			t->evicted++;
		}
		i = t->free_list;
		struct entry *e = &t->entries[i];
		t->free_list = e->chain;
		memcpy(e->digest, digest, DIGEST_BYTES);
		uint32_t *bucket = bucket_of(t, digest);
		e->chain = *bucket;
		*bucket = i;
		e->count = 0;
		e->window_start = now;
		list_append(t, i);
		t->used++;
	} else if (ended(t, i, now)) {
		/* a clock a second behind another thread's; the pruning above missed it */
		t->entries[i].count = 0;
		t->entries[i].window_start = now;
		list_unlink(t, i);
		list_append(t, i);
	}
	if (t->entries[i].count < UINT32_MAX)
		t->entries[i].count++;
	pthread_mutex_unlock(&t->lock);
}

void throttle_get_stats(struct throttle *t, struct throttle_stats *stats_r)
{
	pthread_mutex_lock(&t->lock);
	stats_r->keys = t->used;
	stats_r->capacity = t->capacity;
	stats_r->evicted = t->evicted;
	pthread_mutex_unlock(&t->lock);
}
