/* SPDX-License-Identifier: MIT */
/* The HTML body of a message made safe to show (docs/internals/mail.md "HTML sanitiser"):
   parsed with libxml2's HTML parser, the tree walked and written again through an allow-list
   of elements, attributes, URL schemes and CSS properties. Nothing outside the list survives:
   no script, no event handler, no form, no frame, no remote load. */
#ifndef TANDEM_MAIL_HTML_H
#define TANDEM_MAIL_HTML_H

#include <stdbool.h>
#include <stddef.h>

struct pool;

/* Input beyond this many bytes is not read; output stops (well-formed) near this size. */
#define MAIL_HTML_INPUT_MAX  (4 * 1024 * 1024)
#define MAIL_HTML_OUTPUT_MAX (4 * 1024 * 1024)
/* Elements nested deeper than this are flattened: their tags go, their text stays. */
#define MAIL_HTML_DEPTH_MAX 48

/* An inline image of the message: <img src="cid:{cid}"> becomes src="{url}". */
struct mail_html_cid {
	const char *cid; /* the Content-ID without its angle brackets */
	const char *url;
};

struct mail_html_result {
	const char *html;    /* a UTF-8 fragment (the body's content), well-formed; never NULL */
	const char *text;    /* the same as plain text (for a client that shows no HTML) */
	bool remote_content; /* remote images were kept back as data-tandem-src="…" */
	bool truncated;      /* input or output limits cut it */
};

/* Sanitises html[0..size) (UTF-8; invalid sequences replaced). Strings in pool. */
void mail_html_sanitize(struct pool *pool, const char *html, size_t size,
                        const struct mail_html_cid *cids, size_t cid_count,
                        struct mail_html_result *result_r);

#endif
