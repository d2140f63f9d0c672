/* SPDX-License-Identifier: MIT */
/* /dav/ URLs to folders and files (docs/internals/dav.md "Files over WebDAV"): home/ is the
   user's "My files", public/ the public root, each segment below a folder's title or a file's
   name as the JSON API shows them to the user. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api-caldav-collection.h"
#include "api-carddav.h"
#include "api-dav.h"
#include "api-davobj.h"
#include "buf.h"
#include "dav-multistatus.h"
#include "file-upload.h"
#include "http-server.h"
#include "node.h"
#include "pool.h"
#include "provision.h"
#include "storage-folder.h"
#include "storage-props.h"

#define DAV_MAX_SEGMENTS 80 /* folders nest at most FOLDER_DEPTH_MAX deep */

static const char *const root_children[] = {"files", "principals", NULL};
static const char *const files_children[] = {"home", "shared", "public", NULL};
static const char *const principals_children[] = {"users", NULL};

void dav_fail(struct dav_req *dr, int status, const char *precondition, const char *code,
              const char *fmt, ...)
{
	if (precondition == NULL) {
		char msg[400];
		va_list args;
		va_start(args, fmt);
		vsnprintf(msg, sizeof(msg), fmt, args);
		va_end(args);
		api_error(dr->req, status, code, "%s", msg);
		return;
	}
	http_response_status(dr->req, status);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	dav_error_body(http_response_body(dr->req), precondition);
	http_response_send(dr->req);
}

size_t dav_date(char out[DAV_DATE_SIZE], int64_t t, bool http_date)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	return http_date ? strftime(out, DAV_DATE_SIZE, "%a, %d %b %Y %H:%M:%S GMT", &tm)
	                 : strftime(out, DAV_DATE_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void dav_storage_failed(struct dav_req *dr, const struct storage_error *err)
{
	struct file_refusal r;
	file_refusal_storage(&r, err);
	/* RFC 4918: a quota or object limit is 507; a request that does not fit what is there
	   (a folder that holds no files …) is a conflict */
	int status = r.status == 413 ? 507 : r.status;
	if (err->status == STORAGE_REFUSED && err->refusal == STORAGE_INVALID)
		status = 409;
	api_error(dr->req, status, r.code, "%s", r.message);
}

void dav_folder_failed(struct dav_req *dr, const struct folder_error *fe,
                       const struct storage_error *err)
{
	if (err->status != STORAGE_REFUSED) {
		dav_storage_failed(dr, err);
		return;
	}
	switch (fe->status) {
	case FOLDER_INVALID:
		api_error(dr->req, 400, "DAV-0400", "%s", fe->message);
		return;
	case FOLDER_FORBIDDEN:
		api_error(dr->req, 403, "DAV-0403", "%s", fe->message);
		return;
	case FOLDER_NOT_FOUND:
		api_error(dr->req, 409, "DAV-0409", "%s", fe->message);
		return;
	case FOLDER_CONFLICT:
		api_error(dr->req, 405, "DAV-0405", "%s", fe->message);
		return;
	case FOLDER_LIMIT:
		api_error(dr->req, 507, "DAV-0507", "%s", fe->message);
		return;
	case FOLDER_OK:
	case FOLDER_SQL:
		break;
	}
	api_error(dr->req, 500, "DAV-0500", "%s", fe->message);
}

static void set_virtual(struct dav_res *res, const char *const *children)
{
	res->kind = DAV_RES_VIRTUAL;
	res->children = children;
}

/* A lookup that found nothing is 1; found 0; -1 after answering. */
static int not_found(struct dav_req *dr, const struct storage_error *err)
{
	if (err->status == STORAGE_REFUSED && err->refusal == STORAGE_NOT_FOUND)
		return 1;
	dav_storage_failed(dr, err);
	return -1;
}

/* segs[0..n) below folder root, in one read transaction (storage_dav_walk): 0 mapped, 1 the
   root is not there, -1 answered. */
static int walk(struct dav_req *dr, int64_t root, char **segs, size_t n, bool slash,
                struct dav_res *res)
{
	struct storage_error err;
	struct storage_dav_walk w;
	int r = dr->open_version != NULL
	            ? storage_dav_walk_open(dr->su, root, (const char *const *)segs, n, slash, &w,
	                                    dr->open_version, &dr->open_fd, &err)
	            : storage_dav_walk(dr->su, root, (const char *const *)segs, n, slash, &w, &err);
	if (r < 0)
		return not_found(dr, &err);
	static const enum dav_res_kind kinds[] = {[STORAGE_DAV_NONE] = DAV_RES_NONE,
	                                          [STORAGE_DAV_FOLDER] = DAV_RES_FOLDER,
	                                          [STORAGE_DAV_FILE] = DAV_RES_FILE};
	res->kind = kinds[w.found];
	res->entry = w.entry;
	res->parent = w.parent;
	res->parent_missing = w.parent_missing;
	res->area_root = n == 0; /* a shared folder too stays where its owner put it */
	return 0;
}

/* --- shared/<owner login>/<folder>/…: the folders other users share with this one --- */

static struct provision *provision(struct dav_req *dr)
{
	struct prov_error perr;
	struct provision *prov = node_provision(dr->node, &perr);
	if (prov == NULL)
		dav_fail(dr, 503, NULL, "DAV-0503", "%s", perr.message);
	return prov;
}

/* The logins of the users who share something with this one. */
static int sharer_logins(struct dav_req *dr, const char *const **logins_r)
{
	struct folder_sharer *sharers;
	size_t count;
	struct folder_error fe;
	struct storage_error err;
	struct prov_error perr;
	if (storage_folder_list_sharers(dr->su, &sharers, &count, &fe, &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	struct provision *prov = count > 0 ? provision(dr) : NULL;
	if (count > 0 && prov == NULL)
		return -1;
	const char **logins = pool_calloc(dr->pool, count + 1, sizeof(*logins));
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		json_t *u = provision_get_user(prov, dr->user.cid, sharers[i].uid, &perr);
		const char *login = json_string_value(json_object_get(u, "login"));
		if (login != NULL)
			logins[n++] = pool_strdup(dr->pool, login);
		json_decref(u); /* a user deleted meanwhile is left out */
	}
	*logins_r = logins;
	return 0;
}

/* The files folders login shares with this user: 0 (*count_r 0 for an unknown login), or -1
   answered. */
static int shared_by(struct dav_req *dr, const char *login, struct folder ***folders_r,
                     size_t *count_r)
{
	struct prov_login row;
	struct prov_error perr;
	struct folder_sharer sharer;
	struct folder_error fe;
	struct storage_error err;
	struct provision *prov = provision(dr);
	*count_r = 0;
	if (prov == NULL)
		return -1;
	int r = provision_login_lookup(prov, dr->user.cid, login, &row, &perr);
	if (r < 0) {
		dav_fail(dr, 503, NULL, "DAV-0503", "%s", perr.message);
		return -1;
	}
	if (r == 0 || row.uid == dr->user.uid)
		return 0;
	struct folder **all;
	size_t count;
	if (storage_folder_list_shared_by(dr->su, row.uid, &sharer, &all, &count, &fe, &err) < 0) {
		if (err.status == STORAGE_REFUSED && fe.status == FOLDER_NOT_FOUND)
			return 0;
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	struct folder **files = pool_calloc(dr->pool, count + 1, sizeof(*files));
	for (size_t i = 0; i < count; i++)
		if (all[i]->module != NULL && strcmp(all[i]->module, "infostore") == 0)
			files[(*count_r)++] = all[i];
	*folders_r = files;
	return 0;
}

/* shared/…: segs[2] the owner's login, segs[3] one of their shared folders. */
static int resolve_shared(struct dav_req *dr, char **segs, size_t n, bool slash,
                          struct dav_res *res)
{
	if (n == 2) {
		const char *const *logins;
		if (sharer_logins(dr, &logins) < 0)
			return -1;
		set_virtual(res, logins);
		return 0;
	}
	struct folder **folders;
	size_t count;
	if (shared_by(dr, segs[2], &folders, &count) < 0)
		return -1;
	if (count > 0 && n == 3) {
		const char **titles = pool_calloc(dr->pool, count + 1, sizeof(*titles));
		for (size_t i = 0; i < count; i++)
			titles[i] = folders[i]->title;
		set_virtual(res, titles);
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		if (strcmp(folders[i]->title, segs[3]) != 0)
			continue;
		int r = walk(dr, folders[i]->id, segs + 4, n - 4, slash, res);
		if (r == 0) {
			res->lock_root = folders[i]->id;
			res->lock_url =
			    pool_printf(dr->pool, "/dav/files/shared/%s/%s", segs[2], segs[3]);
		}
		return r;
	}
	return 1;
}

/* home/ or public/ and the segments below it: 0 mapped, 1 no such area (or no "My files"),
   -1 answered. */
static int resolve_area(struct dav_req *dr, const char *area, char **segs, size_t n, bool slash,
                        struct dav_res *res)
{
	if (strcmp(area, "home") == 0)
		return walk(dr, STORAGE_DAV_HOME, segs, n, slash, res);
	if (strcmp(area, "public") == 0)
		return walk(dr, FOLDER_ID_PUBLIC, segs, n, slash, res);
	return 1;
}

int dav_map_resolve(struct dav_req *dr, const char *path, struct dav_res *res_r)
{
	struct dav_res *res = res_r;
	memset(res, 0, sizeof(*res));
	size_t len = strlen(path);
	bool slash = len > 0 && path[len - 1] == '/';
	while (len > 1 && path[len - 1] == '/')
		len--;
	res->path = pool_strndup(dr->pool, path, len);
	/* segments after "/dav" */
	char *copy = pool_strndup(dr->pool, path, len);
	char *segs[DAV_MAX_SEGMENTS];
	size_t n = 0;
	res->name = "dav";
	if (strncmp(copy, "/dav", 4) != 0 || (copy[4] != '\0' && copy[4] != '/'))
		goto none;
	char *p = copy[4] == '/' ? copy + 5 : copy + 4;
	while (*p != '\0') {
		if (n == DAV_MAX_SEGMENTS) {
			res->kind = DAV_RES_NONE;
			res->parent_missing = true;
			return 0;
		}
		segs[n++] = p;
		char *sep = strchr(p, '/');
		if (sep == NULL)
			break;
		*sep = '\0';
		p = sep + 1;
	}
	if (n > 0)
		res->name = segs[n - 1];
	if (n == 0) {
		set_virtual(res, root_children);
		return 0;
	}
	if (strcmp(segs[0], "files") == 0) {
		if (n == 1) {
			set_virtual(res, files_children);
			return 0;
		}
		if (strcmp(segs[1], "shared") == 0) {
			int r = resolve_shared(dr, segs, n, slash, res);
			if (r <= 0)
				return r;
			goto none;
		}
		int r = resolve_area(dr, segs[1], segs + 2, n - 2, slash, res);
		if (r <= 0)
			return r;
	} else if (strcmp(segs[0], "principals") == 0) {
		if (n == 1) {
			set_virtual(res, principals_children);
			return 0;
		}
		if (strcmp(segs[1], "users") == 0 && n == 2) {
			const char **own = pool_calloc(dr->pool, 2, sizeof(*own));
			own[0] = dr->user.login;
			set_virtual(res, own);
			return 0;
		}
		if (strcmp(segs[1], "users") == 0 && n == 3 &&
		    strcmp(segs[2], dr->user.login) == 0) {
			res->kind = DAV_RES_PRINCIPAL;
			return 0;
		}
	}
none:
	memset(&res->entry, 0, sizeof(res->entry));
	res->lock_root = 0;
	res->lock_url = NULL;
	res->kind = DAV_RES_NONE;
	res->parent = 0;
	res->parent_missing = n > 1 && !(n == 2 && strcmp(segs[0], "files") == 0);
	return 0;
}

/* --------------------------------------------------------------- "dav" of /api/v1/folders */

struct dav_paths {
	struct storage_user *su;
	struct pool *pool;
	const struct api_user *user;
	int64_t home; /* -1: not looked up yet, 0: none */
	int64_t memo_id;
	const char *memo_path; /* of memo_id: siblings share their parent's */
	/* dav_paths_prefetch's: the collection segments of seg_ids[0..seg_count) (NULL: none) */
	bool prefetched;
	int64_t *seg_ids;
	const char **segs;
	size_t seg_count;
};

struct dav_paths *dav_paths_create(struct storage_user *su, struct pool *pool,
                                   const struct api_user *user)
{
	struct dav_paths *dp = pool_calloc(pool, 1, sizeof(*dp));
	dp->su = su;
	dp->pool = pool;
	dp->user = user;
	dp->home = -1;
	return dp;
}

/* The collection path of folder id without its trailing slash, or NULL when it is not below
   home/ or public/ (or cannot be read now: the field is informative). */
static const char *folder_path(struct dav_paths *dp, int64_t id, unsigned depth)
{
	struct storage_error err;
	struct storage_dav_entry e;
	struct storage_dav_walk w;
	if (dp->home < 0)
		dp->home = storage_dav_walk(dp->su, STORAGE_DAV_HOME, NULL, 0, false, &w, &err) == 0
		               ? w.entry.id
		               : 0;
	if (id == dp->home)
		return "/dav/files/home";
	if (id == FOLDER_ID_PUBLIC)
		return "/dav/files/public";
	if (id <= FOLDER_ID_MAX_SYSTEM || depth > FOLDER_DEPTH_MAX + 1)
		return NULL;
	if (id == dp->memo_id)
		return dp->memo_path;
	if (storage_dav_folder_get(dp->su, id, &e, &err) < 0)
		return NULL;
	const char *parent = folder_path(dp, e.parent, depth + 1);
	if (parent == NULL)
		return NULL;
	dp->memo_id = id;
	dp->memo_path = pool_printf(dp->pool, "%s/%s", parent, e.name);
	return dp->memo_path;
}

/* The namespace of f's collection segment (a calendar's for its owner only,
   docs/decisions/0015), NULL when it has none; *home_r its DAV home (NULL: not a PIM folder). */
static const char *segment_ns(const struct dav_paths *dp, const struct folder *f,
                              const char **home_r)
{
	*home_r = NULL;
	if (f->is_system || f->module == NULL)
		return NULL;
	if (strcmp(f->module, "calendar") == 0 || strcmp(f->module, "tasks") == 0) {
		*home_r = CALDAV_HOME;
		return f->owner == dp->user->uid ? CALDAV_COLLECTION_NS : NULL;
	}
	if (strcmp(f->module, "contacts") == 0) {
		*home_r = CARDDAV_HOME;
		return CARDDAV_SEGMENT_NS;
	}
	return NULL;
}

void dav_paths_prefetch(struct dav_paths *dp, struct folder *const *folders, size_t count)
{
	const struct dav_prop names[] = {{CALDAV_COLLECTION_NS, DAVOBJ_SEGMENT, NULL},
	                                 {CARDDAV_SEGMENT_NS, DAVOBJ_SEGMENT, NULL}};
	const char **ns = pool_calloc(dp->pool, count + 1, sizeof(*ns));
	dp->seg_ids = pool_calloc(dp->pool, count + 1, sizeof(*dp->seg_ids));
	dp->segs = pool_calloc(dp->pool, count + 1, sizeof(*dp->segs));
	dp->seg_count = 0;
	for (size_t i = 0; i < count; i++) {
		const char *home;
		const char *want = segment_ns(dp, folders[i], &home);
		if (want != NULL) {
			ns[dp->seg_count] = want;
			dp->seg_ids[dp->seg_count++] = folders[i]->id;
		}
	}
	struct dav_prop **props = pool_calloc(dp->pool, dp->seg_count + 1, sizeof(*props));
	size_t *counts = pool_calloc(dp->pool, dp->seg_count + 1, sizeof(*counts));
	struct storage_error err;
	if (dp->seg_count > 0 && storage_props_get_folders(dp->su, dp->seg_ids, dp->seg_count,
	                                                   names, 2, props, counts, &err) < 0)
		return; /* not prefetched: dav_paths_get reads one by one */
	for (size_t i = 0; i < dp->seg_count; i++) {
		for (size_t k = 0; k < counts[i]; k++) {
			if (strcmp(props[i][k].ns, ns[i]) == 0)
				dp->segs[i] = props[i][k].value;
		}
	}
	dp->prefetched = true;
}

/* f's segment (namespace ns): dav_paths_prefetch's if it saw f, else read now. */
static const char *segment_of(struct dav_paths *dp, const struct folder *f, const char *ns)
{
	for (size_t i = 0; dp->prefetched && i < dp->seg_count; i++) {
		if (dp->seg_ids[i] == f->id)
			return dp->segs[i];
	}
	return davobj_segment(dp->su, f->id, ns);
}

/* A calendar, tasks or contacts folder's collection, named as the home listings of
   api-caldav.c and api-carddav.c name it: the segment a client created it under (a
   calendar's for its owner only, docs/decisions/0015), else its id. NULL for the rest. */
static const char *pim_path(struct dav_paths *dp, const struct folder *f)
{
	const char *home, *ns = segment_ns(dp, f, &home);
	if (home == NULL)
		return NULL;
	const char *seg = ns != NULL ? segment_of(dp, f, ns) : NULL;
	if (seg != NULL)
		return pool_printf(dp->pool, "%s%s/%s/", home, dp->user->login, seg);
	return pool_printf(dp->pool, "%s%s/%lld/", home, dp->user->login, (long long)f->id);
}

const char *dav_paths_get(struct dav_paths *dp, const struct folder *f)
{
	if (f->id == FOLDER_ID_PUBLIC)
		return "/dav/files/public/";
	const char *pim = pim_path(dp, f);
	if (pim != NULL)
		return pim;
	if (f->is_system || strcmp(f->module, "infostore") != 0 || f->view_parent == 0)
		return NULL;
	const char *path = folder_path(dp, f->id, 0);
	return path != NULL ? pool_printf(dp->pool, "%s/", path) : NULL;
}
