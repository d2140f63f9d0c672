/* SPDX-License-Identifier: MIT */
/* One message read for display (docs/internals/mail.md "Reading a message"): its headers
   decoded to UTF-8, its first text/plain body converted to UTF-8, its first text/html body
   sanitised (mail-html.h), and the list of its attachments. GMime parses the MIME; this walks
   GMime's tree. */
#ifndef TANDEM_MAIL_MESSAGE_H
#define TANDEM_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* The text shown is cut at this many bytes (text_truncated). */
#define MAIL_TEXT_MAX        (1024 * 1024)
#define MAIL_ATTACHMENTS_MAX 256

struct mail_attachment {
	const char *part;         /* its IMAP section ("2", "1.3"): the download's {part} */
	const char *filename;     /* decoded; NULL when the part has none */
	const char *content_type; /* "type/subtype", lower case */
	size_t size;              /* of the encoded part, an estimate of the file's */
};

struct mail_message_view {
	const char *subject, *from, *to, *cc, *reply_to, *message_id; /* NULL when absent */
	int64_t date;     /* Unix seconds; 0 when absent or unreadable */
	const char *text; /* the first text/plain part outside attachments, UTF-8; NULL: none */
	bool text_truncated;
	bool has_html; /* a text/html part exists */
	/* the first text/html part outside attachments, sanitised (mail-html.h); NULL: none.
	   When the message has no text/plain body, text is this HTML rendered as plain text. */
	const char *html;
	bool remote_content; /* html had remote images, kept back as data-tandem-src */
	struct mail_attachment *attachments;
	size_t attachment_count; /* at most MAIL_ATTACHMENTS_MAX */
};

/* s (NULL: NULL) as valid UTF-8 in pool, each invalid byte sequence replaced by U+FFFD: for
   header text and names a server sent raw (JSON carries only UTF-8). */
const char *mail_utf8(struct pool *pool, const char *s);
/* Whether s is valid UTF-8. */
bool mail_utf8_valid(const char *s);

/* Initialises GMime once per process; thread-safe, idempotent. */
void mail_message_init(void);
/* GMime's parse of data[0..size) (after mail_message_init), or NULL; g_object_unref it. */
struct _GMimeMessage *mail_message_gmime(const void *data, size_t size);
/* Parses data[0..size) (any bytes: broken MIME gives what GMime recovers) into view_r, strings
   in pool. 0, or -1 with *error_r when nothing like a message could be read. */
int mail_message_parse(struct pool *pool, const void *data, size_t size,
                       struct mail_message_view *view_r, const char **error_r);
/* As mail_message_parse; the HTML's inline images (cid:) point at part_url_prefix followed by
   the image's part ("/api/v1/mail/messages/INBOX/7/attachments/"); NULL: they are dropped. */
int mail_message_read(struct pool *pool, const void *data, size_t size, const char *part_url_prefix,
                      struct mail_message_view *view_r, const char **error_r);
/* "/api/v1/mail/messages/{folder}/{uid}/attachments/", the folder percent-encoded. */
const char *mail_message_part_url_prefix(struct pool *pool, const char *folder, uint32_t uid);

/* A part's MIME headers (BODY[section.MIME]) read: *content_type_r "type/subtype" lower
   case, *filename_r decoded (NULL: none). -1 with *error_r when they are not those of a leaf
   part (a multipart or an attached message, whose pieces have their own sections). */
struct mail_part_info {
	const char *content_type, *filename;
	int encoding; /* GMime's content encoding, for mail_decoder_create */
};
int mail_part_headers(struct pool *pool, const char *mime, size_t size,
                      struct mail_part_info *info_r, const char **error_r);

/* Decodes a part's transfer encoding (base64, quoted-printable, uuencode; others pass) as
   bytes are written, into fd (which stays the caller's). */
struct mail_decoder;
struct mail_decoder *mail_decoder_create(int fd, int encoding);
int mail_decoder_write(struct mail_decoder *d, const char *data, size_t size);
/* Flushes what the decoder holds and frees it; 0, or -1 when a write failed. */
int mail_decoder_finish(struct mail_decoder **d);

#endif
