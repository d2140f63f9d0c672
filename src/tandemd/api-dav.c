/* SPDX-License-Identifier: MIT */
/* /dav/: WebDAV over the file folders (docs/webdav.md, docs/internals/dav.md "Files over
   WebDAV"): authentication (dav-auth.c), the request path decoded and mapped (api-dav-map.c),
   then the method's handler. RFC 6764's well-known addresses point clients at /dav/. */
#include <string.h>

#include "api-caldav.h"
#include "api-carddav.h"
#include "api-dav.h"
#include "dav-auth.h"
#include "http-forwarded.h"
#include "http-server.h"
#include "node.h"
#include "pool.h"
#include "node-access.h"
#include "routes.h"

static void options_send(struct http_request *req, const char *allow)
{
	http_response_status(req, 200);
	http_response_header(req, "DAV", "1, 2");
	http_response_header(req, "MS-Author-Via", "DAV");
	http_response_header(req, "Allow", allow);
	http_response_send(req);
}

static void options(struct dav_req *dr)
{
	options_send(dr->req, DAV_ALLOW_COLLECTION);
}

/* Windows' WebClient and macOS' Finder probe the server's root and the mount's root with
   OPTIONS, without credentials, before they log in: both say what the server speaks and reveal
   nothing about anyone's files (docs/webdav.md "Connecting"). */
static void options_root(void *ctx, struct http_request *req)
{
	(void)ctx;
	options_send(req, "OPTIONS, GET, HEAD");
}

static bool is_dav_root(struct strv path)
{
	return strv_eq_cstr(path, "/dav") || strv_eq_cstr(path, "/dav/");
}

static void body_cleanup(void *ctx)
{
	struct dav_body *body = ctx;
	buf_free(&body->buf);
}

static int keep_body(void *ctx, const char *data, size_t len)
{
	struct dav_body *body = ctx;
	if (body->buf.len + len > body->max) {
		body->too_large = true;
		return -1;
	}
	buf_append(&body->buf, data, len);
	return 0;
}

/* Loop thread, when the head has arrived: a body is never taken into memory whole, whatever
   [http] max_body allows: XML bodies up to DAV_XML_MAX_SIZE, a PUT as a stream. */
static void dav_head(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct pool *pool = http_request_pool(req);
	struct dav_body *body = pool_calloc(pool, 1, sizeof(*body));
	body->max = DAV_XML_MAX_SIZE;
	http_request_set_context(req, body);
	/* CalDAV objects and vCards are kept in memory (at most 1 MiB) */
	if (strv_eq_cstr(http_request_head(req)->method, "PUT") &&
	    !caldav_path_target(http_request_head(req)->target) &&
	    !carddav_path_target(http_request_head(req)->target) && dav_put_head(node, req, body))
		return;
	buf_init(&body->buf, body->max);
	pool_add_cleanup(pool, body_cleanup, body);
	http_request_set_body_sink(req, keep_body, body);
}

struct strv dav_body(struct dav_req *dr)
{
	return buf_strv(&dr->body->buf);
}

static void dav(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct pool *pool = http_request_pool(req);
	struct dav_req *dr = pool_calloc(pool, 1, sizeof(*dr));
	struct dav_body *body = http_request_get_context(req);
	if (strv_eq_cstr(http_request_head(req)->method, "OPTIONS") &&
	    is_dav_root(http_request_head(req)->path)) {
		options_send(req, DAV_ALLOW_COLLECTION);
		return;
	}
	if (body != NULL && body->authed)
		dr->user = body->user; /* a PUT's head step checked it */
	else if (!dav_auth_check(node, req, &dr->user))
		return;
	/* /dav/calendars/ is CalDAV's, /dav/addressbooks/ CardDAV's; the discovery on the way
	   there is any of them's */
	enum access_module mods[] = {MODULE_WEBDAV, MODULE_CALDAV, MODULE_CARDDAV};
	size_t nmods = 1;
	if (caldav_path_target(http_request_head(req)->target))
		mods[0] = MODULE_CALDAV;
	else if (carddav_path_target(http_request_head(req)->target))
		mods[0] = MODULE_CARDDAV;
	else if (caldav_discovery_target(http_request_head(req), dr->user.login))
		nmods = 3;
	if (!api_module_check_any(node, req, &dr->user, mods, nmods))
		return;
	dr->body = body;
	if (dr->body == NULL) {
		api_error(req, 500, "DAV-0500", "the request body was not prepared");
		return;
	}
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
	/* the target as received: the path node.c routed by has lost its last segment's
	   ";params" (balancer steering), but "a;b.txt" is a file name here */
	if (dav_uri_to_path(pool, head->target, &dr->origin, &dr->path, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	dr->su = storage_user_create(node->storage, pool, dr->user.cid, dr->user.uid);
	struct strv m = head->method;
	if (dr->body->too_large && !strv_eq_cstr(m, "PUT")) {
		dav_fail(dr, 413, NULL, "DAV-0413", "the request body is larger than %u bytes",
		         (unsigned)DAV_XML_MAX_SIZE);
		return;
	}
	if (carddav_path(dr->path))
		carddav_dispatch(dr); /* /dav/addressbooks/ */
	else if (caldav_handles(dr))
		caldav_dispatch(dr); /* /dav/calendars/, and the principal's PROPFIND */
	else if (strv_eq_cstr(m, "OPTIONS"))
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
	else if (strv_eq_cstr(m, "COPY") || strv_eq_cstr(m, "MOVE"))
		dav_copymove(dr, strv_eq_cstr(m, "MOVE"));
	else if (strv_eq_cstr(m, "PROPPATCH"))
		dav_proppatch(dr);
	else if (strv_eq_cstr(m, "LOCK"))
		dav_lock(dr);
	else if (strv_eq_cstr(m, "UNLOCK"))
		dav_unlock(dr);
	else if (strv_eq_cstr(m, "POST")) /* only CalDAV's schedule outbox takes it */
		dav_fail(dr, 405, NULL, "DAV-0405", "POST is not allowed on %s", dr->path);
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
		m, "/dav/", dav, HTTP_ROUTE_PREFIX, dav_head                                       \
	}

const struct http_route api_dav_routes[] = {
    {"OPTIONS", "/", options_root, ROUTE_INLINE, NULL},
    {"GET", "/.well-known/caldav", well_known, ROUTE_INLINE, NULL},
    {"PROPFIND", "/.well-known/caldav", well_known, ROUTE_INLINE, NULL},
    {"GET", "/.well-known/carddav", well_known, ROUTE_INLINE, NULL},
    {"PROPFIND", "/.well-known/carddav", well_known, ROUTE_INLINE, NULL},
    DAV_ROUTE("OPTIONS"),
    DAV_ROUTE("GET"),
    DAV_ROUTE("PUT"),
    DAV_ROUTE("DELETE"),
    DAV_ROUTE("PROPFIND"),
    DAV_ROUTE("PROPPATCH"),
    DAV_ROUTE("MKCOL"),
    DAV_ROUTE("COPY"),
    DAV_ROUTE("MOVE"),
    DAV_ROUTE("LOCK"),
    DAV_ROUTE("UNLOCK"),
    DAV_ROUTE("REPORT"),
    DAV_ROUTE("MKCALENDAR"),
    DAV_ROUTE("POST"), /* CalDAV's schedule outbox */
    {NULL, NULL, NULL, 0, NULL},
};
