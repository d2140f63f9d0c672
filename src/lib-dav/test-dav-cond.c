/* SPDX-License-Identifier: MIT */
/* Unit tests for conditional requests (RFC 7232) and HTTP-date parsing. */
#include <string.h>

#include "dav-cond.h"
#include "test.h"

/* 1994-11-06 08:49:37 UTC */
#define T0 784111777

static void test_dates(void)
{
	int64_t t = 0;
	test_assert_int_eq(dav_http_date_parse(STRV_LIT("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
	test_assert_int_eq(t, T0);
	t = 0;
	test_assert_int_eq(dav_http_date_parse(STRV_LIT("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
	test_assert_int_eq(t, T0);
	t = 0;
	test_assert_int_eq(dav_http_date_parse(STRV_LIT("Sun Nov  6 08:49:37 1994"), &t), 0);
	test_assert_int_eq(t, T0);
	test_assert_int_eq(dav_http_date_parse(STRV_LIT("Thu, 01 Jan 1970 00:00:00 GMT"), &t), 0);
	test_assert_int_eq(t, 0);
	test_assert_int_eq(dav_http_date_parse(STRV_LIT("Tue, 29 Feb 2028 23:59:59 GMT"), &t), 0);
	test_assert_int_eq(t, 1835481599);
	static const char *const bad[] = {
	    "",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 6 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 08:49:37 GMT ",
	    "Sun, 06 Foo 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:00:00 GMT",
	    "Sun, 32 Nov 1994 08:49:37 GMT",
	    "784111777",
	    "Sun Nov 6 08:49:37 1994",
	    "Sunday, 06-Nov-1994 08:49:37 GMT",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert_int_eq(dav_http_date_parse(strv_from_cstr(bad[i]), &t), -1);
	}
	test_set_context(NULL);
}

static int eval(const char *im, const char *inm, const char *ims, const char *ius,
                const struct dav_cond_target *t, bool get)
{
	const struct dav_cond_headers h = {
	    im != NULL ? strv_from_cstr(im) : STRV_NULL,
	    inm != NULL ? strv_from_cstr(inm) : STRV_NULL,
	    ims != NULL ? strv_from_cstr(ims) : STRV_NULL,
	    ius != NULL ? strv_from_cstr(ius) : STRV_NULL,
	};
	return dav_cond_evaluate(&h, t, get);
}

static void test_evaluate(void)
{
	const struct dav_cond_target file = {true, "\"abc-1\"", T0};
	const struct dav_cond_target missing = {false, NULL, -1};
	const char *before = "Sun, 06 Nov 1994 08:49:36 GMT";
	const char *same = "Sun, 06 Nov 1994 08:49:37 GMT";

	test_assert_int_eq(eval(NULL, NULL, NULL, NULL, &file, true), 0);
	/* If-Match: strong, "*" = exists */
	test_assert_int_eq(eval("\"abc-1\"", NULL, NULL, NULL, &file, false), 0);
	test_assert_int_eq(eval("\"x\", \"abc-1\"", NULL, NULL, NULL, &file, false), 0);
	test_assert_int_eq(eval("W/\"abc-1\"", NULL, NULL, NULL, &file, false), 412);
	test_assert_int_eq(eval("\"x\"", NULL, NULL, NULL, &file, false), 412);
	test_assert_int_eq(eval("*", NULL, NULL, NULL, &file, false), 0);
	test_assert_int_eq(eval("*", NULL, NULL, NULL, &missing, false), 412);
	/* If-None-Match: weak; 304 for GET/HEAD, else 412; "*" = exists (PUT create-only) */
	test_assert_int_eq(eval(NULL, "W/\"abc-1\"", NULL, NULL, &file, true), 304);
	test_assert_int_eq(eval(NULL, "\"abc-1\"", NULL, NULL, &file, false), 412);
	test_assert_int_eq(eval(NULL, "\"zzz\"", NULL, NULL, &file, true), 0);
	test_assert_int_eq(eval(NULL, "*", NULL, NULL, &missing, false), 0);
	test_assert_int_eq(eval(NULL, "*", NULL, NULL, &file, false), 412);
	/* dates */
	test_assert_int_eq(eval(NULL, NULL, same, NULL, &file, true), 304);
	test_assert_int_eq(eval(NULL, NULL, before, NULL, &file, true), 0);
	test_assert_int_eq(eval(NULL, NULL, same, NULL, &file, false), 0);
	test_assert_int_eq(eval(NULL, NULL, "garbage", NULL, &file, true), 0);
	test_assert_int_eq(eval(NULL, NULL, NULL, before, &file, false), 412);
	test_assert_int_eq(eval(NULL, NULL, NULL, same, &file, false), 0);
	test_assert_int_eq(eval(NULL, NULL, NULL, before, &missing, false), 0);
	/* order: If-Match wins over If-Unmodified-Since, If-None-Match over If-Modified-Since */
	test_assert_int_eq(eval("\"abc-1\"", NULL, NULL, before, &file, false), 0);
	test_assert_int_eq(eval(NULL, "\"zzz\"", same, NULL, &file, true), 0);
	test_assert_int_eq(eval("\"x\"", "\"abc-1\"", NULL, NULL, &file, true), 412);
	test_assert_int_eq(eval("\"abc-1\"", "\"abc-1\"", NULL, NULL, &file, true), 304);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"HTTP dates", test_dates},
	    {"evaluation order", test_evaluate},
	    {NULL, NULL},
	};
	return test_run(cases);
}
