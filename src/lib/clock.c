/* SPDX-License-Identifier: MIT */
/* Monotonic and wall clocks and the two timestamp formats the server emits. */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

uint64_t clock_mono_us(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000u;
}

uint64_t clock_wall_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000u;
}

void clock_format_rfc3339(uint64_t wall_ms, char *out, unsigned out_size)
{
	/* Log and access lines call this for every line: the seconds part is formatted once
	   per second per thread, the milliseconds by hand. */
	static __thread time_t cached_secs = -1;
	static __thread char cached[64]; /* "YYYY-MM-DDTHH:MM:SS" (room for any int) */
	time_t secs = (time_t)(wall_ms / 1000);
	unsigned ms = (unsigned)(wall_ms % 1000);

	if (secs != cached_secs) {
		struct tm tm;
		gmtime_r(&secs, &tm);
		snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		cached_secs = secs;
	}
	size_t n = strlen(cached);
	if (out_size < n + 6) {
		snprintf(out, out_size, "%s.%03uZ", cached, ms);
		return;
	}
	memcpy(out, cached, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	out[n + 4] = 'Z';
	out[n + 5] = '\0';
}

void clock_format_http_date(int64_t unix_seconds, char *out, unsigned out_size)
{
	/* Spelled out rather than strftime() because HTTP dates must ignore the locale. */
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t secs = (time_t)unix_seconds;
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, out_size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static struct timespec deadline(clockid_t clock, uint64_t ms)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (ms % 1000) * 1000000;
	ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	return ts;
}

struct timespec clock_realtime_deadline(uint64_t ms)
{
	return deadline(CLOCK_REALTIME, ms);
}

struct timespec clock_mono_deadline(uint64_t ms)
{
	return deadline(CLOCK_MONOTONIC, ms);
}
