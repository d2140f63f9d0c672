/* SPDX-License-Identifier: MIT */
/* libFuzzer target: request head parsing plus body framing, whole and split in two. */
#include <stdint.h>
#include <string.h>

#include "http-chunked.h"
#include "http-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_header headers[128];

static void parse(const char *buf, size_t len, size_t first, const struct http_limits *lim)
{
	struct http_request_parser p;
	struct http_request_head head;
	size_t head_len;
	int status;
	const char *error;

	http_request_parser_init(&p, lim);
	enum http_parse_status ret = HTTP_PARSE_AGAIN;
	if (first < len)
		ret = http_request_parser_parse(&p, buf, first, headers, &head, &head_len, &status,
		                                &error);
	if (ret == HTTP_PARSE_AGAIN)
		ret = http_request_parser_parse(&p, buf, len, headers, &head, &head_len, &status,
		                                &error);
	if (ret != HTTP_PARSE_OK)
		return;
	/* Touch every view so ASan checks they stay inside the buffer. */
	volatile char sink = 0;
	for (size_t i = 0; i < head.header_count; i++) {
		if (head.headers[i].name.len > 0)
			sink ^= head.headers[i].name.ptr[head.headers[i].name.len - 1];
		if (head.headers[i].value.len > 0)
			sink ^= head.headers[i].value.ptr[head.headers[i].value.len - 1];
	}
	if (head.path.len > 0)
		sink ^= head.path.ptr[head.path.len - 1];
	(void)sink;
	if (head.body_kind != HTTP_BODY_CHUNKED)
		return;
	struct http_chunked_decoder d;
	http_chunked_decoder_init(&d, lim);
	size_t pos = head_len;
	for (;;) {
		size_t consumed, data_len;
		const char *chunk;
		ret = http_chunked_decode(&d, buf + pos, len - pos, &consumed, &chunk, &data_len,
		                          &status, &error);
		if (ret != HTTP_PARSE_OK || data_len == 0)
			break;
		pos += consumed;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	http_limits_default(&lim);
	lim.max_headers = 128;
	lim.max_line = 4096;
	lim.max_header_bytes = 16384;
	parse((const char *)data, size, size, &lim);
	if (size > 1)
		parse((const char *)data + 1, size - 1, data[0] % (size - 1), &lim);
	return 0;
}
