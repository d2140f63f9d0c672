/* SPDX-License-Identifier: MIT */
/* Who a WebDAV request is: HTTP Basic with the logins of the JSON API, checked once and then
   taken from a short cache until the context's revocation generation moves (a password
   change, a user or context disabled or deleted) (docs/internals/dav.md "Authentication"). */
#ifndef TANDEMD_DAV_AUTH_H
#define TANDEMD_DAV_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "http-forwarded.h"

struct api_refusal;
struct api_user;
struct cache;
struct http_request;
struct node;
struct dav_auth;

/* The realm clients show when they ask for a password. */
#define DAV_AUTH_CHALLENGE "Basic realm=\"Tandem\", charset=\"UTF-8\""

/* ttl_ms: how long checked credentials are taken without hashing again; 0 = never. */
struct dav_auth *dav_auth_create(uint64_t ttl_ms);
void dav_auth_destroy(struct dav_auth **auth);
/* The cache of checked credentials, for /metrics; NULL when ttl_ms was 0. */
struct cache *dav_auth_cache(struct dav_auth *auth);

/* Authenticates req. True with *user_r set (its session empty); otherwise req is answered:
   403 over plain HTTP from a client that is neither on loopback nor behind HTTPS (unless
   [dav] basic_over_http), 401 with a Basic challenge for missing or wrong credentials, and
   the login's 403, 429 and 503. Worker threads only (it may hash a password). */
bool dav_auth_check(struct node *node, struct http_request *req, struct api_user *user_r);

/* What a check needs of a request, copied (loop thread or worker): a worker can check it
   while the request itself must not be touched (a PUT's body waits on the loop). */
struct dav_auth_input {
	bool transport_ok; /* HTTPS, loopback or [dav] basic_over_http */
	struct http_client_ip from;
	bool has_authorization;
	char authorization[600]; /* the header ("" when too long for this) */
};
void dav_auth_input(struct node *node, struct http_request *req, struct dav_auth_input *in_r);
/* dav_auth_check() on a copy: true with *user_r; false with *why, for
   api_refusal_send(req, why, DAV_AUTH_CHALLENGE). Worker threads only. Clear the input with
   sodium_memzero() afterwards: it holds the password. */
bool dav_auth_verify(struct node *node, const struct dav_auth_input *in, struct api_user *user_r,
                     struct api_refusal *why);

/* The access log's user= of req ("<cid>/<uid>"), from the thread that owns req. */
void dav_auth_log_user(struct http_request *req, const struct api_user *user);

/* Loop thread, before a body is taken as a stream: true with *user_r when req's credentials
   are in the cache and still valid; false (nothing answered, no password hashed) otherwise,
   and dav_auth_check() decides on a worker. */
bool dav_auth_cached(struct node *node, struct http_request *req, struct api_user *user_r);

#endif
