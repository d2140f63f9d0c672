/* SPDX-License-Identifier: MIT */
/* /dav/ URLs to folders and files (docs/internals/dav.md "Files over WebDAV"): home/ is the
   user's "My files", public/ the public root, each segment below a folder's title or a file's
   name as the JSON API shows them to the user. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api-dav.h"
#include "buf.h"
#include "dav-multistatus.h"
#include "http-server.h"
#include "log.h"
#include "pool.h"
#include "storage-file.h"
#include "storage-folder.h"

#define DAV_MAX_SEGMENTS 80 /* folders nest at most FOLDER_DEPTH_MAX deep */

static const char *const root_children[] = {"files", "principals", NULL};
static const char *const files_children[] = {"home", "shared", "public", NULL};
static const char *const principals_children[] = {"users", NULL};
static const char *const no_children[] = {NULL};

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

void dav_storage_failed(struct dav_req *dr, const struct storage_error *err)
{
	if (api_storage_context_failed(dr->req, err))
		return;
	switch (err->status) {
	case STORAGE_READ_ONLY:
		api_error(dr->req, 503, API_CODE_READ_ONLY, "%s", err->message);
		return;
	case STORAGE_REFUSED:
		switch (err->refusal) {
		case STORAGE_NOT_FOUND:
			api_error(dr->req, 404, "DAV-0404", "%s", err->message);
			return;
		case STORAGE_INVALID:
			api_error(dr->req, 409, "DAV-0409", "%s", err->message);
			return;
		case STORAGE_FORBIDDEN:
			api_error(dr->req, 403, "DAV-0403", "%s", err->message);
			return;
		case STORAGE_OVER_LIMIT:
		case STORAGE_NO_SPACE:
			api_error(dr->req, 507, "DAV-0507", "%s", err->message);
			return;
		case STORAGE_REFUSAL_NONE:
		case STORAGE_BROKEN:
			break;
		}
		break;
	case STORAGE_UNAVAILABLE:
		api_error(dr->req, 503, "DAV-0503", "the database is unavailable");
		return;
	default:
		break;
	}
	log_error("dav", "%s: %s (%s)", err->what != NULL ? err->what : "storage", err->message,
	          err->kind != NULL ? err->kind : "none");
	api_error(dr->req, 500, "DAV-0500", "the database is in error");
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

const char *dav_map_etag(struct dav_req *dr, const char *md5, int64_t version)
{
	return pool_printf(dr->pool, "\"%s-%lld\"", md5, (long long)version);
}

static int64_t json_int(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static void copy_str(char *dst, size_t size, const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	snprintf(dst, size, "%s", s != NULL ? s : "");
}

/* A file of storage_file_list()'s JSON into the struct the rest uses. */
static void file_from_json(const json_t *o, struct infostore_file *f)
{
	memset(f, 0, sizeof(*f));
	f->id = json_int(o, "id");
	f->folder = json_int(o, "folder");
	copy_str(f->name, sizeof(f->name), o, "name");
	f->version = json_int(o, "version");
	f->size = json_int(o, "size");
	copy_str(f->md5, sizeof(f->md5), o, "md5");
	copy_str(f->content_type, sizeof(f->content_type), o, "content_type");
	f->created = json_int(o, "created");
	f->modified = json_int(o, "modified");
	f->created_by = json_int(o, "created_by");
	f->modified_by = json_int(o, "modified_by");
}

int dav_map_members(struct dav_req *dr, const struct dav_res *res, struct folder ***folders_r,
                    size_t *folder_count_r, json_t **files_r)
{
	struct folder_error fe;
	struct storage_error err;
	*files_r = NULL;
	if (storage_folder_list(dr->su, res->folder->id, folders_r, folder_count_r, &fe, &err) <
	    0) {
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	/* only a files folder holds files; the public root and others answer no */
	if (strcmp(res->folder->module, "infostore") != 0) {
		*files_r = json_array();
		return 0;
	}
	if (storage_file_list(dr->su, res->folder->id, files_r, &err) < 0) {
		dav_storage_failed(dr, &err);
		return -1;
	}
	return 0;
}

/* The subfolder of parent titled name, the file named name, or neither (1 folder, 2 file,
   0 none, -1 answered). Files are looked at only when want_file. */
static int find_member(struct dav_req *dr, struct folder *parent, const char *name, bool want_file,
                       struct folder **folder_r, struct infostore_file *file_r)
{
	struct folder **folders;
	size_t count;
	json_t *files;
	struct dav_res tmp = {.folder = parent};
	if (dav_map_members(dr, &tmp, &folders, &count, want_file ? &files : &files) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(folders[i]->title, name) == 0) {
			*folder_r = folders[i];
			ret = 1;
			goto out;
		}
	}
	if (!want_file)
		goto out;
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f)
	{
		const char *n = json_string_value(json_object_get(f, "name"));
		if (n != NULL && strcmp(n, name) == 0) {
			file_from_json(f, file_r);
			ret = 2;
			goto out;
		}
	}
out:
	json_decref(files);
	return ret;
}

/* The user's "My files". */
static int home_folder(struct dav_req *dr, struct folder **folder_r)
{
	struct folder **folders;
	size_t count;
	struct folder_error fe;
	struct storage_error err;
	if (storage_folder_list(dr->su, FOLDER_ID_FILES, &folders, &count, &fe, &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (folders[i]->owner == dr->user.uid && folders[i]->default_for != NULL &&
		    strcmp(folders[i]->default_for, "infostore") == 0) {
			*folder_r = folders[i];
			return 0;
		}
	}
	*folder_r = NULL;
	return 0;
}

static int public_folder(struct dav_req *dr, struct folder **folder_r)
{
	struct folder_error fe;
	struct storage_error err;
	if (storage_folder_get(dr->su, FOLDER_ID_PUBLIC, folder_r, &fe, &err) < 0) {
		if (err.status == STORAGE_REFUSED && fe.status == FOLDER_NOT_FOUND) {
			*folder_r = NULL;
			return 0;
		}
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	return 0;
}

static void set_virtual(struct dav_res *res, const char *const *children)
{
	res->kind = DAV_RES_VIRTUAL;
	res->children = children;
}

/* Walks segs[from..n) below start. */
static int walk(struct dav_req *dr, struct folder *start, char **segs, size_t from, size_t n,
                struct dav_res *res)
{
	struct folder *cur = start;
	for (size_t i = from; i < n; i++) {
		bool last = i + 1 == n;
		struct folder *sub = NULL;
		int r = find_member(dr, cur, segs[i], last, &sub, &res->file);
		if (r < 0)
			return -1;
		if (r == 1) {
			cur = sub;
			continue;
		}
		if (r == 2) {
			res->kind = DAV_RES_FILE;
			res->folder = cur;
			return 0;
		}
		res->kind = DAV_RES_NONE;
		res->folder = last ? cur : NULL;
		res->parent_missing = !last;
		return 0;
	}
	res->kind = DAV_RES_FOLDER;
	res->folder = cur;
	return 0;
}

int dav_map_resolve(struct dav_req *dr, const char *path, struct dav_res *res_r)
{
	struct dav_res *res = res_r;
	memset(res, 0, sizeof(*res));
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	res->path = pool_strndup(dr->pool, path, len);
	/* segments after "/dav" */
	char *copy = pool_strndup(dr->pool, path, len);
	char *segs[DAV_MAX_SEGMENTS];
	size_t n = 0;
	if (strncmp(copy, "/dav", 4) != 0 || (copy[4] != '\0' && copy[4] != '/'))
		goto none;
	char *p = copy[4] == '/' ? copy + 5 : copy + 4;
	while (*p != '\0') {
		if (n == DAV_MAX_SEGMENTS) {
			res->kind = DAV_RES_NONE;
			res->parent_missing = true;
			res->name = "";
			return 0;
		}
		segs[n++] = p;
		char *slash = strchr(p, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	res->name = n > 0 ? segs[n - 1] : "dav";
	if (n == 0) {
		set_virtual(res, root_children);
		return 0;
	}
	if (strcmp(segs[0], "files") == 0) {
		if (n == 1) {
			set_virtual(res, files_children);
			return 0;
		}
		if (strcmp(segs[1], "shared") == 0 && n == 2) {
			set_virtual(res, no_children);
			return 0;
		}
		struct folder *start = NULL;
		if (strcmp(segs[1], "home") == 0 && home_folder(dr, &start) < 0)
			return -1;
		if (strcmp(segs[1], "public") == 0 && public_folder(dr, &start) < 0)
			return -1;
		if (start != NULL)
			return walk(dr, start, segs, 2, n, res);
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
	res->kind = DAV_RES_NONE;
	res->parent_missing = n > 1 && !(n == 2 && strcmp(segs[0], "files") == 0);
	return 0;
}
