/* SPDX-License-Identifier: MIT */
/* Connections from one loop thread to the members: non-blocking connects, keep-alive pools
   with a per-member cap and a wait queue, deadlines. */
#ifndef TANDEM_LB_UPSTREAM_H
#define TANDEM_LB_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ioloop;
struct balancer_member;
struct upstream_thread;
struct upstream_conn;

struct upstream_settings {
	uint64_t connect_timeout_ms; /* connect, and the wait for a free slot */
	unsigned pool_min;           /* idle connections the TTL never closes, per member */
	unsigned pool_max;           /* connections per member (idle + busy) on this thread */
	uint64_t idle_ttl_ms;        /* idle connections above pool_min close after this */
};

/* What happened to a connection the caller owns (or waits for). */
enum upstream_event {
	UPSTREAM_READY,   /* the connection is usable (connected, or handed over from the pool) */
	UPSTREAM_FAILED,  /* connecting failed: errno in upstream_conn_error() */
	UPSTREAM_IO,      /* edge: input, EOF or (with upstream_conn_want_write) room to write
	                     may be there; the owner tries reading and any pending write */
	UPSTREAM_TIMEOUT, /* the deadline set with upstream_conn_deadline() passed */
};

typedef void upstream_event_fn(void *ctx, struct upstream_conn *conn, enum upstream_event ev);

struct upstream_counters {
	uint64_t connects;      /* connections opened */
	uint64_t connect_fails; /* refused, unreachable or timed out */
	uint64_t reuses;        /* requests served by a pooled connection */
	uint64_t queued;        /* acquisitions that had to wait for a slot */
	uint64_t idle;          /* idle connections */
	uint64_t busy;          /* connections owned by requests */
};

/* One per loop thread, used only on it. */
struct upstream_thread *upstream_thread_create(struct ioloop *loop,
                                               const struct upstream_settings *set);
/* Closes every connection; callers must have released theirs. Drops member references. */
void upstream_thread_destroy(struct upstream_thread **ut);
/* New settings (reload): caps and timeouts apply to new acquisitions. */
void upstream_thread_set_settings(struct upstream_thread *ut, const struct upstream_settings *set);
/* Adds this thread's counters into *c (idle and busy as of the last 100 ms sweep). Any
   thread, while ut exists. */
void upstream_thread_counters(struct upstream_thread *ut, struct upstream_counters *c);

enum upstream_acquire_result {
	UPSTREAM_ACQ_READY,   /* *conn_r is a pooled connection, usable now */
	UPSTREAM_ACQ_PENDING, /* connecting or waiting for a slot: cb gets READY or FAILED */
	UPSTREAM_ACQ_FAILED,  /* connect failed at once: *errno_r; *conn_r is NULL */
};

/* A connection to m for one exchange. fresh: never hand over a pooled connection (a retry
   after a stale one). With PENDING, cb(ctx, conn, READY | FAILED) comes exactly once from the
   loop, never from inside this call, unless the caller releases the handle first. The handle
   is the caller's until upstream_release(); after FAILED only release it. */
enum upstream_acquire_result upstream_acquire(struct upstream_thread *ut, struct balancer_member *m,
                                              bool fresh, upstream_event_fn *cb, void *ctx,
                                              struct upstream_conn **conn_r, int *errno_r);
/* Gives the connection back: into the pool when reusable (a complete exchange, nothing unread
   or unsent) and the member is still in the table, else it is closed. Sets *conn = NULL. */
void upstream_release(struct upstream_conn **conn, bool reusable);

/* The connection's socket I/O, with the results of send(2) and recv(2) on a non-blocking socket:
   bytes, 0 at the end of the stream (recv), or -1 with errno (EAGAIN: wait for UPSTREAM_IO).
   On a loop with an io_uring they are ring operations underneath: upstream_send() copies into
   the connection's output (up to 64 KiB outstanding) and a ring send drains it; upstream_recv()
   takes what a ring recv brought, or starts one. */
ssize_t upstream_send(struct upstream_conn *conn, const void *data, size_t len);
ssize_t upstream_recv(struct upstream_conn *conn, void *buf, size_t len);
/* errno of a failed connect (ECONNREFUSED, ETIMEDOUT for the connect timeout, …), or EBUSY
   when no slot came free within the connect timeout (pool_max reached: not a member failure). */
int upstream_conn_error(const struct upstream_conn *conn);
/* True if the connection served an earlier exchange (a failure before any answer may be the
   member closing an idle connection, not the member failing). */
bool upstream_conn_reused(const struct upstream_conn *conn);
/* Deadline in ms from now for the next TIMEOUT event; 0 = none. Checked every 100 ms. */
void upstream_conn_deadline(struct upstream_conn *conn, uint64_t ms);
/* Asks for WRITABLE events while output is pending. */
void upstream_conn_want_write(struct upstream_conn *conn, bool on);

#endif
