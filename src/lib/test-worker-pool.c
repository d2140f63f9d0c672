/* SPDX-License-Identifier: MIT */
/* Worker pool: every job runs once, in parallel, and destroy waits for queued jobs. */
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

int main(void)
{
	static const struct test_case cases[] = {
	    {"runs all jobs", test_runs_all_jobs},
	    {NULL, NULL},
	};
	return test_run(cases);
}
