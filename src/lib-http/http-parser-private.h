/* SPDX-License-Identifier: MIT */
/* Head-parsing pieces shared by the request parser and the response parser (lib-http only). */
#ifndef TANDEM_HTTP_PARSER_PRIVATE_H
#define TANDEM_HTTP_PARSER_PRIVATE_H

#include "http-parser.h"

/* Why http_parser__scan() refused the bytes; each parser words it for its own side. */
enum http_parser__scan_error {
	HTTP_PARSER__BARE_CR,
	HTTP_PARSER__BARE_LF,
	HTTP_PARSER__CONTROL_BYTE,        /* control byte other than HTAB, or DEL */
	HTTP_PARSER__LINE_TOO_LONG,       /* a line past limits->max_line */
	HTTP_PARSER__HEAD_TOO_LARGE,      /* past limits->max_header_bytes from head_start */
	HTTP_PARSER__LEADING_EMPTY_LINES, /* more than max_leading_empty_lines before line one */
};

/* Checks the bytes of buf[s->scanned..len) as they arrive: every CR followed by LF, no bare LF,
   no control byte but HTAB, lines within max_line, the head within max_header_bytes. Up to
   max_leading_empty_lines CRLFs before the first line are skipped (s->head_start moves past
   them). buf may move between calls but its first s->scanned bytes must not change. Returns
   AGAIN when the head is still incomplete, OK with *end_r just past the empty line ending the
   head (the head is then buf[s->head_start..*end_r)), or ERROR with *error_r. */
enum http_parse_status http_parser__scan(struct http_head_scan *s, unsigned max_leading_empty_lines,
                                         const char *buf, size_t len, size_t *end_r,
                                         enum http_parser__scan_error *error_r);

/* In a head checked by http_parser__scan() (end = its *end_r): sets *line_r to the line at
 *pos without its CRLF and moves *pos past the CRLF. Returns false when no line is left. */
bool http_parser__take_line(const char *buf, size_t end, size_t *pos, struct strv *line_r);

enum http_parser__field_status {
	HTTP_PARSER__FIELD,    /* one more field stored in headers[*count - 1] */
	HTTP_PARSER__END,      /* the empty line ending the head */
	HTTP_PARSER__BAD,      /* malformed field line: *error_r says how */
	HTTP_PARSER__TOO_MANY, /* a valid field line, but max fields are stored already */
};

/* Takes the next field line of a scanned head at *pos (as http_parser__take_line()) and stores
   it in headers[*count]: name a token directly followed by ':', no obs-fold, value with the
   surrounding SP/HTAB removed. Control bytes were refused by the scan already. */
enum http_parser__field_status http_parser__next_field(const char *buf, size_t end, size_t *pos,
                                                       struct http_header *headers, size_t *count,
                                                       size_t max, const char **error_r);

/* Message-framing fields seen so far in one head. Zero it before the first field. */
struct http_parser__framing {
	bool seen_content_length;
	bool seen_transfer_encoding;
	uint64_t content_length; /* when seen_content_length */
};

/* Returns 0 if h is neither Content-Length nor Transfer-Encoding. Otherwise records it in *f
   and returns 1, or returns -1 with *error_r for a repeated field, a Content-Length that is not
   1-19 plain digits (no list, sign or space) and a Transfer-Encoding that is not exactly
   "chunked" (any case). Whether the two may appear together is the caller's rule. */
int http_parser__framing_field(struct http_parser__framing *f, const struct http_header *h,
                               const char **error_r);

/* Folds one Connection field value into *keep_alive token by token, in order: "close" clears
   it, "keep-alive" sets it if honour_keep_alive (any case, other tokens ignored). Returns true
   if the value had a "close" token. */
bool http_parser__connection(struct strv value, bool honour_keep_alive, bool *keep_alive);

/* Value of the first of headers[0..count) called name (any case), or STRV_NULL. */
struct strv http_parser__find_header(const struct http_header *headers, size_t count,
                                     const char *name);

#endif
