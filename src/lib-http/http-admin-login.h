/* SPDX-License-Identifier: MIT */
/* An HTTP Basic admin login with failed-login throttling (login-throttle.h): credentials
   parsed, the throttle asked, the daemon's check called, failures counted and 401 or 429
   answered in one place. tandemd's admin API and the balancer manager each have one
   (docs/internals/sessions.md "Throttles"). */
#ifndef TANDEM_HTTP_ADMIN_LOGIN_H
#define TANDEM_HTTP_ADMIN_LOGIN_H

#include <stddef.h>

struct cidr;
struct http_request;
struct http_admin_login;

/* Failed admin logins within HTTP_ADMIN_LOGIN_WINDOW_S: from one client address, for one user
   from one address, for one user from all addresses; keys held per count. */
#define HTTP_ADMIN_LOGIN_PER_ADDRESS      10
#define HTTP_ADMIN_LOGIN_PER_USER_ADDRESS 10
#define HTTP_ADMIN_LOGIN_PER_USER         50
#define HTTP_ADMIN_LOGIN_WINDOW_S         300
#define HTTP_ADMIN_LOGIN_CAPACITY         4096

enum http_admin_verdict {
	HTTP_ADMIN_WRONG,    /* not these credentials: counted as a failure, answered 401 */
	HTTP_ADMIN_OK,       /* logged in */
	HTTP_ADMIN_ANSWERED, /* the check answered the request itself (403, 503): not counted */
};

/* The daemon's check of user and password (NUL-terminated; wiped after the call). */
typedef enum http_admin_verdict http_admin_verify_fn(struct http_request *req, const char *user,
                                                     const char *password, void *ctx);

/* The strings are kept, not copied. */
struct http_admin_login_settings {
	const char *www_authenticate;  /* a 401's WWW-Authenticate: Basic realm="…" */
	const char *code_401;          /* error code of a 401 ("ADM-0401") */
	const char *code_429;          /* error code of a 429 ("ADM-0429") */
	const char *missing_message;   /* 401 without (parseable) Basic credentials */
	const char *throttled_message; /* 429 */
	/* The client is the address behind these proxies (X-Forwarded-For, http-forwarded.h);
	   none: the peer. Kept by the caller. */
	const struct cidr *trusted;
	size_t trusted_count;
};

struct http_admin_login *http_admin_login_create(const struct http_admin_login_settings *set);
void http_admin_login_destroy(struct http_admin_login **login);

/* One login attempt. */
struct http_admin_login_call {
	/* the throttle counts the user as "<scope>/<user>" lowercased (login_throttle_user_in()):
	   the same name in two scopes is two users */
	const char *scope;
	const char *wrong_message; /* 401 after HTTP_ADMIN_WRONG */
	http_admin_verify_fn *verify;
	void *ctx;
};

/* Logs req in: Basic credentials parsed, the throttle asked (429 with Retry-After while the
   client address, the user from it, or the user from everywhere is over its limit: verify is
   not called), then verify; HTTP_ADMIN_WRONG counts one failure. Returns the user name in
   request memory, or NULL after req was answered (401 with WWW-Authenticate, 429, or whatever
   verify answered). Thread-safe if verify is. */
const char *http_admin_login_check(struct http_admin_login *login, struct http_request *req,
                                   const struct http_admin_login_call *call);

#endif
