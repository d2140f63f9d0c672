/* SPDX-License-Identifier: MIT */
/* Counts failures per key (an address, a user, both) in a fixed window, in a table of bounded
   size where two keys never share or reset each other's counter (docs/internals/sessions.md
   "Throttles"). */
#ifndef TANDEM_THROTTLE_H
#define TANDEM_THROTTLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct throttle;

/* Keys are any bytes; each is remembered for window_s seconds from its first failure (a
   failure after that starts a new window). At most capacity keys (1..2^24) are held, about
   48 bytes each, allocated here once. When the table is full, keys whose window has ended
   go first, else the one whose window ends soonest. */
struct throttle *throttle_create(unsigned window_s, unsigned capacity);
void throttle_destroy(struct throttle **t);

/* The failures of key in its current window (0: none, or the window ended); *ends_in_r (may
   be NULL) gets the seconds until that window ends, 0 with no failures. now: seconds on a
   clock that does not go back (clock_mono_ms() / 1000). Thread-safe. */
unsigned throttle_count(struct throttle *t, const void *key, size_t len, time_t now,
                        time_t *ends_in_r);
/* Counts one failure of key. Thread-safe. */
void throttle_fail(struct throttle *t, const void *key, size_t len, time_t now);

struct throttle_stats {
	unsigned keys; /* held now (some may have ended windows not yet dropped) */
	unsigned capacity;
	uint64_t evicted; /* keys dropped from a full table while their window ran */
};
void throttle_get_stats(struct throttle *t, struct throttle_stats *stats_r);

#endif
