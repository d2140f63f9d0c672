/* SPDX-License-Identifier: MIT */
/* libFuzzer target: response heads fed whole and split in two, and the body after the final
   head whole and in small pieces, must agree and keep invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http-response-parser.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 64
#define MAX_HEADS   8   /* interim 1xx heads followed in one input */
#define BODY_MAX    300 /* small, so that the limit is reached */

struct result {
	enum http_parse_status status;
	struct http_response_head head;
	size_t head_len;
	const char *error;
};

static struct http_header whole_headers[MAX_HEADERS], split_headers[MAX_HEADERS];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_view(struct strv v, const char *buf, size_t head_len)
{
	check(v.ptr != NULL && v.ptr >= buf && v.len <= head_len &&
	      (size_t)(v.ptr - buf) <= head_len - v.len);
	/* Touch the ends so ASan checks them too. */
	volatile char sink = 0;
	if (v.len > 0)
		sink ^= v.ptr[0] ^ v.ptr[v.len - 1];
	(void)sink;
}

static bool has_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return true;
	}
	return false;
}

/* What an accepted head must look like, checked without the parser's code. */
static void check_ok(const struct result *r, const char *buf, size_t len, bool head_req)
{
	const struct http_response_head *h = &r->head;

	check(r->head_len >= 16 && r->head_len <= len);
	check(memcmp(buf + r->head_len - 4, "\r\n\r\n", 4) == 0);
	check(!has_head_end(buf, r->head_len - 1));
	check(memcmp(buf, "HTTP/1.", 7) == 0);
	for (size_t i = 0; i < r->head_len; i++) {
		unsigned char c = (unsigned char)buf[i];
		check(c != '\r' || buf[i + 1] == '\n');
		check(c != '\n' || (i > 0 && buf[i - 1] == '\r'));
		check(c >= 0x20 || c == '\t' || c == '\r' || c == '\n');
		check(c != 0x7f);
	}
	check(h->version_minor <= 1 && h->status >= 100 && h->status <= 599);
	check(h->header_count <= MAX_HEADERS);
	check_view(h->reason, buf, r->head_len);
	for (size_t i = 0; i < h->header_count; i++) {
		check(h->headers[i].name.len > 0);
		check_view(h->headers[i].name, buf, r->head_len);
		check_view(h->headers[i].value, buf, r->head_len);
	}

	bool no_body = head_req || h->status < 200 || h->status == 204 || h->status == 304;
	struct strv cl = http_response_head_header(h, "Content-Length");
	struct strv te = http_response_head_header(h, "Transfer-Encoding");
	check(cl.ptr == NULL || te.ptr == NULL);
	check(te.ptr == NULL || (h->version_minor == 1 && strv_eq_ci_cstr(te, "chunked")));
	switch (h->body_kind) {
	case HTTP_RESPONSE_BODY_NONE:
		check(no_body);
		break;
	case HTTP_RESPONSE_BODY_LENGTH: {
		uint64_t n;
		check(!no_body && strv_to_u64(cl, &n) == 0 && n == h->content_length);
		break;
	}
	case HTTP_RESPONSE_BODY_CHUNKED:
		check(!no_body && te.ptr != NULL);
		break;
	case HTTP_RESPONSE_BODY_CLOSE:
		check(!no_body && cl.ptr == NULL && te.ptr == NULL && !h->keep_alive);
		break;
	default:
		check(false);
	}
	uint64_t announced;
	if (h->body_kind == HTTP_RESPONSE_BODY_NONE && head_req && cl.ptr != NULL)
		check(strv_to_u64(cl, &announced) == 0 && announced == h->content_length);
	else
		check(h->body_kind == HTTP_RESPONSE_BODY_LENGTH || h->content_length == 0);
}

static void check_same(const struct result *a, const struct result *b)
{
	/* Error texts may differ: a run of bytes past both max_line and max_header_bytes is named
	   by whichever limit the piece boundary lets the scanner see first. */
	check(a->status == b->status);
	if (a->status != HTTP_PARSE_OK)
		return;
	check(a->head_len == b->head_len);
	check(a->head.status == b->head.status && a->head.version_minor == b->head.version_minor);
	check(a->head.body_kind == b->head.body_kind && a->head.keep_alive == b->head.keep_alive);
	check(a->head.content_length == b->head.content_length);
	check(a->head.header_count == b->head.header_count);
	check(a->head.reason.len == b->head.reason.len);
}

/* Parses buf[0..len) in one call, then again as buf[0..first) and buf[0..len) with the first
   piece in an exact-size copy (a read past it is caught, and the buffer moves between calls). */
static void parse_one(const char *buf, size_t len, size_t first, bool head_req,
                      const struct http_limits *lim, struct result *whole)
{
	struct http_response_parser p;
	struct result split;

	memset(whole, 0, sizeof(*whole));
	http_response_parser_init(&p, lim);
	whole->status = http_response_parser_parse(&p, buf, len, whole_headers, head_req,
	                                           &whole->head, &whole->head_len, &whole->error);

	memset(&split, 0, sizeof(split));
	http_response_parser_init(&p, lim);
	char *piece = mem_alloc(first > 0 ? first : 1);
	memcpy(piece, buf, first);
	split.status = http_response_parser_parse(&p, piece, first, split_headers, head_req,
	                                          &split.head, &split.head_len, &split.error);
	if (split.status == HTTP_PARSE_OK)
		check_ok(&split, piece, first, head_req);
	mem_free(&piece);
	if (split.status == HTTP_PARSE_AGAIN)
		split.status =
		    http_response_parser_parse(&p, buf, len, split_headers, head_req, &split.head,
		                               &split.head_len, &split.error);

	check_same(whole, &split);
	switch (whole->status) {
	case HTTP_PARSE_OK:
		check_ok(whole, buf, len, head_req);
		break;
	case HTTP_PARSE_AGAIN:
		check(!has_head_end(buf, len));
		break;
	case HTTP_PARSE_ERROR:
		check(whole->error != NULL && whole->error[0] != '\0');
		break;
	}
}

struct body_result {
	enum http_parse_status status;
	size_t used;
	bool too_large;
	struct buf out;
};

/* Reads the body after an accepted final head from buf[0..len) in pieces of at most step
   bytes (each an exact-size copy), then the close. */
static void read_body(const struct http_response_head *head, const char *buf, size_t len,
                      size_t step, struct body_result *r)
{
	struct http_response_body b;
	const char *error = NULL;

	http_response_body_init(&b, head, BODY_MAX);
	buf_init(&r->out, BODY_MAX);
	r->used = 0;
	r->status = HTTP_PARSE_AGAIN;
	do {
		size_t n = len - r->used < step ? len - r->used : step, used = 0;
		char *piece = mem_alloc(n > 0 ? n : 1);
		memcpy(piece, buf + r->used, n);
		r->status = http_response_body_parse(&b, piece, n, &used, &r->out, &error);
		mem_free(&piece);
		check(r->status == HTTP_PARSE_ERROR || used <= n);
		check(r->status != HTTP_PARSE_AGAIN || used == n);
		if (r->status != HTTP_PARSE_ERROR)
			r->used += used;
	} while (r->status == HTTP_PARSE_AGAIN && r->used < len);
	if (r->status == HTTP_PARSE_AGAIN)
		r->status = http_response_body_eof(&b, &error);
	check(r->status != HTTP_PARSE_AGAIN);
	check(r->status == HTTP_PARSE_OK || (error != NULL && error[0] != '\0'));
	check(b.received == r->out.len && r->out.len <= BODY_MAX && !buf_overflowed(&r->out));
	if (r->status == HTTP_PARSE_OK && head->body_kind == HTTP_RESPONSE_BODY_LENGTH)
		check(r->out.len == head->content_length);
	if (r->status == HTTP_PARSE_OK && head->body_kind == HTTP_RESPONSE_BODY_NONE)
		check(r->out.len == 0 && r->used == 0);
	r->too_large = b.too_large;
}

/* The body whole and in pieces gives the same bytes and the same verdict. */
static void check_body(const struct http_response_head *head, const char *buf, size_t len,
                       size_t step)
{
	struct body_result whole, split;
	read_body(head, buf, len, len + 1, &whole);
	read_body(head, buf, len, step, &split);
	check(whole.status == split.status && whole.too_large == split.too_large);
	if (whole.status == HTTP_PARSE_OK)
		check(whole.used == split.used && whole.out.len == split.out.len &&
		      memcmp(whole.out.data, split.out.data, whole.out.len) == 0);
	buf_free(&whole.out);
	buf_free(&split.out);
}

/* Input: byte 0 bit 0 = the request was HEAD, bytes 0-1 otherwise pick where to split; the rest
   is what the backend sent. Interim 1xx heads are followed as the proxy does. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	http_limits_default(&lim);
	lim.max_headers = MAX_HEADERS;
	lim.max_line = 1024;
	lim.max_header_bytes = 4096;

	if (size < 2)
		return 0;
	bool head_req = data[0] & 1;
	size_t split_seed = ((size_t)(data[0] >> 1) << 8) | data[1];
	const char *buf = (const char *)data + 2;
	size_t len = size - 2;

	for (int n = 0; n < MAX_HEADS; n++) {
		struct result r;
		parse_one(buf, len, split_seed % (len + 1), head_req, &lim, &r);
		if (r.status == HTTP_PARSE_OK && r.head.status >= 200) {
			check_body(&r.head, buf + r.head_len, len - r.head_len, 1 + split_seed % 7);
			break;
		}
		if (r.status != HTTP_PARSE_OK)
			break;
		buf += r.head_len;
		len -= r.head_len;
	}
	return 0;
}
