/* SPDX-License-Identifier: MIT */
/* Two buffers: callers append to one under a short lock while the flusher writes the other.
   The flusher wakes every LOG_WRITER_FLUSH_MS, or early when half the buffer is used. */
#include "log-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "mem.h"

#define LOG_WRITER_FLUSH_MS 200

struct log_writer {
	pthread_mutex_t lock; /* fill, stop */
	pthread_cond_t wake;
	struct buf fill;  /* callers append here */
	struct buf drain; /* the flusher's, swapped with fill */
	bool stop;
	pthread_t thread;
	_Atomic uint64_t dropped;
	/* file mode: fd never changes number (reopen dup2()s onto it, as log.c does) */
	int fd;
	char *path;
	pthread_mutex_t reopen_lock;
	log_writer_sink_fn *sink;
	void *sink_ctx;
};

static const char *error_msg(const char *what, const char *path, int err)
{
	static __thread char msg[512];
	snprintf(msg, sizeof(msg), "%s(%s): %s", what, path, strerror(err));
	return msg;
}

static void write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk loses lines; there is nowhere to say so */
		off += (size_t)w;
	}
}

static void flush_batch(struct log_writer *w)
{
	if (w->drain.len == 0)
		return;
	if (w->sink != NULL)
		w->sink(w->drain.data, w->drain.len, w->sink_ctx);
	else
		write_all(w->fd, w->drain.data, w->drain.len);
	buf_reset(&w->drain);
}

static void *flusher(void *ctx)
{
	struct log_writer *w = ctx;
	bool stop;

	pthread_mutex_lock(&w->lock);
	do {
		if (w->fill.len < LOG_WRITER_BUFFER / 2 && !w->stop) {
			struct timespec until = clock_mono_deadline(LOG_WRITER_FLUSH_MS);
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
		}
		struct buf full = w->fill;
		w->fill = w->drain;
		w->drain = full;
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		flush_batch(w);
		pthread_mutex_lock(&w->lock);
	} while (!stop);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct log_writer *writer_start(int fd, const char *path, log_writer_sink_fn *sink,
                                       void *ctx)
{
	struct log_writer *w = mem_calloc(1, sizeof(*w));
	pthread_condattr_t attr;

	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->reopen_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	buf_init(&w->fill, LOG_WRITER_BUFFER);
	buf_init(&w->drain, LOG_WRITER_BUFFER);
	w->fd = fd;
	w->path = path == NULL ? NULL : mem_strdup(path);
	w->sink = sink;
	w->sink_ctx = ctx;
	if (pthread_create(&w->thread, NULL, flusher, w) != 0)
		abort(); /* no thread at startup: nothing sensible to go on with */
	return w;
}

static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int log_writer_open(const char *path, struct log_writer **writer_r, const char **error_r)
{
	int fd = open_file(path);
	if (fd < 0) {
		*error_r = error_msg("open", path, errno);
		return -1;
	}
	*writer_r = writer_start(fd, path, NULL, NULL);
	return 0;
}

struct log_writer *log_writer_open_sink(log_writer_sink_fn *sink, void *ctx)
{
	return writer_start(-1, NULL, sink, ctx);
}

void log_writer_write(struct log_writer *w, const char *line, size_t len)
{
	bool wake;

	pthread_mutex_lock(&w->lock);
	if (w->fill.len + len > LOG_WRITER_BUFFER) {
		pthread_mutex_unlock(&w->lock);
		atomic_fetch_add_explicit(&w->dropped, 1, memory_order_relaxed);
		return;
	}
	wake = w->fill.len < LOG_WRITER_BUFFER / 2 && w->fill.len + len >= LOG_WRITER_BUFFER / 2;
	buf_append(&w->fill, line, len);
	pthread_mutex_unlock(&w->lock);
	if (wake)
		pthread_cond_signal(&w->wake);
}

int log_writer_reopen(struct log_writer *w, const char **error_r)
{
	int ret = -1, fd;

	if (w->path == NULL)
		return 0;
	pthread_mutex_lock(&w->reopen_lock);
	fd = open_file(w->path);
	if (fd < 0) {
		*error_r = error_msg("open", w->path, errno);
		goto out;
	}
	if (dup2(fd, w->fd) < 0) {
		*error_r = error_msg("dup2", w->path, errno);
		close(fd);
		goto out;
	}
	close(fd);
	ret = 0;
out:
	pthread_mutex_unlock(&w->reopen_lock);
	return ret;
}

uint64_t log_writer_dropped(const struct log_writer *w)
{
	return atomic_load_explicit(&((struct log_writer *)w)->dropped, memory_order_relaxed);
}

void log_writer_close(struct log_writer **writer)
{
	struct log_writer *w = *writer;

	if (w == NULL)
		return;
	*writer = NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_mutex_unlock(&w->lock);
	pthread_cond_signal(&w->wake);
	pthread_join(w->thread, NULL);
	if (w->fd >= 0)
		close(w->fd);
	buf_free(&w->fill);
	buf_free(&w->drain);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->reopen_lock);
	mem_free(&w->path);
	mem_free(&w);
}
