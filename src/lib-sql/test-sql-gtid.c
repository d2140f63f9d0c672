/* SPDX-License-Identifier: MIT */
/* Unit tests for GTID positions: parsing, formatting, covering and merging. */
#include <stdio.h>
#include <string.h>

#include "sql-gtid.h"
#include "test.h"

static struct sql_gtid_pos pos_of(const char *text)
{
	struct sql_gtid_pos pos;
	test_assert_int_eq(sql_gtid_parse(text, &pos), 0);
	return pos;
}

static void assert_formats(const struct sql_gtid_pos *pos, const char *want)
{
	char out[SQL_GTID_POS_MAX];
	test_assert_int_eq(sql_gtid_format(pos, out, sizeof(out)), 0);
	test_assert_str_eq(out, want);
}

static void test_parse(void)
{
	struct sql_gtid_pos pos = pos_of("0-1-42");
	test_assert_int_eq(pos.count, 1);
	test_assert_int_eq(pos.gtids[0].domain, 0);
	test_assert_int_eq(pos.gtids[0].server, 1);
	test_assert_int_eq((long long)pos.gtids[0].seq, 42);
	assert_formats(&pos, "0-1-42");

	pos = pos_of("0-1-42, 1-2-7");
	assert_formats(&pos, "0-1-42,1-2-7");
	pos = pos_of("");
	test_assert_int_eq(pos.count, 0);
	assert_formats(&pos, "");
	pos = pos_of("4294967295-4294967295-18446744073709551615");
	assert_formats(&pos, "4294967295-4294967295-18446744073709551615");

	static const char *const bad[] = {
	    "0-1",
	    "0-1-",
	    "-1-2",
	    "0--1-2",
	    "0-1-2,",
	    "0-1-2,0-3-4",
	    "a-1-2",
	    "0-1-2 ",
	    " 0-1-2",
	    "0-1-2;",
	    "0x1-1-2",
	    "4294967296-1-2",
	    "0-1-18446744073709551616",
	    "0-1-2,,1-1-1",
	    "0-1-2\n",
	    "+0-1-2",
	    "0-1--2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert_int_eq(sql_gtid_parse(bad[i], &pos), -1);
	}
	test_set_context(NULL);

	char many[SQL_GTID_POS_MAX * 2] = "";
	size_t used = 0;
	for (unsigned d = 0; d <= SQL_GTID_MAX_DOMAINS; d++) {
		used += (size_t)snprintf(many + used, sizeof(many) - used, "%s%u-1-1",
		                         d > 0 ? "," : "", d);
		test_assert_int_eq(sql_gtid_parse(many, &pos), d < SQL_GTID_MAX_DOMAINS ? 0 : -1);
	}
}

static void test_format_too_small(void)
{
	struct sql_gtid_pos pos = pos_of("0-1-42");
	char out[6];
	test_assert_int_eq(sql_gtid_format(&pos, out, sizeof(out)), -1);
	test_assert_int_eq(sql_gtid_format(&pos, out, 0), -1);
}

static void test_covers(void)
{
	struct sql_gtid_pos have = pos_of("0-1-10,1-2-5");
	struct sql_gtid_pos want = pos_of("0-1-10");
	test_assert(sql_gtid_covers(&have, &want));
	want = pos_of("0-3-10"); /* another server in the same domain: the sequence counts */
	test_assert(sql_gtid_covers(&have, &want));
	want = pos_of("0-1-11");
	test_assert(!sql_gtid_covers(&have, &want));
	want = pos_of("1-2-5,0-1-9");
	test_assert(sql_gtid_covers(&have, &want));
	want = pos_of("2-1-1"); /* a domain the server has never seen */
	test_assert(!sql_gtid_covers(&have, &want));
	want = pos_of("");
	test_assert(sql_gtid_covers(&have, &want));
	have = pos_of("");
	test_assert(sql_gtid_covers(&have, &want));
}

static void test_behind(void)
{
	struct sql_gtid_pos have = pos_of("0-1-10,1-2-5");
	struct sql_gtid_pos want = pos_of("0-1-10");
	test_assert(sql_gtid_behind(&have, &want) == 0);
	want = pos_of("0-2-13,1-2-4"); /* 3 behind in domain 0, ahead in domain 1 */
	test_assert(sql_gtid_behind(&have, &want) == 3);
	want = pos_of("0-1-12,2-1-4"); /* an unseen domain counts in full */
	test_assert(sql_gtid_behind(&have, &want) == 6);
	want = pos_of("");
	test_assert(sql_gtid_behind(&have, &want) == 0);
}

static void test_merge(void)
{
	struct sql_gtid_pos into = pos_of("0-1-10,1-2-5");
	struct sql_gtid_pos from = pos_of("1-3-9,0-1-3,2-1-1");
	test_assert_int_eq(sql_gtid_merge(&into, &from), 0);
	assert_formats(&into, "0-1-10,1-3-9,2-1-1");

	char text[SQL_GTID_POS_MAX] = "";
	size_t used = 0;
	for (unsigned d = 0; d < SQL_GTID_MAX_DOMAINS; d++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%u-1-1",
		                         d > 0 ? "," : "", d + 10);
	into = pos_of(text);
	struct sql_gtid_pos before = into;
	from = pos_of("0-1-1");
	test_assert_int_eq(sql_gtid_merge(&into, &from), -1);
	test_assert(memcmp(&into, &before, sizeof(into)) == 0);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"parse and format", test_parse},
	    {"format into a small buffer", test_format_too_small},
	    {"covers", test_covers},
	    {"behind", test_behind},
	    {"merge", test_merge},
	    {NULL, NULL},
	};
	return test_run(cases);
}
