/* SPDX-License-Identifier: MIT */
/* Unit tests for the router: pattern compilation, matching and precedence, Allow, and the
   answers and parameters on real requests through a server on loopback. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "http-client.h"
#include "http-router.h"
#include "http-server.h"
#include "test.h"

static void h_a(void *ctx, struct http_request *req)
{
	(void)ctx;
	(void)req;
}

static void h_b(void *ctx, struct http_request *req)
{
	(void)ctx;
	(void)req;
}

static const struct http_route api_routes[] = {
    {"GET", "/health", h_a, 0, NULL},
    {"GET", "/ctx", h_a, 0, NULL},
    {"POST", "/ctx", h_b, 0, NULL},
    {"GET", "/ctx/{cid:id}", h_a, 0, NULL},
    {"PATCH", "/ctx/{cid:id}", h_b, 0, NULL},
    {"POST", "/ctx/{cid:id}/users/batch", h_b, HTTP_ROUTE_APP(1), NULL},
    {"GET", "/ctx/{cid:id}/users/{uid:id}", h_a, HTTP_ROUTE_APP(1), NULL},
    {"DELETE", "/ctx/{cid:id}/users/{uid:id}", h_b, 0, NULL},
    {"GET", "/ctx/{cid:id}/users/{login}", h_b, 0, NULL},
    {"GET", "/", h_a, 0, NULL},
    {"GET", "/manager/", h_b, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static const struct http_route dav_routes[] = {
    {"PROPFIND", "/dav/", h_a, HTTP_ROUTE_PREFIX, NULL},
    {"GET", "/dav/", h_a, HTTP_ROUTE_PREFIX, NULL},
    {"GET", "/dav/special/", h_b, HTTP_ROUTE_PREFIX, NULL},
    {"GET", "/dav/x", h_b, 0, NULL},
    {"HEAD", "/dav/x", h_a, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static const struct http_route *const tables[] = {api_routes, dav_routes, NULL};

static struct http_router *make(void)
{
	const char *error = NULL;
	struct http_router *r = http_router_create(tables, NULL, &error);
	test_assert(r != NULL);
	if (r == NULL)
		test_assert_str_eq(error, "");
	return r;
}

/* Looks up method and path; returns the route's index in api_routes or dav_routes (dav as
   100 + i), -1 for none. */
static int find(const struct http_router *r, const char *method, const char *path,
                struct http_route_lookup *l)
{
	http_router_lookup(r, strv_from_cstr(method), strv_from_cstr(path), l);
	if (l->route == NULL)
		return -1;
	if (l->route >= api_routes &&
	    l->route < api_routes + sizeof(api_routes) / sizeof(api_routes[0]))
		return (int)(l->route - api_routes);
	return 100 + (int)(l->route - dav_routes);
}

static void test_match(void)
{
	struct http_router *r = make();
	struct http_route_lookup l;

	test_assert_int_eq(find(r, "GET", "/health", &l), 0);
	test_assert_int_eq(l.param_count, 0);
	test_assert_int_eq(find(r, "HEAD", "/health", &l), 0);
	test_assert_int_eq(find(r, "POST", "/health", &l), -1);
	test_assert(l.path_found);
	test_assert_int_eq(find(r, "GET", "/health/", &l), -1);
	test_assert(!l.path_found && l.bad_param == NULL);
	test_assert_int_eq(find(r, "GET", "/healthz", &l), -1);
	test_assert_int_eq(find(r, "GET", "health", &l), -1);
	test_assert_int_eq(find(r, "GET", "", &l), -1);
	test_assert_int_eq(find(r, "OPTIONS", "*", &l), -1);
	test_assert_int_eq(find(r, "GET", "/", &l), 9);
	test_assert_int_eq(find(r, "GET", "/manager/", &l), 10);
	test_assert_int_eq(find(r, "GET", "/manager", &l), -1);
	test_assert_int_eq(find(r, "get", "/health", &l), -1); /* methods are case-sensitive */

	test_assert_int_eq(find(r, "POST", "/ctx", &l), 2);
	test_assert_int_eq(find(r, "PATCH", "/ctx/42", &l), 4);
	test_assert_int_eq(l.param_count, 1);
	test_assert_str_eq(l.params[0].name, "cid");
	test_assert(strv_eq_cstr(l.params[0].value, "42"));
	test_assert_int_eq(l.params[0].id, 42);
	test_assert_int_eq(find(r, "GET", "/ctx/9223372036854775807", &l), 3);
	test_assert_int_eq(l.params[0].id, INT64_MAX);
	http_router_destroy(&r);
	test_assert(r == NULL);
	http_router_destroy(&r);
}

static void test_typed_parameters(void)
{
	struct http_router *r = make();
	struct http_route_lookup l;
	static const char *const not_ids[] = {"/ctx/0",
	                                      "/ctx/abc",
	                                      "/ctx/-1",
	                                      "/ctx/+1",
	                                      "/ctx/1.0",
	                                      "/ctx/9223372036854775808",
	                                      "/ctx/99999999999999999999",
	                                      "/ctx/%31"};
	for (size_t i = 0; i < sizeof(not_ids) / sizeof(not_ids[0]); i++) {
		test_set_context(not_ids[i]);
		test_assert_int_eq(find(r, "GET", not_ids[i], &l), -1);
		test_assert(!l.path_found);
		test_assert(l.bad_param != NULL && strcmp(l.bad_param, "cid") == 0);
	}
	test_set_context(NULL);
	/* an empty segment is no parameter, typed or not */
	test_assert_int_eq(find(r, "GET", "/ctx/", &l), -1);
	test_assert(l.bad_param == NULL);
	/* the first segment that fails names the parameter */
	find(r, "GET", "/ctx/x/users/y", &l);
	test_assert(l.bad_param != NULL && strcmp(l.bad_param, "cid") == 0);
	find(r, "DELETE", "/ctx/5/users/y", &l);
	test_assert(l.route == NULL && l.path_found); /* {login} takes it, for GET only */
	test_assert(l.bad_param == NULL);
	find(r, "GET", "/ctx/5/frob", &l);
	test_assert(l.route == NULL && !l.path_found && l.bad_param == NULL);
	http_router_destroy(&r);
}

static void test_precedence(void)
{
	struct http_router *r = make();
	struct http_route_lookup l;

	/* literal over typed over untyped, whatever the table order */
	test_assert_int_eq(find(r, "POST", "/ctx/5/users/batch", &l), 5);
	test_assert_int_eq(l.param_count, 1);
	test_assert_int_eq(find(r, "GET", "/ctx/5/users/7", &l), 6);
	test_assert_int_eq(l.param_count, 2);
	test_assert_str_eq(l.params[1].name, "uid");
	test_assert_int_eq(l.params[1].id, 7);
	test_assert_int_eq(find(r, "GET", "/ctx/5/users/alice", &l), 8);
	test_assert(strv_eq_cstr(l.params[1].value, "alice"));
	test_assert_int_eq(l.params[1].id, 0);
	/* a literal route without the method leaves the path to a parameter route with it */
	test_assert_int_eq(find(r, "GET", "/ctx/5/users/batch", &l), 8);
	test_assert_int_eq(find(r, "DELETE", "/ctx/5/users/batch", &l), -1);
	test_assert(l.path_found);

	/* prefixes: whole paths first, then the longest prefix; an explicit HEAD route wins */
	test_assert_int_eq(find(r, "GET", "/dav/x", &l), 103);
	test_assert_int_eq(find(r, "HEAD", "/dav/x", &l), 104);
	test_assert_int_eq(find(r, "GET", "/dav/y", &l), 101);
	test_assert_int_eq(find(r, "HEAD", "/dav/y", &l), 101);
	test_assert_int_eq(find(r, "GET", "/dav/special/a/b/c", &l), 102);
	test_assert_int_eq(find(r, "PROPFIND", "/dav/special/a", &l), 100);
	test_assert_int_eq(find(r, "PROPFIND", "/dav/", &l), 100);
	test_assert_int_eq(find(r, "PROPFIND", "/dav", &l), -1);
	test_assert_int_eq(find(r, "PROPFIND", "/dav/x", &l), 100);
	test_assert_int_eq(l.param_count, 0);
	/* a path deeper than any pattern reaches only prefixes */
	test_assert_int_eq(
	    find(r, "GET", "/dav/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20", &l), 101);
	test_assert_int_eq(find(r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", &l), -1);
	http_router_destroy(&r);
}

/* Many literal paths: the hash table's probing finds every one, and only its own. */
static void test_many_literals(void)
{
	enum { N = 300 };
	static char patterns[N][16];
	static struct http_route routes[2 * N + 1];
	for (size_t i = 0; i < N; i++) {
		snprintf(patterns[i], sizeof(patterns[i]), "/r/%zu", i);
		routes[2 * i] = (struct http_route){"GET", patterns[i], h_a, 0, NULL};
		routes[2 * i + 1] = (struct http_route){"POST", patterns[i], h_b, 0, NULL};
	}
	const struct http_route *const t[] = {routes, NULL};
	const char *error = NULL;
	struct http_router *r = http_router_create(t, NULL, &error);
	struct http_route_lookup l;
	for (size_t i = 0; i < N; i++) {
		http_router_lookup(r, STRV_LIT("POST"), strv_from_cstr(patterns[i]), &l);
		test_assert(l.route == &routes[2 * i + 1]);
		http_router_lookup(r, STRV_LIT("HEAD"), strv_from_cstr(patterns[i]), &l);
		test_assert(l.route == &routes[2 * i]);
	}
	http_router_lookup(r, STRV_LIT("GET"), STRV_LIT("/r/300"), &l);
	test_assert(l.route == NULL && !l.path_found);
	http_router_lookup(r, STRV_LIT("PUT"), STRV_LIT("/r/299"), &l);
	test_assert(l.route == NULL && l.path_found);
	http_router_destroy(&r);
}

/* Precedence does not depend on table order: the least specific first, then the reverse. */
static void test_precedence_any_order(void)
{
	const struct http_route forward[] = {
	    {"GET", "/u/{name}/x", h_a, 0, NULL}, {"GET", "/u/{id:id}/x", h_a, 0, NULL},
	    {"GET", "/u/batch/x", h_a, 0, NULL},  {"GET", "/u/{name}/{more}", h_a, 0, NULL},
	    {NULL, NULL, NULL, 0, NULL},
	};
	struct http_route backward[5];
	for (size_t i = 0; i < 4; i++)
		backward[i] = forward[3 - i];
	backward[4] = forward[4];
	static const char *const pattern_for[][2] = {
	    {"/u/x/x", "/u/{name}/x"},
	    {"/u/7/x", "/u/{id:id}/x"},
	    {"/u/batch/x", "/u/batch/x"},
	    {"/u/batch/y", "/u/{name}/{more}"},
	};
	const struct http_route *const t1[] = {forward, NULL}, *const t2[] = {backward, NULL};
	const struct http_route *const *both[] = {t1, t2};
	for (size_t k = 0; k < 2; k++) {
		const char *error = NULL;
		struct http_router *r = http_router_create(both[k], NULL, &error);
		struct http_route_lookup l;
		for (size_t i = 0; i < sizeof(pattern_for) / sizeof(pattern_for[0]); i++) {
			http_router_lookup(r, STRV_LIT("GET"), strv_from_cstr(pattern_for[i][0]),
			                   &l);
			test_set_context(pattern_for[i][0]);
			test_assert(l.route != NULL);
			if (l.route != NULL)
				test_assert_str_eq(l.route->pattern, pattern_for[i][1]);
		}
		test_set_context(NULL);
		http_router_destroy(&r);
	}
}

static void expect_allow(const struct http_router *r, const char *path, const char *allow)
{
	char storage[256];
	struct buf b;
	buf_init_fixed(&b, storage, sizeof(storage));
	http_router_allow(r, strv_from_cstr(path), &b);
	test_set_context(path);
	test_assert_str_eq(b.data, allow);
	test_set_context(NULL);
}

static void test_allow(void)
{
	struct http_router *r = make();
	expect_allow(r, "/health", "GET, HEAD");
	expect_allow(r, "/ctx", "GET, HEAD, POST");
	expect_allow(r, "/ctx/3", "GET, HEAD, PATCH");
	expect_allow(r, "/ctx/3/users/batch", "POST, GET, HEAD");
	expect_allow(r, "/ctx/3/users/4", "GET, HEAD, DELETE");
	expect_allow(r, "/ctx/3/users/bob", "GET, HEAD");
	expect_allow(r, "/dav/x", "PROPFIND, GET, HEAD");
	expect_allow(r, "/nothing", "");
	http_router_destroy(&r);
}

static void expect_bad(const char *method, const char *pattern, unsigned flags, const char *what)
{
	const struct http_route routes[] = {
	    {"GET", "/fine/{a}", h_a, 0, NULL},
	    {method, pattern, h_b, flags, NULL},
	    {NULL, NULL, NULL, 0, NULL},
	};
	const struct http_route *const t[] = {routes, NULL};
	const char *error = NULL;
	struct http_router *r = http_router_create(t, NULL, &error);
	test_set_context(pattern);
	test_assert(r == NULL);
	test_assert(error != NULL && strstr(error, what) != NULL);
	if (error != NULL && strstr(error, what) == NULL)
		test_assert_str_eq(error, what);
	test_set_context(NULL);
	http_router_destroy(&r);
}

static void test_bad_patterns(void)
{
	expect_bad("GET", "", 0, "starts with '/'");
	expect_bad("GET", "x/y", 0, "starts with '/'");
	expect_bad("", "/x", 0, "the method is empty");
	expect_bad("GET", "/a{b}", 0, "a parameter must be a whole segment");
	expect_bad("GET", "/{b}c", 0, "a parameter must be a whole segment");
	expect_bad("GET", "/{b", 0, "a parameter must be a whole segment");
	expect_bad("GET", "/{{b}}", 0, "a parameter must be a whole segment");
	expect_bad("GET", "/{}", 0, "a parameter name is 1 or more");
	expect_bad("GET", "/{a-b}", 0, "a parameter name is 1 or more");
	expect_bad("GET", "/{a:int}", 0, "the only parameter type is \"id\"");
	expect_bad("GET", "/{a}/{a:id}", 0, "a parameter name is used twice");
	expect_bad("GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", 0, "too many parameters");
	expect_bad("GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", 0, "too many segments");
	expect_bad("GET", "/dav/{x}/", HTTP_ROUTE_PREFIX, "a prefix pattern takes no parameters");
	expect_bad("GET", "/fine/{b}", 0, "route GET /fine/{b}: an earlier route takes the same");
	/* the same shape for another method, or another shape, is fine */
	const struct http_route ok[] = {
	    {"GET", "/fine/{a}", h_a, 0, NULL},    {"POST", "/fine/{b}", h_a, 0, NULL},
	    {"GET", "/fine/{a:id}", h_a, 0, NULL}, {"GET", "/fine/", h_a, HTTP_ROUTE_PREFIX, NULL},
	    {"GET", "/fine/", h_a, 0, NULL},       {NULL, NULL, NULL, 0, NULL},
	};
	const struct http_route *const t[] = {ok, NULL};
	const char *error = NULL;
	struct http_router *r = http_router_create(t, NULL, &error);
	test_assert(r != NULL);
	http_router_destroy(&r);
	const struct http_route *const none[] = {NULL};
	r = http_router_create(none, NULL, &error);
	test_assert(r != NULL);
	http_router_destroy(&r);
}

/* --- on a server --- */

static const struct http_router *served;

static void echo(void *ctx, struct http_request *req)
{
	const struct http_route *route = http_request_route(req);
	struct buf *body = http_response_body(req);
	test_assert(ctx == &served);
	buf_printf(body, "%s %s", route->method, route->pattern);
	const char *cid = http_request_param(req, "cid"), *uid = http_request_param(req, "uid");
	const char *login = http_request_param(req, "login");
	if (cid != NULL)
		buf_printf(body, " cid=%s/%lld", cid, (long long)http_request_param_id(req, "cid"));
	if (uid != NULL)
		buf_printf(body, " uid=%lld", (long long)http_request_param_id(req, "uid"));
	if (login != NULL)
		buf_printf(body, " login=%s", login);
	test_assert(http_request_param(req, "nope") == NULL);
	http_response_status(req, 200);
	http_response_send(req);
}

static const struct http_route served_routes[] = {
    {"GET", "/ctx/{cid:id}", echo, 0, NULL},
    {"PATCH", "/ctx/{cid:id}", echo, 0, NULL},
    {"GET", "/ctx/{cid:id}/users/{uid:id}", echo, 0, NULL},
    {"GET", "/ctx/{cid:id}/users/{login}", echo, 0, NULL},
    {"POST", "/ctx/{cid:id}/users/batch", echo, 0, NULL},
    {"GET", "/plain", echo, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static void on_head(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_request_drop_path_params(req);
	http_router_find(served, req);
}

static void on_request(struct http_request *req, void *ctx)
{
	(void)ctx;
	const struct http_route *route = http_router_match(served, req);
	if (route != NULL)
		route->handler(&served, req);
}

struct answer {
	unsigned status;
	char allow[64];
	char body[256];
};

static void call(const char *base, const char *method, const char *path, struct answer *a)
{
	struct http_client_response resp;
	const char *error = "";
	memset(a, 0, sizeof(*a));
	test_set_context(path);
	if (http_client_request(base, method, path, NULL, NULL, 0, 5000, &resp, &error) < 0) {
		test_assert_str_eq(error, "");
		return;
	}
	a->status = resp.status;
	struct strv allow = http_client_response_header(&resp, "Allow");
	snprintf(a->allow, sizeof(a->allow), "%.*s", STRV_FMT(allow));
	snprintf(a->body, sizeof(a->body), "%s", resp.body.data);
	http_client_response_free(&resp);
}

static void test_on_server(void)
{
	static const struct http_router_param_message messages[] = {
	    {"cid", "context ids are positive integers"},
	    {NULL, NULL},
	};
	const struct http_router_settings set = {
	    .code_prefix = "T",
	    .not_found = "nothing here",
	    .param_messages = messages,
	};
	const struct http_route *const t[] = {served_routes, NULL};
	const char *error = "";
	struct http_router *router = http_router_create(t, &set, &error);
	struct http_server_settings hs;
	struct answer a;
	char base[80];

	memset(&hs, 0, sizeof(hs));
	http_limits_default(&hs.limits);
	hs.threads = 1;
	hs.on_head = on_head;
	hs.on_request = on_request;
	served = router;
	struct http_server *server = http_server_create(&hs);
	test_assert_int_eq(http_server_listen(server, "127.0.0.1:0", &error), 0);
	test_assert_int_eq(http_server_start(server, &error), 0);
	snprintf(base, sizeof(base), "http://%s", http_server_address(server, 0));

	call(base, "GET", "/ctx/12", &a);
	test_assert_int_eq(a.status, 200);
	test_assert_str_eq(a.body, "GET /ctx/{cid:id} cid=12/12");
	call(base, "GET", "/ctx/12;jsessionid=abc.X?q=1", &a);
	test_assert_str_eq(a.body, "GET /ctx/{cid:id} cid=12/12");
	call(base, "GET", "/ctx/3/users/44", &a);
	test_assert_str_eq(a.body, "GET /ctx/{cid:id}/users/{uid:id} cid=3/3 uid=44");
	call(base, "GET", "/ctx/3/users/a%20b", &a);
	test_assert_str_eq(a.body, "GET /ctx/{cid:id}/users/{login} cid=3/3 login=a%20b");
	call(base, "HEAD", "/plain", &a);
	test_assert_int_eq(a.status, 200);
	test_assert_str_eq(a.body, "");

	call(base, "DELETE", "/ctx/12", &a);
	test_assert_int_eq(a.status, 405);
	test_assert_str_eq(a.allow, "GET, HEAD, PATCH");
	test_assert(strstr(a.body, "\"code\":\"T-0405\"") != NULL);
	test_assert(strstr(a.body, "method not allowed for this resource") != NULL);
	call(base, "PROPFIND", "/ctx/3/users/batch", &a);
	test_assert_int_eq(a.status, 405);
	test_assert_str_eq(a.allow, "GET, HEAD, POST");

	call(base, "GET", "/ctx/abc", &a);
	test_assert_int_eq(a.status, 404);
	test_assert_str_eq(a.allow, "");
	test_assert(strstr(a.body, "\"code\":\"T-0404\"") != NULL);
	test_assert(strstr(a.body, "context ids are positive integers") != NULL);
	call(base, "GET", "/ctx/abc/users/1", &a);
	test_assert(strstr(a.body, "context ids are positive integers") != NULL);
	call(base, "GET", "/nope", &a);
	test_assert_int_eq(a.status, 404);
	test_assert(strstr(a.body, "nothing here") != NULL);
	test_set_context(NULL);

	http_server_shutdown(server, 5000);
	http_server_destroy(&server);
	http_router_destroy(&router);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"match", test_match},
	    {"typed_parameters", test_typed_parameters},
	    {"precedence", test_precedence},
	    {"precedence_any_order", test_precedence_any_order},
	    {"many_literals", test_many_literals},
	    {"allow", test_allow},
	    {"bad_patterns", test_bad_patterns},
	    {"on_server", test_on_server},
	    {NULL, NULL}, /* one case a line */
	};
	return test_run(cases);
}
