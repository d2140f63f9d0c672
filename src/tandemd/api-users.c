/* SPDX-License-Identifier: MIT */
/* The users of my context as the groupware needs them (GET /api/v1/users?q=, GET
   /api/v1/users/{uid}: id, login, display name; read-only), and my own password (POST
   /api/v1/password). Both go through provisioning, whose change hook ends the sessions. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api-common.h"
#include "api-session.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "provision.h"
#include "routes.h"

#define USERS_SEARCH_MAX 50 /* matches answered at most */

/* Answers a provisioning failure with code prefix (USR, PWD) and the status it implies. */
static void prov_failed(struct http_request *req, const char *prefix, const struct prov_error *err)
{
	int status = err->status == PROV_INVALID                                        ? 400
	             : err->status == PROV_NOT_FOUND                                    ? 404
	             : err->status == PROV_FORBIDDEN                                    ? 403
	             : err->status == PROV_UNAVAILABLE || err->status == PROV_READ_ONLY ? 503
	                                                                                : 500;
	char code[16];
	if (err->status == PROV_READ_ONLY) {
		api_error(req, 503, API_CODE_READ_ONLY, "%s", err->message);
		return;
	}
	if (status == 500)
		log_error("api", "%s", err->message);
	snprintf(code, sizeof(code), "%s-%04d", prefix, status);
	api_error(req, status, code, "%s", err->message);
}

/* What a user of the context may see of another: the e-mail (what invitations are addressed
   to, docs/calendar.md "Scheduling") but no flags. */
static json_t *public_user(json_t *u)
{
	return json_pack("{sOsOsOsO?}", "id", json_object_get(u, "id"), "login",
	                 json_object_get(u, "login"), "display_name",
	                 json_object_get(u, "display_name"), "email", json_object_get(u, "email"));
}

static bool contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	if (haystack == NULL)
		return false;
	for (const char *p = haystack; *p != '\0'; p++) {
		if (strncasecmp(p, needle, n) == 0)
			return true;
	}
	return false;
}

static struct provision *caller(struct node *node, struct http_request *req,
                                struct api_user *user_r)
{
	struct prov_error err;
	if (!api_auth(node, req, user_r))
		return NULL;
	struct provision *prov = node_provision(node, &err);
	if (prov == NULL)
		api_error(req, 503, "USR-0503", "%s", err.message);
	return prov;
}

static void users_search(void *ctx, struct http_request *req)
{
	struct api_user user;
	struct prov_error err;
	struct provision *prov = caller(ctx, req, &user);
	if (prov == NULL)
		return;
	const char *q = api_query(req, "q");
	if (q == NULL || q[0] == '\0' || strlen(q) > 128) {
		api_error(req, 400, "USR-0400", "query parameter \"q\" must be 1-128 characters");
		return;
	}
	json_t *all = provision_list_users(prov, user.cid, &err);
	if (all == NULL) {
		prov_failed(req, "USR", &err);
		return;
	}
	json_t *found = json_array();
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(all, "users"), i, u)
	{
		if (json_array_size(found) == USERS_SEARCH_MAX)
			break;
		if (json_is_false(json_object_get(u, "enabled")))
			continue;
		if (contains_ci(json_string_value(json_object_get(u, "login")), q) ||
		    contains_ci(json_string_value(json_object_get(u, "display_name")), q))
			json_array_append_new(found, public_user(u));
	}
	json_decref(all);
	http_response_json(req, 200, json_pack("{so}", "users", found));
}

static void users_get(void *ctx, struct http_request *req)
{
	struct api_user user;
	struct prov_error err;
	struct provision *prov = caller(ctx, req, &user);
	if (prov == NULL)
		return;
	json_t *u = provision_get_user(prov, user.cid, http_request_param_id(req, "uid"), &err);
	if (u == NULL) {
		prov_failed(req, "USR", &err);
		return;
	}
	http_response_json(req, 200, public_user(u));
	json_decref(u);
}

/* {"current": "…", "password": "…"}: the current password is checked like a login (and
   throttled like one), then provisioning sets the new one; its change hook ends every
   session of the user, this one too (docs/security.md). */
static void password_change(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct prov_error err;
	struct provision *prov = caller(node, req, &user);
	if (prov == NULL)
		return;
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	const char *current = json_string_value(json_object_get(body, "current"));
	const char *password = json_string_value(json_object_get(body, "password"));
	if (current == NULL || password == NULL) {
		api_error(req, 400, "PWD-0400",
		          "fields \"current\" and \"password\" are required strings");
		goto out;
	}
	char login[200];
	struct api_login who;
	snprintf(login, sizeof(login), "%s@%lld", user.login, (long long)user.cid);
	if (!api_session_check_password(node, req, login, current, NULL, &who))
		goto out;
	if (who.uid != user.uid) {
		api_error(req, 409, "PWD-0409", "the account changed; log in again");
		goto out;
	}
	struct prov_user_change ch = {.password = password, .enabled = -1};
	json_t *changed = provision_change_user(prov, user.cid, user.uid, &ch, &err);
	if (changed == NULL) {
		prov_failed(req, "PWD", &err);
		goto out;
	}
	json_decref(changed);
	log_info("session", "user %lld of context %lld changed their password", (long long)user.uid,
	         (long long)user.cid);
	http_response_json(req, 200, json_pack("{sb}", "changed", 1));
out:
	json_decref(body);
}

const struct http_route api_user_routes[] = {
    {"GET", "/api/v1/users", users_search, 0, NULL},
    {"GET", "/api/v1/users/{uid:id}", users_get, 0, NULL},
    {"POST", "/api/v1/password", password_change, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
