/* SPDX-License-Identifier: MIT */
/* Worker threads taking jobs from one mutex-protected FIFO. An idle worker sleeps on a
   semaphore of its own, on a stack of idle workers: a job submitted while one is idle is
   handed to the one that went idle last (its cache is warm) and wakes only it, which then runs
   it without taking the lock again. (A condition variable woke a thread that first had to win
   the mutex back from the submitter and the other workers: most of a small request's CPU went
   to those futex round trips; docs/internals/dav.md "Performance".) */
#include "worker-pool.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>

#include "log.h"
#include "mem.h"
#include <stdlib.h>

struct job {
	worker_job_fn *fn;
	void *ctx;
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
};

struct worker_pool {
	pthread_mutex_t lock;
	/* queued jobs: only while no worker is idle */
	struct job *head, *tail;
	struct worker *idle; /* the last to go idle first */
	size_t pending;      /* queued or running */
	bool stopping;
	unsigned thread_count;
	struct worker *workers;
};

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
			pthread_mutex_unlock(&pool->lock);
			worker_sleep(w);
			fn = w->fn;
			ctx = w->ctx;
			if (fn == NULL)
				return NULL; /* woken to exit */
		}
		fn(ctx);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct worker_pool *worker_pool_create(unsigned threads, const char *name)
{
	struct worker_pool *pool = mem_calloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pool->thread_count = threads == 0 ? 1 : threads;
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
	return pool;
}

/* With the lock held: gives fn(ctx) to the worker that went idle last and unlocks; false
   (still locked) when none is idle. */
static bool hand_off(struct worker_pool *pool, worker_job_fn *fn, void *ctx)
{
	struct worker *w = pool->idle;
	if (w == NULL)
		return false;
	pool->idle = w->next_idle;
	w->fn = fn;
	w->ctx = ctx;
	pool->pending++;
	pthread_mutex_unlock(&pool->lock);
	sem_post(&w->wake); /* outside the lock: it runs at once */
	return true;
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
			if (pool->tail != NULL)
				pool->tail->next = job;
			else
				pool->head = job;
			pool->tail = job;
			pool->pending++;
			pthread_mutex_unlock(&pool->lock);
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
	/* idle workers are woken to exit; busy ones drain the queue, then see stopping */
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	struct worker *idle = pool->idle;
	pool->idle = NULL;
	pthread_mutex_unlock(&pool->lock);
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
	pthread_mutex_destroy(&pool->lock);
	mem_free(poolp);
}
