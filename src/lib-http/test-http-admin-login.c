/* SPDX-License-Identifier: MIT */
/* Unit tests for the shared HTTP Basic admin login: a real server on loopback whose clients
   are named by X-Forwarded-For (loopback is a trusted proxy), driven by the blocking client. */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "http-admin-login.h"
#include "http-client.h"
#include "http-server.h"
#include "test.h"

#define TIMEOUT_MS 10000
#define REALM      "Basic realm=\"test\""

static struct http_admin_login *login;
static atomic_uint verified; /* calls of verify */
static char base[64];

/* admin/right logs in; user "down" is answered 503 by verify itself. */
static enum http_admin_verdict verify(struct http_request *req, const char *user,
                                      const char *password, void *ctx)
{
	atomic_fetch_add(&verified, 1);
	if (strcmp(user, "down") == 0) {
		http_response_error(req, 503, "T-0503", "the user store is down");
		return HTTP_ADMIN_ANSWERED;
	}
	return strcmp(user, "admin") == 0 && strcmp(password, "right") == 0 ? HTTP_ADMIN_OK
	                                                                    : HTTP_ADMIN_WRONG;
}

static void on_request(struct http_request *req, void *ctx)
{
	/* the path is the scope: "/a" and "/b" count users apart */
	struct strv path = http_request_head(req)->path;
	char scope[32];
	snprintf(scope, sizeof(scope), "%.*s", (int)path.len, path.ptr);
	const struct http_admin_login_call call = {
	    .scope = scope, .wrong_message = "wrong credentials", .verify = verify};
	const char *user = http_admin_login_check(login, req, &call);
	if (user != NULL)
		http_response_simple(req, 200, "text/plain", user, strlen(user));
}

/* Sends GET scope as client (X-Forwarded-For) with user:password (user NULL: none);
   returns the status, with the response in resp. */
static unsigned send_as(const char *client, const char *scope, const char *user,
                        const char *password, struct http_client_response *resp)
{
	char auth[320], xff[80], plain[200], b64[280];
	const char *headers[3] = {xff, NULL, NULL};
	const char *error;

	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", client);
	if (user != NULL) {
		int len = snprintf(plain, sizeof(plain), "%s:%s", user, password);
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)plain, (size_t)len,
		                  sodium_base64_VARIANT_ORIGINAL);
		snprintf(auth, sizeof(auth), "Authorization: Basic %s", b64);
		headers[1] = auth;
	}
	if (http_client_request(base, "GET", scope, headers, NULL, 0, TIMEOUT_MS, resp, &error) <
	    0) {
		test__fail(__FILE__, __LINE__, error);
		return 0;
	}
	return resp->status;
}

/* The status only. */
static unsigned status_as(const char *client, const char *scope, const char *user,
                          const char *password)
{
	struct http_client_response resp;
	unsigned status = send_as(client, scope, user, password, &resp);
	http_client_response_free(&resp);
	return status;
}

static bool has_code(const struct http_client_response *resp, const char *code)
{
	char want[64];
	snprintf(want, sizeof(want), "{\"error\":{\"code\":\"%s\",", code);
	return resp->body.data != NULL && strstr(resp->body.data, want) == resp->body.data;
}

static void test_credentials(void)
{
	struct http_client_response resp;
	unsigned before = verified;

	test_assert_int_eq(send_as("192.0.2.1", "/a", NULL, NULL, &resp), 401);
	test_assert(strv_eq_cstr(http_client_response_header(&resp, "WWW-Authenticate"), REALM));
	test_assert(has_code(&resp, "T-0401"));
	test_assert(strstr(resp.body.data, "credentials required") != NULL);
	http_client_response_free(&resp);
	test_assert_int_eq(verified, before); /* nothing to verify */

	test_assert_int_eq(send_as("192.0.2.1", "/a", "admin", "wrong", &resp), 401);
	test_assert(strv_eq_cstr(http_client_response_header(&resp, "WWW-Authenticate"), REALM));
	test_assert(has_code(&resp, "T-0401"));
	test_assert(strstr(resp.body.data, "wrong credentials") != NULL);
	http_client_response_free(&resp);
	test_assert_int_eq(verified, before + 1);

	test_assert_int_eq(send_as("192.0.2.1", "/a", "admin", "right", &resp), 200);
	test_assert_str_eq(resp.body.data, "admin");
	test_assert(http_client_response_header(&resp, "WWW-Authenticate").ptr == NULL);
	http_client_response_free(&resp);
	test_assert_int_eq(verified, before + 2);
}

static void test_per_address(void)
{
	struct http_client_response resp;

	/* 10 failures from one address, spread over users */
	for (int i = 0; i < 10; i++)
		test_assert_int_eq(status_as("192.0.2.10", "/a", i % 2 ? "admin" : "root", "x"),
		                   401);
	unsigned before = verified;
	test_assert_int_eq(send_as("192.0.2.10", "/a", "admin", "right", &resp), 429);
	struct strv retry = http_client_response_header(&resp, "Retry-After");
	uint64_t secs = 0;
	test_assert(retry.ptr != NULL && strv_to_u64(retry, &secs) == 0 && secs > 0 &&
	            secs <= HTTP_ADMIN_LOGIN_WINDOW_S);
	test_assert(has_code(&resp, "T-0429"));
	test_assert(strstr(resp.body.data, "too many") != NULL);
	test_assert(http_client_response_header(&resp, "WWW-Authenticate").ptr == NULL);
	http_client_response_free(&resp);
	/* without credentials, for another user, in another scope: that address waits */
	test_assert_int_eq(status_as("192.0.2.10", "/a", NULL, NULL), 429);
	test_assert_int_eq(status_as("192.0.2.10", "/b", "other", "x"), 429);
	test_assert_int_eq(verified, before); /* not asked while throttled */
	/* the address behind the proxy counts, not the proxy: another client gets in */
	test_assert_int_eq(status_as("192.0.2.11", "/a", "admin", "right"), 200);
	test_assert_int_eq(verified, before + 1);
}

/* 50 failures for one user from 10 addresses, each well below its own limit: past the
   user's 50, the addresses that failed for it wait, a fresh one still gets one try. */
static void test_per_user_across_addresses(void)
{
	char client[32];
	for (int a = 0; a < 10; a++) {
		snprintf(client, sizeof(client), "198.51.100.%d", a + 1);
		for (int i = 0; i < 5; i++)
			test_assert_int_eq(status_as(client, "/u", "Admin", "x"), 401);
	}
	unsigned before = verified;
	/* the scope and user are one key however the user is spelt */
	test_assert_int_eq(status_as("198.51.100.1", "/u", "admin", "right"), 429);
	test_assert_int_eq(status_as("198.51.100.10", "/U", "ADMIN", "x"), 429);
	test_assert_int_eq(verified, before);
	/* other users from those addresses, and the user in another scope, are not touched */
	test_assert_int_eq(status_as("198.51.100.1", "/u", "root", "x"), 401);
	test_assert_int_eq(status_as("198.51.100.1", "/other", "admin", "right"), 200);
	/* a fresh address gets in, or gets one failure */
	test_assert_int_eq(status_as("198.51.100.20", "/u", "admin", "right"), 200);
	test_assert_int_eq(status_as("198.51.100.21", "/u", "admin", "x"), 401);
	test_assert_int_eq(status_as("198.51.100.21", "/u", "admin", "right"), 429);
}

/* What verify answers itself is no failure: it never leads to 429. */
static void test_answered_not_counted(void)
{
	struct http_client_response resp;
	for (int i = 0; i < 15; i++) {
		test_assert_int_eq(send_as("192.0.2.20", "/a", "down", "x", &resp), 503);
		test_assert(has_code(&resp, "T-0503"));
		test_assert(http_client_response_header(&resp, "WWW-Authenticate").ptr == NULL);
		http_client_response_free(&resp);
	}
	test_assert_int_eq(status_as("192.0.2.20", "/a", "admin", "right"), 200);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"credentials", test_credentials},
	    {"per address", test_per_address},
	    {"per user across addresses", test_per_user_across_addresses},
	    {"answered by verify: not counted", test_answered_not_counted},
	    {NULL, NULL},
	};
	struct cidr trusted[1];
	size_t trusted_count = 0;
	const char *error;

	if (sodium_init() < 0 ||
	    cidr_parse_list("127.0.0.0/8", trusted, 1, &trusted_count, &error) < 0)
		return 1;
	const struct http_admin_login_settings set = {
	    .www_authenticate = REALM,
	    .code_401 = "T-0401",
	    .code_429 = "T-0429",
	    .missing_message = "credentials required",
	    .throttled_message = "too many failed logins",
	    .trusted = trusted,
	    .trusted_count = trusted_count,
	};
	login = http_admin_login_create(&set);
	struct http_server_settings hs = {.threads = 1, .on_request = on_request};
	http_limits_default(&hs.limits);
	struct http_server *server = http_server_create(&hs);
	if (http_server_listen(server, "127.0.0.1:0", &error) < 0 ||
	    http_server_start(server, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	snprintf(base, sizeof(base), "http://%s", http_server_address(server, 0));
	int ret = test_run(cases);
	http_server_shutdown(server, 5000);
	http_server_destroy(&server);
	http_admin_login_destroy(&login);
	http_admin_login_destroy(&login); /* NULL is a no-op */
	return ret;
}
