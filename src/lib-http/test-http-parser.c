/* SPDX-License-Identifier: MIT */
/* Request-head parser and body framing: good requests, the bad corpus, limits; each fed whole,
   byte by byte and in random splits. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http-chunked.h"
#include "http-parser.h"
#include "mem.h"
#include "test.h"

struct outcome {
	enum http_parse_status status; /* OK or ERROR */
	int http_status;
	struct http_request_head head;
	size_t head_len;
	char body[256];
	size_t body_len;
	char method[32], path[128], query[64], host[64];
};

static struct http_limits limits;
static struct http_header header_storage[256];

static void copy_view(char *dst, size_t size, struct strv v)
{
	snprintf(dst, size, "%.*s", STRV_FMT(v));
}

/* Feeds data in pieces given by split(): the head through the parser (with the buffer growing
   as a server's would), then the body through the framing decoder. */
static void run(const char *data, size_t len, size_t (*split)(size_t left), struct outcome *o)
{
	struct http_request_parser p;
	const char *error;
	size_t have = 0;
	enum http_parse_status ret = HTTP_PARSE_AGAIN;

	memset(o, 0, sizeof(*o));
	http_request_parser_init(&p, &limits);
	while (ret == HTTP_PARSE_AGAIN && have < len) {
		have += split(len - have);
		ret = http_request_parser_parse(&p, data, have, header_storage, &o->head,
		                                &o->head_len, &o->http_status, &error);
	}
	if (ret != HTTP_PARSE_OK) {
		o->status = ret;
		return;
	}
	copy_view(o->method, sizeof(o->method), o->head.method);
	copy_view(o->path, sizeof(o->path), o->head.path);
	copy_view(o->query, sizeof(o->query), o->head.query);
	copy_view(o->host, sizeof(o->host), o->head.host);

	size_t pos = o->head_len;
	if (o->head.body_kind == HTTP_BODY_LENGTH) {
		size_t n = len - pos < o->head.content_length ? len - pos : o->head.content_length;
		memcpy(o->body, data + pos, n < sizeof(o->body) ? n : sizeof(o->body));
		o->body_len = n;
		o->status = n == o->head.content_length ? HTTP_PARSE_OK : HTTP_PARSE_AGAIN;
		return;
	}
	if (o->head.body_kind == HTTP_BODY_NONE) {
		o->status = HTTP_PARSE_OK;
		return;
	}
	struct http_chunked_decoder d;
	http_chunked_decoder_init(&d, &limits);
	/* Pieces of the body arrive split too; leftover bytes of a piece are re-fed. */
	size_t avail_end = pos;
	while (!http_chunked_decoder_done(&d)) {
		if (pos == avail_end) {
			if (avail_end == len) {
				o->status = HTTP_PARSE_AGAIN;
				return;
			}
			avail_end += split(len - avail_end);
		}
		size_t consumed;
		const char *chunk;
		size_t chunk_len;
		ret = http_chunked_decode(&d, data + pos, avail_end - pos, &consumed, &chunk,
		                          &chunk_len, &o->http_status, &error);
		if (ret == HTTP_PARSE_ERROR) {
			o->status = ret;
			return;
		}
		pos += consumed;
		if (chunk_len > 0 && o->body_len + chunk_len <= sizeof(o->body)) {
			memcpy(o->body + o->body_len, chunk, chunk_len);
			o->body_len += chunk_len;
		}
	}
	o->status = HTTP_PARSE_OK;
}

struct good_case {
	const char *name;
	const char *raw;
	const char *method, *path, *query, *host, *body;
	enum http_body_kind body_kind;
	bool keep_alive, expect_continue;
	size_t headers;
};

static const struct good_case good[] = {
    {"simple get", "GET /health HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/health", "", "a", "",
     HTTP_BODY_NONE, true, false, 1},
    {"query", "GET /x?y=1&z HTTP/1.1\r\nHost: a:8009\r\n\r\n", "GET", "/x", "y=1&z", "a:8009", "",
     HTTP_BODY_NONE, true, false, 1},
    {"http/1.0 close", "GET / HTTP/1.0\r\n\r\n", "GET", "/", "", "", "", HTTP_BODY_NONE, false,
     false, 0},
    {"http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "", "",
     "", HTTP_BODY_NONE, true, false, 1},
    {"connection close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", "GET", "/",
     "", "a", "", HTTP_BODY_NONE, false, false, 2},
    {"close wins over keep-alive",
     "GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", "GET", "/", "", "",
     "", HTTP_BODY_NONE, false, false, 2},
    {"content-length", "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "POST",
     "/e", "", "a", "hello", HTTP_BODY_LENGTH, true, false, 2},
    {"content-length zero", "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "POST",
     "/e", "", "a", "", HTTP_BODY_NONE, true, false, 2},
    {"chunked",
     "PUT /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
     "5\r\nhello\r\n1;ext=\"q;x\"\r\n!\r\nA\r\n0123456789\r\n0\r\n\r\n",
     "PUT", "/e", "", "a", "hello!0123456789", HTTP_BODY_CHUNKED, true, false, 2},
    {"chunked trailers",
     "PUT /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B:2\r\n\r\n",
     "PUT", "/e", "", "a", "abc", HTTP_BODY_CHUNKED, true, false, 2},
    {"expect", "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx",
     "PUT", "/e", "", "a", "x", HTTP_BODY_LENGTH, true, true, 3},
    {"dav method", "PROPFIND /dav/ HTTP/1.1\r\nHost: a\r\nDepth: 1\r\n\r\n", "PROPFIND", "/dav/",
     "", "a", "", HTTP_BODY_NONE, true, false, 2},
    {"options asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", "", "a", "",
     HTTP_BODY_NONE, true, false, 1},
    {"absolute form", "GET http://Ex.Test:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n", "GET", "/p", "q",
     "Ex.Test:81", "", HTTP_BODY_NONE, true, false, 1},
    {"absolute no path", "GET https://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", "q=1", "h",
     "", HTTP_BODY_NONE, true, false, 1},
    {"connect", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", "CONNECT", "h:443", "", "h:443",
     "", HTTP_BODY_NONE, true, false, 1},
    {"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "", "a", "",
     HTTP_BODY_NONE, true, false, 1},
    {"ows and obs-text", "GET / HTTP/1.1\r\nHost:a\r\nX-A: \t v\xc3\xa9 \t\r\nX-E:\r\n\r\n", "GET",
     "/", "", "a", "", HTTP_BODY_NONE, true, false, 3},
    {"ipv6 host", "GET / HTTP/1.1\r\nHost: [::1]:8009\r\n\r\n", "GET", "/", "", "[::1]:8009", "",
     HTTP_BODY_NONE, true, false, 1},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, HTTP_BODY_NONE, false, false, 0},
};

static void test_good_requests(void)
{
	for (const struct good_case *g = good; g->name != NULL; g++) {
		test_set_context(g->name);
		for (size_t s = 0; s < TEST_SPLITS; s++) {
			struct outcome o;
			run(g->raw, strlen(g->raw), test_splits[s], &o);
			test_assert_int_eq(o.status, HTTP_PARSE_OK);
			if (o.status != HTTP_PARSE_OK)
				continue;
			test_assert_str_eq(o.method, g->method);
			test_assert_str_eq(o.path, g->path);
			test_assert_str_eq(o.query, g->query);
			test_assert_str_eq(o.host, g->host);
			test_assert_int_eq(o.head.body_kind, g->body_kind);
			test_assert_int_eq(o.head.keep_alive, g->keep_alive);
			test_assert_int_eq(o.head.expect_continue, g->expect_continue);
			test_assert_int_eq(o.head.header_count, g->headers);
			test_assert_int_eq(o.body_len, strlen(g->body));
			test_assert(memcmp(o.body, g->body, o.body_len) == 0);
		}
	}
	test_set_context(NULL);
}

static void test_header_values(void)
{
	const char *raw = "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v\xc3\xa9 \t\r\nx-b: 2\r\n\r\n";
	struct outcome o;
	run(raw, strlen(raw), test_split_whole, &o);
	test_assert_int_eq(o.status, HTTP_PARSE_OK);
	struct strv v = http_request_head_header(&o.head, "x-a");
	test_assert(strv_eq_cstr(v, "v\xc3\xa9"));
	test_assert(strv_eq_cstr(http_request_head_header(&o.head, "X-B"), "2"));
	test_assert(http_request_head_header(&o.head, "X-C").ptr == NULL);
}

static char *read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *data = mem_alloc(1 << 20);
	*len_r = fread(data, 1, 1 << 20, f);
	fclose(f);
	return data;
}

static void test_bad_corpus(void)
{
	const char *src = getenv("TANDEM_SOURCE_DIR");
	char dir_path[1024];
	snprintf(dir_path, sizeof(dir_path), "%s/tests/http-corpus/bad", src != NULL ? src : ".");
	DIR *dir = opendir(dir_path);
	test_assert(dir != NULL);
	if (dir == NULL)
		return;
	unsigned files = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (strstr(de->d_name, ".http") == NULL)
			continue;
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir_path, de->d_name);
		size_t len = 0;
		char *data = read_file(path, &len);
		test_assert(data != NULL);
		if (data == NULL)
			continue;
		files++;
		test_set_context(de->d_name);
		for (size_t s = 0; s < TEST_SPLITS; s++) {
			struct outcome o;
			run(data, len, test_splits[s], &o);
			test_assert_int_eq(o.status, HTTP_PARSE_ERROR);
			test_assert_int_eq(o.http_status, 400);
		}
		mem_free(&data);
	}
	closedir(dir);
	test_set_context(NULL);
	test_assert(files >= 80);
}

static void expect_status(const char *raw, size_t len, int status)
{
	for (size_t s = 0; s < TEST_SPLITS; s++) {
		struct outcome o;
		run(raw, len, test_splits[s], &o);
		test_assert_int_eq(o.status, HTTP_PARSE_ERROR);
		test_assert_int_eq(o.http_status, status);
	}
}

static void test_limits(void)
{
	char raw[64 * 1024];
	struct buf b;

	/* one header too many */
	buf_init_fixed(&b, raw, sizeof(raw));
	buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (size_t i = 1; i < limits.max_headers + 1; i++)
		buf_printf(&b, "X-%zu: v\r\n", i);
	buf_append_str(&b, "\r\n");
	expect_status(b.data, b.len, 431);

	/* exactly max_headers is fine */
	buf_reset(&b);
	buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (size_t i = 1; i < limits.max_headers; i++)
		buf_printf(&b, "X-%zu: v\r\n", i);
	buf_append_str(&b, "\r\n");
	struct outcome o;
	run(b.data, b.len, test_split_random, &o);
	test_assert_int_eq(o.status, HTTP_PARSE_OK);
	test_assert_int_eq(o.head.header_count, limits.max_headers);

	/* head larger than max_header_bytes, every line within max_line */
	buf_reset(&b);
	buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 10; i++) {
		buf_printf(&b, "X-%d: ", i);
		for (int j = 0; j < 4000; j++)
			buf_append_char(&b, 'v');
		buf_append_str(&b, "\r\n");
	}
	buf_append_str(&b, "\r\n");
	test_assert(!buf_overflowed(&b));
	expect_status(b.data, b.len, 431);

	const char *expect = "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n";
	expect_status(expect, strlen(expect), 417);
}

static void test_body_limit(void)
{
	struct http_limits small = limits;
	struct http_chunked_decoder d;
	const char *body = "4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n";
	size_t consumed, data_len, pos = 0, got = 0;
	const char *data, *error;
	int status = 0;
	enum http_parse_status ret;

	small.max_body = 6;
	http_chunked_decoder_init(&d, &small);
	do {
		ret = http_chunked_decode(&d, body + pos, strlen(body) - pos, &consumed, &data,
		                          &data_len, &status, &error);
		if (ret != HTTP_PARSE_ERROR) {
			pos += consumed;
			got += data_len;
		}
	} while (ret == HTTP_PARSE_OK && data_len > 0);
	test_assert_int_eq(ret, HTTP_PARSE_ERROR);
	test_assert_int_eq(status, 413);
	test_assert_int_eq(got, 4);
}

static void test_chunk_format(void)
{
	char line[24];
	size_t n = http_chunked_format_size(line, 0x1a2b);
	test_assert(n == 6 && memcmp(line, "1a2b\r\n", 6) == 0);
	n = http_chunked_format_size(line, 1);
	test_assert(n == 3 && memcmp(line, "1\r\n", 3) == 0);
	n = http_chunked_format_size(line, 0);
	test_assert(n == 5 && memcmp(line, "0\r\n\r\n", 5) == 0);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"good requests", test_good_requests},
	    {"header values", test_header_values},
	    {"bad corpus", test_bad_corpus},
	    {"limits", test_limits},
	    {"chunked body limit", test_body_limit},
	    {"chunk size format", test_chunk_format},
	    {NULL, NULL},
	};
	http_limits_default(&limits);
	return test_run(cases);
}
