/* SPDX-License-Identifier: MIT */
/* The [http] configuration section every HTTP daemon shares: request limits and timeouts. */
#include "http-config.h"

void http_config_limits(const struct config *cfg, struct http_limits *limits)
{
	http_limits_default(limits);
	limits->max_header_bytes = config_get_size(cfg, "http", "max_header_bytes");
	limits->max_line = config_get_size(cfg, "http", "max_line");
	limits->max_headers = config_get_uint(cfg, "http", "max_headers");
	limits->max_body = config_get_size(cfg, "http", "max_body");
	limits->max_buffered_body = config_get_size(cfg, "http", "max_buffered_body");
	limits->idle_timeout_ms = config_get_duration_ms(cfg, "http", "idle_timeout");
	limits->header_timeout_ms = config_get_duration_ms(cfg, "http", "header_timeout");
	limits->body_timeout_ms = config_get_duration_ms(cfg, "http", "body_timeout");
}
