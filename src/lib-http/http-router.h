/* SPDX-License-Identifier: MIT */
/* Route tables: method + path pattern to a handler, and the 404 and 405 (with Allow) answers. */
#ifndef TANDEM_HTTP_ROUTER_H
#define TANDEM_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

struct buf;
struct http_request;
struct http_router;

/* A handler; ctx is the application's (tandemd's struct node, the balancer manager's struct
   manager): the router never calls handlers itself, the application does. */
typedef void http_route_fn(void *ctx, struct http_request *req);

enum http_route_flags {
	/* pattern is a literal prefix ("/dav/", no parameters) of every path it takes, instead
	   of a whole path. */
	HTTP_ROUTE_PREFIX = 0x1,
};
/* Flag bits the router ignores and leaves to the application (tandemd: which thread runs the
   handler, who may call it); n from 0 to 23. */
#define HTTP_ROUTE_APP(n) (1u << (8 + (n)))

/* A pattern is "/"-separated segments, each literal or a parameter: "{name}" takes any
   non-empty segment, "{name:id}" a positive integer (1 to 2^63-1, plain decimal digits). A
   path matches when it has as many segments and each fits ("/a/" has two, the second
   empty); segments are compared as received (not percent-decoded). Where several patterns
   match a path, the one with a literal at the first segment where they differ wins, then a
   typed parameter over an untyped one ("/users/batch" over "/users/{uid:id}" over
   "/users/{name}"); any whole-path pattern wins over a prefix, and a longer prefix over a
   shorter one. */
struct http_route {
	const char *method; /* "GET"; a GET route also answers HEAD */
	const char *pattern;
	http_route_fn *handler;
	unsigned flags; /* enum http_route_flags | HTTP_ROUTE_APP() bits */
	/* Optional; the application decides when it runs (tandemd: on the loop thread when the
	   head has arrived, to take the body as a stream). */
	http_route_fn *on_head;
};

/* The 404 message for a path that fails only on a typed parameter: {"cid", "context ids are
   positive integers"}. */
struct http_router_param_message {
	const char *name;
	const char *message;
};

/* How the router words its answers; every field is optional and the strings are kept, not
   copied. */
struct http_router_settings {
	const char *code_prefix; /* error codes <prefix>-0404 and <prefix>-0405; "HTTP" */
	const char *not_found;   /* 404 message; "no such resource" */
	const char *not_allowed; /* 405 message; "method not allowed for this resource" */
	/* ends with {NULL, NULL}; a typed parameter not listed gets not_found */
	const struct http_router_param_message *param_messages;
};

/* Compiles tables (a NULL-terminated list of route tables, each ending with a route whose
   method is NULL); the tables and settings must outlive the router. Returns NULL with
   *error_r naming the route for a malformed pattern or two routes taking the same method
   and paths. */
struct http_router *http_router_create(const struct http_route *const *tables,
                                       const struct http_router_settings *settings,
                                       const char **error_r);
void http_router_destroy(struct http_router **router);

/* Finds the route for req's method and path and records it on req with its parameters
   (http_request_route(), http_request_param()); parameters are copied to the request's
   pool, and nothing is allocated for a route without any. Returns NULL when no route takes
   the request, answering nothing. A second call for the same request returns the first
   one's result without matching again (http_request_drop_path_params() forgets it). */
const struct http_route *http_router_find(const struct http_router *router,
                                          struct http_request *req);
/* http_router_find(); when that is NULL, answers the request itself: 405 with Allow (every
   method some route takes for this path, HEAD after GET) when a route takes the path,
   otherwise 404. Thread-safe, as the router is read-only. */
const struct http_route *http_router_match(const struct http_router *router,
                                           struct http_request *req);

/* --- the matching itself, without a request (unit tests, fuzzing) --- */

#define HTTP_ROUTER_MAX_PARAMS   8
#define HTTP_ROUTER_MAX_SEGMENTS 16 /* of a pattern (a path may have any number) */

struct http_route_lookup {
	const struct http_route *route; /* NULL: none for this method and path */
	bool path_found;                /* some route takes the path with another method */
	/* when neither: the typed parameter whose segment did not fit, or NULL */
	const char *bad_param;
	unsigned param_count;
	struct http_route_param {
		const char *name; /* the router's */
		struct strv value;
		int64_t id; /* {name:id} parameters; 0 for others */
	} params[HTTP_ROUTER_MAX_PARAMS];
};

void http_router_lookup(const struct http_router *router, struct strv method, struct strv path,
                        struct http_route_lookup *lookup_r);
/* Writes the Allow value for path ("GET, HEAD, POST") to allow, which starts empty; nothing
   when no route takes the path. */
void http_router_allow(const struct http_router *router, struct strv path, struct buf *allow);

#endif
