/* SPDX-License-Identifier: MIT */
/* A bounded queue between fill jobs on workers and the connection's body producer on its
   loop thread (docs/internals/dav.md "Streaming"). */
#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "buf.h"
#include "dav-stream.h"
#include "http-server.h"
#include "ioloop.h"
#include "mem.h"
#include "worker-pool.h"

#define DEFAULT_HIGH_WATER (64 * 1024)
/* A single piece larger than this fails the stream (a fill bug, not a client's doing). */
#define PIECE_MAX (64 * 1024 * 1024)

struct dav_stream {
	pthread_mutex_t lock;
	unsigned refs; /* the loop side, each queued job or posted resume */
	struct buf queue;
	size_t high_water, peak;
	size_t *peak_queued_r;

	struct ioloop *loop;
	struct worker_pool *workers;
	dav_fill_fn *fill;
	dav_stream_finish_fn *finish;
	void *ctx;

	/* loop thread only: NULL once the connection let go of the request */
	struct http_request *req;

	bool filling;  /* a fill job is queued or running */
	bool done;     /* fill will not be called again */
	bool failed;   /* ... because it returned ERROR */
	bool aborted;  /* the client went away */
	bool waiting;  /* the producer found the queue empty: resume it when bytes come */
	bool finished; /* finish was called (or is about to be) */
};

static void stream_unref(struct dav_stream *s)
{
	pthread_mutex_lock(&s->lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&s->lock);
	buf_free(&s->queue);
	mem_free(&s);
}

/* Under the lock: whether the caller is the one to call finish now. */
static bool take_finish(struct dav_stream *s)
{
	if (s->finished || s->filling || !(s->done || s->aborted))
		return false;
	s->finished = true;
	if (s->peak_queued_r != NULL)
		*s->peak_queued_r = s->peak;
	return true;
}

static void finish_job(void *ctx)
{
	struct dav_stream *s = ctx;
	s->finish(s->ctx, false);
	stream_unref(s);
}

static void resume_posted(void *ctx)
{
	struct dav_stream *s = ctx;
	/* req is the loop thread's; http_response_resume may run the producer, which locks */
	if (s->req != NULL)
		http_response_resume(s->req);
	stream_unref(s);
}

static void fill_job(void *ctx)
{
	struct dav_stream *s = ctx;
	struct buf piece;
	buf_init(&piece, PIECE_MAX);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		bool aborted = s->aborted;
		pthread_mutex_unlock(&s->lock);
		enum dav_fill_result r = DAV_FILL_ERROR;
		buf_reset(&piece);
		if (!aborted)
			r = s->fill(s->ctx, &piece);
		if (buf_overflowed(&piece))
			r = DAV_FILL_ERROR;

		pthread_mutex_lock(&s->lock);
		if (!s->aborted && r != DAV_FILL_ERROR) {
			buf_append(&s->queue, piece.data, piece.len);
			if (s->queue.len > s->peak)
				s->peak = s->queue.len;
			if (buf_overflowed(&s->queue))
				r = DAV_FILL_ERROR;
		}
		if (r != DAV_FILL_MORE) {
			s->done = true;
			s->failed = r == DAV_FILL_ERROR;
		}
		bool post = s->waiting && (s->queue.len > 0 || s->done) && !s->aborted;
		if (post) {
			s->waiting = false;
			s->refs++;
		}
		bool stop = s->done || s->aborted || s->queue.len >= s->high_water;
		bool finish = false, completed = r == DAV_FILL_DONE && !s->aborted;
		if (stop) {
			s->filling = false;
			finish = take_finish(s);
		}
		pthread_mutex_unlock(&s->lock);

		if (post)
			ioloop_post(s->loop, resume_posted, s);
		if (finish)
			s->finish(s->ctx, completed);
		if (stop)
			break;
	}
	buf_free(&piece);
	stream_unref(s);
}

/* Under the lock: queue a fill job when the queue runs low. */
static bool want_fill(struct dav_stream *s)
{
	if (s->filling || s->done || s->aborted || s->queue.len >= s->high_water / 2)
		return false;
	s->filling = true;
	s->refs++;
	return true;
}

/* Queues a fill job; when the pool refuses it (shutting down) the stream fails and finish
   runs here. False then. */
static bool submit_fill(struct dav_stream *s)
{
	if (worker_pool_submit(s->workers, fill_job, s) == 0)
		return true;
	pthread_mutex_lock(&s->lock);
	s->filling = false;
	s->done = s->failed = true;
	bool finish = take_finish(s);
	pthread_mutex_unlock(&s->lock);
	if (finish)
		s->finish(s->ctx, false);
	stream_unref(s);
	return false;
}

static ssize_t produce(void *ctx, char *data, size_t size)
{
	struct dav_stream *s = ctx;
	ssize_t ret;
	pthread_mutex_lock(&s->lock);
	size_t n = s->queue.len < size ? s->queue.len : size;
	memcpy(data, s->queue.data, n);
	buf_consume(&s->queue, n);
	if (n > 0) {
		ret = (ssize_t)n;
	} else if (s->done) {
		/* 0 ends the body and the request; -1 cuts the connection, whose abort handler
		   then releases the loop side */
		ret = s->failed ? -1 : 0;
	} else {
		s->waiting = true;
		ret = HTTP_PRODUCER_AGAIN;
	}
	bool fill = want_fill(s);
	pthread_mutex_unlock(&s->lock);
	if (fill && !submit_fill(s) && ret == HTTP_PRODUCER_AGAIN)
		ret = -1; /* nothing will resume us: cut the connection */
	if (ret == 0) {
		s->req = NULL;
		stream_unref(s);
	}
	return ret;
}

static void on_abort(void *ctx)
{
	struct dav_stream *s = ctx;
	s->req = NULL;
	pthread_mutex_lock(&s->lock);
	s->aborted = true;
	bool finish = take_finish(s);
	if (finish)
		s->refs++;
	pthread_mutex_unlock(&s->lock);
	/* finish may block (it returns SQL connections): never on the loop thread */
	if (finish && worker_pool_submit(s->workers, finish_job, s) < 0)
		finish_job(s);
	stream_unref(s);
}

void dav_stream_start(struct http_request *req, struct worker_pool *workers,
                      const struct dav_stream_settings *settings, dav_fill_fn *fill,
                      dav_stream_finish_fn *finish, void *ctx)
{
	struct dav_stream *s = mem_calloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->high_water = settings != NULL && settings->high_water != 0 ? settings->high_water
	                                                              : DEFAULT_HIGH_WATER;
	s->peak_queued_r = settings != NULL ? settings->peak_queued_r : NULL;
	buf_init(&s->queue, PIECE_MAX);
	s->loop = http_request_loop(req);
	s->workers = workers;
	s->fill = fill;
	s->finish = finish;
	s->ctx = ctx;
	s->req = req;
	/* HEAD: lib-http never calls the producer but the abort handler, which calls finish */
	bool body = !strv_eq_cstr(http_request_head(req)->method, "HEAD");
	s->refs = body ? 2 : 1; /* the loop side and the first fill job */
	s->filling = body;

	http_response_stream(req, produce, s);
	http_request_set_abort_handler(req, on_abort, s);
	http_response_send(req);
	if (body)
		submit_fill(s);
}
