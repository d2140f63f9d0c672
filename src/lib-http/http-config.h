/* SPDX-License-Identifier: MIT */
/* The [http] configuration section every HTTP daemon shares: request limits and timeouts. */
#ifndef TANDEM_HTTP_CONFIG_H
#define TANDEM_HTTP_CONFIG_H

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

#endif
