/* SPDX-License-Identifier: MIT */
/* /api/v1/mail: folders and sorted message pages over the operator's IMAP server (docs/mail.md,
   docs/api.md "Mail"). */
#ifndef TANDEMD_API_MAIL_H
#define TANDEMD_API_MAIL_H

struct imap_pool;
struct mail_settings;

/* The node's IMAP pool for [mail], or NULL when imap_url is not set. */
struct imap_pool *api_mail_pool_create(const struct mail_settings *set);

/* For the handlers of /api/v1/mail/messages/{folder}/{uid}/…: reads the path's message whole
   as caller (data in the request's pool). 0, or -1 after answering (404, 503 …). */
#include <stddef.h>
#include <stdint.h>
struct api_user;
struct http_request;
struct node;
int api_mail_read_path(struct node *node, struct http_request *req, const struct api_user *caller,
                       const char **folder_r, uint32_t *uid_r, const char **data_r, size_t *size_r);

#endif
