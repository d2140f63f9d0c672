/* SPDX-License-Identifier: MIT */
/* Strict incremental HTTP/1.1 response-head parser (RFC 9112) for the proxy's client side. */
#ifndef TANDEM_HTTP_RESPONSE_PARSER_H
#define TANDEM_HTTP_RESPONSE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http-chunked.h"
#include "http-parser.h" /* struct http_limits, struct http_header, enum http_parse_status */
#include "strv.h"

enum http_response_body_kind {
	HTTP_RESPONSE_BODY_NONE,    /* 1xx, 204, 304, or the answer to a HEAD request */
	HTTP_RESPONSE_BODY_LENGTH,  /* Content-Length (may be 0) */
	HTTP_RESPONSE_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	HTTP_RESPONSE_BODY_CLOSE,   /* neither: the body ends when the server closes */
};

/* All views point into the caller's input buffer and are valid while it is (and does not
   move). */
struct http_response_head {
	unsigned version_minor; /* HTTP/1.<n>: 0 or 1 */
	int status;             /* 100..599 */
	struct strv reason;     /* as received, may be empty (never NULL ptr) */
	struct http_header *headers;
	size_t header_count;
	enum http_response_body_kind body_kind;
	/* HTTP_RESPONSE_BODY_LENGTH, and the length a HEAD answer announced; else 0 */
	uint64_t content_length;
	/* The connection may carry the next request after this response's body: HTTP/1.1 unless a
	   Connection field has a "close" token, HTTP/1.0 only with a "keep-alive" token and no
	   "close". Always false for BODY_CLOSE, and for a 1xx or 204 that carries a non-zero
	   Content-Length or a Transfer-Encoding (a server that sends those may also send a body
	   nobody reads, which must not be taken for the next response). */
	bool keep_alive;
};

/* Scanning state kept between calls while a head arrives in pieces; fields are private. */
struct http_response_parser {
	struct http_head_scan scan;
};

/* Prepares p for one response head. limits (max_line, max_header_bytes, max_headers) must
   outlive p. Call again before parsing the next response on the connection, including the
   final response after a 1xx. */
void http_response_parser_init(struct http_response_parser *p, const struct http_limits *limits);

/* Same calling convention as http_request_parser_parse(): buf holds everything received for
   this response so far, starting at its first byte (len grows between calls; buf may move, but
   the bytes already passed must not change). Returns AGAIN until the empty line ending the head
   arrives, then parses it into *head_r using headers[0..limits->max_headers) as storage and sets
   *head_len_r to the bytes used by the head (the body, if any, starts there). On ERROR *error_r
   is a static description; the proxy answers its client 502 and closes the backend connection.
   After OK or ERROR, call http_response_parser_init() before parsing again.

   request_was_head: the request was HEAD, so the body kind is NONE whatever the headers say.

   Accepted: exactly "HTTP/1.0" or "HTTP/1.1", SP, three digits 100..599, then either CRLF
   or SP, a reason phrase (possibly empty) and CRLF; "HTTP/1.1 200\r\n" without the SP is taken
   because many servers send it. No empty line before the status line. Header lines as for
   requests: a token name directly followed by ':', no obs-fold, no bare CR or LF, no control
   byte but HTAB, line, head and field count within limits.

   Framing, checked for every status (also where the body kind is NONE): Content-Length is 1-19
   digits and appears once (a list, sign, space or repeat is an error); Transfer-Encoding
   appears once and is exactly "chunked" (any case); not both; no Transfer-Encoding in an
   HTTP/1.0 response. The body kind is NONE for 1xx, 204, 304 and HEAD answers, then CHUNKED,
   LENGTH or CLOSE by the fields.

   1xx: returned as OK with body kind NONE so the caller can drop the head (head_len bytes),
   call http_response_parser_init() and parse the final response that follows; the caller
   skips 100, 102 and 103 that way but must treat 101 (Switching Protocols) as an error, since
   it never asks for an upgrade. */
enum http_parse_status http_response_parser_parse(struct http_response_parser *p, const char *buf,
                                                  size_t len, struct http_header *headers,
                                                  bool request_was_head,
                                                  struct http_response_head *head_r,
                                                  size_t *head_len_r, const char **error_r);

/* First value of a header (case-insensitive name), or STRV_NULL. */
struct strv http_response_head_header(const struct http_response_head *head, const char *name);

/* Reads one response body as it arrives, by the framing its head gave, for callers that keep
   the whole body (the CLI's client, the balancer's health checks; the proxy streams its own).
   Fields are private but for the two counters. */
struct http_response_body {
	enum http_response_body_kind kind;
	uint64_t length;   /* HTTP_RESPONSE_BODY_LENGTH: as announced */
	uint64_t received; /* decoded body bytes so far */
	bool too_large;    /* the ERROR was the max_body limit */
	bool done;
	struct http_limits limits; /* max_body for the chunked decoder */
	struct http_chunked_decoder chunked;
};

/* Prepares b for the body that follows head (parsed OK, not 1xx). A body past max_body
   bytes, whatever its framing, is an error (a Content-Length past it at once). */
void http_response_body_init(struct http_response_body *b, const struct http_response_head *head,
                             uint64_t max_body);

/* Takes data[0..len), the bytes received after the head (or after those a previous call
   used) and appends the decoded body bytes (no chunk framing) to out. Returns OK when the body
   is complete: *used_r bytes were this body's and the rest is not; AGAIN when all len bytes
   were used and more are needed (or, for BODY_CLOSE, until the connection closes); ERROR with
   a static *error_r for bad chunk framing or a body past max_body (too_large set). A body of
   kind NONE, or a Content-Length of 0, is complete at once. */
enum http_parse_status http_response_body_parse(struct http_response_body *b, const char *data,
                                                size_t len, size_t *used_r, struct buf *out,
                                                const char **error_r);

/* The connection closed after what was parsed: returns OK if that ends the body (BODY_CLOSE,
   or the body was complete), else ERROR with a static *error_r ("connection closed inside
   the body" or "connection closed inside the chunked body"). */
enum http_parse_status http_response_body_eof(const struct http_response_body *b,
                                              const char **error_r);

#endif
