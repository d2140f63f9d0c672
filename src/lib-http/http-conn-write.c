/* SPDX-License-Identifier: MIT */
/* A connection's response on the wire: the status line and headers, then the body from a
   buffer, a file (sendfile) or a producer, framed with Content-Length or chunks. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ajp-writer.h"
#include "clock.h"
#include "http-chunked.h"
#include "http-server-private.h"
#include "http-tls.h"

void http_conn__send_continue(struct conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	/* The socket's send buffer is empty at this point (the previous response was fully
	   written), so a short write cannot happen in practice; treat it as fatal if it does. */
	ssize_t n = c->tls != NULL ? http_tls__write(c->tls, msg, sizeof(msg) - 1)
	                           : send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof(msg) - 1)
		c->state = CS_CLOSED;
}

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

bool http_conn__response_keep(const struct conn *c)
{
	const struct http_request *req = &c->req;
	return c->keep_alive && !req->close_after && !c->lt->draining &&
	       (req->body_done || req->head.body_kind == HTTP_BODY_NONE) && !req->sink_failed;
}

uint64_t http_conn__response_length(const struct http_request *req)
{
	return req->head_only && req->head_length_set ? req->head_length
	       : req->stream_sized                    ? req->stream_left
	       : req->file_fd >= 0                    ? req->file_left
	                                              : req->resp_body.len;
}

void http_conn__response_drop_body(struct http_request *req)
{
	http_conn__recycle(&req->resp_body);
	if (req->file_fd >= 0) {
		close(req->file_fd);
		req->file_fd = -1;
	}
	req->file_left = 0;
	if (req->producer != NULL) {
		/* The producer is never called: its owner learns it through the abort handler,
		   as when the client goes away. */
		req->producer = NULL;
		http_conn__request_abort(req);
	}
}

/* Serialises the status line and headers into c->out and decides keep-alive. */
void http_conn__begin_response(struct conn *c)
{
	struct loop_thread *lt = c->lt;
	struct http_request *req = &c->req;
	struct buf *out = &c->out;
	bool v10 = req->head.method.ptr != NULL && req->head.version_minor == 0;

	if (c->ajp) {
		http_conn__ajp_begin_response(c);
		return;
	}
	if (req->status == 0)
		req->status = 200;
	bool has_body = http_conn__status_has_body(req->status);
	if (req->producer == NULL)
		req->abort_fn = NULL; /* the application is done with req */
	if (req->producer != NULL && has_body && !req->head_only && !req->stream_sized) {
		if (v10)
			req->close_after = true; /* close-delimited */
		else
			req->chunked_out = true;
	}
	bool keep = http_conn__response_keep(c);
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
			p = PUT_LIT(p, "Content-Length: ");
			p = put_u64(p, http_conn__response_length(req));
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

	if (!req->head_only && has_body && req->producer == NULL)
		req->body_out = req->file_fd >= 0 ? req->file_left : req->resp_body.len;
	if (!req->head_only && has_body && req->resp_body.len > 0 &&
	    req->resp_body.len <= SMALL_BODY) {
		/* One buffer, one send(): cheaper in the kernel than a two-part sendmsg. */
		buf_append(out, req->resp_body.data, req->resp_body.len);
		http_conn__recycle(&req->resp_body);
	}
	if (req->head_only || !has_body)
		http_conn__response_drop_body(req); /* nothing after the head */
	c->out_sent = 0;
	c->body_sent = 0;
	c->state = CS_WRITING;
	http_conn__set_deadline(c, lt->server->set.limits.body_timeout_ms);
}

ssize_t http_conn__file_read(struct http_request *req, char *data, size_t size)
{
	size_t want = req->file_left < size ? (size_t)req->file_left : size;
	ssize_t n;

	do
		n = pread(req->file_fd, data, want, req->file_off);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1; /* a read error, or the file shrank: the length was promised */
	req->file_off += n;
	req->file_left -= (uint64_t)n;
	return n;
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
		if (c->ring && req->stream_hangup)
			http_conn__ring_poll_hup(c);
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
	req->body_out += (uint64_t)n;
	if (c->ajp) {
		ajp_writer_body(&c->out, data, (size_t)n);
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
int http_conn__write_response(struct conn *c)
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
			if (c->tls != NULL || c->ajp) {
				if ((c->ajp ? http_conn__ajp_file_chunk(c)
				            : http_conn__tls_file_chunk(c)) < 0)
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
		if (c->ajp && !c->ajp_ended) {
			http_conn__ajp_end(c);
			continue;
		}
		return 1;
	}
}
