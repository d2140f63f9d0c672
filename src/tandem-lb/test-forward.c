/* SPDX-License-Identifier: MIT */
/* Tests of forward.c: the head a member gets and the response fields a client gets. */
#include <stdio.h>
#include <string.h>

#include "forward.h"
#include "test.h"

/* Parses raw with the strict request parser and returns what forward_request_head makes of
   it in out (NUL-terminated). */
static void forwarded(const char *raw, const struct forward_client *client, enum forward_body body,
                      char *out, size_t out_size)
{
	struct http_limits lim;
	struct http_request_parser p;
	struct http_header headers[100];
	struct http_request_head head;
	size_t head_len;
	int status;
	const char *error;

	http_limits_default(&lim);
	http_request_parser_init(&p, &lim);
	enum http_parse_status st = http_request_parser_parse(&p, raw, strlen(raw), headers, &head,
	                                                      &head_len, &status, &error);
	test_assert(st == HTTP_PARSE_OK);
	struct buf b;
	buf_init(&b, 64 * 1024);
	forward_request_head(&b, &head, client, body);
	snprintf(out, out_size, "%.*s", (int)b.len, b.data);
	buf_free(&b);
}

static const struct forward_client untrusted = {"198.51.100.9", false, "http", "m:80", false};
static const struct forward_client trusted = {"10.0.0.2", true, "https", "m:80", false};

static void test_end_to_end_fields_pass_hop_by_hop_do_not(void)
{
	char out[4096];
	forwarded("GET /a?b=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Hop\r\n"
	          "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\n"
	          "Proxy-Connection: x\r\nCookie: JSESSIONID=a.OX-1\r\nExpect: 100-continue\r\n"
	          "Content-Length: 3\r\n\r\n",
	          &untrusted, FORWARD_BODY_LENGTH, out, sizeof(out));
	test_assert_str_eq(out, "GET /a?b=1 HTTP/1.1\r\nHost: h\r\nCookie: JSESSIONID=a.OX-1\r\n"
	                        "X-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: http\r\n"
	                        "Content-Length: 3\r\n\r\n");
}

/* A large upload's expectation goes to the member once, in the proxy's own spelling. */
static void test_expect_continue_is_sent_when_asked(void)
{
	char out[4096];
	struct forward_client client = untrusted;
	client.expect_continue = true;
	forwarded("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
	          &client, FORWARD_BODY_LENGTH, out, sizeof(out));
	test_assert_str_eq(out, "PUT /f HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.9\r\n"
	                        "X-Forwarded-Proto: http\r\nContent-Length: 3\r\n"
	                        "Expect: 100-continue\r\n\r\n");
}

static void test_untrusted_forwarded_fields_are_replaced(void)
{
	char out[4096];
	forwarded("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n"
	          "X-Forwarded-Proto: https\r\n\r\n",
	          &untrusted, FORWARD_BODY_NONE, out, sizeof(out));
	test_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.9\r\n"
	                        "X-Forwarded-Proto: http\r\n\r\n");
}

static void test_trusted_forwarded_fields_are_kept_and_merged(void)
{
	char out[4096];
	forwarded("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n"
	          "X-Forwarded-Proto: http\r\nX-Forwarded-For: 5.6.7.8, 9.9.9.9\r\n\r\n",
	          &trusted, FORWARD_BODY_NONE, out, sizeof(out));
	test_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: http\r\n"
	                        "X-Forwarded-For: 1.2.3.4, 5.6.7.8, 9.9.9.9, 10.0.0.2\r\n\r\n");
}

static void test_chunked_body_and_http10_without_host(void)
{
	char out[4096];
	forwarded("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &untrusted,
	          FORWARD_BODY_CHUNKED, out, sizeof(out));
	test_assert_str_eq(out, "POST /u HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.9\r\n"
	                        "X-Forwarded-Proto: http\r\nTransfer-Encoding: chunked\r\n\r\n");
	forwarded("GET /x HTTP/1.0\r\n\r\n", &untrusted, FORWARD_BODY_NONE, out, sizeof(out));
	test_assert_str_eq(out, "GET /x HTTP/1.1\r\nHost: m:80\r\nX-Forwarded-For: 198.51.100.9\r\n"
	                        "X-Forwarded-Proto: http\r\n\r\n");
}

static void test_absolute_form_becomes_origin_form(void)
{
	char out[4096];
	forwarded("GET http://example.org/p?q=1 HTTP/1.1\r\nHost: other\r\n\r\n", &untrusted,
	          FORWARD_BODY_NONE, out, sizeof(out));
	test_assert_str_eq(out, "GET /p?q=1 HTTP/1.1\r\nHost: example.org\r\n"
	                        "X-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: http\r\n\r\n");
}

static void test_response_fields(void)
{
	struct http_header h[] = {
	    {STRV_LIT("Connection"), STRV_LIT("close, X-Private")},
	    {STRV_LIT("Set-Cookie"), STRV_LIT("JSESSIONID=a.OX-1")},
	};
	test_assert(forward_response_field_dropped(h, 2, STRV_LIT("connection")));
	test_assert(forward_response_field_dropped(h, 2, STRV_LIT("x-private")));
	test_assert(forward_response_field_dropped(h, 2, STRV_LIT("Transfer-Encoding")));
	test_assert(forward_response_field_dropped(h, 2, STRV_LIT("Content-Length")));
	test_assert(forward_response_field_dropped(h, 2, STRV_LIT("Date")));
	test_assert(forward_response_field_dropped(h, 2, STRV_LIT("Keep-Alive")));
	test_assert(!forward_response_field_dropped(h, 2, STRV_LIT("Set-Cookie")));
	test_assert(!forward_response_field_dropped(h, 2, STRV_LIT("X-Privately")));
	test_assert(!forward_response_field_dropped(h, 2, STRV_LIT("Content-Type")));
}

static void test_idempotent_methods(void)
{
	test_assert(forward_method_idempotent(STRV_LIT("GET")));
	test_assert(forward_method_idempotent(STRV_LIT("PUT")));
	test_assert(forward_method_idempotent(STRV_LIT("DELETE")));
	test_assert(!forward_method_idempotent(STRV_LIT("POST")));
	test_assert(!forward_method_idempotent(STRV_LIT("PATCH")));
	test_assert(!forward_method_idempotent(STRV_LIT("get")));
}

static void test_node_paths(void)
{
	test_assert(forward_node_path(STRV_LIT("/admin/v1/node")));
	test_assert(forward_node_path(STRV_LIT("/admin/v1/drain")));
	test_assert(forward_node_path(STRV_LIT("/admin/v1/%64rain")));
	test_assert(forward_node_path(STRV_LIT("//admin/./v1/x/../node")));
	test_assert(forward_node_path(STRV_LIT("/admin/v1/node;x=1")));
	test_assert(!forward_node_path(STRV_LIT("/admin/v1/nodes")));
	test_assert(!forward_node_path(STRV_LIT("/admin/v1/cluster")));
	test_assert(!forward_node_path(STRV_LIT("/admin/v1/node/x")));
	test_assert(!forward_node_path(STRV_LIT("/api/v1/node")));
	test_assert(!forward_node_path(STRV_LIT("/admin/v1/%zz")));
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"end-to-end fields pass, hop-by-hop do not",
	     test_end_to_end_fields_pass_hop_by_hop_do_not},
	    {"Expect: 100-continue is sent when asked", test_expect_continue_is_sent_when_asked},
	    {"untrusted forwarded fields are replaced",
	     test_untrusted_forwarded_fields_are_replaced},
	    {"trusted forwarded fields are kept and merged",
	     test_trusted_forwarded_fields_are_kept_and_merged},
	    {"chunked body, HTTP/1.0 without Host", test_chunked_body_and_http10_without_host},
	    {"absolute-form becomes origin-form", test_absolute_form_becomes_origin_form},
	    {"response fields", test_response_fields},
	    {"idempotent methods", test_idempotent_methods},
	    {"node paths", test_node_paths},
	    {NULL, NULL},
	};
	return test_run(cases);
}
