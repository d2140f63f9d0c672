/* SPDX-License-Identifier: MIT */
/* libFuzzer target: AJP13 packets from the web server side, split into packets as a connection
   would, each parsed as a FORWARD_REQUEST and as a body packet; views must stay inside. */
#include <stdint.h>
#include <string.h>

#include "ajp-parser.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(struct strv v, const char *base, size_t len)
{
	if (v.len > 0 && (v.ptr < base || v.ptr + v.len > base + len))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t off = 0;
	struct pool *pool = pool_create(4096);

	while (off < size) {
		struct strv payload;
		size_t packet_len;
		const char *error;
		enum http_parse_status ret =
		    ajp_parser_packet(in + off, size - off, &payload, &packet_len, &error);
		if (ret != HTTP_PARSE_OK)
			break;
		if (packet_len > AJP_PACKET_MAX || payload.len + AJP_HEADER_LEN != packet_len)
			__builtin_trap();
		struct ajp_forward f;
		int status;
		if (ajp_parser_forward(payload.ptr, payload.len, pool, 100, &f, &status, &error) ==
		    0) {
			check_inside(f.remote_addr, payload.ptr, payload.len);
			check_inside(f.head.path, payload.ptr, payload.len);
			if (f.head.method.len == 0 || f.head.path.len == 0 ||
			    f.head.path.ptr[0] != '/' || f.head.header_count > 100 ||
			    memchr(f.head.target.ptr, '\n', f.head.target.len) != NULL)
				__builtin_trap();
			for (size_t i = 0; i < f.head.header_count; i++) {
				struct strv v = f.head.headers[i].value;
				if (memchr(v.ptr, '\r', v.len) || memchr(v.ptr, '\n', v.len))
					__builtin_trap();
			}
		} else if (status != 400 && status != 431) {
			__builtin_trap();
		}
		struct strv body;
		if (ajp_parser_body(payload, &body, &error) == 0)
			check_inside(body, payload.ptr, payload.len);
		off += packet_len;
		pool_clear(pool);
	}
	pool_destroy(&pool);
	return 0;
}
