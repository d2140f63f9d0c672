/* SPDX-License-Identifier: MIT */
/* The connection state machine (docs/internals/http.md): one event loop per thread owns all
   socket I/O; a connection reads a head and a body, hands the request to the application and
   writes its response (http-conn-write.c). Plain connections do their reads and writes as
   io_uring operations when the loop has a ring (http-conn-ring.c), TLS ones through OpenSSL
   (http-conn-tls.c). */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "http-chunked.h"
#include "http-server-private.h"
#include "http-tls.h"
#include "ioloop.h"
#include "log.h"
#include "mem.h"
#include "pool.h"

static void conn_fail(struct conn *c, int status, const char *message);

void http_conn__set_deadline(struct conn *c, uint64_t ms)
{
	c->deadline_ms = ms == 0 ? 0 : ioloop_now_ms(c->lt->loop) + ms;
}

/* Keeps a buffer's storage for the connection's next request unless it grew large: most
   responses fit the same few hundred bytes, so this saves a malloc/free pair per buffer. */
void http_conn__recycle(struct buf *b)
{
	if (b->data == NULL)
		return;
	if (b->cap > RECYCLE_MAX)
		buf_free(b);
	else
		buf_reset(b);
}

void http_conn__request_reset(struct conn *c)
{
	struct http_request *req = &c->req;
	struct pool *pool = req->pool;
	struct buf body = req->body, resp_headers = req->resp_headers, resp_body = req->resp_body;

	if (req->file_fd >= 0)
		close(req->file_fd); /* a sendfile() response is done with its file */
	if (pool != NULL)
		pool_clear(pool);
	http_conn__recycle(&body);
	http_conn__recycle(&resp_headers);
	http_conn__recycle(&resp_body);
	memset(req, 0, sizeof(*req));
	req->body = body;
	req->resp_headers = resp_headers;
	req->resp_body = resp_body;
	req->conn = c;
	req->pool = pool;
	req->file_fd = -1;
	http_request_parser_init(&c->parser, &c->lt->server->set.limits);
	if (c->out.data != NULL)
		buf_reset(&c->out);
	c->out_sent = 0;
	c->body_sent = 0;
	c->stream_blocked = false;
	c->stream_eof = false;
	c->response_ready = false;
}

/* The request ends without the application's response completing: tell the application
   once, so it lets go of req. */
void http_conn__request_abort(struct http_request *req)
{
	http_abort_fn *fn = req->abort_fn;
	if (fn == NULL)
		return;
	req->abort_fn = NULL;
	fn(req->abort_ctx);
}

void http_conn__free(struct conn *c)
{
	struct loop_thread *lt = c->lt;

	if (c->ring && http_conn__ring_release(c))
		return; /* operations are in flight: their completions come back here */
	/* A response still on its way (finish_response() resets response_ready): the connection
	   broke while writing it. */
	http_conn__log_access(c, false);
	http_conn__request_abort(&c->req);
	io_remove(&c->io);
	http_tls__conn_free(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
	if (c->source_counted)
		http_source_cap_release(lt->server->sources, &c->source);
	if (c->req.file_fd >= 0)
		close(c->req.file_fd);
	pool_destroy(&c->req.pool);
	buf_free(&c->req.body);
	buf_free(&c->req.resp_headers);
	buf_free(&c->req.resp_body);
	buf_free(&c->out);
	mem_free(&c->in);
	mem_free(&c->headers);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		lt->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	lt->conn_count--;
	atomic_store_explicit(&lt->open, lt->conn_count, memory_order_relaxed);
	mem_free(&c);
	if (lt->draining && lt->conn_count == 0)
		ioloop_stop(lt->loop);
}

void http_conn__io(void *ctx, unsigned events)
{
	struct conn *c = ctx;
	if (events & IO_READ)
		c->read_drained = false;
	/* An event stream waiting for its producer reads nothing: see whether the peer hung up,
	   or it would go unnoticed until the next write. Plain epoll connections here (a ring
	   polls for it: http_conn__ring_poll_hup; TLS learns of it at the next write). */
	if ((events & IO_READ) && c->state == CS_WRITING && c->stream_blocked &&
	    c->req.stream_hangup && c->tls == NULL && !c->ring) {
		char byte;
		ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			events |= IO_ERROR;
	}
	if ((events & IO_ERROR) && c->state != CS_HANDLING) {
		if (c->state == CS_HANDSHAKE)
			counter_inc(&c->lt->tls_failures);
		c->state = CS_CLOSED;
	}
	http_conn__run(c);
}

static void conn_trim(struct conn *c);

/* Gives the connection a parked workspace, or a new input buffer (the rest comes lazily). */
void http_conn__borrow(struct conn *c)
{
	struct loop_thread *lt = c->lt;
	struct workspace *w = lt->spare;
	struct http_request *req = &c->req;

	c->in_cap = IN_BUF_INITIAL;
	if (w == NULL) {
		c->in = mem_alloc(IN_BUF_INITIAL);
		return;
	}
	lt->spare = w->next;
	lt->spare_count--;
	c->in = w->in;
	c->headers = w->headers;
	req->pool = w->pool;
	c->out = w->out;
	req->body = w->body;
	req->resp_headers = w->resp_headers;
	req->resp_body = w->resp_body;
	w->next = lt->empty;
	lt->empty = w;
}

/* The connection waits for its next request with nothing buffered: park its buffers. */
static void conn_park(struct conn *c)
{
	struct loop_thread *lt = c->lt;
	struct http_request *req = &c->req;

	if (c->in == NULL || c->tls != NULL || (c->recv_busy && c->recv_direct))
		return;
	if (lt->spare_count >= SPARES_MAX || c->in_cap != IN_BUF_INITIAL) {
		conn_trim(c);
		return;
	}
	struct workspace *w = lt->empty;
	if (w != NULL)
		lt->empty = w->next;
	else
		w = mem_alloc(sizeof(*w));
	*w = (struct workspace){.in = c->in,
	                        .headers = c->headers,
	                        .pool = req->pool,
	                        .out = c->out,
	                        .body = req->body,
	                        .resp_headers = req->resp_headers,
	                        .resp_body = req->resp_body,
	                        .next = lt->spare};
	lt->spare = w;
	lt->spare_count++;
	c->in = NULL;
	c->in_cap = c->in_off = c->in_len = 0;
	c->headers = NULL;
	req->pool = NULL;
	memset(&c->out, 0, sizeof(c->out));
	memset(&req->body, 0, sizeof(req->body));
	memset(&req->resp_headers, 0, sizeof(req->resp_headers));
	memset(&req->resp_body, 0, sizeof(req->resp_body));
}

void http_conn__spares_free(struct loop_thread *lt)
{
	while (lt->spare != NULL) {
		struct workspace *w = lt->spare;
		lt->spare = w->next;
		mem_free(&w->in);
		mem_free(&w->headers);
		pool_destroy(&w->pool);
		buf_free(&w->out);
		buf_free(&w->body);
		buf_free(&w->resp_headers);
		buf_free(&w->resp_body);
		mem_free(&w);
	}
	while (lt->empty != NULL) {
		struct workspace *w = lt->empty;
		lt->empty = w->next;
		mem_free(&w);
	}
	lt->spare_count = 0;
}

/* conn_read() without an input buffer (a new or idle connection): read onto the stack and
   take buffers only when bytes came, so a connection that waits holds none. */
static int first_read(struct conn *c)
{
	char scratch[IN_BUF_INITIAL];
	ssize_t n = read(c->fd, scratch, sizeof(scratch));
	if (n > 0) {
		http_conn__borrow(c);
		memcpy(c->in, scratch, (size_t)n);
		c->in_len = (size_t)n;
		c->read_drained = (size_t)n < sizeof(scratch);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	c->state = CS_CLOSED;
	return -1;
}

/* Gives back what an idle keep-alive connection does not need (see accept_ready). */
static void conn_trim(struct conn *c)
{
	struct http_request *req = &c->req;
	if (c->recv_busy && c->recv_direct)
		return; /* the kernel writes into in */
	mem_free(&c->in);
	c->in_cap = c->in_off = c->in_len = 0;
	mem_free(&c->headers);
	pool_destroy(&req->pool);
	buf_free(&c->out);
	buf_free(&req->body);
	buf_free(&req->resp_headers);
	buf_free(&req->resp_body);
}

/* Reads once into the input buffer. Returns 1 on data, 0 on EAGAIN (wait), -1 when the
   connection is finished (EOF or error; state set to CS_CLOSED). */
static int conn_read(struct conn *c)
{
	const struct http_limits *lim = &c->lt->server->set.limits;

	if (c->recv_busy)
		return 0; /* a ring recv is in flight: it may write into in */

	/* A short read emptied the socket and edge-triggered epoll reports the next arrival, so
	   the read that would only say EAGAIN is skipped: one syscall less per request. */
	if (c->read_drained)
		return 0;
	if (c->in_off > 0 && c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in == NULL && c->ring && c->rx.len == 0 && !c->recv_eof) {
		http_conn__ring_recv(c, 0);
		return 0;
	}
	if (c->in == NULL && c->ring)
		http_conn__borrow(c); /* a recv brought bytes (or the end): take them */
	else if (c->in == NULL && c->tls == NULL)
		return first_read(c);
	size_t want = c->state == CS_BODY ? IN_BUF_BODY : IN_BUF_INITIAL;
	if (c->in_cap < want) {
		c->in = mem_realloc(c->in, want);
		c->in_cap = want;
	}
	if (c->in_len == c->in_cap) {
		if (c->in_off > 0) {
			memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
			c->in_len -= c->in_off;
			c->in_off = 0;
		} else {
			/* Only a head can fill the buffer; the parser caps it at
			   max_header_bytes, plus a little for leading empty lines. */
			size_t cap = c->in_cap * 2;
			size_t max = lim->max_header_bytes + 8;
			if (cap > max)
				cap = max;
			if (cap <= c->in_cap) {
				conn_fail(c, 431, "request head too large");
				return -1;
			}
			c->in = mem_realloc(c->in, cap);
			c->in_cap = cap;
		}
	}
	size_t room = c->in_cap - c->in_len;
	if (c->tls != NULL)
		return http_conn__tls_read(c, room);
	if (c->ring)
		return http_conn__ring_read(c, room);
	ssize_t n = read(c->fd, c->in + c->in_len, room);
	if (n > 0) {
		c->in_len += (size_t)n;
		c->read_drained = (size_t)n < room;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* EOF or error: a partial request is abandoned. */
	c->state = CS_CLOSED;
	return -1;
}

static void rebase(struct strv *v, const char *old_base, const char *new_base)
{
	if (v->ptr != NULL && v->ptr >= old_base)
		v->ptr = new_base + (v->ptr - old_base);
}

/* The head's views point into the input buffer, which body reads will overwrite: move the
   head into the request pool. */
static void keep_head(struct http_request *req, const char *base, size_t len)
{
	char *copy = pool_alloc(http_request_pool(req), len);
	memcpy(copy, base, len);
	struct http_request_head *h = &req->head;
	struct strv *views[] = {&h->method, &h->target, &h->path, &h->query, &h->host};
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		/* Static strings ("/" for absolute-form) lie outside the buffer. */
		if (views[i]->ptr >= base && views[i]->ptr < base + len)
			rebase(views[i], base, copy);
	}
	struct http_header *hdrs =
	    pool_alloc(http_request_pool(req), (h->header_count + 1) * sizeof(*hdrs));
	for (size_t i = 0; i < h->header_count; i++) {
		hdrs[i] = h->headers[i];
		rebase(&hdrs[i].name, base, copy);
		rebase(&hdrs[i].value, base, copy);
	}
	h->headers = hdrs;
}

static void make_request_id(struct loop_thread *lt, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = ((uint64_t)lt->id_prefix << 32) | ++lt->id_counter;
	for (int i = 15; i >= 0; i--) {
		out[i] = hex[v & 0xf];
		v >>= 4;
	}
	out[16] = '\0';
}

static void call_handler(struct conn *c, bool head)
{
	struct http_server *server = c->lt->server;
	c->in_callback = true;
	if (head)
		c->on_head(&c->req, server->set.ctx);
	else
		server->set.on_request(&c->req, server->set.ctx);
	c->in_callback = false;
}

/* Returns true if the state machine should continue, false to wait for input. */
static bool handle_head(struct conn *c)
{
	struct loop_thread *lt = c->lt;
	struct http_server *server = lt->server;
	const struct http_limits *lim = &server->set.limits;
	struct http_request *req = &c->req;
	size_t head_len;
	int status;
	const char *error;

	if (c->in_len == c->in_off)
		return false; /* nothing yet (and maybe no buffer: first_read) */
	if (c->parser.scanned == 0) {
		http_conn__set_deadline(c, lim->header_timeout_ms);
		if (server->set.on_access != NULL)
			req->start_us = clock_mono_us();
	}
	if (c->headers == NULL)
		c->headers = mem_alloc(lim->max_headers * sizeof(*c->headers));
	c->busy = true;
	enum http_parse_status ret =
	    c->ajp ? http_conn__ajp_head(c, &head_len, &status, &error)
	           : http_request_parser_parse(&c->parser, c->in + c->in_off, c->in_len - c->in_off,
	                                       c->headers, &req->head, &head_len, &status, &error);
	if (ret == HTTP_PARSE_AGAIN)
		return false;
	if (ret == HTTP_PARSE_ERROR) {
		counter_inc(&lt->parse_errors);
		log_debug("http", "%s: refused request: %s", c->peer, error);
		if (status == 0)
			c->state = CS_CLOSED; /* AJP framing lost: no answer is possible */
		else
			conn_fail(c, status, error);
		return true;
	}

	counter_inc(&lt->requests);
	if (!c->ajp) /* an AJP head is in the request pool already */
		keep_head(req, c->in + c->in_off, head_len);
	c->in_off += head_len;
	make_request_id(lt, req->id);
	req->head_only = strv_eq_cstr(req->head.method, "HEAD");
	c->keep_alive = req->head.keep_alive;

	if (req->head.body_kind == HTTP_BODY_LENGTH && req->head.content_length > lim->max_body) {
		counter_inc(&lt->parse_errors);
		conn_fail(c, 413, "request body too large");
		return true;
	}
	req->body_remaining = req->head.content_length;
	http_chunked_decoder_init(&req->chunked, lim);

	c->state = CS_BODY;
	if (c->on_head != NULL) {
		call_handler(c, true);
		if (c->response_ready) {
			if (req->head.body_kind != HTTP_BODY_NONE)
				req->close_after = true;
			c->state = CS_HANDLING;
			return true;
		}
	}
	if (req->head.body_kind == HTTP_BODY_NONE) {
		req->body_done = true;
	} else {
		if (req->sink == NULL && req->body.data == NULL)
			buf_init(&req->body, lim->max_buffered_body);
		if (req->head.expect_continue && req->head.version_minor == 1) {
			/* a held body may still be refused: the client must not send it yet */
			if (req->body_held)
				req->continue_pending = true;
			else
				http_conn__send_continue(c);
		}
		http_conn__set_deadline(c, lim->body_timeout_ms);
		c->rate_mark_ms = ioloop_now_ms(lt->loop);
		c->rate_mark_bytes = 0;
	}
	return true;
}

static int deliver_body(struct conn *c, const char *data, size_t len)
{
	struct http_request *req = &c->req;

	req->body_received += len;
	if (req->sink_failed)
		return 0;
	if (req->sink != NULL) {
		int ret = req->sink(req->sink_ctx, data, len);
		if (ret < 0)
			req->sink_failed = true;
		else if (ret == HTTP_SINK_PAUSE && len > 0)
			req->body_paused = true;
		return 0;
	}
	if (len > 0) {
		buf_append(&req->body, data, len);
		if (buf_overflowed(&req->body)) {
			conn_fail(c, 413, "request body too large to buffer");
			return -1;
		}
	}
	return 0;
}

/* Consumes buffered input as body. Returns true when the body is complete or the connection
   failed, false when more input is needed. */
static bool handle_body(struct conn *c)
{
	struct http_request *req = &c->req;
	const struct http_limits *lim = &c->lt->server->set.limits;

	for (;;) {
		if (req->sink_failed)
			return true; /* http_request_stop_body() */
		/* A sink's pause on the last bytes still lets the end through; a hold does not. */
		if (req->body_held || (req->body_paused && !req->body_done)) {
			/* The consumer is full: the client waits (TCP back-pressure), and the
			   consumer's own write timeout bounds the wait instead of ours. */
			c->deadline_ms = 0;
			return false;
		}
		if (req->body_done)
			break;
		size_t avail = c->in_len - c->in_off;
		if (req->head.body_kind == HTTP_BODY_LENGTH && !c->ajp) {
			if (avail == 0)
				return false;
			size_t n =
			    avail < req->body_remaining ? avail : (size_t)req->body_remaining;
			req->body_remaining -= n;
			const char *data = c->in + c->in_off;
			c->in_off += n;
			if (deliver_body(c, data, n) < 0 || req->sink_failed)
				return true;
			if (req->body_remaining == 0)
				req->body_done = true;
		} else {
			size_t consumed = 0;
			const char *data;
			size_t data_len;
			int status;
			const char *error;
			enum http_parse_status ret =
			    c->ajp
			        ? http_conn__ajp_body(c, &data, &data_len, &status, &error)
			        : http_chunked_decode(&req->chunked, c->in + c->in_off, avail,
			                              &consumed, &data, &data_len, &status, &error);
			if (ret == HTTP_PARSE_ERROR) {
				counter_inc(&c->lt->parse_errors);
				if (status == 0)
					c->state = CS_CLOSED;
				else
					conn_fail(c, status, error);
				return true;
			}
			c->in_off += consumed;
			if (ret == HTTP_PARSE_AGAIN)
				return false;
			if (data_len > 0) {
				if (deliver_body(c, data, data_len) < 0 || req->sink_failed)
					return true;
				if (c->ajp && req->head.body_kind == HTTP_BODY_LENGTH &&
				    req->body_remaining == 0)
					req->body_done = true;
			} else {
				req->body_done = true;
			}
		}
		http_conn__set_deadline(c, lim->body_timeout_ms);
	}
	if (deliver_body(c, NULL, 0) < 0)
		return true;
	return true;
}

/* Moves to lingering close: shut our side, then read and discard until the peer closes, so the
   kernel never answers unread input with a RST that would destroy the response in flight. */
static void start_linger(struct conn *c)
{
	if (c->tls != NULL)
		http_tls__shutdown(c->tls); /* then the rest of the peer's records are discarded */
	shutdown(c->fd, SHUT_WR);
	c->state = CS_LINGER;
	c->deadline_ms = ioloop_now_ms(c->lt->loop) + LINGER_MS;
}

void http_conn__log_access(struct conn *c, bool complete)
{
	struct http_server *server = c->lt->server;
	struct http_request *req = &c->req;

	if (server->set.on_access == NULL || !c->response_ready)
		return;
	uint64_t now = clock_mono_us();
	struct http_access_entry entry = {
	    .status = req->status,
	    .bytes = req->body_out,
	    .duration_us = req->start_us != 0 && now > req->start_us ? now - req->start_us : 0,
	    .complete = complete,
	};
	server->set.on_access(req, &entry, server->set.access_ctx);
}

static void finish_response(struct conn *c)
{
	bool keep = c->keep_alive;
	const struct http_limits *lim = &c->lt->server->set.limits;

	http_conn__log_access(c, true);
	http_conn__request_reset(c);
	if (!keep) {
		start_linger(c);
		return;
	}
	c->state = CS_HEAD;
	if (c->in_len == c->in_off)
		conn_park(c);
	http_conn__set_deadline(c, c->in_len > c->in_off ? lim->header_timeout_ms
	                                                 : lim->idle_timeout_ms);
}

static void linger(struct conn *c)
{
	char scratch[4096];
	if (c->ring) {
		http_conn__ring_linger(c);
		return;
	}
	for (;;) {
		ssize_t n = read(c->fd, scratch, sizeof(scratch));
		if (n > 0) {
			c->linger_bytes += (uint64_t)n;
			if (c->linger_bytes > LINGER_MAX_BYTES) {
				c->state = CS_CLOSED;
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		c->state = CS_CLOSED;
		return;
	}
}

/* Drives the connection until it has to wait for I/O or the application; the only place that
   frees a connection. */
void http_conn__run(struct conn *c)
{
	for (;;) {
		switch (c->state) {
		case CS_HANDSHAKE:
			if (http_conn__tls_handshake(c) == 0)
				return;
			break;
		case CS_HEAD:
			if (c->lt->draining && c->in_len == c->in_off) {
				c->state = CS_CLOSED;
				break;
			}
			if (handle_head(c))
				break;
			if (conn_read(c) == 0)
				return;
			break;
		case CS_BODY:
			if (c->response_ready && (c->req.body_paused || c->req.body_held)) {
				/* Answered while the body waits (a refused Expect: 100-continue, a
				   consumer that gave up): the body is never read. */
				c->req.close_after = true;
				c->state = CS_HANDLING;
				break;
			}
			if (handle_body(c)) {
				if (c->state == CS_BODY) {
					c->state = CS_HANDLING;
					c->deadline_ms = 0;
					call_handler(c, false);
				}
				break;
			}
			if (c->req.body_paused || c->req.body_held || conn_read(c) == 0)
				return;
			break;
		case CS_HANDLING:
			if (!c->response_ready)
				return;
			http_conn__begin_response(c);
			break;
		case CS_WRITING: {
			int ret = http_conn__write_response(c);
			if (ret < 0) {
				c->state = CS_CLOSED;
				break;
			}
			if (ret == 0 && c->ring)
				return;
			if (ret == 0) {
				bool want = !c->stream_blocked;
				if (want != c->waiting_write) {
					c->waiting_write = want;
					io_set_events(c->io, want ? IO_READ | IO_WRITE : IO_READ);
				}
				return;
			}
			if (c->waiting_write) {
				c->waiting_write = false;
				io_set_events(c->io, IO_READ);
			}
			finish_response(c);
			break;
		}
		case CS_LINGER:
			linger(c);
			if (c->state == CS_LINGER)
				return;
			break;
		case CS_CLOSED:
			http_conn__free(c);
			return;
		}
	}
}

/* Server-generated error response; always closes the connection afterwards. */
static void conn_fail(struct conn *c, int status, const char *message)
{
	struct http_request *req = &c->req;
	const char *code = status == 400   ? "HTTP-0400"
	                   : status == 403 ? "HTTP-0403"
	                   : status == 413 ? "HTTP-0413"
	                   : status == 417 ? "HTTP-0417"
	                   : status == 431 ? "HTTP-0431"
	                                   : "HTTP-0408";

	http_conn__request_abort(req);
	http_conn__recycle(&req->resp_headers);
	http_conn__recycle(&req->resp_body);
	req->producer = NULL;
	if (req->file_fd >= 0) {
		close(req->file_fd);
		req->file_fd = -1;
	}
	/* The head may be half-parsed garbage: answer as HTTP/1.1 to a request we don't know. */
	memset(&req->head, 0, sizeof(req->head));
	req->head_only = false;
	req->status = status;
	req->close_after = true;
	http_response_header(req, "Content-Type", "application/json; charset=utf-8");
	http_response__error_body(http_response_body(req), code, message);
	req->responded = true;
	c->response_ready = true;
	c->keep_alive = false;
	http_conn__begin_response(c);
}

void http_conn__sweep(void *ctx)
{
	struct loop_thread *lt = ctx;
	uint64_t now = ioloop_now_ms(lt->loop);

	lt->sweep = timer_add(lt->loop, SWEEP_MS, http_conn__sweep, lt);
	struct conn *c = lt->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		/* Idle for a whole sweep period with nothing buffered: let the buffers go. */
		if (c->state == CS_HEAD && !c->busy && c->in_len == c->in_off && c->in != NULL)
			conn_trim(c);
		c->busy = false;
		if (http_conn__body_too_slow(c, now)) {
			counter_inc(&lt->timeouts);
			counter_inc(&lt->body_timeouts);
			log_debug("http", "%s: request body below %llu bytes/s", c->peer,
			          (unsigned long long)lt->server->set.body_min_rate);
			conn_fail(c, 408, "the request body arrives too slowly");
			http_conn__run(c);
		} else if (c->deadline_ms != 0 && now >= c->deadline_ms) {
			c->deadline_ms = 0;
			switch (c->state) {
			case CS_HANDSHAKE:
				counter_inc(&lt->timeouts);
				counter_inc(&lt->tls_failures);
				c->state = CS_CLOSED;
				break;
			case CS_HEAD:
				if (c->in_len > c->in_off) {
					counter_inc(&lt->timeouts);
					counter_inc(&lt->head_timeouts);
					conn_fail(c, 408, "timed out reading the request head");
				} else {
					c->state = CS_CLOSED; /* idle keep-alive */
				}
				break;
			case CS_BODY:
				counter_inc(&lt->timeouts);
				counter_inc(&lt->body_timeouts);
				conn_fail(c, 408, "timed out reading the request body");
				break;
			case CS_WRITING:
			case CS_LINGER:
				counter_inc(&lt->timeouts);
				c->state = CS_CLOSED;
				break;
			default:
				break;
			}
			http_conn__run(c);
		}
		c = next;
	}
}
