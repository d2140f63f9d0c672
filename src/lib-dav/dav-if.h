/* SPDX-License-Identifier: MIT */
/* The WebDAV If header (RFC 4918 §10.4): parsed into lists of conditions, and evaluated
   against the resources' current entity tags and locks through callbacks. */
#ifndef TANDEM_DAV_IF_H
#define TANDEM_DAV_IF_H

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

struct pool;

/* ["Not"] (State-token | "[" entity-tag "]") */
struct dav_if_condition {
	bool negated;
	bool is_etag;
	/* The state token's URI without its brackets ("urn:uuid:…"), or the entity tag as sent
	   inside the brackets ("\"abc\"", "W/\"abc\""). A view into the header. */
	struct strv value;
};

/* "(" 1*Condition ")", true when every condition is. */
struct dav_if_list {
	/* A Tagged-list's Resource-Tag without its brackets (a view into the header), or
	   STRV_NULL (ptr NULL) for a No-tag-list, which applies to the request URI. */
	struct strv resource;
	struct dav_if_condition *conditions;
	size_t count;
};

/* The whole header: true when any list is. */
struct dav_if {
	bool tagged;
	struct dav_if_list *lists;
	size_t count;
};

/* Parses value (the header as received). Allocates from pool; the views point into value,
   which must outlive the result. -1 with *error_r naming what is wrong (answer 400). */
int dav_if_parse(struct pool *pool, struct strv value, struct dav_if **if_r, const char **error_r);

/* What the evaluator asks about a resource: resource is STRV_NULL for the request URI, else
   a Resource-Tag as sent (map it with dav_uri_to_path(); a tag naming no resource of ours
   has no etag and no locks). */
struct dav_if_callbacks {
	/* The resource's current strong entity tag with its quotes, or NULL (no such resource
	   or none). */
	const char *(*etag)(void *ctx, struct strv resource);
	/* True when token is the lock token of a lock that currently covers the resource. */
	bool (*has_lock)(void *ctx, struct strv resource, struct strv token);
	void *ctx;
};

/* A state token the header names (not under Not) that is a lock currently covering its
   resource: the client has submitted it (RFC 4918 §6.3, §10.4.1), whether or not its list
   came out true. */
struct dav_if_token {
	struct strv resource; /* as in struct dav_if_list */
	struct strv token;
};

/* True when the header is satisfied (else answer 412, RFC 4918 §10.4.3). Entity tags are
   compared strongly (a weak tag never matches). *seen_r (from pool) and *seen_count_r: the
   submitted lock tokens, each once per resource. Every condition is evaluated (no short
   cut), so every submitted token is found. */
bool dav_if_evaluate(const struct dav_if *ifh, const struct dav_if_callbacks *cb, struct pool *pool,
                     struct dav_if_token **seen_r, size_t *seen_count_r);

#endif
