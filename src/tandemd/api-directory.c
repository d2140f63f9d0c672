/* SPDX-License-Identifier: MIT */
/* /api/v1/groups, /api/v1/resources and the global address book
   (/api/v1/contacts/directory): the caller's context directory, read-only (docs/api.md
   "Directory", "Global address book"). Provisioning (/admin/v1) changes them; a user
   changes only what they publish. */
#include "api-directory.h"

#include <string.h>

#include "api-common.h"
#include "buf.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node-access.h"
#include "node.h"
#include "routes.h"
#include "storage-gab.h"

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

/* ------------------------------------------------------------ global address book */

static void gab_failed(struct http_request *req, const struct storage_error *err)
{
	if (api_storage_context_failed(req, err))
		return;
	if (err->status == STORAGE_REFUSED) {
		bool missing = err->refusal == STORAGE_NOT_FOUND;
		api_error(req, missing ? 404 : 400, missing ? "CON-0404" : "CON-0400", "%s",
		          err->message);
		return;
	}
	if (err->status == STORAGE_READ_ONLY) {
		api_error(req, 503, API_CODE_READ_ONLY, "publishing refused: %s", err->message);
		return;
	}
	bool unavailable = err->status == STORAGE_UNAVAILABLE;
	log_error("contacts", "%s: %s", err->what != NULL ? err->what : "address book",
	          err->message);
	api_error(req, unavailable ? 503 : 500, unavailable ? "CON-0503" : "CON-0500",
	          "the address book failed: the database is %s",
	          unavailable ? "unavailable" : "in error");
}

/* The caller with the contacts module, as a storage user; NULL after answering. */
static struct storage_user *gab_caller(struct node *node, struct http_request *req)
{
	struct api_user user;
	if (!api_auth(node, req, &user) || !api_module_check(node, req, &user, MODULE_CONTACTS))
		return NULL;
	return storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
}

/* match=prefix|substring (default substring): 0, or -1 after answering 400. */
static int gab_match(struct http_request *req, enum storage_gab_match *match_r)
{
	const char *m = api_query(req, "match");
	*match_r = STORAGE_GAB_SUBSTRING;
	if (m == NULL || strcmp(m, "substring") == 0)
		return 0;
	if (strcmp(m, "prefix") == 0) {
		*match_r = STORAGE_GAB_PREFIX;
		return 0;
	}
	api_error(req, 400, "CON-0400", "\"match\" must be prefix or substring");
	return -1;
}

bool api_directory_hits(struct http_request *req, struct storage_user *su, const char *q,
                        json_t *result)
{
	struct storage_error err;
	json_t *hits;
	int64_t limit = 0;
	enum storage_gab_match match;
	if (gab_match(req, &match) < 0 || api_query_count(req, "limit", "CON-0400", &limit) < 0)
		return false;
	if (storage_gab_search(su, q, match, (size_t)limit, &hits, &err) < 0) {
		gab_failed(req, &err);
		return false;
	}
	json_object_set(result, "directory", json_object_get(hits, "entries"));
	json_object_set(result, "directory_more", json_object_get(hits, "more"));
	json_decref(hits);
	return true;
}

static void gab_search(void *ctx, struct http_request *req)
{
	struct storage_user *su = gab_caller(ctx, req);
	struct storage_error err;
	json_t *result;
	int64_t limit = 0;
	enum storage_gab_match match;
	if (su == NULL || gab_match(req, &match) < 0 ||
	    api_query_count(req, "limit", "CON-0400", &limit) < 0)
		return;
	if (storage_gab_search(su, api_query(req, "q"), match, (size_t)limit, &result, &err) < 0) {
		gab_failed(req, &err);
		return;
	}
	http_response_json(req, 200, result);
}

static void gab_send(struct http_request *req, const struct storage_gab_entry *e)
{
	struct pool *pool = http_request_pool(req);
	const char *card = storage_gab_vcard(pool, e);
	http_response_headerf(req, "ETag", "\"%s\"", storage_gab_vcard_etag(pool, card));
	const char *f = api_query(req, "format");
	if (f == NULL || strcmp(f, "vcf") != 0) {
		http_response_json(req, 200, storage_gab_json(pool, e));
		return;
	}
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", "text/vcard; charset=utf-8");
	buf_append_str(http_response_body(req), card);
	http_response_send(req);
}

static void gab_entry(struct http_request *req, struct storage_user *su, int64_t uid)
{
	struct storage_gab_entry e;
	struct storage_error err;
	if (storage_gab_get(su, uid, &e, &err) < 0) {
		gab_failed(req, &err);
		return;
	}
	gab_send(req, &e);
}

static void gab_get(void *ctx, struct http_request *req)
{
	struct storage_user *su = gab_caller(ctx, req);
	if (su != NULL)
		gab_entry(req, su, http_request_param_id(req, "uid"));
}

static void gab_me(void *ctx, struct http_request *req)
{
	struct storage_user *su = gab_caller(ctx, req);
	if (su != NULL)
		gab_entry(req, su, storage_user_uid(su));
}

/* {"phone": "…", "org": "…"} (either; "" or null removes it): what the caller publishes. */
static void gab_publish(void *ctx, struct http_request *req)
{
	struct storage_user *su = gab_caller(ctx, req);
	struct storage_error err;
	if (su == NULL)
		return;
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	const char *key, *v[2] = {NULL, NULL};
	json_t *val;
	json_object_foreach(body, key, val)
	{
		int i = strcmp(key, "phone") == 0 ? 0 : strcmp(key, "org") == 0 ? 1 : -1;
		if (i < 0 || !(json_is_string(val) || json_is_null(val))) {
			api_error(req, 400, "CON-0400",
			          i < 0 ? "unknown member \"%.60s\" (phone and org are published)"
			                : "\"%.60s\" must be a string or null",
			          key);
			goto out;
		}
		v[i] = json_is_null(val) ? "" : json_string_value(val);
	}
	if (storage_gab_publish(su, v[0], v[1], &err) < 0) {
		gab_failed(req, &err);
		goto out;
	}
	gab_entry(req, su, storage_user_uid(su));
out:
	json_decref(body);
}

static void gab_read_only(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user))
		return;
	api_error(req, 405, "CON-0405",
	          "the global address book is read-only: provisioning changes its users (a user "
	          "changes what they publish with PUT /api/v1/contacts/directory/me)");
}

const struct http_route api_directory_routes[] = {
    {"GET", "/api/v1/groups", groups_get, 0, NULL},
    {"GET", "/api/v1/resources", resources_get, 0, NULL},
    {"GET", "/api/v1/contacts/directory", gab_search, 0, NULL},
    {"POST", "/api/v1/contacts/directory", gab_read_only, 0, NULL},
    {"GET", "/api/v1/contacts/directory/me", gab_me, 0, NULL},
    {"PUT", "/api/v1/contacts/directory/me", gab_publish, 0, NULL},
    {"GET", "/api/v1/contacts/directory/{uid:id}", gab_get, 0, NULL},
    {"PUT", "/api/v1/contacts/directory/{uid:id}", gab_read_only, 0, NULL},
    {"DELETE", "/api/v1/contacts/directory/{uid:id}", gab_read_only, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
