/* SPDX-License-Identifier: MIT */
/* The [http] and [ajp] configuration sections (http-config.h). */
#include "http-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "secret-file.h"

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

static int problem(const char *key, const char **key_r, const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int problem(const char *key, const char **key_r, const char **error_r, const char *fmt, ...)
{
	static __thread char msg[600];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), "[ajp] %s: ", key);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	*key_r = key;
	*error_r = msg;
	return -1;
}

static bool secret_ok(const char *s, size_t n)
{
	if (n == 0 || n >= AJP_SECRET_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch == 0x7f) /* one token in Apache's ProxyPass line */
			return false;
	}
	return true;
}

/* The secret file, relative to the configuration file's directory: one line, the final
   newline dropped, readable by the service's user only. */
static int read_secret_file(const char *config_path, const char *file, char *out,
                            const char **key_r, const char **error_r)
{
	char path[4096], data[AJP_SECRET_MAX + 2];
	const char *why;
	if (secret_file_path(config_path, file, path, sizeof(path)) < 0)
		return problem("secret_file", key_r, error_r, "the file name is empty or too long");
	ssize_t len = secret_file_read(path, data, sizeof(data), &why);
	if (len < 0)
		return problem("secret_file", key_r, error_r, "%s: %s", path, why);
	size_t m = (size_t)len;
	if (m > 0 && data[m - 1] == '\n')
		m--;
	if (m > 0 && data[m - 1] == '\r')
		m--;
	if (!secret_ok(data, m))
		return problem("secret_file", key_r, error_r,
		               "%s must hold the secret on one line: 1 to %d bytes, no spaces or "
		               "control characters",
		               path, AJP_SECRET_MAX - 1);
	memcpy(out, data, m);
	out[m] = '\0';
	return 0;
}

static bool loopback_listen(const char *address)
{
	char host[64];
	uint16_t port;
	const char *error;
	struct cidr_addr addr;
	return config_parse_address(address, host, sizeof(host), &port, &error) == 0 &&
	       cidr_addr_parse(strv_from_cstr(host), &addr) == 0 && cidr_addr_is_loopback(&addr);
}

int http_config_ajp(const struct config *cfg, const char *config_path,
                    struct http_ajp_config *ajp_r, const char **key_r, const char **error_r)
{
	const char *secret = config_get_str(cfg, "ajp", "secret");
	const char *file = config_get_str(cfg, "ajp", "secret_file");

	memset(ajp_r, 0, sizeof(*ajp_r));
	ajp_r->listen = config_get_str(cfg, "ajp", "listen");
	ajp_r->allow_no_secret = config_get_bool(cfg, "ajp", "allow_no_secret");
	if (secret != NULL && file != NULL)
		return problem("secret_file", key_r, error_r,
		               "give secret or secret_file, not both");
	if (secret != NULL) {
		if (!secret_ok(secret, strlen(secret)))
			return problem("secret", key_r, error_r,
			               "1 to %d bytes, no spaces or control characters",
			               AJP_SECRET_MAX - 1);
		memcpy(ajp_r->secret, secret, strlen(secret) + 1);
	} else if (file != NULL &&
	           read_secret_file(config_path, file, ajp_r->secret, key_r, error_r) < 0) {
		return -1;
	}
	if (ajp_r->listen == NULL || ajp_r->secret[0] != '\0')
		return 0;
	if (!loopback_listen(ajp_r->listen))
		return problem("listen", key_r, error_r,
		               "%s is not a loopback address: an AJP listener reachable from other "
		               "hosts needs secret or secret_file (the Ghostcat lesson, "
		               "CVE-2020-1938; docs/security.md)",
		               ajp_r->listen);
	if (!ajp_r->allow_no_secret)
		return problem(
		    "listen", key_r, error_r,
		    "needs secret or secret_file, shared with the web server's ProxyPass "
		    "... secret= (or allow_no_secret = true on loopback)");
	return 0;
}
