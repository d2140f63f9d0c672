/* SPDX-License-Identifier: MIT */
/* /admin/v1/…: the provisioning API (docs/admin-api.md) over lib-provision, on a worker. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admin-auth.h"
#include "api-common.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "pool.h"
#include "provision.h"
#include "routes.h"

#define MAX_SEGMENTS 6
#define MAX_BATCH    1000

struct call {
	struct node *node;
	struct http_request *req;
	struct provision *prov;
	struct strv method;
	char *seg[MAX_SEGMENTS]; /* path after /admin/v1/, split at '/' */
	size_t nseg;
	json_t *body;
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

static bool get_string_list(struct call *c, json_t *obj, const char *key, const char ***list_r,
                            size_t *count_r)
{
	json_t *v = json_object_get(obj, key);
	*list_r = NULL;
	*count_r = 0;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > 100) {
		reply_error(c->req, 400,
		            "field \"mappings\" must be an array of at most 100 strings");
		return false;
	}
	const char **list =
	    pool_calloc(http_request_pool(c->req), json_array_size(v) + 1, sizeof(*list));
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *item = json_array_get(v, i);
		if (!json_is_string(item)) {
			reply_error(c->req, 400, "field \"mappings\" must hold only strings");
			return false;
		}
		list[i] = json_string_value(item);
	}
	*list_r = list;
	*count_r = json_array_size(v);
	return true;
}

static bool get_user(struct call *c, json_t *obj, struct prov_user *u)
{
	if (!json_is_object(obj)) {
		reply_error(c->req, 400, "a user must be a JSON object");
		return false;
	}
	return get_string(c, obj, "login", true, &u->login) &&
	       get_string(c, obj, "display_name", true, &u->display_name) &&
	       get_string(c, obj, "given_name", true, &u->given_name) &&
	       get_string(c, obj, "sur_name", true, &u->sur_name) &&
	       get_string(c, obj, "email", true, &u->email) &&
	       get_string(c, obj, "password", false, &u->password) &&
	       get_string(c, obj, "password_hash", false, &u->password_hash);
}

static bool parse_id(const char *s, int64_t *id_r)
{
	uint64_t v;
	if (strv_to_u64(strv_from_cstr(s), &v) < 0 || v == 0 || v > INT64_MAX)
		return false;
	*id_r = (int64_t)v;
	return true;
}

/* --- handlers --- */

static bool is(struct call *c, const char *method)
{
	return strv_eq_cstr(c->method, method);
}

static void registrations(struct call *c)
{
	struct prov_error err = {0};
	const char *what = c->seg[0];
	if (is(c, "GET")) {
		json_t *v = strcmp(what, "servers") == 0 ? provision_list_servers(c->prov, &err)
		            : strcmp(what, "filestores") == 0
		                ? provision_list_filestores(c->prov, &err)
		                : provision_list_databases(c->prov, &err);
		reply_result(c, 200, v, &err);
		return;
	}
	if (!is(c, "POST")) {
		reply_error(c->req, 405, "use GET or POST");
		return;
	}
	json_t *b = c->body;
	json_t *v;
	if (strcmp(what, "servers") == 0) {
		const char *name;
		if (!get_string(c, b, "name", true, &name))
			return;
		v = provision_register_server(c->prov, name, &err);
	} else if (strcmp(what, "filestores") == 0) {
		const char *uri;
		int64_t size, maxctx;
		if (!get_string(c, b, "uri", true, &uri) ||
		    !get_int(c, b, "size_mb", false, 1000, &size) ||
		    !get_int(c, b, "max_contexts", false, 5000, &maxctx))
			return;
		v = provision_register_filestore(c->prov, uri, size, maxctx, &err);
	} else {
		const char *name, *url;
		int64_t master, units;
		json_t *primary = json_object_get(b, "primary");
		if (!get_string(c, b, "name", true, &name) ||
		    !get_string(c, b, "url", true, &url) ||
		    !get_int(c, b, "master_id", false, -1, &master) ||
		    !get_int(c, b, "max_units", false, 1000, &units))
			return;
		if (!json_is_boolean(primary)) {
			reply_error(c->req, 400, "field \"primary\" must be true or false");
			return;
		}
		v = provision_register_database(c->prov, name, url, json_is_true(primary), master,
		                                units, &err);
	}
	reply_result(c, 201, v, &err);
}

static void create_context(struct call *c)
{
	struct prov_error err = {0};
	struct prov_context spec = {0};
	json_t *b = c->body;
	const char **maps;
	if (!get_int(c, b, "id", true, 0, &spec.cid) ||
	    !get_string(c, b, "name", false, &spec.name) ||
	    !get_int(c, b, "quota_mb", true, 0, &spec.quota_mb) ||
	    !get_string_list(c, b, "mappings", &maps, &spec.mapping_count))
		return;
	spec.mappings = maps;
	json_t *admin = json_object_get(b, "admin");
	if (admin == NULL) {
		reply_error(c->req, 400, "field \"admin\" is required");
		return;
	}
	if (!get_user(c, admin, &spec.admin))
		return;
	reply_result(c, 201, provision_create_context(c->prov, &spec, &err), &err);
}

static void context_call(struct call *c, int64_t cid)
{
	struct prov_error err = {0};
	if (c->nseg == 2 && is(c, "GET")) {
		reply_result(c, 200, provision_get_context(c->prov, cid, &err), &err);
	} else if (c->nseg == 2 && is(c, "PATCH")) {
		const char *name;
		int64_t quota;
		const char **maps;
		size_t nmaps;
		json_t *b = c->body;
		if (!get_string(c, b, "name", false, &name) ||
		    !get_int(c, b, "quota_mb", false, -1, &quota) ||
		    !get_string_list(c, b, "mappings", &maps, &nmaps))
			return;
		/* absent or null: unchanged (-1); a negative number is no quota */
		if (json_is_integer(json_object_get(b, "quota_mb")) && quota < 0) {
			reply_error(c->req, 400, PROV_QUOTA_RANGE);
			return;
		}
		reply_result(c, 200,
		             provision_change_context(c->prov, cid, name, quota, maps, nmaps, &err),
		             &err);
	} else if (c->nseg == 2 && is(c, "DELETE")) {
		if (provision_delete_context(c->prov, cid, &err) < 0) {
			reply_result(c, 0, NULL, &err);
			return;
		}
		http_response_status(c->req, 204);
		http_response_send(c->req);
	} else if (c->nseg == 3 && is(c, "POST") &&
	           (strcmp(c->seg[2], "disable") == 0 || strcmp(c->seg[2], "enable") == 0)) {
		const char *reason = NULL;
		bool enable = strcmp(c->seg[2], "enable") == 0;
		if (!enable && c->body != NULL && !get_string(c, c->body, "reason", false, &reason))
			return;
		reply_result(c, 200,
		             provision_set_context_enabled(c->prov, cid, enable, reason, &err),
		             &err);
	} else {
		reply_error(c->req, 404, "no such admin call");
	}
}

static void create_users(struct call *c, int64_t cid, bool batch)
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
	reply_result(c, 201, provision_create_users(c->prov, cid, users, n, &err), &err);
}

static void user_call(struct call *c, int64_t cid, int64_t uid)
{
	struct prov_error err = {0};
	if (is(c, "GET")) {
		reply_result(c, 200, provision_get_user(c->prov, cid, uid, &err), &err);
	} else if (is(c, "DELETE")) {
		if (provision_delete_user(c->prov, cid, uid, &err) < 0) {
			reply_result(c, 0, NULL, &err);
			return;
		}
		http_response_status(c->req, 204);
		http_response_send(c->req);
	} else if (is(c, "PATCH")) {
		struct prov_user_change ch = {.enabled = -1};
		json_t *b = c->body;
		json_t *enabled = json_object_get(b, "enabled");
		if (!get_string(c, b, "display_name", false, &ch.display_name) ||
		    !get_string(c, b, "given_name", false, &ch.given_name) ||
		    !get_string(c, b, "sur_name", false, &ch.sur_name) ||
		    !get_string(c, b, "email", false, &ch.email) ||
		    !get_string(c, b, "password", false, &ch.password) ||
		    !get_string(c, b, "disabled_reason", false, &ch.disabled_reason))
			return;
		if (enabled != NULL) {
			if (!json_is_boolean(enabled)) {
				reply_error(c->req, 400, "field \"enabled\" must be true or false");
				return;
			}
			ch.enabled = json_is_true(enabled) ? 1 : 0;
		}
		reply_result(c, 200, provision_change_user(c->prov, cid, uid, &ch, &err), &err);
	} else {
		reply_error(c->req, 405, "use GET, PATCH or DELETE");
	}
}

static void dispatch(struct call *c)
{
	int64_t cid = 0, uid = 0;
	bool users =
	    c->nseg >= 3 && strcmp(c->seg[0], "contexts") == 0 && strcmp(c->seg[2], "users") == 0;
	if (c->nseg >= 2 && strcmp(c->seg[0], "contexts") == 0 && !parse_id(c->seg[1], &cid)) {
		reply_error(c->req, 404, "context ids are positive integers");
		return;
	}
	/* A context admin may manage the users of their own context; all else is the master's.
	   The context in the path also recognises its admin on the master's calls there, to
	   answer 403 rather than call right credentials wrong. */
	char needs[200];
	if (users)
		snprintf(needs, sizeof(needs),
		         "this call needs the master admin or the admin of context %lld",
		         (long long)cid);
	else
		snprintf(needs, sizeof(needs),
		         "this call needs the master admin (a context admin may only manage the "
		         "users of their context: /admin/v1/contexts/{cid}/users…)");
	enum admin_identity who =
	    admin_auth_check(c->node->admin_auth, c->prov, c->req, cid, needs);
	if (who == ADMIN_NONE)
		return;
	if (who == ADMIN_CONTEXT && !users) {
		char msg[200];
		snprintf(msg, sizeof(msg),
		         "the admin of context %lld may only manage its users "
		         "(/admin/v1/contexts/%lld/users…); this call needs the master admin",
		         (long long)cid, (long long)cid);
		reply_error(c->req, 403, msg);
		return;
	}

	if (c->nseg == 1 &&
	    (strcmp(c->seg[0], "servers") == 0 || strcmp(c->seg[0], "filestores") == 0 ||
	     strcmp(c->seg[0], "databases") == 0)) {
		registrations(c);
	} else if (c->nseg == 1 && strcmp(c->seg[0], "contexts") == 0) {
		if (is(c, "GET")) {
			struct prov_error err = {0};
			const char *search = NULL;
			struct strv q = http_request_head(c->req)->query;
			if (strv_starts_with(q, STRV_LIT("search=")))
				search =
				    pool_strndup(http_request_pool(c->req), q.ptr + 7, q.len - 7);
			reply_result(c, 200, provision_list_contexts(c->prov, search, &err), &err);
		} else if (is(c, "POST")) {
			create_context(c);
		} else {
			reply_error(c->req, 405, "use GET or POST");
		}
	} else if (users && c->nseg == 3) {
		if (is(c, "GET")) {
			struct prov_error err = {0};
			reply_result(c, 200, provision_list_users(c->prov, cid, &err), &err);
		} else if (is(c, "POST")) {
			create_users(c, cid, false);
		} else {
			reply_error(c->req, 405, "use GET or POST");
		}
	} else if (users && c->nseg == 4 && strcmp(c->seg[3], "batch") == 0 && is(c, "POST")) {
		create_users(c, cid, true);
	} else if (users && c->nseg == 4) {
		if (!parse_id(c->seg[3], &uid)) {
			reply_error(c->req, 404, "user ids are positive integers");
			return;
		}
		user_call(c, cid, uid);
	} else if (c->nseg >= 2 && strcmp(c->seg[0], "contexts") == 0) {
		context_call(c, cid);
	} else {
		reply_error(c->req, 404, "no such admin call");
	}
}

void api_admin(struct node *node, struct http_request *req)
{
	const struct http_request_head *head = http_request_head(req);
	struct pool *pool = http_request_pool(req);
	struct call c = {.node = node, .req = req, .method = head->method};
	struct prov_error err;

	c.prov = node_provision(node, &err);
	if (c.prov == NULL) {
		reply_error(req, 503, err.message);
		return;
	}
	struct strv rest = strv_make(head->path.ptr + 10, head->path.len - 10); /* "/admin/v1/" */
	while (rest.len > 0) {
		struct strv part;
		strv_split(rest, '/', &part, &rest);
		if (part.len == 0)
			continue;
		if (c.nseg == MAX_SEGMENTS) {
			reply_error(req, 404, "no such admin call");
			return;
		}
		c.seg[c.nseg++] = pool_strndup(pool, part.ptr, part.len);
	}
	if (c.nseg == 0) {
		reply_error(req, 404, "no such admin call");
		return;
	}
	struct strv body = http_request_body(req);
	if (body.len > 0) {
		json_error_t jerr;
		c.body = json_loadb(body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (c.body == NULL || !json_is_object(c.body)) {
			char msg[240];
			snprintf(msg, sizeof(msg), "request body is not a JSON object: %s",
			         c.body == NULL ? jerr.text : "wrong type");
			json_decref(c.body);
			reply_error(req, 400, msg);
			return;
		}
	} else if (strv_eq_cstr(c.method, "POST") || strv_eq_cstr(c.method, "PATCH")) {
		c.body = json_object();
	}
	dispatch(&c);
	json_decref(c.body);
}
