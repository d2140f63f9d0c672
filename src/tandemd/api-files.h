/* SPDX-License-Identifier: MIT */
/* What api-files.c shares with the WebDAV handlers (api-dav*.c). */
#ifndef TANDEMD_API_FILES_H
#define TANDEMD_API_FILES_H

#include <stdbool.h>
#include <stdint.h>

struct http_request;
struct infostore_version;
struct storage_user;

/* Answers req with a file's content as GET /api/v1/files/ID/content does: version (0 = the
   current one), ETag (etag_as, quoted, or the JSON API's own when NULL), If-None-Match, Range
   and If-Range, sent with sendfile; attachment adds Content-Disposition. Storage failures are
   answered with the JSON API's errors. */
void api_files_send_content(struct storage_user *su, struct http_request *req, int64_t id,
                            int64_t version, const char *etag_as, bool attachment);
/* The same for a version already opened (fd, taken over), with Content-Disposition naming
   attachment_name unless it is NULL. */
void api_files_send_open(struct http_request *req, const struct infostore_version *v,
                         const char *attachment_name, int fd, const char *etag_as);

#endif
