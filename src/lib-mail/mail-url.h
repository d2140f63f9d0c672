/* SPDX-License-Identifier: MIT */
/* The mail system's URLs in [mail] (docs/configuration.md "[mail]"): imap://, imaps:// for
   IMAP; smtp://, submission:// (STARTTLS), smtps:// for SMTP. */
#ifndef TANDEM_MAIL_URL_H
#define TANDEM_MAIL_URL_H

#include <stdbool.h>
#include <stdint.h>

#define MAIL_URL_HOST_MAX 253

enum mail_url_kind { MAIL_URL_IMAP, MAIL_URL_SMTP };

struct mail_url {
	char host[MAIL_URL_HOST_MAX + 1]; /* a name or an address, without [] */
	uint16_t port;                    /* the scheme's unless given */
	bool tls;                         /* TLS from the first byte (imaps, smtps) */
	bool starttls;                    /* submission: STARTTLS before anything else */
};

/* Parses "SCHEME://host[:port][/]" with a scheme of kind (host: a name, an IPv4 address or an
   IPv6 address in []); nothing else (no user, path or query). 0, or -1 with *error_r a static
   message naming what is wrong. Default ports: imap 143, imaps 993, smtp 25, submission 587,
   smtps 465. */
int mail_url_parse(const char *text, enum mail_url_kind kind, struct mail_url *url_r,
                   const char **error_r);

#endif
