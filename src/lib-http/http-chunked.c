/* SPDX-License-Identifier: MIT */
/* Chunked decoding as a byte-level state machine, so any split of the input decodes the same. */
#include "http-chunked.h"

#include <string.h>

#define MAX_SIZE_DIGITS 15 /* < 2^60: no overflow, far above any body limit */
#define MAX_EXT_LINE    1024

enum state {
	ST_SIZE,    /* hex digits */
	ST_EXT,     /* after ';' in a chunk extension */
	ST_SIZE_LF, /* CR seen after size line */
	ST_DATA,    /* chunk data */
	ST_DATA_CR, /* expecting CR after data */
	ST_DATA_LF, /* expecting LF after data */
	ST_TRAILER, /* start of a trailer line (or the final empty line) */
	ST_TRAILER_LINE,
	ST_TRAILER_LF, /* CR seen in a trailer line */
	ST_FINAL_LF,   /* CR seen on the empty line ending the body */
	ST_DONE,
};

void http_chunked_decoder_init(struct http_chunked_decoder *d, const struct http_limits *limits)
{
	memset(d, 0, sizeof(*d));
	d->limits = limits;
	d->state = ST_SIZE;
}

bool http_chunked_decoder_done(const struct http_chunked_decoder *d)
{
	return d->state == ST_DONE;
}

#define FAIL(status, msg)                                                                          \
	do {                                                                                       \
		*status_r = (status);                                                              \
		*error_r = (msg);                                                                  \
		return HTTP_PARSE_ERROR;                                                           \
	} while (0)

enum http_parse_status http_chunked_decode(struct http_chunked_decoder *d, const char *in,
                                           size_t in_len, size_t *consumed_r, const char **data_r,
                                           size_t *data_len_r, int *status_r, const char **error_r)
{
	size_t i = 0;

	*data_len_r = 0;
	*data_r = NULL;
	while (i < in_len) {
		unsigned char c = (unsigned char)in[i];

		switch (d->state) {
		case ST_SIZE: {
			int v = strv_hex_digit(c);
			if (v >= 0) {
				if (++d->size_digits > MAX_SIZE_DIGITS)
					FAIL(400, "chunk size too long");
				d->remaining = d->remaining * 16 + (unsigned)v;
				break;
			}
			if (d->size_digits == 0)
				FAIL(400, "invalid chunk size");
			if (c == ';') {
				d->state = ST_EXT;
				d->line_len = 0;
			} else if (c == '\r') {
				d->state = ST_SIZE_LF;
			} else {
				FAIL(400, "invalid character after chunk size");
			}
			break;
		}
		case ST_EXT:
			/* Extensions are ignored but must be well-formed enough to find the line
			   end: no bare CR/LF or control bytes, bounded length. */
			if (++d->line_len > MAX_EXT_LINE)
				FAIL(400, "chunk extension too long");
			if (c == '\r' && !d->in_quote) {
				d->state = ST_SIZE_LF;
			} else if (c == '\n' || c == '\r' || (c < 0x20 && c != '\t') || c == 0x7f) {
				FAIL(400, "invalid character in chunk extension");
			} else if (d->in_quote) {
				if (d->quote_escape)
					d->quote_escape = false;
				else if (c == '\\')
					d->quote_escape = true;
				else if (c == '"')
					d->in_quote = false;
			} else if (c == '"') {
				d->in_quote = true;
			} else if (!http_is_tchar(c) && c != ';' && c != '=') {
				FAIL(400, "invalid character in chunk extension");
			}
			break;
		case ST_SIZE_LF:
			if (c != '\n')
				FAIL(400, "chunk size line not ended by CRLF");
			d->size_digits = 0;
			if (d->remaining == 0) {
				d->state = ST_TRAILER;
				d->line_len = 0;
				break;
			}
			if (d->remaining > d->limits->max_body - d->total ||
			    d->total > d->limits->max_body)
				FAIL(413, "request body too large");
			d->state = ST_DATA;
			break;
		case ST_DATA: {
			size_t n = in_len - i;
			if (n > d->remaining)
				n = (size_t)d->remaining;
			d->remaining -= n;
			d->total += n;
			if (d->remaining == 0)
				d->state = ST_DATA_CR;
			*data_r = in + i;
			*data_len_r = n;
			*consumed_r = i + n;
			return HTTP_PARSE_OK;
		}
		case ST_DATA_CR:
			if (c != '\r')
				FAIL(400, "chunk data not followed by CRLF");
			d->state = ST_DATA_LF;
			break;
		case ST_DATA_LF:
			if (c != '\n')
				FAIL(400, "chunk data not followed by CRLF");
			d->state = ST_SIZE;
			break;
		case ST_TRAILER:
			if (c == '\r') {
				d->state = ST_FINAL_LF;
				break;
			}
			if (!http_is_tchar(c))
				FAIL(400, "invalid trailer field");
			d->state = ST_TRAILER_LINE;
			d->trailer_colon = false;
			d->line_len = 1;
			break;
		case ST_TRAILER_LINE:
			/* Trailers are dropped: only their syntax matters here. */
			if (++d->line_len > d->limits->max_line)
				FAIL(400, "trailer line too long");
			if (!d->trailer_colon) {
				if (c == ':')
					d->trailer_colon = true;
				else if (!http_is_tchar(c))
					FAIL(400, "invalid trailer field name");
			} else if (c == '\r')
				d->state = ST_TRAILER_LF;
			else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f)
				FAIL(400, "invalid character in trailer");
			break;
		case ST_TRAILER_LF:
			if (c != '\n')
				FAIL(400, "bare CR in trailer");
			d->trailer_bytes += d->line_len + 1;
			if (d->trailer_bytes > d->limits->max_header_bytes)
				FAIL(431, "trailer section too large");
			d->state = ST_TRAILER;
			break;
		case ST_FINAL_LF:
			if (c != '\n')
				FAIL(400, "chunked body not ended by CRLF");
			d->state = ST_DONE;
			*consumed_r = i + 1;
			return HTTP_PARSE_OK;
		case ST_DONE:
			*consumed_r = i;
			return HTTP_PARSE_OK;
		}
		i++;
	}
	*consumed_r = i;
	return d->state == ST_DONE ? HTTP_PARSE_OK : HTTP_PARSE_AGAIN;
}

size_t http_chunked_format_size(char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, pos = 0;

	if (len == 0) {
		memcpy(out, "0\r\n\r\n", 5);
		return 5;
	}
	while (len > 0) {
		tmp[n++] = hex[len & 0xf];
		len >>= 4;
	}
	while (n > 0)
		out[pos++] = tmp[--n];
	out[pos++] = '\r';
	out[pos++] = '\n';
	return pos;
}
