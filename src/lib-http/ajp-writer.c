/* SPDX-License-Identifier: MIT */
/* Response packets are built on the stack and appended whole, so a SEND_HEADERS that does not
   fit in one packet is refused before anything of it reaches the connection. */
#include "ajp-writer.h"

#include <string.h>

#include "ajp-parser.h"

struct packet {
	unsigned char b[AJP_PACKET_MAX];
	size_t len;
	bool overflow;
};

static void put_u8(struct packet *p, unsigned v)
{
	if (p->len + 1 > sizeof(p->b)) {
		p->overflow = true;
		return;
	}
	p->b[p->len++] = (unsigned char)v;
}

static void put_u16(struct packet *p, unsigned v)
{
	put_u8(p, (v >> 8) & 0xFF);
	put_u8(p, v & 0xFF);
}

static void put_str(struct packet *p, struct strv s)
{
	if (s.len >= 0xA000 || p->len + 2 + s.len + 1 > sizeof(p->b)) {
		p->overflow = true;
		return;
	}
	put_u16(p, (unsigned)s.len);
	memcpy(p->b + p->len, s.ptr, s.len);
	p->len += s.len;
	put_u8(p, 0);
}

static void header_start(unsigned char *b, size_t payload_len)
{
	b[0] = 'A';
	b[1] = 'B';
	b[2] = (unsigned char)(payload_len >> 8);
	b[3] = (unsigned char)(payload_len & 0xFF);
}

int ajp_writer_headers(struct buf *out, int status, const char *reason, const char *server_name,
                       struct strv fields, int64_t content_length)
{
	static __thread struct packet p;
	char len_text[24];
	unsigned count = (server_name != NULL) + (content_length >= 0);

	for (size_t i = 0; i + 1 < fields.len; i++)
		count += fields.ptr[i] == '\r' && fields.ptr[i + 1] == '\n';
	p.len = AJP_HEADER_LEN;
	p.overflow = false;
	put_u8(&p, AJP_SEND_HEADERS);
	put_u16(&p, (unsigned)status);
	put_str(&p, strv_from_cstr(reason));
	put_u16(&p, count);
	if (server_name != NULL) {
		put_str(&p, strv_from_cstr("Server"));
		put_str(&p, strv_from_cstr(server_name));
	}
	struct strv rest = fields, line;
	while (rest.len > 0) {
		ptrdiff_t end = strv_find_char(rest, '\r');
		if (end < 0)
			break;
		line = strv_make(rest.ptr, (size_t)end);
		rest = strv_make(rest.ptr + end + 2, rest.len - (size_t)end - 2);
		ptrdiff_t colon = strv_find_char(line, ':');
		if (colon < 0)
			continue;
		put_str(&p, strv_make(line.ptr, (size_t)colon));
		put_str(&p,
		        strv_trim(strv_make(line.ptr + colon + 1, line.len - (size_t)colon - 1)));
	}
	if (content_length >= 0) {
		size_t n = buf_format_u64(len_text, (uint64_t)content_length);
		put_str(&p, strv_from_cstr("Content-Length"));
		put_str(&p, strv_make(len_text, n));
	}
	if (p.overflow)
		return -1;
	header_start(p.b, p.len - AJP_HEADER_LEN);
	buf_append(out, p.b, p.len);
	return 0;
}

void ajp_writer_body(struct buf *out, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len < AJP_CHUNK_DATA_MAX ? len : AJP_CHUNK_DATA_MAX;
		unsigned char h[7];
		header_start(h, n + 4);
		h[4] = AJP_SEND_BODY_CHUNK;
		h[5] = (unsigned char)(n >> 8);
		h[6] = (unsigned char)(n & 0xFF);
		buf_append(out, h, sizeof(h));
		buf_append(out, data, n);
		buf_append(out, "", 1);
		data += n;
		len -= n;
	}
}

void ajp_writer_end(struct buf *out, bool reuse)
{
	unsigned char b[6];
	header_start(b, 2);
	b[4] = AJP_END_RESPONSE;
	b[5] = reuse ? 1 : 0;
	buf_append(out, b, sizeof(b));
}

size_t ajp_writer_get_body(char out[7], unsigned want)
{
	unsigned char *b = (unsigned char *)out;
	header_start(b, 3);
	b[4] = AJP_GET_BODY_CHUNK;
	b[5] = (unsigned char)(want >> 8);
	b[6] = (unsigned char)(want & 0xFF);
	return 7;
}

size_t ajp_writer_cpong(char out[5])
{
	unsigned char *b = (unsigned char *)out;
	header_start(b, 1);
	b[4] = AJP_CPONG;
	return 5;
}
