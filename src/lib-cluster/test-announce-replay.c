/* SPDX-License-Identifier: MIT */
/* The receiver's time window and replay table: edges, senders, forgetting, the cap. */
#include <stdio.h>
#include <string.h>

#include "announce-replay.h"
#include "test.h"

#define NOW 1763780990456ull /* wall clock, ms */

static struct announce_msg msg(const char *route, uint64_t started, uint64_t seq, uint64_t time)
{
	struct announce_msg m;
	memset(&m, 0, sizeof(m));
	announce_field_set(m.route, sizeof(m.route), route);
	m.started_ms = started;
	m.seq = seq;
	m.time_ms = time;
	return m;
}

/* The check's result: 0, or the drop reason + 1. */
static int check(struct announce_replay *r, struct announce_msg m, uint64_t wall, uint64_t mono)
{
	enum announce_drop drop = ANNOUNCE_DROP_COUNT;
	const char *error = NULL;
	if (announce_replay_check(r, &m, wall, mono, &drop, &error) == 0)
		return 0;
	test_assert(error != NULL && error[0] != '\0');
	return (int)drop + 1;
}

#define OK     0
#define STALE  (ANNOUNCE_DROP_STALE + 1)
#define REPLAY (ANNOUNCE_DROP_REPLAY + 1)
#define FULL   (ANNOUNCE_DROP_SENDERS + 1)

static void test_sequence(void)
{
	struct announce_replay *r = announce_replay_create();

	test_assert_int_eq(check(r, msg("OX-1", 100, 5, NOW), NOW, 0), OK);
	/* the very same datagram again, and older ones of the run */
	test_assert_int_eq(check(r, msg("OX-1", 100, 5, NOW), NOW, 10), REPLAY);
	test_assert_int_eq(check(r, msg("OX-1", 100, 4, NOW), NOW, 10), REPLAY);
	test_assert_int_eq(check(r, msg("OX-1", 100, 0, NOW), NOW, 10), REPLAY);
	/* newer ones, gaps allowed (lost datagrams) */
	test_assert_int_eq(check(r, msg("OX-1", 100, 6, NOW), NOW, 20), OK);
	test_assert_int_eq(check(r, msg("OX-1", 100, 60, NOW), NOW, 30), OK);
	test_assert_int_eq(check(r, msg("OX-1", 100, 59, NOW), NOW, 30), REPLAY);
	/* another run of the node, and another node, each have their own numbers */
	test_assert_int_eq(check(r, msg("OX-1", 200, 1, NOW), NOW, 40), OK);
	test_assert_int_eq(check(r, msg("OX-2", 100, 1, NOW), NOW, 40), OK);
	test_assert_int_eq(check(r, msg("OX-1", 200, 1, NOW), NOW, 50), REPLAY);
	test_assert_int_eq(check(r, msg("OX-1", 100, 60, NOW), NOW, 50), REPLAY);
	test_assert_int_eq(announce_replay_count(r), 3);
	announce_replay_destroy(&r);
	test_assert(r == NULL);
	announce_replay_destroy(&r);
}

static void test_window(void)
{
	struct announce_replay *r = announce_replay_create();
	uint64_t seq = 1;

	/* the edges, either way */
	test_assert_int_eq(check(r, msg("A", 1, seq++, NOW - ANNOUNCE_WINDOW_MS), NOW, 0), OK);
	test_assert_int_eq(check(r, msg("A", 1, seq++, NOW + ANNOUNCE_WINDOW_MS), NOW, 0), OK);
	test_assert_int_eq(check(r, msg("A", 1, seq++, NOW - ANNOUNCE_WINDOW_MS - 1), NOW, 0),
	                   STALE);
	test_assert_int_eq(check(r, msg("A", 1, seq++, NOW + ANNOUNCE_WINDOW_MS + 1), NOW, 0),
	                   STALE);
	test_assert_int_eq(check(r, msg("A", 1, seq++, 0), NOW, 0), STALE);
	test_assert_int_eq(check(r, msg("A", 1, seq++, UINT64_MAX), NOW, 0), STALE);
	test_assert_int_eq(check(r, msg("A", 1, seq++, UINT64_MAX - 1000), NOW, 0), STALE);
	/* a stale datagram is not remembered: a lower sequence number still passes after it */
	test_assert_int_eq(check(r, msg("A", 1, 100, NOW - 60000), NOW, 0), STALE);
	test_assert_int_eq(check(r, msg("A", 1, 50, NOW), NOW, 0), OK);
	/* nor does a stale one create a sender */
	test_assert_int_eq(check(r, msg("B", 1, 1, NOW - 60000), NOW, 0), STALE);
	test_assert_int_eq(announce_replay_count(r), 1);
	/* a receiver whose clock is near 0 (unset) does not wrap around */
	test_assert_int_eq(check(r, msg("C", 1, 1, NOW), 1000, 0), STALE);
	test_assert_int_eq(check(r, msg("C", 1, 1, 100), 1000, 0), OK);
	announce_replay_destroy(&r);
}

/* A sender is forgotten only once everything it sent is outside the window. */
static void test_forgetting(void)
{
	struct announce_replay *r = announce_replay_create();
	struct announce_msg captured = msg("OX-1", 100, 7, NOW);

	test_assert_int_eq(check(r, captured, NOW, 1000), OK);
	/* replayed as long as its time is in the window: still remembered, refused */
	for (uint64_t later = 0; later <= ANNOUNCE_WINDOW_MS; later += 5000)
		test_assert_int_eq(check(r, captured, NOW + later, 1000 + later), REPLAY);
	/* a new sender after the keep time sweeps the old one out... */
	uint64_t mono = 1000 + ANNOUNCE_REPLAY_KEEP_MS;
	uint64_t wall = NOW + ANNOUNCE_REPLAY_KEEP_MS;
	test_assert_int_eq(check(r, msg("OX-2", 1, 1, wall), wall, mono - 1), OK);
	test_assert_int_eq(announce_replay_count(r), 2);
	test_assert_int_eq(check(r, msg("OX-3", 1, 1, wall), wall, mono), OK);
	test_assert_int_eq(announce_replay_count(r), 2);
	/* ...and by then the captured datagram is stale anyway */
	test_assert_int_eq(check(r, captured, wall, mono), STALE);
	announce_replay_destroy(&r);
}

static void test_cap(void)
{
	struct announce_replay *r = announce_replay_create();
	char route[32];

	for (unsigned i = 0; i < ANNOUNCE_SENDERS_MAX; i++) {
		snprintf(route, sizeof(route), "N-%u", i);
		test_assert_int_eq(check(r, msg(route, 1, 1, NOW), NOW, i), OK);
	}
	test_assert_int_eq(announce_replay_count(r), ANNOUNCE_SENDERS_MAX);
	test_assert_int_eq(check(r, msg("late", 1, 1, NOW), NOW, 5000), FULL);
	/* the senders already known carry on */
	test_assert_int_eq(check(r, msg("N-7", 1, 2, NOW), NOW, 5000), OK);
	test_assert_int_eq(check(r, msg("N-7", 1, 2, NOW), NOW, 5000), REPLAY);
	/* once the silent ones have been kept long enough there is room again */
	uint64_t mono = ANNOUNCE_SENDERS_MAX + ANNOUNCE_REPLAY_KEEP_MS;
	test_assert_int_eq(check(r, msg("late", 1, 1, NOW + 61000), NOW + 61000, mono), OK);
	test_assert_int_eq(announce_replay_count(r), 2); /* N-7 (seen at 5000) and late */
	announce_replay_destroy(&r);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"sequence", test_sequence},
	    {"window", test_window},
	    {"forgetting", test_forgetting},
	    {"cap", test_cap},
	    {NULL, NULL},
	};
	return test_run(cases);
}
