/* SPDX-License-Identifier: MIT */
/* Unit tests for the capped byte builder. */
#include <string.h>

#include "buf.h"
#include "test.h"

static void test_growth(void)
{
	struct buf b;

	buf_init(&b, 100000);
	test_assert_str_eq(b.data, "");
	for (int i = 0; i < 1000; i++)
		buf_append_str(&b, "0123456789");
	test_assert_int_eq(b.len, 10000);
	test_assert(!buf_overflowed(&b));
	test_assert(b.data[b.len] == '\0');
	test_assert(memcmp(b.data + 9990, "0123456789", 10) == 0);
	buf_reset(&b);
	test_assert_int_eq(b.len, 0);
	test_assert_str_eq(b.data, "");
	buf_free(&b);
	buf_free(&b);
}

static void test_cap(void)
{
	struct buf b;

	buf_init(&b, 5);
	buf_append_str(&b, "abc");
	test_assert(!buf_overflowed(&b));
	buf_append_str(&b, "defg");
	test_assert(buf_overflowed(&b));
	test_assert_str_eq(b.data, "abcde");
	buf_append_char(&b, 'x');
	test_assert_str_eq(b.data, "abcde");
	buf_reset(&b);
	test_assert(!buf_overflowed(&b));
	buf_printf(&b, "%d-%s", 12, "long string");
	test_assert(buf_overflowed(&b));
	test_assert_str_eq(b.data, "12-lo");
	buf_free(&b);
}

static void test_fixed(void)
{
	char storage[8];
	struct buf b;

	buf_init_fixed(&b, storage, sizeof(storage));
	buf_append_u64(&b, 0);
	buf_append_char(&b, ' ');
	buf_append_u64(&b, 1234);
	test_assert_str_eq(storage, "0 1234");
	buf_append_strv(&b, STRV_LIT("xyz"));
	test_assert(buf_overflowed(&b));
	test_assert_str_eq(storage, "0 1234x");
	buf_reset(&b);
	buf_printf(&b, "%s", "abcdefghijk");
	test_assert_str_eq(storage, "abcdefg");
	test_assert(buf_overflowed(&b));
	buf_free(&b); /* must not free the caller's storage */

	buf_init_fixed(&b, storage, 1);
	buf_append_str(&b, "a");
	test_assert_str_eq(storage, "");
	test_assert(buf_overflowed(&b));
}

static void test_printf_grows(void)
{
	struct buf b;
	char big[300];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 1000);
	buf_printf(&b, "<%s>", big);
	test_assert_int_eq(b.len, 301);
	test_assert(b.data[0] == '<' && b.data[300] == '>' && b.data[301] == '\0');
	buf_append_u64(&b, UINT64_MAX);
	test_assert(strv_eq_cstr(strv_make(b.data + 301, b.len - 301), "18446744073709551615"));
	buf_free(&b);
}

static void test_json(void)
{
	struct buf b;
	char small[8];

	buf_init(&b, 1000);
	buf_append_json_escaped(&b, STRV_LIT("a\"b\\c\n\r\t\x01\x1f/\xc3\xa9"));
	test_assert_str_eq(b.data, "a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f/\xc3\xa9");
	buf_reset(&b);
	buf_append_json_escaped(&b, strv_make("x\0y", 3));
	test_assert_str_eq(b.data, "x\\u0000y");
	buf_free(&b);

	/* an escape that does not fit is dropped whole */
	buf_init_fixed(&b, small, sizeof(small));
	buf_append_json_escaped(&b, STRV_LIT("abcd\x01"));
	test_assert_str_eq(small, "abcd");
	test_assert(buf_overflowed(&b));
}

static void test_consume(void)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append_str(&b, "hello world");
	buf_consume(&b, 6);
	test_assert_str_eq(b.data, "world");
	buf_consume(&b, 0);
	test_assert_str_eq(b.data, "world");
	buf_consume(&b, 5);
	test_assert_str_eq(b.data, "");
	test_assert(strv_eq_cstr(buf_strv(&b), ""));
	buf_free(&b);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"growth", test_growth},
	    {"cap truncates and flags overflow", test_cap},
	    {"fixed storage", test_fixed},
	    {"printf grows", test_printf_grows},
	    {"json escaping", test_json},
	    {"consume", test_consume},
	    {NULL, NULL},
	};

	return test_run(cases);
}
