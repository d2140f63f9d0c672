/* SPDX-License-Identifier: MIT */
/* Connections from one loop thread to the members: non-blocking connects, keep-alive pools
   with a per-member cap and a wait queue, deadlines; socket I/O as io_uring operations when
   the loop has a ring. */
#include "upstream.h"

#include <errno.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "balancer.h"
#include "hostport.h"
#include "ioloop.h"
#include "log.h"
#include "mem.h"

#define SWEEP_MS 100
#define OUT_MAX  (64 * 1024) /* bytes queued for a ring send */
#define OWN_BUF  4096        /* a recv's buffer when the loop's provided ones ran out */

enum conn_state {
	UC_WAITING,    /* queued for a slot: no socket yet */
	UC_CONNECTING, /* connect() in progress */
	UC_BUSY,       /* the caller's */
	UC_IDLE,       /* in the pool */
};

struct upstream_pool;
struct upstream_conn;

/* A connected socket's I/O on a loop with a ring. It belongs to the socket, not to the handle:
   a pooled socket moves to a waiter's handle, and when the socket closes while the kernel
   still holds operations, it stays until their completions are back. */
struct ring_sock {
	struct upstream_conn *owner; /* NULL once the socket is closed */
	struct ioloop *loop;
	struct ring_op recv_op, send_op;
	bool recv_busy, send_busy;
	bool recv_own;     /* the recv in flight writes into own */
	bool eof;          /* a recv found the end of the stream */
	int recv_error;    /* errno of a failed recv, else 0 */
	int send_error;    /* errno of a failed send, else 0 */
	struct ring_rx rx; /* received, not yet taken */
	char *own;         /* OWN_BUF bytes, made on first need */
	char *out;         /* queued: out[out_sent..out_len) is in flight or waits */
	size_t out_len, out_sent, out_cap;
};

struct upstream_conn {
	struct upstream_pool *pool;
	struct upstream_conn *prev, *next; /* the pool's idle list, wait queue or busy list */
	enum conn_state state;
	int fd;
	struct io *io;
	struct ring_sock *rs; /* connected, on a loop with a ring; then io is NULL */
	int error;
	bool reused;
	bool want_write;
	bool fresh;
	uint64_t deadline_ms; /* 0 = none */
	uint64_t idle_since_ms;
	upstream_event_fn *cb;
	void *ctx;
};

struct conn_list {
	struct upstream_conn *head, *tail;
	unsigned count;
};

/* One member as seen from this thread. */
struct upstream_pool {
	struct upstream_thread *ut;
	struct upstream_pool *next;
	struct balancer_member *member; /* a reference */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool resolved;
	unsigned open; /* sockets: connecting + busy + idle */
	struct conn_list idle, waiting, busy;
};

struct upstream_thread {
	struct ioloop *loop;
	struct upstream_settings set;
	struct upstream_pool *pools;
	struct timer *sweep;
	bool dispatch_posted;
	/* Written by the loop thread, read by any (__atomic builtins); idle and busy are
	   recounted by each sweep. */
	struct upstream_counters counters;
};

#define COUNT(ut, field) __atomic_add_fetch(&(ut)->counters.field, 1, __ATOMIC_RELAXED)

static void list_push(struct conn_list *l, struct upstream_conn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->count++;
}

static void list_unlink(struct conn_list *l, struct upstream_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->count--;
}

static struct conn_list *list_of(struct upstream_conn *c)
{
	switch (c->state) {
	case UC_WAITING:
		return &c->pool->waiting;
	case UC_IDLE:
		return &c->pool->idle;
	default:
		return &c->pool->busy;
	}
}

static void rs_close(struct ring_sock **rsp);

static void conn_close_socket(struct upstream_conn *c)
{
	io_remove(&c->io);
	rs_close(&c->rs);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
		c->pool->open--;
	}
}

static void conn_destroy(struct upstream_conn *c)
{
	list_unlink(list_of(c), c);
	conn_close_socket(c);
	mem_free(&c);
}

/* ---------------------------------------------------------------- ring I/O */

static void rs_recv_done(struct ring_op *op, int res, unsigned flags);
static void rs_send_done(struct ring_op *op, int res, unsigned flags);
static void conn_destroy(struct upstream_conn *c);

static struct ring_sock *rs_create(struct upstream_conn *c)
{
	struct ring_sock *rs = mem_calloc(1, sizeof(*rs));
	rs->owner = c;
	rs->loop = c->pool->ut->loop;
	rs->recv_op.done = rs_recv_done;
	rs->send_op.done = rs_send_done;
	return rs;
}

static void rs_free(struct ring_sock *rs)
{
	ioloop_ring_rx_drop(rs->loop, &rs->rx);
	mem_free(&rs->own);
	mem_free(&rs->out);
	mem_free(&rs);
}

/* The socket is being closed (its fd may be closed right after: operations in flight keep
   their own reference to it). Cancelled by their tags, which no other operation can have. */
static void rs_close(struct ring_sock **rsp)
{
	struct ring_sock *rs = *rsp;
	if (rs == NULL)
		return;
	*rsp = NULL;
	rs->owner = NULL;
	if (!ioloop_ring(rs->loop) || (!rs->recv_busy && !rs->send_busy)) {
		rs_free(rs); /* after ioloop_run(), the ring cancelled everything */
		return;
	}
	if (rs->recv_busy)
		io_uring_prep_cancel(ioloop_ring_sqe(rs->loop, NULL), &rs->recv_op, 0);
	if (rs->send_busy)
		io_uring_prep_cancel(ioloop_ring_sqe(rs->loop, NULL), &rs->send_op, 0);
}

static void rs_start_recv(struct ring_sock *rs, int fd)
{
	struct io_uring_sqe *sqe;
	rs->recv_busy = true;
	if (rs->recv_own) {
		if (rs->own == NULL)
			rs->own = mem_alloc(OWN_BUF);
		sqe = ioloop_ring_sqe(rs->loop, &rs->recv_op);
		io_uring_prep_recv(sqe, fd, rs->own, OWN_BUF, 0);
	} else {
		sqe = ioloop_ring_recv(rs->loop, &rs->recv_op, fd);
	}
	/* Asked for after a request went out or into the pool: the answer is not there yet. */
	sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
}

static void rs_recv_done(struct ring_op *op, int res, unsigned flags)
{
	struct ring_sock *rs = RING_OP_OWNER(op, struct ring_sock, recv_op);
	struct upstream_conn *c = rs->owner;

	rs->recv_busy = false;
	if (c == NULL) {
		ioloop_ring_discard(rs->loop, flags);
		if (!rs->send_busy)
			rs_free(rs);
		return;
	}
	if (res == -ENOBUFS) {
		rs->recv_own = true; /* the provided buffers ran out: this one uses its own */
		rs_start_recv(rs, c->fd);
		return;
	}
	if (res > 0) {
		ioloop_ring_rx_set(rs->loop, &rs->rx, res, flags, rs->own);
		rs->recv_own = false;
	} else if (res == 0) {
		rs->eof = true;
	} else {
		rs->recv_error = -res;
	}
	if (c->state == UC_IDLE)
		conn_destroy(c); /* an idle connection has nothing to say: the member closed it */
	else if (c->state == UC_BUSY)
		c->cb(c->ctx, c, UPSTREAM_IO);
}

static void rs_start_send(struct ring_sock *rs, int fd)
{
	rs->send_busy = true;
	io_uring_prep_send(ioloop_ring_sqe(rs->loop, &rs->send_op), fd, rs->out + rs->out_sent,
	                   rs->out_len - rs->out_sent, MSG_NOSIGNAL);
}

static void rs_send_done(struct ring_op *op, int res, unsigned flags)
{
	struct ring_sock *rs = RING_OP_OWNER(op, struct ring_sock, send_op);
	struct upstream_conn *c = rs->owner;
	(void)flags;

	rs->send_busy = false;
	if (c == NULL) {
		if (!rs->recv_busy)
			rs_free(rs);
		return;
	}
	if (res > 0) {
		rs->out_sent += (size_t)res;
		if (rs->out_sent < rs->out_len) {
			rs_start_send(rs, c->fd);
			return;
		}
		rs->out_sent = rs->out_len = 0;
	} else if (res != -EINTR && res != -EAGAIN) {
		rs->send_error = res < 0 ? -res : EPIPE;
	} else {
		rs_start_send(rs, c->fd);
		return;
	}
	if (c->state == UC_BUSY && (c->want_write || rs->send_error != 0))
		c->cb(c->ctx, c, UPSTREAM_IO);
}

/* True if a connection going back to the pool left nothing behind on the ring: no unread
   bytes (garbage from the member) and nothing unsent. Its recv (started if need be) then
   notices the member closing it. */
static bool rs_pool(struct ring_sock *rs, int fd)
{
	if (rs->rx.len > 0 || rs->eof || rs->recv_error != 0 || rs->send_error != 0 ||
	    rs->send_busy || rs->out_len > 0)
		return false;
	if (!rs->recv_busy)
		rs_start_recv(rs, fd);
	return true;
}

ssize_t upstream_send(struct upstream_conn *c, const void *data, size_t len)
{
	struct ring_sock *rs = c->rs;
	if (rs == NULL)
		return send(c->fd, data, len, MSG_NOSIGNAL);
	if (rs->send_error != 0) {
		errno = rs->send_error;
		return -1;
	}
	size_t queued = rs->out_len - rs->out_sent;
	size_t n = OUT_MAX - queued < len ? OUT_MAX - queued : len;
	if (n > 0 && rs->out_len + n > rs->out_cap) {
		if (rs->send_busy) {
			n = rs->out_cap - rs->out_len; /* the kernel reads out: it cannot move */
		} else {
			/* Without a send in flight nothing is queued (out_len is 0). */
			rs->out_cap = n < 1024 ? 1024 : n;
			rs->out = mem_realloc(rs->out, rs->out_cap);
		}
	}
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	memcpy(rs->out + rs->out_len, data, n);
	rs->out_len += n;
	if (!rs->send_busy)
		rs_start_send(rs, c->fd);
	return (ssize_t)n;
}

ssize_t upstream_recv(struct upstream_conn *c, void *buf, size_t len)
{
	struct ring_sock *rs = c->rs;
	if (rs == NULL)
		return recv(c->fd, buf, len, 0);
	if (rs->rx.len > 0)
		return (ssize_t)ioloop_ring_rx_take(rs->loop, &rs->rx, buf, len);
	if (rs->eof)
		return 0;
	if (rs->recv_error != 0) {
		errno = rs->recv_error;
		return -1;
	}
	if (!rs->recv_busy)
		rs_start_recv(rs, c->fd);
	errno = EAGAIN;
	return -1;
}

/* ---------------------------------------------------------------- addresses */

static int resolve(struct upstream_pool *p)
{
	const char *error;
	if (hostport_resolve_first(balancer_member_address(p->member), &p->addr, &p->addr_len,
	                           &error) < 0)
		return -1;
	p->resolved = true;
	return 0;
}

/* ---------------------------------------------------------------- events */

static void conn_io(void *ctx, unsigned events);

static void set_events(struct upstream_conn *c)
{
	io_set_events(c->io,
	              c->want_write || c->state == UC_CONNECTING ? IO_READ | IO_WRITE : IO_READ);
}

/* Starts a non-blocking connect on c (which holds a slot). Returns 0 when under way or done,
   -1 with c->error set when it failed at once. */
static int start_connect(struct upstream_conn *c)
{
	struct upstream_pool *p = c->pool;
	struct upstream_thread *ut = p->ut;

	if (!p->resolved && resolve(p) < 0) {
		c->error = EADDRNOTAVAIL;
		return -1;
	}
	int fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		c->error = errno;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&p->addr, p->addr_len) < 0 && errno != EINPROGRESS) {
		c->error = errno;
		close(fd);
		COUNT(ut, connect_fails);
		return -1;
	}
	c->fd = fd;
	p->open++;
	c->state = UC_CONNECTING;
	c->deadline_ms = ioloop_now_ms(ut->loop) + ut->set.connect_timeout_ms;
	c->io = io_add(ut->loop, fd, IO_READ | IO_WRITE, conn_io, c);
	return 0;
}

static void connect_done(struct upstream_conn *c)
{
	struct upstream_thread *ut = c->pool->ut;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	c->deadline_ms = 0;
	if (err != 0) {
		c->error = err;
		COUNT(ut, connect_fails);
		conn_close_socket(c);
		c->state = UC_BUSY; /* a dead handle the caller releases */
		c->cb(c->ctx, c, UPSTREAM_FAILED);
		return;
	}
	COUNT(ut, connects);
	c->state = UC_BUSY;
	if (ioloop_ring(ut->loop)) {
		io_remove(&c->io); /* from now on every event comes from the ring */
		c->rs = rs_create(c);
	} else {
		set_events(c);
	}
	c->cb(c->ctx, c, UPSTREAM_READY);
}

static void conn_io(void *ctx, unsigned events)
{
	struct upstream_conn *c = ctx;

	switch (c->state) {
	case UC_CONNECTING:
		connect_done(c);
		return;
	case UC_IDLE:
		/* An idle connection has nothing to say: this is the member closing it. */
		conn_destroy(c);
		return;
	case UC_BUSY:
		(void)events; /* the owner tries what it has to do; EAGAIN tells the rest */
		c->cb(c->ctx, c, UPSTREAM_IO);
		return;
	case UC_WAITING:
		return;
	}
}

/* Hands slots that came free to waiters, from a clean stack (see upstream_release). */
static void dispatch(void *ctx)
{
	struct upstream_thread *ut = ctx;

	ut->dispatch_posted = false;
	for (struct upstream_pool *p = ut->pools; p != NULL; p = p->next) {
		while (p->waiting.head != NULL) {
			struct upstream_conn *w = p->waiting.head;
			struct upstream_conn *idle = w->fresh ? NULL : p->idle.head;
			if (idle == NULL && p->open >= ut->set.pool_max && p->idle.head != NULL) {
				/* A fresh waiter and only idle connections: make room. */
				conn_destroy(p->idle.head);
			}
			if (idle == NULL && p->open >= ut->set.pool_max)
				break;
			list_unlink(&p->waiting, w);
			if (idle != NULL) {
				list_unlink(&p->idle, idle);
				w->fd = idle->fd;
				w->reused = true;
				idle->fd = -1;
				io_remove(&idle->io);
				w->rs = idle->rs;
				mem_free(&idle);
				w->state = UC_BUSY;
				w->deadline_ms = 0;
				if (w->rs != NULL)
					w->rs->owner = w;
				else
					w->io = io_add(ut->loop, w->fd, IO_READ, conn_io, w);
				list_push(&p->busy, w);
				COUNT(ut, reuses);
				w->cb(w->ctx, w, UPSTREAM_READY);
				continue;
			}
			w->state = UC_BUSY;
			list_push(&p->busy, w);
			if (start_connect(w) < 0) {
				w->cb(w->ctx, w, UPSTREAM_FAILED);
				continue;
			}
		}
	}
}

static void post_dispatch(struct upstream_thread *ut)
{
	if (ut->dispatch_posted)
		return;
	ut->dispatch_posted = true;
	ioloop_post(ut->loop, dispatch, ut);
}

static void drop_pool(struct upstream_thread *ut, struct upstream_pool **link)
{
	struct upstream_pool *p = *link;
	while (p->idle.head != NULL)
		conn_destroy(p->idle.head);
	if (p->busy.count != 0 || p->waiting.count != 0)
		return; /* requests still use it; the next sweep comes back */
	*link = p->next;
	balancer_member_unref(&p->member);
	mem_free(&p);
	(void)ut;
}

static void sweep(void *ctx)
{
	struct upstream_thread *ut = ctx;
	uint64_t now = ioloop_now_ms(ut->loop);
	uint64_t idle = 0, busy = 0;

	ut->sweep = timer_add(ut->loop, SWEEP_MS, sweep, ut);
	for (struct upstream_pool *p = ut->pools; p != NULL; p = p->next) {
		idle += p->idle.count;
		busy += p->busy.count;
	}
	__atomic_store_n(&ut->counters.idle, idle, __ATOMIC_RELAXED);
	__atomic_store_n(&ut->counters.busy, busy, __ATOMIC_RELAXED);
	struct upstream_pool **link = &ut->pools;
	while (*link != NULL) {
		struct upstream_pool *p = *link;
		if (balancer_member_removed(p->member)) {
			drop_pool(ut, link);
			if (*link == p)
				link = &p->next;
			continue;
		}
		/* Oldest idle first (released connections are appended). */
		while (p->idle.count > ut->set.pool_min &&
		       now - p->idle.head->idle_since_ms >= ut->set.idle_ttl_ms)
			conn_destroy(p->idle.head);
		for (int i = 0; i < 2; i++) {
			struct upstream_conn *c = i == 0 ? p->waiting.head : p->busy.head;
			while (c != NULL) {
				struct upstream_conn *next = c->next;
				if (c->deadline_ms != 0 && now >= c->deadline_ms) {
					c->deadline_ms = 0;
					if (c->state == UC_CONNECTING) {
						COUNT(ut, connect_fails);
						c->error = ETIMEDOUT;
						conn_close_socket(c);
						c->state = UC_BUSY;
						c->cb(c->ctx, c, UPSTREAM_FAILED);
					} else if (c->state == UC_WAITING) {
						c->error = EBUSY;
						list_unlink(&p->waiting, c);
						c->state = UC_BUSY;
						list_push(&p->busy, c);
						c->cb(c->ctx, c, UPSTREAM_FAILED);
					} else {
						c->cb(c->ctx, c, UPSTREAM_TIMEOUT);
					}
					/* The callback may have released connections after c:
					   the rest wait for the next sweep rather than follow a
					   stale next. */
					next = NULL;
				}
				c = next;
			}
		}
		link = &p->next;
	}
}

/* ---------------------------------------------------------------- API */

struct upstream_thread *upstream_thread_create(struct ioloop *loop,
                                               const struct upstream_settings *set)
{
	struct upstream_thread *ut = mem_calloc(1, sizeof(*ut));
	ut->loop = loop;
	ut->set = *set;
	if (ut->set.pool_max == 0)
		ut->set.pool_max = 1;
	ut->sweep = timer_add(loop, SWEEP_MS, sweep, ut);
	return ut;
}

void upstream_thread_destroy(struct upstream_thread **utp)
{
	struct upstream_thread *ut = *utp;
	if (ut == NULL)
		return;
	timer_remove(&ut->sweep);
	while (ut->pools != NULL) {
		struct upstream_pool *p = ut->pools;
		while (p->idle.head != NULL)
			conn_destroy(p->idle.head);
		/* Busy or waiting handles left by a forced stop are cut. */
		while (p->busy.head != NULL)
			conn_destroy(p->busy.head);
		while (p->waiting.head != NULL)
			conn_destroy(p->waiting.head);
		ut->pools = p->next;
		balancer_member_unref(&p->member);
		mem_free(&p);
	}
	mem_free(utp);
}

void upstream_thread_set_settings(struct upstream_thread *ut, const struct upstream_settings *set)
{
	ut->set = *set;
	if (ut->set.pool_max == 0)
		ut->set.pool_max = 1;
}

void upstream_thread_counters(struct upstream_thread *ut, struct upstream_counters *c)
{
	c->connects += __atomic_load_n(&ut->counters.connects, __ATOMIC_RELAXED);
	c->connect_fails += __atomic_load_n(&ut->counters.connect_fails, __ATOMIC_RELAXED);
	c->reuses += __atomic_load_n(&ut->counters.reuses, __ATOMIC_RELAXED);
	c->queued += __atomic_load_n(&ut->counters.queued, __ATOMIC_RELAXED);
	c->idle += __atomic_load_n(&ut->counters.idle, __ATOMIC_RELAXED);
	c->busy += __atomic_load_n(&ut->counters.busy, __ATOMIC_RELAXED);
}

static struct upstream_pool *pool_for(struct upstream_thread *ut, struct balancer_member *m)
{
	for (struct upstream_pool *p = ut->pools; p != NULL; p = p->next) {
		if (p->member == m)
			return p;
	}
	struct upstream_pool *p = mem_calloc(1, sizeof(*p));
	p->ut = ut;
	p->member = balancer_member_ref(m);
	p->next = ut->pools;
	ut->pools = p;
	return p;
}

enum upstream_acquire_result upstream_acquire(struct upstream_thread *ut, struct balancer_member *m,
                                              bool fresh, upstream_event_fn *cb, void *ctx,
                                              struct upstream_conn **conn_r, int *errno_r)
{
	struct upstream_pool *p = pool_for(ut, m);
	struct upstream_conn *c;

	*conn_r = NULL;
	/* An idle connection the member closed is gone already: its epoll event (conn_io) ends
	   it, so no syscall checks it here. The rest of the race is the stale retry's. The most
	   recently used one is taken, so that surplus connections age out (sweep). */
	if (!fresh && p->waiting.count == 0) {
		c = p->idle.tail;
		if (c != NULL) {
			list_unlink(&p->idle, c);
			c->state = UC_BUSY;
			c->reused = true;
			c->cb = cb;
			c->ctx = ctx;
			c->deadline_ms = 0;
			list_push(&p->busy, c);
			COUNT(ut, reuses);
			*conn_r = c;
			return UPSTREAM_ACQ_READY;
		}
	}
	c = mem_calloc(1, sizeof(*c));
	c->pool = p;
	c->fd = -1;
	c->cb = cb;
	c->ctx = ctx;
	c->fresh = fresh;
	if (p->open >= ut->set.pool_max && fresh && p->idle.head != NULL)
		conn_destroy(p->idle.head);
	if (p->open >= ut->set.pool_max || p->waiting.count > 0) {
		c->state = UC_WAITING;
		c->deadline_ms = ioloop_now_ms(ut->loop) + ut->set.connect_timeout_ms;
		list_push(&p->waiting, c);
		COUNT(ut, queued);
		*conn_r = c;
		return UPSTREAM_ACQ_PENDING;
	}
	c->state = UC_BUSY;
	list_push(&p->busy, c);
	if (start_connect(c) < 0) {
		*errno_r = c->error;
		conn_destroy(c);
		return UPSTREAM_ACQ_FAILED;
	}
	*conn_r = c;
	return UPSTREAM_ACQ_PENDING;
}

void upstream_release(struct upstream_conn **connp, bool reusable)
{
	struct upstream_conn *c = *connp;
	if (c == NULL)
		return;
	*connp = NULL;
	struct upstream_pool *p = c->pool;
	struct upstream_thread *ut = p->ut;

	if (reusable && c->state == UC_BUSY && c->fd >= 0 && !balancer_member_removed(p->member) &&
	    (c->rs == NULL || rs_pool(c->rs, c->fd))) {
		list_unlink(&p->busy, c);
		c->state = UC_IDLE;
		c->want_write = false;
		c->deadline_ms = 0;
		c->idle_since_ms = ioloop_now_ms(ut->loop);
		c->cb = NULL;
		c->ctx = NULL;
		if (c->io != NULL)
			set_events(c);
		list_push(&p->idle, c);
	} else {
		conn_destroy(c);
	}
	if (p->waiting.count > 0)
		post_dispatch(ut);
}

int upstream_conn_error(const struct upstream_conn *conn)
{
	return conn->error;
}

bool upstream_conn_reused(const struct upstream_conn *conn)
{
	return conn->reused;
}

void upstream_conn_deadline(struct upstream_conn *conn, uint64_t ms)
{
	conn->deadline_ms = ms == 0 ? 0 : ioloop_now_ms(conn->pool->ut->loop) + ms;
}

void upstream_conn_want_write(struct upstream_conn *conn, bool on)
{
	if (conn->want_write == on || (conn->io == NULL && conn->rs == NULL))
		return;
	conn->want_write = on;
	if (conn->io != NULL)
		set_events(conn);
}
