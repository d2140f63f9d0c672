/* SPDX-License-Identifier: MIT */
/* /api/v1/folders: the folder tree each user sees, folder CRUD and sharing over lib-storage's
   folder.c, on workers (docs/api.md "Folders"). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api-common.h"
#include "api-dav.h"
#include "folder.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node-access.h"
#include "node.h"
#include "pool.h"
#include "routes.h"
#include "storage-folder.h"

#define PREFIX "/api/v1/folders/"

enum action {
	LIST_ROOTS,
	LIST_CHILDREN,
	LIST_SHARERS,   /* children of the shared root */
	LIST_SHARED_BY, /* children of a "u:<uid>" node */
	GET_FOLDER,
	GET_SHARER,
	TOUCH_SHARER, /* PATCH/DELETE on a "u:<uid>" node: it exists (403) or not (404) */
	CREATE,
	UPDATE,
	DELETE,
};

/* One request: what to do, its input, and what storage answered. */
struct call {
	struct http_request *req;
	struct pool *pool;
	struct api_user user;
	enum action action;
	int64_t id;    /* folder, or the user of a "u:<uid>" node */
	int64_t owner; /* LIST_SHARED_BY / GET_SHARER */
	const char *title, *module;
	/* PATCH (POST: its permissions), with "parent":"u:<uid>" (allowed only as "unchanged")
	   and "module" (the same) */
	struct storage_folder_update update;
	struct storage_user *su;
	/* results */
	struct folder *folder;
	struct folder **folders;
	size_t count;
	struct folder_sharer *sharers, sharer;
	struct folder_error ferr;
	struct storage_error err;
};

/* --- JSON --- */

static json_t *node_id(int64_t uid)
{
	return json_sprintf("u:%" PRId64, uid);
}

/* dp: the "dav" member, the folder's WebDAV collection (null when it has none) */
static json_t *folder_json(struct dav_paths *dp, const struct folder *f)
{
	json_t *perms = json_array();
	for (size_t i = 0; i < f->permission_count; i++) {
		const struct folder_permission *p = &f->permissions[i];
		json_array_append_new(perms,
		                      json_pack("{s:I, s:b, s:I}", "entity", (json_int_t)p->entity,
		                                "group", p->group, "bits", (json_int_t)p->bits));
	}
	json_t *parent = f->is_system              ? json_null()
	                 : f->view_parent_user > 0 ? node_id(f->view_parent_user)
	                                           : json_integer(f->view_parent);
	json_t *owner = f->is_system ? json_null() : json_integer(f->owner);
	json_t *o =
	    json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:I, s:b, s:b, s:b, s:I, s:I}", "id",
	              (json_int_t)f->id, "parent", parent, "title", f->title, "module", f->module,
	              "type", folder_type_name(f->type), "owner", owner, "permissions", perms,
	              "own_rights", (json_int_t)folder_perm_pack(&f->rights), "subfolders",
	              f->has_subfolders, "default", f->default_for != NULL, "virtual", 0, "created",
	              (json_int_t)f->created, "modified", (json_int_t)f->modified);
	const char *dav = dav_paths_get(dp, f);
	json_object_set_new(o, "dav", dav != NULL ? json_string(dav) : json_null());
	return o;
}

/* A node below the shared root: read-only, "see" rights, always has subfolders. */
static json_t *sharer_json(const struct folder_sharer *s)
{
	return json_pack("{s:o, s:I, s:s, s:s, s:s, s:I, s:[], s:I, s:b, s:b, s:b, s:n, s:n}", "id",
	                 node_id(s->uid), "parent", (json_int_t)FOLDER_ID_SHARED, "title",
	                 s->display_name, "module", "system", "type", "shared", "owner",
	                 (json_int_t)s->uid, "permissions", "own_rights",
	                 (json_int_t)FOLDER_BITS(FOLDER_LEVEL_SEE, 0, 0, 0, 0), "subfolders", 1,
	                 "default", 0, "virtual", 1, "created", "modified");
}

static json_t *folder_list_json(struct dav_paths *dp, struct folder **folders, size_t count)
{
	json_t *list = json_array();
	dav_paths_prefetch(dp, folders, count);
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, folder_json(dp, folders[i]));
	return json_pack("{s:o}", "folders", list);
}

/* --- input --- */

/* "12" -> 12, "u:5" -> node 5; false for anything else. */
static bool parse_ref(const char *s, size_t len, int64_t *id_r, bool *node_r)
{
	uint64_t v;
	*node_r = len > 2 && s[0] == 'u' && s[1] == ':';
	if (*node_r) {
		s += 2;
		len -= 2;
	}
	if (strv_to_u64(strv_make(s, len), &v) < 0 || v == 0 || v > INT64_MAX)
		return false;
	*id_r = (int64_t)v;
	return true;
}

static void bad_request(struct call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bad_request(struct call *c, const char *fmt, ...)
{
	char msg[300];
	va_list args;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	api_error(c->req, 400, "FLD-0400", "%s", msg);
}

/* The body as a JSON object; NULL after answering 400. */
static json_t *body_object(struct call *c)
{
	struct strv body = http_request_body(c->req);
	json_error_t jerr;
	if (body.len == 0) {
		bad_request(c, "a JSON object body is required");
		return NULL;
	}
	json_t *v = json_loadb(body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL || !json_is_object(v)) {
		bad_request(c, "the body is not a JSON object%s%s", v == NULL ? ": " : "",
		            v == NULL ? jerr.text : "");
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Optional string field (null = absent); false after answering 400. */
static bool get_string(struct call *c, json_t *obj, const char *key, const char **value_r)
{
	json_t *v = json_object_get(obj, key);
	*value_r = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		bad_request(c, "field \"%s\" must be a string", key);
		return false;
	}
	*value_r = pool_strdup(c->pool, json_string_value(v));
	return true;
}

/* Optional folder reference: a positive integer, or with allow_node a "u:<uid>" string. */
static bool get_parent(struct call *c, json_t *obj, bool allow_node, int64_t *id_r, int64_t *node_r)
{
	json_t *v = json_object_get(obj, "parent");
	bool node;
	*id_r = 0;
	*node_r = 0;
	if (v == NULL || json_is_null(v))
		return true;
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*id_r = json_integer_value(v);
		return true;
	}
	int64_t id;
	if (allow_node && json_is_string(v) &&
	    parse_ref(json_string_value(v), json_string_length(v), &id, &node) && node) {
		*node_r = id;
		return true;
	}
	bad_request(c, "field \"parent\" must be a positive folder id");
	return false;
}

/* "permissions": [{"entity":N,"group":false,"bits":N}, …]; shapes only, the library checks
   the values. */
static bool get_permissions(struct call *c, json_t *obj)
{
	json_t *list = json_object_get(obj, "permissions");
	if (list == NULL)
		return true;
	if (!json_is_array(list) || json_array_size(list) > FOLDER_PERMISSIONS_MAX) {
		bad_request(c, "field \"permissions\" must be an array of at most %d entries",
		            FOLDER_PERMISSIONS_MAX);
		return false;
	}
	size_t n = json_array_size(list);
	struct folder_permission *perms = pool_calloc(c->pool, n + 1, sizeof(*perms));
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(list, i);
		json_t *entity = json_object_get(e, "entity");
		json_t *group = json_object_get(e, "group");
		json_t *bits = json_object_get(e, "bits");
		if (!json_is_object(e)) {
			bad_request(c, "permissions[%zu] must be an object", i);
			return false;
		}
		if (!json_is_integer(entity) || json_integer_value(entity) < 0) {
			bad_request(c, "permissions[%zu].entity must be a user or group id", i);
			return false;
		}
		if (group != NULL && !json_is_boolean(group)) {
			bad_request(c, "permissions[%zu].group must be true or false", i);
			return false;
		}
		if (!json_is_integer(bits) || json_integer_value(bits) < 0 ||
		    json_integer_value(bits) > UINT32_MAX) {
			bad_request(c, "permissions[%zu].bits must be a non-negative integer", i);
			return false;
		}
		perms[i].entity = json_integer_value(entity);
		perms[i].group = json_is_true(group);
		perms[i].bits = (uint32_t)json_integer_value(bits);
	}
	c->update.change.set_permissions = true;
	c->update.change.permissions = perms;
	c->update.change.permission_count = n;
	return true;
}

/* --- the answer --- */

static void reply_failure(struct call *c)
{
	const struct folder_error *fe = &c->ferr;
	const struct storage_error *err = &c->err;
	if (api_storage_context_failed(c->req, err))
		return;
	switch (err->status == STORAGE_REFUSED ? fe->status : FOLDER_OK) {
	case FOLDER_INVALID:
		if (fe->field != NULL && strncmp(fe->message, fe->field, strlen(fe->field)) != 0)
			api_error(c->req, 400, "FLD-0400", "%s: %s", fe->field, fe->message);
		else
			api_error(c->req, 400, "FLD-0400", "%s", fe->message);
		return;
	case FOLDER_FORBIDDEN:
		api_error(c->req, 403, "FLD-0403", "%s", fe->message);
		return;
	case FOLDER_NOT_FOUND:
		api_error(c->req, 404, "FLD-0404", "%s", fe->message);
		return;
	case FOLDER_CONFLICT:
		api_error(c->req, 409, "FLD-0409", "%s", fe->message);
		return;
	case FOLDER_LIMIT:
		api_error(c->req, 413, "FLD-0413", "%s", fe->message);
		return;
	case FOLDER_OK:
	case FOLDER_SQL:
		break;
	}
	if (err->status == STORAGE_READ_ONLY) {
		api_error(c->req, 503, API_CODE_READ_ONLY, "%s", err->message);
		return;
	}
	log_error("folders", "context %" PRId64 " user %" PRId64 ": %s", c->user.cid, c->user.uid,
	          err->message);
	if (err->status == STORAGE_UNAVAILABLE)
		api_error(c->req, 503, "FLD-0503", "the user database is unavailable, try again");
	else
		api_error(c->req, 500, "FLD-0500", "internal error");
}

static int run_action(struct call *c)
{
	struct storage_user *su = c->su;
	struct folder_error *fe = &c->ferr;
	struct storage_error *err = &c->err;
	switch (c->action) {
	case LIST_ROOTS:
	case LIST_CHILDREN:
		return storage_folder_list(su, c->action == LIST_ROOTS ? 0 : c->id, &c->folders,
		                           &c->count, fe, err);
	case LIST_SHARERS:
		return storage_folder_list_sharers(su, &c->sharers, &c->count, fe, err);
	case LIST_SHARED_BY:
	case GET_SHARER:
	case TOUCH_SHARER:
		return storage_folder_list_shared_by(su, c->owner, &c->sharer, &c->folders,
		                                     &c->count, fe, err);
	case GET_FOLDER:
		return storage_folder_get(su, c->id, &c->folder, fe, err);
	case CREATE:
		return storage_folder_create(su, c->id, c->title, c->module, &c->update.change,
		                             &c->folder, fe, err);
	case UPDATE:
		return storage_folder_update(su, c->id, &c->update, &c->folder, fe, err);
	case DELETE:
		return storage_folder_delete(su, c->id, fe, err);
	}
	return -1;
}

/* Leaves out of a listing the folders of modules the caller lacks (a user without calendar
   sees no calendar folders); false after answering 503. */
static bool drop_foreign_modules(struct node *node, struct call *c)
{
	uint32_t modules;
	if (!api_user_modules(node, c->req, &c->user, &modules))
		return false;
	size_t kept = 0;
	for (size_t i = 0; i < c->count; i++) {
		if (node_access_folder_module(modules, c->folders[i]->module))
			c->folders[kept++] = c->folders[i];
	}
	c->count = kept;
	return true;
}

/* Runs the call and answers. */
static void run(struct node *node, struct call *c)
{
	c->su = storage_user_create(node->storage, c->pool, c->user.cid, c->user.uid);
	if (run_action(c) < 0) {
		reply_failure(c);
		return;
	}
	if ((c->action == LIST_ROOTS || c->action == LIST_CHILDREN ||
	     c->action == LIST_SHARED_BY) &&
	    !drop_foreign_modules(node, c))
		return;
	struct dav_paths *dp = dav_paths_create(c->su, c->pool, &c->user);
	switch (c->action) {
	case LIST_ROOTS:
	case LIST_CHILDREN:
	case LIST_SHARED_BY:
		http_response_json(c->req, 200, folder_list_json(dp, c->folders, c->count));
		return;
	case LIST_SHARERS: {
		json_t *list = json_array();
		for (size_t i = 0; i < c->count; i++)
			json_array_append_new(list, sharer_json(&c->sharers[i]));
		http_response_json(c->req, 200, json_pack("{s:o}", "folders", list));
		return;
	}
	case GET_SHARER:
		http_response_json(c->req, 200, sharer_json(&c->sharer));
		return;
	case TOUCH_SHARER:
		api_error(c->req, 403, "FLD-0403", "the shared folder nodes cannot be changed");
		return;
	case GET_FOLDER:
		http_response_json(c->req, 200, folder_json(dp, c->folder));
		return;
	case CREATE:
		http_response_headerf(c->req, "Location", PREFIX "%" PRId64, c->folder->id);
		http_response_json(c->req, 201, folder_json(dp, c->folder));
		return;
	case UPDATE:
		if (c->folder == NULL) { /* the caller can no longer see it */
			http_response_status(c->req, 204);
			http_response_send(c->req);
			return;
		}
		http_response_json(c->req, 200, folder_json(dp, c->folder));
		return;
	case DELETE:
		http_response_status(c->req, 204);
		http_response_send(c->req);
		return;
	}
}

static bool begin(struct node *node, struct http_request *req, struct call *c)
{
	memset(c, 0, sizeof(*c));
	c->req = req;
	c->pool = http_request_pool(req);
	return api_auth(node, req, &c->user);
}

/* --- handlers --- */

/* GET /api/v1/folders[?parent=ID|u:UID] */
static void folders_list(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct call c;
	bool is_node;
	if (!begin(node, req, &c))
		return;
	const char *parent = api_query(req, "parent");
	if (parent == NULL) {
		c.action = LIST_ROOTS;
	} else if (!parse_ref(parent, strlen(parent), &c.id, &is_node)) {
		bad_request(&c,
		            "query parameter \"parent\" must be a folder id or \"u:<user id>\"");
		return;
	} else if (is_node) {
		c.action = LIST_SHARED_BY;
		c.owner = c.id;
	} else {
		c.action = c.id == FOLDER_ID_SHARED ? LIST_SHARERS : LIST_CHILDREN;
	}
	run(node, &c);
}

/* POST /api/v1/folders {parent, title, module[, permissions]} */
static void folders_create(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct call c;
	int64_t parent_node;
	if (!begin(node, req, &c))
		return;
	json_t *body = body_object(&c);
	if (body == NULL)
		return;
	bool ok = get_parent(&c, body, false, &c.id, &parent_node) &&
	          get_string(&c, body, "title", &c.title) &&
	          get_string(&c, body, "module", &c.module) && get_permissions(&c, body);
	json_decref(body);
	if (!ok)
		return;
	if (c.id == 0) {
		bad_request(&c, "field \"parent\" is required");
		return;
	}
	if (c.title == NULL) {
		bad_request(&c, "field \"title\" is required");
		return;
	}
	c.action = CREATE;
	run(node, &c);
}

/* GET/PATCH/DELETE /api/v1/folders/{id} and, by the prefix routes, a virtual owner folder
   u:UID (a segment the router has no type for); anything else under the prefix is FLD-0404. */
static void folders_item(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct call c;
	bool is_node;
	if (!begin(node, req, &c))
		return;
	struct strv path = http_request_head(req)->path;
	struct strv method = http_request_head(req)->method;
	struct strv ref = strv_make(path.ptr + strlen(PREFIX), path.len - strlen(PREFIX));
	if (http_request_param(req, "id") != NULL) {
		c.id = http_request_param_id(req, "id");
		is_node = false;
	} else if (!parse_ref(ref.ptr, ref.len, &c.id, &is_node)) {
		api_error(req, 404, "FLD-0404", "no such folder");
		return;
	}
	bool get = strv_eq_cstr(method, "GET") || strv_eq_cstr(method, "HEAD");
	if (is_node) {
		c.owner = c.id;
		c.action = get ? GET_SHARER : TOUCH_SHARER;
		run(node, &c);
		return;
	}
	if (get) {
		c.action = GET_FOLDER;
	} else if (strv_eq_cstr(method, "DELETE")) {
		c.action = DELETE;
	} else {
		json_t *body = body_object(&c);
		if (body == NULL)
			return;
		struct storage_folder_update *up = &c.update;
		bool ok = get_parent(&c, body, true, &up->change.parent, &up->parent_node_user) &&
		          get_string(&c, body, "title", &up->change.title) &&
		          get_string(&c, body, "module", &up->module) && get_permissions(&c, body);
		json_decref(body);
		if (!ok)
			return;
		c.action = UPDATE;
	}
	run(node, &c);
}

const struct http_route api_folder_routes[] = {
    {"GET", "/api/v1/folders", folders_list, 0, NULL},
    {"POST", "/api/v1/folders", folders_create, 0, NULL},
    {"GET", PREFIX "{id:id}", folders_item, 0, NULL},
    {"PATCH", PREFIX "{id:id}", folders_item, 0, NULL},
    {"DELETE", PREFIX "{id:id}", folders_item, 0, NULL},
    {"GET", PREFIX, folders_item, HTTP_ROUTE_PREFIX, NULL},
    {"PATCH", PREFIX, folders_item, HTTP_ROUTE_PREFIX, NULL},
    {"DELETE", PREFIX, folders_item, HTTP_ROUTE_PREFIX, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
