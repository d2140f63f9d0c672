/* SPDX-License-Identifier: MIT */
/* Unit tests for the blocking HTTP client against a scripted one-connection server thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http-client.h"
#include "test.h"

/* One scripted exchange: the server reads the request, then sends reply in pieces of at most
   split bytes (0 = all at once), or stays silent when reply is NULL. */
struct script {
	int listen_fd;
	unsigned short port;
	const char *reply;
	size_t reply_len;
	size_t split;
	char request[8192];
	size_t request_len;
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct script *s = arg;
	int fd = accept(s->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	/* The request: head, then Content-Length bytes of body. */
	size_t need = 0;
	for (;;) {
		ssize_t n = recv(fd, s->request + s->request_len,
		                 sizeof(s->request) - 1 - s->request_len, 0);
		if (n <= 0)
			break;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
		char *end = strstr(s->request, "\r\n\r\n");
		if (end == NULL)
			continue;
		if (need == 0) {
			const char *cl = strstr(s->request, "Content-Length: ");
			unsigned long len = 0;
			if (cl != NULL && cl < end)
				len = strtoul(cl + 16, NULL, 10);
			need = (size_t)(end + 4 - s->request) + len;
		}
		if (s->request_len >= need)
			break;
	}
	if (s->reply == NULL) {
		char c;
		(void)recv(fd, &c, 1, 0); /* until the client gives up */
	} else {
		size_t off = 0;
		while (off < s->reply_len) {
			size_t n = s->reply_len - off;
			if (s->split > 0) {
				size_t piece = 1 + test_rand() % s->split;
				if (piece < n)
					n = piece;
			}
			if (send(fd, s->reply + off, n, MSG_NOSIGNAL) < 0)
				break;
			off += n;
		}
	}
	close(fd);
	return NULL;
}

static void script_start(struct script *s, const char *reply, size_t reply_len, size_t split)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->reply = reply;
	s->reply_len = reply_len;
	s->split = split;
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	test_assert(bind(s->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(listen(s->listen_fd, 1) == 0);
	getsockname(s->listen_fd, (struct sockaddr *)&sin, &len);
	s->port = ntohs(sin.sin_port);
	pthread_create(&s->thread, NULL, serve, s);
}

static void script_finish(struct script *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
}

/* Runs one GET against reply; returns the client's result. */
static int exchange(const char *reply, size_t split, unsigned timeout_ms,
                    struct http_client_response *resp, const char **error)
{
	struct script s;
	char url[64];
	script_start(&s, reply, reply != NULL ? strlen(reply) : 0, split);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", s.port);
	int ret = http_client_request(url, "GET", "/x", NULL, NULL, 0, timeout_ms, resp, error);
	script_finish(&s);
	return ret;
}

static void expect_body(const char *reply, const char *body)
{
	static const size_t splits[] = {0, 1, 3, 17};
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		struct http_client_response resp;
		const char *error = "";
		test_set_context(reply);
		int ret = exchange(reply, splits[i], 5000, &resp, &error);
		test_assert_str_eq(error, "");
		test_assert_int_eq(ret, 0);
		test_assert_int_eq(resp.status, 200);
		test_assert_str_eq(resp.body.data, body);
		http_client_response_free(&resp);
	}
}

static void expect_error(const char *reply, const char *what)
{
	struct http_client_response resp;
	const char *error = "";
	test_set_context(reply);
	test_assert_int_eq(exchange(reply, 0, 5000, &resp, &error), -1);
	if (strstr(error, what) == NULL)
		test_assert_str_eq(error, what);
	http_client_response_free(&resp);
}

static void test_framing(void)
{
	expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello");
	expect_body("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello trailing junk", "hello");
	expect_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	            "3\r\nhel\r\n2;ext=1\r\nlo\r\n0\r\nTrailer: x\r\n\r\n",
	            "hello");
	expect_body("HTTP/1.0 200 OK\r\nX-A: b\r\n\r\nuntil close", "until close");
	expect_body("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	            "ok");
	expect_body("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "");
}

static void test_headers_and_no_body(void)
{
	/* Whole and one byte at a time: the views must point into resp.head, not the read
	   buffer, whatever was skipped before the final head. */
	static const size_t splits[] = {0, 1};
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		struct http_client_response resp;
		const char *error = "";
		test_assert_int_eq(exchange("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
		                            "HTTP/1.1 204 No Content\r\nRetry-After:  7 \r\nX: y"
		                            "\r\n\r\n",
		                            splits[i], 5000, &resp, &error),
		                   0);
		test_assert_int_eq(resp.status, 204);
		test_assert(strv_eq_cstr(resp.reason, "No Content"));
		test_assert(strv_eq_cstr(http_client_response_header(&resp, "retry-after"), "7"));
		test_assert(strv_eq_cstr(http_client_response_header(&resp, "X"), "y"));
		test_assert(http_client_response_header(&resp, "link").ptr == NULL);
		test_assert(http_client_response_header(&resp, "absent").ptr == NULL);
		test_assert_int_eq(resp.body.len, 0);
		http_client_response_free(&resp);
		http_client_response_free(&resp);
	}
}

static void test_malformed(void)
{
	expect_error("", "closed the connection without answering");
	expect_error("garbage\r\n\r\n", "malformed response from http://127.0.0.1:");
	expect_error("HTTP/1.1 20 OK\r\n\r\n", "malformed status code");
	expect_error("HTTP/1.1 200 OK\r\n folded\r\n\r\n", "obsolete line folding in header");
	expect_error("HTTP/1.1 200 OK\r\nBad/Name: x\r\n\r\n", "invalid header name");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
	             "duplicate Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	             "both Content-Length and Transfer-Encoding");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	             "unsupported transfer coding");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\n", "larger than 64 MiB");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000001\r\n",
	             "larger than 64 MiB");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
	             "after 5 of 9 body bytes");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
	             "connection closed inside the chunked body");
	expect_error("HTTP/1.1 200 OK\r\nContent-Le", "connection closed inside the response head");
	expect_error("HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected protocol switch");
	/* The strict parser's rules (http-response-parser.h), shared with the proxy. */
	expect_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	             "Transfer-Encoding in an HTTP/1.0 response");
	expect_error("HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	             "empty line where the status line was expected");
	expect_error("HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n", "bare LF in response head");
	expect_error("HTTP/1.2 200 OK\r\n\r\n", "unsupported HTTP version");
}

static void test_request_on_the_wire(void)
{
	struct http_client_response resp;
	struct script s;
	const char *error = "";
	const char *headers[] = {"Authorization: Basic eDp5", "X-Test: 1", NULL};
	const char *reply = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}";
	char url[64];

	script_start(&s, reply, strlen(reply), 0);
	snprintf(url, sizeof(url), "http://localhost:%u/base/", s.port);
	test_assert_int_eq(http_client_request(url, "POST", "/admin/v1/x?q=1", headers, "{\"a\":1}",
	                                       7, 5000, &resp, &error),
	                   0);
	script_finish(&s);
	test_assert_int_eq(resp.status, 201);
	char expected[512];
	snprintf(expected, sizeof(expected),
	         "POST /base/admin/v1/x?q=1 HTTP/1.1\r\nHost: localhost:%u\r\nConnection: close\r\n"
	         "Authorization: Basic eDp5\r\nX-Test: 1\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
	         s.port);
	test_assert_str_eq(s.request, expected);
	http_client_response_free(&resp);

	/* POST without a body still says Content-Length: 0. */
	script_start(&s, reply, strlen(reply), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", s.port);
	test_assert_int_eq(
	    http_client_request(url, "POST", "/e", NULL, NULL, 0, 5000, &resp, &error), 0);
	script_finish(&s);
	test_assert(strstr(s.request, "\r\nContent-Length: 0\r\n\r\n") != NULL);
	http_client_response_free(&resp);
}

static void test_connect_errors_and_urls(void)
{
	struct http_client_response resp;
	const char *error = "";
	struct script s;

	/* A port that was just free: nobody listens there. */
	script_start(&s, NULL, 0, 0);
	unsigned short port = s.port;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	int fd = socket(AF_INET, SOCK_STREAM, 0); /* wakes the server thread */
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	script_finish(&s);
	test_assert_int_eq(http_client_request(url, "GET", "/", NULL, NULL, 0, 2000, &resp, &error),
	                   -1);
	char expected[128];
	snprintf(expected, sizeof(expected), "cannot connect to %s: Connection refused", url);
	test_assert_str_eq(error, expected);
	http_client_response_free(&resp);

	static const struct {
		const char *url, *error;
	} bad[] = {
	    {"https://x", "https://x: https is not supported yet (use http://)"},
	    {"ftp://x", "ftp://x: not an http:// URL"},
	    {"http://", "http://: missing or overlong host"},
	    {"http://h:0", "http://h:0: invalid port '0'"},
	    {"http://h:", "http://h:: invalid port ''"},
	    {"http://h:123456", "http://h:123456: invalid port '123456'"},
	    {"http://u@h", "http://u@h: user information in the URL is not supported"},
	    {"http://h?x", "http://h?x: the URL must not have a query or fragment"},
	    {"http://[::1", "http://[::1: unterminated IPv6 address"},
	    {"http://h\r\nX: y", "http://h\r\nX: y: invalid character in the URL"},
	    {"http://h/a b", "http://h/a b: invalid character in the URL"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_assert_int_eq(
		    http_client_request(bad[i].url, "GET", "/", NULL, NULL, 0, 1000, &resp, &error),
		    -1);
		test_assert_str_eq(error, bad[i].error);
		http_client_response_free(&resp);
	}
}

static void test_timeout(void)
{
	struct http_client_response resp;
	const char *error = "";
	test_assert_int_eq(exchange(NULL, 0, 200, &resp, &error), -1);
	test_assert(strstr(error, "timed out after 200 ms waiting for the response from "
	                          "http://127.0.0.1:") != NULL);
	http_client_response_free(&resp);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"framing", test_framing},
	    {"headers_and_no_body", test_headers_and_no_body},
	    {"malformed", test_malformed},
	    {"request_on_the_wire", test_request_on_the_wire},
	    {"connect_errors_and_urls", test_connect_errors_and_urls},
	    {"timeout", test_timeout},
	    {NULL, NULL},
	};
	return test_run(cases);
}
