/* SPDX-License-Identifier: MIT */
/* Writing a message to send (docs/internals/mail.md "Sending"): GMime builds the MIME (text,
   optional HTML as multipart/alternative, attachments streamed from files), encoded words for
   non-ASCII headers and names, CRLF line ends, into a file descriptor. */
#ifndef TANDEM_MAIL_COMPOSE_H
#define TANDEM_MAIL_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

struct pool;

struct mail_compose_attachment {
	int fd; /* read from offset 0 to the end; stays the caller's */
	const char *name, *content_type;
};

struct mail_compose {
	const char *from_name; /* NULL: none */
	const char *from_email;
	const char *const *to, *const *cc; /* as checked by mail_compose_address */
	size_t to_count, cc_count;
	const char *subject, *text, *html;    /* UTF-8; html NULL: text/plain only */
	const char *in_reply_to, *references; /* message ids, NULL: none */
	const struct mail_compose_attachment *attachments;
	size_t attachment_count;
};

/* An address as given ("a@b.example" or "Name <a@b.example>", UTF-8): 0 with *email_r its
   address alone, in pool; -1 with *error_r a static message. */
int mail_compose_address(struct pool *pool, const char *text, const char **email_r,
                         const char **error_r);

/* Writes the message to fd (from its current offset) with Date and a new Message-ID;
 *size_r the bytes written, *message_id_r the id (in pool). 0, or -1 with *error_r. */
int mail_compose_write(struct pool *pool, const struct mail_compose *c, int fd, uint64_t *size_r,
                       const char **message_id_r, const char **error_r);

/* For a reply to the message data[0..size): *in_reply_to_r its Message-ID, *references_r its
   References and that id (RFC 5322 3.6.4); NULL when it has none. In pool. */
void mail_compose_reply_ids(struct pool *pool, const void *data, size_t size,
                            const char **in_reply_to_r, const char **references_r);

#endif
