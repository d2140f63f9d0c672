/* SPDX-License-Identifier: MIT */
/* One event loop per thread: fd watches (epoll), one-shot timers, cross-thread wakeups, and
   an io_uring for socket I/O issued as operations (see docs/decisions/0006-io-uring.md). */
#ifndef TANDEM_IOLOOP_H
#define TANDEM_IOLOOP_H

#include <stdbool.h>
#include <stddef.h>
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

/* ---- io_uring operations
   While ioloop_run() runs, the loop may also own an io_uring (Linux >= 6.1, created on the
   running thread, single issuer, deferred task work; not when TANDEM_IOLOOP=epoll is set or
   the kernel refuses). The loop then waits in io_uring_enter(), which also submits what was
   queued since the last wait and watches the epoll set: one system call per loop iteration
   for any number of operations. Without a ring, callers fall back to plain system calls and
   io watches. */
struct io_uring_sqe;
struct ring_op;
/* res: the CQE's result (-errno on failure); flags: the CQE's flags. */
typedef void ring_done_fn(struct ring_op *op, int res, unsigned flags);
struct ring_op {
	ring_done_fn *done;
};
/* The struct of type `type` that embeds op as its member `member`. */
#define RING_OP_OWNER(op, type, member) ((type *)(void *)((char *)(op)-offsetof(type, member)))

/* True while the loop runs with a ring. */
bool ioloop_ring(const struct ioloop *loop);
/* A submission entry whose completion calls op->done on the loop thread; op = NULL for a
   fire-and-forget entry (e.g. a cancel). Fill it with an io_uring_prep_*() call, which keeps
   the tag. It is submitted when the loop next waits. Only while ioloop_ring() is true. */
struct io_uring_sqe *ioloop_ring_sqe(struct ioloop *loop, struct ring_op *op);
/* A recv into one of the loop's provided buffers (IOLOOP_RING_BUF_SIZE bytes each); keep what
   it brings with ioloop_ring_rx_set(). res -ENOBUFS: none was free, receive into your own. */
#define IOLOOP_RING_BUF_SIZE 4096
struct io_uring_sqe *ioloop_ring_recv(struct ioloop *loop, struct ring_op *op, int fd);

/* Bytes a recv brought that their owner has not taken yet. A provided buffer is held while
   len > 0; a zeroed struct holds nothing. */
struct ring_rx {
	const char *data;
	size_t len;
	int bid; /* the provided buffer, or -1 for the owner's own */
};
/* Keeps a completion's res > 0 bytes: in the provided buffer its flags name, or else in own
   (a recv into the owner's buffer). */
void ioloop_ring_rx_set(struct ioloop *loop, struct ring_rx *rx, int res, unsigned flags,
                        const char *own);
/* Copies up to max bytes out; gives the provided buffer back once all are taken. */
size_t ioloop_ring_rx_take(struct ioloop *loop, struct ring_rx *rx, char *dst, size_t max);
/* Forgets what is left (the owner closes), giving its provided buffer back; also after
   ioloop_run() returned. Returns how many bytes were left. */
size_t ioloop_ring_rx_drop(struct ioloop *loop, struct ring_rx *rx);
/* Gives back the provided buffer of a completion whose bytes nobody will take. */
void ioloop_ring_discard(struct ioloop *loop, unsigned flags);

#endif
