/* SPDX-License-Identifier: MIT */
/* AJP13 connections (docs/internals/ajp.md): the same state machine as HTTP (http-conn.c)
   with the head read from a FORWARD_REQUEST, the body from body packets the server asks for
   one at a time, and the response framed as SEND_HEADERS, SEND_BODY_CHUNK and END_RESPONSE.
   The web server reuses the connection for request after request, so keep-alive is the rule
   and a response ends with END_RESPONSE(reuse) instead of a close. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ajp-parser.h"
#include "ajp-writer.h"
#include "http-server-private.h"
#include "log.h"
#include "pool.h"

/* A control packet (CPONG, GET_BODY_CHUNK) sent as it is: while the connection waits for a
   request or its body, nothing else of ours is in the socket's send buffer, so a short write
   does not happen in practice; the caller closes the connection if it does. */
static bool send_small(struct conn *c, const char *data, size_t len)
{
	ssize_t n;
	do
		n = send(c->fd, data, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len;
}

/* The FORWARD_REQUEST payload becomes the request's head; *status_r 403 for a wrong or
   missing secret. */
static enum http_parse_status take_forward(struct conn *c, struct strv payload, int *status_r,
                                           const char **error_r)
{
	struct http_request *req = &c->req;
	struct pool *pool = http_request_pool(req);
	const struct http_limits *lim = &c->lt->server->set.limits;
	struct ajp_forward fwd;

	/* The views must outlive the input buffer, which the body overwrites. */
	char *copy = pool_alloc(pool, payload.len + 1);
	memcpy(copy, payload.ptr, payload.len);
	if (ajp_parser_forward(copy, payload.len, pool, lim->max_headers, &fwd, status_r, error_r) <
	    0)
		return HTTP_PARSE_ERROR;
	if (c->ajp_secret != NULL &&
	    (!fwd.has_secret || !ajp_parser_secret_equal(fwd.secret, c->ajp_secret))) {
		log_warn("ajp", "%s: request without the shared secret refused", c->peer);
		*status_r = 403;
		*error_r = "AJP secret missing or wrong";
		return HTTP_PARSE_ERROR;
	}
	req->head = fwd.head;
	req->forwarded_tls = fwd.is_ssl;
	/* The client is the front end's client: the connection's peer is the front end, which
	   the secret (and the loopback bind) vouch for. */
	memcpy(c->peer_ip, fwd.remote_addr.ptr, fwd.remote_addr.len);
	c->peer_ip[fwd.remote_addr.len] = '\0';
	/* With a Content-Length, the first body packet follows unasked. */
	c->ajp_asked = fwd.head.body_kind == HTTP_BODY_LENGTH;
	return HTTP_PARSE_OK;
}

enum http_parse_status http_conn__ajp_head(struct conn *c, size_t *head_len_r, int *status_r,
                                           const char **error_r)
{
	for (;;) {
		struct strv payload;
		size_t packet_len;
		enum http_parse_status ret = ajp_parser_packet(
		    c->in + c->in_off, c->in_len - c->in_off, &payload, &packet_len, error_r);
		if (ret == HTTP_PARSE_ERROR) {
			*status_r = 0; /* framing is lost: nothing sensible can be answered */
			return ret;
		}
		if (ret == HTTP_PARSE_AGAIN) {
			c->parser.scanned = c->in_len - c->in_off; /* the head deadline runs */
			return ret;
		}
		unsigned type = payload.len > 0 ? (unsigned char)payload.ptr[0] : 0;
		if (type == AJP_FORWARD_REQUEST) {
			*head_len_r = packet_len;
			return take_forward(c, payload, status_r, error_r);
		}
		c->in_off += packet_len;
		c->parser.scanned = 0;
		if (type == AJP_CPING) {
			char pong[5];
			if (!send_small(c, pong, ajp_writer_cpong(pong))) {
				*status_r = 0;
				*error_r = "CPONG not sent";
				return HTTP_PARSE_ERROR;
			}
		} else if (payload.len > 0) {
			/* SHUTDOWN, PING or a stray type: never obeyed (an empty body packet left
			   over from a body answered early is skipped) */
			*status_r = 0;
			*error_r = "unexpected AJP13 packet type";
			return HTTP_PARSE_ERROR;
		}
		if (c->in_off == c->in_len)
			return HTTP_PARSE_AGAIN;
	}
}

enum http_parse_status http_conn__ajp_body(struct conn *c, const char **data_r, size_t *len_r,
                                           int *status_r, const char **error_r)
{
	struct http_request *req = &c->req;
	struct strv payload, data;
	size_t packet_len;

	*status_r = 400;
	enum http_parse_status ret = ajp_parser_packet(c->in + c->in_off, c->in_len - c->in_off,
	                                               &payload, &packet_len, error_r);
	if (ret == HTTP_PARSE_ERROR) {
		*status_r = 0;
		return ret;
	}
	if (ret == HTTP_PARSE_AGAIN) {
		if (!c->ajp_asked) {
			char ask[7];
			c->ajp_asked = true;
			if (!send_small(c, ask, ajp_writer_get_body(ask, AJP_BODY_DATA_MAX))) {
				*status_r = 0;
				*error_r = "GET_BODY_CHUNK not sent";
				return HTTP_PARSE_ERROR;
			}
		}
		return ret;
	}
	c->ajp_asked = false;
	c->in_off += packet_len;
	if (ajp_parser_body(payload, &data, error_r) < 0)
		return HTTP_PARSE_ERROR;
	if (req->head.body_kind == HTTP_BODY_LENGTH) {
		if (data.len == 0 || data.len > req->body_remaining) {
			*error_r = "AJP13 body packets disagree with the Content-Length";
			return HTTP_PARSE_ERROR;
		}
		req->body_remaining -= data.len;
	} else if (req->body_received + data.len > c->lt->server->set.limits.max_body) {
		*status_r = 413;
		*error_r = "request body too large";
		return HTTP_PARSE_ERROR;
	}
	*data_r = data.ptr;
	*len_r = data.len;
	return HTTP_PARSE_OK;
}

void http_conn__ajp_begin_response(struct conn *c)
{
	struct loop_thread *lt = c->lt;
	struct http_request *req = &c->req;
	struct buf *out = &c->out;

	if (req->status == 0)
		req->status = 200;
	bool has_body = http_conn__status_has_body(req->status);
	if (req->producer == NULL)
		req->abort_fn = NULL; /* the application is done with req */
	c->keep_alive = http_conn__response_keep(c);
	int64_t length = -1;
	if (has_body && (req->producer == NULL || req->stream_sized))
		length = (int64_t)http_conn__response_length(req);
	if (out->data == NULL)
		buf_init(out, OUT_BUF_MAX);
	buf_reset(out);
	if (ajp_writer_headers(out, req->status, http_status_reason(req->status),
	                       lt->server->set.server_name, buf_strv(&req->resp_headers),
	                       length) < 0) {
		log_error("ajp", "%s: response header fields exceed one AJP13 packet (8 KiB)",
		          c->peer);
		c->state = CS_CLOSED;
		return;
	}
	if (req->head_only || !has_body) {
		http_conn__response_drop_body(req);
	} else if (req->resp_body.len > 0) {
		ajp_writer_body(out, req->resp_body.data, req->resp_body.len);
		http_conn__recycle(&req->resp_body);
	}
	c->ajp_ended = false;
	c->out_sent = 0;
	c->body_sent = 0;
	c->state = CS_WRITING;
	http_conn__set_deadline(c, lt->server->set.limits.body_timeout_ms);
}

int http_conn__ajp_file_chunk(struct conn *c)
{
	char data[8 * AJP_CHUNK_DATA_MAX];
	ssize_t n = http_conn__file_read(&c->req, data, sizeof(data));
	if (n < 0)
		return -1;
	buf_reset(&c->out);
	ajp_writer_body(&c->out, data, (size_t)n);
	c->out_sent = 0;
	return 0;
}

void http_conn__ajp_end(struct conn *c)
{
	buf_reset(&c->out);
	ajp_writer_end(&c->out, c->keep_alive);
	c->out_sent = 0;
	c->ajp_ended = true;
}
