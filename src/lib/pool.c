/* SPDX-License-Identifier: MIT */
/* Arena allocator: bump allocation in chained blocks, freed all at once with cleanup hooks. */
#include "pool.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define POOL_ALIGN         alignof(max_align_t)
#define ALIGN_UP(n)        (((n) + POOL_ALIGN - 1) & ~(POOL_ALIGN - 1))
#define DEFAULT_BLOCK_SIZE 4096

struct pool_block {
	struct pool_block *next;
	size_t size;
	size_t used;
};

/* Block payload starts after the header, rounded so it keeps malloc's alignment. */
#define BLOCK_HDR     ALIGN_UP(sizeof(struct pool_block))
#define BLOCK_DATA(b) ((unsigned char *)(b) + BLOCK_HDR)

struct pool_cleanup {
	pool_cleanup_fn *fn;
	void *ctx;
	struct pool_cleanup *next;
};

struct pool {
	struct pool_block *first; /* lives in the same allocation as the pool itself */
	struct pool_block *current;
	struct pool_block *large; /* oversized allocations, one block each */
	struct pool_cleanup *cleanups;
	size_t block_size;
	size_t used;
};

#define POOL_HDR ALIGN_UP(sizeof(struct pool))

static size_t checked_add(size_t a, size_t b)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r)) {
		/* mem_alloc(SIZE_MAX) aborts with a message, which is what we want */
		return SIZE_MAX;
	}
	return r;
}

static struct pool_block *block_new(size_t size)
{
	struct pool_block *b = mem_alloc(checked_add(BLOCK_HDR, size));

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

static void blocks_free(struct pool_block *b)
{
	while (b != NULL) {
		struct pool_block *next = b->next;

		mem_free(&b);
		b = next;
	}
}

struct pool *pool_create(size_t block_size)
{
	struct pool *pool;

	if (block_size == 0)
		block_size = DEFAULT_BLOCK_SIZE;
	block_size = ALIGN_UP(block_size);
	/* One malloc per pool: request pools are created constantly. */
	pool = mem_alloc(checked_add(POOL_HDR + BLOCK_HDR, block_size));
	memset(pool, 0, sizeof(*pool));
	pool->first = (struct pool_block *)((unsigned char *)pool + POOL_HDR);
	pool->first->next = NULL;
	pool->first->size = block_size;
	pool->first->used = 0;
	pool->current = pool->first;
	pool->block_size = block_size;
	return pool;
}

static void run_cleanups(struct pool *pool)
{
	/* Popping before calling lets a cleanup register another one safely. */
	while (pool->cleanups != NULL) {
		struct pool_cleanup *c = pool->cleanups;

		pool->cleanups = c->next;
		c->fn(c->ctx);
	}
}

void pool_clear(struct pool *pool)
{
	run_cleanups(pool);
	blocks_free(pool->first->next);
	blocks_free(pool->large);
	pool->first->next = NULL;
	pool->first->used = 0;
	pool->large = NULL;
	pool->current = pool->first;
	pool->used = 0;
}

void pool_destroy(struct pool **poolp)
{
	struct pool *pool = *poolp;

	if (pool == NULL)
		return;
	pool_clear(pool);
	mem_free(poolp);
}

void *pool_alloc(struct pool *pool, size_t size)
{
	struct pool_block *b;
	void *p;

	if (size > SIZE_MAX - POOL_ALIGN)
		size = SIZE_MAX - POOL_ALIGN; /* mem_alloc aborts on it below */
	size = ALIGN_UP(size == 0 ? 1 : size);
	pool->used += size;

	/* Big allocations would waste most of a shared block, so they get their own. */
	if (size > pool->block_size / 4) {
		b = block_new(size);
		b->used = size;
		b->next = pool->large;
		pool->large = b;
		return BLOCK_DATA(b);
	}

	b = pool->current;
	if (b->size - b->used < size) {
		b = block_new(pool->block_size);
		pool->current->next = b;
		pool->current = b;
	}
	p = BLOCK_DATA(b) + b->used;
	b->used += size;
	return p;
}

void *pool_calloc(struct pool *pool, size_t count, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(count, size, &total))
		total = SIZE_MAX;
	p = pool_alloc(pool, total);
	memset(p, 0, total);
	return p;
}

static char *dup_len(struct pool *pool, const char *s, size_t len)
{
	char *p = pool_alloc(pool, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *pool_strndup(struct pool *pool, const char *s, size_t n)
{
	return dup_len(pool, s, strnlen(s, n));
}

char *pool_strdup(struct pool *pool, const char *s)
{
	return dup_len(pool, s, strlen(s));
}

char *pool_vprintf(struct pool *pool, const char *fmt, va_list args)
{
	va_list copy;
	int len;
	char *p;

	va_copy(copy, args);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	assert(len >= 0);
	p = pool_alloc(pool, (size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, args);
	return p;
}

char *pool_printf(struct pool *pool, const char *fmt, ...)
{
	va_list args;
	char *p;

	va_start(args, fmt);
	p = pool_vprintf(pool, fmt, args);
	va_end(args);
	return p;
}

void pool_add_cleanup(struct pool *pool, pool_cleanup_fn *fn, void *ctx)
{
	struct pool_cleanup *c = pool_alloc(pool, sizeof(*c));

	c->fn = fn;
	c->ctx = ctx;
	c->next = pool->cleanups;
	pool->cleanups = c;
}

size_t pool_used(const struct pool *pool)
{
	return pool->used;
}
