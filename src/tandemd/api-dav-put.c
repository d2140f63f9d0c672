/* SPDX-License-Identifier: MIT */
/* PUT on /dav/ (RFC 4918 §9.7): an upload as the JSON API makes it (file-upload.h: streamed
   to disk under a quota hold, versions, the object limit), into the folder the URL names. */
#include <string.h>

#include "api-dav.h"
#include "buf.h"
#include "dav-auth.h"
#include "file-upload.h"
#include "http-server.h"
#include "pool.h"

/* A body whose sender is not known yet is kept in memory up to this (docs/internals/dav.md
   "PUT"); beyond it the client is asked to send it again once its password is checked. */
#define DAV_PUT_UNKNOWN_MAX (1024 * 1024)

bool dav_put_head(struct node *node, struct http_request *req, struct dav_body *body)
{
	struct api_user user;
	/* Checking a password takes a worker, and a body must not wait on the loop for one:
	   clients send OPTIONS or PROPFIND first, so their credentials are known by now. */
	if (dav_auth_cached(node, req, &user)) {
		body->up = file_upload_start(node, req, &user);
		return body->up != NULL;
	}
	body->max = DAV_PUT_UNKNOWN_MAX;
	return false;
}

void dav_put(struct dav_req *dr)
{
	struct http_request *req = dr->req;
	struct dav_body *put = dr->body;
	struct dav_res res;
	const char *problem;
	if (put->too_large) {
		/* dav() has checked the password meanwhile: the next try streams */
		http_response_header(req, "Retry-After", "0");
		dav_fail(dr, 503, NULL, "DAV-0503",
		         "your login is checked now: send the upload again to stream it");
		return;
	}
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.kind != DAV_RES_NONE && res.kind != DAV_RES_FILE) {
		http_response_header(req, "Allow", DAV_ALLOW_COLLECTION);
		dav_fail(dr, 405, NULL, "DAV-0405", "%s is a collection", dr->path);
		return;
	}
	if (res.parent_missing || res.parent == 0) {
		dav_fail(dr, 409, NULL, "DAV-0409", "no folder to put %s into", dr->path);
		return;
	}
	if (!dav_check_conditions(dr, &res, false) || !dav_check_locks(dr, &res, false))
		return;
	if ((problem = infostore_check_name(res.name, strlen(res.name))) != NULL) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", problem);
		return;
	}
	struct file_upload_dest dest = {.folder = res.parent, .name = res.name};
	struct strv type = strv_trim(http_request_header(req, "Content-Type"));
	if (type.ptr == NULL || type.len == 0) {
		dest.content_type = INFOSTORE_DEFAULT_TYPE;
	} else if ((problem = infostore_check_content_type(type)) != NULL) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", problem);
		return;
	} else {
		dest.content_type = pool_strndup(dr->pool, type.ptr, type.len);
	}
	struct storage_file_upload result;
	struct file_refusal why;
	if (file_upload_store(dr->node, req, put->up, &dr->user, buf_strv(&put->buf), &dest,
	                      &result, &why) < 0) {
		/* RFC 4918 §9.7.1: a quota is Insufficient Storage, and so is the object limit */
		int status = why.status == 413 ? 507 : why.status == 404 ? 409 : why.status;
		dav_fail(dr, status, NULL, why.code, "%s", why.message);
		return;
	}
	dav_locks_mapped(dr, res.path);
	/* the row the upload's transaction committed, not read back; no tag for a file the user
	   may not read ("read own" on someone else's) */
	char etag[STORAGE_DAV_ETAG_SIZE];
	storage_dav_etag(&result.file, etag);
	if (result.readable)
		http_response_header(req, "ETag", etag);
	http_response_status(req, result.created ? 201 : 204);
	http_response_send(req);
}
