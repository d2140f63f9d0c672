/* SPDX-License-Identifier: MIT */
/* The sticky route of a request: from the session cookie, the path parameter or the query. */
#ifndef TANDEM_LB_STICKY_H
#define TANDEM_LB_STICKY_H

#include <stddef.h>

#include "strv.h"

#define STICKY_ROUTE_MAX 64 /* longer "routes" are ignored */
#define STICKY_NAME_MAX  64 /* cookie and parameter names */

struct sticky_settings {
	struct strv cookie; /* cookie name ("JSESSIONID"); empty = no cookie stickiness */
	char separator;     /* the route is the cookie value's text after the first one */
	struct strv param;  /* ";param=" path parameter and "param=" query parameter
	                       ("jsessionid"); empty = neither */
};

enum sticky_source {
	STICKY_NONE,
	STICKY_COOKIE,
	STICKY_PATH,  /* "/app;jsessionid=abc.OX-1" */
	STICKY_QUERY, /* "?jsessionid=abc.OX-1" */
};

/* "none" | "cookie" | "path" | "query". */
const char *sticky_source_name(enum sticky_source source);

/* Finds the route (docs/internals/balancer.md, "Sticky routes"). path is the request's path as
   received (it may carry ";name=value" parameters), query the text after '?' (empty if none),
   cookies the values of its Cookie header fields (cookie_count may be 0). Sources are tried in
   the order cookie, path parameter, query parameter; within one, the first occurrence that
   yields a valid route wins. A value yields a route when it contains the separator and the
   text after the first one is 1-STICKY_ROUTE_MAX bytes of A-Z a-z 0-9 '-' '_'. Malformed
   cookie pairs (no '=', empty or non-token name, bytes outside RFC 6265 cookie-octets) are
   skipped. No percent-decoding. *route_r points into the input (empty with STICKY_NONE).
   Never reads outside the given views; no allocation. */
enum sticky_source sticky_route(const struct sticky_settings *set, struct strv path,
                                struct strv query, const struct strv *cookies, size_t cookie_count,
                                struct strv *route_r);

#endif
