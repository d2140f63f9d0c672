/* SPDX-License-Identifier: MIT */
/* The session API's password check, shared with the DAV login (its routes are in routes.h). */
#ifndef TANDEMD_API_SESSION_H
#define TANDEMD_API_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-forwarded.h"

/* What a password check established. */
struct api_login {
	int64_t cid;
	int64_t uid;
	uint64_t gen;   /* the context's revocation generation, read before the password check */
	char user[130]; /* the login without @mapping */
	struct http_client_ip from;
	char access[65]; /* the user's access combination ("" = all) */
};

struct http_request;
struct node;
/* Checks login ("user" or "user@mapping") and password as POST /api/v1/login does: the
   throttle, the password, context and account enabled. True when they are right; otherwise
   answers req (401 wrong login or password, with WWW-Authenticate: challenge unless it is
   NULL; 403 disabled; 429 throttled; 503) and returns false. Hashes: worker threads only. */
bool api_session_check_password(struct node *node, struct http_request *req, const char *login,
                                const char *password, const char *challenge, struct api_login *r);

#endif
