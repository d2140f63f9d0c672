/* SPDX-License-Identifier: MIT */
/* Route matching over patterns compiled once, at creation. A path that a pattern without
   parameters takes whole is found by one hash probe, and nothing can beat that route. Else
   the path is split into segments once and compared with the patterns with parameters of as
   many segments, then with the prefixes: tables are tens of routes, so short linear scans
   beat a trie's pointer chasing. Nothing is allocated unless the chosen route has
   parameters. Why nothing matched (404 or 405, which parameter) is worked out only then, over
   all routes. */
#include "http-router.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "http-server-private.h"
#include "mem.h"
#include "pool.h"

/* The order is the precedence: a literal beats a typed parameter beats an untyped one. */
enum seg_kind {
	SEG_PARAM,
	SEG_ID,
	SEG_LITERAL,
};

struct seg {
	enum seg_kind kind;
	struct strv text; /* literal: the text; parameter: the name (NUL-terminated, ours) */
};

struct compiled {
	const struct http_route *route;
	struct strv method;
	bool get;
	bool prefix;  /* HTTP_ROUTE_PREFIX */
	bool literal; /* no parameters: the path is text or (prefix) starts with it */
	struct strv text;
	unsigned seg_count, param_count;
	/* the kinds, two bits a segment from the first: where two patterns take one path (same
	   segment count), the greater rank has the literal at the first segment they differ */
	uint32_t rank;
	struct seg *segs;                 /* seg_count */
	const struct compiled *same_path; /* literal whole-path routes: the next of this path */
};

/* Where the scan looks: patterns with parameters of n segments, n from 1 to
   HTTP_ROUTER_MAX_SEGMENTS, then the prefixes; the literal whole-path patterns are hashed
   instead, and their bucket is never scanned. */
#define PREFIX_BUCKET  (HTTP_ROUTER_MAX_SEGMENTS + 1)
#define LITERAL_BUCKET (HTTP_ROUTER_MAX_SEGMENTS + 2)

struct http_router {
	struct http_router_settings set;
	struct compiled *routes; /* in table order: Allow lists methods in that order */
	size_t count;
	/* the same by bucket: bucket b is by_bucket[first[b] .. first[b + 1]) */
	const struct compiled **by_bucket;
	size_t first[LITERAL_BUCKET + 2];
	/* open addressing, the first route of each literal whole path (same_path the others) */
	const struct compiled **literals;
	size_t literal_mask;
};

static __thread char error_buf[300];

/* --- creation --- */

static bool param_name_ok(struct strv name)
{
	if (name.len == 0)
		return false;
	for (size_t i = 0; i < name.len; i++) {
		char ch = name.ptr[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

static const char *compile_segment(struct compiled *c, struct seg *segs, struct strv part)
{
	struct seg *s = &segs[c->seg_count];
	const char *open = memchr(part.ptr, '{', part.len);
	const char *close = memchr(part.ptr, '}', part.len);

	if (open == NULL && close == NULL) {
		s->kind = SEG_LITERAL;
		s->text = part;
		return NULL;
	}
	if (c->prefix)
		return "a prefix pattern takes no parameters";
	if (part.len < 2 || part.ptr[0] != '{' || part.ptr[part.len - 1] != '}' ||
	    memchr(part.ptr + 1, '{', part.len - 2) != NULL ||
	    memchr(part.ptr + 1, '}', part.len - 2) != NULL)
		return "a parameter must be a whole segment, \"{name}\" or \"{name:id}\"";
	struct strv inner = strv_make(part.ptr + 1, part.len - 2), name, type;
	s->kind = SEG_PARAM;
	if (strv_split(inner, ':', &name, &type)) {
		if (!strv_eq_cstr(type, "id"))
			return "the only parameter type is \"id\"";
		s->kind = SEG_ID;
	}
	if (!param_name_ok(name))
		return "a parameter name is 1 or more of A-Z a-z 0-9 _";
	for (unsigned i = 0; i < c->seg_count; i++) {
		if (segs[i].kind != SEG_LITERAL && strv_eq(segs[i].text, name))
			return "a parameter name is used twice";
	}
	if (c->param_count == HTTP_ROUTER_MAX_PARAMS)
		return "too many parameters";
	c->param_count++;
	s->text = strv_make(mem_strndup(name.ptr, name.len), name.len);
	return NULL;
}

static const char *compile(struct compiled *c, const struct http_route *route)
{
	c->route = route;
	c->method = strv_from_cstr(route->method);
	c->get = strcmp(route->method, "GET") == 0;
	c->prefix = (route->flags & HTTP_ROUTE_PREFIX) != 0;
	c->text = strv_from_cstr(route->pattern);
	if (c->method.len == 0)
		return "the method is empty";
	if (c->text.len == 0 || c->text.ptr[0] != '/')
		return "a pattern starts with '/'";

	struct seg segs[HTTP_ROUTER_MAX_SEGMENTS];
	struct strv rest = strv_make(c->text.ptr + 1, c->text.len - 1), part;
	const char *problem = NULL;
	bool more = true;
	while (more && problem == NULL) {
		more = strv_split(rest, '/', &part, &rest);
		if (c->seg_count == HTTP_ROUTER_MAX_SEGMENTS) {
			problem = "too many segments";
			break;
		}
		problem = compile_segment(c, segs, part);
		if (problem == NULL) {
			c->rank |= (uint32_t)segs[c->seg_count].kind << (30 - 2 * c->seg_count);
			c->seg_count++;
		}
	}
	/* kept on failure too, for free_names() */
	c->segs = mem_calloc(c->seg_count + 1, sizeof(*c->segs));
	memcpy(c->segs, segs, c->seg_count * sizeof(*c->segs));
	c->literal = c->param_count == 0;
	return problem;
}

/* Two routes of one method that take exactly the same paths: the second could never run. */
static bool same_paths(const struct compiled *a, const struct compiled *b)
{
	if (a->prefix || b->prefix)
		return a->prefix && b->prefix && strv_eq(a->text, b->text);
	if (a->seg_count != b->seg_count || a->rank != b->rank)
		return false;
	for (unsigned i = 0; i < a->seg_count; i++) {
		if (a->segs[i].kind == SEG_LITERAL && !strv_eq(a->segs[i].text, b->segs[i].text))
			return false;
	}
	return true;
}

static void free_names(struct compiled *c)
{
	for (unsigned i = 0; c->segs != NULL && i < c->seg_count; i++) {
		if (c->segs[i].kind != SEG_LITERAL) {
			char *name = (char *)c->segs[i].text.ptr;
			mem_free(&name);
		}
	}
	mem_free(&c->segs);
}

static size_t bucket_of(const struct compiled *c)
{
	return c->prefix ? PREFIX_BUCKET : c->literal ? LITERAL_BUCKET : c->seg_count;
}

static uint32_t hash_path(struct strv path)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < path.len; i++)
		h = (h ^ (unsigned char)path.ptr[i]) * 16777619u;
	return h;
}

/* The slot of path in literals: its first route, or an empty one. */
static const struct compiled **literal_slot(const struct http_router *r, struct strv path)
{
	size_t i = hash_path(path) & r->literal_mask;
	while (r->literals[i] != NULL && !strv_eq(r->literals[i]->text, path))
		i = (i + 1) & r->literal_mask;
	return &r->literals[i];
}

static void fill_literals(struct http_router *r)
{
	size_t size = 8;
	while (size < 2 * r->count)
		size *= 2;
	r->literals = mem_calloc(size, sizeof(*r->literals));
	r->literal_mask = size - 1;
	for (size_t i = 0; i < r->count; i++) {
		struct compiled *c = &r->routes[i];
		if (bucket_of(c) != LITERAL_BUCKET)
			continue;
		const struct compiled **slot = literal_slot(r, c->text);
		while (*slot != NULL) /* after the others of this path, in table order */
			slot = (const struct compiled **)&(*slot)->same_path;
		*slot = c;
	}
}

/* A counting sort: each bucket keeps table order. */
static void fill_buckets(struct http_router *r)
{
	size_t at[LITERAL_BUCKET + 1];
	memset(r->first, 0, sizeof(r->first));
	for (size_t i = 0; i < r->count; i++)
		r->first[bucket_of(&r->routes[i]) + 1]++;
	for (size_t b = 1; b <= LITERAL_BUCKET + 1; b++)
		r->first[b] += r->first[b - 1];
	memcpy(at, r->first, sizeof(at));
	r->by_bucket = mem_calloc(r->count + 1, sizeof(*r->by_bucket));
	for (size_t i = 0; i < r->count; i++)
		r->by_bucket[at[bucket_of(&r->routes[i])]++] = &r->routes[i];
}

struct http_router *http_router_create(const struct http_route *const *tables,
                                       const struct http_router_settings *settings,
                                       const char **error_r)
{
	struct http_router *r = mem_calloc(1, sizeof(*r));
	size_t n = 0;

	for (size_t t = 0; tables[t] != NULL; t++) {
		for (const struct http_route *route = tables[t]; route->method != NULL; route++)
			n++;
	}
	r->routes = mem_calloc(n == 0 ? 1 : n, sizeof(*r->routes));
	if (settings != NULL)
		r->set = *settings;
	if (r->set.code_prefix == NULL)
		r->set.code_prefix = "HTTP";
	if (r->set.not_found == NULL)
		r->set.not_found = "no such resource";
	if (r->set.not_allowed == NULL)
		r->set.not_allowed = "method not allowed for this resource";

	for (size_t t = 0; tables[t] != NULL; t++) {
		for (const struct http_route *route = tables[t]; route->method != NULL; route++) {
			struct compiled *c = &r->routes[r->count++];
			const char *problem = compile(c, route);
			for (size_t i = 0; problem == NULL && i + 1 < r->count; i++) {
				if (strv_eq(r->routes[i].method, c->method) &&
				    same_paths(&r->routes[i], c))
					problem =
					    "an earlier route takes the same method and paths";
			}
			if (problem != NULL) {
				snprintf(error_buf, sizeof(error_buf), "route %s %s: %s",
				         route->method, route->pattern, problem);
				*error_r = error_buf;
				http_router_destroy(&r);
				return NULL;
			}
		}
	}
	fill_buckets(r);
	fill_literals(r);
	return r;
}

void http_router_destroy(struct http_router **router)
{
	struct http_router *r = *router;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		free_names(&r->routes[i]);
	mem_free(&r->routes);
	mem_free(&r->by_bucket);
	mem_free(&r->literals);
	mem_free(router);
}

/* --- matching --- */

struct path_segs {
	unsigned count; /* all of them, even past HTTP_ROUTER_MAX_SEGMENTS */
	struct strv segs[HTTP_ROUTER_MAX_SEGMENTS];
};

static void split_path(struct strv path, struct path_segs *p)
{
	p->count = 0;
	if (path.len == 0 || path.ptr[0] != '/')
		return; /* "*" (OPTIONS) and the like: no pattern takes it */
	size_t start = 1;
	for (size_t i = 1; i <= path.len; i++) {
		if (i < path.len && path.ptr[i] != '/')
			continue;
		if (p->count < HTTP_ROUTER_MAX_SEGMENTS)
			p->segs[p->count] = strv_make(path.ptr + start, i - start);
		p->count++;
		start = i + 1;
	}
}

static bool parse_id(struct strv s, int64_t *id_r)
{
	uint64_t v;
	if (strv_to_u64(s, &v) < 0 || v == 0 || v > INT64_MAX)
		return false;
	*id_r = (int64_t)v;
	return true;
}

/* Whether c takes the path; when it does not only because a typed parameter's segment is not
   of its type, *bad_r is that segment's index. */
static bool path_matches(const struct compiled *c, struct strv path, const struct path_segs *p,
                         int *bad_r)
{
	*bad_r = -1;
	if (c->prefix)
		return strv_starts_with(path, c->text);
	if (c->literal)
		return strv_eq(path, c->text);
	if (c->seg_count != p->count)
		return false;
	for (unsigned i = 0; i < c->seg_count; i++) {
		const struct seg *s = &c->segs[i];
		struct strv v = p->segs[i];
		int64_t id;
		if (s->kind == SEG_LITERAL) {
			if (!strv_eq(v, s->text))
				return false;
		} else if (v.len == 0) {
			return false;
		} else if (s->kind == SEG_ID && !parse_id(v, &id) && *bad_r < 0) {
			*bad_r = (int)i;
		}
	}
	return *bad_r < 0;
}

/* 0: c does not answer method; 2 the same method; 1 a GET route answering HEAD (an explicit
   HEAD route wins over it). */
static int method_score(const struct compiled *c, struct strv method)
{
	if (strv_eq(method, c->method))
		return 2;
	return c->get && strv_eq_cstr(method, "HEAD") ? 1 : 0;
}

/* Greater is more specific: any whole-path pattern over any prefix, then by rank or length. */
static uint64_t score(const struct compiled *c, int method_score)
{
	uint64_t s = c->prefix ? c->text.len : (1ull << 40) | c->rank;
	return s << 2 | (uint64_t)method_score;
}

static void fill_params(const struct compiled *c, const struct path_segs *p,
                        struct http_route_lookup *l)
{
	l->param_count = 0;
	for (unsigned i = 0; i < c->seg_count; i++) {
		const struct seg *s = &c->segs[i];
		if (s->kind == SEG_LITERAL)
			continue;
		struct http_route_param *param = &l->params[l->param_count++];
		param->name = s->text.ptr;
		param->value = p->segs[i];
		param->id = 0;
		if (s->kind == SEG_ID)
			(void)parse_id(p->segs[i], &param->id);
	}
}

/* The most specific route of bucket b that takes method and path. */
static void scan(const struct http_router *router, size_t b, struct strv method, struct strv path,
                 const struct path_segs *p, const struct compiled **best_r, uint64_t *score_r)
{
	for (size_t i = router->first[b]; i < router->first[b + 1]; i++) {
		const struct compiled *c = router->by_bucket[i];
		int ms = method_score(c, method), bad;
		if (ms > 0 && path_matches(c, path, p, &bad) &&
		    (*best_r == NULL || score(c, ms) > *score_r)) {
			*best_r = c;
			*score_r = score(c, ms);
		}
	}
}

/* No route takes the request: does one take the path, or miss only on a typed parameter? */
static void explain_miss(const struct http_router *router, struct strv path,
                         const struct path_segs *p, struct http_route_lookup *l)
{
	int bad_seg = -1;
	for (size_t i = 0; i < router->count && !l->path_found; i++) {
		const struct compiled *c = &router->routes[i];
		int bad;
		if (path_matches(c, path, p, &bad))
			l->path_found = true;
		else if (bad >= 0 && (bad_seg < 0 || bad < bad_seg)) {
			bad_seg = bad;
			l->bad_param = c->segs[bad].text.ptr;
		}
	}
	if (l->path_found)
		l->bad_param = NULL;
}

void http_router_lookup(const struct http_router *router, struct strv method, struct strv path,
                        struct http_route_lookup *lookup_r)
{
	struct path_segs p;
	const struct compiled *best = NULL;
	uint64_t best_score = 0;

	memset(lookup_r, 0, offsetof(struct http_route_lookup, params));
	/* a literal whole path is the most specific pattern there is: only methods compete */
	for (const struct compiled *c = *literal_slot(router, path); c != NULL; c = c->same_path) {
		int ms = method_score(c, method);
		if (ms > 0 && (best == NULL || score(c, ms) > best_score)) {
			best = c;
			best_score = score(c, ms);
		}
	}
	if (best != NULL) {
		lookup_r->route = best->route;
		lookup_r->path_found = true;
		return;
	}
	split_path(path, &p);
	if (p.count >= 1 && p.count <= HTTP_ROUTER_MAX_SEGMENTS)
		scan(router, p.count, method, path, &p, &best, &best_score);
	scan(router, PREFIX_BUCKET, method, path, &p, &best, &best_score);
	if (best == NULL) {
		explain_miss(router, path, &p, lookup_r);
		return;
	}
	lookup_r->route = best->route;
	lookup_r->path_found = true;
	fill_params(best, &p, lookup_r);
}

static bool allow_has(const struct buf *allow, struct strv method)
{
	struct strv rest = buf_strv(allow), item;
	while (rest.len > 0) {
		strv_split(rest, ',', &item, &rest);
		if (strv_eq(strv_trim(item), method))
			return true;
	}
	return false;
}

static void allow_add(struct buf *allow, struct strv method)
{
	if (allow_has(allow, method))
		return;
	if (allow->len > 0)
		buf_append_lit(allow, ", ");
	buf_append_strv(allow, method);
}

void http_router_allow(const struct http_router *router, struct strv path, struct buf *allow)
{
	struct path_segs p;
	int bad;

	split_path(path, &p);
	for (size_t i = 0; i < router->count; i++) {
		const struct compiled *c = &router->routes[i];
		if (!path_matches(c, path, &p, &bad))
			continue;
		allow_add(allow, c->method);
		if (c->get)
			allow_add(allow, STRV_LIT("HEAD"));
	}
}

/* --- on requests --- */

const struct http_route *http_router_find(const struct http_router *router,
                                          struct http_request *req)
{
	struct http_route_lookup l;

	if (req->router == router)
		return req->route;
	http_router_lookup(router, req->head.method, req->head.path, &l);
	req->router = router;
	req->route = l.route;
	req->param_count = l.param_count;
	req->params = NULL;
	if (l.param_count > 0) {
		struct pool *pool = http_request_pool(req);
		struct http_route_param *params = pool_alloc(pool, l.param_count * sizeof(*params));
		for (unsigned i = 0; i < l.param_count; i++) {
			params[i] = l.params[i];
			params[i].value.ptr =
			    pool_strndup(pool, l.params[i].value.ptr, l.params[i].value.len);
		}
		req->params = params;
	}
	return l.route;
}

const struct http_route *http_router_match(const struct http_router *router,
                                           struct http_request *req)
{
	const struct http_route *route = http_router_find(router, req);
	struct http_route_lookup l;
	char code[32];

	if (route != NULL)
		return route;
	http_router_lookup(router, req->head.method, req->head.path, &l);
	if (l.path_found) {
		char storage[256];
		struct buf allow;
		buf_init_fixed(&allow, storage, sizeof(storage));
		http_router_allow(router, req->head.path, &allow);
		http_response_header(req, "Allow", allow.data);
		snprintf(code, sizeof(code), "%s-0405", router->set.code_prefix);
		http_response_error(req, 405, code, router->set.not_allowed);
		return NULL;
	}
	const char *message = router->set.not_found;
	for (const struct http_router_param_message *m = router->set.param_messages;
	     l.bad_param != NULL && m != NULL && m->name != NULL; m++) {
		if (strcmp(m->name, l.bad_param) == 0)
			message = m->message;
	}
	snprintf(code, sizeof(code), "%s-0404", router->set.code_prefix);
	http_response_error(req, 404, code, message);
	return NULL;
}
