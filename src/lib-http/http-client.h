/* SPDX-License-Identifier: MIT */
/* Small blocking HTTP/1.1 client for command-line tools: one request per connection. */
#ifndef TANDEM_HTTP_CLIENT_H
#define TANDEM_HTTP_CLIENT_H

#include <stddef.h>

#include "buf.h"
#include "http-parser.h" /* struct http_header */
#include "strv.h"

#define HTTP_CLIENT_MAX_BODY    (64u * 1024 * 1024) /* response bodies past this are an error */
#define HTTP_CLIENT_MAX_HEAD    (64u * 1024)        /* status line + headers */
#define HTTP_CLIENT_MAX_HEADERS 100

/* Filled by http_client_request(). The views point into head, which the response owns. */
struct http_client_response {
	unsigned status;    /* 100..599 (never 1xx: interim responses are skipped) */
	struct strv reason; /* may be empty */
	/* values without the surrounding SP/HTAB */
	struct http_header headers[HTTP_CLIENT_MAX_HEADERS];
	size_t header_count;
	struct buf head; /* the raw response head */
	/* The decoded body (no chunk framing), NUL-terminated, at most HTTP_CLIENT_MAX_BODY. */
	struct buf body;
};

/* Sends one request and reads the whole response.

   base_url is "http://host[:port][/prefix]": host is an IPv4 address, a bracketed IPv6 address
   or a name, parsed and resolved by hostport.h (every address is tried); port defaults to 80. path
   ("/admin/v1/…", may carry a query) is appended to the prefix. headers is NULL or a
   NULL-terminated list of complete "Name: value" lines without CRLF; Host, Connection: close and,
   when body is not NULL or the method is POST/PUT/PATCH, Content-Length are added here. The
   response head is parsed by the strict parser of http-response-parser.h (the proxy's, with its
   rules and error wording; interim 1xx answers are skipped, 101 is an error) and the body read
   by Content-Length, chunked transfer coding or until the server closes.

   timeout_ms bounds the whole exchange (0 = no limit). Returns 0 with *resp_r filled for any HTTP
   status, or -1 with *error_r a message naming the URL ("cannot connect to http://127.0.0.1:8009:
   Connection refused", "timed out after 5000 ms waiting for http://…", "malformed response from
   http://…: …"), valid until the next call in this thread. In both cases resp_r must be released
   with http_client_response_free(). */
int http_client_request(const char *base_url, const char *method, const char *path,
                        const char *const *headers, const char *body, size_t body_len,
                        unsigned timeout_ms, struct http_client_response *resp_r,
                        const char **error_r);

/* First value of the header called name (case-insensitive), or STRV_NULL. */
struct strv http_client_response_header(const struct http_client_response *resp, const char *name);

/* Frees the response's storage; safe to call twice. */
void http_client_response_free(struct http_client_response *resp);

#endif
