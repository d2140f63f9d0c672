/* SPDX-License-Identifier: MIT */
/* A TLS connection's handshake, reads and writes through OpenSSL (docs/internals/tls.md); the
   state machine in http-conn.c calls these where a plain connection makes a system call or
   a ring operation. */

#include "http-server-private.h"
#include "http-tls.h"
#include "ioloop.h"
#include "log.h"

/* OpenSSL may need to write while we read (or the reverse): watch for writability only for as
   long as it says so. The same flag as a blocked response write, which cannot coincide. */
void http_conn__tls_want_write(struct conn *c, bool want)
{
	if (want != c->waiting_write) {
		c->waiting_write = want;
		io_set_events(c->io, want ? IO_READ | IO_WRITE : IO_READ);
	}
}

/* Returns 1 when the handshake is done or failed (the state says which), 0 to wait. */
int http_conn__tls_handshake(struct conn *c)
{
	const char *error;
	int ret = http_tls__handshake(c->tls, &error);
	if (ret == HTTP_TLS_WANT_READ || ret == HTTP_TLS_WANT_WRITE) {
		http_conn__tls_want_write(c, ret == HTTP_TLS_WANT_WRITE);
		return 0;
	}
	if (ret < 0) {
		counter_inc(&c->lt->tls_failures);
		log_debug("http", "%s: TLS handshake failed: %s", c->peer, error);
		c->state = CS_CLOSED;
		return 1;
	}
	http_conn__tls_want_write(c, false);
	/* Without a new edge: the client's first request may already wait in the socket. */
	c->read_drained = false;
	c->state = CS_HEAD;
	http_conn__set_deadline(c, c->lt->server->set.limits.idle_timeout_ms);
	return 1;
}

/* conn_read() over TLS. A record can hold more than room, and OpenSSL keeps the rest: so the
   connection counts as drained only when OpenSSL itself found the socket empty (WANT_READ),
   never after a short read as on a plain socket. */
int http_conn__tls_read(struct conn *c, size_t room)
{
	ssize_t n = http_tls__read(c->tls, c->in + c->in_len, room);
	if (n > 0) {
		c->in_len += (size_t)n;
		if (c->waiting_write && c->state != CS_WRITING)
			http_conn__tls_want_write(c, false);
		return 1;
	}
	if (n == HTTP_TLS_WANT_READ) {
		c->read_drained = true;
		return 0;
	}
	if (n == HTTP_TLS_WANT_WRITE) {
		http_conn__tls_want_write(c, true);
		return 0;
	}
	c->state = CS_CLOSED;
	return -1;
}

/* http_conn__write_response()'s in-memory part over TLS: the head, then the body, one
   SSL_write() each. Returns 1 on progress, 0 when blocked, -1 on error. */
int http_conn__tls_write(struct conn *c, size_t head_left, size_t body_left)
{
	struct http_request *req = &c->req;
	bool head = head_left > 0;
	const char *p = head ? c->out.data + c->out_sent : req->resp_body.data + c->body_sent;
	ssize_t n = http_tls__write(c->tls, p, head ? head_left : body_left);
	if (n == HTTP_TLS_WANT_READ || n == HTTP_TLS_WANT_WRITE)
		return 0;
	if (n < 0)
		return -1;
	if (head)
		c->out_sent += (size_t)n;
	else
		c->body_sent += (size_t)n;
	http_conn__set_deadline(c, c->lt->server->set.limits.body_timeout_ms);
	return 1;
}

/* sendfile() cannot encrypt: the next piece of the file goes through c->out instead (its head
   is sent by now), the way produce() stages a streamed body. */
int http_conn__tls_file_chunk(struct conn *c)
{
	char data[TLS_FILE_CHUNK];
	ssize_t n = http_conn__file_read(&c->req, data, sizeof(data));
	if (n < 0)
		return -1;
	buf_reset(&c->out);
	buf_append(&c->out, data, (size_t)n);
	c->out_sent = 0;
	return 0;
}
