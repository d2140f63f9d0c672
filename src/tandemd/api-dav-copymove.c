/* SPDX-License-Identifier: MIT */
/* COPY and MOVE on /dav/ (RFC 4918 §9.8, §9.9): within this server, Overwrite, Depth; a file
   moves or is copied by the storage layer in one transaction, a folder moves in one, and is
   copied member by member. */
#include <string.h>

#include "api-dav.h"
#include "http-server.h"
#include "log.h"
#include "pool.h"
#include "storage-file.h"
#include "storage-folder.h"
#include "storage-props.h"

#define COPY_PAGE 64

/* The answer to a storage refusal of a copy or move. */
static void place_failed(struct dav_req *dr, const struct storage_error *err)
{
	if (err->status == STORAGE_REFUSED && err->detail == STORAGE_DETAIL_EXISTS) {
		dav_fail(dr, 412, NULL, "DAV-0412", "%s", err->message);
		return;
	}
	if (err->status == STORAGE_REFUSED && err->detail == STORAGE_DETAIL_LOOP) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s", err->message);
		return;
	}
	if (err->status == STORAGE_REFUSED && err->refusal == STORAGE_INVALID) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", err->message);
		return;
	}
	dav_storage_failed(dr, err);
}

/* A folder's dead properties onto another. 0, or -1 after answering. */
static int copy_props(struct dav_req *dr, int64_t from, int64_t to)
{
	struct dav_prop *props;
	size_t count;
	struct storage_error err;
	if (storage_props_get(dr->su, DAV_PROPS_FOLDER, from, NULL, 0, &props, &count, &err) < 0 ||
	    (count > 0 &&
	     storage_props_patch(dr->su, DAV_PROPS_FOLDER, to, props, count, NULL, &err) < 0)) {
		dav_storage_failed(dr, &err);
		return -1;
	}
	return 0;
}

/* Copies folder src as name below parent, with its members when deep. 0, or -1 after
   answering (what was copied so far stays: RFC 4918 §9.8.8 lets a copy end half done). */
static int copy_folder(struct dav_req *dr, int64_t src, int64_t parent, const char *name, bool deep)
{
	struct storage_error err;
	struct folder_error fe;
	struct folder *made;
	if (storage_folder_create(dr->su, parent, name, "infostore", NULL, &made, &fe, &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	if (copy_props(dr, src, made->id) < 0)
		return -1;
	if (!deep)
		return 0;
	struct storage_dav_cursor cursor;
	memset(&cursor, 0, sizeof(cursor));
	struct storage_dav_entry *page = pool_calloc(dr->pool, COPY_PAGE, sizeof(*page));
	while (!cursor.done) {
		size_t count;
		if (storage_dav_children(dr->su, src, &cursor, page, COPY_PAGE, &count, &err) < 0) {
			dav_storage_failed(dr, &err);
			return -1;
		}
		for (size_t i = 0; i < count; i++) {
			if (page[i].collection) {
				if (copy_folder(dr, page[i].id, made->id, page[i].name, true) < 0)
					return -1;
				continue;
			}
			struct storage_file_place to = {.folder = made->id, .name = page[i].name};
			if (storage_file_copy(dr->su, page[i].id, &to, &err) < 0) {
				place_failed(dr, &err);
				return -1;
			}
		}
	}
	return 0;
}

/* Removes what is at dst before it is replaced (Overwrite: T, RFC 4918 §9.8.4). */
static int remove_target(struct dav_req *dr, const struct dav_res *dst)
{
	struct storage_error err;
	struct folder_error fe;
	if (dst->kind == DAV_RES_FILE) {
		if (storage_file_delete(dr->su, dst->entry.id, &err) < 0) {
			dav_storage_failed(dr, &err);
			return -1;
		}
	} else if (storage_folder_delete(dr->su, dst->entry.id, &fe, &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	dav_locks_removed(dr, dst->path);
	return 0;
}

static bool is_below(const char *path, const char *ancestor)
{
	size_t n = strlen(ancestor);
	return strncmp(path, ancestor, n) == 0 && path[n] == '/';
}

/* The checks COPY and MOVE share; false after answering. */
static bool prepare(struct dav_req *dr, bool move, struct dav_res *src, struct dav_res *dst,
                    bool *overwrite_r, bool *deep_r)
{
	struct http_request *req = dr->req;
	const char *dest, *error;
	int status;
	enum dav_depth depth;
	if (dav_destination_parse(dr->pool, http_request_header(req, "Destination"), &dr->origin,
	                          &dest, &status, &error) < 0) {
		dav_fail(dr, status, NULL, status == 502 ? "DAV-0502" : "DAV-0400",
		         "Destination: %s", error);
		return false;
	}
	if (dav_overwrite_parse(http_request_header(req, "Overwrite"), overwrite_r, &error) < 0 ||
	    dav_depth_parse(http_request_header(req, "Depth"), DAV_DEPTH_INFINITY, &depth, &error) <
	        0) {
		dav_fail(dr, 400, NULL, "DAV-0400", "%s", error);
		return false;
	}
	if (dav_map_resolve(dr, dr->path, src) < 0)
		return false;
	if (src->kind == DAV_RES_NONE) {
		dav_fail(dr, 404, NULL, "DAV-0404", "nothing at %s", dr->path);
		return false;
	}
	if (src->kind != DAV_RES_FILE && (src->kind != DAV_RES_FOLDER || src->area_root)) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s cannot be %s", dr->path,
		         move ? "moved" : "copied");
		return false;
	}
	/* RFC 4918 §9.8.3, §9.9.2: a collection moves whole; a copy is 0 or infinity */
	if (depth == DAV_DEPTH_1 ||
	    (move && depth != DAV_DEPTH_INFINITY && src->kind == DAV_RES_FOLDER)) {
		dav_fail(dr, 400, NULL, "DAV-0400", "%s takes Depth: %s", move ? "MOVE" : "COPY",
		         move ? "infinity" : "0 or infinity");
		return false;
	}
	*deep_r = depth == DAV_DEPTH_INFINITY;
	if (dav_map_resolve(dr, dest, dst) < 0)
		return false;
	if (strcmp(dst->path, src->path) == 0 || is_below(dst->path, src->path)) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s cannot be %s onto or into itself", dr->path,
		         move ? "moved" : "copied");
		return false;
	}
	if (dst->kind == DAV_RES_NONE && (dst->parent_missing || dst->parent == 0)) {
		dav_fail(dr, 409, NULL, "DAV-0409", "no folder to hold %s", dst->path);
		return false;
	}
	if (dst->kind != DAV_RES_NONE && dst->kind != DAV_RES_FILE &&
	    (dst->kind != DAV_RES_FOLDER || dst->area_root)) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s cannot be replaced", dst->path);
		return false;
	}
	if (dst->kind != DAV_RES_NONE && !*overwrite_r) {
		dav_fail(dr, 412, NULL, "DAV-0412", "%s exists and Overwrite is F", dst->path);
		return false;
	}
	if (!dav_check_conditions(dr, src, false))
		return false;
	if (move && !dav_check_locks(dr, src, true))
		return false;
	/* the destination is written: its locks (and, when it is replaced, those below) */
	return dav_check_locks(dr, dst, dst->kind != DAV_RES_NONE);
}

void dav_copymove(struct dav_req *dr, bool move)
{
	struct dav_res src, dst;
	struct storage_error err;
	struct folder_error fe;
	bool overwrite, deep;
	if (!prepare(dr, move, &src, &dst, &overwrite, &deep))
		return;
	bool existed = dst.kind != DAV_RES_NONE;
	/* a file onto a file is replaced by the storage in the same transaction */
	bool in_place = src.kind == DAV_RES_FILE && dst.kind == DAV_RES_FILE;
	if (existed && !in_place && remove_target(dr, &dst) < 0)
		return;
	int64_t parent = dst.parent;
	if (src.kind == DAV_RES_FILE) {
		struct storage_file_place to = {
		    .folder = dst.parent, .name = dst.name, .overwrite = in_place};
		int r = move ? storage_file_move(dr->su, src.entry.id, &to, &err)
		             : storage_file_copy(dr->su, src.entry.id, &to, &err);
		if (r < 0) {
			place_failed(dr, &err);
			return;
		}
	} else if (move) {
		struct storage_folder_update up = {
		    .change = {.title = dst.name, .parent = parent != src.parent ? parent : 0}};
		struct folder *moved;
		if (storage_folder_update(dr->su, src.entry.id, &up, &moved, &fe, &err) < 0) {
			dav_folder_failed(dr, &fe, &err);
			return;
		}
	} else if (copy_folder(dr, src.entry.id, parent, dst.name, deep) < 0) {
		return;
	}
	if (move)
		dav_locks_removed(dr, src.path);
	dav_locks_mapped(dr, dst.path);
	http_response_status(dr->req, existed ? 204 : 201);
	http_response_send(dr->req);
}
