/* SPDX-License-Identifier: MIT */
/* Tiny unit-test harness with TAP-like output. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool case_failed;
static const char *test_context;
static unsigned rand_state;

static void print_context(void)
{
	if (test_context != NULL)
		printf("  context: %s\n", test_context);
}

void test__fail(const char *file, int line, const char *what)
{
	printf("FAIL %s:%d: %s\n", file, line, what);
	print_context();
	fflush(stdout);
	case_failed = true;
}

void test__assert_str_eq(const char *file, int line, const char *expr, const char *a, const char *b)
{
	if (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0))
		return;
	printf("FAIL %s:%d: %s\n  got:      %s%s%s\n  expected: %s%s%s\n", file, line, expr,
	       a == NULL ? "" : "\"", a == NULL ? "NULL" : a, a == NULL ? "" : "\"",
	       b == NULL ? "" : "\"", b == NULL ? "NULL" : b, b == NULL ? "" : "\"");
	print_context();
	fflush(stdout);
	case_failed = true;
}

void test__assert_int_eq(const char *file, int line, const char *expr, long long a, long long b)
{
	if (a == b)
		return;
	printf("FAIL %s:%d: %s (%lld != %lld)\n", file, line, expr, a, b);
	print_context();
	fflush(stdout);
	case_failed = true;
}

void test_set_context(const char *context)
{
	test_context = context;
}

static void seed_rand(void)
{
	const char *env = getenv("TANDEM_TEST_SEED");
	char *end;
	unsigned long v;

	rand_state = 0x2545f491u;
	if (env != NULL && *env != '\0') {
		v = strtoul(env, &end, 0);
		if (*end == '\0')
			rand_state = (unsigned)v;
	}
	/* xorshift has a fixed point at zero */
	if (rand_state == 0)
		rand_state = 0x2545f491u;
	printf("# seed %u\n", rand_state);
}

unsigned test_rand(void)
{
	unsigned x = rand_state;

	if (x == 0)
		x = 0x2545f491u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rand_state = x;
	return x;
}

int test_run(const struct test_case *cases)
{
	unsigned passed = 0, failed = 0;

	seed_rand();
	for (const struct test_case *c = cases; c->name != NULL; c++) {
		case_failed = false;
		test_context = NULL;
		c->fn();
		printf("%s - %s\n", case_failed ? "not ok" : "ok", c->name);
		fflush(stdout);
		if (case_failed)
			failed++;
		else
			passed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	fflush(stdout);
	return failed == 0 ? 0 : 1;
}

size_t test_split_whole(size_t left)
{
	return left;
}

size_t test_split_bytes(size_t left)
{
	return left > 0 ? 1 : 0;
}

size_t test_split_random(size_t left)
{
	size_t n = 1 + test_rand() % 7;
	return n < left ? n : left;
}

test_split_fn *const test_splits[TEST_SPLITS] = {
    test_split_whole, test_split_bytes, test_split_random, test_split_random, test_split_random};
