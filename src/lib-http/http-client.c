/* SPDX-License-Identifier: MIT */
/* Blocking HTTP/1.1 client: one connection per request, poll()-bounded by one deadline. */
#include "http-client.h"

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "hostport.h"
#include "http-parser-private.h"
#include "http-response-parser.h"
#include "mem.h"

#define READ_CHUNK 65536

/* Errors name the origin the user typed, so "which server?" is never a question. */
static __thread char error_buf[512];

struct url {
	char origin[300];    /* "http://" + authority, for messages */
	char authority[260]; /* Host header value */
	struct hostport hp;  /* host without brackets, port */
	const char *prefix;  /* path prefix without trailing '/', points into the base URL */
	size_t prefix_len;
};

struct exchange {
	const struct url *url;
	int fd;
	uint64_t deadline; /* 0 = none */
	unsigned timeout_ms;
};

static int fail(const char **error_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const char **error_r, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(error_buf, sizeof(error_buf), fmt, args);
	va_end(args);
	*error_r = error_buf;
	return -1;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return strv_eq_ci(strv_make(s, strnlen(s, strlen(prefix))), strv_from_cstr(prefix));
}

/* Bytes that may not appear in the authority or path we put on the request line and in Host:
   whitespace, controls and non-ASCII (which would need encoding first). */
static bool has_bad_byte(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == '^' || c == '`' || c == '{' || c == '|' || c == '}')
			return true;
	}
	return false;
}

static int parse_url(const char *base_url, struct url *url_r, const char **error_r)
{
	if (has_prefix_ci(base_url, "https://"))
		return fail(error_r, "%s: https is not supported yet (use http://)", base_url);
	if (!has_prefix_ci(base_url, "http://"))
		return fail(error_r, "%s: not an http:// URL", base_url);

	const char *auth = base_url + 7;
	size_t auth_len = strcspn(auth, "/?#");
	const char *rest = auth + auth_len;
	if (*rest == '?' || *rest == '#')
		return fail(error_r, "%s: the URL must not have a query or fragment", base_url);
	if (auth_len == 0 || auth_len >= sizeof(url_r->authority))
		return fail(error_r, "%s: missing or overlong host", base_url);
	if (has_bad_byte(auth, strlen(auth)))
		return fail(error_r, "%s: invalid character in the URL", base_url);
	if (memchr(auth, '@', auth_len) != NULL)
		return fail(error_r, "%s: user information in the URL is not supported", base_url);

	const char *what;
	enum hostport_result r = hostport_parse(strv_make(auth, auth_len), HOSTPORT_PORT_OPTIONAL,
	                                        80, &url_r->hp, &what);
	if (r == HOSTPORT_BAD_PORT)
		return fail(error_r, "%s: invalid port '%.*s'", base_url,
		            STRV_FMT(url_r->hp.port_text));
	if (r != HOSTPORT_OK)
		return fail(error_r, "%s: %s", base_url, what);
	memcpy(url_r->authority, auth, auth_len);
	url_r->authority[auth_len] = '\0';
	snprintf(url_r->origin, sizeof(url_r->origin), "http://%s", url_r->authority);
	url_r->prefix = rest;
	url_r->prefix_len = strlen(rest);
	while (url_r->prefix_len > 0 && rest[url_r->prefix_len - 1] == '/')
		url_r->prefix_len--;
	return 0;
}

/* Milliseconds left before the deadline for poll(): -1 = no deadline, 0 = expired. */
static int remaining_ms(const struct exchange *x)
{
	if (x->deadline == 0)
		return -1;
	uint64_t now = clock_mono_ms();
	if (now >= x->deadline)
		return 0;
	uint64_t left = x->deadline - now;
	return left > 60000 ? 60000 : (int)left;
}

/* Waits until fd is ready for events; 0, or -1 on timeout (errno ETIMEDOUT) or poll error. */
static int wait_fd(struct exchange *x, short events)
{
	for (;;) {
		struct pollfd pfd = {.fd = x->fd, .events = events};
		int ms = remaining_ms(x);
		if (ms == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		int n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_one(struct exchange *x, const struct addrinfo *ai, int *errno_r)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		*errno_r = errno;
		return -1;
	}
	x->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			*errno_r = errno;
			goto fail;
		}
		if (wait_fd(x, POLLOUT) < 0) {
			*errno_r = errno;
			goto fail;
		}
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr != 0) {
			*errno_r = soerr;
			goto fail;
		}
	}
	return 0;
fail:
	close(fd);
	x->fd = -1;
	return -1;
}

static int connect_url(struct exchange *x, const char **error_r)
{
	struct addrinfo *res;
	const char *what;
	if (hostport_resolve(x->url->hp.host, x->url->hp.port, &res, &what) < 0)
		return fail(error_r, "cannot connect to %s: cannot resolve '%s': %s",
		            x->url->origin, x->url->hp.host, what);
	int err = ECONNREFUSED;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (connect_one(x, ai, &err) == 0)
			break;
		if (err == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (x->fd >= 0)
		return 0;
	if (err == ETIMEDOUT && x->timeout_ms > 0)
		return fail(error_r, "cannot connect to %s: timed out after %u ms", x->url->origin,
		            x->timeout_ms);
	return fail(error_r, "cannot connect to %s: %s", x->url->origin, strerror(err));
}

/* Sends all of data; -1 with errno on failure (ETIMEDOUT when the deadline passed). */
static int send_all(struct exchange *x, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(x->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(x, POLLOUT) < 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

/* Reads what is available into out (READ_CHUNK bytes); returns the count, 0 at EOF, -1 with
   errno on error or timeout. */
static ssize_t recv_some(struct exchange *x, char *out)
{
	for (;;) {
		ssize_t n = recv(x->fd, out, READ_CHUNK, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (wait_fd(x, POLLIN) < 0)
			return -1;
	}
}

static int read_error(struct exchange *x, const char *what, const char **error_r)
{
	if (errno == ETIMEDOUT)
		return fail(error_r, "timed out after %u ms waiting for %s from %s", x->timeout_ms,
		            what, x->url->origin);
	return fail(error_r, "error reading %s from %s: %s", what, x->url->origin, strerror(errno));
}

/* The response-head limits: the strict parser's, sized for this client. */
static void head_limits(struct http_limits *limits)
{
	http_limits_default(limits);
	limits->max_line = HTTP_CLIENT_MAX_HEAD;
	limits->max_header_bytes = HTTP_CLIENT_MAX_HEAD;
	limits->max_headers = HTTP_CLIENT_MAX_HEADERS;
}

static struct strv rebase(struct strv v, const char *from, const char *to)
{
	return strv_make(to + (v.ptr - from), v.len);
}

/* Keeps the final head in resp->head (in is consumed past it) and points the views there. */
static void keep_head(struct http_client_response *resp, struct buf *in,
                      const struct http_response_head *head, size_t head_len)
{
	buf_reset(&resp->head);
	buf_append(&resp->head, in->data, head_len);
	resp->status = (unsigned)head->status;
	resp->reason = rebase(head->reason, in->data, resp->head.data);
	resp->header_count = head->header_count;
	for (size_t i = 0; i < head->header_count; i++) {
		resp->headers[i].name = rebase(resp->headers[i].name, in->data, resp->head.data);
		resp->headers[i].value = rebase(resp->headers[i].value, in->data, resp->head.data);
	}
	buf_consume(in, head_len);
}

/* Reads the response head with the strict parser (http-response-parser.h), skipping interim
   1xx responses, into resp; the body's framing goes to *head_r. Bytes read past the head are
   left in in. */
static int read_head(struct exchange *x, const char *method, struct buf *in, char *chunk,
                     struct http_client_response *resp, struct http_response_head *head_r,
                     const char **error_r)
{
	struct http_limits limits;
	struct http_response_parser parser;
	bool was_head = strcmp(method, "HEAD") == 0;

	head_limits(&limits);
	http_response_parser_init(&parser, &limits);
	for (;;) {
		size_t head_len;
		const char *what;
		enum http_parse_status st = http_response_parser_parse(
		    &parser, in->data, in->len, resp->headers, was_head, head_r, &head_len, &what);
		if (st == HTTP_PARSE_ERROR)
			return fail(error_r, "malformed response from %s: %s", x->url->origin,
			            what);
		if (st == HTTP_PARSE_OK && head_r->status == 101)
			return fail(error_r,
			            "malformed response from %s: unexpected protocol switch",
			            x->url->origin);
		if (st == HTTP_PARSE_OK && head_r->status >= 200) {
			keep_head(resp, in, head_r, head_len);
			return 0;
		}
		if (st == HTTP_PARSE_OK) {
			buf_consume(in, head_len);
			http_response_parser_init(&parser, &limits);
			continue;
		}
		ssize_t n = recv_some(x, chunk);
		if (n < 0)
			return read_error(x, "the response", error_r);
		if (n == 0) {
			if (in->len == 0)
				return fail(error_r, "%s closed the connection without answering",
				            x->url->origin);
			return fail(error_r,
			            "malformed response from %s: connection closed inside the "
			            "response head",
			            x->url->origin);
		}
		buf_append(in, chunk, (size_t)n);
	}
}

static int read_body(struct exchange *x, const struct http_response_head *head, struct buf *in,
                     char *chunk, struct http_client_response *resp, const char **error_r)
{
	struct http_response_body body;
	const char *what;

	http_response_body_init(&body, head, HTTP_CLIENT_MAX_BODY);
	/* in holds what arrived with the head; after that, each read lands in chunk. Bytes past
	   the body are ignored: the connection is closed after one response. */
	const char *data = in->data;
	size_t len = in->len;
	for (;;) {
		size_t used;
		enum http_parse_status st =
		    http_response_body_parse(&body, data, len, &used, &resp->body, &what);
		if (st == HTTP_PARSE_OK)
			return 0;
		if (st == HTTP_PARSE_ERROR)
			return fail(error_r, "malformed response from %s: %s", x->url->origin,
			            body.too_large ? "body larger than 64 MiB" : what);

		ssize_t n = recv_some(x, chunk);
		if (n < 0)
			return read_error(x, "the response body", error_r);
		if (n == 0) {
			if (http_response_body_eof(&body, &what) == HTTP_PARSE_OK)
				return 0;
			if (body.kind == HTTP_RESPONSE_BODY_LENGTH)
				return fail(
				    error_r,
				    "malformed response from %s: connection closed after %llu of "
				    "%llu body bytes",
				    x->url->origin, (unsigned long long)body.received,
				    (unsigned long long)body.length);
			return fail(error_r, "malformed response from %s: %s", x->url->origin,
			            what);
		}
		data = chunk;
		len = (size_t)n;
	}
}

static bool method_has_body(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "PATCH") == 0;
}

int http_client_request(const char *base_url, const char *method, const char *path,
                        const char *const *headers, const char *body, size_t body_len,
                        unsigned timeout_ms, struct http_client_response *resp_r,
                        const char **error_r)
{
	struct url url;
	struct exchange x = {.url = &url, .fd = -1, .timeout_ms = timeout_ms};
	struct buf req, in;
	struct http_response_head head;
	char *chunk = NULL;
	int ret = -1;

	memset(resp_r, 0, sizeof(*resp_r));
	buf_init(&resp_r->head, HTTP_CLIENT_MAX_HEAD);
	buf_init(&resp_r->body, HTTP_CLIENT_MAX_BODY);
	buf_init(&req, HTTP_CLIENT_MAX_HEAD);
	buf_init(&in, HTTP_CLIENT_MAX_HEAD + READ_CHUNK);

	if (parse_url(base_url, &url, error_r) < 0)
		goto out;
	if (path[0] != '/' || has_bad_byte(path, strlen(path))) {
		fail(error_r, "invalid request path '%s'", path);
		goto out;
	}
	if (timeout_ms > 0)
		x.deadline = clock_mono_ms() + timeout_ms;

	buf_printf(&req, "%s %.*s%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method,
	           (int)url.prefix_len, url.prefix, path, url.authority);
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		buf_append_str(&req, headers[i]);
		buf_append_lit(&req, "\r\n");
	}
	if (body != NULL || method_has_body(method))
		buf_printf(&req, "Content-Length: %zu\r\n", body != NULL ? body_len : 0);
	buf_append_lit(&req, "\r\n");
	if (buf_overflowed(&req)) {
		fail(error_r, "request head for %s%s too large", url.origin, path);
		goto out;
	}

	if (connect_url(&x, error_r) < 0)
		goto out;

	/* A server may answer (401, 413) and close before reading the whole body: if sending
	   fails, its answer is still the best thing to report. */
	int send_errno = 0;
	if (send_all(&x, req.data, req.len) < 0 ||
	    (body != NULL && send_all(&x, body, body_len) < 0)) {
		send_errno = errno;
		if (send_errno == ETIMEDOUT) {
			fail(error_r, "timed out after %u ms sending the request to %s", timeout_ms,
			     url.origin);
			goto out;
		}
	}
	chunk = mem_alloc(READ_CHUNK);
	if (read_head(&x, method, &in, chunk, resp_r, &head, error_r) < 0) {
		if (send_errno != 0)
			fail(error_r, "error sending the request to %s: %s", url.origin,
			     strerror(send_errno));
		goto out;
	}
	if (read_body(&x, &head, &in, chunk, resp_r, error_r) < 0)
		goto out;
	ret = 0;
out:
	if (x.fd >= 0)
		close(x.fd);
	mem_free(&chunk);
	buf_free(&req);
	buf_free(&in);
	return ret;
}

struct strv http_client_response_header(const struct http_client_response *resp, const char *name)
{
	return http_parser__find_header(resp->headers, resp->header_count, name);
}

void http_client_response_free(struct http_client_response *resp)
{
	buf_free(&resp->head);
	buf_free(&resp->body);
	resp->header_count = 0;
}
