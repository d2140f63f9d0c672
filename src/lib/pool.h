/* SPDX-License-Identifier: MIT */
/* Arena allocator with cleanup hooks for request- and connection-scoped memory. */
#ifndef TANDEM_POOL_H
#define TANDEM_POOL_H

#include <stdarg.h>
#include <stddef.h>

struct pool;

typedef void pool_cleanup_fn(void *ctx);

/* Creates a pool whose first block holds at least block_size bytes (0 = default 4 KiB). */
struct pool *pool_create(size_t block_size);
/* Runs cleanups (last registered first), frees all blocks, sets *pool to NULL. NULL is a no-op. */
void pool_destroy(struct pool **pool);
/* Runs cleanups and forgets all allocations, keeping the first block for reuse. */
void pool_clear(struct pool *pool);

/* Memory is aligned for any type, lives until pool_clear/pool_destroy; never NULL. */
void *pool_alloc(struct pool *pool, size_t size);
void *pool_calloc(struct pool *pool, size_t count, size_t size);
char *pool_strdup(struct pool *pool, const char *s);
char *pool_strndup(struct pool *pool, const char *s, size_t n);
char *pool_printf(struct pool *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pool_vprintf(struct pool *pool, const char *fmt, va_list args)
    __attribute__((format(printf, 2, 0)));

/* fn(ctx) runs when the pool is cleared or destroyed. */
void pool_add_cleanup(struct pool *pool, pool_cleanup_fn *fn, void *ctx);

/* Bytes currently handed out (for tests and metrics). */
size_t pool_used(const struct pool *pool);

#endif
