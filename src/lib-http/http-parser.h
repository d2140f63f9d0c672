/* SPDX-License-Identifier: MIT */
/* Strict incremental HTTP/1.1 request-head parser (RFC 9110/9112 with no leniency). */
#ifndef TANDEM_HTTP_PARSER_H
#define TANDEM_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

struct http_limits {
	size_t max_line;            /* request line or one header line, bytes (default 8 KiB) */
	size_t max_header_bytes;    /* whole head incl. request line (default 32 KiB) */
	size_t max_headers;         /* header fields (default 100) */
	uint64_t max_body;          /* request body bytes (default 1 GiB) */
	size_t max_buffered_body;   /* body kept in memory when no sink is set (default 1 MiB) */
	uint64_t idle_timeout_ms;   /* keep-alive wait for the next request (default 60 s) */
	uint64_t header_timeout_ms; /* first byte of a request to end of its head (default 10 s) */
	uint64_t body_timeout_ms;   /* silence while reading a body or writing (default 30 s) */
};

/* Fills l with the defaults above. */
void http_limits_default(struct http_limits *l);

struct http_header {
	struct strv name;  /* token, as received */
	struct strv value; /* surrounding whitespace removed */
};

enum http_body_kind {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH,
	HTTP_BODY_CHUNKED,
};

/* All views point into the caller's input buffer and are valid while it is. */
struct http_request_head {
	struct strv method;
	struct strv target;     /* request-target as received */
	struct strv path;       /* origin path ("/x/y"); "*" for OPTIONS *; authority for CONNECT */
	struct strv query;      /* after '?', without it; empty if none */
	struct strv host;       /* Host header, or the authority of an absolute-form target */
	unsigned version_minor; /* HTTP/1.<n>: 0 or 1 */
	struct http_header *headers;
	size_t header_count;

	enum http_body_kind body_kind;
	uint64_t content_length; /* HTTP_BODY_LENGTH only */
	bool keep_alive;         /* from version and Connection */
	bool expect_continue;    /* Expect: 100-continue */
};

enum http_parse_status {
	HTTP_PARSE_OK,
	HTTP_PARSE_AGAIN, /* need more bytes */
	HTTP_PARSE_ERROR,
};

/* Framing-scan state of a head arriving in pieces, shared by the request and the response parser
   (http-response-parser.h). Owners embed it and never read or write its fields themselves. */
struct http_head_scan {
	const struct http_limits *limits;
	size_t scanned;    /* bytes of the buffer already checked */
	size_t head_start; /* after any leading empty lines */
	size_t line_len;
	unsigned lines;
	bool prev_cr;
};

/* Scanning state kept between calls while a head arrives in pieces. The same fields as
   struct http_head_scan, kept flat because http-conn.c reads scanned (0 = nothing of a
   request seen yet). */
struct http_request_parser {
	const struct http_limits *limits;
	size_t scanned;    /* bytes of the buffer already checked */
	size_t head_start; /* after any leading empty lines */
	size_t line_len;
	unsigned lines;
	bool prev_cr;
};

void http_request_parser_init(struct http_request_parser *p, const struct http_limits *limits);

/* buf holds everything received for this request so far (len grows between calls; earlier bytes
   must not change). Returns AGAIN until the empty line ending the head arrives, then parses it
   into *head_r using headers[0..max_headers) as storage and sets *head_len_r to the bytes used
   by the head. On ERROR, *status_r is the HTTP status to answer (400, 417, 431) and *error_r a
   static description; the connection must be closed. */
enum http_parse_status http_request_parser_parse(struct http_request_parser *p, const char *buf,
                                                 size_t len, struct http_header *headers,
                                                 struct http_request_head *head_r,
                                                 size_t *head_len_r, int *status_r,
                                                 const char **error_r);

/* First value of a header (case-insensitive name), or STRV_NULL. */
struct strv http_request_head_header(const struct http_request_head *head, const char *name);

/* True for RFC 9110 tchar. */
bool http_is_tchar(unsigned char c);

#endif
