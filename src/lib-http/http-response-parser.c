/* SPDX-License-Identifier: MIT */
/* Strict response-head parser: a backend's head that could be read two ways is refused. */
#include "http-response-parser.h"

#include <string.h>

#include "http-parser-private.h"

#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		*error_r = (msg);                                                                  \
		return HTTP_PARSE_ERROR;                                                           \
	} while (0)

static const char *const scan_errors[] = {
    [HTTP_PARSER__BARE_CR] = "bare CR in response head",
    [HTTP_PARSER__BARE_LF] = "bare LF in response head",
    [HTTP_PARSER__CONTROL_BYTE] = "control character in response head",
    [HTTP_PARSER__LINE_TOO_LONG] = "status line or header line too long",
    [HTTP_PARSER__HEAD_TOO_LARGE] = "response head too large",
    /* Leftover bytes of an earlier body would start this way: never skip them. */
    [HTTP_PARSER__LEADING_EMPTY_LINES] = "empty line where the status line was expected",
};

void http_response_parser_init(struct http_response_parser *p, const struct http_limits *limits)
{
	memset(p, 0, sizeof(*p));
	p->scan.limits = limits;
}

struct strv http_response_head_header(const struct http_response_head *head, const char *name)
{
	return http_parser__find_header(head->headers, head->header_count, name);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/1.x 200 reason": fixed offsets, nothing optional but the reason. */
static enum http_parse_status parse_status_line(struct strv line, struct http_response_head *head,
                                                const char **error_r)
{
	if (line.len < 12 || memcmp(line.ptr, "HTTP/1.", 7) != 0 || line.ptr[8] != ' ')
		FAIL("malformed status line");
	if (line.ptr[7] != '0' && line.ptr[7] != '1')
		FAIL("unsupported HTTP version");
	head->version_minor = (unsigned)(line.ptr[7] - '0');

	int status = 0;
	for (size_t i = 9; i < 12; i++) {
		if (!is_digit(line.ptr[i]))
			FAIL("malformed status code");
		status = status * 10 + (line.ptr[i] - '0');
	}
	if (status < 100 || status > 599)
		FAIL("status code out of range");
	head->status = status;

	/* RFC 9112 4 requires the SP even before an empty reason, but servers that send
	   "HTTP/1.1 200" are common and the line is unambiguous without it. The scan has refused
	   control bytes, so the reason is HTAB, SP, VCHAR and obs-text as the grammar wants. */
	if (line.len == 12) {
		head->reason = strv_make(line.ptr + 12, 0);
		return HTTP_PARSE_OK;
	}
	if (line.ptr[12] != ' ')
		FAIL("malformed status code");
	head->reason = strv_make(line.ptr + 13, line.len - 13);
	return HTTP_PARSE_OK;
}

static bool no_body_status(int status)
{
	return status < 200 || status == 204 || status == 304;
}

static enum http_parse_status parse_head(struct http_response_parser *p, const char *buf,
                                         size_t end, struct http_header *headers,
                                         bool request_was_head, struct http_response_head *head,
                                         const char **error_r)
{
	size_t pos = 0;
	struct strv line;
	struct http_parser__framing framing = {0};
	bool close = false;

	memset(head, 0, sizeof(*head));
	head->headers = headers;
	if (!http_parser__take_line(buf, end, &pos, &line))
		FAIL("missing status line");
	if (parse_status_line(line, head, error_r) != HTTP_PARSE_OK)
		return HTTP_PARSE_ERROR;
	head->keep_alive = head->version_minor == 1;

	for (;;) {
		enum http_parser__field_status field =
		    http_parser__next_field(buf, end, &pos, headers, &head->header_count,
		                            p->scan.limits->max_headers, error_r);
		if (field == HTTP_PARSER__END)
			break;
		if (field == HTTP_PARSER__TOO_MANY)
			FAIL("too many header fields");
		if (field == HTTP_PARSER__BAD)
			return HTTP_PARSE_ERROR;
		const struct http_header *h = &headers[head->header_count - 1];
		if (http_parser__framing_field(&framing, h, error_r) < 0)
			return HTTP_PARSE_ERROR;
		/* A later "keep-alive" must not undo an earlier "close": remember any close. */
		if (strv_eq_ci(h->name, STRV_LIT("Connection")) &&
		    http_parser__connection(h->value, head->version_minor == 0, &head->keep_alive))
			close = true;
	}

	bool seen_cl = framing.seen_content_length, seen_te = framing.seen_transfer_encoding;
	if (seen_cl && seen_te)
		FAIL("both Content-Length and Transfer-Encoding");
	if (seen_te && head->version_minor == 0)
		FAIL("Transfer-Encoding in an HTTP/1.0 response");
	if (close)
		head->keep_alive = false;

	if (request_was_head || no_body_status(head->status)) {
		head->body_kind = HTTP_RESPONSE_BODY_NONE;
		if (request_was_head && seen_cl)
			head->content_length = framing.content_length;
		/* For 304 and HEAD answers the fields describe the body not sent; a 1xx or 204 must
		   carry none (RFC 9110 8.6, RFC 9112 6.1), and a server that sends them anyway may
		   send a body too. */
		if (!request_was_head && head->status != 304 &&
		    (seen_te || (seen_cl && framing.content_length > 0)))
			head->keep_alive = false;
	} else if (seen_te) {
		head->body_kind = HTTP_RESPONSE_BODY_CHUNKED;
	} else if (seen_cl) {
		head->body_kind = HTTP_RESPONSE_BODY_LENGTH;
		head->content_length = framing.content_length;
	} else {
		head->body_kind = HTTP_RESPONSE_BODY_CLOSE;
		head->keep_alive = false;
	}
	return HTTP_PARSE_OK;
}

enum http_parse_status http_response_parser_parse(struct http_response_parser *p, const char *buf,
                                                  size_t len, struct http_header *headers,
                                                  bool request_was_head,
                                                  struct http_response_head *head_r,
                                                  size_t *head_len_r, const char **error_r)
{
	size_t end;
	enum http_parser__scan_error err;
	enum http_parse_status ret = http_parser__scan(&p->scan, 0, buf, len, &end, &err);
	if (ret == HTTP_PARSE_ERROR)
		FAIL(scan_errors[err]);
	if (ret != HTTP_PARSE_OK)
		return ret;
	ret = parse_head(p, buf, end, headers, request_was_head, head_r, error_r);
	if (ret == HTTP_PARSE_OK)
		*head_len_r = end;
	return ret;
}

void http_response_body_init(struct http_response_body *b, const struct http_response_head *head,
                             uint64_t max_body)
{
	memset(b, 0, sizeof(*b));
	b->kind = head->body_kind;
	b->length = head->body_kind == HTTP_RESPONSE_BODY_LENGTH ? head->content_length : 0;
	http_limits_default(&b->limits);
	b->limits.max_body = max_body;
	http_chunked_decoder_init(&b->chunked, &b->limits);
	b->done = b->kind == HTTP_RESPONSE_BODY_NONE ||
	          (b->kind == HTTP_RESPONSE_BODY_LENGTH && b->length == 0);
}

static enum http_parse_status too_large(struct http_response_body *b, const char **error_r)
{
	b->too_large = true;
	FAIL("response body too large");
}

static enum http_parse_status parse_chunked(struct http_response_body *b, const char *data,
                                            size_t len, size_t *used_r, struct buf *out,
                                            const char **error_r)
{
	size_t pos = 0;
	while (!b->done) {
		size_t used, out_len;
		const char *piece;
		int status;
		enum http_parse_status st = http_chunked_decode(
		    &b->chunked, data + pos, len - pos, &used, &piece, &out_len, &status, error_r);
		if (st == HTTP_PARSE_ERROR)
			return status == 413 ? too_large(b, error_r) : HTTP_PARSE_ERROR;
		buf_append(out, piece, out_len);
		b->received += out_len;
		pos += used;
		b->done = http_chunked_decoder_done(&b->chunked);
		if (st == HTTP_PARSE_AGAIN)
			break;
	}
	*used_r = pos;
	return b->done ? HTTP_PARSE_OK : HTTP_PARSE_AGAIN;
}

enum http_parse_status http_response_body_parse(struct http_response_body *b, const char *data,
                                                size_t len, size_t *used_r, struct buf *out,
                                                const char **error_r)
{
	*used_r = 0;
	if (b->done)
		return HTTP_PARSE_OK;
	switch (b->kind) {
	case HTTP_RESPONSE_BODY_CHUNKED:
		return parse_chunked(b, data, len, used_r, out, error_r);
	case HTTP_RESPONSE_BODY_LENGTH: {
		if (b->length > b->limits.max_body)
			return too_large(b, error_r);
		uint64_t want = b->length - b->received;
		size_t take = len < want ? len : (size_t)want;
		buf_append(out, data, take);
		b->received += take;
		*used_r = take;
		b->done = b->received == b->length;
		return b->done ? HTTP_PARSE_OK : HTTP_PARSE_AGAIN;
	}
	case HTTP_RESPONSE_BODY_CLOSE:
		if (len > b->limits.max_body - b->received)
			return too_large(b, error_r);
		buf_append(out, data, len);
		b->received += len;
		*used_r = len;
		return HTTP_PARSE_AGAIN;
	case HTTP_RESPONSE_BODY_NONE:
		break;
	}
	return HTTP_PARSE_OK;
}

enum http_parse_status http_response_body_eof(const struct http_response_body *b,
                                              const char **error_r)
{
	if (b->done || b->kind == HTTP_RESPONSE_BODY_CLOSE)
		return HTTP_PARSE_OK;
	if (b->kind == HTTP_RESPONSE_BODY_CHUNKED)
		FAIL("connection closed inside the chunked body");
	FAIL("connection closed inside the body");
}
