/* SPDX-License-Identifier: MIT */
/* GET/HEAD, DELETE and MKCOL on /dav/ (RFC 4918 §9.3, §9.4, §9.6) over the storage layer. */
#include <string.h>
#include <unistd.h>

#include "api-dav.h"
#include "api-files.h"
#include "dav-xml.h"
#include "http-server.h"
#include "storage-file.h"
#include "storage-folder.h"

void dav_get(struct dav_req *dr)
{
	struct dav_res res;
	struct infostore_version v;
	/* a file's row, version and content in the walk's one transaction */
	dr->open_version = &v;
	dr->open_fd = -1;
	int r = dav_map_resolve(dr, dr->path, &res);
	dr->open_version = NULL;
	int fd = dr->open_fd;
	if (r < 0 || res.kind != DAV_RES_FILE || !dav_check_conditions(dr, &res, true)) {
		if (fd >= 0)
			close(fd);
		if (r < 0 || res.kind == DAV_RES_FILE)
			return; /* answered */
	}
	switch (res.kind) {
	case DAV_RES_NONE:
		dav_fail(dr, 404, NULL, "DAV-0404", "nothing at %s", dr->path);
		return;
	case DAV_RES_FILE: {
		/* RFC 7232 §2.2: what If-(Un)Modified-Since compare with */
		char date[DAV_DATE_SIZE];
		dav_date(date, res.entry.modified, true);
		http_response_header(dr->req, "Last-Modified", date);
		api_files_send_open(dr->req, &v, NULL, fd, res.entry.etag);
		return;
	}
	default: {
		/* a collection has no content of its own: clients list it with PROPFIND */
		static const char text[] = "This is a WebDAV collection: list it with PROPFIND.\n";
		http_response_simple(dr->req, 200, "text/plain; charset=utf-8", text,
		                     sizeof(text) - 1);
		return;
	}
	}
}

void dav_delete(struct dav_req *dr)
{
	struct storage_error err;
	struct folder_error fe;
	struct dav_res res;
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.kind == DAV_RES_NONE) {
		dav_fail(dr, 404, NULL, "DAV-0404", "nothing at %s", dr->path);
		return;
	}
	if (res.kind != DAV_RES_FILE && (res.kind != DAV_RES_FOLDER || res.area_root)) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s cannot be deleted", dr->path);
		return;
	}
	if (!dav_check_conditions(dr, &res, false) || !dav_check_locks(dr, &res, true))
		return;
	if (res.kind == DAV_RES_FILE) {
		if (storage_file_delete(dr->su, res.entry.id, &err) < 0) {
			dav_storage_failed(dr, &err);
			return;
		}
	} else {
		enum dav_depth depth;
		const char *error;
		/* RFC 4918 §9.6.1: a collection goes with everything in it, nothing less */
		if (dav_depth_parse(http_request_header(dr->req, "Depth"), DAV_DEPTH_INFINITY,
		                    &depth, &error) < 0 ||
		    depth != DAV_DEPTH_INFINITY) {
			dav_fail(dr, 400, NULL, "DAV-0400",
			         "DELETE of a collection takes Depth: infinity or none");
			return;
		}
		if (storage_folder_delete(dr->su, res.entry.id, &fe, &err) < 0) {
			dav_folder_failed(dr, &fe, &err);
			return;
		}
	}
	dav_locks_removed(dr, &res);
	http_response_status(dr->req, 204);
	http_response_send(dr->req);
}

void dav_mkcol(struct dav_req *dr)
{
	struct storage_error err;
	struct folder_error fe;
	struct dav_res res;
	if (!dav_xml_body_empty(dav_body(dr)) ||
	    http_request_header(dr->req, "Content-Type").ptr != NULL) {
		/* RFC 4918 §9.3: we know of no MKCOL body */
		dav_fail(dr, 415, NULL, "DAV-0415", "MKCOL takes no body");
		return;
	}
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.kind != DAV_RES_NONE) {
		http_response_header(dr->req, "Allow",
		                     res.kind == DAV_RES_FILE ? DAV_ALLOW_FILE
		                                              : DAV_ALLOW_COLLECTION);
		dav_fail(dr, 405, NULL, "DAV-0405", "%s exists already", dr->path);
		return;
	}
	if (res.parent_missing) {
		dav_fail(dr, 409, NULL, "DAV-0409", "the parent of %s does not exist", dr->path);
		return;
	}
	if (res.parent == 0) {
		dav_fail(dr, 403, NULL, "DAV-0403", "no collection can be made at %s", dr->path);
		return;
	}
	if (!dav_check_conditions(dr, &res, false) || !dav_check_locks(dr, &res, false))
		return;
	/* a collection is a files folder, below the public root too (where nothing is inherited) */
	struct folder *made;
	if (storage_folder_create(dr->su, res.parent, res.name, "infostore", NULL, &made, &fe,
	                          &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return;
	}
	dav_locks_mapped(dr, &res);
	http_response_status(dr->req, 201);
	http_response_send(dr->req);
}
