/* SPDX-License-Identifier: MIT */
/* WebDAV locks and preconditions on /dav/ (RFC 4918 §6-7, §9.10-9.11, §10.4; RFC 7232): LOCK
   and UNLOCK through the cluster's lock store (node-cluster.c), so a lock taken through one
   node holds on every node; the If header and the RFC 7232 conditionals every method that
   changes something checks first. */
#include <stdio.h>
#include <string.h>

#include "api-dav.h"
#include "dav-cond.h"
#include "dav-if.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "file-upload.h"
#include "http-server.h"
#include "lock-store.h"
#include "log.h"
#include "node.h"
#include "pool.h"

#define HOME "/dav/files/home"

static struct lock_store *locks(struct dav_req *dr)
{
	return dr->node->cluster.locks;
}

/* path is prefix or lies below it: the rest ("" or "/..."), else NULL. */
static const char *below_or_at(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/'))
		return path + n;
	return NULL;
}

const char *dav_lock_key(struct pool *pool, const struct dav_lock_view *view, const char *path)
{
	const char *rest = view->url != NULL ? below_or_at(path, view->url) : NULL;
	if (rest != NULL)
		return pool_printf(pool, "%s%s", view->key, rest);
	/* home/ is per user: its locks live under the user's id */
	if ((rest = below_or_at(path, HOME)) != NULL)
		return pool_printf(pool, "%s/%lld%s", HOME, (long long)view->uid, rest);
	return path;
}

/* The lock key of res's shared folder into dr's memo: 0, or -1 with err. */
static int anchor(struct dav_req *dr, const struct dav_res *res, struct storage_error *err)
{
	const char *key;
	if (dr->anchor_id == res->lock_root)
		return 0;
	if (storage_dav_lock_anchor(dr->su, res->lock_root, dr->pool, &key, err) < 0)
		return -1;
	dr->anchor_id = res->lock_root;
	dr->anchor_key = key;
	return 0;
}

int dav_lock_view(struct dav_req *dr, const struct dav_res *res, struct pool *pool,
                  struct dav_lock_view *view_r)
{
	memset(view_r, 0, sizeof(*view_r));
	view_r->uid = dr->user.uid;
	if (res->lock_root == 0)
		return 0;
	struct storage_error err;
	if (anchor(dr, res, &err) < 0) {
		dav_storage_failed(dr, &err);
		return -1;
	}
	view_r->url = pool_strdup(pool, res->lock_url);
	view_r->key = pool_strdup(pool, dr->anchor_key);
	return 0;
}

/* The key of res itself; NULL after answering. */
static const char *res_key(struct dav_req *dr, const struct dav_res *res,
                           struct dav_lock_view *view_r)
{
	if (dav_lock_view(dr, res, dr->pool, view_r) < 0)
		return NULL;
	return dav_lock_key(dr->pool, view_r, res->path);
}

/* The href of a lock key as the URLs of view show it: the user's own home as home/, a
   shared folder's as shared/<owner>/<folder>/ (a lock rooted above that folder, which the
   user cannot reach, as the folder itself), others as they are. */
static void visible_href(struct buf *out, const struct dav_lock_view *view, const char *key)
{
	char own[64], path[LOCK_PATH_MAX + 64];
	snprintf(own, sizeof(own), "%s/%lld", HOME, (long long)view->uid);
	const char *rest;
	if ((rest = below_or_at(key, own)) != NULL) {
		snprintf(path, sizeof(path), "%s%s", HOME, rest);
		dav_href_append(out, path);
	} else if (view->url != NULL && (rest = below_or_at(key, view->key)) != NULL) {
		snprintf(path, sizeof(path), "%s%s", view->url, rest);
		dav_href_append(out, path);
	} else if (view->url != NULL && lock_store_is_below(view->key, key)) {
		dav_href_append(out, view->url);
	} else {
		dav_href_append(out, key);
	}
}

static void lock_failed(struct dav_req *dr, const char *error)
{
	log_error("dav", "cid=%lld: lock store: %s", (long long)dr->user.cid, error);
	dav_fail(dr, 503, NULL, "DAV-0503", "the lock store is unavailable");
}

/* --------------------------------------------------------------- the If header */

struct if_ctx {
	struct dav_req *dr;
	const struct dav_res *res;
	bool failed;   /* the lock store did not answer */
	bool answered; /* a lookup failed and answered the request: ask nothing more */
};

/* The path a Resource-Tag names, or NULL when it is not one of ours. */
static const char *tag_path(struct dav_req *dr, struct strv resource)
{
	const char *path;
	int status;
	const char *error;
	if (dav_uri_to_path(dr->pool, resource, &dr->origin, &path, &status, &error) < 0)
		return NULL;
	return path;
}

static const char *if_etag(void *ctx, struct strv resource)
{
	struct if_ctx *c = ctx;
	const struct dav_res *res = c->res;
	struct dav_res other;
	if (c->answered || c->failed)
		return NULL;
	if (resource.ptr != NULL) {
		const char *path = tag_path(c->dr, resource);
		if (path == NULL)
			return NULL; /* not ours: no entity tag */
		if (dav_map_resolve(c->dr, path, &other) < 0) {
			c->answered = true;
			return NULL;
		}
		res = &other;
	}
	if (res->kind != DAV_RES_FILE)
		return NULL;
	return pool_strdup(c->dr->pool, res->entry.etag);
}

static bool if_has_lock(void *ctx, struct strv resource, struct strv token)
{
	struct if_ctx *c = ctx;
	if (c->answered || c->failed)
		return false;
	const struct dav_res *res = c->res;
	struct dav_res other;
	if (resource.ptr != NULL) {
		const char *path = tag_path(c->dr, resource);
		if (path == NULL)
			return false;
		if (dav_map_resolve(c->dr, path, &other) < 0) {
			c->answered = true;
			return false;
		}
		res = &other;
	}
	struct dav_lock_view view;
	const char *key = res_key(c->dr, res, &view);
	if (key == NULL) {
		c->answered = true;
		return false;
	}
	struct lock *found;
	size_t count;
	const char *error;
	if (lock_store_covering(locks(c->dr), c->dr->pool, c->dr->user.cid, key, &found, &count,
	                        &error) != LOCK_OK) {
		c->failed = true;
		return false;
	}
	for (size_t i = 0; i < count; i++)
		if (strv_eq_cstr(token, found[i].token))
			return true;
	return false;
}

bool dav_check_conditions(struct dav_req *dr, const struct dav_res *res, bool get_or_head)
{
	struct http_request *req = dr->req;
	struct dav_cond_headers h = {
	    .if_match = http_request_header(req, "If-Match"),
	    .if_none_match = http_request_header(req, "If-None-Match"),
	    .if_modified_since = http_request_header(req, "If-Modified-Since"),
	    .if_unmodified_since = http_request_header(req, "If-Unmodified-Since"),
	};
	bool has_entry = res->kind == DAV_RES_FILE || res->kind == DAV_RES_FOLDER;
	struct dav_cond_target t = {
	    .exists = res->kind != DAV_RES_NONE,
	    .etag = res->kind == DAV_RES_FILE ? res->entry.etag : NULL,
	    .last_modified = has_entry ? res->entry.modified : -1,
	};
	int status = dav_cond_evaluate(&h, &t, get_or_head);
	if (status != 0) {
		if (t.etag != NULL)
			http_response_header(req, "ETag", t.etag);
		if (status == 304) {
			http_response_status(req, 304);
			http_response_send(req);
		} else {
			dav_fail(dr, status, NULL, "DAV-0412",
			         "a precondition of the request failed");
		}
		return false;
	}
	struct strv value = http_request_header(req, "If");
	if (value.ptr == NULL)
		return true;
	struct dav_if *ifh;
	const char *error;
	if (dav_if_parse(dr->pool, value, &ifh, &error) < 0) {
		dav_fail(dr, 400, NULL, "DAV-0400", "If: %s", error);
		return false;
	}
	struct if_ctx c = {.dr = dr, .res = res};
	struct dav_if_callbacks cb = {.etag = if_etag, .has_lock = if_has_lock, .ctx = &c};
	bool ok = dav_if_evaluate(ifh, &cb, dr->pool, &dr->submitted, &dr->submitted_count);
	if (c.answered)
		return false;
	if (c.failed) {
		lock_failed(dr, "evaluating If");
		return false;
	}
	if (!ok) {
		dav_fail(dr, 412, NULL, "DAV-0412", "the If header's conditions are not met");
		return false;
	}
	return true;
}

/* --------------------------------------------------------------- locks on writes */

static bool submitted(const struct dav_req *dr, const struct lock *l)
{
	if (l->principal != dr->user.uid)
		return false; /* RFC 4918 §6.4: a token is not a capability for others */
	for (size_t i = 0; i < dr->submitted_count; i++)
		if (strv_eq_cstr(dr->submitted[i].token, l->token))
			return true;
	return false;
}

static void locked(struct dav_req *dr, const struct dav_lock_view *view, const struct lock *l)
{
	http_response_status(dr->req, 423);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	struct buf *out = http_response_body(dr->req);
	buf_append_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                    "<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>");
	visible_href(out, view, l->path);
	buf_append_str(out, "</D:href></D:lock-token-submitted></D:error>\n");
	http_response_send(dr->req);
}

/* The locks at lock_path (covering it, and below it when tree) each need a submitted token
   (a shared lock: one of them). */
static bool check_path(struct dav_req *dr, const struct dav_lock_view *view, const char *lock_path,
                       bool tree)
{
	struct lock *found;
	size_t count;
	const char *error;
	if (lock_store_covering(locks(dr), dr->pool, dr->user.cid, lock_path, &found, &count,
	                        &error) != LOCK_OK) {
		lock_failed(dr, error);
		return false;
	}
	bool any = count == 0;
	for (size_t i = 0; i < count && !any; i++)
		any = submitted(dr, &found[i]);
	if (!any) {
		locked(dr, view, &found[0]);
		return false;
	}
	if (!tree)
		return true;
	if (lock_store_below(locks(dr), dr->pool, dr->user.cid, lock_path, &found, &count,
	                     &error) != LOCK_OK) {
		lock_failed(dr, error);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		if (!submitted(dr, &found[i])) {
			locked(dr, view, &found[i]);
			return false;
		}
	}
	return true;
}

bool dav_check_locks(struct dav_req *dr, const struct dav_res *res, bool tree)
{
	struct dav_lock_view view;
	const char *key = res_key(dr, res, &view);
	return key != NULL && check_path(dr, &view, key, tree);
}

/* The key of res after a change, or NULL (logged: the change is done, its locks expire). */
static const char *key_after(struct dav_req *dr, const struct dav_res *res)
{
	struct storage_error err;
	if (res->lock_root != 0 && anchor(dr, res, &err) < 0) {
		log_warn("dav", "cid=%lld: the lock key of %s: %s (its locks expire)",
		         (long long)dr->user.cid, res->path, err.message);
		return NULL;
	}
	struct dav_lock_view view = {.uid = dr->user.uid,
	                             .url = res->lock_root != 0 ? res->lock_url : NULL,
	                             .key = dr->anchor_key};
	return dav_lock_key(dr->pool, &view, res->path);
}

void dav_locks_removed(struct dav_req *dr, const struct dav_res *res)
{
	size_t n;
	const char *error, *key = key_after(dr, res);
	if (key != NULL &&
	    lock_store_remove_tree(locks(dr), dr->user.cid, key, &n, &error) != LOCK_OK)
		log_warn("dav", "cid=%lld: dropping the locks of %s: %s (they expire)",
		         (long long)dr->user.cid, res->path, error);
}

void dav_locks_mapped(struct dav_req *dr, const struct dav_res *res)
{
	size_t n;
	const char *error, *key = key_after(dr, res);
	if (key != NULL && lock_store_mapped(locks(dr), dr->user.cid, key, &n, &error) != LOCK_OK)
		log_warn("dav", "cid=%lld: marking the locks of %s mapped: %s",
		         (long long)dr->user.cid, res->path, error);
}

/* --------------------------------------------------------------- lockdiscovery */

void dav_activelock_append(struct buf *out, const struct dav_lock_view *view, const struct lock *l)
{
	buf_append_str(out, "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>");
	buf_append_str(out, l->scope == LOCK_SCOPE_EXCLUSIVE ? "<D:exclusive/>" : "<D:shared/>");
	buf_append_str(out, "</D:lockscope><D:depth>");
	buf_append_str(out, l->depth == LOCK_DEPTH_0 ? "0" : "infinity");
	buf_append_str(out, "</D:depth>");
	if (l->owner != NULL)
		buf_append(out, l->owner, l->owner_len);
	buf_printf(out, "<D:timeout>Second-%u</D:timeout>", l->remaining_s);
	buf_append_str(out, "<D:locktoken><D:href>");
	dav_xml_text_append(out, strv_from_cstr(l->token));
	buf_append_str(out, "</D:href></D:locktoken><D:lockroot><D:href>");
	visible_href(out, view, l->path);
	buf_append_str(out, "</D:href></D:lockroot></D:activelock>");
}

int dav_lockdiscovery(struct dav_req *dr, struct pool *pool, const struct dav_lock_view *view,
                      const char *path, bool below, struct lock **locks_r, size_t *count_r)
{
	const char *error;
	const char *lp = dav_lock_key(pool, view, path);
	enum lock_status st =
	    below
	        ? lock_store_below(locks(dr), pool, dr->user.cid, lp, locks_r, count_r, &error)
	        : lock_store_covering(locks(dr), pool, dr->user.cid, lp, locks_r, count_r, &error);
	if (st != LOCK_OK) {
		lock_failed(dr, error);
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- LOCK, UNLOCK */

static void lock_answer(struct dav_req *dr, const struct dav_lock_view *view, int status,
                        const struct lock *l)
{
	http_response_status(dr->req, status);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	http_response_headerf(dr->req, "Lock-Token", "<%s>", l->token);
	struct buf *out = http_response_body(dr->req);
	buf_append_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                    "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
	dav_activelock_append(out, view, l);
	buf_append_str(out, "</D:lockdiscovery></D:prop>\n");
	http_response_send(dr->req);
}

/* A refresh (RFC 4918 §9.10.2): the lock named in the If header. */
static void refresh(struct dav_req *dr, const struct dav_res *res, uint32_t timeout)
{
	if (dr->submitted_count == 0) {
		dav_fail(dr, 412, "lock-token-submitted", NULL, "no lock token to refresh");
		return;
	}
	struct lock l;
	const char *error;
	struct dav_lock_view view;
	const char *key = res_key(dr, res, &view);
	if (key == NULL)
		return;
	enum lock_status st = LOCK_NOT_FOUND;
	for (size_t i = 0; i < dr->submitted_count && st != LOCK_OK; i++) {
		const char *token =
		    pool_strndup(dr->pool, dr->submitted[i].token.ptr, dr->submitted[i].token.len);
		st = lock_store_refresh(locks(dr), dr->pool, dr->user.cid, token, key, dr->user.uid,
		                        timeout, &l, &error);
		if (st == LOCK_ERROR) {
			lock_failed(dr, error);
			return;
		}
	}
	if (st != LOCK_OK) {
		dav_fail(dr, st == LOCK_NOT_OWNER ? 403 : 412, NULL, "DAV-0412",
		         "no lock of yours to refresh at %s", res->path);
		return;
	}
	lock_answer(dr, &view, 200, &l);
}

/* LOCK on an unmapped URL makes an empty file (RFC 4918 §9.10.4); false after answering. */
static bool create_empty(struct dav_req *dr, const struct dav_res *res)
{
	struct file_upload_dest dest = {
	    .folder = res->parent, .name = res->name, .content_type = INFOSTORE_DEFAULT_TYPE};
	const char *problem = infostore_check_name(res->name, strlen(res->name));
	if (problem != NULL) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", problem);
		return false;
	}
	struct storage_file_upload result;
	struct file_refusal why;
	if (file_upload_store(dr->node, dr->req, NULL, &dr->user, STRV_NULL, &dest, &result, &why) <
	    0) {
		dav_fail(dr, why.status == 413 ? 507 : why.status, NULL, why.code, "%s",
		         why.message);
		return false;
	}
	return true;
}

void dav_lock(struct dav_req *dr)
{
	struct http_request *req = dr->req;
	struct dav_lockinfo *li;
	struct dav_res res;
	const char *error;
	int status;
	enum dav_depth depth;
	struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_lockinfo(dr->pool, dav_body(dr), &limits, &li, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	if (dav_depth_parse(http_request_header(req, "Depth"), DAV_DEPTH_INFINITY, &depth, &error) <
	        0 ||
	    depth == DAV_DEPTH_1) {
		dav_fail(dr, 400, NULL, "DAV-0400", "LOCK takes Depth: 0 or infinity");
		return;
	}
	uint32_t timeout =
	    dav_timeout_parse(http_request_header(req, "Timeout"), 0, LOCK_TIMEOUT_MAX);
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.kind == DAV_RES_NONE && (res.parent_missing || res.parent == 0)) {
		dav_fail(dr, 409, NULL, "DAV-0409", "nothing can be locked at %s", dr->path);
		return;
	}
	if (res.kind == DAV_RES_VIRTUAL || res.kind == DAV_RES_PRINCIPAL) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s cannot be locked", dr->path);
		return;
	}
	if (!dav_check_conditions(dr, &res, false))
		return;
	if (li->refresh) {
		refresh(dr, &res, timeout);
		return;
	}
	if (res.kind == DAV_RES_FILE && !folder_perm_may_write(&res.entry.rights, res.entry.own)) {
		dav_fail(dr, 403, NULL, "DAV-0403", "you may not change %s", dr->path);
		return;
	}
	struct dav_lock_view view;
	const char *key = res_key(dr, &res, &view);
	if (key == NULL)
		return;
	struct lock_request lr = {
	    .cid = dr->user.cid,
	    .path = key,
	    .depth = depth == DAV_DEPTH_0 ? LOCK_DEPTH_0 : LOCK_DEPTH_INFINITY,
	    .scope = li->scope == DAV_LOCK_SHARED ? LOCK_SCOPE_SHARED : LOCK_SCOPE_EXCLUSIVE,
	    .principal = dr->user.uid,
	    .owner = li->owner_xml,
	    .owner_len = li->owner_xml != NULL ? li->owner_len : 0,
	    .timeout_s = timeout,
	    .lock_null = res.kind == DAV_RES_NONE,
	};
	struct lock l;
	switch (lock_store_lock(locks(dr), dr->pool, &lr, &l, &error)) {
	case LOCK_OK:
		break;
	case LOCK_CONFLICT:
		http_response_status(req, 423);
		http_response_header(req, "Content-Type", "application/xml; charset=utf-8");
		buf_append_str(http_response_body(req),
		               "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		               "<D:error xmlns:D=\"DAV:\"><D:no-conflicting-lock><D:href>");
		visible_href(http_response_body(req), &view, l.path);
		buf_append_str(http_response_body(req),
		               "</D:href></D:no-conflicting-lock></D:error>\n");
		http_response_send(req);
		return;
	case LOCK_LIMIT:
		dav_fail(dr, 507, NULL, "DAV-0507", "%s", error);
		return;
	case LOCK_INVALID:
		dav_fail(dr, 400, NULL, "DAV-0400", "%s", error);
		return;
	default:
		lock_failed(dr, error);
		return;
	}
	if (res.kind == DAV_RES_NONE) {
		if (!create_empty(dr, &res)) {
			lock_store_unlock(locks(dr), dr->user.cid, l.token, lr.path, dr->user.uid,
			                  &error);
			return;
		}
		dav_locks_mapped(dr, &res);
		l.lock_null = false;
	}
	lock_answer(dr, &view, res.kind == DAV_RES_NONE ? 201 : 200, &l);
}

void dav_unlock(struct dav_req *dr)
{
	struct strv token;
	const char *error;
	struct dav_res res;
	if (dav_lock_token_parse(http_request_header(dr->req, "Lock-Token"), &token, &error) < 0) {
		dav_fail(dr, 400, NULL, "DAV-0400", "%s", error);
		return;
	}
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	const char *t = pool_strndup(dr->pool, token.ptr, token.len);
	struct dav_lock_view view;
	const char *key = res_key(dr, &res, &view);
	if (key == NULL)
		return;
	switch (lock_store_unlock(locks(dr), dr->user.cid, t, key, dr->user.uid, &error)) {
	case LOCK_OK:
		http_response_status(dr->req, 204);
		http_response_send(dr->req);
		return;
	case LOCK_NOT_FOUND:
	case LOCK_NOT_COVERED:
	case LOCK_INVALID:
		dav_fail(dr, 409, "lock-token-matches-request-uri", NULL, "no such lock");
		return;
	case LOCK_NOT_OWNER:
		dav_fail(dr, 403, NULL, "DAV-0403", "the lock is someone else's");
		return;
	default:
		lock_failed(dr, error);
		return;
	}
}
