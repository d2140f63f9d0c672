/* SPDX-License-Identifier: MIT */
/* Unit tests for the CSPRNG wrapper. */
#include <string.h>

#include "random.h"
#include "test.h"

static void test_bytes(void)
{
	unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};

	random_init();
	random_init();
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	test_assert(memcmp(a, b, sizeof(a)) != 0);
	test_assert(memcmp(a, zero, sizeof(a)) != 0);
	random_bytes(a, 0);
}

static void test_hex(void)
{
	char out[2 * 100 + 2];
	char other[2 * 100 + 1];

	memset(out, 'Z', sizeof(out));
	random_hex(out, 100);
	test_assert_int_eq(strlen(out), 200);
	test_assert(out[201] == 'Z');
	test_assert(strspn(out, "0123456789abcdef") == 200);
	random_hex(other, 100);
	test_assert(strcmp(out, other) != 0);
	random_hex(out, 0);
	test_assert_str_eq(out, "");
}

static void test_uniform(void)
{
	unsigned hits[10] = {0};

	for (int i = 0; i < 10000; i++) {
		uint32_t v = random_uniform(10);

		test_assert(v < 10);
		if (v < 10)
			hits[v]++;
	}
	/* each bucket expects 1000; 700 is far outside any plausible deviation */
	for (int i = 0; i < 10; i++)
		test_assert(hits[i] > 700);
	test_assert_int_eq(random_uniform(1), 0);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"bytes", test_bytes},
	    {"hex", test_hex},
	    {"uniform", test_uniform},
	    {NULL, NULL},
	};

	return test_run(cases);
}
