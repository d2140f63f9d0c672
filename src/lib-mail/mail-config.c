/* SPDX-License-Identifier: MIT */
/* [mail]: strict, so that a wrong URL or an unreadable password file stops the start (and
   --check-config) instead of turning every mail request into a 503. */
#include "mail-config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "secret-file.h"

static __thread char msg[600];

#define PROBLEM(k, ...)                                                                            \
	do {                                                                                       \
		*key_r = (k);                                                                      \
		snprintf(msg, sizeof(msg), __VA_ARGS__);                                           \
		*problem_r = msg;                                                                  \
		return -1;                                                                         \
	} while (0)

/* The password: the file's first line, the file not readable by others. */
static int read_password(const char *file, const char *config_path, char *out, size_t size,
                         const char **error_r)
{
	static __thread char err[400];
	char path[4096], buf[4096]; /* the first line is the password; the rest is ignored */
	const char *why;
	if (secret_file_path(config_path, file, path, sizeof(path)) < 0) {
		*error_r = "the path is empty or too long";
		return -1;
	}
	ssize_t got = secret_file_read(path, buf, sizeof(buf), &why);
	if (got < 0) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, sizeof(err), "%.300s: %s", path, why);
		*error_r = err;
		return -1;
	}
	size_t len = strcspn(buf, "\r\n");
	if (len == 0 || len > MAIL_PASSWORD_MAX || len >= size) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, sizeof(err),
		         "%.300s must hold the password (1-%d bytes) on its first line", path,
		         MAIL_PASSWORD_MAX);
		*error_r = err;
		return -1;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int mail_config_load(const struct config *cfg, const char *config_path, struct mail_settings *set,
                     const char **key_r, const char **problem_r)
{
	const char *imap = config_get_str(cfg, "mail", "imap_url");
	const char *smtp = config_get_str(cfg, "mail", "smtp_url");
	const char *pwfile = config_get_str(cfg, "mail", "master_password_file");
	const char *error;
	memset(set, 0, sizeof(*set));
	set->master_user = config_get_str(cfg, "mail", "master_user");
	uint64_t max = config_get_uint(cfg, "mail", "max_connections");
	uint64_t per_user = config_get_uint(cfg, "mail", "connections_per_user");
	set->timeout_ms = config_get_duration_ms(cfg, "mail", "timeout");
	set->idle_timeout_ms = config_get_duration_ms(cfg, "mail", "idle_timeout");
	if (imap != NULL && mail_url_parse(imap, MAIL_URL_IMAP, &set->imap, &error) < 0)
		PROBLEM("imap_url", "[mail] imap_url %s", error);
	set->enabled = imap != NULL;
	if (smtp != NULL && mail_url_parse(smtp, MAIL_URL_SMTP, &set->smtp, &error) < 0)
		PROBLEM("smtp_url", "[mail] smtp_url %s", error);
	set->smtp_set = smtp != NULL;
	if (set->master_user != NULL &&
	    (set->master_user[0] == '\0' || strlen(set->master_user) > 128 ||
	     strpbrk(set->master_user, "*\" \t\\") != NULL))
		PROBLEM("master_user",
		        "[mail] master_user must be 1-128 characters without '*', '\"', '\\' or "
		        "blanks");
	if (set->enabled && set->master_user == NULL)
		PROBLEM(
		    "imap_url",
		    "[mail] imap_url needs master_user and master_password_file (Tandem logs in "
		    "as user*master_user: docs/mail.md)");
	if ((set->master_user != NULL) != (pwfile != NULL))
		PROBLEM(pwfile == NULL ? "master_user" : "master_password_file",
		        "[mail] master_user and master_password_file go together");
	if (pwfile != NULL && read_password(pwfile, config_path, set->master_password,
	                                    sizeof(set->master_password), &error) < 0)
		PROBLEM("master_password_file", "[mail] master_password_file: %s", error);
	if (max == 0 || max > 100000)
		PROBLEM("max_connections", "[mail] max_connections must be between 1 and 100000");
	if (per_user == 0 || per_user > 16)
		PROBLEM("connections_per_user",
		        "[mail] connections_per_user must be between 1 and 16");
	if (set->timeout_ms < 100 || set->timeout_ms > 300000)
		PROBLEM("timeout", "[mail] timeout must be between 100ms and 5m");
	if (set->idle_timeout_ms < 1000 || set->idle_timeout_ms > 1800000)
		PROBLEM("idle_timeout",
		        "[mail] idle_timeout must be between 1s and 30m (Dovecot logs idle clients "
		        "out after 30m)");
	uint64_t context = config_get_uint(cfg, "mail", "context");
	if (context > INT64_MAX)
		PROBLEM("context", "[mail] context must be a context id, or 0 for every context");
	set->context = (int64_t)context;
	set->max_message_size = config_get_size(cfg, "mail", "max_message_size");
	if (set->max_message_size < 1024 || set->max_message_size > (1ull << 30))
		PROBLEM("max_message_size", "[mail] max_message_size must be between 1K and 1G");
	set->max_connections = (unsigned)max;
	set->connections_per_user = (unsigned)per_user;
	return 0;
}
