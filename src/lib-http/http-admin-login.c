/* SPDX-License-Identifier: MIT */
/* The throttle is asked before verify because verify is the costly part (argon2id: tens of
   milliseconds and MiBs) and the one a guesser wants; a request without credentials is
   counted against the empty user so that it, too, waits once its address is over the limit. */
#include "http-admin-login.h"

#include <sodium.h>
#include <time.h>

#include "clock.h"
#include "http-basic.h"
#include "http-forwarded.h"
#include "http-server.h"
#include "login-throttle.h"
#include "mem.h"
#include "pool.h"

#define CREDENTIALS_MAX   600 /* decoded "user:password" */
#define THROTTLE_USER_MAX 300

struct http_admin_login {
	struct http_admin_login_settings set;
	struct login_throttle *failures;
};

struct http_admin_login *http_admin_login_create(const struct http_admin_login_settings *set)
{
	static const struct login_throttle_limits limits = {
	    .per_address = HTTP_ADMIN_LOGIN_PER_ADDRESS,
	    .per_user_address = HTTP_ADMIN_LOGIN_PER_USER_ADDRESS,
	    .per_user = HTTP_ADMIN_LOGIN_PER_USER,
	    .window_s = HTTP_ADMIN_LOGIN_WINDOW_S,
	    .capacity = HTTP_ADMIN_LOGIN_CAPACITY,
	};
	struct http_admin_login *login = mem_calloc(1, sizeof(*login));
	login->set = *set;
	login->failures = login_throttle_create(&limits);
	return login;
}

void http_admin_login_destroy(struct http_admin_login **loginp)
{
	struct http_admin_login *login = *loginp;
	if (login == NULL)
		return;
	login_throttle_destroy(&login->failures);
	mem_free(loginp);
}

static void unauthorized(const struct http_admin_login *login, struct http_request *req,
                         const char *message)
{
	http_response_header(req, "WWW-Authenticate", login->set.www_authenticate);
	http_response_error(req, 401, login->set.code_401, message);
}

const char *http_admin_login_check(struct http_admin_login *login, struct http_request *req,
                                   const struct http_admin_login_call *call)
{
	char creds[CREDENTIALS_MAX], who[THROTTLE_USER_MAX];
	char *user, *pass;
	time_t now = (time_t)(clock_mono_ms() / 1000);
	struct http_client_ip ip;
	const char *result = NULL;

	http_request_client_ip(req, login->set.trusted, login->set.trusted_count, &ip);
	bool have_creds = http_basic_parse(http_request_header(req, "Authorization"), creds,
	                                   sizeof(creds), &user, &pass);
	login_throttle_user_in(who, sizeof(who), call->scope, have_creds ? user : "");
	time_t retry = login_throttle_check(login->failures, &ip.addr, who, now);
	if (retry > 0) {
		http_response_headerf(req, "Retry-After", "%lld", (long long)retry);
		http_response_error(req, 429, login->set.code_429, login->set.throttled_message);
		goto out;
	}
	if (!have_creds) {
		unauthorized(login, req, login->set.missing_message);
		goto out;
	}
	switch (call->verify(req, user, pass, call->ctx)) {
	case HTTP_ADMIN_OK:
		result = pool_strdup(http_request_pool(req), user);
		break;
	case HTTP_ADMIN_WRONG:
		login_throttle_fail(login->failures, &ip.addr, who, now);
		unauthorized(login, req, call->wrong_message);
		break;
	case HTTP_ADMIN_ANSWERED:
		break;
	}
out:
	sodium_memzero(creds, sizeof(creds));
	return result;
}
