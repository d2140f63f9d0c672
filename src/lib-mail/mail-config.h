/* SPDX-License-Identifier: MIT */
/* tandemd's [mail] section (docs/configuration.md "[mail]"): where the mail system is and how
   the node logs in to it. */
#ifndef TANDEM_MAIL_CONFIG_H
#define TANDEM_MAIL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "mail-url.h"

struct config;

/* Appended to a daemon's config schema. */
/* clang-format off */
#define MAIL_CONFIG_KEYS \
	{"mail", "imap_url", CONFIG_STRING, NULL, false}, \
	{"mail", "smtp_url", CONFIG_STRING, NULL, false}, \
	{"mail", "master_user", CONFIG_STRING, NULL, false}, \
	{"mail", "master_password_file", CONFIG_STRING, NULL, false}, \
	{"mail", "max_connections", CONFIG_UINT, "100", false}, \
	{"mail", "connections_per_user", CONFIG_UINT, "2", false}, \
	{"mail", "timeout", CONFIG_DURATION, "10s", false}, \
	{"mail", "idle_timeout", CONFIG_DURATION, "5m", false}, \
	{"mail", "context", CONFIG_UINT, "1", false}, \
	{"mail", "max_message_size", CONFIG_SIZE, "25M", false}
/* clang-format on */

#define MAIL_PASSWORD_MAX 256

struct mail_settings {
	bool enabled; /* imap_url is set */
	struct mail_url imap;
	bool smtp_set;
	struct mail_url smtp;
	const char *master_user;
	char master_password[MAIL_PASSWORD_MAX + 1];
	unsigned max_connections;
	unsigned connections_per_user;
	uint64_t timeout_ms;
	uint64_t idle_timeout_ms;
	/* the context whose users have mail here (their IMAP login is their Tandem login, which is
	   unique only within a context); 0: every context (the operator vouches that logins are
	   unique across contexts) */
	int64_t context;
	/* a message sent or saved as a draft, and so each upload, is at most this many bytes
	   (before transfer encoding) */
	uint64_t max_message_size;
};

/* Loads and checks [mail] of cfg (config_path: the file, for relative password file paths),
   reading the password file. 0, or -1 with *key_r and *problem_r (a static message naming the
   key: "[mail] imap_url: …"). */
int mail_config_load(const struct config *cfg, const char *config_path, struct mail_settings *set,
                     const char **key_r, const char **problem_r);

#endif
