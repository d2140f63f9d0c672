/* SPDX-License-Identifier: MIT */
/* What every /api/v1 module shares: session authentication, storage's context errors, error
   replies and request parsing (JSON values go out with lib-http's http_response_json()). */
#ifndef TANDEMD_API_COMMON_H
#define TANDEMD_API_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "provision.h"

struct http_request;
struct node;
struct storage_error;

/* The authenticated caller of an /api/v1 request. */
struct api_user {
	int64_t cid;
	int64_t uid;
	char login[130]; /* without @mapping */
	char session[33];
};

/* Validates req's session: id from the `session` query parameter or the X-Session header,
   secret from the tandem-secret-<hash> cookie, optional IP check; refreshes its idle time.
   On failure answers 401 (SES-…) and returns false. No SQL and no hashing when the session
   is known: safe on the loop thread (on_head) and on workers. */
bool api_auth(struct node *node, struct http_request *req, struct api_user *user_r);

/* When err says the context was not found (404) or its database cannot be located now (503):
   answers req (API-0404, API-0503 with err's message) and returns true; false for any other error.
 */
bool api_storage_context_failed(struct http_request *req, const struct storage_error *err);

/* For /admin/v1 operations calls: true when req carries the master admin's credentials;
   otherwise answers it (401, 429, 403 "only the master admin <what>", 503 without a configdb)
   and returns false. */
bool api_master_only(struct node *node, struct http_request *req, const char *what);

/* The code of a 503 answer to a write refused because the primary database is down; reads
   still work meanwhile (docs/internals/replication.md). Shared by every API. */
#define API_CODE_READ_ONLY "DB-0503"

/* http_response_error() with a printf message: {"error":{"code":code,"message":…}}. */
void api_error(struct http_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The request body as a JSON object; NULL after answering 400 (empty, malformed, not an
   object). The caller json_decref()s it. */
json_t *api_body_object(struct http_request *req);
/* A query parameter, percent-decoded, in request memory; NULL when absent. */
const char *api_query(struct http_request *req, const char *name);
/* A query parameter as a positive id: 1 found, 0 absent, -1 after answering 400. */
int api_query_id(struct http_request *req, const char *name, int64_t *id_r);
/* A query parameter as a non-negative number: 1 found, 0 absent, -1 after answering 400 with
   code. */
int api_query_count(struct http_request *req, const char *name, const char *code, int64_t *v_r);
/* The folder-object listings' parameters (events, tasks, contacts): the required "folder"
   id and the optional "since" (*has_since_r) and "limit" (0 when absent): 0, or -1 after
   answering 400 with code. */
int api_query_folder_cursor(struct http_request *req, const char *code, int64_t *folder_r,
                            int *has_since_r, int64_t *since_r, int64_t *limit_r);
/* The required "folder" id of a create: 0, or -1 after answering 400 with code. */
int api_query_folder(struct http_request *req, const char *code, int64_t *folder_r);
/* If-Match's entity tag without its quotes (a weak or list value then matches no ETag), in
   request memory; NULL when absent. */
const char *api_if_match(struct http_request *req);

#endif
