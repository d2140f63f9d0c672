/* SPDX-License-Identifier: MIT */
/* The mail URL parser: strict, so a typo in the configuration is an error, not a surprise. */
#include "mail-url.h"

#include <string.h>

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

static const struct {
	const char *prefix;
	enum mail_url_kind kind;
	uint16_t port;
	bool tls, starttls;
} schemes[] = {
    {"imap://", MAIL_URL_IMAP, 143, false, false},
    {"imaps://", MAIL_URL_IMAP, 993, true, false},
    {"smtp://", MAIL_URL_SMTP, 25, false, false},
    {"submission://", MAIL_URL_SMTP, 587, false, true},
    {"smtps://", MAIL_URL_SMTP, 465, true, false},
};

int mail_url_parse(const char *text, enum mail_url_kind kind, struct mail_url *url_r,
                   const char **error_r)
{
	const char *p = text, *host, *end;
	size_t host_len, i;
	memset(url_r, 0, sizeof(*url_r));
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].kind == kind &&
		    strncmp(p, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		*error_r = kind == MAIL_URL_IMAP
		               ? "must start with imap:// or imaps://"
		               : "must start with smtp://, submission:// or smtps://";
		return -1;
	}
	url_r->port = schemes[i].port;
	url_r->tls = schemes[i].tls;
	url_r->starttls = schemes[i].starttls;
	p += strlen(schemes[i].prefix);
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
	if (host_len == 0 || host_len > MAIL_URL_HOST_MAX) {
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
		*error_r = "only SCHEME://host[:port] is allowed (no user, path or query)";
		return -1;
	}
	return 0;
}
