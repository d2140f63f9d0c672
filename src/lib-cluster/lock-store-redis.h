/* SPDX-License-Identifier: MIT */
/* WebDAV lock store on Redis (docs/internals/dav-locks.md): the locks of a context in one hash
   that every node of the cluster reads and changes with one Lua script per operation. */
#ifndef TANDEM_LOCK_STORE_REDIS_H
#define TANDEM_LOCK_STORE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "lock-store.h"
#include "redis.h"

struct lock_store_redis_settings {
	struct redis_pool *pool; /* not owned; must outlive the store */
	const char *prefix;      /* "tandem:<cluster>:v1:" (copied, < 256 bytes) */
	unsigned max_locks;      /* per context (0: LOCK_MAX_LOCKS_DEFAULT) */
};

/* Returns the store (free with lock_store_destroy), or NULL with *error_r set when the
   settings are unusable. Does not contact Redis: while Redis is down or frozen every
   operation answers LOCK_ERROR within the pool's timeouts, with a message naming the server
   and the cause ("Redis 127.0.0.1:6379: Connection refused"). */
struct lock_store *lock_store_redis_create(const struct lock_store_redis_settings *set,
                                           const char **error_r);

/* Decodes one lock as the script stores it (token: the hash field; rec: its value), for the
   store and its fuzz target. now_ms is the store's clock for remaining_s; path and owner are
   copied into pool. 0, or -1 with *error_r naming the part that is malformed. */
int lock_store_redis_unpack(const char *token, size_t token_len, const char *rec, size_t len,
                            uint64_t now_ms, struct pool *pool, struct lock *lock_r,
                            const char **error_r);

#endif
