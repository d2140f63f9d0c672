/* SPDX-License-Identifier: MIT */
/* /dav/: WebDAV (docs/webdav.md). Authentication is in place (dav-auth.c); the methods come
   with the DAV core (docs/internals/dav.md): until then an authenticated request is told
   they are not served yet. RFC 6764's well-known addresses point clients at /dav/. */
#include <string.h>

#include "api-common.h"
#include "dav-auth.h"
#include "http-server.h"
#include "node-access.h"
#include "routes.h"

static void dav(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!dav_auth_check(node, req, &user) || !api_module_check(node, req, &user, MODULE_WEBDAV))
		return;
	if (strv_eq_cstr(http_request_head(req)->method, "OPTIONS")) {
		http_response_status(req, 200);
		http_response_header(req, "Allow", "OPTIONS");
		http_response_send(req);
		return;
	}
	api_error(req, 501, "DAV-0501", "WebDAV methods are not served by this version yet");
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
    DAV_ROUTE("PUT"),
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
