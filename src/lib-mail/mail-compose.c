/* SPDX-License-Identifier: MIT */
/* Composing with GMime: the tree is built here and written through GMime's encoders, so an
   attachment goes from its file to the output in blocks and is never held whole. */
#include "mail-compose.h"

#include <gmime/gmime.h>
#include <string.h>
#include <unistd.h>

#include "mail-message.h"
#include "pool.h"
#include "random.h"

int mail_compose_address(struct pool *pool, const char *text, const char **email_r,
                         const char **error_r)
{
	mail_message_init();
	if (strpbrk(text, "\r\n") != NULL || strlen(text) > 998) {
		*error_r = "an address is one line of at most 998 bytes";
		return -1;
	}
	InternetAddressList *list = internet_address_list_parse(NULL, text);
	int ret = -1;
	*error_r = "not an e-mail address";
	if (list == NULL)
		return -1;
	if (internet_address_list_length(list) != 1) {
		*error_r = "one e-mail address each";
		goto out;
	}
	InternetAddress *a = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(a))
		goto out;
	const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	if (at == NULL || at == addr || at[1] == '\0' || strpbrk(addr, " <>\"\\") != NULL)
		goto out;
	*email_r = pool_strdup(pool, addr);
	ret = 0;
out:
	g_object_unref(list);
	return ret;
}

static void add_addresses(GMimeMessage *msg, GMimeAddressType type, const char *const *list,
                          size_t count)
{
	InternetAddressList *dest = g_mime_message_get_addresses(msg, type);
	for (size_t i = 0; i < count; i++) {
		InternetAddressList *one = internet_address_list_parse(NULL, list[i]);
		if (one != NULL) {
			internet_address_list_append(dest, one);
			g_object_unref(one);
		}
	}
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	g_mime_text_part_set_text(part, text);
	return GMIME_OBJECT(part);
}

static GMimeObject *attachment_part(const struct mail_compose_attachment *a)
{
	const char *type = a->content_type != NULL && strchr(a->content_type, '/') != NULL
	                       ? a->content_type
	                       : "application/octet-stream";
	GMimeContentType *ct = g_mime_content_type_parse(NULL, type);
	GMimePart *part = g_mime_part_new_with_type(g_mime_content_type_get_media_type(ct),
	                                            g_mime_content_type_get_media_subtype(ct));
	g_object_unref(ct);
	GMimeStream *fs = g_mime_stream_fs_new_with_bounds(dup(a->fd), 0, -1);
	GMimeDataWrapper *content =
	    g_mime_data_wrapper_new_with_stream(fs, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(fs);
	g_mime_part_set_content(part, content);
	g_object_unref(content);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_part_set_filename(part, a->name != NULL ? a->name : "attachment");
	return GMIME_OBJECT(part);
}

static GMimeObject *body_of(const struct mail_compose *c)
{
	GMimeObject *body = text_part("plain", c->text != NULL ? c->text : "");
	if (c->html != NULL) {
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
		g_mime_multipart_add(alt, body);
		g_object_unref(body);
		GMimeObject *html = text_part("html", c->html);
		g_mime_multipart_add(alt, html);
		g_object_unref(html);
		body = GMIME_OBJECT(alt);
	}
	if (c->attachment_count == 0)
		return body;
	GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
	g_mime_multipart_add(mixed, body);
	g_object_unref(body);
	for (size_t i = 0; i < c->attachment_count; i++) {
		GMimeObject *a = attachment_part(&c->attachments[i]);
		g_mime_multipart_add(mixed, a);
		g_object_unref(a);
	}
	return GMIME_OBJECT(mixed);
}

int mail_compose_write(struct pool *pool, const struct mail_compose *c, int fd, uint64_t *size_r,
                       const char **message_id_r, const char **error_r)
{
	mail_message_init();
	GMimeMessage *msg = g_mime_message_new(TRUE);
	InternetAddress *from =
	    internet_address_mailbox_new(c->from_name != NULL ? c->from_name : "", c->from_email);
	internet_address_list_add(g_mime_message_get_from(msg), from);
	g_object_unref(from);
	add_addresses(msg, GMIME_ADDRESS_TYPE_TO, c->to, c->to_count);
	add_addresses(msg, GMIME_ADDRESS_TYPE_CC, c->cc, c->cc_count);
	g_mime_message_set_subject(msg, c->subject != NULL ? c->subject : "", "utf-8");
	GDateTime *now = g_date_time_new_now_local();
	g_mime_message_set_date(msg, now);
	g_date_time_unref(now);
	char id[33];
	random_hex(id, 16);
	const char *domain = strrchr(c->from_email, '@');
	const char *message_id =
	    pool_printf(pool, "%s@%s", id, domain != NULL ? domain + 1 : "tandem.invalid");
	g_mime_message_set_message_id(msg, message_id);
	if (c->in_reply_to != NULL)
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To",
		                         pool_printf(pool, "<%s>", c->in_reply_to), NULL);
	if (c->references != NULL)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", c->references, NULL);
	GMimeObject *body = body_of(c);
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	g_mime_object_encode(GMIME_OBJECT(msg), GMIME_ENCODING_CONSTRAINT_7BIT);

	off_t start = lseek(fd, 0, SEEK_CUR);
	GMimeFormatOptions *opts = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
	GMimeStream *out = g_mime_stream_fs_new(fd);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(out), FALSE);
	ssize_t n = g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, out);
	int flushed = g_mime_stream_flush(out);
	g_object_unref(out);
	g_mime_format_options_free(opts);
	g_object_unref(msg);
	/* the bytes in the file: the count GMime returns is that of its filters' input */
	off_t end = lseek(fd, 0, SEEK_CUR);
	if (n < 0 || flushed != 0 || start < 0 || end < start) {
		*error_r = "writing the message failed (a file unreadable, or the disk full)";
		return -1;
	}
	*size_r = (uint64_t)(end - start);
	*message_id_r = message_id;
	return 0;
}

void mail_compose_reply_ids(struct pool *pool, const void *data, size_t size,
                            const char **in_reply_to_r, const char **references_r)
{
	mail_message_init();
	*in_reply_to_r = *references_r = NULL;
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, size);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (msg == NULL)
		return;
	const char *id = g_mime_message_get_message_id(msg);
	if (id != NULL && id[0] != '\0' && strpbrk(id, "<>\r\n ") == NULL) {
		const char *refs = g_mime_object_get_header(GMIME_OBJECT(msg), "References");
		*in_reply_to_r = pool_strdup(pool, id);
		/* unfolded, on one line: the header is folded again when written */
		char *r = pool_printf(pool, "%s%s<%s>", refs != NULL ? refs : "",
		                      refs != NULL ? " " : "", id);
		for (char *p = r; *p != '\0'; p++)
			if (*p == '\r' || *p == '\n' || *p == '\t')
				*p = ' ';
		*references_r = r;
	}
	g_object_unref(msg);
}
