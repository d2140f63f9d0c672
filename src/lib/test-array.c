/* SPDX-License-Identifier: MIT */
/* Unit tests for the growable array. */
#include <stdint.h>

#include "array.h"
#include "test.h"

struct pair {
	int a;
	uint64_t b;
};

static void test_push_idx(void)
{
	struct array arr = ARRAY_INIT(struct pair);

	for (int i = 0; i < 1000; i++) {
		struct pair *p = array_push(&arr);

		test_assert(p->a == 0 && p->b == 0);
		p->a = i;
		p->b = (uint64_t)i * 3;
	}
	test_assert_int_eq(arr.count, 1000);
	for (int i = 0; i < 1000; i++) {
		test_assert_int_eq(ARRAY_IDX(&arr, struct pair, (size_t)i)->a, i);
		test_assert_int_eq(ARRAY_IDX(&arr, struct pair, (size_t)i)->b, i * 3);
	}
	array_free(&arr);
	test_assert_int_eq(arr.count, 0);
	test_assert(arr.data == NULL);
	/* usable again after free */
	*(int *)array_push(&arr) = 5;
	test_assert_int_eq(arr.count, 1);
	array_free(&arr);
}

static void test_delete_clear(void)
{
	struct array arr;

	array_init(&arr, sizeof(int));
	for (int i = 0; i < 5; i++)
		*(int *)array_push(&arr) = i;
	array_delete(&arr, 0);
	array_delete(&arr, 3);
	array_delete(&arr, 1);
	test_assert_int_eq(arr.count, 2);
	test_assert_int_eq(*ARRAY_IDX(&arr, int, 0), 1);
	test_assert_int_eq(*ARRAY_IDX(&arr, int, 1), 3);
	array_clear(&arr);
	test_assert_int_eq(arr.count, 0);
	/* storage is kept and new elements come back zeroed */
	test_assert(arr.cap > 0);
	test_assert_int_eq(*(int *)array_push(&arr), 0);
	array_free(&arr);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"push and index", test_push_idx},
	    {"delete and clear", test_delete_clear},
	    {NULL, NULL},
	};

	return test_run(cases);
}
