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

/* For the other mail route files (api-mail-send.c, api-mail-reply.c, …). */
#include <stddef.h>
struct api_user;
struct http_request;
struct imap_client;
struct mail_error;
struct mail_part_info;
struct node;
struct pool;
typedef int api_mail_op_fn(struct imap_client *client, void *ctx, struct mail_error *err);
/* Runs op on a pooled IMAP client of the caller's (a dead pooled one replaced once). 0, or
   -1 after answering (404, 409, 502, 503 by the error's kind). */
int api_mail_with_client(struct node *node, struct http_request *req, const struct api_user *caller,
                         api_mail_op_fn *op, void *ctx);
/* For the handlers of /api/v1/mail/messages/{folder}/{uid}/…: reads the path's message whole
   as caller (data in the request's pool). 0, or -1 after answering (404, 503 …). */
int api_mail_read_path(struct node *node, struct http_request *req, const struct api_user *caller,
                       const char **folder_r, uint32_t *uid_r, const char **data_r, size_t *size_r);
/* Part `part` of message uid in folder, decoded, into fd (truncated first); its MIME
   headers read into info_r. */
int api_mail_fetch_part(struct imap_client *client, struct pool *pool, const char *folder,
                        uint32_t uid, const char *part, int fd, struct mail_part_info *info_r,
                        struct mail_error *err);
/* An unnamed temporary file in dir, or -1 (errno). */
int api_mail_temp_file(const char *dir);

#endif
