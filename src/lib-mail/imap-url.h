/* SPDX-License-Identifier: MIT */
/* imap:// and imaps:// URLs of [mail] imap_url (docs/configuration.md "[mail]"). */
#ifndef TANDEM_IMAP_URL_H
#define TANDEM_IMAP_URL_H

#include <stdbool.h>
#include <stdint.h>

#define IMAP_URL_HOST_MAX 253

struct imap_url {
	char host[IMAP_URL_HOST_MAX + 1]; /* a name or an address, without [] */
	uint16_t port;                    /* 143 for imap://, 993 for imaps:// unless given */
	bool tls;                         /* imaps:// (TLS from the first byte) */
};

/* Parses "imap://host[:port][/]" or "imaps://…" (host: a name, an IPv4 address or an IPv6
   address in []); nothing else (no user, path or query). 0, or -1 with *error_r a static
   message naming what is wrong. */
int imap_url_parse(const char *text, struct imap_url *url_r, const char **error_r);

#endif
