/* SPDX-License-Identifier: MIT */
/* A counting semaphore with a bounded wait and a bounded queue: at most `slots` callers
   inside at once, at most `max_waiting` more waiting for a turn, nobody waiting longer than
   they asked to. For work that costs much memory or CPU per caller (password hashing). */
#ifndef TANDEM_GATE_H
#define TANDEM_GATE_H

#include <stdbool.h>
#include <stdint.h>

struct gate;

struct gate_stats {
	unsigned slots, inside, waiting;
	uint64_t entered;     /* callers let in, ever */
	uint64_t timeouts;    /* callers who waited timeout_ms in vain */
	uint64_t turned_away; /* callers refused at once: max_waiting were waiting already */
};

/* slots >= 1. */
struct gate *gate_create(unsigned slots, unsigned max_waiting);
/* No caller may be inside or waiting. */
void gate_destroy(struct gate **gate);
/* true with a slot taken (give it back with gate_leave()); false when no slot came free
   within timeout_ms, or max_waiting callers were waiting already. Thread-safe. */
bool gate_enter(struct gate *gate, uint64_t timeout_ms);
void gate_leave(struct gate *gate);
void gate_get_stats(struct gate *gate, struct gate_stats *stats_r);

#endif
