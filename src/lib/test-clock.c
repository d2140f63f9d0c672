/* SPDX-License-Identifier: MIT */
/* Unit tests for clocks and timestamp formatting. */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "test.h"

static void test_monotonic(void)
{
	uint64_t ms = clock_mono_ms(), us = clock_mono_us();
	struct timespec ts = {0, 2 * 1000 * 1000};

	nanosleep(&ts, NULL);
	test_assert(clock_mono_ms() >= ms + 1);
	test_assert(clock_mono_us() >= us + 2000);
	/* sanity: later than 2020-01-01 */
	test_assert(clock_wall_ms() > 1577836800000ull);
}

/* Deadlines carry whole seconds out of tv_nsec and lie ms ahead of their clock. */
static void test_deadlines(void)
{
	static const uint64_t waits[] = {0, 1, 999, 1000, 1500, 86400001};
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		struct timespec now, d;
		clock_gettime(CLOCK_MONOTONIC, &now);
		d = clock_mono_deadline(waits[i]);
		test_assert(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
		int64_t ahead_ms =
		    ((int64_t)d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
		test_assert(ahead_ms >= (int64_t)waits[i] && ahead_ms <= (int64_t)waits[i] + 1000);
		clock_gettime(CLOCK_REALTIME, &now);
		d = clock_realtime_deadline(waits[i]);
		test_assert(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
		ahead_ms =
		    ((int64_t)d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
		test_assert(ahead_ms >= (int64_t)waits[i] && ahead_ms <= (int64_t)waits[i] + 1000);
	}
}

static void test_rfc3339(void)
{
	char out[32];

	clock_format_rfc3339(0, out, sizeof(out));
	test_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
	clock_format_rfc3339(1795319360123ull, out, sizeof(out));
	test_assert_str_eq(out, "2026-11-22T03:49:20.123Z");
	clock_format_rfc3339(951782400007ull, out, 25);
	test_assert_str_eq(out, "2000-02-29T00:00:00.007Z");
}

static void test_http_date(void)
{
	char out[30];

	clock_format_http_date(0, out, sizeof(out));
	test_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	clock_format_http_date(1795319360, out, sizeof(out));
	test_assert_str_eq(out, "Sun, 22 Nov 2026 03:49:20 GMT");
	clock_format_http_date(784111777, out, sizeof(out));
	test_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	test_assert_int_eq(strlen(out), 29);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"monotonic clocks advance", test_monotonic},
	    {"deadlines", test_deadlines},
	    {"rfc3339", test_rfc3339},
	    {"http date", test_http_date},
	    {NULL, NULL},
	};

	return test_run(cases);
}
