/* SPDX-License-Identifier: MIT */
/* A plain connection's socket I/O as io_uring operations (docs/internals/http.md, "Ring
   I/O"): at most one recv, one send and one poll in flight per connection. */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>

#include "http-server-private.h"
#include "ioloop.h"

static void recv_done(struct ring_op *op, int res, unsigned flags);
static void send_done(struct ring_op *op, int res, unsigned flags);
static void poll_done(struct ring_op *op, int res, unsigned flags);

/* Starts a recv: into the connection's input buffer when room > 0, else into a provided
   buffer (a connection waiting for its next request holds none of its own). */
void http_conn__ring_recv(struct conn *c, size_t room)
{
	struct ioloop *loop = c->lt->loop;
	c->recv_busy = true;
	c->recv_direct = room > 0;
	c->recv_op.done = recv_done;
	struct io_uring_sqe *sqe;
	if (room == 0) {
		sqe = ioloop_ring_recv(loop, &c->recv_op, c->fd);
	} else {
		sqe = ioloop_ring_sqe(loop, &c->recv_op);
		io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, room, 0);
	}
	/* A new connection's first request usually came with the connection; afterwards (after a
	   response, or a part of a request) the socket is almost always empty: wait for data
	   first instead of trying a receive that would find nothing. */
	if (c->received)
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
}

/* conn_read() on a ring: takes what a completed recv left, else starts one and waits. */
int http_conn__ring_read(struct conn *c, size_t room)
{
	if (c->rx.len > 0) {
		c->in_len += ioloop_ring_rx_take(c->lt->loop, &c->rx, c->in + c->in_len, room);
		return 1;
	}
	if (c->recv_eof) {
		c->state = CS_CLOSED;
		return -1;
	}
	http_conn__ring_recv(c, room);
	return 0;
}

static void recv_done(struct ring_op *op, int res, unsigned flags)
{
	struct conn *c = RING_OP_OWNER(op, struct conn, recv_op);
	struct ioloop *loop = c->lt->loop;
	bool direct = c->recv_direct;

	c->recv_busy = false;
	c->received = true;
	if (c->state == CS_CLOSED || c->state == CS_LINGER) {
		ioloop_ring_discard(loop, flags);
		if (res > 0)
			c->linger_bytes += (uint64_t)res;
		else
			c->recv_eof = true;
	} else if (res > 0 && direct) {
		c->in_len += (size_t)res;
	} else if (res > 0) {
		ioloop_ring_rx_set(loop, &c->rx, res, flags, NULL);
	} else if (res == -ENOBUFS || res == -EINTR || res == -EAGAIN) {
		/* No provided buffer was free (or a spurious wake-up): use the connection's own. */
		if (c->in == NULL)
			http_conn__borrow(c);
		http_conn__ring_recv(c, c->in_cap - c->in_len);
		return;
	} else {
		c->recv_eof = true; /* 0: the peer closed; < 0: the socket failed */
	}
	http_conn__run(c);
}

/* http_conn__write_response()'s in-memory part on a ring: one send (or sendmsg for head and
   body) in flight, its completion moves the counters on. */
void http_conn__ring_send(struct conn *c, size_t head_left, size_t body_left)
{
	struct http_request *req = &c->req;
	struct io_uring_sqe *sqe = ioloop_ring_sqe(c->lt->loop, &c->send_op);
	c->send_op.done = send_done;
	c->send_busy = true;
	if (head_left == 0 || body_left == 0) {
		const char *p =
		    head_left > 0 ? c->out.data + c->out_sent : req->resp_body.data + c->body_sent;
		io_uring_prep_send(sqe, c->fd, p, head_left + body_left, MSG_NOSIGNAL);
		return;
	}
	c->iov[0] = (struct iovec){c->out.data + c->out_sent, head_left};
	c->iov[1] = (struct iovec){req->resp_body.data + c->body_sent, body_left};
	c->msg = (struct msghdr){.msg_iov = c->iov, .msg_iovlen = 2};
	io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL);
}

static void send_done(struct ring_op *op, int res, unsigned flags)
{
	struct conn *c = RING_OP_OWNER(op, struct conn, send_op);
	(void)flags;

	c->send_busy = false;
	if (c->state == CS_CLOSED) {
		http_conn__run(c);
		return;
	}
	if (res <= 0 && res != -EINTR && res != -EAGAIN) {
		c->state = CS_CLOSED;
	} else if (res > 0) {
		size_t w = (size_t)res;
		size_t head_left = c->out.len - c->out_sent;
		size_t from_head = w < head_left ? w : head_left;
		c->out_sent += from_head;
		c->body_sent += w - from_head;
		http_conn__set_deadline(c, c->lt->server->set.limits.body_timeout_ms);
	}
	http_conn__run(c);
}

/* A sendfile() that would block: wait for room in the socket as a ring operation. */
void http_conn__ring_poll_out(struct conn *c)
{
	struct io_uring_sqe *sqe = ioloop_ring_sqe(c->lt->loop, &c->poll_op);
	c->poll_op.done = poll_done;
	c->poll_busy = true;
	io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
}

static void poll_done(struct ring_op *op, int res, unsigned flags)
{
	struct conn *c = RING_OP_OWNER(op, struct conn, poll_op);
	(void)res;
	(void)flags;
	c->poll_busy = false;
	http_conn__run(c);
}

static void hup_done(struct ring_op *op, int res, unsigned flags)
{
	struct conn *c = RING_OP_OWNER(op, struct conn, hup_op);
	(void)flags;
	c->hup_busy = false;
	if (c->state == CS_WRITING && c->stream_blocked && res > 0 &&
	    (res & (POLLRDHUP | POLLHUP | POLLERR)))
		c->state = CS_CLOSED;
	http_conn__run(c);
}

void http_conn__ring_poll_hup(struct conn *c)
{
	if (c->hup_busy || c->cancelling)
		return;
	struct io_uring_sqe *sqe = ioloop_ring_sqe(c->lt->loop, &c->hup_op);
	c->hup_op.done = hup_done;
	c->hup_busy = true;
	io_uring_prep_poll_add(sqe, c->fd, POLLRDHUP);
}

bool http_conn__ring_release(struct conn *c)
{
	struct ioloop *loop = c->lt->loop;
	if (!ioloop_ring(loop))
		return false; /* after ioloop_run(): the ring cancelled everything */
	if (c->recv_busy || c->send_busy || c->poll_busy || c->hup_busy) {
		if (!c->cancelling) {
			c->cancelling = true;
			struct io_uring_sqe *sqe = ioloop_ring_sqe(loop, NULL);
			io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		}
		return true;
	}
	ioloop_ring_rx_drop(loop, &c->rx);
	return false;
}

void http_conn__ring_linger(struct conn *c)
{
	c->linger_bytes += ioloop_ring_rx_drop(c->lt->loop, &c->rx);
	if (c->recv_eof || c->linger_bytes > LINGER_MAX_BYTES)
		c->state = CS_CLOSED;
	else if (!c->recv_busy)
		http_conn__ring_recv(c, 0);
}
