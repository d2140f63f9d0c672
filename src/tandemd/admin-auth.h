/* SPDX-License-Identifier: MIT */
/* Admin API authentication: the master and context admins checked against lib-provision
   with a short-lived cache of verified credentials, behind the shared HTTP Basic login and
   its throttle (http-admin-login.h). */
#ifndef TANDEMD_ADMIN_AUTH_H
#define TANDEMD_ADMIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cidr;
struct http_request;
struct provision;
struct admin_auth;

/* trusted: the proxies whose X-Forwarded-For names the client (kept by the caller). */
struct admin_auth *admin_auth_create(const struct cidr *trusted, size_t trusted_count);
void admin_auth_destroy(struct admin_auth **auth);

enum admin_identity {
	ADMIN_NONE,
	ADMIN_MASTER,
	ADMIN_CONTEXT, /* admin of the context given as cid */
};

/* Forgets the verified credentials cached for cid (its admin's password changed, the admin
   or the context was disabled or deleted): the next request checks them again. Called on
   every node through the invalidation bus. Thread-safe. */
void admin_auth_forget_context(struct admin_auth *auth, int64_t cid);

/* Checks the request's credentials. Returns the identity, or ADMIN_NONE after answering the
   request itself (401, 429 or 503). cid > 0 also recognises the admin of that context: the
   caller decides what ADMIN_CONTEXT may do (403 naming the rights needed where it may not).
   needs says who may make the call; the 401 for wrong credentials names it, since a
   context admin without a context in the path cannot be told from a wrong password. */
enum admin_identity admin_auth_check(struct admin_auth *auth, struct provision *prov,
                                     struct http_request *req, int64_t cid, const char *needs);

#endif
