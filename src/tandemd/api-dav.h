/* SPDX-License-Identifier: MIT */
/* What the /dav/ handlers (api-dav*.c) share: the request, the URL-to-storage mapping and the
   DAV answers (docs/internals/dav.md "Files over WebDAV"). */
#ifndef TANDEMD_API_DAV_H
#define TANDEMD_API_DAV_H

#include <stdbool.h>
#include <stdint.h>

#include "api-common.h"
#include "dav-headers.h"
#include "folder.h"
#include "infostore.h"
#include "storage.h"

struct http_request;
struct node;

/* One authenticated DAV request. Lives in the request's pool. */
struct dav_req {
	struct node *node;
	struct http_request *req;
	struct pool *pool;
	struct api_user user;
	struct storage_user *su;
	struct dav_origin origin;
	const char *path; /* decoded, as received (a collection's trailing slash kept) */
};

enum dav_res_kind {
	DAV_RES_NONE,      /* nothing is mapped there */
	DAV_RES_VIRTUAL,   /* a fixed collection: /dav/, /dav/files/, shared/, principals */
	DAV_RES_FOLDER,    /* a folder (home/, public/ and everything below them) */
	DAV_RES_FILE,      /* a file in a folder */
	DAV_RES_PRINCIPAL, /* /dav/principals/users/<login>/: the user's own principal */
};

/* What a decoded path names for the user. */
struct dav_res {
	enum dav_res_kind kind;
	const char *path; /* decoded, no trailing slash: "/dav/files/home/a" ("/dav" for /dav/) */
	const char *name; /* last segment */
	/* FOLDER: the folder itself; FILE and NONE: the folder it is (or would be) in, NULL when
	   that is not a folder (NONE below a virtual collection or below a missing one) */
	struct folder *folder;
	struct infostore_file file;  /* FILE */
	const char *const *children; /* VIRTUAL: names of its members, NULL-terminated */
	bool parent_missing;         /* NONE: some ancestor is not there either (409) */
};

/* Maps path (decoded) to *res_r. 0, or -1 after answering req (the storage failed). */
int dav_map_resolve(struct dav_req *dr, const char *path, struct dav_res *res_r);
/* The members of a FOLDER: subfolders and files the user may see. 0, or -1 after answering. */
int dav_map_members(struct dav_req *dr, const struct dav_res *res, struct folder ***folders_r,
                    size_t *folder_count_r, json_t **files_r);
/* The strong entity tag of a file ("<md5>-<version>" in quotes), from dr's pool. */
const char *dav_map_etag(struct dav_req *dr, const char *md5, int64_t version);

/* Answers req: status with a DAV:error body naming precondition (RFC 4918 §16) when it is
   not NULL, else a JSON error body with code and the message. */
void dav_fail(struct dav_req *dr, int status, const char *precondition, const char *code,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answers a failed storage call (storage-file.h refusals) as the JSON API does. */
void dav_storage_failed(struct dav_req *dr, const struct storage_error *err);
/* Answers a failed folder operation (folder_error in fe, or err). */
void dav_folder_failed(struct dav_req *dr, const struct folder_error *fe,
                       const struct storage_error *err);

/* What a collection and what a file allow (OPTIONS, 405). */
#define DAV_ALLOW_COLLECTION                                                                       \
	"OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"
#define DAV_ALLOW_FILE                                                                             \
	"OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK"

/* The methods (api-dav-propfind.c, api-dav-write.c, api-dav-put.c). */
void dav_propfind(struct dav_req *dr);
/* PUT's on_head (loop thread): streams the body when the credentials are known. */
void dav_put_head(void *ctx, struct http_request *req);
void dav_put(struct dav_req *dr);
void dav_get(struct dav_req *dr);
void dav_delete(struct dav_req *dr);
void dav_mkcol(struct dav_req *dr);

#endif
