/* SPDX-License-Identifier: MIT */
/* The [http] configuration section every HTTP daemon shares (request limits and timeouts), and
   the [ajp] section of a daemon that takes AJP13 from a web server in front. */
#ifndef TANDEM_HTTP_CONFIG_H
#define TANDEM_HTTP_CONFIG_H

#include <stdbool.h>

#include "config.h"
#include "http-parser.h"

/* Schema entries of [http], to splice into a daemon's config_key array. */
/* clang-format off */
#define HTTP_CONFIG_KEYS                                                                           \
	{"http", "max_header_bytes", CONFIG_SIZE, "32K", false},                                   \
	{"http", "max_line", CONFIG_SIZE, "8K", false},                                            \
	{"http", "max_headers", CONFIG_UINT, "100", false},                                        \
	{"http", "max_body", CONFIG_SIZE, "1G", false},                                            \
	{"http", "max_buffered_body", CONFIG_SIZE, "1M", false},                                   \
	{"http", "idle_timeout", CONFIG_DURATION, "60s", false},                                   \
	{"http", "header_timeout", CONFIG_DURATION, "10s", false},                                 \
	{"http", "body_timeout", CONFIG_DURATION, "30s", false}
/* clang-format on */

/* Fills *limits from the [http] keys of a config loaded with HTTP_CONFIG_KEYS. */
void http_config_limits(const struct config *cfg, struct http_limits *limits);

/* clang-format off */
#define AJP_CONFIG_KEYS                                                                            \
	{"ajp", "listen", CONFIG_ADDRESS, NULL, false},                                            \
	{"ajp", "secret", CONFIG_STRING, NULL, false},                                             \
	{"ajp", "secret_file", CONFIG_STRING, NULL, false},                                        \
	{"ajp", "allow_no_secret", CONFIG_BOOL, "false", false}
/* clang-format on */

#define AJP_SECRET_MAX 256 /* bytes, NUL included */

struct http_ajp_config {
	const char *listen;          /* NULL: no AJP listener */
	char secret[AJP_SECRET_MAX]; /* "" = none (allow_no_secret) */
	bool allow_no_secret;
};

/* The [ajp] keys of a config loaded with AJP_CONFIG_KEYS (config_path: the file's, for a
   relative secret_file). Refused, with the key at fault in *key_r and a message: secret and
   secret_file both; a secret that is empty, too long or has control or space bytes; a
   secret_file that cannot be read, is not a regular file or that other users may read; a
   listener without a secret unless allow_no_secret; and a listener on a non-loopback
   address without a secret in any case (CVE-2020-1938). */
int http_config_ajp(const struct config *cfg, const char *config_path,
                    struct http_ajp_config *ajp_r, const char **key_r, const char **error_r);

#endif
