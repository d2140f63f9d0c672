/* SPDX-License-Identifier: MIT */
/* COPY and MOVE on /dav/ (RFC 4918 §9.8, §9.9): within this server, Overwrite, Depth; a file
   or folder moves or is copied by the storage layer in one transaction (a copy all or
   nothing). */
#include <string.h>

#include "api-dav.h"
#include "http-server.h"
#include "log.h"
#include "pool.h"
#include "storage-file.h"
#include "storage-folder.h"

/* The answer to a storage refusal of a copy or move (fe: of a folder's, or NULL). */
static void place_failed(struct dav_req *dr, const struct folder_error *fe,
                         const struct storage_error *err)
{
	if (err->status == STORAGE_REFUSED && err->detail == STORAGE_DETAIL_EXISTS) {
		dav_fail(dr, 412, NULL, "DAV-0412", "%s", err->message);
		return;
	}
	if (err->status == STORAGE_REFUSED && err->detail == STORAGE_DETAIL_LOOP) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s", err->message);
		return;
	}
	if (fe != NULL) {
		dav_folder_failed(dr, fe, err);
		return;
	}
	if (err->status == STORAGE_REFUSED && err->refusal == STORAGE_INVALID) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", err->message);
		return;
	}
	dav_storage_failed(dr, err);
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
	dav_locks_removed(dr, dst);
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
	/* a file onto a file, a folder onto a folder: replaced by the storage in the same
	   transaction; otherwise the target goes first */
	bool in_place = existed && src.entry.collection == dst.entry.collection;
	if (existed && !in_place && remove_target(dr, &dst) < 0)
		return;
	int r;
	if (src.kind == DAV_RES_FILE) {
		struct storage_file_place to = {
		    .folder = dst.parent, .name = dst.name, .overwrite = in_place};
		r = move ? storage_file_move(dr->su, src.entry.id, &to, &err)
		         : storage_file_copy(dr->su, src.entry.id, &to, &err);
	} else {
		struct storage_folder_place to = {
		    .parent = dst.parent, .title = dst.name, .overwrite = in_place};
		r = move ? storage_folder_move(dr->su, src.entry.id, &to, &fe, &err)
		         : storage_folder_copy(dr->su, src.entry.id, &to, deep, &fe, &err);
	}
	if (r < 0) {
		place_failed(dr, src.kind == DAV_RES_FILE ? NULL : &fe, &err);
		return;
	}
	if (move)
		dav_locks_removed(dr, &src);
	dav_locks_mapped(dr, &dst);
	http_response_status(dr->req, existed ? 204 : 201);
	http_response_send(dr->req);
}
