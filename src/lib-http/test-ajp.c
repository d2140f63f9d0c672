/* SPDX-License-Identifier: MIT */
/* The AJP13 parser (packet framing, FORWARD_REQUEST, body packets, the secret) and the
   response packets, against packets built here byte by byte as mod_proxy_ajp builds them. */
#include <string.h>

#include "ajp-parser.h"
#include "ajp-writer.h"
#include "buf.h"
#include "pool.h"
#include "test.h"

struct pkt {
	unsigned char b[AJP_PACKET_MAX + 64];
	size_t len;
};

static void u8(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)v;
}

static void u16(struct pkt *p, unsigned v)
{
	u8(p, v >> 8);
	u8(p, v & 0xFF);
}

static void str(struct pkt *p, const char *s)
{
	size_t n = strlen(s);
	u16(p, (unsigned)n);
	memcpy(p->b + p->len, s, n);
	p->len += n;
	u8(p, 0);
}

/* A FORWARD_REQUEST payload as Apache sends a POST with a query, a secret and a route. */
static void forward(struct pkt *p, const char *secret)
{
	p->len = 0;
	u8(p, AJP_FORWARD_REQUEST);
	u8(p, 4); /* POST */
	str(p, "HTTP/1.1");
	str(p, "/api/v1/files;jsessionid=abc.OX-1");
	str(p, "192.0.2.7");
	u16(p, 0xFFFF); /* remote_host: null */
	str(p, "groupware.example");
	u16(p, 443);
	u8(p, 1); /* is_ssl */
	u16(p, 4);
	u16(p, 0xA00B); /* Host */
	str(p, "groupware.example:443");
	u16(p, 0xA008); /* Content-Length */
	str(p, "5");
	str(p, "X-Custom");
	str(p, "a value\twith tab");
	u16(p, 0xA009); /* Cookie */
	str(p, "JSESSIONID=abc.OX-1");
	u8(p, 0x06); /* route */
	str(p, "OX-1");
	u8(p, 0x0A); /* req_attribute */
	str(p, "AJP_REMOTE_PORT");
	str(p, "51234");
	u8(p, 0x0B); /* ssl_key_size: an integer */
	u16(p, 256);
	u8(p, 0x05); /* query_string */
	str(p, "folder=7&x=%20");
	if (secret != NULL) {
		u8(p, 0x0C);
		str(p, secret);
	}
	u8(p, 0xFF);
}

static int parse(const struct pkt *p, struct pool *pool, struct ajp_forward *f, int *status)
{
	const char *error;
	return ajp_parser_forward((const char *)p->b, p->len, pool, 100, f, status, &error);
}

static void test_forward(void)
{
	struct pool *pool = pool_create(1024);
	struct pkt p;
	struct ajp_forward f;
	int status;

	forward(&p, "s3cret");
	test_assert_int_eq(parse(&p, pool, &f, &status), 0);
	test_assert(strv_eq_cstr(f.head.method, "POST"));
	test_assert(strv_eq_cstr(f.head.path, "/api/v1/files;jsessionid=abc.OX-1"));
	test_assert(strv_eq_cstr(f.head.query, "folder=7&x=%20"));
	test_assert(
	    strv_eq_cstr(f.head.target, "/api/v1/files;jsessionid=abc.OX-1?folder=7&x=%20"));
	test_assert(strv_eq_cstr(f.head.host, "groupware.example:443"));
	test_assert_int_eq(f.head.version_minor, 1);
	test_assert_int_eq(f.head.header_count, 4);
	test_assert(strv_eq_cstr(f.head.headers[0].name, "Host"));
	test_assert(strv_eq_cstr(f.head.headers[3].name, "Cookie"));
	test_assert(
	    strv_eq_cstr(http_request_head_header(&f.head, "x-custom"), "a value\twith tab"));
	test_assert_int_eq(f.head.body_kind, HTTP_BODY_LENGTH);
	test_assert_int_eq(f.head.content_length, 5);
	test_assert(f.head.keep_alive);
	test_assert(strv_eq_cstr(f.remote_addr, "192.0.2.7"));
	test_assert(f.remote_host.ptr == NULL);
	test_assert(strv_eq_cstr(f.server_name, "groupware.example"));
	test_assert_int_eq(f.server_port, 443);
	test_assert(f.is_ssl);
	test_assert(strv_eq_cstr(f.route, "OX-1"));
	test_assert(f.has_secret && strv_eq_cstr(f.secret, "s3cret"));

	forward(&p, NULL);
	test_assert_int_eq(parse(&p, pool, &f, &status), 0);
	test_assert(!f.has_secret);

	/* any other method comes as 0xFF with stored_method; no query: the target is the URI */
	p.len = 0;
	u8(&p, AJP_FORWARD_REQUEST);
	u8(&p, 0xFF);
	str(&p, "HTTP/1.0");
	str(&p, "/x");
	str(&p, "2001:db8::1");
	str(&p, "");
	str(&p, "localhost");
	u16(&p, 80);
	u8(&p, 0);
	u16(&p, 1);
	str(&p, "Transfer-Encoding");
	str(&p, "chunked");
	u8(&p, 0x0D);
	str(&p, "PATCH");
	u8(&p, 0xFF);
	test_assert_int_eq(parse(&p, pool, &f, &status), 0);
	test_assert(strv_eq_cstr(f.head.method, "PATCH"));
	test_assert(strv_eq_cstr(f.head.target, "/x"));
	test_assert_int_eq(f.head.query.len, 0);
	test_assert(strv_eq_cstr(f.head.host, "localhost")); /* server_name without Host */
	test_assert_int_eq(f.head.version_minor, 0);
	test_assert_int_eq(f.head.body_kind, HTTP_BODY_CHUNKED);
	test_assert(!f.is_ssl);
	pool_destroy(&pool);
}

/* Each cut of a good packet is refused, never read past. */
static void test_truncated(void)
{
	struct pool *pool = pool_create(1024);
	struct pkt p;
	struct ajp_forward f;
	int status;
	forward(&p, "s3cret");
	for (size_t n = 0; n < p.len; n++) {
		const char *error = NULL;
		/* a copy of exactly n bytes, so ASan sees any read beyond */
		char *copy = pool_alloc(pool, n + 1);
		memcpy(copy, p.b, n);
		test_assert_int_eq(ajp_parser_forward(copy, n, pool, 100, &f, &status, &error), -1);
		test_assert(error != NULL);
	}
	pool_destroy(&pool);
}

/* Patches one byte of the good packet (at the first occurrence of what) to value. */
static int patched(const char *what, unsigned char value, int *status)
{
	struct pool *pool = pool_create(1024);
	struct pkt p;
	struct ajp_forward f;
	forward(&p, "s3cret");
	unsigned char *at = memmem(p.b, p.len, what, strlen(what));
	test_assert(at != NULL);
	*at = value;
	int ret = parse(&p, pool, &f, status);
	pool_destroy(&pool);
	return ret;
}

static void test_refused(void)
{
	struct pool *pool = pool_create(1024);
	struct pkt p;
	struct ajp_forward f;
	int status;

	test_assert_int_eq(patched("X-Custom", '(', &status), -1); /* name not a token */
	test_assert_int_eq(patched("a value", '\n', &status), -1); /* LF in a value */
	test_assert_int_eq(patched("/api", 'a', &status), -1);     /* URI without '/' */
	test_assert_int_eq(patched("api/v1", ' ', &status), -1);   /* space in the URI */
	test_assert_int_eq(patched("192.0", 'x', &status), -1);    /* remote_addr not an IP */
	test_assert_int_eq(patched("HTTP/1.1", 'F', &status), -1); /* protocol */
	test_assert_int_eq(patched("OX-1", '\0', &status), -1);    /* embedded NUL */
	test_assert_int_eq(patched("folder", '#', &status), -1);   /* fragment in the query */
	test_assert_int_eq(status, 400);

	forward(&p, NULL);
	p.b[1] = 0; /* method code 0 */
	test_assert_int_eq(parse(&p, pool, &f, &status), -1);
	forward(&p, NULL);
	p.b[1] = 28; /* past the table */
	test_assert_int_eq(parse(&p, pool, &f, &status), -1);
	forward(&p, NULL);
	p.b[p.len - 1] = 0x0E; /* an attribute code the protocol lacks */
	u8(&p, 0xFF);
	test_assert_int_eq(parse(&p, pool, &f, &status), -1);
	forward(&p, NULL);
	u8(&p, 0); /* a byte after the end */
	test_assert_int_eq(parse(&p, pool, &f, &status), -1);
	forward(&p, NULL);
	p.b[0] = AJP_CPING;
	test_assert_int_eq(parse(&p, pool, &f, &status), -1);
	/* two query strings */
	forward(&p, NULL);
	p.len--;
	u8(&p, 0x05);
	str(&p, "again");
	u8(&p, 0xFF);
	test_assert_int_eq(parse(&p, pool, &f, &status), -1);
	/* too many fields: 431 */
	forward(&p, NULL);
	const char *error;
	test_assert_int_eq(
	    ajp_parser_forward((const char *)p.b, p.len, pool, 3, &f, &status, &error), -1);
	test_assert_int_eq(status, 431);
	pool_destroy(&pool);
}

static void test_packet(void)
{
	unsigned char b[AJP_PACKET_MAX + 8] = {0x12, 0x34, 0x00, 0x03, 10, 1, 2, 0x12};
	struct strv payload;
	size_t plen;
	const char *error;

	for (size_t n = 0; n < 7; n++)
		test_assert_int_eq(ajp_parser_packet((const char *)b, n, &payload, &plen, &error),
		                   HTTP_PARSE_AGAIN);
	test_assert_int_eq(ajp_parser_packet((const char *)b, 8, &payload, &plen, &error),
	                   HTTP_PARSE_OK);
	test_assert_int_eq(plen, 7);
	test_assert_int_eq(payload.len, 3);
	test_assert(payload.ptr == (const char *)b + 4);
	b[1] = 0x35;
	test_assert_int_eq(ajp_parser_packet((const char *)b, 2, &payload, &plen, &error),
	                   HTTP_PARSE_ERROR);
	b[0] = 'A'; /* a container's packet coming back is not ours to read */
	test_assert_int_eq(ajp_parser_packet((const char *)b, 1, &payload, &plen, &error),
	                   HTTP_PARSE_ERROR);
	b[0] = 0x12;
	b[1] = 0x34;
	b[2] = 0x1F; /* 8188 + 1 */
	b[3] = 0xFD;
	test_assert_int_eq(ajp_parser_packet((const char *)b, 4, &payload, &plen, &error),
	                   HTTP_PARSE_ERROR);
	b[3] = 0xFC; /* exactly 8192 in all */
	test_assert_int_eq(
	    ajp_parser_packet((const char *)b, AJP_PACKET_MAX, &payload, &plen, &error),
	    HTTP_PARSE_OK);
}

static void test_body(void)
{
	struct strv data;
	const char *error;
	test_assert_int_eq(ajp_parser_body(strv_make("", 0), &data, &error), 0);
	test_assert_int_eq(data.len, 0);
	test_assert_int_eq(ajp_parser_body(strv_make("\0\0", 2), &data, &error), 0);
	test_assert_int_eq(data.len, 0);
	test_assert_int_eq(ajp_parser_body(strv_make("\0\3abc", 5), &data, &error), 0);
	test_assert(strv_eq_cstr(data, "abc"));
	test_assert_int_eq(ajp_parser_body(strv_make("\0\4abc", 5), &data, &error), -1);
	test_assert_int_eq(ajp_parser_body(strv_make("\0", 1), &data, &error), -1);
}

static void test_secret(void)
{
	test_assert(ajp_parser_secret_equal(strv_from_cstr("s3cret"), "s3cret"));
	test_assert(!ajp_parser_secret_equal(strv_from_cstr("s3cres"), "s3cret"));
	test_assert(!ajp_parser_secret_equal(strv_from_cstr("s3cre"), "s3cret"));
	test_assert(!ajp_parser_secret_equal(strv_from_cstr("s3crets3cret"), "s3cret"));
	test_assert(!ajp_parser_secret_equal(strv_from_cstr(""), ""));
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void test_writer(void)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	const char fields[] = "Content-Type: text/plain\r\nSet-Cookie: JSESSIONID=a.OX-1\r\n";
	test_assert_int_eq(ajp_writer_headers(&out, 201, "Created", "tandem",
	                                      strv_make(fields, sizeof(fields) - 1), 12),
	                   0);
	const unsigned char *b = (const unsigned char *)out.data;
	test_assert(b[0] == 'A' && b[1] == 'B');
	test_assert_int_eq(get16(b + 2), out.len - 4);
	test_assert_int_eq(b[4], AJP_SEND_HEADERS);
	test_assert_int_eq(get16(b + 5), 201);
	test_assert_int_eq(get16(b + 7), 7);
	test_assert(memcmp(b + 9, "Created", 8) == 0);
	test_assert_int_eq(get16(b + 17), 4); /* Server, two fields, Content-Length */
	test_assert(memmem(out.data, out.len, "\0\x0aSet-Cookie\0\0\x11JSESSIONID=a.OX-1\0", 33));
	test_assert(memmem(out.data, out.len,
	                   "\0\x0e"
	                   "Content-Length\0\0\x02"
	                   "12\0",
	                   22));

	/* 20000 bytes: two full chunks and the rest */
	static char data[20000];
	memset(data, 'x', sizeof(data));
	buf_reset(&out);
	ajp_writer_body(&out, data, sizeof(data));
	test_assert_int_eq(out.len, sizeof(data) + 3 * AJP_CHUNK_OVERHEAD);
	b = (const unsigned char *)out.data;
	test_assert_int_eq(get16(b + 2), AJP_CHUNK_DATA_MAX + 4);
	test_assert_int_eq(b[4], AJP_SEND_BODY_CHUNK);
	test_assert_int_eq(get16(b + 5), AJP_CHUNK_DATA_MAX);
	test_assert_int_eq(AJP_CHUNK_DATA_MAX + AJP_CHUNK_OVERHEAD, AJP_PACKET_MAX);
	size_t third = 2 * (AJP_CHUNK_DATA_MAX + AJP_CHUNK_OVERHEAD);
	test_assert_int_eq(get16(b + third + 5), sizeof(data) - 2 * AJP_CHUNK_DATA_MAX);
	test_assert_int_eq(b[out.len - 1], 0);

	buf_reset(&out);
	ajp_writer_end(&out, true);
	test_assert(out.len == 6 && memcmp(out.data, "AB\0\2\5\1", 6) == 0);
	char small[7];
	test_assert_int_eq(ajp_writer_get_body(small, 8186), 7);
	test_assert(memcmp(small, "AB\0\3\6\x1f\xfa", 7) == 0);
	test_assert_int_eq(ajp_writer_cpong(small), 5);
	test_assert(memcmp(small, "AB\0\1\x09", 5) == 0);

	/* header fields beyond one packet: refused, nothing appended */
	struct buf big;
	buf_init(&big, 1 << 20);
	for (int i = 0; i < 400; i++)
		buf_append_str(&big, "X-Filler: 0123456789012345678901234567890\r\n");
	buf_reset(&out);
	test_assert_int_eq(ajp_writer_headers(&out, 200, "OK", NULL, buf_strv(&big), -1), -1);
	test_assert_int_eq(out.len, 0);
	buf_free(&big);
	buf_free(&out);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"forward", test_forward}, {"truncated", test_truncated},
	    {"refused", test_refused}, {"packet", test_packet},
	    {"body", test_body},       {"secret", test_secret},
	    {"writer", test_writer},   {NULL, NULL},
	};
	return test_run(cases);
}
