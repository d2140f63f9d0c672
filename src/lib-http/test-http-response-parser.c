/* SPDX-License-Identifier: MIT */
/* Response-head parser: good heads, splitting and desync attempts, limits, 1xx sequences; each
   fed whole, byte by byte and in random splits. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "http-response-parser.h"
#include "mem.h"
#include "test.h"

struct outcome {
	enum http_parse_status status; /* OK, ERROR, or AGAIN if the input ran out */
	const char *error;
	struct http_response_head head;
	size_t head_len;
	size_t fed; /* bytes in the buffer at the last call */
	char reason[64];
	/* The copy given to the parser in the last call; the head's views point into it. */
	char *buf;
};

static struct http_limits limits;
static struct http_header header_storage[256];

static bool view_inside(struct strv v, const char *buf, size_t len)
{
	return v.ptr != NULL && v.ptr >= buf && v.len <= len &&
	       (size_t)(v.ptr - buf) <= len - v.len;
}

/* Feeds data in pieces given by split(), each call with a fresh heap copy of exactly the bytes
   received so far: ASan catches a read past them, and the buffer moves between calls as the
   header allows. */
static void run_lim(const char *data, size_t len, size_t (*split)(size_t left), bool head_req,
                    const struct http_limits *lim, struct outcome *o)
{
	struct http_response_parser p;
	enum http_parse_status ret = HTTP_PARSE_AGAIN;

	memset(o, 0, sizeof(*o));
	http_response_parser_init(&p, lim);
	while (ret == HTTP_PARSE_AGAIN && o->fed < len) {
		o->fed += split(len - o->fed);
		mem_free(&o->buf);
		o->buf = mem_alloc(o->fed);
		memcpy(o->buf, data, o->fed);
		ret = http_response_parser_parse(&p, o->buf, o->fed, header_storage, head_req,
		                                 &o->head, &o->head_len, &o->error);
	}
	o->status = ret;
	if (ret != HTTP_PARSE_OK)
		return;
	test_assert(o->head_len <= o->fed);
	test_assert(o->head.headers == header_storage);
	test_assert(view_inside(o->head.reason, o->buf, o->head_len));
	for (size_t i = 0; i < o->head.header_count; i++) {
		test_assert(view_inside(o->head.headers[i].name, o->buf, o->head_len));
		test_assert(view_inside(o->head.headers[i].value, o->buf, o->head_len));
	}
	snprintf(o->reason, sizeof(o->reason), "%.*s", STRV_FMT(o->head.reason));
}

static void run(const char *data, size_t len, size_t (*split)(size_t left), bool head_req,
                struct outcome *o)
{
	run_lim(data, len, split, head_req, &limits, o);
}

/* A literal and its length: some inputs hold a NUL. */
#define RAW(s) s, sizeof(s) - 1

struct good_case {
	const char *name;
	const char *raw;
	size_t len;
	bool head_req;
	int status;
	unsigned version_minor;
	const char *reason;
	enum http_response_body_kind body_kind;
	uint64_t content_length;
	bool keep_alive;
	size_t headers;
};

#define NONE    HTTP_RESPONSE_BODY_NONE
#define LENGTH  HTTP_RESPONSE_BODY_LENGTH
#define CHUNKED HTTP_RESPONSE_BODY_CHUNKED
#define CLOSE   HTTP_RESPONSE_BODY_CLOSE

static const struct good_case good[] = {
    {"content-length", RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), false, 200, 1,
     "OK", LENGTH, 5, true, 1},
    {"content-length zero", RAW("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), false, 200, 1,
     "OK", LENGTH, 0, true, 1},
    {"content-length leading zeros", RAW("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n"), false,
     200, 1, "OK", LENGTH, 7, true, 1},
    {"content-length 19 digits",
     RAW("HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n"), false, 200, 1, "OK",
     LENGTH, 9999999999999999999ull, true, 1},
    {"chunked", RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     false, 200, 1, "OK", CHUNKED, 0, true, 1},
    {"chunked any case", RAW("HTTP/1.1 201 Created\r\ntransfer-encoding:  CHUNKED \r\n\r\n"), false,
     201, 1, "Created", CHUNKED, 0, true, 1},
    {"close-delimited", RAW("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"),
     false, 200, 1, "OK", CLOSE, 0, false, 1},
    {"close-delimited keep-alive asked", RAW("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nx"),
     false, 200, 0, "OK", CLOSE, 0, false, 1},
    {"http/1.0 default close", RAW("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"), false, 200, 0,
     "OK", LENGTH, 2, false, 1},
    {"http/1.0 keep-alive",
     RAW("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi"), false, 200, 0,
     "OK", LENGTH, 2, true, 2},
    {"http/1.0 close wins in a list",
     RAW("HTTP/1.0 200 OK\r\nConnection: close, keep-alive\r\nContent-Length: 0\r\n\r\n"), false,
     200, 0, "OK", LENGTH, 0, false, 2},
    {"close wins across fields",
     RAW("HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: "
         "1\r\n\r\nx"),
     false, 200, 0, "OK", LENGTH, 1, false, 3},
    {"http/1.1 connection close",
     RAW("HTTP/1.1 200 OK\r\nConnection: foo, CLOSE\r\nContent-Length: 0\r\n\r\n"), false, 200, 1,
     "OK", LENGTH, 0, false, 2},
    {"http/1.1 other connection tokens",
     RAW("HTTP/1.1 200 OK\r\nConnection: keep-alive, x-close\r\nContent-Length: 0\r\n\r\n"), false,
     200, 1, "OK", LENGTH, 0, true, 2},
    {"204", RAW("HTTP/1.1 204 No Content\r\n\r\n"), false, 204, 1, "No Content", NONE, 0, true, 0},
    {"204 content-length 0", RAW("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"), false,
     204, 1, "No Content", NONE, 0, true, 1},
    {"204 content-length 5", RAW("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"),
     false, 204, 1, "No Content", NONE, 0, false, 1},
    {"204 chunked", RAW("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     false, 204, 1, "No Content", NONE, 0, false, 1},
    {"304 content-length",
     RAW("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 1234\r\n\r\n"), false, 304, 1,
     "Not Modified", NONE, 0, true, 2},
    {"304 chunked", RAW("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"), false,
     304, 1, "Not Modified", NONE, 0, true, 1},
    {"head content-length", RAW("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"), true, 200, 1,
     "OK", NONE, 1234, true, 1},
    {"head chunked", RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), true, 200, 1,
     "OK", NONE, 0, true, 1},
    {"head no length", RAW("HTTP/1.1 200 OK\r\n\r\n"), true, 200, 1, "OK", NONE, 0, true, 0},
    {"head 404", RAW("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"), true, 404, 1,
     "Not Found", NONE, 9, true, 1},
    {"100 continue", RAW("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), false, 100, 1,
     "Continue", NONE, 0, true, 0},
    {"103 early hints", RAW("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"),
     false, 103, 1, "Early Hints", NONE, 0, true, 1},
    {"101 returned for the caller to refuse",
     RAW("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
     false, 101, 1, "Switching Protocols", NONE, 0, true, 2},
    {"no reason no space", RAW("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), false, 200, 1, "",
     LENGTH, 0, true, 1},
    {"empty reason", RAW("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), false, 200, 1, "", LENGTH,
     0, true, 1},
    {"reason with tab, spaces and obs-text",
     RAW("HTTP/1.1 404 Not  Found\t(x) \xc3\xa9 \r\nContent-Length: 0\r\n\r\n"), false, 404, 1,
     "Not  Found\t(x) \xc3\xa9 ", LENGTH, 0, true, 1},
    {"status 599", RAW("HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n"), false, 599, 1, "Odd",
     LENGTH, 0, true, 1},
    {"status 500 close", RAW("HTTP/1.1 500 Internal Server Error\r\n\r\n"), false, 500, 1,
     "Internal Server Error", CLOSE, 0, false, 0},
    {"ows and empty value",
     RAW("HTTP/1.1 200 OK\r\nX-A: \t v\xc3\xa9 \t\r\nX-E:\r\nContent-Length:3\r\n\r\nabc"), false,
     200, 1, "OK", LENGTH, 3, true, 3},
    {"body bytes are not the head's business",
     RAW("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\n\r\x00\x01"), false, 200, 1, "OK", LENGTH,
     4, true, 1},
    {NULL, NULL, 0, false, 0, 0, NULL, NONE, 0, false, 0},
};

static void test_good_responses(void)
{
	for (const struct good_case *g = good; g->name != NULL; g++) {
		test_set_context(g->name);
		size_t len = g->len;
		size_t head_len = (size_t)(strstr(g->raw, "\r\n\r\n") - g->raw) + 4;
		for (size_t s = 0; s < TEST_SPLITS; s++) {
			struct outcome o;
			run(g->raw, len, test_splits[s], g->head_req, &o);
			test_assert_int_eq(o.status, HTTP_PARSE_OK);
			if (o.status == HTTP_PARSE_OK) {
				test_assert_int_eq(o.head_len, head_len);
				/* Fed a byte at a time, the head is complete exactly at its end. */
				if (test_splits[s] == test_split_bytes)
					test_assert_int_eq(o.fed, head_len);
				test_assert_int_eq(o.head.status, g->status);
				test_assert_int_eq(o.head.version_minor, g->version_minor);
				test_assert_str_eq(o.reason, g->reason);
				test_assert_int_eq(o.head.body_kind, g->body_kind);
				test_assert(o.head.content_length == g->content_length);
				test_assert_int_eq(o.head.keep_alive, g->keep_alive);
				test_assert_int_eq(o.head.header_count, g->headers);
			}
			mem_free(&o.buf);
		}
	}
	test_set_context(NULL);
}

struct bad_case {
	const char *raw;
	size_t len;
	bool head_req;
	const char *error; /* expected *error_r */
};

static const struct bad_case bad[] = {
    /* status line */
    {RAW("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), false,
     "empty line where the status line was expected"},
    {RAW("HTTP/1.1 200OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1  200 OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1 20 OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1 2000 OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1 -20 OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1 +200 OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1 abc OK\r\n\r\n"), false, "malformed status code"},
    {RAW("HTTP/1.1 20\r\n\r\n"), false, "malformed status line"},
    {RAW("HTTP/1.1 099 Low\r\n\r\n"), false, "status code out of range"},
    {RAW("HTTP/1.1 600 High\r\n\r\n"), false, "status code out of range"},
    {RAW("HTTP/1.1 000 Zero\r\n\r\n"), false, "status code out of range"},
    {RAW("HTTP/1.2 200 OK\r\n\r\n"), false, "unsupported HTTP version"},
    {RAW("HTTP/1.x 200 OK\r\n\r\n"), false, "unsupported HTTP version"},
    {RAW("HTTP/1.10 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("HTTP/2 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("HTTP/2.0 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("HTTP/0.9 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("http/1.1 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("HTTP/1.1\t200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW(" HTTP/1.1 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("ICY 200 OK\r\n\r\n"), false, "malformed status line"},
    {RAW("HTTP/1.1 200 OK\x01\r\n\r\n"), false, "control character in response head"},
    {RAW("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), false, "bare LF in response head"},
    {RAW("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n"), false, "bare CR in response head"},
    {RAW("hello"
         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
     false, "malformed status line"},
    /* header lines */
    {RAW("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n"), false,
     "bare CR in response head"},
    {RAW("HTTP/1.1 200 OK\r\nSet-Cookie: a\rHTTP/1.1 200 OK\r\n\r\n"), false,
     "bare CR in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\nContent-Length: 0\r\n\r\n"), false, "bare LF in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\r\n\n\r\n"), false, "bare LF in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n"), false, "bare CR in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n"), false, "control character in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\x1b[1m\r\n\r\n"), false, "control character in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\x0b\r\n\r\n"), false, "control character in response head"},
    {RAW("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), false, "obsolete line folding in header"},
    {RAW("HTTP/1.1 200 OK\r\n\tX: a\r\n\r\n"), false, "obsolete line folding in header"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello"), false,
     "whitespace before header colon"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding\t: chunked\r\n\r\n"), false,
     "whitespace before header colon"},
    {RAW("HTTP/1.1 200 OK\r\n: a\r\n\r\n"), false, "invalid header name"},
    {RAW("HTTP/1.1 200 OK\r\nX(a): a\r\n\r\n"), false, "invalid header name"},
    {RAW("HTTP/1.1 200 OK\r\nX\xc3\xa9: a\r\n\r\n"), false, "invalid header name"},
    {RAW("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), false, "header line without colon"},
    /* Content-Length */
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), false,
     "duplicate Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello"), false,
     "duplicate Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5,6\r\n\r\nhello"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\nhello"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5;\r\n\r\n"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: \"5\"\r\n\r\n"), false, "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n"), false,
     "invalid Content-Length"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"), false,
     "invalid Content-Length"},
    /* Transfer-Encoding */
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     false, "both Content-Length and Transfer-Encoding"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
     false, "both Content-Length and Transfer-Encoding"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,chunked\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"), false,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
     false, "duplicate Transfer-Encoding"},
    {RAW("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), false,
     "Transfer-Encoding in an HTTP/1.0 response"},
    /* no-body answers still get their fields checked */
    {RAW("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), false,
     "duplicate Content-Length"},
    {RAW("HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n"), false,
     "invalid Content-Length"},
    {RAW("HTTP/1.1 304 Not Modified\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
     false, "both Content-Length and Transfer-Encoding"},
    {RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), true,
     "unsupported transfer coding (only chunked is accepted)"},
    {RAW("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n"), true, "invalid Content-Length"},
    {RAW("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), true,
     "Transfer-Encoding in an HTTP/1.0 response"},
    {RAW("HTTP/1.1 100 Continue\r\nX : y\r\n\r\n"), false, "whitespace before header colon"},
    {RAW("HTTP/1.1 100 Continue\r\nX: \x00\r\n\r\n"), false, "control character in response head"},
    {NULL, 0, false, NULL},
};

static void test_bad_responses(void)
{
	for (const struct bad_case *b = bad; b->raw != NULL; b++) {
		size_t len = b->len;
		char ctx[128];
		snprintf(ctx, sizeof(ctx), "%.*s", (int)(len < 100 ? len : 100), b->raw);
		test_set_context(ctx);
		for (size_t s = 0; s < TEST_SPLITS; s++) {
			struct outcome o;
			run(b->raw, len, test_splits[s], b->head_req, &o);
			test_assert_int_eq(o.status, HTTP_PARSE_ERROR);
			if (o.status == HTTP_PARSE_ERROR)
				test_assert_str_eq(o.error, b->error);
			mem_free(&o.buf);
		}
	}
	test_set_context(NULL);
}

/* Framing errors are refused as soon as the offending bytes arrive, not when the head ends. */
static void test_early_errors(void)
{
	static const struct {
		const char *raw;
		size_t len;
	} partial[] = {
	    {RAW("\r\n")},
	    {RAW("HTTP/1.1 200 OK\nX")},
	    {RAW("HTTP/1.1 200 OK\r\nX: a\rb")},
	    {RAW("HTTP/1.1 200 OK\r\nX: \x00")},
	    {RAW("HTTP/1.1 200 OK\r\nX: \x7f")},
	};
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		for (size_t s = 0; s < TEST_SPLITS; s++) {
			struct outcome o;
			run(partial[i].raw, partial[i].len, test_splits[s], false, &o);
			test_assert_int_eq(o.status, HTTP_PARSE_ERROR);
			mem_free(&o.buf);
		}
	}
}

/* A head that never ends is AGAIN at every length, and never reads past what it was given. */
static void test_incomplete(void)
{
	const char *raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n";
	for (size_t s = 0; s < TEST_SPLITS; s++) {
		struct outcome o;
		run(raw, strlen(raw), test_splits[s], false, &o);
		test_assert_int_eq(o.status, HTTP_PARSE_AGAIN);
		test_assert_int_eq(o.fed, strlen(raw));
		mem_free(&o.buf);
	}
}

static void test_header_lookup(void)
{
	const char *raw = "HTTP/1.1 200 OK\r\nX-A: \t v\xc3\xa9 \t\r\nx-b: 2\r\nX-B: 3\r\n"
	                  "Content-Length: 0\r\n\r\n";
	struct outcome o;
	run(raw, strlen(raw), test_split_whole, false, &o);
	test_assert_int_eq(o.status, HTTP_PARSE_OK);
	test_assert(strv_eq_cstr(http_response_head_header(&o.head, "x-a"), "v\xc3\xa9"));
	test_assert(strv_eq_cstr(http_response_head_header(&o.head, "X-B"), "2"));
	test_assert(strv_eq_cstr(http_response_head_header(&o.head, "content-length"), "0"));
	test_assert(http_response_head_header(&o.head, "X-C").ptr == NULL);
	mem_free(&o.buf);
}

static void expect_error(const char *data, size_t len, const struct http_limits *lim,
                         const char *error)
{
	for (size_t s = 0; s < TEST_SPLITS; s++) {
		struct outcome o;
		run_lim(data, len, test_splits[s], false, lim, &o);
		test_assert_int_eq(o.status, HTTP_PARSE_ERROR);
		if (o.status == HTTP_PARSE_ERROR)
			test_assert_str_eq(o.error, error);
		mem_free(&o.buf);
	}
}

static void test_limits(void)
{
	static char raw[64 * 1024];
	struct buf b;
	struct outcome o;

	/* exactly max_headers is fine, one more is not */
	buf_init_fixed(&b, raw, sizeof(raw));
	buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
	for (size_t i = 0; i < limits.max_headers; i++)
		buf_printf(&b, "X-%zu: v\r\n", i);
	buf_append_str(&b, "\r\n");
	run(b.data, b.len, test_split_random, false, &o);
	test_assert_int_eq(o.status, HTTP_PARSE_OK);
	test_assert_int_eq(o.head.header_count, limits.max_headers);
	mem_free(&o.buf);
	b.len -= 2;
	buf_append_str(&b, "X-last: v\r\n\r\n");
	expect_error(b.data, b.len, &limits, "too many header fields");

	/* head larger than max_header_bytes, every line within max_line */
	buf_reset(&b);
	buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < 10; i++) {
		buf_printf(&b, "X-%d: ", i);
		for (int j = 0; j < 4000; j++)
			buf_append_char(&b, 'v');
		buf_append_str(&b, "\r\n");
	}
	buf_append_str(&b, "\r\n");
	test_assert(!buf_overflowed(&b));
	expect_error(b.data, b.len, &limits, "response head too large");

	/* an over-long status line or header line fails before its CRLF arrives */
	buf_reset(&b);
	buf_append_str(&b, "HTTP/1.1 200 ");
	for (size_t j = 0; j < limits.max_line; j++)
		buf_append_char(&b, 'r');
	expect_error(b.data, b.len, &limits, "status line or header line too long");
	buf_reset(&b);
	buf_append_str(&b, "HTTP/1.1 200 OK\r\nX: ");
	for (size_t j = 0; j < limits.max_line; j++)
		buf_append_char(&b, 'v');
	expect_error(b.data, b.len, &limits, "status line or header line too long");

	/* smaller limits are honoured to the byte */
	struct http_limits small = limits;
	small.max_line = 20;
	small.max_header_bytes = 64;
	small.max_headers = 2;
	const char *fits = "HTTP/1.1 200 OK\r\nA: 12345678901234567\r\nB: 1\r\n\r\n";
	run_lim(fits, strlen(fits), test_split_bytes, false, &small, &o);
	test_assert_int_eq(o.status, HTTP_PARSE_OK);
	mem_free(&o.buf);
	const char *line = "HTTP/1.1 200 OK\r\nA: 123456789012345678\r\n\r\n";
	expect_error(line, strlen(line), &small, "status line or header line too long");
	const char *many = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 1\r\nC: 1\r\n\r\n";
	expect_error(many, strlen(many), &small, "too many header fields");
	const char *exact =
	    "HTTP/1.1 200 abcde\r\nA: 1234567890123456\r\nB: 1234567890123456\r\n\r\n";
	test_assert_int_eq(strlen(exact), 64);
	run_lim(exact, strlen(exact), test_split_random, false, &small, &o);
	test_assert_int_eq(o.status, HTTP_PARSE_OK);
	mem_free(&o.buf);
	const char *large =
	    "HTTP/1.1 200 abcdef\r\nA: 1234567890123456\r\nB: 1234567890123456\r\n\r\n";
	expect_error(large, strlen(large), &small, "response head too large");
	/* ... also when the byte past the limit is a CR and nothing follows it yet */
	const char *cr = "HTTP/1.1 200 abcdefg\r\nA: 1234567890123456\r\nB: 1234567890123456\r\n\r";
	test_assert_int_eq(strlen(cr), 65);
	expect_error(cr, strlen(cr), &small, "response head too large");
}

/* The proxy's loop: interim 1xx heads are dropped and the parser restarted on what follows. */
static void test_interim_sequence(void)
{
	const char *raw = "HTTP/1.1 100 Continue\r\n\r\n"
	                  "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
	                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t len = strlen(raw);

	for (size_t s = 0; s < TEST_SPLITS; s++) {
		struct http_response_parser p;
		struct http_response_head head = {0};
		size_t have = 0, off = 0, head_len = 0;
		const char *error;
		int seen[4] = {0};
		size_t n = 0;

		http_response_parser_init(&p, &limits);
		while (have < len || off < have) {
			enum http_parse_status ret =
			    http_response_parser_parse(&p, raw + off, have - off, header_storage,
			                               false, &head, &head_len, &error);
			test_assert(ret != HTTP_PARSE_ERROR);
			if (ret == HTTP_PARSE_ERROR)
				break;
			if (ret == HTTP_PARSE_AGAIN) {
				if (have == len)
					break;
				have += test_splits[s](len - have);
				continue;
			}
			if (n < 4)
				seen[n++] = head.status;
			off += head_len;
			if (head.status >= 200)
				break;
			http_response_parser_init(&p, &limits);
		}
		test_assert_int_eq(n, 3);
		test_assert_int_eq(seen[0], 100);
		test_assert_int_eq(seen[1], 103);
		test_assert_int_eq(seen[2], 200);
		test_assert_int_eq(head.body_kind, HTTP_RESPONSE_BODY_LENGTH);
		test_assert_int_eq(head.content_length, 2);
		test_assert_int_eq(len - off, 2);
	}
}

/* ---------------------------------------------------------------- bodies */

struct body_outcome {
	enum http_parse_status status; /* of the last parse, or of eof when eof was reached */
	const char *error;
	bool too_large;
	size_t used;   /* bytes of the input taken as this body (head excluded) */
	char body[64]; /* decoded, NUL-terminated */
};

/* Parses the head whole, then feeds the bytes after it to a body reader in pieces given by
   split(), each an exact-size heap copy; at the end of the input, the connection closes. */
static void run_body(const char *data, size_t len, bool head_req, uint64_t max_body,
                     size_t (*split)(size_t left), struct body_outcome *o)
{
	struct http_response_parser p;
	struct http_response_head head;
	struct http_response_body b;
	size_t head_len, pos;
	struct buf out;
	const char *error;

	memset(o, 0, sizeof(*o));
	http_response_parser_init(&p, &limits);
	test_assert_int_eq(http_response_parser_parse(&p, data, len, header_storage, head_req,
	                                              &head, &head_len, &error),
	                   HTTP_PARSE_OK);
	buf_init(&out, sizeof(o->body) - 1);
	http_response_body_init(&b, &head, max_body);
	pos = head_len;
	o->status = HTTP_PARSE_AGAIN;
	while (o->status == HTTP_PARSE_AGAIN && pos < len) {
		size_t n = split(len - pos), used;
		char *piece = mem_alloc(n);
		memcpy(piece, data + pos, n);
		o->status = http_response_body_parse(&b, piece, n, &used, &out, &o->error);
		mem_free(&piece);
		if (o->status == HTTP_PARSE_ERROR)
			break;
		test_assert(used <= n);
		test_assert(o->status == HTTP_PARSE_OK || used == n);
		pos += used;
	}
	if (o->status == HTTP_PARSE_AGAIN && pos == len) {
		size_t used;
		/* A body complete without bytes says so to an empty read; others need the close. */
		o->status = http_response_body_parse(&b, "", 0, &used, &out, &o->error);
		test_assert_int_eq(used, 0);
		if (o->status == HTTP_PARSE_AGAIN)
			o->status = http_response_body_eof(&b, &o->error);
	}
	o->too_large = b.too_large;
	o->used = pos - head_len;
	test_assert(b.received == out.len);
	snprintf(o->body, sizeof(o->body), "%.*s", (int)out.len, out.data);
	buf_free(&out);
}

static void test_bodies(void)
{
	static const struct {
		const char *name, *raw;
		bool head_req;
		uint64_t max_body;
		enum http_parse_status status;
		const char *body_or_error;
		size_t used; /* OK: body bytes taken (the rest is not this body's) */
	} cases[] = {
	    {"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 100,
	     HTTP_PARSE_OK, "hello", 5},
	    {"length with more after", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1",
	     false, 100, HTTP_PARSE_OK, "hi", 2},
	    {"length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nxx", false, 100,
	     HTTP_PARSE_OK, "", 0},
	    {"length cut short", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", false, 100,
	     HTTP_PARSE_ERROR, "connection closed inside the body", 0},
	    {"length past max", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", false,
	     10, HTTP_PARSE_ERROR, "response body too large", 0},
	    {"length at max", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhelloworld", false, 10,
	     HTTP_PARSE_OK, "helloworld", 10},
	    {"chunked",
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=1\r\nlo\r\n"
	     "0\r\nT: v\r\n\r\nnext",
	     false, 100, HTTP_PARSE_OK, "hello", 30},
	    {"chunked cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
	     false, 100, HTTP_PARSE_ERROR, "connection closed inside the chunked body", 0},
	    {"chunked bad size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	     false, 100, HTTP_PARSE_ERROR, NULL, 0},
	    {"chunked past max", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n",
	     false, 10, HTTP_PARSE_ERROR, "response body too large", 0},
	    {"close", "HTTP/1.1 200 OK\r\n\r\nuntil close", false, 100, HTTP_PARSE_OK,
	     "until close", 11},
	    {"close empty", "HTTP/1.0 200 OK\r\n\r\n", false, 100, HTTP_PARSE_OK, "", 0},
	    {"close past max", "HTTP/1.1 200 OK\r\n\r\nhello world", false, 10, HTTP_PARSE_ERROR,
	     "response body too large", 0},
	    {"none for 204", "HTTP/1.1 204 No Content\r\n\r\nstray", false, 100, HTTP_PARSE_OK, "",
	     0},
	    {"none for head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 100,
	     HTTP_PARSE_OK, "", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_set_context(cases[i].name);
		for (size_t s = 0; s < TEST_SPLITS; s++) {
			struct body_outcome o;
			run_body(cases[i].raw, strlen(cases[i].raw), cases[i].head_req,
			         cases[i].max_body, test_splits[s], &o);
			test_assert_int_eq(o.status, cases[i].status);
			if (o.status == HTTP_PARSE_OK) {
				test_assert_str_eq(o.body, cases[i].body_or_error);
				test_assert_int_eq(o.used, cases[i].used);
			} else if (cases[i].body_or_error != NULL) {
				test_assert_str_eq(o.error, cases[i].body_or_error);
				test_assert_int_eq(o.too_large,
				                   strstr(o.error, "too large") != NULL);
			}
		}
	}
	test_set_context(NULL);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"good responses", test_good_responses},
	    {"bad responses", test_bad_responses},
	    {"early errors", test_early_errors},
	    {"incomplete head", test_incomplete},
	    {"header lookup", test_header_lookup},
	    {"limits", test_limits},
	    {"interim 1xx sequence", test_interim_sequence},
	    {"bodies", test_bodies},
	    {NULL, NULL},
	};
	http_limits_default(&limits);
	return test_run(cases);
}
