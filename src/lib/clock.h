/* SPDX-License-Identifier: MIT */
/* Monotonic and wall clocks. */
#ifndef TANDEM_CLOCK_H
#define TANDEM_CLOCK_H

#include <stdint.h>
#include <time.h>

uint64_t clock_mono_ms(void); /* CLOCK_MONOTONIC, for timeouts and durations */
uint64_t clock_mono_us(void);
uint64_t clock_wall_ms(void); /* CLOCK_REALTIME, for logs and records */
/* CLOCK_REALTIME now + ms: the deadline pthread_cond_timedwait() wants. */
struct timespec clock_realtime_deadline(uint64_t ms);
/* The same on CLOCK_MONOTONIC, for a condition variable set to that clock. */
struct timespec clock_mono_deadline(uint64_t ms);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds, e.g. 2026-11-22T03:49:20.123Z.
   out must hold at least 25 bytes. */
void clock_format_rfc3339(uint64_t wall_ms, char *out, unsigned out_size);
/* Formats an IMF-fixdate for HTTP (Date:, Last-Modified:), e.g. "Sun, 22 Nov 2026 03:49:20 GMT".
   out must hold at least 30 bytes. */
void clock_format_http_date(int64_t unix_seconds, char *out, unsigned out_size);

#endif
