/* SPDX-License-Identifier: MIT */
/* Open connections per client address, shared by the loop threads of one server: the cap of
   http_server_settings.max_conns_per_source (docs/internals/http.md, "Slow and greedy
   clients"). */
#include "http-source-cap.h"

#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "mem.h"
#include "random.h"

#define SLOTS_MIN 64

struct slot {
	struct http_source_key key;
	unsigned count; /* 0 = free */
};

/* Open addressing with linear probing; a slot is freed by shifting the rest of its run back,
   so lookups never meet tombstones. At most half the slots are used. */
struct http_source_cap {
	pthread_mutex_t lock;
	unsigned max;
	struct slot *slots;
	size_t mask; /* slot count - 1 */
	size_t used;
	uint64_t seed[2]; /* peers choose their addresses: the hash is keyed */
};

static size_t slot_of(const struct http_source_cap *cap, const struct http_source_key *key)
{
	uint64_t a, b;
	memcpy(&a, key->b, 8);
	memcpy(&b, key->b + 8, 8);
	uint64_t h = (a ^ cap->seed[0]) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 32) ^ b ^ cap->seed[1]) * 0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	return (size_t)h & cap->mask;
}

/* The key's slot, or the free slot that ends its run. */
static struct slot *find(struct http_source_cap *cap, const struct http_source_key *key)
{
	size_t i = slot_of(cap, key);
	while (cap->slots[i].count > 0 && memcmp(&cap->slots[i].key, key, sizeof(*key)) != 0)
		i = (i + 1) & cap->mask;
	return &cap->slots[i];
}

static void grow(struct http_source_cap *cap)
{
	struct slot *old = cap->slots;
	size_t n = cap->mask + 1;
	cap->mask = n * 2 - 1;
	cap->slots = mem_calloc(n * 2, sizeof(*cap->slots));
	for (size_t i = 0; i < n; i++) {
		if (old[i].count > 0)
			*find(cap, &old[i].key) = old[i];
	}
	mem_free(&old);
}

struct http_source_cap *http_source_cap_create(unsigned max)
{
	assert(max >= 1);
	struct http_source_cap *cap = mem_calloc(1, sizeof(*cap));
	pthread_mutex_init(&cap->lock, NULL);
	cap->max = max;
	cap->mask = SLOTS_MIN - 1;
	cap->slots = mem_calloc(SLOTS_MIN, sizeof(*cap->slots));
	random_bytes(cap->seed, sizeof(cap->seed));
	return cap;
}

void http_source_cap_destroy(struct http_source_cap **capp)
{
	struct http_source_cap *cap = *capp;
	if (cap == NULL)
		return;
	pthread_mutex_destroy(&cap->lock);
	mem_free(&cap->slots);
	mem_free(capp);
}

bool http_source_key(const struct sockaddr *addr, struct http_source_key *key_r)
{
	memset(key_r, 0, sizeof(*key_r));
	if (addr->sa_family == AF_INET) {
		key_r->b[10] = key_r->b[11] = 0xff;
		memcpy(key_r->b + 12, &((const struct sockaddr_in *)addr)->sin_addr, 4);
		return true;
	}
	if (addr->sa_family != AF_INET6)
		return false;
	const uint8_t *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	/* An IPv4 peer on a dual-stack socket is the IPv4 address it is. */
	memcpy(key_r->b, a, memcmp(a, mapped, sizeof(mapped)) == 0 ? 16 : 8);
	return true;
}

bool http_source_cap_take(struct http_source_cap *cap, const struct http_source_key *key)
{
	bool ok = true;
	pthread_mutex_lock(&cap->lock);
	struct slot *s = find(cap, key);
	if (s->count == 0) {
		if ((cap->used + 1) * 2 > cap->mask + 1) {
			grow(cap);
			s = find(cap, key);
		}
		s->key = *key;
		cap->used++;
	}
	if (s->count >= cap->max)
		ok = false;
	else
		s->count++;
	pthread_mutex_unlock(&cap->lock);
	return ok;
}

void http_source_cap_release(struct http_source_cap *cap, const struct http_source_key *key)
{
	pthread_mutex_lock(&cap->lock);
	struct slot *s = find(cap, key);
	if (s->count > 1) {
		s->count--;
	} else if (s->count == 1) {
		/* Free the slot; later entries of the run whose home lies at or before it move
		   back into it (backward-shift deletion). */
		size_t hole = (size_t)(s - cap->slots);
		for (size_t j = (hole + 1) & cap->mask; cap->slots[j].count > 0;
		     j = (j + 1) & cap->mask) {
			size_t home = slot_of(cap, &cap->slots[j].key);
			if (((j - home) & cap->mask) >= ((j - hole) & cap->mask)) {
				cap->slots[hole] = cap->slots[j];
				hole = j;
			}
		}
		cap->slots[hole].count = 0;
		cap->used--;
	}
	pthread_mutex_unlock(&cap->lock);
}

unsigned http_source_cap_count(struct http_source_cap *cap, const struct http_source_key *key)
{
	pthread_mutex_lock(&cap->lock);
	unsigned n = find(cap, key)->count;
	pthread_mutex_unlock(&cap->lock);
	return n;
}

size_t http_source_cap_sources(struct http_source_cap *cap)
{
	pthread_mutex_lock(&cap->lock);
	size_t n = cap->used;
	pthread_mutex_unlock(&cap->lock);
	return n;
}
