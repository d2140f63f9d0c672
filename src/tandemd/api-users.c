/* SPDX-License-Identifier: MIT */
/* The users of my context as the groupware needs them (GET /api/v1/users?q=, GET
   /api/v1/users/{uid}: id, login, display name; read-only), and my own password (POST
   /api/v1/password). The search reads the global address book (storage-gab.h); the rest
   goes through provisioning, whose change hook ends the sessions. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api-common.h"
#include "api-session.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "provision.h"
#include "routes.h"
#include "storage-gab.h"

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

static bool add_user(const struct storage_gab_entry *e, void *ctx)
{
	json_t *found = ctx;
	json_array_append_new(found, json_pack("{sIssssss?}", "id", (json_int_t)e->uid, "login",
	                                       e->login, "display_name", e->display_name, "email",
	                                       e->email[0] != '\0' ? e->email : NULL));
	return json_array_size(found) < USERS_SEARCH_MAX;
}

/* The enabled users whose login, names or e-mail contain q, from the global address book's
   snapshot (storage-gab.h): it scales to large contexts where listing them all did not. */
static void users_search(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct storage_error err;
	int64_t revision;
	if (!api_auth(node, req, &user))
		return;
	const char *q = api_query(req, "q");
	if (q == NULL || q[0] == '\0' || strlen(q) > 128) {
		api_error(req, 400, "USR-0400", "query parameter \"q\" must be 1-128 characters");
		return;
	}
	struct storage_user *su =
	    storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
	json_t *found = json_array();
	if (storage_gab_each(su, q, STORAGE_GAB_SUBSTRING, add_user, found, &revision, &err) < 0) {
		json_decref(found);
		if (api_storage_context_failed(req, &err))
			return;
		if (err.status == STORAGE_REFUSED) {
			api_error(req, 400, "USR-0400", "%s", err.message);
			return;
		}
		bool unavailable = err.status == STORAGE_UNAVAILABLE;
		log_error("api", "user search: %s", err.message);
		api_error(req, unavailable ? 503 : 500, unavailable ? "USR-0503" : "USR-0500",
		          "user search failed: %s", err.message);
		return;
	}
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
	if (node->cfg.auth_imap) {
		api_error(req, 409, "PWD-0409",
		          "passwords are the mail system's here ([auth] method = imap): change it "
		          "there");
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
