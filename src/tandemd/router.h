/* SPDX-License-Identifier: MIT */
/* Maps method + path to handlers; answers 404 and 405 (with Allow) itself. */
#ifndef TANDEMD_ROUTER_H
#define TANDEMD_ROUTER_H

#include <stdbool.h>

struct http_request;
struct node;

/* A handler answers with http_response_*() and http_response_send(). */
typedef void route_handler_fn(struct node *node, struct http_request *req);

enum route_flags {
	/* Runs on the event-loop thread: only for handlers that never block (no SQL, no
	   disk); everything else runs on the worker pool. */
	ROUTE_INLINE = 0x1,
	/* path is a prefix ("/dav/") instead of an exact path. */
	ROUTE_PREFIX = 0x2,
};

/* Runs on the event-loop thread when the request head has arrived, before the body: it may
   attach a body sink (http_request_set_body_sink) or refuse at once. It must not block. */
typedef void route_head_fn(struct node *node, struct http_request *req);

struct route {
	const char *method; /* "GET"; GET routes also answer HEAD */
	const char *path;
	route_handler_fn *handler;
	unsigned flags;
	route_head_fn *on_head; /* optional: streamed request bodies (uploads) */
};

/* Looks up req's method and path in tables (a NULL-terminated list of route tables, each
   terminated by {NULL}; one table per API module). On a match returns the route; otherwise
   answers 404 or 405 itself and returns NULL. */
const struct route *router_match(const struct route *const *tables, struct http_request *req);
/* The same lookup without answering: NULL when nothing matches. */
const struct route *router_find(const struct route *const *tables, struct http_request *req);

#endif
