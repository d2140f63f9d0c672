/* SPDX-License-Identifier: MIT */
/* /dav/: WebDAV over the file folders (docs/webdav.md, docs/internals/dav.md "Files over
   WebDAV"): authentication (dav-auth.c), the request path decoded and mapped (api-dav-map.c),
   then the method's handler. RFC 6764's well-known addresses point clients at /dav/. */
#include <string.h>

#include "api-dav.h"
#include "dav-auth.h"
#include "http-forwarded.h"
#include "http-server.h"
#include "node.h"
#include "pool.h"
#include "routes.h"

static void options(struct dav_req *dr)
{
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "DAV", "1, 2");
	http_response_header(dr->req, "MS-Author-Via", "DAV");
	http_response_header(dr->req, "Allow", DAV_ALLOW_COLLECTION);
	http_response_send(dr->req);
}

static void dav(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct pool *pool = http_request_pool(req);
	struct dav_req *dr = pool_calloc(pool, 1, sizeof(*dr));
	if (!dav_auth_check(node, req, &dr->user))
		return;
	const struct http_request_head *head = http_request_head(req);
	dr->node = node;
	dr->req = req;
	dr->pool = pool;
	dr->origin.scheme =
	    http_request_is_tls(req) || http_request_forwarded_https(req, node->cfg.trusted_proxies,
	                                                             node->cfg.trusted_proxy_count)
	        ? "https"
	        : "http";
	dr->origin.host = head->host;
	int status;
	const char *error;
	if (dav_uri_to_path(pool, head->path, &dr->origin, &dr->path, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	dr->su = storage_user_create(node->storage, pool, dr->user.cid, dr->user.uid);
	struct strv m = head->method;
	if (strv_eq_cstr(m, "OPTIONS"))
		options(dr);
	else if (strv_eq_cstr(m, "PROPFIND"))
		dav_propfind(dr);
	else if (strv_eq_cstr(m, "GET") || strv_eq_cstr(m, "HEAD"))
		dav_get(dr);
	else if (strv_eq_cstr(m, "DELETE"))
		dav_delete(dr);
	else if (strv_eq_cstr(m, "MKCOL"))
		dav_mkcol(dr);
	else if (strv_eq_cstr(m, "PUT"))
		dav_put(dr);
	else
		dav_fail(dr, 501, NULL, "DAV-0501", "%.*s is not served by this version yet",
		         (int)m.len, m.ptr);
}

static void well_known(void *ctx, struct http_request *req)
{
	(void)ctx;
	http_response_status(req, 301);
	http_response_header(req, "Location", "/dav/");
	http_response_send(req);
}

/* Every method a DAV client sends goes to dav(); the router answers the rest with 405. */
#define DAV_ROUTE(m)                                                                               \
	{                                                                                          \
		m, "/dav/", dav, HTTP_ROUTE_PREFIX, NULL                                           \
	}

const struct http_route api_dav_routes[] = {
    {"GET", "/.well-known/caldav", well_known, ROUTE_INLINE, NULL},
    {"PROPFIND", "/.well-known/caldav", well_known, ROUTE_INLINE, NULL},
    {"GET", "/.well-known/carddav", well_known, ROUTE_INLINE, NULL},
    {"PROPFIND", "/.well-known/carddav", well_known, ROUTE_INLINE, NULL},
    DAV_ROUTE("OPTIONS"),
    DAV_ROUTE("GET"),
    {"PUT", "/dav/", dav, HTTP_ROUTE_PREFIX, dav_put_head},
    DAV_ROUTE("DELETE"),
    DAV_ROUTE("PROPFIND"),
    DAV_ROUTE("PROPPATCH"),
    DAV_ROUTE("MKCOL"),
    DAV_ROUTE("COPY"),
    DAV_ROUTE("MOVE"),
    DAV_ROUTE("LOCK"),
    DAV_ROUTE("UNLOCK"),
    {NULL, NULL, NULL, 0, NULL},
};
