/* SPDX-License-Identifier: MIT */
/* Linear route table lookup: the table is short and the path compare is cheap. */
#include "router.h"

#include <string.h>

#include "buf.h"
#include "http-server.h"

static bool path_matches(const struct route *r, struct strv path)
{
	struct strv want = strv_from_cstr(r->path);
	if (r->flags & ROUTE_PREFIX)
		return strv_starts_with(path, want);
	return strv_eq(path, want);
}

static bool method_matches(const struct route *r, struct strv method)
{
	if (strv_eq_cstr(method, r->method))
		return true;
	return strv_eq_cstr(method, "HEAD") && strcmp(r->method, "GET") == 0;
}

const struct route *router_find(const struct route *const *tables, struct http_request *req)
{
	const struct http_request_head *head = http_request_head(req);
	for (size_t t = 0; tables[t] != NULL; t++) {
		for (const struct route *r = tables[t]; r->method != NULL; r++) {
			if (path_matches(r, head->path) && method_matches(r, head->method))
				return r;
		}
	}
	return NULL;
}

const struct route *router_match(const struct route *const *tables, struct http_request *req)
{
	const struct route *found = router_find(tables, req);
	if (found != NULL)
		return found;

	const struct http_request_head *head = http_request_head(req);
	char allow[256];
	struct buf allowed;
	bool path_found = false;
	buf_init_fixed(&allowed, allow, sizeof(allow));
	for (size_t t = 0; tables[t] != NULL; t++) {
		for (const struct route *r = tables[t]; r->method != NULL; r++) {
			if (!path_matches(r, head->path))
				continue;
			path_found = true;
			if (allowed.len > 0)
				buf_append_str(&allowed, ", ");
			buf_append_str(&allowed, r->method);
			if (strcmp(r->method, "GET") == 0)
				buf_append_str(&allowed, ", HEAD");
		}
	}
	if (path_found) {
		http_response_header(req, "Allow", allowed.data);
		http_response_error(req, 405, "HTTP-0405", "method not allowed for this resource");
	} else {
		http_response_error(req, 404, "HTTP-0404", "no such resource");
	}
	return NULL;
}
