/* SPDX-License-Identifier: MIT */
/* Unit tests for the balancer manager: a real listener on loopback driven by the blocking
   client, checked against the balancer and the state file. */
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "balancer.h"
#include "http-client.h"
#include "lb-config.h"
#include "lb-state.h"
#include "log.h"
#include "manager.h"
#include "mem.h"
#include "random.h"
#include "test.h"

#define TIMEOUT_MS 10000
#define USER       "admin"
#define PASSWORD   "s3cret pass"

static char dir[64];
static char state_path[128];

/* One manager over a balancer with OX-1 and OX-2, its state in a fresh directory. */
struct fixture {
	struct balancer *b;
	struct lb_state *state;
	struct manager *m;
	struct lb_cidr *allow;
	char base[128];
	unsigned changes;
};

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void on_change(void *ctx)
{
	struct fixture *fx = ctx;
	fx->changes++;
}

/* allow: a network list, NULL = the default (loopback). hash: use password_hash. */
static void setup(struct fixture *fx, const char *allow, bool hash)
{
	const char *error = NULL;
	char hashed[crypto_pwhash_STRBYTES];

	memset(fx, 0, sizeof(*fx));
	if (dir[0] != '\0')
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(dir, sizeof(dir), "/tmp/test-manager-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	snprintf(state_path, sizeof(state_path), "%s/tandem-lb.state", dir);

	struct balancer_settings bs = {BALANCER_BYREQUESTS, 5000, 1, 1};
	fx->b = balancer_create(&bs);
	const char *routes[] = {"OX-1", "OX-2"},
	           *addresses[] = {"127.0.0.1:9001", "127.0.0.1:9002"};
	for (size_t i = 0; i < 2; i++) {
		struct balancer_member_settings ms = {routes[i],      addresses[i], 50,
		                                      BALANCER_READY, false,        false};
		if (balancer_add(fx->b, &ms, NULL, &error) < 0)
			test__fail(__FILE__, __LINE__, error);
	}
	test_assert(lb_state_load(state_path, &fx->state, &error) == 0);

	struct manager_settings ms = {.user = USER, .on_change = on_change, .ctx = fx};
	if (hash) {
		test_assert(crypto_pwhash_str_alg(
		                hashed, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
		                crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13) == 0);
		ms.password_hash = hashed;
	} else {
		ms.password = PASSWORD;
	}
	size_t count = 0;
	if (allow != NULL)
		test_assert(lb_cidr_parse_list(allow, &fx->allow, &count, &error) == 0);
	ms.allow = fx->allow;
	ms.allow_count = count;
	fx->m = manager_create(&ms, fx->b, fx->state);
	test_assert(manager_address(fx->m) == NULL);
	if (manager_start(fx->m, "127.0.0.1:0", &error) < 0)
		test__fail(__FILE__, __LINE__, error);
	snprintf(fx->base, sizeof(fx->base), "http://%s", manager_address(fx->m));
}

static void teardown(struct fixture *fx)
{
	manager_destroy(&fx->m);
	manager_destroy(&fx->m); /* NULL is a no-op */
	lb_state_free(&fx->state);
	balancer_destroy(&fx->b);
	mem_free(&fx->allow);
}

struct call {
	const char *method;
	const char *path;
	const char *user; /* NULL = no Authorization */
	const char *password;
	const char *csrf;         /* X-CSRF-Token, NULL = none */
	const char *content_type; /* NULL = none */
	const char *body;         /* NULL = none */
};

/* Sends c; the response is in resp (free it with http_client_response_free()). */
static unsigned send_call(struct fixture *fx, const struct call *c,
                          struct http_client_response *resp)
{
	char auth[320], csrf[200], ct[120];
	const char *headers[4];
	size_t n = 0;
	const char *error;

	if (c->user != NULL) {
		char plain[200], b64[280];
		int len = snprintf(plain, sizeof(plain), "%s:%s", c->user, c->password);
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)plain, (size_t)len,
		                  sodium_base64_VARIANT_ORIGINAL);
		snprintf(auth, sizeof(auth), "Authorization: Basic %s", b64);
		headers[n++] = auth;
	}
	if (c->csrf != NULL) {
		snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", c->csrf);
		headers[n++] = csrf;
	}
	if (c->content_type != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", c->content_type);
		headers[n++] = ct;
	}
	headers[n] = NULL;
	if (http_client_request(fx->base, c->method, c->path, headers, c->body,
	                        c->body != NULL ? strlen(c->body) : 0, TIMEOUT_MS, resp,
	                        &error) < 0) {
		test__fail(__FILE__, __LINE__, error);
		return 0;
	}
	return resp->status;
}

/* An authenticated request; returns the status and keeps the body in body_r (may be NULL). */
static unsigned req(struct fixture *fx, const char *method, const char *path, const char *csrf,
                    const char *body, char *body_r, size_t body_size)
{
	struct http_client_response resp;
	struct call c = {
	    method, path, USER, PASSWORD, csrf, body != NULL ? "application/json" : NULL, body};
	unsigned status = send_call(fx, &c, &resp);
	if (body_r != NULL)
		snprintf(body_r, body_size, "%s", resp.body.data != NULL ? resp.body.data : "");
	http_client_response_free(&resp);
	return status;
}

/* A fresh CSRF token from the API. */
static void get_csrf(struct fixture *fx, char *token, size_t size)
{
	char body[1024];
	json_error_t jerr;
	token[0] = '\0';
	test_assert_int_eq(req(fx, "GET", "/manager/v1/csrf", NULL, NULL, body, sizeof(body)), 200);
	json_t *v = json_loads(body, 0, &jerr);
	const char *t = json_string_value(json_object_get(v, "token"));
	test_assert(t != NULL);
	if (t != NULL)
		snprintf(token, size, "%s", t);
	json_decref(v);
}

static bool info(struct fixture *fx, const char *route, struct balancer_member_info *info_r)
{
	struct balancer_member *m = balancer_find(fx->b, strv_from_cstr(route));
	if (m == NULL)
		return false;
	balancer_member_get_info(m, 0, info_r);
	balancer_member_unref(&m);
	return true;
}

/* The state file as it is on disk now (a fresh load, not the manager's copy). */
static struct lb_state *disk_state(void)
{
	struct lb_state *s = NULL;
	const char *error = NULL;
	if (lb_state_load(state_path, &s, &error) < 0)
		test__fail(__FILE__, __LINE__, error);
	return s;
}

static bool has_code(const char *body, const char *code)
{
	char want[64];
	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	return strstr(body, want) != NULL;
}

/* ---------------------------------------------------------------- cases */

static void credentials_required(void)
{
	struct fixture fx;
	struct http_client_response resp;
	char body[1024];

	setup(&fx, NULL, false);
	struct call none = {"GET", "/manager/v1/members", NULL, NULL, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &none, &resp), 401);
	struct strv www = http_client_response_header(&resp, "WWW-Authenticate");
	test_assert(www.ptr != NULL && strv_starts_with(www, STRV_LIT("Basic realm=")));
	test_assert(has_code(resp.body.data, "LB-0401"));
	test_assert(http_client_response_header(&resp, "X-Content-Type-Options").ptr != NULL);
	http_client_response_free(&resp);

	struct call wrong_pass = {"GET", "/manager/v1/members", USER, "nope", NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &wrong_pass, &resp), 401);
	http_client_response_free(&resp);
	struct call wrong_user = {"GET", "/manager/v1/members", "root", PASSWORD, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &wrong_user, &resp), 401);
	http_client_response_free(&resp);
	/* the page too, and before any body is read */
	struct call page = {"POST",
	                    "/manager/form",
	                    NULL,
	                    NULL,
	                    NULL,
	                    "application/x-www-form-urlencoded",
	                    "action=remove&route=OX-1"};
	test_assert_int_eq(send_call(&fx, &page, &resp), 401);
	http_client_response_free(&resp);
	test_assert_int_eq(balancer_count(fx.b), 2);

	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, body, sizeof(body)),
	                   200);
	teardown(&fx);
}

static void argon2id_hash(void)
{
	struct fixture fx;
	struct http_client_response resp;

	setup(&fx, NULL, true);
	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, NULL, 0), 200);
	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, NULL, 0), 200);
	struct call wrong = {"GET", "/manager/v1/members", USER, "wrong", NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &wrong, &resp), 401);
	http_client_response_free(&resp);
	teardown(&fx);
}

static void failed_logins_throttled(void)
{
	struct fixture fx;
	struct http_client_response resp;

	setup(&fx, NULL, false);
	struct call wrong = {"GET", "/manager/v1/members", USER, "wrong", NULL, NULL, NULL};
	for (int i = 0; i < 10; i++) {
		test_assert_int_eq(send_call(&fx, &wrong, &resp), 401);
		http_client_response_free(&resp);
	}
	test_assert_int_eq(send_call(&fx, &wrong, &resp), 429);
	test_assert(http_client_response_header(&resp, "Retry-After").ptr != NULL);
	http_client_response_free(&resp);
	/* even the right password waits: guessing is not helped by the lock */
	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, NULL, 0), 429);
	teardown(&fx);
}

static void network_not_allowed(void)
{
	struct fixture fx;
	char body[1024];

	setup(&fx, "10.0.0.0/8, ::2/128", false);
	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, body, sizeof(body)),
	                   403);
	test_assert(has_code(body, "LB-0403"));
	test_assert_int_eq(req(&fx, "GET", "/manager/", NULL, NULL, body, sizeof(body)), 403);
	teardown(&fx);

	setup(&fx, "127.0.0.1", false);
	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, NULL, 0), 200);
	teardown(&fx);
}

static void members_list(void)
{
	struct fixture fx;
	char body[16384];
	json_error_t jerr;
	static const char *const fields[] = {
	    "route",
	    "url",
	    "address",
	    "loadfactor",
	    "state",
	    "effective",
	    "origin",
	    "discovered",
	    "healthy",
	    "draining",
	    "in_error",
	    "error_remaining_ms",
	    "last_check_age_ms",
	    "last_check_ok",
	    "requests",
	    "in_flight",
	    "bytes_in",
	    "bytes_out",
	    "errors",
	};

	setup(&fx, NULL, false);
	struct balancer_member *m = balancer_find(fx.b, STRV_LIT("OX-2"));
	balancer_health_result(m, true, false, 1);
	balancer_member_unref(&m);

	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members", NULL, NULL, body, sizeof(body)),
	                   200);
	json_t *v = json_loads(body, 0, &jerr);
	json_t *list = json_object_get(v, "members");
	test_assert(json_array_size(list) == 2);
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *o = json_array_get(list, i);
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			test_set_context(fields[f]);
			test_assert(json_object_get(o, fields[f]) != NULL);
		}
		test_set_context(NULL);
	}
	json_t *ox1 = json_array_get(list, 0), *ox2 = json_array_get(list, 1);
	test_assert_str_eq(json_string_value(json_object_get(ox1, "route")), "OX-1");
	test_assert_str_eq(json_string_value(json_object_get(ox1, "url")), "http://127.0.0.1:9001");
	test_assert_str_eq(json_string_value(json_object_get(ox1, "state")), "ready");
	test_assert_str_eq(json_string_value(json_object_get(ox1, "origin")), "config");
	test_assert(json_is_null(json_object_get(ox1, "last_check_age_ms")));
	test_assert(json_is_integer(json_object_get(ox2, "last_check_age_ms")));
	test_assert(json_is_true(json_object_get(ox2, "last_check_ok")));
	test_assert(json_integer_value(json_object_get(ox1, "loadfactor")) == 50);
	json_decref(v);

	/* one member, and an unknown one */
	test_assert_int_eq(
	    req(&fx, "GET", "/manager/v1/members/OX-2", NULL, NULL, body, sizeof(body)), 200);
	test_assert(strstr(body, "\"route\":\"OX-2\"") != NULL);
	test_assert_int_eq(
	    req(&fx, "GET", "/manager/v1/members/OX-7", NULL, NULL, body, sizeof(body)), 404);
	test_assert(has_code(body, "LB-0404"));
	test_assert_int_eq(req(&fx, "GET", "/manager/v1/members/a%20b", NULL, NULL, NULL, 0), 404);
	test_assert_int_eq(req(&fx, "GET", "/manager/v2/x", NULL, NULL, body, sizeof(body)), 404);
	test_assert(has_code(body, "LB-0404") && strstr(body, "no such manager resource") != NULL);
	test_assert_int_eq(
	    req(&fx, "GET", "/manager/v1/members/OX-1/x", NULL, NULL, body, sizeof(body)), 404);
	test_assert(has_code(body, "LB-0404"));
	test_assert_int_eq(req(&fx, "PUT", "/manager/v1/members", NULL, "{}", NULL, 0), 405);
	/* the router answers 405 with every method the path takes */
	static const struct {
		const char *method, *path, *allow;
	} wrong[] = {
	    {"PUT", "/manager/v1/members", "GET, HEAD, POST"},
	    {"POST", "/manager/v1/members/OX-1", "GET, HEAD, PATCH, DELETE"},
	    {"DELETE", "/manager/", "GET, HEAD"},
	    {"GET", "/manager/form", "POST"},
	    {"POST", "/", "GET, HEAD"},
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		struct call c = {wrong[i].method, wrong[i].path, USER, PASSWORD, NULL, NULL, NULL};
		struct http_client_response resp;
		test_set_context(wrong[i].path);
		test_assert_int_eq(send_call(&fx, &c, &resp), 405);
		test_assert(
		    strv_eq_cstr(http_client_response_header(&resp, "Allow"), wrong[i].allow));
		test_assert(has_code(resp.body.data, "LB-0405"));
		http_client_response_free(&resp);
	}
	test_set_context(NULL);
	teardown(&fx);
}

static void csrf_required(void)
{
	struct fixture fx;
	struct balancer_member_info mi;
	char body[1024], token[128], forged[128];

	setup(&fx, NULL, false);
	const char *patch = "{\"state\":\"maint\"}";
	test_assert_int_eq(
	    req(&fx, "PATCH", "/manager/v1/members/OX-1", NULL, patch, body, sizeof(body)), 403);
	test_assert(has_code(body, "LB-0419"));
	test_assert_int_eq(
	    req(&fx, "PATCH", "/manager/v1/members/OX-1", "1.abc", patch, body, sizeof(body)), 403);
	test_assert_int_eq(req(&fx, "DELETE", "/manager/v1/members/OX-1", NULL, NULL, NULL, 0),
	                   403);
	test_assert_int_eq(req(&fx, "POST", "/manager/v1/members", NULL,
	                       "{\"route\":\"OX-3\",\"url\":\"http://127.0.0.1:9003\"}", NULL, 0),
	                   403);

	/* a token with its expiry moved (later or earlier) no longer matches its MAC */
	get_csrf(&fx, token, sizeof(token));
	char *dot = strchr(token, '.');
	test_assert(dot != NULL);
	if (dot != NULL) {
		unsigned long long expires = strtoull(token, NULL, 10);
		snprintf(forged, sizeof(forged), "%llu%s", expires - 1, dot);
		test_assert_int_eq(
		    req(&fx, "PATCH", "/manager/v1/members/OX-1", forged, patch, NULL, 0), 403);
		snprintf(forged, sizeof(forged), "%s", token);
		forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == '0' ? '1' : '0';
		test_assert_int_eq(
		    req(&fx, "PATCH", "/manager/v1/members/OX-1", forged, patch, NULL, 0), 403);
	}
	test_assert(info(&fx, "OX-1", &mi) && mi.state == BALANCER_READY);
	test_assert_int_eq(balancer_count(fx.b), 2);
	test_assert_int_eq(fx.changes, 0);
	struct stat st;
	test_assert(stat(state_path, &st) < 0); /* nothing was ever saved */
	teardown(&fx);
}

static void patch_state_and_loadfactor(void)
{
	struct fixture fx;
	struct balancer_member_info mi;
	char body[2048], token[128];

	setup(&fx, NULL, false);
	get_csrf(&fx, token, sizeof(token));
	test_assert_int_eq(req(&fx, "PATCH", "/manager/v1/members/OX-1", token,
	                       "{\"state\":\"maint\"}", body, sizeof(body)),
	                   200);
	test_assert(strstr(body, "\"state\":\"maint\"") != NULL);
	test_assert(info(&fx, "OX-1", &mi) && mi.state == BALANCER_MAINT && mi.loadfactor == 50);
	test_assert_int_eq(fx.changes, 1);
	struct lb_state *s = disk_state();
	const struct lb_state_member *e = s != NULL ? lb_state_get(s, "OX-1") : NULL;
	test_assert(e != NULL && e->has_state && e->state == BALANCER_MAINT && !e->has_loadfactor);
	lb_state_free(&s);

	/* both at once; the token is reusable within its lifetime */
	test_assert_int_eq(req(&fx, "PATCH", "/manager/v1/members/OX-2", token,
	                       "{\"state\":\"drain\",\"loadfactor\":25}", body, sizeof(body)),
	                   200);
	test_assert(info(&fx, "OX-2", &mi) && mi.state == BALANCER_DRAIN && mi.loadfactor == 25);
	test_assert(strstr(body, "\"loadfactor\":25") != NULL);
	s = disk_state();
	e = s != NULL ? lb_state_get(s, "OX-2") : NULL;
	test_assert(e != NULL && e->state == BALANCER_DRAIN && e->loadfactor == 25);
	lb_state_free(&s);
	test_assert_int_eq(fx.changes, 2);

	test_assert_int_eq(req(&fx, "PATCH", "/manager/v1/members/OX-9", token,
	                       "{\"state\":\"maint\"}", body, sizeof(body)),
	                   404);
	test_assert(has_code(body, "LB-0404"));
	teardown(&fx);
}

static void bad_input_changes_nothing(void)
{
	struct fixture fx;
	struct balancer_member_info mi;
	char body[2048], token[128];
	static const char *const bad[] = {
	    "{",
	    "[]",
	    "",
	    "{}",
	    "{\"state\":\"bogus\"}",
	    "{\"state\":5}",
	    "{\"loadfactor\":0}",
	    "{\"loadfactor\":101}",
	    "{\"loadfactor\":\"50\"}",
	    "{\"loadfactor\":50.0}",
	    "{\"state\":\"drain\",\"loadfactor\":500}",
	    "{\"state\":\"drain\",\"weight\":5}",
	    "{\"state\":\"drain\",\"state\":\"maint\"}",
	};

	setup(&fx, NULL, false);
	get_csrf(&fx, token, sizeof(token));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert_int_eq(req(&fx, "PATCH", "/manager/v1/members/OX-1", token, bad[i],
		                       body, sizeof(body)),
		                   400);
		test_assert(has_code(body, "LB-0400"));
	}
	test_set_context(NULL);
	test_assert_int_eq(req(&fx, "PATCH", "/manager/v1/members/OX-1", token,
	                       "{\"state\":\"drain\",\"weight\":5}", body, sizeof(body)),
	                   400);
	test_assert(strstr(body, "unknown field \\\"weight\\\"") != NULL);
	test_assert(info(&fx, "OX-1", &mi) && mi.state == BALANCER_READY && mi.loadfactor == 50);
	test_assert_int_eq(fx.changes, 0);

	/* adds with bad values */
	static const char *const bad_add[] = {
	    "{\"url\":\"http://127.0.0.1:9003\"}",
	    "{\"route\":\"OX-3\"}",
	    "{\"route\":\"OX 3\",\"url\":\"http://127.0.0.1:9003\"}",
	    "{\"route\":\"OX-3\",\"url\":\"https://127.0.0.1:9003\"}",
	    "{\"route\":\"OX-3\",\"url\":\"http://127.0.0.1:9003/app\"}",
	    "{\"route\":\"OX-3\",\"url\":\"http://127.0.0.1:9003\",\"loadfactor\":0}",
	    "{\"route\":\"OX-3\",\"url\":\"http://127.0.0.1:9003\",\"state\":\"up\"}",
	    "{\"route\":\"OX-3\",\"url\":\"http://127.0.0.1:9003\",\"addr\":\"x\"}",
	};
	for (size_t i = 0; i < sizeof(bad_add) / sizeof(bad_add[0]); i++) {
		test_set_context(bad_add[i]);
		test_assert_int_eq(
		    req(&fx, "POST", "/manager/v1/members", token, bad_add[i], body, sizeof(body)),
		    400);
	}
	test_set_context(NULL);
	test_assert_int_eq(balancer_count(fx.b), 2);
	test_assert_int_eq(fx.changes, 0);
	struct stat st;
	test_assert(stat(state_path, &st) < 0);
	teardown(&fx);
}

static void add_and_remove(void)
{
	struct fixture fx;
	struct balancer_member_info mi;
	struct http_client_response resp;
	char body[2048], token[128];

	setup(&fx, NULL, false);
	get_csrf(&fx, token, sizeof(token));
	const char *add = "{\"route\":\"OX-3\",\"url\":\"http://127.0.0.1:9003\",\"loadfactor\":30,"
	                  "\"state\":\"standby\"}";
	struct call c = {"POST", "/manager/v1/members", USER, PASSWORD,
	                 token,  "application/json",    add};
	test_assert_int_eq(send_call(&fx, &c, &resp), 201);
	struct strv location = http_client_response_header(&resp, "Location");
	test_assert(strv_eq_cstr(location, "/manager/v1/members/OX-3"));
	test_assert(strstr(resp.body.data, "\"origin\":\"manager\"") != NULL);
	http_client_response_free(&resp);
	test_assert(info(&fx, "OX-3", &mi) && mi.state == BALANCER_STANDBY && mi.loadfactor == 30);
	test_assert_str_eq(mi.address, "127.0.0.1:9003");
	struct lb_state *s = disk_state();
	const struct lb_state_member *e = s != NULL ? lb_state_get(s, "OX-3") : NULL;
	test_assert(e != NULL && e->state == BALANCER_STANDBY && e->loadfactor == 30);
	test_assert_str_eq(e != NULL ? e->url : NULL, "http://127.0.0.1:9003");
	lb_state_free(&s);

	/* defaults, and duplicates */
	test_assert_int_eq(req(&fx, "POST", "/manager/v1/members", token,
	                       "{\"route\":\"OX-4\",\"url\":\"http://127.0.0.1\"}", body,
	                       sizeof(body)),
	                   201);
	test_assert(info(&fx, "OX-4", &mi) && mi.state == BALANCER_READY && mi.loadfactor == 50);
	test_assert_str_eq(mi.address, "127.0.0.1:80");
	test_assert_int_eq(req(&fx, "POST", "/manager/v1/members", token, add, body, sizeof(body)),
	                   409);
	test_assert(has_code(body, "LB-0409"));
	test_assert_int_eq(req(&fx, "POST", "/manager/v1/members", token,
	                       "{\"route\":\"OX-1\",\"url\":\"http://127.0.0.1:9009\"}", body,
	                       sizeof(body)),
	                   409);
	test_assert_int_eq(fx.changes, 2);

	/* an added member goes without a trace, a configured one leaves a tombstone */
	test_assert_int_eq(req(&fx, "DELETE", "/manager/v1/members/OX-3", token, NULL, NULL, 0),
	                   204);
	test_assert(!info(&fx, "OX-3", &mi));
	test_assert_int_eq(req(&fx, "DELETE", "/manager/v1/members/OX-2", token, NULL, NULL, 0),
	                   204);
	test_assert(!info(&fx, "OX-2", &mi));
	test_assert_int_eq(
	    req(&fx, "DELETE", "/manager/v1/members/OX-2", token, NULL, body, sizeof(body)), 404);
	test_assert_int_eq(fx.changes, 4);
	s = disk_state();
	test_assert(s != NULL && lb_state_get(s, "OX-3") == NULL);
	e = s != NULL ? lb_state_get(s, "OX-2") : NULL;
	test_assert(e != NULL && e->removed);
	test_assert(s != NULL && lb_state_get(s, "OX-4") != NULL);

	/* what a restart would rebuild from the configuration and this file */
	struct balancer_settings bs = {BALANCER_BYREQUESTS, 5000, 1, 1};
	struct balancer *b2 = balancer_create(&bs);
	const char *routes[] = {"OX-1", "OX-2"};
	for (size_t i = 0; i < 2; i++) {
		struct balancer_member_settings ms = {
		    routes[i], "127.0.0.1:9001", 50, BALANCER_READY, false, false};
		const char *error;
		test_assert(balancer_add(b2, &ms, NULL, &error) == 0);
	}
	const char *error = NULL;
	test_assert(s != NULL && lb_state_apply(s, b2, &error) == 0);
	test_assert_int_eq(balancer_count(b2), 2); /* OX-1 and OX-4 */
	struct balancer_member *m = balancer_find(b2, STRV_LIT("OX-4"));
	test_assert(m != NULL);
	balancer_member_unref(&m);
	balancer_destroy(&b2);
	lb_state_free(&s);
	teardown(&fx);
}

static void state_file_failure(void)
{
	struct fixture fx;
	struct balancer_member_info mi;
	char body[2048], token[128], tmp[200];

	setup(&fx, NULL, false);
	get_csrf(&fx, token, sizeof(token));
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	test_assert(mkdir(tmp, 0700) == 0);
	test_assert_int_eq(req(&fx, "PATCH", "/manager/v1/members/OX-1", token,
	                       "{\"state\":\"maint\"}", body, sizeof(body)),
	                   500);
	test_assert(has_code(body, "LB-0500") && strstr(body, "nothing was changed") != NULL);
	test_assert(info(&fx, "OX-1", &mi) && mi.state == BALANCER_READY);
	test_assert_int_eq(req(&fx, "DELETE", "/manager/v1/members/OX-1", token, NULL, NULL, 0),
	                   500);
	test_assert(info(&fx, "OX-1", &mi));
	test_assert_int_eq(fx.changes, 0);
	rmdir(tmp);
	/* the manager's own copy was rolled back too: the next save has only the new change */
	test_assert_int_eq(
	    req(&fx, "PATCH", "/manager/v1/members/OX-2", token, "{\"loadfactor\":10}", NULL, 0),
	    200);
	struct lb_state *s = disk_state();
	test_assert(s != NULL && lb_state_count(s) == 1 && lb_state_get(s, "OX-2") != NULL);
	lb_state_free(&s);
	teardown(&fx);
}

/* The value of the first name="csrf" field of the page. */
static void page_token(const char *html, char *token, size_t size)
{
	static const char marker[] = "name=\"csrf\" value=\"";
	const char *p = strstr(html, marker);
	token[0] = '\0';
	test_assert(p != NULL);
	if (p == NULL)
		return;
	p += sizeof(marker) - 1;
	const char *end = strchr(p, '"');
	test_assert(end != NULL && (size_t)(end - p) < size);
	if (end != NULL && (size_t)(end - p) < size)
		snprintf(token, size, "%.*s", (int)(end - p), p);
}

static void html_page(void)
{
	struct fixture fx;
	struct http_client_response resp;
	char token[128];

	setup(&fx, NULL, false);
	struct call c = {"GET", "/manager/", USER, PASSWORD, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &c, &resp), 200);
	test_assert(strv_starts_with(http_client_response_header(&resp, "Content-Type"),
	                             STRV_LIT("text/html")));
	test_assert(
	    strv_eq_cstr(http_client_response_header(&resp, "X-Content-Type-Options"), "nosniff"));
	test_assert(strv_eq_cstr(http_client_response_header(&resp, "Cache-Control"), "no-store"));
	test_assert(http_client_response_header(&resp, "Content-Security-Policy").ptr != NULL);
	const char *html = resp.body.data;
	test_assert(strstr(html, "<!DOCTYPE html>") == html);
	test_assert(strstr(html, ">OX-1</td>") != NULL && strstr(html, ">OX-2</td>") != NULL);
	test_assert(strstr(html, "127.0.0.1:9002") != NULL);
	test_assert(strstr(html, "<script") == NULL);
	page_token(html, token, sizeof(token));
	test_assert(strchr(token, '.') != NULL);
	test_assert(strstr(html, "action=\"/manager/form\"") != NULL);
	test_assert(strstr(html, "name=\"action\" value=\"add\"") != NULL);
	http_client_response_free(&resp);

	struct call bare = {"GET", "/manager", USER, PASSWORD, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &bare, &resp), 200);
	test_assert(strstr(resp.body.data, "OX-1") != NULL);
	http_client_response_free(&resp);

	/* the admin listener's root leads to the page */
	struct call root = {"GET", "/", USER, PASSWORD, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &root, &resp), 302);
	test_assert(strv_eq_cstr(http_client_response_header(&resp, "Location"), "/manager/"));
	http_client_response_free(&resp);
	teardown(&fx);
}

static void human_bytes(void)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} cases[] = {
	    {0, "0 B"},
	    {1023, "1023 B"},
	    {1024, "1.0 KiB"},
	    {1536, "1.5 KiB"},
	    {1048575, "1023.9 KiB"},
	    {1048576, "1.0 MiB"},
	    {UINT64_C(5) * 1024 * 1024 * 1024 + UINT64_C(300) * 1024 * 1024, "5.2 GiB"},
	    {UINT64_MAX, "15.9 EiB"},
	};
	struct buf b;
	buf_init(&b, 64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		manager__human_bytes(&b, cases[i].bytes);
		test_assert_str_eq(b.data, cases[i].text);
	}
	buf_free(&b);
}

static void html_escaping(void)
{
	struct buf b;
	buf_init(&b, 1024);
	manager__html_escape(&b, STRV_LIT("<a href='x'>&\"</a>"));
	test_assert_str_eq(b.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
	buf_reset(&b);
	manager__html_error(&b, 400, "LB-0400", "<script>alert(1)</script>");
	test_assert(strstr(b.data, "<script>") == NULL);
	test_assert(strstr(b.data, "&lt;script&gt;alert(1)") != NULL);
	buf_free(&b);
}

/* Posts a form; returns the status, Location in location (may be NULL). */
static unsigned post_form(struct fixture *fx, const char *body, char *location, size_t size)
{
	struct http_client_response resp;
	struct call c = {
	    "POST", "/manager/form", USER, PASSWORD, NULL, "application/x-www-form-urlencoded",
	    body};
	unsigned status = send_call(fx, &c, &resp);
	if (location != NULL) {
		struct strv l = http_client_response_header(&resp, "Location");
		snprintf(location, size, "%.*s", STRV_FMT(l));
	}
	http_client_response_free(&resp);
	return status;
}

static void form_post(void)
{
	struct fixture fx;
	struct balancer_member_info mi;
	struct http_client_response resp;
	char token[128], body[1024], location[128];

	setup(&fx, NULL, false);
	struct call c = {"GET", "/manager/", USER, PASSWORD, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &c, &resp), 200);
	page_token(resp.body.data, token, sizeof(token));
	http_client_response_free(&resp);

	snprintf(body, sizeof(body), "csrf=%s&action=state&route=OX-1&value=drain", token);
	test_assert_int_eq(post_form(&fx, body, location, sizeof(location)), 303);
	test_assert_str_eq(location, "/manager/?done=state&route=OX-1");
	test_assert(info(&fx, "OX-1", &mi) && mi.state == BALANCER_DRAIN);
	/* the page the redirect leads to says what changed */
	struct call after = {"GET", location, USER, PASSWORD, NULL, NULL, NULL};
	test_assert_int_eq(send_call(&fx, &after, &resp), 200);
	test_assert(strstr(resp.body.data, "Done: OX-1&rsquo;s state is now <b>drain</b>.") !=
	            NULL);
	http_client_response_free(&resp);

	snprintf(body, sizeof(body), "route=OX-2&action=loadfactor&value=75&csrf=%s", token);
	test_assert_int_eq(post_form(&fx, body, location, sizeof(location)), 303);
	test_assert_str_eq(location, "/manager/?done=loadfactor&route=OX-2");
	test_assert(info(&fx, "OX-2", &mi) && mi.loadfactor == 75);
	after.path = location;
	test_assert_int_eq(send_call(&fx, &after, &resp), 200);
	test_assert(strstr(resp.body.data, "Done: OX-2&rsquo;s load factor is now <b>75</b>.") !=
	            NULL);
	http_client_response_free(&resp);

	/* add: value is the URL, percent-encoded as browsers send it */
	snprintf(body, sizeof(body),
	         "csrf=%s&action=add&route=OX-5&value=http%%3A%%2F%%2F127.0.0.1%%3A9005"
	         "&loadfactor=40&state=maint",
	         token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 303);
	test_assert(info(&fx, "OX-5", &mi) && mi.loadfactor == 40 && mi.state == BALANCER_MAINT);
	test_assert_str_eq(mi.address, "127.0.0.1:9005");

	/* remove asks first (the page runs no script to confirm), then removes */
	snprintf(body, sizeof(body), "csrf=%s&action=remove&route=OX-5", token);
	struct call ask = {
	    "POST", "/manager/form", USER, PASSWORD, NULL, "application/x-www-form-urlencoded",
	    body};
	test_assert_int_eq(send_call(&fx, &ask, &resp), 200);
	test_assert(strstr(resp.body.data, "<h1>Remove member OX-5?</h1>") != NULL);
	test_assert(strstr(resp.body.data, "127.0.0.1:9005") != NULL);
	test_assert(strstr(resp.body.data, "name=\"confirm\" value=\"yes\"") != NULL);
	test_assert(strstr(resp.body.data, "name=\"route\" value=\"OX-5\"") != NULL);
	test_assert(strstr(resp.body.data, "href=\"/manager/\">Cancel</a>") != NULL);
	test_assert(strstr(resp.body.data, "<script") == NULL);
	http_client_response_free(&resp);
	test_assert(info(&fx, "OX-5", &mi));
	test_assert_int_eq(fx.changes, 3);
	snprintf(body, sizeof(body), "csrf=%s&action=remove&route=OX-5&confirm=no", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 200);
	test_assert(info(&fx, "OX-5", &mi));
	snprintf(body, sizeof(body), "csrf=%s&action=remove&route=OX-5&confirm=yes", token);
	test_assert_int_eq(post_form(&fx, body, location, sizeof(location)), 303);
	test_assert_str_eq(location, "/manager/?done=remove&route=OX-5");
	test_assert(!info(&fx, "OX-5", &mi));
	test_assert_int_eq(fx.changes, 4);
	after.path = location;
	test_assert_int_eq(send_call(&fx, &after, &resp), 200);
	test_assert(strstr(resp.body.data, "Done: OX-5 removed.") != NULL);
	http_client_response_free(&resp);
	/* a forged note is not shown: unknown action, invalid route */
	after.path = "/manager/?done=reboot&route=OX-1";
	test_assert_int_eq(send_call(&fx, &after, &resp), 200);
	test_assert(strstr(resp.body.data, "Done:") == NULL);
	http_client_response_free(&resp);
	after.path = "/manager/?done=state&route=%3Cb%3E";
	test_assert_int_eq(send_call(&fx, &after, &resp), 200);
	test_assert(strstr(resp.body.data, "Done:") == NULL);
	http_client_response_free(&resp);

	struct lb_state *s = disk_state();
	const struct lb_state_member *e = s != NULL ? lb_state_get(s, "OX-1") : NULL;
	test_assert(e != NULL && e->state == BALANCER_DRAIN);
	lb_state_free(&s);

	/* refused: no token, a wrong one, bad values, wrong content type */
	test_assert_int_eq(post_form(&fx, "action=state&route=OX-1&value=maint", NULL, 0), 403);
	test_assert_int_eq(post_form(&fx, "csrf=1.00&action=state&route=OX-1&value=maint", NULL, 0),
	                   403);
	snprintf(body, sizeof(body), "csrf=%s&action=state&route=OX-1&value=off", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 400);
	snprintf(body, sizeof(body), "csrf=%s&action=loadfactor&route=OX-1&value=0", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 400);
	snprintf(body, sizeof(body), "csrf=%s&action=reboot&route=OX-1", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 400);
	snprintf(body, sizeof(body), "csrf=%s&action=remove&route=OX-7", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 404);
	snprintf(body, sizeof(body), "csrf=%s&action=remove&route=OX-7&confirm=yes", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 404);
	snprintf(body, sizeof(body), "csrf=%s&action=state&route=%%3Cb%%3E&value=maint", token);
	test_assert_int_eq(post_form(&fx, body, NULL, 0), 400);
	snprintf(body, sizeof(body), "csrf=%s&action=state&route=OX-1&value=maint", token);
	struct call json = {"POST", "/manager/form",    USER, PASSWORD,
	                    NULL,   "application/json", body};
	test_assert_int_eq(send_call(&fx, &json, &resp), 415);
	http_client_response_free(&resp);
	test_assert(info(&fx, "OX-1", &mi) && mi.state == BALANCER_DRAIN && mi.loadfactor == 50);
	test_assert_int_eq(fx.changes, 4);

	/* an error page is HTML with the code and a way back */
	snprintf(body, sizeof(body), "csrf=%s&action=remove&route=OX-7", token);
	struct call missing = {
	    "POST", "/manager/form", USER, PASSWORD, NULL, "application/x-www-form-urlencoded",
	    body};
	test_assert_int_eq(send_call(&fx, &missing, &resp), 404);
	test_assert(strstr(resp.body.data, "LB-0404") != NULL &&
	            strstr(resp.body.data, "href=\"/manager/\"") != NULL);
	http_client_response_free(&resp);
	teardown(&fx);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"credentials_required", credentials_required},
	    {"argon2id_hash", argon2id_hash},
	    {"failed_logins_throttled", failed_logins_throttled},
	    {"network_not_allowed", network_not_allowed},
	    {"members_list", members_list},
	    {"csrf_required", csrf_required},
	    {"patch_state_and_loadfactor", patch_state_and_loadfactor},
	    {"bad_input_changes_nothing", bad_input_changes_nothing},
	    {"add_and_remove", add_and_remove},
	    {"state_file_failure", state_file_failure},
	    {"html_page", html_page},
	    {"html_escaping", html_escaping},
	    {"human_bytes", human_bytes},
	    {"form_post", form_post},
	    {NULL, NULL},
	};
	random_init();
	log_set_level(LOG_ERROR);
	int code = test_run(cases);
	if (dir[0] != '\0')
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return code;
}
