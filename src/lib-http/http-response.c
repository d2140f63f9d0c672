/* SPDX-License-Identifier: MIT */
/* The response side of the application API (http-server.h): status, headers and body, and
   handing the response to the connection's loop from any thread. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http-server-private.h"
#include "ioloop.h"

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

void http_response_stream_events(struct http_request *req, http_body_producer_fn *producer,
                                 void *ctx)
{
	http_response_stream(req, producer, ctx);
	req->stream_hangup = true;
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
	if (http_server__current_lt == c->lt) {
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
	assert(http_server__current_lt == c->lt);
	if (c->state == CS_WRITING && c->stream_blocked) {
		c->stream_blocked = false;
		http_conn__run(c);
	}
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
	http_response__error_body(body, code, message);
	http_response_send(req);
}

void http_response__error_body(struct buf *body, const char *code, const char *message)
{
	buf_append_lit(body, "{\"error\":{\"code\":\"");
	buf_append_json_escaped(body, strv_from_cstr(code));
	buf_append_lit(body, "\",\"message\":\"");
	buf_append_json_escaped(body, strv_from_cstr(message));
	buf_append_lit(body, "\"}}\n");
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
	case 422:
		return "Unprocessable Content";
	case 423:
		return "Locked";
	case 424:
		return "Failed Dependency";
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
