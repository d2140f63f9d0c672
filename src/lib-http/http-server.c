/* SPDX-License-Identifier: MIT */
/* Connection state machine driven by one event loop per thread; handlers may answer from any
   thread, the loop owns all socket I/O. Plain connections do their reads and writes as
   io_uring operations when the loop has a ring (http-conn-ring.c), TLS ones through OpenSSL
   (http-conn-tls.c). */
#include "http-server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "http-chunked.h"
#include "http-server-private.h"
#include "http-tls.h"
#include "ioloop.h"
#include "log.h"
#include "prom.h"
#include "mem.h"
#include "pool.h"
#include "random.h"

static __thread struct loop_thread *current_lt;

static void conn_fail(struct conn *c, int status, const char *message);

/* ---------------------------------------------------------------- listeners */

static int bind_socket(const char *host, uint16_t port, bool reuseport, int *fd_r, uint16_t *port_r,
                       const char **error_r)
{
	static __thread char err[160];
	struct sockaddr_storage ss;
	socklen_t sslen;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
	} else {
		snprintf(err, sizeof(err), "%s: not a numeric IPv4 or IPv6 address", host);
		*error_r = err;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, sizeof(err), "socket: %s", strerror(errno));
		*error_r = err;
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		snprintf(err, sizeof(err), "bind %s:%u: %s", host, port, strerror(errno));
		*error_r = err;
		close(fd);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		*port_r = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
	*fd_r = fd;
	return 0;
}

static int listen_add(struct http_server *server, const char *address, struct http_tls_ctx *tls,
                      bool https_redirect, const char **error_r)
{
	static __thread char err[200];
	if (server->spec_count == MAX_LISTENERS) {
		*error_r = "too many listen addresses";
		return -1;
	}
	struct listen_spec *spec = &server->specs[server->spec_count];
	const char *perr;
	if (config_parse_address(address, spec->host, sizeof(spec->host), &spec->port, &perr) < 0) {
		snprintf(err, sizeof(err), "listen %s: %s", address, perr);
		*error_r = err;
		return -1;
	}
	/* SO_REUSEPORT would let us silently share a port with another running server, so first
	   prove the address is free with a plain bind. */
	int probe, fd;
	uint16_t port;
	if (bind_socket(spec->host, spec->port, false, &probe, &port, error_r) < 0)
		return -1;
	close(probe);
	if (bind_socket(spec->host, port, true, &fd, &port, error_r) < 0)
		return -1;
	if (listen(fd, SOMAXCONN) < 0) {
		snprintf(err, sizeof(err), "listen %s: %s", address, strerror(errno));
		*error_r = err;
		close(fd);
		return -1;
	}
	spec->port = port;
	/* Formatted in a local buffer: gcc's -Wrestrict cannot tell two members apart. */
	char bound[sizeof(spec->bound)];
	bool v6 = strchr(spec->host, ':') != NULL;
	snprintf(bound, sizeof(bound), "%s%s%s:%u", v6 ? "[" : "", spec->host, v6 ? "]" : "", port);
	memcpy(spec->bound, bound, sizeof(bound));
	spec->https_redirect = https_redirect;
	if (tls != NULL) {
		http_tls_ctx_ref(tls);
		spec->tls = tls;
		if (server->https_port == 0)
			server->https_port = port;
	}
	server->first_fds[server->spec_count++] = fd;
	return 0;
}

int http_server_listen(struct http_server *server, const char *address, const char **error_r)
{
	return listen_add(server, address, NULL, false, error_r);
}

int http_server_listen_tls(struct http_server *server, const char *address,
                           struct http_tls_ctx *tls, const char **error_r)
{
	assert(tls != NULL);
	return listen_add(server, address, tls, false, error_r);
}

int http_server_listen_https_redirect(struct http_server *server, const char *address,
                                      const char **error_r)
{
	return listen_add(server, address, NULL, true, error_r);
}

const char *http_server_address(struct http_server *server, unsigned i)
{
	return i < server->spec_count ? server->specs[i].bound : NULL;
}

/* ---------------------------------------------------------------- connections */

void http_conn__set_deadline(struct conn *c, uint64_t ms)
{
	c->deadline_ms = ms == 0 ? 0 : ioloop_now_ms(c->lt->loop) + ms;
}

/* Keeps a buffer's storage for the connection's next request unless it grew large: most
   responses fit the same few hundred bytes, so this saves a malloc/free pair per buffer. */
static void recycle(struct buf *b)
{
	if (b->data == NULL)
		return;
	if (b->cap > RECYCLE_MAX)
		buf_free(b);
	else
		buf_reset(b);
}

static void request_reset(struct conn *c)
{
	struct http_request *req = &c->req;
	struct pool *pool = req->pool;
	struct buf body = req->body, resp_headers = req->resp_headers, resp_body = req->resp_body;

	if (req->file_fd >= 0)
		close(req->file_fd); /* a sendfile() response is done with its file */
	if (pool != NULL)
		pool_clear(pool);
	recycle(&body);
	recycle(&resp_headers);
	recycle(&resp_body);
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
static void request_abort(struct http_request *req)
{
	http_abort_fn *fn = req->abort_fn;
	if (fn == NULL)
		return;
	req->abort_fn = NULL;
	fn(req->abort_ctx);
}

static void conn_free(struct conn *c)
{
	struct loop_thread *lt = c->lt;

	if (c->ring && http_conn__ring_release(c))
		return; /* operations are in flight: their completions come back here */
	request_abort(&c->req);
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

static void conn_io(void *ctx, unsigned events)
{
	struct conn *c = ctx;
	if (events & IO_READ)
		c->read_drained = false;
	if ((events & IO_ERROR) && c->state != CS_HANDLING) {
		if (c->state == CS_HANDSHAKE)
			counter_inc(&c->lt->tls_failures);
		c->state = CS_CLOSED;
	}
	http_conn__run(c);
}

/* The address the client connected to, for a request without Host (HTTP/1.0). */
static void local_host(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "localhost";

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 && ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]", ip);
		return;
	}
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
	snprintf(out, size, "%s", ip);
}

/* on_head of an HTTPS-redirect listener: 301 to the same host and target on the TLS port.
   The parser has checked Host's characters (no '/', '@', blanks or controls), so it cannot
   redirect anywhere but to a host of that name. */
static void https_redirect(struct http_request *req, void *ctx)
{
	const struct http_request_head *h = &req->head;
	struct conn *c = req->conn;
	uint16_t port = c->lt->server->https_port;
	char local[INET6_ADDRSTRLEN + 2];
	struct strv host = h->host, target = h->target;
	(void)ctx;

	if (host.len == 0) {
		local_host(c->fd, local, sizeof(local));
		host = strv_from_cstr(local);
	} else if (host.ptr[0] == '[') {
		ptrdiff_t end = strv_find_char(host, ']');
		if (end > 0)
			host.len = (size_t)end + 1;
	} else {
		ptrdiff_t colon = strv_find_char(host, ':');
		if (colon >= 0)
			host.len = (size_t)colon;
	}
	/* Absolute-form: only the path and query; "*" and CONNECT's authority: the root. */
	if (target.len == 0 || target.ptr[0] != '/')
		target = h->path.len > 0 && h->path.ptr[0] == '/' ? h->path : STRV_LIT("/");
	size_t size = host.len + target.len + h->query.len + 32;
	struct buf loc;
	buf_init_fixed(&loc, pool_alloc(http_request_pool(req), size), size);
	buf_append_lit(&loc, "https://");
	buf_append_strv(&loc, host);
	if (port != 443) {
		buf_append_char(&loc, ':');
		buf_append_u64(&loc, port);
	}
	buf_append_strv(&loc, target);
	if (target.ptr != h->target.ptr && h->query.len > 0) {
		buf_append_char(&loc, '?');
		buf_append_strv(&loc, h->query);
	}
	http_response_status(req, 301);
	http_response_header_strv(req, STRV_LIT("Location"), buf_strv(&loc));
	http_response_send(req);
}

static void accept_ready(void *ctx, unsigned events)
{
	struct loop_thread *lt = ctx;
	struct http_server *server = lt->server;

	for (unsigned i = 0; i < server->spec_count; i++) {
		for (;;) {
			struct sockaddr_storage ss;
			socklen_t sslen = sizeof(ss);
			int fd = accept4(lt->listen_fds[i], (struct sockaddr *)&ss, &sslen,
			                 SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				if (errno != EAGAIN)
					log_error("http", "accept: %m");
				break;
			}
			const struct listen_spec *spec = &server->specs[i];
			struct http_source_key key;
			bool counted;
			if (!http_conn__admit(lt, fd, &ss, spec->tls == NULL, &key, &counted))
				continue;
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

			struct conn *c = mem_calloc(1, sizeof(*c));
			c->lt = lt;
			c->fd = fd;
			c->source = key;
			c->source_counted = counted;
			char ip[INET6_ADDRSTRLEN] = "?";
			uint16_t port = 0;
			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
				inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
				port = ntohs(sin->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
				inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
				port = ntohs(sin6->sin6_port);
			}
			snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, port);
			memcpy(c->peer_ip, ip, sizeof(c->peer_ip));
			c->req.file_fd = -1;
			/* Input buffer, header array, request pool and output buffer come with the
			   first request and go again when the connection idles (sweep): an idle
			   keep-alive connection costs little more than this struct. */
			request_reset(c);
			c->on_head = spec->https_redirect ? https_redirect : server->set.on_head;
			if (spec->tls != NULL) {
				c->tls = http_tls__conn_create(spec->tls, fd);
				c->state = CS_HANDSHAKE;
				http_conn__set_deadline(c, server->set.limits.header_timeout_ms);
			} else {
				c->state = CS_HEAD;
				http_conn__set_deadline(c, server->set.limits.idle_timeout_ms);
			}
			c->next = lt->conns;
			if (lt->conns != NULL)
				lt->conns->prev = c;
			lt->conns = c;
			lt->conn_count++;
			counter_inc(&lt->accepted);
			atomic_store_explicit(&lt->open, lt->conn_count, memory_order_relaxed);
			c->ring = c->tls == NULL && ioloop_ring(lt->loop);
			if (!c->ring)
				c->io = io_add(lt->loop, fd, IO_READ, conn_io, c);
			http_conn__run(c);
		}
	}
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

static void spares_free(struct loop_thread *lt)
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

static void send_continue(struct conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	/* The socket's send buffer is empty at this point (the previous response was fully
	   written), so a short write cannot happen in practice; treat it as fatal if it does. */
	ssize_t n = c->tls != NULL ? http_tls__write(c->tls, msg, sizeof(msg) - 1)
	                           : send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof(msg) - 1)
		c->state = CS_CLOSED;
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
	if (c->parser.scanned == 0)
		http_conn__set_deadline(c, lim->header_timeout_ms);
	if (c->headers == NULL)
		c->headers = mem_alloc(lim->max_headers * sizeof(*c->headers));
	c->busy = true;
	enum http_parse_status ret =
	    http_request_parser_parse(&c->parser, c->in + c->in_off, c->in_len - c->in_off,
	                              c->headers, &req->head, &head_len, &status, &error);
	if (ret == HTTP_PARSE_AGAIN)
		return false;
	if (ret == HTTP_PARSE_ERROR) {
		counter_inc(&lt->parse_errors);
		log_debug("http", "%s: refused request: %s", c->peer, error);
		conn_fail(c, status, error);
		return true;
	}

	counter_inc(&lt->requests);
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
				send_continue(c);
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
		if (req->head.body_kind == HTTP_BODY_LENGTH) {
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
			size_t consumed;
			const char *data;
			size_t data_len;
			int status;
			const char *error;
			enum http_parse_status ret =
			    http_chunked_decode(&req->chunked, c->in + c->in_off, avail, &consumed,
			                        &data, &data_len, &status, &error);
			if (ret == HTTP_PARSE_ERROR) {
				counter_inc(&c->lt->parse_errors);
				conn_fail(c, status, error);
				return true;
			}
			c->in_off += consumed;
			if (ret == HTTP_PARSE_AGAIN)
				return false;
			if (data_len > 0) {
				if (deliver_body(c, data, data_len) < 0 || req->sink_failed)
					return true;
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

/* ---------------------------------------------------------------- responses */

struct strv http_conn__date_line(struct loop_thread *lt)
{
	time_t now = time(NULL);
	if (now != lt->date_sec) {
		char date[32];
		lt->date_sec = now;
		clock_format_http_date(now, date, sizeof(date));
		lt->date_line_len = (size_t)snprintf(lt->date_line, sizeof(lt->date_line),
		                                     "\r\nDate: %s\r\n", date);
	}
	return strv_make(lt->date_line, lt->date_line_len);
}

/* Appends to a stack buffer known to be large enough (callers size it for the worst case). */
static char *put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

static char *put_u64(char *p, uint64_t v)
{
	return p + buf_format_u64(p, v);
}

#define PUT_LIT(p, lit) put((p), "" lit, sizeof(lit) - 1)

static bool status_has_body(int status)
{
	return !(status < 200 || status == 204 || status == 304);
}

/* Serialises the status line and headers into c->out and decides keep-alive. */
static void begin_response(struct conn *c)
{
	struct loop_thread *lt = c->lt;
	struct http_request *req = &c->req;
	struct buf *out = &c->out;
	bool v10 = req->head.method.ptr != NULL && req->head.version_minor == 0;

	if (req->status == 0)
		req->status = 200;
	bool has_body = status_has_body(req->status);
	if (req->producer == NULL)
		req->abort_fn = NULL; /* the application is done with req */
	if (req->producer != NULL && has_body && !req->head_only && !req->stream_sized) {
		if (v10)
			req->close_after = true; /* close-delimited */
		else
			req->chunked_out = true;
	}
	bool keep = c->keep_alive && !req->close_after && !lt->draining &&
	            (req->body_done || req->head.body_kind == HTTP_BODY_NONE) && !req->sink_failed;
	c->keep_alive = keep;

	/* Built in two stack pieces around the application's headers: this runs once per
	   response, so it avoids a buffer append per field. */
	char head[128], tail[128];
	const char *reason = http_status_reason(req->status);
	if (out->data == NULL)
		buf_init(out, OUT_BUF_MAX);
	char *p = put(head, v10 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
	p = put_u64(p, (uint64_t)(req->status % 1000));
	*p++ = ' ';
	p = put(p, reason, strlen(reason));
	struct strv date = http_conn__date_line(lt);
	p = put(p, date.ptr, date.len);
	buf_reset(out);
	buf_append(out, head, (size_t)(p - head));
	if (lt->server->set.server_name != NULL) {
		buf_append_lit(out, "Server: ");
		buf_append_str(out, lt->server->set.server_name);
		buf_append_lit(out, "\r\n");
	}
	buf_append_strv(out, buf_strv(&req->resp_headers));
	p = tail;
	if (has_body) {
		if (req->chunked_out) {
			p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
		} else if (req->producer == NULL || req->stream_sized) {
			uint64_t len = req->head_only && req->head_length_set ? req->head_length
			               : req->stream_sized                    ? req->stream_left
			               : req->file_fd >= 0                    ? req->file_left
			                                                      : req->resp_body.len;
			p = PUT_LIT(p, "Content-Length: ");
			p = put_u64(p, len);
			p = PUT_LIT(p, "\r\n");
		}
	}
	if (!keep)
		p = PUT_LIT(p, "Connection: close\r\n");
	else if (v10)
		p = PUT_LIT(p, "Connection: keep-alive\r\n");
	p = PUT_LIT(p, "\r\n");
	buf_append(out, tail, (size_t)(p - tail));
	assert(!buf_overflowed(out));

	if (!req->head_only && has_body && req->resp_body.len > 0 &&
	    req->resp_body.len <= SMALL_BODY) {
		/* One buffer, one send(): cheaper in the kernel than a two-part sendmsg. */
		buf_append(out, req->resp_body.data, req->resp_body.len);
		recycle(&req->resp_body);
	}
	if (req->head_only || !has_body) {
		/* Nothing after the head. */
		recycle(&req->resp_body);
		if (req->file_fd >= 0) {
			close(req->file_fd);
			req->file_fd = -1;
		}
		req->file_left = 0;
		if (req->producer != NULL) {
			/* The producer is never called: its owner learns it through the abort
			   handler, as when the client goes away. */
			req->producer = NULL;
			request_abort(req);
		}
	}
	c->out_sent = 0;
	c->body_sent = 0;
	c->state = CS_WRITING;
	http_conn__set_deadline(c, lt->server->set.limits.body_timeout_ms);
}

/* Fills c->out with the next framed piece of a streamed body. */
static int produce(struct conn *c)
{
	struct http_request *req = &c->req;
	char data[STREAM_CHUNK];

	size_t want = sizeof(data);
	if (req->stream_sized && req->stream_left < want)
		want = (size_t)req->stream_left;
	ssize_t n = want == 0 ? 0 : req->producer(req->producer_ctx, data, want);
	if (n == HTTP_PRODUCER_AGAIN) {
		c->stream_blocked = true;
		return 0;
	}
	if (n < 0 || (size_t)n > want)
		return -1;
	buf_reset(&c->out);
	c->out_sent = 0;
	if (req->stream_sized) {
		if (n == 0 && req->stream_left > 0)
			return -1; /* the promised length cannot be kept: cut the connection */
		req->stream_left -= (uint64_t)n;
	}
	if (n == 0) {
		c->stream_eof = true;
		req->abort_fn = NULL; /* the producer finished: the application let go */
		if (req->chunked_out)
			buf_append(&c->out, "0\r\n\r\n", 5);
		return 0;
	}
	if (req->chunked_out) {
		char line[24];
		buf_append(&c->out, line, http_chunked_format_size(line, (size_t)n));
	}
	buf_append(&c->out, data, (size_t)n);
	if (req->chunked_out)
		buf_append(&c->out, "\r\n", 2);
	return 0;
}

/* Returns 1 when the response is fully written, 0 when blocked, -1 on error. */
static int write_response(struct conn *c)
{
	struct http_request *req = &c->req;

	if (c->send_busy || c->poll_busy)
		return 0;
	for (;;) {
		size_t head_left = c->out.len - c->out_sent;
		size_t body_left = req->resp_body.len - c->body_sent;
		if (head_left > 0 || body_left > 0) {
			if (c->ring) {
				http_conn__ring_send(c, head_left, body_left);
				return 0;
			}
			if (c->tls != NULL) {
				int ret = http_conn__tls_write(c, head_left, body_left);
				if (ret <= 0)
					return ret;
				continue;
			}
			struct iovec iov[2];
			int n_iov = 0;
			if (head_left > 0)
				iov[n_iov++] = (struct iovec){c->out.data + c->out_sent, head_left};
			if (body_left > 0)
				iov[n_iov++] =
				    (struct iovec){req->resp_body.data + c->body_sent, body_left};
			struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
			ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN)
					return 0;
				if (errno == EINTR)
					continue;
				return -1;
			}
			size_t w = (size_t)n;
			size_t from_head = w < head_left ? w : head_left;
			c->out_sent += from_head;
			c->body_sent += w - from_head;
			http_conn__set_deadline(c, c->lt->server->set.limits.body_timeout_ms);
			continue;
		}
		if (req->file_fd >= 0 && req->file_left > 0) {
			if (c->tls != NULL) {
				if (http_conn__tls_file_chunk(c) < 0)
					return -1;
				continue;
			}
			size_t chunk =
			    req->file_left > (1u << 30) ? (1u << 30) : (size_t)req->file_left;
			ssize_t n = sendfile(c->fd, req->file_fd, &req->file_off, chunk);
			if (n < 0) {
				if (errno == EAGAIN && c->ring)
					http_conn__ring_poll_out(c);
				if (errno == EAGAIN)
					return 0;
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (n == 0)
				return -1; /* file shrank under us: the length was promised */
			req->file_left -= (uint64_t)n;
			http_conn__set_deadline(c, c->lt->server->set.limits.body_timeout_ms);
			continue;
		}
		if (req->producer != NULL && !c->stream_eof) {
			if (produce(c) < 0)
				return -1;
			if (c->stream_blocked)
				return 0;
			continue;
		}
		return 1;
	}
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

static void finish_response(struct conn *c)
{
	bool keep = c->keep_alive;
	const struct http_limits *lim = &c->lt->server->set.limits;

	request_reset(c);
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
			begin_response(c);
			break;
		case CS_WRITING: {
			int ret = write_response(c);
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
			conn_free(c);
			return;
		}
	}
}

/* Server-generated error response; always closes the connection afterwards. */
static void conn_fail(struct conn *c, int status, const char *message)
{
	struct http_request *req = &c->req;
	const char *code = status == 400   ? "HTTP-0400"
	                   : status == 413 ? "HTTP-0413"
	                   : status == 417 ? "HTTP-0417"
	                   : status == 431 ? "HTTP-0431"
	                                   : "HTTP-0408";

	request_abort(req);
	recycle(&req->resp_headers);
	recycle(&req->resp_body);
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
	struct buf *body = http_response_body(req);
	buf_append_lit(body, "{\"error\":{\"code\":\"");
	buf_append_str(body, code);
	buf_append_lit(body, "\",\"message\":\"");
	buf_append_json_escaped(body, strv_from_cstr(message));
	buf_append_lit(body, "\"}}\n");
	req->responded = true;
	c->response_ready = true;
	c->keep_alive = false;
	begin_response(c);
}

static void sweep(void *ctx)
{
	struct loop_thread *lt = ctx;
	uint64_t now = ioloop_now_ms(lt->loop);

	lt->sweep = timer_add(lt->loop, SWEEP_MS, sweep, lt);
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

/* ---------------------------------------------------------------- threads */

static void *loop_main(void *arg)
{
	struct loop_thread *lt = arg;
	struct http_server *server = lt->server;

	current_lt = lt;
	char name[16];
	snprintf(name, sizeof(name), "http-%u", lt->index);
	pthread_setname_np(pthread_self(), name);
	for (unsigned i = 0; i < server->spec_count; i++)
		lt->listen_ios[i] = io_add(lt->loop, lt->listen_fds[i], IO_READ, accept_ready, lt);
	lt->sweep = timer_add(lt->loop, SWEEP_MS, sweep, lt);
	if (server->set.on_thread_start != NULL)
		server->set.on_thread_start(lt->loop, server->set.ctx);
	ioloop_run(lt->loop);

	/* Stopped: whatever is left (a forced shutdown) is cut. */
	timer_remove(&lt->sweep);
	for (unsigned i = 0; i < server->spec_count; i++) {
		io_remove(&lt->listen_ios[i]);
		if (lt->listen_fds[i] >= 0) {
			close(lt->listen_fds[i]);
			lt->listen_fds[i] = -1;
		}
	}
	struct conn *c = lt->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if (c->state != CS_HANDLING)
			conn_free(c);
		c = next;
	}
	if (server->set.on_thread_stop != NULL)
		server->set.on_thread_stop(lt->loop, server->set.ctx);
	spares_free(lt);
	pthread_mutex_lock(&server->lock);
	server->threads_running--;
	pthread_cond_broadcast(&server->cond);
	pthread_mutex_unlock(&server->lock);
	return NULL;
}

struct http_server *http_server_create(const struct http_server_settings *settings)
{
	assert(settings->on_request != NULL);
	struct http_server *server = mem_calloc(1, sizeof(*server));
	server->set = *settings;
	if (settings->max_conns_per_source > 0)
		server->sources = http_source_cap_create(settings->max_conns_per_source);
	pthread_mutex_init(&server->lock, NULL);
	pthread_cond_init(&server->cond, NULL);
	return server;
}

int http_server_start(struct http_server *server, const char **error_r)
{
	unsigned n = server->set.threads;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (server->spec_count == 0) {
		*error_r = "no listen address";
		return -1;
	}
	for (unsigned i = 0; i < server->spec_count; i++) {
		if (server->specs[i].https_redirect && server->https_port == 0) {
			*error_r = "an HTTPS redirect needs a TLS listener";
			return -1;
		}
	}
	server->thread_count = n;
	server->threads = mem_calloc(n, sizeof(*server->threads));
	for (unsigned t = 0; t < n; t++) {
		struct loop_thread *lt = &server->threads[t];
		lt->server = server;
		lt->index = t;
		lt->loop = ioloop_create();
		random_bytes(&lt->id_prefix, sizeof(lt->id_prefix));
		for (unsigned i = 0; i < server->spec_count; i++) {
			if (t == 0) {
				lt->listen_fds[i] = server->first_fds[i];
				continue;
			}
			uint16_t port;
			if (bind_socket(server->specs[i].host, server->specs[i].port, true,
			                &lt->listen_fds[i], &port, error_r) < 0)
				return -1;
			if (listen(lt->listen_fds[i], SOMAXCONN) < 0) {
				*error_r = "listen failed";
				return -1;
			}
		}
	}
	server->started = true;
	atomic_store_explicit(&server->stats_threads, n, memory_order_release);
	server->threads_running = n;
	for (unsigned t = 0; t < n; t++) {
		if (pthread_create(&server->threads[t].thread, NULL, loop_main,
		                   &server->threads[t]) != 0) {
			*error_r = "pthread_create failed";
			return -1;
		}
	}
	return 0;
}

static void begin_drain(void *ctx)
{
	struct loop_thread *lt = ctx;
	lt->draining = true;
	for (unsigned i = 0; i < lt->server->spec_count; i++) {
		io_remove(&lt->listen_ios[i]);
		close(lt->listen_fds[i]);
		lt->listen_fds[i] = -1;
	}
	struct conn *c = lt->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if ((c->state == CS_HEAD && c->in_len == c->in_off) || c->state == CS_HANDSHAKE) {
			c->state = CS_CLOSED;
			http_conn__run(c);
		}
		c = next;
	}
	if (lt->conn_count == 0)
		ioloop_stop(lt->loop);
}

unsigned http_server_shutdown(struct http_server *server, uint64_t timeout_ms)
{
	if (!server->started)
		return 0;
	for (unsigned t = 0; t < server->thread_count; t++)
		ioloop_post(server->threads[t].loop, begin_drain, &server->threads[t]);

	struct timespec deadline = clock_realtime_deadline(timeout_ms);
	pthread_mutex_lock(&server->lock);
	while (server->threads_running > 0) {
		if (pthread_cond_timedwait(&server->cond, &server->lock, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&server->lock);

	unsigned cut = 0;
	for (unsigned t = 0; t < server->thread_count; t++) {
		struct loop_thread *lt = &server->threads[t];
		cut += (unsigned)atomic_load(&lt->open);
		ioloop_stop(lt->loop);
		pthread_join(lt->thread, NULL);
	}
	server->started = false;
	return cut;
}

void http_server_destroy(struct http_server **serverp)
{
	struct http_server *server = *serverp;
	if (server == NULL)
		return;
	if (server->started)
		http_server_shutdown(server, 0);
	atomic_store(&server->stats_threads, 0);
	for (unsigned t = 0; t < server->thread_count; t++)
		ioloop_destroy(&server->threads[t].loop);
	if (server->threads == NULL) {
		for (unsigned i = 0; i < server->spec_count; i++)
			close(server->first_fds[i]);
	}
	for (unsigned i = 0; i < server->spec_count; i++)
		http_tls_ctx_unref(&server->specs[i].tls);
	mem_free(&server->threads);
	http_source_cap_destroy(&server->sources);
	pthread_cond_destroy(&server->cond);
	pthread_mutex_destroy(&server->lock);
	mem_free(serverp);
}

void http_server_get_stats(struct http_server *server, struct http_server_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	unsigned n = atomic_load_explicit(&server->stats_threads, memory_order_acquire);
	for (unsigned t = 0; t < n; t++) {
		struct loop_thread *lt = &server->threads[t];
		stats_r->connections_accepted += atomic_load(&lt->accepted);
		stats_r->connections_open += atomic_load(&lt->open);
		stats_r->requests += atomic_load(&lt->requests);
		stats_r->parse_errors += atomic_load(&lt->parse_errors);
		stats_r->timeouts += atomic_load(&lt->timeouts);
		stats_r->tls_handshake_failures += atomic_load(&lt->tls_failures);
		stats_r->head_timeouts += atomic_load(&lt->head_timeouts);
		stats_r->body_timeouts += atomic_load(&lt->body_timeouts);
		stats_r->source_refusals += atomic_load(&lt->source_refusals);
	}
}

void http_server_stats_format(struct buf *out, const char *prefix,
                              const struct http_server_stats *st)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} fields[] = {
	    {"connections_accepted_total", "counter", "Connections accepted since start.",
	     offsetof(struct http_server_stats, connections_accepted)},
	    {"connections_open", "gauge", "Connections open now.",
	     offsetof(struct http_server_stats, connections_open)},
	    {"requests_total", "counter", "Request heads parsed since start.",
	     offsetof(struct http_server_stats, requests)},
	    {"parse_errors_total", "counter",
	     "Requests refused as malformed or over a limit (400, 413, 417, 431).",
	     offsetof(struct http_server_stats, parse_errors)},
	    {"timeouts_total", "counter",
	     "Connections timed out reading a request or writing a response.",
	     offsetof(struct http_server_stats, timeouts)},
	    {"tls_handshake_failures_total", "counter", "TLS handshakes that failed.",
	     offsetof(struct http_server_stats, tls_handshake_failures)},
	    {"head_timeouts_total", "counter",
	     "Requests cut with 408: the head took longer than header_timeout.",
	     offsetof(struct http_server_stats, head_timeouts)},
	    {"body_timeouts_total", "counter",
	     "Requests cut with 408: the body fell silent or below its minimum rate.",
	     offsetof(struct http_server_stats, body_timeouts)},
	    {"source_refusals_total", "counter",
	     "Connections refused: their address had its most connections open.",
	     offsetof(struct http_server_stats, source_refusals)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char name[128];
		snprintf(name, sizeof(name), "%.64s%s", prefix, fields[i].name);
		prom_metric(out, name, fields[i].type, fields[i].help,
		            *(const uint64_t *)((const char *)st + fields[i].offset));
	}
}

/* ---------------------------------------------------------------- request API */

const struct http_request_head *http_request_head(const struct http_request *req)
{
	return &req->head;
}

void http_request_drop_path_params(struct http_request *req)
{
	struct strv *path = &req->head.path;
	for (size_t i = path->len; i > 0 && path->ptr[i - 1] != '/'; i--) {
		if (path->ptr[i - 1] == ';')
			path->len = i - 1;
	}
}

struct strv http_request_header(const struct http_request *req, const char *name)
{
	return http_request_head_header(&req->head, name);
}

struct pool *http_request_pool(struct http_request *req)
{
	if (req->pool == NULL)
		req->pool = pool_create(4096);
	return req->pool;
}

const char *http_request_id(const struct http_request *req)
{
	return req->id;
}

const char *http_request_peer(const struct http_request *req)
{
	return req->conn->peer;
}

const char *http_request_peer_ip(const struct http_request *req)
{
	return req->conn->peer_ip;
}

bool http_request_is_tls(const struct http_request *req)
{
	return req->conn->tls != NULL;
}

struct ioloop *http_request_loop(struct http_request *req)
{
	return req->conn->lt->loop;
}

void http_request_set_body_sink(struct http_request *req, http_body_sink_fn *sink, void *ctx)
{
	req->sink = sink;
	req->sink_ctx = ctx;
}

void http_request_set_context(struct http_request *req, void *ctx)
{
	req->app_ctx = ctx;
}

void *http_request_get_context(const struct http_request *req)
{
	return req->app_ctx;
}

struct strv http_request_body(const struct http_request *req)
{
	return buf_strv(&req->body);
}

uint64_t http_request_body_size(const struct http_request *req)
{
	return req->body_received;
}

void http_response_status(struct http_request *req, int status)
{
	req->status = status;
}

void http_response_header(struct http_request *req, const char *name, const char *value)
{
	http_response_header_strv(req, strv_from_cstr(name), strv_from_cstr(value));
}

void http_response_header_strv(struct http_request *req, struct strv name, struct strv value)
{
	const char *n = name.ptr, *value_p = value.ptr;
	size_t name_len = name.len, value_len = value.len;
	assert(memchr(n, '\r', name_len) == NULL && memchr(n, '\n', name_len) == NULL &&
	       memchr(value_p, '\r', value_len) == NULL &&
	       memchr(value_p, '\n', value_len) == NULL);
	if (req->resp_headers.data == NULL)
		buf_init(&req->resp_headers, 64 * 1024);
	struct buf *b = &req->resp_headers;
	buf_append(b, n, name_len);
	buf_append(b, ": ", 2);
	buf_append(b, value_p, value_len);
	buf_append(b, "\r\n", 2);
}

void http_response_headerf(struct http_request *req, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(value, sizeof(value), fmt, args);
	va_end(args);
	http_response_header(req, name, value);
}

struct buf *http_response_body(struct http_request *req)
{
	if (req->resp_body.data == NULL)
		buf_init(&req->resp_body, req->conn->lt->server->set.limits.max_buffered_body * 16);
	return &req->resp_body;
}

void http_response_file(struct http_request *req, int fd, off_t offset, uint64_t len)
{
	if (req->file_fd >= 0)
		close(req->file_fd);
	req->file_fd = fd;
	req->file_off = offset;
	req->file_left = len;
}

void http_response_stream(struct http_request *req, http_body_producer_fn *producer, void *ctx)
{
	req->producer = producer;
	req->producer_ctx = ctx;
}

void http_response_stream_sized(struct http_request *req, http_body_producer_fn *producer,
                                void *ctx, uint64_t length)
{
	http_response_stream(req, producer, ctx);
	req->stream_sized = true;
	req->stream_left = length;
}

void http_response_head_length(struct http_request *req, uint64_t length)
{
	req->head_length_set = true;
	req->head_length = length;
}

void http_request_pause_body(struct http_request *req)
{
	assert(current_lt == req->conn->lt);
	req->body_held = true;
}

void http_request_resume_body(struct http_request *req)
{
	struct conn *c = req->conn;
	assert(current_lt == c->lt);
	if (!req->body_paused && !req->body_held)
		return;
	req->body_paused = req->body_held = false;
	if (c->state != CS_BODY)
		return;
	if (req->continue_pending) {
		req->continue_pending = false;
		send_continue(c);
	}
	http_conn__set_deadline(c, c->lt->server->set.limits.body_timeout_ms);
	c->rate_mark_ms = ioloop_now_ms(c->lt->loop);
	c->rate_mark_bytes = req->body_received;
	if (!c->in_callback)
		http_conn__run(c);
}

void http_request_stop_body(struct http_request *req)
{
	struct conn *c = req->conn;
	assert(current_lt == c->lt);
	req->sink_failed = true;
	req->body_paused = req->body_held = req->continue_pending = false;
	if (c->state == CS_BODY && !c->in_callback)
		http_conn__run(c);
}

void http_response_close(struct http_request *req)
{
	req->close_after = true;
}

static void response_posted(void *ctx)
{
	struct conn *c = ctx;
	c->response_ready = true;
	http_conn__run(c);
}

void http_response_send(struct http_request *req)
{
	struct conn *c = req->conn;
	assert(!req->responded);
	req->responded = true;
	if (current_lt == c->lt) {
		c->response_ready = true;
		if (!c->in_callback)
			http_conn__run(c);
	} else {
		ioloop_post(c->lt->loop, response_posted, c);
	}
}

void http_response_resume(struct http_request *req)
{
	struct conn *c = req->conn;
	assert(current_lt == c->lt);
	if (c->state == CS_WRITING && c->stream_blocked) {
		c->stream_blocked = false;
		http_conn__run(c);
	}
}

void http_request_set_abort_handler(struct http_request *req, http_abort_fn *fn, void *ctx)
{
	req->abort_fn = fn;
	req->abort_ctx = ctx;
}

void http_response_simple(struct http_request *req, int status, const char *content_type,
                          const char *body, size_t body_len)
{
	http_response_status(req, status);
	if (content_type != NULL)
		http_response_header(req, "Content-Type", content_type);
	if (body_len > 0)
		buf_append(http_response_body(req), body, body_len);
	http_response_send(req);
}

void http_response_error(struct http_request *req, int status, const char *code,
                         const char *message)
{
	struct buf *body = http_response_body(req);
	http_response_status(req, status);
	http_response_header(req, "Content-Type", "application/json; charset=utf-8");
	buf_reset(body);
	buf_append_lit(body, "{\"error\":{\"code\":\"");
	buf_append_json_escaped(body, strv_from_cstr(code));
	buf_append_lit(body, "\",\"message\":\"");
	buf_append_json_escaped(body, strv_from_cstr(message));
	buf_append_lit(body, "\"}}\n");
	http_response_send(req);
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 207:
		return "Multi-Status";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Range Not Satisfiable";
	case 417:
		return "Expectation Failed";
	case 421:
		return "Misdirected Request";
	case 423:
		return "Locked";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 507:
		return "Insufficient Storage";
	default:
		return "Unknown";
	}
}
