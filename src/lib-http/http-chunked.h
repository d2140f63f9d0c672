/* SPDX-License-Identifier: MIT */
/* Streaming chunked transfer-coding decoder (strict) and encoder helpers. */
#ifndef TANDEM_HTTP_CHUNKED_H
#define TANDEM_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-parser.h"

struct http_chunked_decoder {
	const struct http_limits *limits;
	int state;
	uint64_t remaining; /* data bytes left in the current chunk */
	uint64_t total;     /* decoded body bytes so far */
	size_t line_len;    /* current size or trailer line */
	size_t trailer_bytes;
	unsigned size_digits;
	bool in_quote, quote_escape;
	bool trailer_colon;
};

void http_chunked_decoder_init(struct http_chunked_decoder *d, const struct http_limits *limits);

/* Decodes from in[0..in_len). Returns:
   - OK with *data_len_r > 0: body bytes at *data_r (a slice of in); call again with the rest;
   - OK with *data_len_r == 0: the body ended (last chunk and trailers consumed);
   - AGAIN: all input consumed, more needed;
   - ERROR: *status_r (400, or 413 past limits->max_body) and *error_r.
   *consumed_r is how many input bytes were used in every case but ERROR. */
enum http_parse_status http_chunked_decode(struct http_chunked_decoder *d, const char *in,
                                           size_t in_len, size_t *consumed_r, const char **data_r,
                                           size_t *data_len_r, int *status_r, const char **error_r);

bool http_chunked_decoder_done(const struct http_chunked_decoder *d);

/* Writes the chunk-size line for a chunk of len bytes ("1a2b\r\n") into out (>= 19 bytes);
   returns its length. len 0 gives the last-chunk line followed by the empty trailer ("0\r\n\r\n").
 */
size_t http_chunked_format_size(char *out, size_t len);

#endif
