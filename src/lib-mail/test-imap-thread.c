/* SPDX-License-Identifier: MIT */
/* imap_thread_parse: RFC 5256's examples, a missing root, and refusals. */
#include <stdio.h>
#include <string.h>

#include "imap-thread.h"
#include "pool.h"
#include "test.h"

/* The parse of text as "uid/root/depth uid/root/depth …", or "ERROR". */
static const char *parsed(struct pool *pool, const char *text)
{
	struct imap_thread_list list = {.pool = pool};
	if (!imap_thread_parse(&list, text))
		return "ERROR";
	static char out[1024];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < list.count && n < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u/%u/%u", i > 0 ? " " : "",
		                      (unsigned)list.items[i].uid, (unsigned)list.items[i].root,
		                      (unsigned)list.items[i].depth);
	return out;
}

static void test_rfc5256(void)
{
	struct pool *pool = pool_create(4096);
	/* RFC 5256 section 4's example */
	test_assert_str_eq(parsed(pool, " (2)(3 6 (4 23)(44 7 96))"),
	                   "2/2/0 3/3/0 6/3/1 4/3/2 23/3/3 44/3/2 7/3/3 96/3/4");
	/* a chain and siblings */
	test_assert_str_eq(parsed(pool, " (1 3 5)(2 6)(4)\r\n"),
	                   "1/1/0 3/1/1 5/1/2 2/2/0 6/2/1 4/4/0");
	test_assert_str_eq(parsed(pool, " (1 (3 5)(7))"), "1/1/0 3/1/1 5/1/2 7/1/1");
	/* a missing root: its children stay at its depth, the first names the thread */
	test_assert_str_eq(parsed(pool, " ((3)(5))"), "3/3/0 5/3/0");
	test_assert_str_eq(parsed(pool, " (1 ((2)(3 4)))"), "1/1/0 2/1/1 3/1/1 4/1/2");
	/* nothing threaded */
	test_assert_str_eq(parsed(pool, ""), "");
	test_assert_str_eq(parsed(pool, "\r\n"), "");
	pool_destroy(&pool);
}

static void test_refused(void)
{
	struct pool *pool = pool_create(4096);
	test_assert_str_eq(parsed(pool, " (1 2"), "ERROR");
	test_assert_str_eq(parsed(pool, " (0)"), "ERROR");
	test_assert_str_eq(parsed(pool, " (4294967296)"), "ERROR");
	test_assert_str_eq(parsed(pool, " (1 x)"), "ERROR");
	test_assert_str_eq(parsed(pool, " 1"), "ERROR");
	char deep[2100];
	memset(deep, '(', 1100);
	deep[1100] = '\0';
	test_assert_str_eq(parsed(pool, deep), "ERROR");
	pool_destroy(&pool);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"rfc5256", test_rfc5256},
	    {"refused", test_refused},
	    {NULL, NULL},
	};
	return test_run(cases);
}
