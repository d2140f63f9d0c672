/* SPDX-License-Identifier: MIT */
/* One epoll event loop per thread: fd watches, one-shot timers, cross-thread wakeups. */
#ifndef TANDEM_IOLOOP_H
#define TANDEM_IOLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct ioloop;
struct io;
struct timer;

enum io_events {
	IO_READ = 0x1,
	IO_WRITE = 0x2,
	IO_ERROR = 0x4, /* delivered, never requested: EPOLLERR / EPOLLHUP */
};

typedef void io_callback_fn(void *ctx, unsigned events);
typedef void timer_callback_fn(void *ctx);
typedef void ioloop_post_fn(void *ctx);

/* Not thread-safe except ioloop_post() and ioloop_stop(): a loop belongs to the thread that
   runs it. */
struct ioloop *ioloop_create(void);
void ioloop_destroy(struct ioloop **loop);
/* Runs until ioloop_stop(); returns 0, or -1 when epoll itself fails. */
int ioloop_run(struct ioloop *loop);
/* Thread-safe: makes ioloop_run return after the current iteration. */
void ioloop_stop(struct ioloop *loop);
/* Thread-safe: runs fn(ctx) on the loop's thread soon (FIFO). */
void ioloop_post(struct ioloop *loop, ioloop_post_fn *fn, void *ctx);

/* Watches fd (edge-triggered) for events. The fd stays owned by the caller; remove the io
   before closing it. */
struct io *io_add(struct ioloop *loop, int fd, unsigned events, io_callback_fn *cb, void *ctx);
void io_set_events(struct io *io, unsigned events);
void io_remove(struct io **io);

/* Calls cb(ctx) once after ms milliseconds. Timers may be removed from inside callbacks. */
struct timer *timer_add(struct ioloop *loop, uint64_t ms, timer_callback_fn *cb, void *ctx);
void timer_remove(struct timer **timer);

/* Monotonic ms cached at the start of this loop iteration (cheap; for timeouts). */
uint64_t ioloop_now_ms(const struct ioloop *loop);

#endif
