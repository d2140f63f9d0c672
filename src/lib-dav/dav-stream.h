/* SPDX-License-Identifier: MIT */
/* Streams a long WebDAV answer (a multistatus over a large folder) to the client while it is
   produced, in bounded memory and without holding a worker while the client reads slowly. */
#ifndef TANDEM_DAV_STREAM_H
#define TANDEM_DAV_STREAM_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct http_request;
struct worker_pool;

enum dav_fill_result {
	DAV_FILL_MORE,  /* call again when the client has taken what is queued */
	DAV_FILL_DONE,  /* what was appended is the end of the body */
	DAV_FILL_ERROR, /* cannot go on: the connection is cut so the client sees a truncated
	                   answer, never a complete-looking wrong one (the status is sent) */
};

/* Runs on a worker thread, one call at a time: appends the next piece of the body to out
   (e.g. one page of responses, a few KiB; a piece may be large, memory is bounded by
   high_water plus one piece). Resumable: keep a cursor in ctx. */
typedef enum dav_fill_result dav_fill_fn(void *ctx, struct buf *out);
/* Runs once on a worker thread when fill will not be called again: it returned DONE or
   ERROR (completed = DONE), or the client went away. Releases ctx. */
typedef void dav_stream_finish_fn(void *ctx, bool completed);

struct dav_stream_settings {
	size_t high_water; /* bytes queued before fill stops being called; 0 = 64 KiB */
	/* Optional, for tests and metrics: set once the stream is over (before finish) to the
	   most bytes ever queued. */
	size_t *peak_queued_r;
};

/* Sends req's response with the status and headers the caller set (e.g. 207 and
   Content-Type: application/xml; charset=utf-8) and a body that fill produces on workers
   whenever the queue runs below half of high_water: chunked for HTTP/1.1. Call it from the
   thread that owns req (loop or worker) instead of http_response_send(); req must not be
   used afterwards. For a HEAD request fill is never called, only finish. When the worker
   pool refuses a job (it is shutting down) the connection is cut and finish runs on the
   thread that found out. */
void dav_stream_start(struct http_request *req, struct worker_pool *workers,
                      const struct dav_stream_settings *settings, dav_fill_fn *fill,
                      dav_stream_finish_fn *finish, void *ctx);

#endif
