/* SPDX-License-Identifier: MIT */
/* Unit tests for string views. */
#include "strv.h"
#include "test.h"

static void test_compare(void)
{
	test_assert(strv_eq(STRV_LIT("abc"), strv_from_cstr("abc")));
	test_assert(!strv_eq(STRV_LIT("abc"), STRV_LIT("abd")));
	test_assert(strv_eq(STRV_NULL, STRV_LIT("")));
	test_assert(strv_eq_cstr(STRV_LIT("x"), "x"));
	test_assert(strv_eq_ci(STRV_LIT("Content-Length"), STRV_LIT("content-LENGTH")));
	test_assert(!strv_eq_ci(STRV_LIT("a"), STRV_LIT("ab")));
	test_assert(!strv_eq_ci(STRV_LIT("["), STRV_LIT("{")));
	test_assert(strv_eq_ci_cstr(STRV_LIT("HOST"), "host"));
	test_assert(strv_starts_with(STRV_LIT("member x"), STRV_LIT("member")));
	test_assert(strv_starts_with(STRV_LIT("x"), STRV_NULL));
	test_assert(!strv_starts_with(STRV_LIT("me"), STRV_LIT("member")));
}

static void test_trim_find_split(void)
{
	struct strv head, tail;

	test_assert(strv_eq_cstr(strv_trim(STRV_LIT(" \t a b \t")), "a b"));
	test_assert(strv_trim(STRV_LIT(" \t ")).len == 0);
	test_assert(strv_trim(STRV_NULL).len == 0);
	test_assert_int_eq(strv_find_char(STRV_LIT("abc"), 'c'), 2);
	test_assert_int_eq(strv_find_char(STRV_LIT("abc"), 'z'), -1);
	test_assert_int_eq(strv_find_char(STRV_NULL, 'z'), -1);
	/* the view ends before the NUL: must not find bytes past len */
	test_assert_int_eq(strv_find_char(strv_make("abc", 2), 'c'), -1);

	test_assert(strv_split(STRV_LIT("key=value=x"), '=', &head, &tail));
	test_assert(strv_eq_cstr(head, "key"));
	test_assert(strv_eq_cstr(tail, "value=x"));
	test_assert(strv_split(STRV_LIT("k="), '=', &head, &tail));
	test_assert(strv_eq_cstr(head, "k") && tail.len == 0);
	test_assert(!strv_split(STRV_LIT("novalue"), '=', &head, &tail));
	test_assert(strv_eq_cstr(head, "novalue") && tail.len == 0);
}

static void test_numbers(void)
{
	uint64_t v = 7;

	test_assert(strv_to_u64(STRV_LIT("0"), &v) == 0 && v == 0);
	test_assert(strv_to_u64(STRV_LIT("18446744073709551615"), &v) == 0 && v == UINT64_MAX);
	test_assert(strv_to_u64(STRV_LIT("18446744073709551616"), &v) < 0);
	test_assert(strv_to_u64(STRV_LIT("99999999999999999999"), &v) < 0);
	test_assert(strv_to_u64(STRV_LIT(""), &v) < 0);
	test_assert(strv_to_u64(STRV_LIT("+1"), &v) < 0);
	test_assert(strv_to_u64(STRV_LIT("-1"), &v) < 0);
	test_assert(strv_to_u64(STRV_LIT(" 1"), &v) < 0);
	test_assert(strv_to_u64(STRV_LIT("1a"), &v) < 0);
	test_assert(strv_to_u64(strv_make("123", 2), &v) == 0 && v == 12);

	test_assert(strv_hex_to_u64(STRV_LIT("fF"), &v) == 0 && v == 255);
	test_assert(strv_hex_to_u64(STRV_LIT("ffffffffffffffff"), &v) == 0 && v == UINT64_MAX);
	test_assert(strv_hex_to_u64(STRV_LIT("10000000000000000"), &v) < 0);
	test_assert(strv_hex_to_u64(STRV_LIT(""), &v) < 0);
	test_assert(strv_hex_to_u64(STRV_LIT("0x1"), &v) < 0);
	test_assert(strv_hex_to_u64(STRV_LIT("g"), &v) < 0);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"compare", test_compare},
	    {"trim, find, split", test_trim_find_split},
	    {"numbers", test_numbers},
	    {NULL, NULL},
	};

	return test_run(cases);
}
