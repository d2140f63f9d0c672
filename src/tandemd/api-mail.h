/* SPDX-License-Identifier: MIT */
/* /api/v1/mail: folders and sorted message pages over the operator's IMAP server (docs/mail.md,
   docs/api.md "Mail"). */
#ifndef TANDEMD_API_MAIL_H
#define TANDEMD_API_MAIL_H

struct imap_pool;
struct mail_settings;

/* The node's IMAP pool for [mail], or NULL when imap_url is not set. */
struct imap_pool *api_mail_pool_create(const struct mail_settings *set);

#endif
