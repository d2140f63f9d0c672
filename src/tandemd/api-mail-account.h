/* SPDX-License-Identifier: MIT */
/* Where a user's mail is (docs/mail.md "Per-user mail servers"): the IMAP and SMTP servers and
   the IMAP login provisioning gave the user, else [mail]'s defaults and the Tandem login. The
   mail API and the IMAP login check ([auth] method = imap) both ask here. */
#ifndef TANDEMD_API_MAIL_ACCOUNT_H
#define TANDEMD_API_MAIL_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail-url.h"
#include "provision.h"

struct api_user;
struct http_request;
struct mail_settings;
struct node;

struct api_mail_account {
	struct mail_url imap; /* the user's server, or [mail] imap_url */
	bool own_imap;        /* imap is the user's own (provisioned) server */
	struct mail_url smtp; /* the user's, or [mail] smtp_url */
	bool smtp_set;        /* one of them is set */
	char login[PROV_IMAP_LOGIN_MAX + 1];
};

/* The account of login in context cid from its login row (provision_login_lookup). 0, or -1
   with *why_r (a static message) when the user has no mail account on this node: no [mail]
   imap_url, or no imap_login of their own while their context is not [mail] context (Tandem
   logins are unique only within a context). */
int api_mail_account_of(const struct mail_settings *set, int64_t cid, const char *login,
                        const struct prov_login *row, struct api_mail_account *acct_r,
                        const char **why_r);

/* The account of login in context cid, read from the user database. 0, or -1 with why (size
   bytes) saying what is missing: the database, the user, or a mail account here. */
int api_mail_account_find(struct node *node, int64_t cid, const char *login,
                          struct api_mail_account *acct_r, char *why, size_t size);

/* The same for the caller of req, read from the user database; -1 after answering req (503
   MAIL-0503 naming why). */
int api_mail_account(struct node *node, struct http_request *req, const struct api_user *caller,
                     struct api_mail_account *acct_r);

/* [auth] method = imap: whether the mail system takes password for login (whose row is row)
   by an IMAP LOGIN on a fresh connection of its own (no master user; at most 5 s or [mail]
   timeout; logged out after). 1 taken, 0 refused (or the user has no account here: logged),
   -1 when it could not be asked (down, timed out, its authentication unavailable) with why
   (size bytes) saying so. Blocking: workers only. */
int api_mail_check_password(const struct mail_settings *set, int64_t cid, const char *login,
                            const struct prov_login *row, const char *password, char *why,
                            size_t size);

#endif
