/* SPDX-License-Identifier: MIT */
/* /api/v1/mail: folders and sorted message pages over the operator's IMAP server (docs/mail.md,
   docs/api.md "Mail"). */
#ifndef TANDEMD_API_MAIL_H
#define TANDEMD_API_MAIL_H

#include <stdint.h>

struct imap_pool;
struct mail_settings;

/* The node's IMAP pool for [mail], or NULL when imap_url is not set. */
struct imap_pool *api_mail_pool_create(const struct mail_settings *set);

/* --- shared with api-mail-*.c (the handlers api-mail.c does not hold) --- */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "imap-client.h"

struct api_user;
struct http_request;
struct node;
struct pool;

/* One piece of work on a logged-in client of the caller's. */
typedef int api_mail_op_fn(struct imap_client *client, void *ctx, struct mail_error *err);
/* Runs op on a pooled client of user's (a stale pooled one is replaced once): 0, or -1 after
   answering (503 when no mail system, 404, 502, 503 as the error's kind says). */
int api_mail_with_client(struct node *node, struct http_request *req, const struct api_user *user,
                         api_mail_op_fn *op, void *ctx);
/* A message list item: {"uid","from","subject","date","flags","size"}. */
json_t *api_mail_message_json(const struct imap_message *m);
/* The caller and the {folder} and {uid} of a message path: false after answering. */
bool api_mail_message_target(struct node *node, struct http_request *req, struct api_user *user,
                             struct pool **pool_r, const char **folder_r, uint32_t *uid_r);
/* A folder name member of a JSON body (as move's "to"); NULL after answering 400. */
const char *api_mail_body_folder(struct http_request *req, json_t *body, const char *key);

/* api-mail-search.c: GET /api/v1/mail/messages with q= and/or thread=1, the listing's
   parameters already checked. False (nothing answered) when neither is asked for. */
bool api_mail_search(struct node *node, struct http_request *req, const struct api_user *user,
                     const char *folder, const char *sort, enum imap_sort key, bool reverse,
                     int64_t offset, int64_t limit);
/* For the handlers of /api/v1/mail/messages/{folder}/{uid}/…: reads the path's message whole
   as caller (data in the request's pool). 0, or -1 after answering (404, 503 …). */
#include <stddef.h>
#include <stdint.h>
struct api_user;
struct http_request;
struct node;
int api_mail_read_path(struct node *node, struct http_request *req, const struct api_user *caller,
                       const char **folder_r, uint32_t *uid_r, const char **data_r, size_t *size_r);
/* For the other mail route files (api-mail-send.c). */
struct api_user;
struct http_request;
struct imap_client;
struct mail_error;
struct mail_part_info;
struct node;
struct pool;
/* api_mail_with_client() above runs op on a pooled IMAP client of the caller's. */
/* Answers err as the mail routes do. */
void api_mail_failed(struct http_request *req, const char *login, const struct mail_error *err);
/* Part part of message uid in folder, decoded, into fd (truncated first), its headers in
 *info_r. */
int api_mail_fetch_part(struct imap_client *client, struct pool *pool, const char *folder,
                        uint32_t uid, const char *part, int fd, struct mail_part_info *info_r,
                        struct mail_error *err);
/* An unnamed temporary file in dir, or -1 (errno). */
int api_mail_temp_file(const char *dir);

#endif
