/* SPDX-License-Identifier: MIT */
/* The prefilled body of a reply or a forward of one message (docs/internals/mail.md "Reply and
   forward"): recipients from the original's address headers, the subject with one "Re: " or
   "Fwd: ", and the original's text quoted or under a forwarded-message header block. An
   HTML-only original is quoted from a plain-text rendering of its HTML. */
#ifndef TANDEM_MAIL_REPLY_H
#define TANDEM_MAIL_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "mail-message.h"

enum mail_reply_kind { MAIL_REPLY, MAIL_REPLY_ALL, MAIL_FORWARD };

/* Recipients a reply-all lists at most (more are left out). */
#define MAIL_REPLY_RECIPIENTS_MAX 500

struct mail_reply {
	const char **to, **cc; /* "Name <addr>" or "addr", UTF-8 */
	size_t to_count, cc_count;
	const char *subject, *text;
	struct mail_message_view view; /* the original as read (its attachments, for forward) */
};

/* Builds the reply (to: Reply-To or else From; all: also To and Cc, without the addresses in
   self[0..self_count) and without duplicates) or the forward (no recipients) of the message
   data[0..size), strings in pool. 0, or -1 with *error_r when it is no message. */
int mail_reply_build(struct pool *pool, const void *data, size_t size, enum mail_reply_kind kind,
                     const char *const *self, size_t self_count, struct mail_reply *reply_r,
                     const char **error_r);

/* subject (NULL: empty) with prefix ("Re: ", "Fwd: ") once: a subject that already starts
   with it, any case and with any spacing after the colon, keeps a single one. */
const char *mail_reply_subject(struct pool *pool, const char *subject, const char *prefix);
/* text with "> " before each line (">" before a line that is already quoted). */
const char *mail_reply_quote(struct pool *pool, const char *text);
/* A plain-text rendering of html (UTF-8): tags dropped, script/style/head content dropped,
   block ends and <br> as line ends, the common entities and numeric ones decoded. At most
   MAIL_TEXT_MAX bytes. */
const char *mail_reply_html_text(struct pool *pool, const char *html, size_t len);

#endif
