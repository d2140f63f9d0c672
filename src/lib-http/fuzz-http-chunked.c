/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the chunked decoder fed in pieces whose sizes come from the input. */
#include <stdint.h>
#include <string.h>

#include "http-chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	struct http_chunked_decoder d;
	uint64_t total = 0;

	if (size < 1)
		return 0;
	http_limits_default(&lim);
	lim.max_body = 1 << 20;
	http_chunked_decoder_init(&d, &lim);
	unsigned step = (data[0] % 16) + 1;
	const char *in = (const char *)data + 1;
	size_t left = size - 1, pos = 0;
	while (pos < left) {
		size_t piece = left - pos < step ? left - pos : step;
		size_t off = 0;
		while (off < piece) {
			size_t consumed, data_len;
			const char *chunk;
			int status;
			const char *error;
			enum http_parse_status ret =
			    http_chunked_decode(&d, in + pos + off, piece - off, &consumed, &chunk,
			                        &data_len, &status, &error);
			if (ret == HTTP_PARSE_ERROR || http_chunked_decoder_done(&d))
				return 0;
			if (data_len > 0) {
				total += data_len;
				/* Slices must lie inside the piece given. */
				if (chunk < in + pos + off || chunk + data_len > in + pos + piece)
					__builtin_trap();
			}
			off += consumed;
			if (ret == HTTP_PARSE_AGAIN)
				break;
		}
		pos += piece;
	}
	if (total > lim.max_body)
		__builtin_trap();
	return 0;
}
