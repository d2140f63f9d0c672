/* SPDX-License-Identifier: MIT */
/* libFuzzer target: route matching on arbitrary paths. The input is "pattern\npath": the path
   is looked up in a fixed set of tables and in a router compiled from the pattern, and the
   answers are checked against each other and against Allow. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "http-router.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(void *ctx, struct http_request *req)
{
	(void)ctx;
	(void)req;
}

/* the least specific of a path first, where it can be */
static const struct http_route routes[] = {
    {"GET", "/admin/v1/{what}", h, 0, NULL},
    {"GET", "/admin/v1/contexts/{cid}/users/{name}", h, 0, NULL},
    {"GET", "/api/", h, HTTP_ROUTE_PREFIX, NULL},
    {"GET", "/health", h, 0, NULL},
    {"GET", "/admin/v1/contexts", h, 0, NULL},
    {"POST", "/admin/v1/contexts", h, 0, NULL},
    {"GET", "/admin/v1/contexts/{cid:id}", h, 0, NULL},
    {"DELETE", "/admin/v1/contexts/{cid:id}", h, 0, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/users/batch", h, 0, NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/users/{uid:id}", h, 0, NULL},
    {"PATCH", "/admin/v1/contexts/{cid:id}/users/{name}", h, 0, NULL},
    {"GET", "/manager/v1/members/{route}", h, 0, NULL},
    {"GET", "/", h, 0, NULL},
    {"GET", "/api/v1/files/", h, HTTP_ROUTE_PREFIX, NULL},
    {"PROPFIND", "/dav/", h, HTTP_ROUTE_PREFIX, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE", "PATCH", "PROPFIND"};

static bool listed(struct strv allow, const char *method)
{
	struct strv item;
	while (allow.len > 0) {
		strv_split(allow, ',', &item, &allow);
		if (strv_eq_cstr(strv_trim(item), method))
			return true;
	}
	return false;
}

/* What holds for any lookup: the route takes the method, its parameters are the path's, and
   Allow agrees with the answer. */
static void check(const struct http_router *r, const char *method, struct strv path)
{
	struct http_route_lookup l;
	char storage[256];
	struct buf allow;

	http_router_lookup(r, strv_from_cstr(method), path, &l);
	buf_init_fixed(&allow, storage, sizeof(storage));
	http_router_allow(r, path, &allow);
	if (l.route != NULL) {
		if (!l.path_found || l.bad_param != NULL || !listed(buf_strv(&allow), method))
			__builtin_trap();
		if (strcmp(l.route->method, method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 && strcmp(l.route->method, "GET") == 0))
			__builtin_trap();
		for (unsigned i = 0; i < l.param_count; i++) {
			struct strv v = l.params[i].value;
			if (v.len == 0 || v.ptr < path.ptr || v.ptr + v.len > path.ptr + path.len ||
			    memchr(v.ptr, '/', v.len) != NULL || l.params[i].id < 0)
				__builtin_trap();
		}
	} else if (l.path_found != (allow.len > 0) || (l.path_found && l.bad_param != NULL) ||
	           (l.path_found && listed(buf_strv(&allow), method))) {
		__builtin_trap();
	}
}

#define ROUTES (sizeof(routes) / sizeof(routes[0]) - 1)

/* An oracle for precedence, written apart from the router: the kind of pattern segment i
   (2 literal, 1 {name:id}, 0 {name}). */
static int kind_of(const char *pattern, unsigned i)
{
	const char *seg = pattern + 1;
	while (i-- > 0)
		seg = strchr(seg, '/') + 1;
	if (seg[0] != '{')
		return 2;
	return strncmp(strchr(seg, '}') - 3, ":id", 3) == 0 ? 1 : 0;
}

static unsigned segments(const char *pattern)
{
	unsigned n = 1;
	for (const char *c = pattern + 1; *c != '\0'; c++)
		n += *c == '/';
	return n;
}

/* Whether route a is more specific than b for method (both take the path). */
static bool beats(const struct http_route *a, const struct http_route *b, const char *method)
{
	bool ap = a->flags & HTTP_ROUTE_PREFIX, bp = b->flags & HTTP_ROUTE_PREFIX;
	if (ap != bp)
		return bp;
	if (ap && strlen(a->pattern) != strlen(b->pattern))
		return strlen(a->pattern) > strlen(b->pattern);
	for (unsigned i = 0; !ap && i < segments(a->pattern); i++) {
		int ka = kind_of(a->pattern, i), kb = kind_of(b->pattern, i);
		if (ka != kb)
			return ka > kb;
	}
	return strcmp(a->method, method) == 0 && strcmp(b->method, method) != 0;
}

/* The route chosen for method and path is one that takes them on its own, and none of the
   others that do is more specific. */
static void check_precedence(struct http_router *const *single, const char *method,
                             struct strv path, const struct http_route *chosen)
{
	bool any = false;
	for (size_t i = 0; i < ROUTES; i++) {
		struct http_route_lookup l;
		http_router_lookup(single[i], strv_from_cstr(method), path, &l);
		if (l.route == NULL)
			continue;
		any = true;
		if (chosen == NULL || (l.route != chosen && beats(l.route, chosen, method)))
			__builtin_trap();
	}
	if (chosen != NULL && !any)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_router *fixed, *single[ROUTES];
	static struct http_route one[ROUTES][2];
	const char *error;
	if (fixed == NULL) {
		const struct http_route *const tables[] = {routes, NULL};
		fixed = http_router_create(tables, NULL, &error);
		for (size_t i = 0; i < ROUTES; i++) {
			const struct http_route *const t[] = {one[i], NULL};
			one[i][0] = routes[i];
			single[i] = http_router_create(t, NULL, &error);
			if (single[i] == NULL)
				__builtin_trap();
		}
		if (fixed == NULL)
			__builtin_trap();
	}

	struct strv input = strv_make((const char *)data, size), pattern, path;
	if (!strv_split(input, '\n', &pattern, &path))
		path = input;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct http_route_lookup l;
		check(fixed, methods[i], path);
		http_router_lookup(fixed, strv_from_cstr(methods[i]), path, &l);
		check_precedence(single, methods[i], path, l.route);
	}

	/* the pattern as a route of its own (it may not compile: that is fine) */
	if (memchr(pattern.ptr, '\0', pattern.len) != NULL)
		return 0;
	char *text = mem_strndup(pattern.ptr, pattern.len);
	const struct http_route mine[] = {
	    {"GET", text, h, size % 2 == 0 ? HTTP_ROUTE_PREFIX : 0, NULL},
	    {NULL, NULL, NULL, 0, NULL},
	};
	const struct http_route *const tables[] = {mine, NULL};
	struct http_router *r = http_router_create(tables, NULL, &error);
	if (r != NULL) {
		check(r, "GET", path);
		check(r, "HEAD", path);
		/* a pattern without parameters is the one path it takes (or its prefix) */
		struct http_route_lookup l;
		http_router_lookup(r, STRV_LIT("GET"), pattern, &l);
		if (memchr(pattern.ptr, '{', pattern.len) == NULL && l.route == NULL)
			__builtin_trap();
		http_router_destroy(&r);
	}
	mem_free(&text);
	return 0;
}
