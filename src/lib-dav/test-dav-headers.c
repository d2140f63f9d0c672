/* SPDX-License-Identifier: MIT */
/* Unit tests for Depth, Overwrite, Destination (and URI mapping), Timeout and Lock-Token. */
#include <stdio.h>
#include <string.h>

#include "dav-headers.h"
#include "pool.h"
#include "test.h"

static struct pool *pool;

static void test_depth_overwrite(void)
{
	enum dav_depth d;
	const char *error;
	bool ow;
	test_assert_int_eq(dav_depth_default(STRV_LIT("PROPFIND")), DAV_DEPTH_INFINITY);
	test_assert_int_eq(dav_depth_default(STRV_LIT("MOVE")), DAV_DEPTH_INFINITY);
	test_assert_int_eq(dav_depth_default(STRV_LIT("PROPPATCH")), DAV_DEPTH_0);
	test_assert_int_eq(dav_depth_parse(STRV_NULL, DAV_DEPTH_INFINITY, &d, &error), 0);
	test_assert_int_eq(d, DAV_DEPTH_INFINITY);
	test_assert_int_eq(dav_depth_parse(STRV_LIT(" 1 "), DAV_DEPTH_0, &d, &error), 0);
	test_assert_int_eq(d, DAV_DEPTH_1);
	test_assert_int_eq(dav_depth_parse(STRV_LIT("Infinity"), DAV_DEPTH_0, &d, &error), 0);
	test_assert_int_eq(d, DAV_DEPTH_INFINITY);
	test_assert_int_eq(dav_depth_parse(STRV_LIT("0"), DAV_DEPTH_1, &d, &error), 0);
	test_assert_int_eq(d, DAV_DEPTH_0);
	static const char *const bad_depth[] = {"", "2", "01", "-1", "inf", "0,1", "infinityx"};
	for (size_t i = 0; i < sizeof(bad_depth) / sizeof(bad_depth[0]); i++) {
		test_set_context(bad_depth[i]);
		test_assert_int_eq(
		    dav_depth_parse(strv_from_cstr(bad_depth[i]), DAV_DEPTH_0, &d, &error), -1);
	}
	test_set_context(NULL);

	test_assert_int_eq(dav_overwrite_parse(STRV_NULL, &ow, &error), 0);
	test_assert(ow);
	test_assert_int_eq(dav_overwrite_parse(STRV_LIT("F"), &ow, &error), 0);
	test_assert(!ow);
	test_assert_int_eq(dav_overwrite_parse(STRV_LIT("T"), &ow, &error), 0);
	test_assert(ow);
	test_assert_int_eq(dav_overwrite_parse(STRV_LIT("f"), &ow, &error), -1);
	test_assert_int_eq(dav_overwrite_parse(STRV_LIT("yes"), &ow, &error), -1);
	test_assert_str_eq(error, "Overwrite must be T or F");
}

/* The path Destination maps to, or "<status>: <error>". */
static const char *destination(const char *value, const char *scheme, const char *host)
{
	static char out[512];
	const struct dav_origin origin = {scheme, strv_from_cstr(host)};
	const char *path, *error;
	int status;
	struct strv v = value == NULL ? STRV_NULL : strv_from_cstr(value);
	if (dav_destination_parse(pool, v, &origin, &path, &status, &error) < 0)
		snprintf(out, sizeof(out), "%d: %s", status, error);
	else
		snprintf(out, sizeof(out), "%s", path);
	return out;
}

static void test_destination(void)
{
	pool = pool_create(0);
	const char *h = "dav.example.com";
	test_assert_str_eq(
	    destination("http://dav.example.com/dav/files/home/a%20b.txt", "http", h),
	    "/dav/files/home/a b.txt");
	test_assert_str_eq(destination("HTTP://DAV.Example.COM:80/x/", "http", h), "/x/");
	test_assert_str_eq(destination("https://dav.example.com:443/x", "https", "dav.example.com"),
	                   "/x");
	test_assert_str_eq(
	    destination("http://dav.example.com:8011/x", "http", "DAV.example.com:8011"), "/x");
	test_assert_str_eq(destination("http://[::1]:8011/x", "http", "[::1]:8011"), "/x");
	test_assert_str_eq(destination("/dav/files/home/%C3%A9t%C3%A9/", "http", h),
	                   "/dav/files/home/\xc3\xa9t\xc3\xa9/");
	test_assert_str_eq(destination("http://dav.example.com", "http", h), "/");
	test_assert_str_eq(destination("/a%2e%2e.b/%25", "http", h), "/a...b/%");

	/* another server: 502 */
	test_assert_str_eq(destination("http://other.example.com/x", "http", h),
	                   "502: Destination: the URI names another server");
	test_assert_str_eq(destination("https://dav.example.com/x", "http", h),
	                   "502: Destination: the URI names another server");
	test_assert_str_eq(destination("http://dav.example.com:8080/x", "http", h),
	                   "502: Destination: the URI names another server");
	test_assert_str_eq(destination("http://dav.example.com.evil/x", "http", h),
	                   "502: Destination: the URI names another server");

	/* malformed or tricky: 400 */
	static const char *const bad[] = {
	    NULL,
	    "",
	    "relative/path",
	    "//dav.example.com/x",
	    "http://user@dav.example.com/x",
	    "http:/x",
	    "http:///x",
	    "/a/%2F/b",
	    "/a/%2f",
	    "/a/../b",
	    "/a/%2e%2E/b",
	    "/a/./b",
	    "/a/%2e/b",
	    "/..",
	    "/a//b",
	    "/a/%00",
	    "/a/%zz",
	    "/a/%4",
	    "/a b",
	    "/a?x=1",
	    "/a#frag",
	    "http://dav.example.com?x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i] == NULL ? "(absent)" : bad[i]);
		test_assert(strncmp(destination(bad[i], "http", h), "400: ", 5) == 0);
	}
	test_set_context(NULL);
	test_assert_str_eq(destination("/a/%2F/b", "http", h),
	                   "400: Destination: an encoded '/' (%2F) inside a path segment");
	test_assert_str_eq(destination("/a/%2e%2E/b", "http", h),
	                   "400: Destination: a '.' or '..' segment in the path");
	pool_destroy(&pool);
}

static void test_timeout_lock_token(void)
{
	test_assert_int_eq(dav_timeout_parse(STRV_NULL, 600, 3600), 600);
	test_assert_int_eq(dav_timeout_parse(STRV_LIT("Second-30"), 600, 3600), 30);
	test_assert_int_eq(dav_timeout_parse(STRV_LIT("Second-4100000000"), 600, 3600), 3600);
	test_assert_int_eq(dav_timeout_parse(STRV_LIT("Infinite, Second-4100000000"), 600, 3600),
	                   3600);
	test_assert_int_eq(dav_timeout_parse(STRV_LIT("Fortnight, second-5"), 600, 3600), 5);
	test_assert_int_eq(dav_timeout_parse(STRV_LIT("Second-, Second--1, Second-x"), 600, 3600),
	                   600);
	test_assert_int_eq(dav_timeout_parse(STRV_LIT("Second-99999999999999999999999"), 600, 3600),
	                   600);
	test_assert_int_eq(dav_timeout_parse(STRV_NULL, 600, 60), 60);

	struct strv token;
	const char *error;
	test_assert_int_eq(dav_lock_token_parse(STRV_LIT(" <urn:uuid:abc> "), &token, &error), 0);
	test_assert(strv_eq_cstr(token, "urn:uuid:abc"));
	static const char *const bad[] = {
	    "", "urn:uuid:abc", "<>", "<urn:a", "<urn:a> <urn:b>", "<urn a>", "<<urn:a>>"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert_int_eq(dav_lock_token_parse(strv_from_cstr(bad[i]), &token, &error),
		                   -1);
	}
	test_set_context(NULL);
	test_assert_int_eq(dav_lock_token_parse(STRV_NULL, &token, &error), -1);
	test_assert_str_eq(error, "no Lock-Token header");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"Depth and Overwrite", test_depth_overwrite},
	    {"Destination", test_destination},
	    {"Timeout and Lock-Token", test_timeout_lock_token},
	    {NULL, NULL},
	};
	return test_run(cases);
}
