/* SPDX-License-Identifier: MIT */
/* What crosses the proxy: the request head re-serialised for a member, and which response
   header fields go back to the client. */
#ifndef TANDEM_LB_FORWARD_H
#define TANDEM_LB_FORWARD_H

#include <stdbool.h>

#include "buf.h"
#include "http-parser.h"
#include "strv.h"

enum forward_body {
	FORWARD_BODY_NONE,
	FORWARD_BODY_LENGTH,  /* Content-Length: head->content_length */
	FORWARD_BODY_CHUNKED, /* re-chunked by the proxy */
};

struct forward_client {
	const char *ip;        /* the peer's address, text */
	bool trusted;          /* the peer is a trusted proxy: its X-Forwarded-* are kept */
	const char *proto;     /* "http" or "https": what the client used */
	const char *authority; /* Host to send when the request has none (HTTP/1.0) */
	bool expect_continue;  /* send Expect: 100-continue: the member's 100 is relayed */
};

/* Appends to out the HTTP/1.1 head a member gets for head (a request the strict parser
   accepted): the target in origin form, every end-to-end field in the order received, then
   Host (when missing), X-Forwarded-For (the trusted peer's list plus the peer),
   X-Forwarded-Proto, the body framing and, with client->expect_continue,
   "Expect: 100-continue". Dropped: hop-by-hop fields (Connection, Keep-Alive,
   Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and any field the Connection
   header names), Content-Length (re-added), Expect (re-added or answered by the proxy
   itself), and X-Forwarded-For/-Proto from an untrusted peer. */
void forward_request_head(struct buf *out, const struct http_request_head *head,
                          const struct forward_client *client, enum forward_body body);

/* True if the response field name must not reach the client: hop-by-hop fields (as above,
   with the response's own Connection fields in headers[0..count)), framing (Content-Length,
   Transfer-Encoding: the server frames the body itself) and Date (the server sends its own). */
bool forward_response_field_dropped(const struct http_header *headers, size_t count,
                                    struct strv name);

/* True for methods RFC 9110 calls idempotent (GET HEAD OPTIONS TRACE PUT DELETE), which
   may be sent again after a connection failed before any answer. */
bool forward_method_idempotent(struct strv method);

/* True if path (the request's origin-form path, without the query) addresses the node that
   answers rather than the cluster: GET /admin/v1/node and POST /admin/v1/drain
   (tandemctl nodestatus, drainnode). Through a balancer they would reach any one member, so
   the proxy answers them itself. Compared after lb_access_normalise(), so that escapes or
   dot segments cannot slip one past. */
bool forward_node_path(struct strv path);

#endif
