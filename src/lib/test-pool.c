/* SPDX-License-Identifier: MIT */
/* Unit tests for the arena allocator. */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"
#include "test.h"

static void test_alignment_and_reuse(void)
{
	struct pool *pool = pool_create(256);

	for (size_t i = 1; i < 200; i++) {
		unsigned char *p = pool_alloc(pool, i % 37 + 1);

		test_assert((uintptr_t)p % alignof(max_align_t) == 0);
		memset(p, 0xab, i % 37 + 1);
	}
	test_assert(pool_used(pool) > 0);
	pool_clear(pool);
	test_assert_int_eq(pool_used(pool), 0);
	test_assert((uintptr_t)pool_alloc(pool, 3) % alignof(max_align_t) == 0);
	test_assert_int_eq(pool_used(pool), alignof(max_align_t));
	pool_destroy(&pool);
	test_assert(pool == NULL);
	pool_destroy(&pool);
}

static void test_large_and_zero(void)
{
	struct pool *pool = pool_create(0);
	unsigned char *small = pool_alloc(pool, 16);
	unsigned char *big = pool_alloc(pool, 100000);
	unsigned char *small2 = pool_alloc(pool, 16);
	unsigned *z;

	memset(big, 1, 100000);
	/* A large allocation must not disturb the block that small ones come from. */
	test_assert(small2 == small + 16);
	z = pool_calloc(pool, 1000, sizeof(*z));
	for (size_t i = 0; i < 1000; i++)
		test_assert(z[i] == 0);
	test_assert(pool_alloc(pool, 0) != NULL);
	pool_destroy(&pool);
}

static void test_strings(void)
{
	struct pool *pool = pool_create(64);
	char *s = pool_strdup(pool, "hello");
	char *t = pool_strndup(pool, "hello world", 5);
	char *u = pool_strndup(pool, "hi", 10);
	char *p = pool_printf(pool, "%s-%d-%s", s, 42, "x");
	char longfmt[1000];

	test_assert_str_eq(s, "hello");
	test_assert_str_eq(t, "hello");
	test_assert_str_eq(u, "hi");
	test_assert_str_eq(p, "hello-42-x");
	memset(longfmt, 'y', sizeof(longfmt) - 1);
	longfmt[sizeof(longfmt) - 1] = '\0';
	test_assert_str_eq(pool_printf(pool, "%s", longfmt), longfmt);
	pool_destroy(&pool);
}

static int order[8];
static int order_count;

static void record(void *ctx)
{
	order[order_count++] = (int)(intptr_t)ctx;
}

static void test_cleanups(void)
{
	struct pool *pool = pool_create(0);

	order_count = 0;
	for (int i = 1; i <= 3; i++)
		pool_add_cleanup(pool, record, (void *)(intptr_t)i);
	pool_clear(pool);
	test_assert_int_eq(order_count, 3);
	test_assert_int_eq(order[0], 3);
	test_assert_int_eq(order[1], 2);
	test_assert_int_eq(order[2], 1);

	/* cleared cleanups do not run again */
	pool_add_cleanup(pool, record, (void *)(intptr_t)7);
	pool_destroy(&pool);
	test_assert_int_eq(order_count, 4);
	test_assert_int_eq(order[3], 7);
}

static void test_many_blocks(void)
{
	struct pool *pool = pool_create(128);
	char *ptrs[500];

	for (int i = 0; i < 500; i++) {
		ptrs[i] = pool_printf(pool, "%d", i);
	}
	for (int i = 0; i < 500; i += 97) {
		char want[16];

		snprintf(want, sizeof(want), "%d", i);
		test_assert_str_eq(ptrs[i], want);
	}
	pool_clear(pool);
	for (int i = 0; i < 500; i++)
		pool_alloc(pool, (size_t)i);
	pool_destroy(&pool);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"alignment and reuse", test_alignment_and_reuse},
	    {"large and zero-size allocations", test_large_and_zero},
	    {"strings", test_strings},
	    {"cleanups run in reverse", test_cleanups},
	    {"many blocks", test_many_blocks},
	    {NULL, NULL},
	};

	return test_run(cases);
}
