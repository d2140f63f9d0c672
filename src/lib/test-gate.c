/* SPDX-License-Identifier: MIT */
/* Unit tests for the counting gate. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "clock.h"
#include "gate.h"
#include "test.h"

static void test_slots_and_timeout(void)
{
	struct gate *g = gate_create(2, 4);
	struct gate_stats st;
	test_assert(gate_enter(g, 0));
	test_assert(gate_enter(g, 0));
	uint64_t start = clock_mono_ms();
	test_assert(!gate_enter(g, 100));
	uint64_t waited = clock_mono_ms() - start;
	test_assert(waited >= 100 && waited < 5000);
	gate_leave(g);
	test_assert(gate_enter(g, 0));
	gate_get_stats(g, &st);
	test_assert(st.slots == 2 && st.inside == 2 && st.waiting == 0);
	test_assert(st.entered == 3 && st.timeouts == 1 && st.turned_away == 0);
	gate_leave(g);
	gate_leave(g);
	gate_destroy(&g);
	test_assert(g == NULL);
}

static struct gate *shared;
static atomic_int inside, most_inside, refused;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		if (!gate_enter(shared, 10000)) {
			atomic_fetch_add(&refused, 1);
			continue;
		}
		int now = atomic_fetch_add(&inside, 1) + 1;
		int seen = atomic_load(&most_inside);
		while (now > seen && !atomic_compare_exchange_weak(&most_inside, &seen, now))
			;
		usleep(200);
		atomic_fetch_sub(&inside, 1);
		gate_leave(shared);
	}
	return NULL;
}

/* 8 threads through 2 slots, all waiting long enough: never more than 2 inside. */
static void test_bound_holds(void)
{
	pthread_t th[8];
	shared = gate_create(2, 8);
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	test_assert(atomic_load(&most_inside) <= 2 && atomic_load(&most_inside) >= 1);
	test_assert_int_eq(atomic_load(&refused), 0);
	struct gate_stats st;
	gate_get_stats(shared, &st);
	test_assert(st.entered == 160 && st.inside == 0 && st.waiting == 0);
	gate_destroy(&shared);
}

static void *waiter(void *arg)
{
	return (void *)(intptr_t)gate_enter(arg, 10000);
}

/* The queue is bounded: past max_waiting a caller is turned away at once. */
static void test_queue_bound(void)
{
	struct gate *g = gate_create(1, 1);
	struct gate_stats st;
	pthread_t th;
	test_assert(gate_enter(g, 0));
	pthread_create(&th, NULL, waiter, g);
	uint64_t deadline = clock_mono_ms() + 10000;
	do {
		gate_get_stats(g, &st);
	} while (st.waiting == 0 && clock_mono_ms() < deadline);
	test_assert(st.waiting == 1);
	uint64_t start = clock_mono_ms();
	test_assert(!gate_enter(g, 5000));
	test_assert(clock_mono_ms() - start < 2500);
	gate_leave(g); /* the waiter gets in */
	void *got;
	pthread_join(th, &got);
	test_assert(got == (void *)1);
	gate_leave(g);
	gate_get_stats(g, &st);
	test_assert(st.turned_away == 1 && st.entered == 2 && st.inside == 0);
	gate_destroy(&g);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"slots and timeout", test_slots_and_timeout},
	    {"bound holds", test_bound_holds},
	    {"queue bound", test_queue_bound},
	    {NULL, NULL},
	};
	return test_run(cases);
}
