/* SPDX-License-Identifier: MIT */
/* Worker threads taking jobs from one mutex-protected FIFO. */
#include "worker-pool.h"

#include <pthread.h>
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

struct worker_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t pending;
	bool stopping;
	unsigned thread_count;
	pthread_t *threads;
};

static void *worker_main(void *arg)
{
	struct worker_pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		struct job *job = pool->head;
		if (job == NULL)
			break; /* stopping and drained */
		pool->head = job->next;
		if (pool->head == NULL)
			pool->tail = NULL;
		pthread_mutex_unlock(&pool->lock);

		job->fn(job->ctx);
		mem_free(&job);

		pthread_mutex_lock(&pool->lock);
		pool->pending--;
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct worker_pool *worker_pool_create(unsigned threads, const char *name)
{
	struct worker_pool *pool = mem_calloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->thread_count = threads == 0 ? 1 : threads;
	pool->threads = mem_calloc(pool->thread_count, sizeof(pthread_t));
	for (unsigned i = 0; i < pool->thread_count; i++) {
		int err = pthread_create(&pool->threads[i], NULL, worker_main, pool);
		if (err != 0) {
			log_error("worker", "pthread_create: error %d", err);
			abort();
		}
		char tname[32];
		snprintf(tname, sizeof(tname), "%s-%u", name, i);
		tname[15] = '\0'; /* the kernel's limit */
		pthread_setname_np(pool->threads[i], tname);
	}
	return pool;
}

int worker_pool_submit(struct worker_pool *pool, worker_job_fn *fn, void *ctx)
{
	struct job *job = mem_alloc(sizeof(*job));
	job->fn = fn;
	job->ctx = ctx;
	job->next = NULL;

	pthread_mutex_lock(&pool->lock);
	if (pool->stopping) {
		pthread_mutex_unlock(&pool->lock);
		mem_free(&job);
		return -1;
	}
	if (pool->tail != NULL)
		pool->tail->next = job;
	else
		pool->head = job;
	pool->tail = job;
	pool->pending++;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
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
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);
	mem_free(&pool->threads);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	mem_free(poolp);
}
