/* SPDX-License-Identifier: MIT */
/* A user's mail account: the provisioned fields over [mail]'s defaults. The URLs were checked
   when they were provisioned; one that no longer parses (a row written by hand) is refused
   here rather than guessed at. */
#include "api-mail-account.h"

#include <stdio.h>
#include <string.h>

#include "api-common.h"
#include "imap-client.h"
#include "log.h"
#include "mail-config.h"
#include "node.h"

int api_mail_account_of(const struct mail_settings *set, int64_t cid, const char *login,
                        const struct prov_login *row, struct api_mail_account *acct_r,
                        const char **why_r)
{
	static __thread char msg[PROV_MAIL_URL_MAX + 160];
	const char *why;
	memset(acct_r, 0, sizeof(*acct_r));
	if (!set->enabled) {
		*why_r = "no mail system is configured on this node ([mail] imap_url)";
		return -1;
	}
	if (row->imap_login[0] != '\0') {
		snprintf(acct_r->login, sizeof(acct_r->login), "%s", row->imap_login);
	} else if ((set->context != 0 && cid != set->context) || strchr(login, '*') != NULL) {
		/* the Tandem login is unique only within a context, and "*" would end the user's
		   part of Dovecot's user*master form */
		snprintf(msg, sizeof(msg),
		         "no mail system for %.130s in context %lld on this node ([mail] context; "
		         "or give the user an IMAP login)",
		         login, (long long)cid);
		*why_r = msg;
		return -1;
	} else {
		snprintf(acct_r->login, sizeof(acct_r->login), "%s", login);
	}
	acct_r->imap = set->imap;
	if (row->imap_server[0] != '\0') {
		if (mail_url_parse(row->imap_server, MAIL_URL_IMAP, &acct_r->imap, &why) < 0)
			goto bad_url;
		acct_r->own_imap = true;
	}
	acct_r->smtp = set->smtp;
	acct_r->smtp_set = set->smtp_set;
	if (row->smtp_server[0] != '\0') {
		if (mail_url_parse(row->smtp_server, MAIL_URL_SMTP, &acct_r->smtp, &why) < 0)
			goto bad_url;
		acct_r->smtp_set = true;
	}
	return 0;
bad_url:
	snprintf(msg, sizeof(msg), "the mail server provisioned for %.130s is unusable: %s", login,
	         why);
	*why_r = msg;
	return -1;
}

int api_mail_account_find(struct node *node, int64_t cid, const char *login,
                          struct api_mail_account *acct_r, char *why, size_t size)
{
	struct prov_error perr;
	struct prov_login row;
	const char *problem;
	struct provision *prov = node_provision(node, &perr);
	int r = prov == NULL ? -1 : provision_login_lookup(prov, cid, login, &row, &perr);
	if (r < 0) {
		snprintf(why, size, "the user database is unavailable: %s", perr.message);
		return -1;
	}
	if (r == 0) {
		snprintf(why, size, "user %s is gone from context %lld", login, (long long)cid);
		return -1;
	}
	if (api_mail_account_of(&node->cfg.mail, cid, login, &row, acct_r, &problem) < 0) {
		snprintf(why, size, "%s", problem);
		return -1;
	}
	return 0;
}

int api_mail_account(struct node *node, struct http_request *req, const struct api_user *caller,
                     struct api_mail_account *acct_r)
{
	char why[256];
	if (api_mail_account_find(node, caller->cid, caller->login, acct_r, why, sizeof(why)) < 0) {
		api_error(req, 503, "MAIL-0503", "%s", why);
		return -1;
	}
	return 0;
}

int api_mail_check_password(const struct mail_settings *set, int64_t cid, const char *login,
                            const struct prov_login *row, const char *password, char *why,
                            size_t size)
{
	struct api_mail_account acct;
	struct mail_error err = {0};
	struct imap_client *c = NULL;
	const char *problem;
	if (api_mail_account_of(set, cid, login, row, &acct, &problem) < 0) {
		log_warn("session", "IMAP login of %s@%lld not tried: %s", login, (long long)cid,
		         problem);
		return 0;
	}
	/* libetpan sends a password that is not an atom as a quoted string, escaping only '"'
	   and '\\': a CR or LF would end the command (RFC 3501 quoted strings have neither) */
	if (strpbrk(password, "\r\n") != NULL) {
		log_info("session",
		         "IMAP login of %s@%lld not tried: the password holds a line break", login,
		         (long long)cid);
		return 0;
	}
	unsigned timeout = set->timeout_ms < 5000 ? (unsigned)set->timeout_ms : 5000;
	int ret = -1;
	if (imap_client_connect(&acct.imap, timeout, &c, &err) < 0)
		goto out;
	if (imap_client_login(c, acct.login, NULL, password, &err) == 0) {
		ret = 1;
	} else if (err.kind == MAIL_AUTH && strstr(err.message, "[UNAVAILABLE]") == NULL) {
		/* refused; Dovecot says [UNAVAILABLE] when it cannot check (its passdb down) */
		ret = 0;
	}
out:
	imap_client_destroy(&c);
	if (ret < 0)
		snprintf(why, size, "%s", err.message);
	return ret;
}
