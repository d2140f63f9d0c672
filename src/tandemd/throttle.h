/* SPDX-License-Identifier: MIT */
/* Counts failures per key (a source address, a login) in a fixed window. */
#ifndef TANDEMD_THROTTLE_H
#define TANDEMD_THROTTLE_H

#include <time.h>

struct throttle;

/* At most limit failures per key within window_s seconds; slots bounds memory (a colliding
   key evicts the older one: throttling is best effort, never a lock-out of someone else). */
struct throttle *throttle_create(unsigned limit, unsigned window_s, unsigned slots);
void throttle_destroy(struct throttle **t);
/* 0 when key may try now, else the seconds until it may. Thread-safe. */
time_t throttle_check(struct throttle *t, const char *key, time_t now);
void throttle_fail(struct throttle *t, const char *key, time_t now);

#endif
