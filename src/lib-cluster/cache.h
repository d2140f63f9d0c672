/* SPDX-License-Identifier: MIT */
/* A bounded, thread-safe cache of small blobs keyed by (cid, key), dropped through the
   invalidation bus (docs/internals/cluster.md "Caches and invalidation"). */
#ifndef TANDEM_CACHE_H
#define TANDEM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache;

struct cache_stats {
	uint64_t hits, misses; /* cache_get answers (an expired entry is a miss) */
	uint64_t evictions;    /* live entries pushed out to make room */
	uint64_t entries;      /* held now */
};

/* capacity entries of at most value_max bytes each, all allocated here; an entry older than
   ttl_ms is never returned (a safety net: correctness comes from the drops). name is for
   metrics and must outlive the cache. */
struct cache *cache_create(const char *name, size_t capacity, size_t value_max, uint64_t ttl_ms);
void cache_destroy(struct cache **cache);
const char *cache_name(const struct cache *cache);

/* Copies the value of (cid, key) into value_r (room for value_max bytes): 1 hit with *size_r
   set, 0 miss. */
int cache_get(struct cache *cache, int64_t cid, int64_t key, void *value_r, size_t *size_r);

/* Filling a cache races with drops: a reader that loaded a row before a change committed must
   not store it after the change's drop went by. So take cache_generation() before reading the
   source and pass it to cache_put(), which stores nothing if any drop happened since. */
uint64_t cache_generation(struct cache *cache);
/* Stores a copy of size bytes (replacing an entry of the same key, else taking a free slot or
   evicting one). Returns 1 stored, 0 not (a drop happened since generation, or size is above
   value_max: the caller just does not cache that value). */
int cache_put(struct cache *cache, int64_t cid, int64_t key, const void *value, size_t size,
              uint64_t generation);

/* Drops: each also moves the generation on. */
void cache_drop(struct cache *cache, int64_t cid, int64_t key);
void cache_drop_context(struct cache *cache, int64_t cid);
/* Every entry of cid whose value match() accepts (for lookups whose key is not the id that
   changes, e.g. login -> user). match runs under the cache's lock: it must not call back. */
typedef bool cache_match_fn(const void *value, size_t size, void *ctx);
void cache_drop_if(struct cache *cache, int64_t cid, cache_match_fn *match, void *ctx);
void cache_clear(struct cache *cache);

void cache_get_stats(struct cache *cache, struct cache_stats *stats_r);

/* A 64-bit key for a string (FNV-1a). Not collision-free: store the string in the value and
   compare it on a hit. */
int64_t cache_key_str(const char *s);

#endif
