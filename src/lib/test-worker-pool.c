/* SPDX-License-Identifier: MIT */
/* Worker pool: every job runs once, in parallel, jobs are handed to idle workers, and destroy
   waits for queued jobs. */
#include <stdatomic.h>
#include <unistd.h>

#include "worker-pool.h"
#include "test.h"

static atomic_int done;
static atomic_int running, max_running;

static void job(void *ctx)
{
	int now = atomic_fetch_add(&running, 1) + 1;
	int prev = atomic_load(&max_running);
	while (now > prev && !atomic_compare_exchange_weak(&max_running, &prev, now))
		;
	usleep(2000);
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&done, *(int *)ctx);
}

static void test_runs_all_jobs(void)
{
	static int one = 1;
	struct worker_pool *pool = worker_pool_create(4, "t");
	atomic_store(&done, 0);
	for (int i = 0; i < 200; i++)
		test_assert_int_eq(worker_pool_submit(pool, job, &one), 0);
	worker_pool_destroy(&pool);
	test_assert(pool == NULL);
	test_assert_int_eq(atomic_load(&done), 200);
	test_assert(atomic_load(&max_running) > 1);
}

static atomic_int handed;

static void count_job(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&handed, 1);
}

/* Jobs submitted one at a time while the workers are idle (each handed to a sleeping worker),
   and a pool destroyed while all its workers sleep. */
static void test_idle_hand_off(void)
{
	struct worker_pool *pool = worker_pool_create(3, "t");
	for (int i = 1; i <= 100; i++) {
		test_assert_int_eq(worker_pool_submit(pool, count_job, NULL), 0);
		for (int spin = 0; atomic_load(&handed) < i && spin < 5000; spin++)
			usleep(1000);
		test_assert_int_eq(atomic_load(&handed), i);
		if (i % 10 == 0)
			usleep(2000); /* all of them asleep again */
	}
	for (int spin = 0; worker_pool_pending(pool) > 0 && spin < 5000; spin++)
		usleep(1000);
	test_assert_int_eq((int)worker_pool_pending(pool), 0);
	worker_pool_destroy(&pool);
	test_assert(pool == NULL);
	pool = worker_pool_create(2, "t");
	usleep(2000);
	worker_pool_destroy(&pool);
	test_assert(pool == NULL);
}

static atomic_int released, blocked_ok;

static void blocker(void *ctx)
{
	(void)ctx;
	for (int spin = 0; !atomic_load(&released) && spin < 5000; spin++)
		usleep(1000);
	if (atomic_load(&released))
		atomic_fetch_add(&blocked_ok, 1);
}

static void releaser(void *ctx)
{
	(void)ctx;
	atomic_store(&released, 1);
}

/* Only about one worker per core is woken for new jobs: when all of those block, the queued
   job that would unblock them still runs (the watchdog wakes another worker for it). */
static void test_blocked_workers_do_not_starve(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int blockers = cpus < 2 ? 2 : (int)cpus;
	struct worker_pool *pool = worker_pool_create((unsigned)blockers + 2, "t");
	usleep(5000); /* all idle */
	for (int i = 0; i < blockers; i++)
		test_assert_int_eq(worker_pool_submit(pool, blocker, NULL), 0);
	test_assert_int_eq(worker_pool_submit(pool, releaser, NULL), 0);
	/* before destroy, which would run the queue anyway; the blockers give up after 5 s */
	for (int spin = 0; atomic_load(&blocked_ok) < blockers && spin < 3000; spin++)
		usleep(1000);
	test_assert_int_eq(atomic_load(&blocked_ok), blockers);
	worker_pool_destroy(&pool);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"runs all jobs", test_runs_all_jobs},
	    {"idle hand-off", test_idle_hand_off},
	    {"blocked workers do not starve the queue", test_blocked_workers_do_not_starve},
	    {NULL, NULL},
	};
	return test_run(cases);
}
