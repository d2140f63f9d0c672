/* SPDX-License-Identifier: MIT */
/* Fixed pool of threads running blocking jobs (request handlers that may wait on SQL). */
#ifndef TANDEM_WORKER_POOL_H
#define TANDEM_WORKER_POOL_H

#include <stddef.h>

struct worker_pool;
typedef void worker_job_fn(void *ctx);

struct worker_pool *worker_pool_create(unsigned threads, const char *name);
/* Queues fn(ctx); runs on some worker thread. Thread-safe. Returns -1 when the pool is
   shutting down (the job is not run). */
int worker_pool_submit(struct worker_pool *pool, worker_job_fn *fn, void *ctx);
/* Jobs queued or running. */
size_t worker_pool_pending(struct worker_pool *pool);
/* Stops taking jobs, finishes the queued ones, joins threads, frees, sets *pool = NULL. */
void worker_pool_destroy(struct worker_pool **pool);

#endif
