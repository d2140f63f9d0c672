/* SPDX-License-Identifier: MIT */
/* /api/v1/groups and /api/v1/resources: the caller's context directory, read-only
   (docs/api.md "Directory"). Provisioning (/admin/v1) changes them. */
#include "api-common.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "routes.h"

/* Answers the listing, or the provisioning error as API-<status>. */
static void reply(struct http_request *req, json_t *value, const struct prov_error *err)
{
	if (value != NULL) {
		http_response_json(req, 200, value);
		return;
	}
	int status = err->status == PROV_NOT_FOUND                                      ? 404
	             : err->status == PROV_UNAVAILABLE || err->status == PROV_READ_ONLY ? 503
	                                                                                : 500;
	if (status == 500)
		log_error("api", "directory: %s", err->message);
	api_error(req, status,
	          status == 404   ? "API-0404"
	          : status == 503 ? "API-0503"
	                          : "API-0500",
	          "%s", err->message);
}

static void directory_list(void *ctx, struct http_request *req, bool groups)
{
	struct node *node = ctx;
	struct api_user user;
	struct prov_error err = {0};
	if (!api_auth(node, req, &user))
		return;
	struct provision *prov = node_provision(node, &err);
	if (prov == NULL) {
		reply(req, NULL, &err);
		return;
	}
	reply(req,
	      groups ? provision_list_groups(prov, user.cid, false, &err)
	             : provision_list_resources(prov, user.cid, &err),
	      &err);
}

static void groups_get(void *ctx, struct http_request *req)
{
	directory_list(ctx, req, true);
}

static void resources_get(void *ctx, struct http_request *req)
{
	directory_list(ctx, req, false);
}

const struct http_route api_directory_routes[] = {
    {"GET", "/api/v1/groups", groups_get, 0, NULL},
    {"GET", "/api/v1/resources", resources_get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
