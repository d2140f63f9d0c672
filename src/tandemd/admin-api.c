/* SPDX-License-Identifier: MIT */
/* /admin/v1/…: the provisioning API (docs/admin-api.md) over lib-provision, on a worker: its
   route table, and who may make each call. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admin-auth.h"
#include "api-common.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node-access.h"
#include "node.h"
#include "pool.h"
#include "provision.h"
#include "routes.h"

#define MAX_BATCH 1000

struct call {
	struct node *node;
	struct http_request *req;
	struct provision *prov;
	int64_t cid;  /* {cid} of the path, 0 without */
	json_t *body; /* NULL for a GET or DELETE without a body; the request's pool frees it */
};

static void reply_error(struct http_request *req, int status, const char *message)
{
	char code[16];
	snprintf(code, sizeof(code), "ADM-%04d", status);
	http_response_error(req, status, code, message);
}

static int status_of(enum prov_status s)
{
	switch (s) {
	case PROV_OK:
		return 200;
	case PROV_INVALID:
		return 400;
	case PROV_NOT_FOUND:
		return 404;
	case PROV_CONFLICT:
		return 409;
	case PROV_UNPLACEABLE:
		return 422;
	case PROV_FORBIDDEN:
		return 403;
	case PROV_UNAVAILABLE:
	case PROV_READ_ONLY:
		return 503;
	case PROV_INTERNAL:
		break;
	}
	return 500;
}

/* Answers with value (201/200) or the provisioning error. */
static void reply_result(struct call *c, int ok_status, json_t *value, const struct prov_error *err)
{
	if (value != NULL) {
		http_response_json(c->req, ok_status, value);
		return;
	}
	int status = status_of(err->status);
	if (status >= 500)
		log_error("admin", "%s", err->message);
	if (err->status == PROV_READ_ONLY)
		http_response_error(c->req, status, API_CODE_READ_ONLY, err->message);
	else
		reply_error(c->req, status, err->message);
}

/* --- body field access: each returns false after answering 400 naming the field --- */

static bool get_string(struct call *c, json_t *obj, const char *key, bool required,
                       const char **value_r)
{
	json_t *v = json_object_get(obj, key);
	*value_r = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return true;
		char msg[96];
		snprintf(msg, sizeof(msg), "field \"%s\" is required", key);
		reply_error(c->req, 400, msg);
		return false;
	}
	if (!json_is_string(v)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "field \"%s\" must be a string", key);
		reply_error(c->req, 400, msg);
		return false;
	}
	*value_r = json_string_value(v);
	return true;
}

static bool get_int(struct call *c, json_t *obj, const char *key, bool required, int64_t def,
                    int64_t *value_r)
{
	json_t *v = json_object_get(obj, key);
	*value_r = def;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return true;
		char msg[96];
		snprintf(msg, sizeof(msg), "field \"%s\" is required", key);
		reply_error(c->req, 400, msg);
		return false;
	}
	if (!json_is_integer(v)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "field \"%s\" must be an integer", key);
		reply_error(c->req, 400, msg);
		return false;
	}
	*value_r = json_integer_value(v);
	return true;
}

static bool get_string_list(struct call *c, json_t *obj, const char *key, size_t max,
                            const char ***list_r, size_t *count_r)
{
	json_t *v = json_object_get(obj, key);
	*list_r = NULL;
	*count_r = 0;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > max) {
		char msg[120];
		snprintf(msg, sizeof(msg), "field \"%s\" must be an array of at most %zu strings",
		         key, max);
		reply_error(c->req, 400, msg);
		return false;
	}
	const char **list =
	    pool_calloc(http_request_pool(c->req), json_array_size(v) + 1, sizeof(*list));
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *item = json_array_get(v, i);
		if (!json_is_string(item)) {
			char msg[96];
			snprintf(msg, sizeof(msg), "field \"%s\" must hold only strings", key);
			reply_error(c->req, 400, msg);
			return false;
		}
		list[i] = json_string_value(item);
	}
	*list_r = list;
	*count_r = json_array_size(v);
	return true;
}

/* The optional "access_combination": NULL, or a combination this node defines ("" too when
   empty is allowed: back to the context's default); false after answering 400. */
static bool get_access(struct call *c, json_t *obj, bool empty_ok, const char **name_r)
{
	if (!get_string(c, obj, "access_combination", false, name_r))
		return false;
	if (*name_r == NULL || (empty_ok && (*name_r)[0] == '\0'))
		return true;
	const char *problem = node_access_unknown(c->node, *name_r);
	if (problem != NULL)
		reply_error(c->req, 400, problem);
	return problem == NULL;
}

static bool get_user(struct call *c, json_t *obj, struct prov_user *u)
{
	if (!json_is_object(obj)) {
		reply_error(c->req, 400, "a user must be a JSON object");
		return false;
	}
	return get_access(c, obj, false, &u->access_combination) &&
	       get_string(c, obj, "login", true, &u->login) &&
	       get_string(c, obj, "display_name", true, &u->display_name) &&
	       get_string(c, obj, "given_name", true, &u->given_name) &&
	       get_string(c, obj, "sur_name", true, &u->sur_name) &&
	       get_string(c, obj, "email", true, &u->email) &&
	       get_string(c, obj, "password", false, &u->password) &&
	       get_string(c, obj, "password_hash", false, &u->password_hash) &&
	       get_string(c, obj, "imap_server", false, &u->imap_server) &&
	       get_string(c, obj, "smtp_server", false, &u->smtp_server) &&
	       get_string(c, obj, "imap_login", false, &u->imap_login);
}

/* --- every call: the configdb, the body, then who may make it --- */

static void body_free(void *ctx)
{
	json_decref(ctx);
}

static bool parse_body(struct call *c)
{
	struct strv body = http_request_body(c->req);
	struct strv method = http_request_head(c->req)->method;
	if (body.len > 0) {
		json_error_t jerr;
		c->body = json_loadb(body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (c->body == NULL || !json_is_object(c->body)) {
			char msg[240];
			snprintf(msg, sizeof(msg), "request body is not a JSON object: %s",
			         c->body == NULL ? jerr.text : "wrong type");
			json_decref(c->body);
			c->body = NULL;
			reply_error(c->req, 400, msg);
			return false;
		}
	} else if (strv_eq_cstr(method, "POST") || strv_eq_cstr(method, "PATCH")) {
		c->body = json_object();
	}
	if (c->body != NULL)
		pool_add_cleanup(http_request_pool(c->req), body_free, c->body);
	return true;
}

static bool get_bool(struct call *c, json_t *obj, const char *key, int *value_r)
{
	json_t *v = json_object_get(obj, key);
	*value_r = -1;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_boolean(v)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "field \"%s\" must be true or false", key);
		reply_error(c->req, 400, msg);
		return false;
	}
	*value_r = json_is_true(v) ? 1 : 0;
	return true;
}

/* A context admin may manage the users of their own context (the routes marked
   ROUTE_CONTEXT_ADMIN); all else is the master's. The context in the path also recognises
   its admin on the master's calls there, to answer 403 rather than call right credentials
   wrong. */
static bool authorise(struct call *c)
{
	bool users = (http_request_route(c->req)->flags & ROUTE_CONTEXT_ADMIN) != 0;
	char needs[200];
	if (users)
		snprintf(needs, sizeof(needs),
		         "this call needs the master admin or the admin of context %lld",
		         (long long)c->cid);
	else
		snprintf(needs, sizeof(needs),
		         "this call needs the master admin (a context admin may only manage the "
		         "users, groups and resources of their context: "
		         "/admin/v1/contexts/{cid}/users…)");
	enum admin_identity who =
	    admin_auth_check(c->node->admin_auth, c->prov, c->req, c->cid, needs);
	if (who == ADMIN_NONE)
		return false;
	if (who == ADMIN_CONTEXT && !users) {
		char msg[200];
		snprintf(msg, sizeof(msg),
		         "the admin of context %lld may only manage its users, groups and "
		         "resources (/admin/v1/contexts/%lld/users…); this call needs the master "
		         "admin",
		         (long long)c->cid, (long long)c->cid);
		reply_error(c->req, 403, msg);
		return false;
	}
	return true;
}

/* false after answering req */
static bool begin(void *ctx, struct http_request *req, struct call *c)
{
	struct prov_error err;
	memset(c, 0, sizeof(*c));
	c->node = ctx;
	c->req = req;
	c->prov = node_provision(c->node, &err);
	if (c->prov == NULL) {
		reply_error(req, 503, err.message);
		return false;
	}
	if (http_request_param(req, "cid") != NULL)
		c->cid = http_request_param_id(req, "cid");
	return parse_body(c) && authorise(c);
}

static void reply_deleted(struct call *c, int ret, const struct prov_error *err)
{
	if (ret < 0) {
		reply_result(c, 0, NULL, err);
		return;
	}
	http_response_status(c->req, 204);
	http_response_send(c->req);
}

/* --- servers, filestores, databases --- */

static void reply_list(void *ctx, struct http_request *req,
                       json_t *list(struct provision *prov, struct prov_error *err))
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(&c, 200, list(c.prov, &err), &err);
}

static void servers_list(void *ctx, struct http_request *req)
{
	reply_list(ctx, req, provision_list_servers);
}

static void filestores_list(void *ctx, struct http_request *req)
{
	reply_list(ctx, req, provision_list_filestores);
}

static void databases_list(void *ctx, struct http_request *req)
{
	reply_list(ctx, req, provision_list_databases);
}

static void server_register(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	const char *name;
	if (!begin(ctx, req, &c) || !get_string(&c, c.body, "name", true, &name))
		return;
	reply_result(&c, 201, provision_register_server(c.prov, name, &err), &err);
}

static void filestore_register(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	const char *uri;
	int64_t size, maxctx;
	if (!begin(ctx, req, &c) || !get_string(&c, c.body, "uri", true, &uri) ||
	    !get_int(&c, c.body, "size_mb", false, 1000, &size) ||
	    !get_int(&c, c.body, "max_contexts", false, 5000, &maxctx))
		return;
	reply_result(&c, 201, provision_register_filestore(c.prov, uri, size, maxctx, &err), &err);
}

static void database_register(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	const char *name, *url;
	int64_t master, units;
	if (!begin(ctx, req, &c))
		return;
	json_t *b = c.body;
	json_t *primary = json_object_get(b, "primary");
	if (!get_string(&c, b, "name", true, &name) || !get_string(&c, b, "url", true, &url) ||
	    !get_int(&c, b, "master_id", false, -1, &master) ||
	    !get_int(&c, b, "max_units", false, 1000, &units))
		return;
	if (!json_is_boolean(primary)) {
		reply_error(req, 400, "field \"primary\" must be true or false");
		return;
	}
	reply_result(&c, 201,
	             provision_register_database(c.prov, name, url, json_is_true(primary), master,
	                                         units, &err),
	             &err);
}

/* Promotes a replica to primary (provision_promote_database). */
static void database_promote(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_promotion p = {0};
	int64_t wait;
	if (!begin(ctx, req, &c))
		return;
	json_t *b = c.body, *force = json_object_get(b, "force");
	if (!get_string(&c, b, "name", true, &p.name) ||
	    !get_string(&c, b, "replica", true, &p.replica) ||
	    !get_string(&c, b, "dbuser", false, &p.admin_user) ||
	    !get_string(&c, b, "dbpasswd", false, &p.admin_password) ||
	    !get_int(&c, b, "wait_ms", false, 5000, &wait))
		return;
	if (force != NULL && !json_is_boolean(force)) {
		reply_error(req, 400, "field \"force\" must be true or false");
		return;
	}
	if (wait < 0 || wait > 600000) {
		reply_error(req, 400, "field \"wait_ms\" must be 0-600000");
		return;
	}
	p.force = json_is_true(force);
	p.wait_ms = (unsigned)wait;
	reply_result(&c, 200, provision_promote_database(c.prov, &p, &err), &err);
}

/* --- contexts --- */

static void contexts_list(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	const char *search = NULL;
	if (!begin(ctx, req, &c))
		return;
	struct strv q = http_request_head(req)->query;
	if (strv_starts_with(q, STRV_LIT("search=")))
		search = pool_strndup(http_request_pool(req), q.ptr + 7, q.len - 7);
	reply_result(&c, 200, provision_list_contexts(c.prov, search, &err), &err);
}

static void context_create(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_context spec = {0};
	const char **maps;
	if (!begin(ctx, req, &c))
		return;
	json_t *b = c.body;
	if (!get_int(&c, b, "id", true, 0, &spec.cid) ||
	    !get_string(&c, b, "name", false, &spec.name) ||
	    !get_int(&c, b, "quota_mb", true, 0, &spec.quota_mb) ||
	    !get_string_list(&c, b, "mappings", 100, &maps, &spec.mapping_count) ||
	    !get_access(&c, b, false, &spec.access_combination))
		return;
	spec.mappings = maps;
	json_t *admin = json_object_get(b, "admin");
	if (admin == NULL) {
		reply_error(req, 400, "field \"admin\" is required");
		return;
	}
	if (!get_user(&c, admin, &spec.admin))
		return;
	reply_result(&c, 201, provision_create_context(c.prov, &spec, &err), &err);
}

static void context_get(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(&c, 200, provision_get_context(c.prov, c.cid, &err), &err);
}

static void context_change(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	const char *name;
	int64_t quota;
	const char **maps, *access;
	size_t nmaps;
	if (!begin(ctx, req, &c))
		return;
	json_t *b = c.body;
	if (!get_string(&c, b, "name", false, &name) ||
	    !get_int(&c, b, "quota_mb", false, -1, &quota) ||
	    !get_string_list(&c, b, "mappings", 100, &maps, &nmaps) ||
	    !get_access(&c, b, true, &access))
		return;
	/* absent or null: unchanged (-1); a negative number is no quota */
	if (json_is_integer(json_object_get(b, "quota_mb")) && quota < 0) {
		reply_error(req, 400, PROV_QUOTA_RANGE);
		return;
	}
	json_t *changed = provision_change_context(c.prov, c.cid, name, quota, maps, nmaps, &err);
	if (changed != NULL && access != NULL &&
	    provision_set_context_access(c.prov, c.cid, access, &err) < 0) {
		json_decref(changed);
		changed = NULL;
	}
	reply_result(&c, 200, changed, &err);
}

static void context_delete(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_deleted(&c, provision_delete_context(c.prov, c.cid, &err), &err);
}

static void context_enable(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(&c, 200,
		             provision_set_context_enabled(c.prov, c.cid, true, NULL, &err), &err);
}

static void context_disable(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	const char *reason = NULL;
	if (!begin(ctx, req, &c) || !get_string(&c, c.body, "reason", false, &reason))
		return;
	reply_result(&c, 200, provision_set_context_enabled(c.prov, c.cid, false, reason, &err),
	             &err);
}

/* --- users (the context's admin may make these calls too) --- */

static void users_list(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(&c, 200, provision_list_users(c.prov, c.cid, &err), &err);
}

static void create_users(struct call *c, bool batch)
{
	struct prov_error err = {0};
	json_t *list = batch ? json_object_get(c->body, "users") : NULL;
	if (batch && (!json_is_array(list) || json_array_size(list) == 0 ||
	              json_array_size(list) > MAX_BATCH)) {
		reply_error(c->req, 400, "field \"users\" must be an array of 1 to 1000 users");
		return;
	}
	size_t n = batch ? json_array_size(list) : 1;
	struct prov_user *users = pool_calloc(http_request_pool(c->req), n, sizeof(*users));
	for (size_t i = 0; i < n; i++) {
		if (!get_user(c, batch ? json_array_get(list, i) : c->body, &users[i]))
			return;
	}
	reply_result(c, 201, provision_create_users(c->prov, c->cid, users, n, &err), &err);
}

static void user_create(void *ctx, struct http_request *req)
{
	struct call c;
	if (begin(ctx, req, &c))
		create_users(&c, false);
}

static void users_create_batch(void *ctx, struct http_request *req)
{
	struct call c;
	if (begin(ctx, req, &c))
		create_users(&c, true);
}

static void user_get(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(
		    &c, 200,
		    provision_get_user(c.prov, c.cid, http_request_param_id(req, "uid"), &err),
		    &err);
}

static void user_delete(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_deleted(
		    &c,
		    provision_delete_user(c.prov, c.cid, http_request_param_id(req, "uid"), &err),
		    &err);
}

static void user_change(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_user_change ch = {.enabled = -1};
	if (!begin(ctx, req, &c))
		return;
	json_t *b = c.body;
	json_t *enabled = json_object_get(b, "enabled");
	if (!get_string(&c, b, "display_name", false, &ch.display_name) ||
	    !get_string(&c, b, "given_name", false, &ch.given_name) ||
	    !get_string(&c, b, "sur_name", false, &ch.sur_name) ||
	    !get_string(&c, b, "email", false, &ch.email) ||
	    !get_string(&c, b, "password", false, &ch.password) ||
	    !get_string(&c, b, "disabled_reason", false, &ch.disabled_reason) ||
	    !get_access(&c, b, true, &ch.access_combination) ||
	    !get_string(&c, b, "imap_server", false, &ch.imap_server) ||
	    !get_string(&c, b, "smtp_server", false, &ch.smtp_server) ||
	    !get_string(&c, b, "imap_login", false, &ch.imap_login))
		return;
	if (enabled != NULL) {
		if (!json_is_boolean(enabled)) {
			reply_error(req, 400, "field \"enabled\" must be true or false");
			return;
		}
		ch.enabled = json_is_true(enabled) ? 1 : 0;
	}
	reply_result(
	    &c, 200,
	    provision_change_user(c.prov, c.cid, http_request_param_id(req, "uid"), &ch, &err),
	    &err);
}

/* --- groups and resources (the context's admin may make these calls too) --- */

static void groups_list(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(&c, 200, provision_list_groups(c.prov, c.cid, true, &err), &err);
}

static void group_get(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(
		    &c, 200,
		    provision_get_group(c.prov, c.cid, http_request_param_id(req, "gid"), &err),
		    &err);
}

/* create: name, display_name, members; change: name, display_name, add_members,
   remove_members. */
static bool get_group(struct call *c, bool create, struct prov_group *g)
{
	json_t *b = c->body;
	const char **add = NULL, **remove = NULL;
	memset(g, 0, sizeof(*g));
	bool ok =
	    get_string(c, b, "name", create, &g->name) &&
	    get_string(c, b, "display_name", false, &g->display_name) &&
	    get_string_list(c, b, create ? "members" : "add_members", 10000, &add, &g->add_count) &&
	    (create || get_string_list(c, b, "remove_members", 10000, &remove, &g->remove_count));
	g->add = add;
	g->remove = remove;
	return ok;
}

static void group_create(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_group g;
	if (begin(ctx, req, &c) && get_group(&c, true, &g))
		reply_result(&c, 201, provision_create_group(c.prov, c.cid, &g, &err), &err);
}

static void group_change(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_group g;
	if (begin(ctx, req, &c) && get_group(&c, false, &g))
		reply_result(&c, 200,
		             provision_change_group(c.prov, c.cid,
		                                    http_request_param_id(req, "gid"), &g, &err),
		             &err);
}

static void group_delete(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_deleted(
		    &c,
		    provision_delete_group(c.prov, c.cid, http_request_param_id(req, "gid"), &err),
		    &err);
}

static void resources_list(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(&c, 200, provision_list_resources(c.prov, c.cid, &err), &err);
}

static void resource_get(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_result(
		    &c, 200,
		    provision_get_resource(c.prov, c.cid, http_request_param_id(req, "rid"), &err),
		    &err);
}

static bool get_resource(struct call *c, bool create, struct prov_resource *r)
{
	json_t *b = c->body;
	memset(r, 0, sizeof(*r));
	return get_string(c, b, "name", create, &r->name) &&
	       get_string(c, b, "display_name", create, &r->display_name) &&
	       get_string(c, b, "email", create, &r->email) &&
	       get_string(c, b, "description", false, &r->description) &&
	       get_bool(c, b, "available", &r->available);
}

static void resource_create(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_resource r;
	if (begin(ctx, req, &c) && get_resource(&c, true, &r))
		reply_result(&c, 201, provision_create_resource(c.prov, c.cid, &r, &err), &err);
}

static void resource_change(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	struct prov_resource r;
	if (begin(ctx, req, &c) && get_resource(&c, false, &r))
		reply_result(&c, 200,
		             provision_change_resource(c.prov, c.cid,
		                                       http_request_param_id(req, "rid"), &r, &err),
		             &err);
}

static void resource_delete(void *ctx, struct http_request *req)
{
	struct call c;
	struct prov_error err = {0};
	if (begin(ctx, req, &c))
		reply_deleted(&c,
		              provision_delete_resource(c.prov, c.cid,
		                                        http_request_param_id(req, "rid"), &err),
		              &err);
}

/* The calls of docs/admin-api.md; /admin/v1/node, drain, cluster and consistency are in
   api-node.c, api-cluster.c and api-consistency.c. */
const struct http_route api_admin_routes[] = {
    {"GET", "/admin/v1/servers", servers_list, 0, NULL},
    {"POST", "/admin/v1/servers", server_register, 0, NULL},
    {"GET", "/admin/v1/filestores", filestores_list, 0, NULL},
    {"POST", "/admin/v1/filestores", filestore_register, 0, NULL},
    {"GET", "/admin/v1/databases", databases_list, 0, NULL},
    {"POST", "/admin/v1/databases", database_register, 0, NULL},
    {"POST", "/admin/v1/databases/promote", database_promote, 0, NULL},
    {"GET", "/admin/v1/contexts", contexts_list, 0, NULL},
    {"POST", "/admin/v1/contexts", context_create, 0, NULL},
    {"GET", "/admin/v1/contexts/{cid:id}", context_get, 0, NULL},
    {"PATCH", "/admin/v1/contexts/{cid:id}", context_change, 0, NULL},
    {"DELETE", "/admin/v1/contexts/{cid:id}", context_delete, 0, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/enable", context_enable, 0, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/disable", context_disable, 0, NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/users", users_list, ROUTE_CONTEXT_ADMIN, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/users", user_create, ROUTE_CONTEXT_ADMIN, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/users/batch", users_create_batch, ROUTE_CONTEXT_ADMIN,
     NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/users/{uid:id}", user_get, ROUTE_CONTEXT_ADMIN, NULL},
    {"PATCH", "/admin/v1/contexts/{cid:id}/users/{uid:id}", user_change, ROUTE_CONTEXT_ADMIN, NULL},
    {"DELETE", "/admin/v1/contexts/{cid:id}/users/{uid:id}", user_delete, ROUTE_CONTEXT_ADMIN,
     NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/groups", groups_list, ROUTE_CONTEXT_ADMIN, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/groups", group_create, ROUTE_CONTEXT_ADMIN, NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/groups/{gid:id}", group_get, ROUTE_CONTEXT_ADMIN, NULL},
    {"PATCH", "/admin/v1/contexts/{cid:id}/groups/{gid:id}", group_change, ROUTE_CONTEXT_ADMIN,
     NULL},
    {"DELETE", "/admin/v1/contexts/{cid:id}/groups/{gid:id}", group_delete, ROUTE_CONTEXT_ADMIN,
     NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/resources", resources_list, ROUTE_CONTEXT_ADMIN, NULL},
    {"POST", "/admin/v1/contexts/{cid:id}/resources", resource_create, ROUTE_CONTEXT_ADMIN, NULL},
    {"GET", "/admin/v1/contexts/{cid:id}/resources/{rid:id}", resource_get, ROUTE_CONTEXT_ADMIN,
     NULL},
    {"PATCH", "/admin/v1/contexts/{cid:id}/resources/{rid:id}", resource_change,
     ROUTE_CONTEXT_ADMIN, NULL},
    {"DELETE", "/admin/v1/contexts/{cid:id}/resources/{rid:id}", resource_delete,
     ROUTE_CONTEXT_ADMIN, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
