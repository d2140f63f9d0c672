/* SPDX-License-Identifier: MIT */
/* The IMAP URL parser: strict, so a typo in the configuration is an error, not a surprise. */
#include "imap-url.h"

#include <string.h>

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

int imap_url_parse(const char *text, struct imap_url *url_r, const char **error_r)
{
	const char *p = text, *host, *end;
	size_t host_len;
	memset(url_r, 0, sizeof(*url_r));
	if (strncmp(p, "imaps://", 8) == 0) {
		url_r->tls = true;
		url_r->port = 993;
		p += 8;
	} else if (strncmp(p, "imap://", 7) == 0) {
		url_r->port = 143;
		p += 7;
	} else {
		*error_r = "must start with imap:// or imaps://";
		return -1;
	}
	if (*p == '[') {
		host = ++p;
		end = strchr(p, ']');
		if (end == NULL || end == p ||
		    strspn(p, "0123456789abcdefABCDEF:.") != (size_t)(end - p)) {
			*error_r =
			    "an IPv6 address goes in [] and holds only hex digits, ':' and '.'";
			return -1;
		}
		host_len = (size_t)(end - p);
		p = end + 1;
	} else {
		host = p;
		while (host_char(*p))
			p++;
		host_len = (size_t)(p - host);
	}
	if (host_len == 0 || host_len > IMAP_URL_HOST_MAX) {
		*error_r = "the host is missing or longer than 253 characters";
		return -1;
	}
	memcpy(url_r->host, host, host_len);
	url_r->host[host_len] = '\0';
	if (*p == ':') {
		unsigned long port = 0;
		size_t digits = 0;
		for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (digits == 0 || digits > 5 || port == 0 || port > 65535) {
			*error_r = "the port must be a number from 1 to 65535";
			return -1;
		}
		url_r->port = (uint16_t)port;
	}
	if (*p == '/')
		p++;
	if (*p != '\0') {
		*error_r = "only imap[s]://host[:port] is allowed (no user, path or query)";
		return -1;
	}
	return 0;
}
