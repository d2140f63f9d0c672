/* SPDX-License-Identifier: MIT */
/* Streamed uploads into a user's files (docs/internals/filestore.md "Quota holds"): the body
   goes to a temp file as it arrives, only as far as a hold on the context's quota reaches,
   then becomes a new file or the next version of the file of that name. Shared by PUT
   /api/v1/files and WebDAV's PUT. */
#ifndef TANDEMD_FILE_UPLOAD_H
#define TANDEMD_FILE_UPLOAD_H

#include <stdint.h>

#include "strv.h"

#include "api-common.h"
#include "storage-file.h"

struct http_request;
struct node;

/* A refusal decided before it is sent: an upload must drop its temp file first, so that a
   client never sees it left behind after the answer. */
struct file_refusal {
	int status;
	const char *code;
	char message[300];
};
void file_refusal_set(struct file_refusal *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The JSON API's answer (FIL-… codes) to a failed storage call. */
void file_refusal_storage(struct file_refusal *r, const struct storage_error *err);

struct file_upload;

/* Loop thread, from a route's on_head once user is authenticated: takes req's body as a
   stream (paused until a worker has found the context, held quota for the first bytes and
   made the temp file). Lives in req's pool, which also drops its temp file and hold when
   the request ends early. NULL after answering 503 (shutting down). */
struct file_upload *file_upload_start(struct node *node, struct http_request *req,
                                      const struct api_user *user);

/* Where a received upload goes. */
struct file_upload_dest {
	int64_t folder;
	const char *name; /* checked by the caller (infostore_check_name) */
	const char *content_type;
};

/* Worker, once the body is over (or a hold was refused): checks the folder, publishes the
   temp file and adds the rows (quota, object limit, versions). up NULL: the body was not
   streamed (an empty one, or a small one kept in memory: buffered), and there is no hold:
   the quota is checked when the rows are added. The temp file is gone and the hold dropped
   when this returns, so the answer finds the store as it stays. 0 with *result_r (created,
   file), or -1 with *why. */
int file_upload_store(struct node *node, struct http_request *req, struct file_upload *up,
                      const struct api_user *user, struct strv buffered,
                      const struct file_upload_dest *dest, struct storage_file_upload *result_r,
                      struct file_refusal *why);

#endif
