/* SPDX-License-Identifier: MIT */
/* Worker threads taking jobs from one mutex-protected FIFO. An idle worker sleeps on a
   semaphore of its own, on a stack of idle workers: a job submitted while one is idle is
   handed to the one that went idle last (its cache is warm) and wakes only it, which then runs
   it without taking the lock again. (A condition variable woke a thread that first had to win
   the mutex back from the submitter and the other workers.) Only about one worker per core is
   woken for new jobs; more jobs queue, and the awake workers take them one after the other
   without sleeping in between: a wake-up and a context switch per job were most of a small
   request's CPU (docs/internals/dav.md "Performance"). A job may block (SQL, fsync): an awake
   worker whose job has run for STALL_NS does not count against the cap when a job comes, and
   a watchdog hands a job that has waited a tick (WATCH_TICK_MS) to a sleeping worker anyway,
   and so on each tick while the queue stays stale. */
#include "worker-pool.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include <stdlib.h>

#define WATCH_TICK_MS 1
/* A worker whose job has run this long is taken for blocked (fsync, a lock, the network): it
   does not count against cap, so a new job wakes a sleeping worker at once instead of waiting
   for the watchdog's tick. A small request's job is done in tens of microseconds. */
#define STALL_NS (200 * 1000)
/* ticks with an empty queue before the watchdog sleeps until a job is queued again */
#define WATCH_QUIET_TICKS 100

struct job {
	worker_job_fn *fn;
	void *ctx;
	uint64_t seq;
	struct job *next;
};

struct worker {
	struct worker_pool *pool;
	pthread_t thread;
	sem_t wake;
	/* set by whoever pops this worker off the idle stack, before its sem_post: the job to
	   run, or fn NULL to exit */
	worker_job_fn *fn;
	void *ctx;
	struct worker *next_idle;
	_Atomic int64_t job_start_ns; /* CLOCK_MONOTONIC when its job began; 0 between jobs */
};

struct worker_pool {
	pthread_mutex_t lock;
	/* queued jobs: while no worker is idle, or cap are awake */
	struct job *head, *tail;
	struct worker *idle; /* the last to go idle first */
	unsigned awake;      /* workers not on the idle stack */
	unsigned cap;        /* new jobs wake a worker only while fewer are awake */
	uint64_t job_seq;
	size_t pending; /* queued or running */
	pthread_t watch_thread;
	pthread_cond_t watch_cond; /* CLOCK_MONOTONIC */
	bool watch_sleeping;       /* until a job is queued */
	bool stopping;
	unsigned thread_count;
	struct worker *workers;
};

static void *watch_main(void *arg);

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* With the lock held: the awake workers less those that seem blocked in a job (STALL_NS). */
static unsigned running_unblocked(struct worker_pool *pool)
{
	if (pool->awake < pool->cap)
		return pool->awake;
	unsigned stalled = 0;
	int64_t now = now_ns();
	for (unsigned i = 0; i < pool->thread_count; i++) {
		int64_t start =
		    atomic_load_explicit(&pool->workers[i].job_start_ns, memory_order_relaxed);
		if (start != 0 && now - start > STALL_NS)
			stalled++;
	}
	return pool->awake - (stalled < pool->awake ? stalled : pool->awake);
}

static void worker_sleep(struct worker *w)
{
	while (sem_wait(&w->wake) < 0) {
		if (errno != EINTR) {
			log_error("worker", "sem_wait: %m");
			abort();
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_pool *pool = w->pool;
	worker_job_fn *fn = NULL;
	void *ctx = NULL;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		if (fn != NULL) {
			pool->pending--;
			fn = NULL;
		}
		struct job *job = pool->head;
		if (job != NULL) {
			pool->head = job->next;
			if (pool->head == NULL)
				pool->tail = NULL;
			fn = job->fn;
			ctx = job->ctx;
			pthread_mutex_unlock(&pool->lock);
			mem_free(&job);
		} else if (pool->stopping) {
			break; /* stopping and drained */
		} else {
			w->next_idle = pool->idle;
			pool->idle = w;
			pool->awake--;
			pthread_mutex_unlock(&pool->lock);
			worker_sleep(w);
			fn = w->fn;
			ctx = w->ctx;
			if (fn == NULL) {
				/* destroy: run what is queued (capped, it may be), then exit */
				pthread_mutex_lock(&pool->lock);
				continue;
			}
		}
		atomic_store_explicit(&w->job_start_ns, now_ns(), memory_order_relaxed);
		fn(ctx);
		atomic_store_explicit(&w->job_start_ns, 0, memory_order_relaxed);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct worker_pool *worker_pool_create(unsigned threads, const char *name)
{
	struct worker_pool *pool = mem_calloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->watch_cond, &attr);
	pthread_condattr_destroy(&attr);
	pool->thread_count = threads == 0 ? 1 : threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pool->cap = cpus < 2 ? 2 : (unsigned)cpus;
	pool->awake = pool->thread_count; /* until each goes idle */
	pool->workers = mem_calloc(pool->thread_count, sizeof(*pool->workers));
	for (unsigned i = 0; i < pool->thread_count; i++) {
		struct worker *w = &pool->workers[i];
		w->pool = pool;
		sem_init(&w->wake, 0, 0);
		int err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err != 0) {
			log_error("worker", "pthread_create: error %d", err);
			abort();
		}
		char tname[32];
		snprintf(tname, sizeof(tname), "%s-%u", name, i);
		tname[15] = '\0'; /* the kernel's limit */
		pthread_setname_np(w->thread, tname);
	}
	int err = pthread_create(&pool->watch_thread, NULL, watch_main, pool);
	if (err != 0) {
		log_error("worker", "pthread_create: error %d", err);
		abort();
	}
	char tname[32];
	snprintf(tname, sizeof(tname), "%s-watch", name);
	tname[15] = '\0';
	pthread_setname_np(pool->watch_thread, tname);
	return pool;
}

/* With the lock held: pops the worker that went idle last and unlocks; it runs fn(ctx). */
static void wake_idle(struct worker_pool *pool, worker_job_fn *fn, void *ctx)
{
	struct worker *w = pool->idle;
	pool->idle = w->next_idle;
	pool->awake++;
	w->fn = fn;
	w->ctx = ctx;
	pthread_mutex_unlock(&pool->lock);
	sem_post(&w->wake); /* outside the lock: it runs at once */
}

/* With the lock held: gives fn(ctx) to an idle worker if fewer than cap are awake, and
   unlocks; false (still locked) otherwise. */
static bool hand_off(struct worker_pool *pool, worker_job_fn *fn, void *ctx)
{
	if (pool->idle == NULL || running_unblocked(pool) >= pool->cap)
		return false;
	pool->pending++;
	wake_idle(pool, fn, ctx);
	return true;
}

/* Wakes a sleeping worker for the queue's first job when that has waited a whole tick (every
   awake worker may be blocked), one more each tick while it stays so. */
static void *watch_main(void *arg)
{
	struct worker_pool *pool = arg;
	uint64_t seen = 0; /* the first job's seq at the last tick */
	unsigned quiet = 0;
	pthread_mutex_lock(&pool->lock);
	while (!pool->stopping) {
		struct job *job = pool->head;
		if (job != NULL && job->seq == seen && pool->idle != NULL) {
			pool->head = job->next;
			if (pool->head == NULL)
				pool->tail = NULL;
			wake_idle(pool, job->fn, job->ctx); /* counted in pending when queued */
			mem_free(&job);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		seen = job != NULL ? job->seq : 0;
		quiet = job != NULL ? 0 : quiet + 1;
		if (quiet >= WATCH_QUIET_TICKS) {
			pool->watch_sleeping = true;
			pthread_cond_wait(&pool->watch_cond, &pool->lock);
			pool->watch_sleeping = false;
			quiet = 0;
			continue;
		}
		struct timespec until = clock_mono_deadline(WATCH_TICK_MS);
		pthread_cond_timedwait(&pool->watch_cond, &pool->lock, &until);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int worker_pool_submit(struct worker_pool *pool, worker_job_fn *fn, void *ctx)
{
	struct job *job = NULL;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		if (pool->stopping) {
			pthread_mutex_unlock(&pool->lock);
			mem_free(&job);
			return -1;
		}
		if (hand_off(pool, fn, ctx)) {
			mem_free(&job);
			break;
		}
		if (job != NULL) {
			/* every worker is busy: each takes the next queued job before it idles */
			job->seq = ++pool->job_seq;
			if (pool->tail != NULL)
				pool->tail->next = job;
			else
				pool->head = job;
			pool->tail = job;
			pool->pending++;
			bool watch = pool->watch_sleeping;
			pthread_mutex_unlock(&pool->lock);
			if (watch)
				pthread_cond_signal(&pool->watch_cond);
			break;
		}
		/* not allocated under the lock; a worker may go idle meanwhile: look again */
		pthread_mutex_unlock(&pool->lock);
		job = mem_alloc(sizeof(*job));
		job->fn = fn;
		job->ctx = ctx;
		job->next = NULL;
		pthread_mutex_lock(&pool->lock);
	}
	return 0;
}

size_t worker_pool_pending(struct worker_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	size_t n = pool->pending;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

void worker_pool_destroy(struct worker_pool **poolp)
{
	struct worker_pool *pool = *poolp;
	if (pool == NULL)
		return;
	/* every worker drains the queue, then sees stopping and exits */
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	struct worker *idle = pool->idle;
	pool->idle = NULL;
	pthread_mutex_unlock(&pool->lock);
	pthread_cond_signal(&pool->watch_cond);
	pthread_join(pool->watch_thread, NULL);
	while (idle != NULL) {
		struct worker *next = idle->next_idle;
		idle->fn = NULL;
		sem_post(&idle->wake);
		idle = next;
	}
	for (unsigned i = 0; i < pool->thread_count; i++) {
		pthread_join(pool->workers[i].thread, NULL);
		sem_destroy(&pool->workers[i].wake);
	}
	mem_free(&pool->workers);
	pthread_cond_destroy(&pool->watch_cond);
	pthread_mutex_destroy(&pool->lock);
	mem_free(poolp);
}
