/* SPDX-License-Identifier: MIT */
/* Unit tests for sticky route extraction: every source, precedence and malformed input. */
#include <stdio.h>
#include <string.h>

#include "sticky.h"
#include "test.h"

static const struct sticky_settings defaults = {STRV_LIT("JSESSIONID"), '.',
                                                STRV_LIT("jsessionid")};

/* Runs one extraction and checks source and route byte for byte (route NULL = none), and that
   the route points into the input rather than a copy. */
static void check_with(int line, const struct sticky_settings *set, const char *path,
                       const char *query, const char *cookie1, const char *cookie2,
                       enum sticky_source want_src, const char *want_route)
{
	struct strv cookies[2], route = STRV_LIT("unset");
	size_t n = 0;
	char ctx[512];

	if (cookie1 != NULL)
		cookies[n++] = strv_from_cstr(cookie1);
	if (cookie2 != NULL)
		cookies[n++] = strv_from_cstr(cookie2);
	snprintf(ctx, sizeof(ctx), "line %d: path=%s query=%s cookie=%s cookie=%s", line, path,
	         query, cookie1 != NULL ? cookie1 : "-", cookie2 != NULL ? cookie2 : "-");
	test_set_context(ctx);
	enum sticky_source src =
	    sticky_route(set, strv_from_cstr(path), strv_from_cstr(query), cookies, n, &route);
	test__assert_str_eq(__FILE__, line, "source", sticky_source_name(src),
	                    sticky_source_name(want_src));
	if (want_route == NULL) {
		test__assert_int_eq(__FILE__, line, "route.len == 0", (long long)route.len, 0);
		return;
	}
	char got[128];
	snprintf(got, sizeof(got), "%.*s", STRV_FMT(route));
	test__assert_str_eq(__FILE__, line, "route", got, want_route);
	const char *base = src == STICKY_PATH ? path : src == STICKY_QUERY ? query : NULL;
	bool inside = false;
	if (base != NULL)
		inside = route.ptr >= base && route.ptr + route.len <= base + strlen(base);
	for (size_t i = 0; i < n && base == NULL; i++)
		inside |= route.ptr >= cookies[i].ptr &&
		          route.ptr + route.len <= cookies[i].ptr + cookies[i].len;
	test__assert_int_eq(__FILE__, line, "route points into its input", inside, 1);
}

#define CHECK(path, query, c1, c2, src, route)                                                     \
	check_with(__LINE__, &defaults, path, query, c1, c2, src, route)
#define COOKIE(c, route) CHECK("/", "", c, NULL, (route) ? STICKY_COOKIE : STICKY_NONE, route)

static void test_cookie(void)
{
	COOKIE("JSESSIONID=abc.OX-1", "OX-1");
	COOKIE("a=1; JSESSIONID=abc.OX-2; b=2", "OX-2");
	COOKIE("a=1;JSESSIONID=abc.OX-2;b=2", "OX-2");
	COOKIE(" \tJSESSIONID=abc.OX-1 \t;", "OX-1");
	COOKIE("JSESSIONID=abc.node_7", "node_7");
	COOKIE("JSESSIONID=.OX-1", "OX-1"); /* empty session id part: still a route */
	COOKIE("JSESSIONID=\"abc.OX-1\"", "OX-1");
	/* Only the text after the FIRST separator, and it must be a whole valid route. */
	COOKIE("JSESSIONID=abc.OX-1.x", NULL);
	COOKIE("JSESSIONID=a.b.c", NULL);
	/* The first cookie of the name that has a route wins. */
	COOKIE("JSESSIONID=abc; JSESSIONID=def.OX-2", "OX-2");
	COOKIE("JSESSIONID=a.OX-1; JSESSIONID=b.OX-2", "OX-1");
	/* Several Cookie header fields. */
	CHECK("/", "", "a=b", "JSESSIONID=x.OX-3", STICKY_COOKIE, "OX-3");
	CHECK("/", "", "JSESSIONID=x.OX-3", "JSESSIONID=y.OX-4", STICKY_COOKIE, "OX-3");
	/* 64 bytes is the longest route. */
	COOKIE("JSESSIONID=s.0123456789012345678901234567890123456789012345678901234567890123",
	       "0123456789012345678901234567890123456789012345678901234567890123");
}

static void test_cookie_malformed(void)
{
	COOKIE("JSESSIONID=s.01234567890123456789012345678901234567890123456789012345678901234",
	       NULL); /* 65 bytes */
	COOKIE("JSESSIONID=abc", NULL);
	COOKIE("JSESSIONID=abc.", NULL);
	COOKIE("JSESSIONID=", NULL);
	COOKIE("JSESSIONID", NULL);
	COOKIE("JSESSIONID=\"abc.OX-1", NULL); /* unbalanced quote */
	COOKIE("JSESSIONID=\"\"", NULL);
	COOKIE("JSESSIONID=\"", NULL);
	COOKIE("JSESSIONID=ab c.OX-1", NULL); /* space in the value */
	COOKIE("JSESSIONID=abc.OX 1", NULL);
	COOKIE("JSESSIONID=abc.OX-1,x=y", NULL); /* comma */
	COOKIE("JSESSIONID=ab\\c.OX-1", NULL);   /* backslash */
	COOKIE("JSESSIONID=abc.OX\x01", NULL);   /* control */
	COOKIE("JSESSIONID=ab\x80.OX-1", NULL);  /* 8-bit */
	COOKIE("JSESSIONID=abc.OX-1\x7f", NULL); /* DEL */
	COOKIE("JSESSIONID=abc.OX%2D1", NULL);   /* no percent-decoding */
	COOKIE("JSESSIONID=abc.OX/1", NULL);
	COOKIE("JSESSIONID =abc.OX-1", NULL); /* blank in the name */
	COOKIE("JSESSION ID=abc.OX-1", NULL);
	COOKIE("=abc.OX-1", NULL);           /* empty name */
	COOKIE("jsessionid=abc.OX-1", NULL); /* names are case-sensitive */
	COOKIE("XJSESSIONID=abc.OX-1", NULL);
	COOKIE("JSESSIONIDX=abc.OX-1", NULL);
	COOKIE("J(SESSIONID=abc.OX-1", NULL);
	COOKIE("", NULL);
	COOKIE(";;;", NULL);
	COOKIE("=", NULL);
	COOKIE(" ; = ; ", NULL);
	/* A malformed pair is skipped, not the whole header. */
	COOKIE("bad; JSESSIONID=abc.OX-1", "OX-1");
	COOKIE("x=a b; JSESSIONID=abc.OX-1", "OX-1");
	COOKIE("=; JSESSIONID=abc.OX-1", "OX-1");
	COOKIE("JSESSIONID=ab c.OX-1; JSESSIONID=abc.OX-2", "OX-2");
}

static void test_path(void)
{
	CHECK("/app;jsessionid=abc.OX-2", "", NULL, NULL, STICKY_PATH, "OX-2");
	CHECK("/app;jsessionid=abc.OX-2/more", "", NULL, NULL, STICKY_PATH, "OX-2");
	CHECK("/app;foo=1;jsessionid=abc.OX-2;bar=2", "x=1", NULL, NULL, STICKY_PATH, "OX-2");
	CHECK("/a;jsessionid=abc/b;jsessionid=def.OX-5", "", NULL, NULL, STICKY_PATH, "OX-5");
	CHECK("/a;jsessionid=abc.OX-1;jsessionid=def.OX-5", "", NULL, NULL, STICKY_PATH, "OX-1");
	CHECK(";jsessionid=abc.OX-2", "", NULL, NULL, STICKY_PATH, "OX-2");
	/* Malformed or other parameters. */
	CHECK("/app;JSESSIONID=abc.OX-2", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid=", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid=abc", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid=abc.", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid=abc./OX-2", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid=abc.OX-2.x", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionid=abc.OX%2D2", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;xjsessionid=abc.OX-2", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;jsessionidx=abc.OX-2", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/jsessionid=abc.OX-2", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/app;", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK(";", "", NULL, NULL, STICKY_NONE, NULL);
	CHECK("", "", NULL, NULL, STICKY_NONE, NULL);
}

static void test_query(void)
{
	CHECK("/", "jsessionid=abc.OX-3", NULL, NULL, STICKY_QUERY, "OX-3");
	CHECK("/", "a=1&jsessionid=abc.OX-3&b=2", NULL, NULL, STICKY_QUERY, "OX-3");
	CHECK("/", "jsessionid=abc&jsessionid=def.OX-4", NULL, NULL, STICKY_QUERY, "OX-4");
	CHECK("/", "jsessionid", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "jsessionid=", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "jsessionid=abc", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "jsessionid=abc.OX-3;x", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "jsessionid=abc%2EOX-3", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "jsessionid=abc.OX+3", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "xjsessionid=abc.OX-3", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "JSESSIONID=abc.OX-3", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "&&&", NULL, NULL, STICKY_NONE, NULL);
	CHECK("/", "=abc.OX-3", NULL, NULL, STICKY_NONE, NULL);
}

static void test_precedence(void)
{
	/* Cookie, then path parameter, then query parameter. */
	CHECK("/a;jsessionid=x.OX-2", "jsessionid=x.OX-3", "JSESSIONID=x.OX-1", NULL, STICKY_COOKIE,
	      "OX-1");
	CHECK("/a;jsessionid=x.OX-2", "jsessionid=x.OX-3", "other=1", NULL, STICKY_PATH, "OX-2");
	CHECK("/a", "jsessionid=x.OX-3", "JSESSIONID=x", NULL, STICKY_QUERY, "OX-3");
	CHECK("/a;jsessionid=x", "jsessionid=x.OX-3", "JSESSIONID=x.OX 1", NULL, STICKY_QUERY,
	      "OX-3");
}

static void test_settings(void)
{
	struct sticky_settings bang = {STRV_LIT("SID"), '!', STRV_LIT("sid")};
	struct sticky_settings no_cookie = {STRV_LIT(""), '.', STRV_LIT("jsessionid")};
	struct sticky_settings no_param = {STRV_LIT("JSESSIONID"), '.', STRV_LIT("")};

	check_with(__LINE__, &bang, "/", "", "SID=abc!OX-1", NULL, STICKY_COOKIE, "OX-1");
	check_with(__LINE__, &bang, "/", "", "SID=abc.OX-1", NULL, STICKY_NONE, NULL);
	check_with(__LINE__, &bang, "/", "", "SID=a.b!OX-1", NULL, STICKY_COOKIE, "OX-1");
	check_with(__LINE__, &bang, "/", "", "JSESSIONID=abc.OX-1", NULL, STICKY_NONE, NULL);
	check_with(__LINE__, &bang, "/x;sid=a!OX-2", "", NULL, NULL, STICKY_PATH, "OX-2");
	check_with(__LINE__, &bang, "/", "sid=a!OX-3", NULL, NULL, STICKY_QUERY, "OX-3");
	check_with(__LINE__, &no_cookie, "/", "jsessionid=a.OX-3", "JSESSIONID=a.OX-1", NULL,
	           STICKY_QUERY, "OX-3");
	check_with(__LINE__, &no_param, "/a;jsessionid=x.OX-2", "jsessionid=a.OX-3", NULL, NULL,
	           STICKY_NONE, NULL);
	check_with(__LINE__, &no_param, "/", "", "JSESSIONID=a.OX-1", NULL, STICKY_COOKIE, "OX-1");
}

static void test_no_cookies_array(void)
{
	struct strv route;

	test_assert(sticky_route(&defaults, STRV_LIT("/"), STRV_LIT(""), NULL, 0, &route) ==
	            STICKY_NONE);
	test_assert(route.len == 0);
	/* Views need no NUL: a route at the very end of a buffer is found without reading past. */
	static const char buf[] = {'/', ';', 'j', 's', 'e', 's', 's', 'i', 'o', 'n',
	                           'i', 'd', '=', 'a', '.', 'O', 'X', '-', '9'};
	test_assert(sticky_route(&defaults, strv_make(buf, sizeof(buf)), STRV_LIT(""), NULL, 0,
	                         &route) == STICKY_PATH);
	test_assert(route.len == 4 && memcmp(route.ptr, "OX-9", 4) == 0);
	test_assert_str_eq(sticky_source_name(STICKY_NONE), "none");
	test_assert_str_eq(sticky_source_name(STICKY_COOKIE), "cookie");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"cookie", test_cookie},
	    {"cookie_malformed", test_cookie_malformed},
	    {"path", test_path},
	    {"query", test_query},
	    {"precedence", test_precedence},
	    {"settings", test_settings},
	    {"no_cookies_array", test_no_cookies_array},
	    {NULL, NULL},
	};
	return test_run(cases);
}
