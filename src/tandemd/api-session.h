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

/* Why a check refused, to be answered later (api_refusal_send). */
struct api_refusal {
	int status; /* 401, 403, 429, 503 */
	const char *code;
	char message[300];
	int64_t retry_after; /* seconds, 0: no Retry-After */
};
void api_refusal_set(struct api_refusal *why, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answers req with why; a 401 carries WWW-Authenticate: challenge unless it is NULL. */
void api_refusal_send(struct http_request *req, const struct api_refusal *why,
                      const char *challenge);
/* Checks login ("user" or "user@mapping") and password as POST /api/v1/login does: the
   throttle, the password, context and account enabled. True when they are right; otherwise
   answers req (401 wrong login or password, with WWW-Authenticate: challenge unless it is
   NULL; 403 disabled; 429 throttled; 503) and returns false. Hashes: worker threads only. */
bool api_session_check_password(struct node *node, struct http_request *req, const char *login,
                                const char *password, const char *challenge, struct api_login *r);
/* The same for a client at from, without a request: false with *why (not answered). For a
   check that must not touch its request meanwhile (a PUT whose body waits for it). */
bool api_session_check_login(struct node *node, const struct http_client_ip *from,
                             const char *login, const char *password, struct api_login *r,
                             struct api_refusal *why);

#endif
