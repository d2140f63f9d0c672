/* SPDX-License-Identifier: MIT */
/* Query parameters and cookies of a request: lookup and percent-decoding. */
#ifndef TANDEM_HTTP_PARAMS_H
#define TANDEM_HTTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "http-parser.h"
#include "strv.h"

/* The raw (still encoded) value of name in a query string "a=1&b&c=x%20y"; a parameter
   without '=' has an empty value. False when absent. */
bool http_query_get(struct strv query, const char *name, struct strv *value_r);
/* Decodes '+' and %XX into out (room for in.len + 1 bytes, NUL-terminated); "%00" and broken
   escapes are kept as they are, so decoding never introduces a NUL. Returns the length. */
size_t http_url_decode(struct strv in, char *out);
/* The value of cookie name from the request's Cookie headers, or STRV_NULL. */
struct strv http_cookie_get(const struct http_request_head *head, const char *name);
/* Whether the request sent a cookie whose name starts with prefix. */
bool http_cookie_any(const struct http_request_head *head, const char *prefix);

#endif
