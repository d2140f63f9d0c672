/* SPDX-License-Identifier: MIT */
/* Tiny unit-test harness: test-<module>.c files define tests and call test_run(). */
#ifndef TANDEM_TEST_H
#define TANDEM_TEST_H

#include <stdbool.h>
#include <stddef.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Records a failure (file:line and the expression) but keeps running the current test. */
#define test_assert(expr)                                                                          \
	do {                                                                                       \
		if (!(expr))                                                                       \
			test__fail(__FILE__, __LINE__, #expr);                                     \
	} while (0)
#define test_assert_str_eq(a, b) test__assert_str_eq(__FILE__, __LINE__, #a, (a), (b))
#define test_assert_int_eq(a, b)                                                                   \
	test__assert_int_eq(__FILE__, __LINE__, #a " == " #b, (long long)(a), (long long)(b))

void test__fail(const char *file, int line, const char *what);
void test__assert_str_eq(const char *file, int line, const char *expr, const char *a,
                         const char *b);
void test__assert_int_eq(const char *file, int line, const char *expr, long long a, long long b);
/* Prints the failing case's context (e.g. an input file name) with the next failure. */
void test_set_context(const char *context);

/* Runs every case (array ends with {NULL, NULL}), prints one line per case and
   "N passed, N failed"; returns the process exit code. */
int test_run(const struct test_case *cases);

/* Deterministic PRNG for random splits in tests (seed from TANDEM_TEST_SEED or fixed). */
unsigned test_rand(void);

/* How a parser test cuts its input: each returns the size of the next piece given the bytes
   left. test_splits[] holds whole, byte by byte and three random-split runs. */
typedef size_t test_split_fn(size_t left);
size_t test_split_whole(size_t left);
size_t test_split_bytes(size_t left);
size_t test_split_random(size_t left); /* 1-7 bytes */
extern test_split_fn *const test_splits[];
#define TEST_SPLITS 5

#endif
