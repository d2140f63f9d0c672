/* SPDX-License-Identifier: MIT */
/* Reading a message with GMime: its parser copes with broken MIME and odd charsets; what is ours
   is the choice of the body to show and of what counts as an attachment (fuzz-mail-message). */
#include "mail-message.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mail-html.h"
#include "pool.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	g_mime_init();
}

void mail_message_init(void)
{
	pthread_once(&once, init_once);
}

const char *mail_utf8(struct pool *pool, const char *s)
{
	if (s == NULL)
		return NULL;
	if (g_utf8_validate(s, -1, NULL))
		return pool_strdup(pool, s);
	char *valid = g_utf8_make_valid(s, -1);
	const char *r = pool_strdup(pool, valid);
	g_free(valid);
	return r;
}

bool mail_utf8_valid(const char *s)
{
	return g_utf8_validate(s, -1, NULL);
}

/* A GLib-allocated string into pool (freed), or NULL. */
static const char *take(struct pool *pool, char *s)
{
	if (s == NULL)
		return NULL;
	const char *r = s[0] != '\0' ? mail_utf8(pool, s) : NULL;
	g_free(s);
	return r;
}

static const char *addresses(struct pool *pool, InternetAddressList *list)
{
	if (list == NULL || internet_address_list_length(list) == 0)
		return NULL;
	return take(pool, internet_address_list_to_string(list, NULL, FALSE));
}

/* Inline images a text/html part may name by cid: (RFC 2392) */
#define MAIL_CIDS_MAX 256

struct walk {
	struct pool *pool;
	struct mail_message_view *view;
	const char *part_url_prefix; /* NULL: no cid: image is shown */
	char *html;                  /* the first text/html body, UTF-8 (GLib's) */
	struct mail_html_cid *cids;
	size_t cid_count;
};

/* Remembers part's Content-ID (for <img src="cid:…">) with its attachment URL. */
static void add_cid(struct walk *w, GMimeObject *part, const char *path)
{
	const char *cid = g_mime_object_get_content_id(part);
	if (cid == NULL || cid[0] == '\0' || w->part_url_prefix == NULL ||
	    w->cid_count >= MAIL_CIDS_MAX)
		return;
	struct mail_html_cid *c = &w->cids[w->cid_count++];
	c->cid = pool_strdup(w->pool, cid);
	c->url = pool_printf(w->pool, "%s%s", w->part_url_prefix, path);
}

static bool is_attachment(GMimeObject *part)
{
	if (GMIME_IS_PART(part) && g_mime_part_is_attachment(GMIME_PART(part)))
		return true;
	/* a named non-text part without a disposition is an attachment to every mail client */
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	return GMIME_IS_PART(part) && !g_mime_content_type_is_type(ct, "text", "*") &&
	       g_mime_part_get_filename(GMIME_PART(part)) != NULL;
}

static const char *part_type(struct pool *pool, GMimeObject *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *type = ct != NULL ? take(pool, g_mime_content_type_get_mime_type(ct)) : NULL;
	return type != NULL ? type : "application/octet-stream";
}

static void add_attachment(struct walk *w, GMimeObject *part, const char *path)
{
	struct mail_message_view *v = w->view;
	if (v->attachment_count >= MAIL_ATTACHMENTS_MAX)
		return;
	struct mail_attachment *a = &v->attachments[v->attachment_count++];
	const char *name = g_mime_part_get_filename(GMIME_PART(part));
	a->part = pool_strdup(w->pool, path);
	a->filename = mail_utf8(w->pool, name);
	a->content_type = part_type(w->pool, part);
	GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part));
	GMimeStream *stream = content != NULL ? g_mime_data_wrapper_get_stream(content) : NULL;
	gint64 len = stream != NULL ? g_mime_stream_length(stream) : -1;
	a->size = len > 0 ? (size_t)len : 0;
}

/* The view's text from text, cut at MAIL_TEXT_MAX on a character boundary. */
static void set_text(struct walk *w, const char *text)
{
	size_t len = strlen(text);
	if (len > MAIL_TEXT_MAX) {
		len = MAIL_TEXT_MAX;
		while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
			len--;
		w->view->text_truncated = true;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		/* a charset GMime could not convert: show what is valid, the rest replaced */
		char *valid = g_utf8_make_valid(text, (gssize)len);
		w->view->text = pool_strdup(w->pool, valid);
		g_free(valid);
	} else {
		w->view->text = pool_strndup(w->pool, text, len);
	}
}

static void visit(struct walk *w, GMimeObject *part, const char *path)
{
	if (GMIME_IS_MESSAGE_PART(part))
		return; /* attached messages stay closed */
	if (GMIME_IS_PART(part))
		add_cid(w, part, path);
	if (is_attachment(part)) {
		add_attachment(w, part, path);
		return;
	}
	if (!GMIME_IS_TEXT_PART(part))
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	if (g_mime_content_type_is_type(ct, "text", "html")) {
		w->view->has_html = true;
		if (w->html == NULL) /* decoded and converted from its charset to UTF-8 */
			w->html = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		return;
	}
	if (w->view->text != NULL || !g_mime_content_type_is_type(ct, "text", "plain"))
		return;
	/* decoded from its transfer encoding and converted from its charset to UTF-8 */
	char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	if (text == NULL)
		return;
	set_text(w, text);
	g_free(text);
}

/* IMAP section numbers (RFC 3501 6.4.5): a multipart's children are prefix.1, prefix.2, …;
   a body that is not multipart is "1". */
#define PATH_MAX_LEN 64

typedef void leaf_fn(struct walk *w, GMimeObject *part, const char *path);

static void walk_parts(struct walk *w, GMimeObject *obj, const char *path, unsigned depth,
                       leaf_fn *leaf)
{
	if (!GMIME_IS_MULTIPART(obj)) {
		leaf(w, obj, path[0] != '\0' ? path : "1");
		return;
	}
	if (depth > 32)
		return;
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n; i++) {
		char child[PATH_MAX_LEN];
		int len = snprintf(child, sizeof(child), "%s%s%d", path, path[0] != '\0' ? "." : "",
		                   i + 1);
		if (len < 0 || (size_t)len >= sizeof(child))
			return;
		walk_parts(w, g_mime_multipart_get_part(mp, i), child, depth + 1, leaf);
	}
}

GMimeMessage *mail_message_gmime(const void *data, size_t size)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, size);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	return msg;
}

/* The HTML body sanitised; its plain-text rendering when there is no text body. */
static void html_body(struct walk *w)
{
	struct mail_message_view *v = w->view;
	struct mail_html_result r;
	mail_html_sanitize(w->pool, w->html, strlen(w->html), w->cids, w->cid_count, &r);
	v->html = r.html;
	v->remote_content = r.remote_content;
	if (v->text == NULL && r.text[0] != '\0')
		set_text(w, r.text);
}

int mail_message_parse(struct pool *pool, const void *data, size_t size,
                       struct mail_message_view *v, const char **error_r)
{
	return mail_message_read(pool, data, size, NULL, v, error_r);
}

int mail_message_read(struct pool *pool, const void *data, size_t size, const char *part_url_prefix,
                      struct mail_message_view *v, const char **error_r)
{
	mail_message_init();
	memset(v, 0, sizeof(*v));
	GMimeMessage *msg = mail_message_gmime(data, size);
	if (msg == NULL) {
		*error_r = "the message could not be parsed as MIME";
		return -1;
	}
	const char *subject = g_mime_message_get_subject(msg);
	v->subject = mail_utf8(pool, subject);
	v->from = addresses(pool, g_mime_message_get_from(msg));
	v->to = addresses(pool, g_mime_message_get_to(msg));
	v->cc = addresses(pool, g_mime_message_get_cc(msg));
	v->reply_to = addresses(pool, g_mime_message_get_reply_to(msg));
	const char *id = g_mime_message_get_message_id(msg);
	v->message_id = mail_utf8(pool, id);
	GDateTime *date = g_mime_message_get_date(msg);
	v->date = date != NULL ? (int64_t)g_date_time_to_unix(date) : 0;
	v->attachments = pool_calloc(pool, MAIL_ATTACHMENTS_MAX, sizeof(*v->attachments));
	struct walk w = {.pool = pool, .view = v, .part_url_prefix = part_url_prefix};
	w.cids = pool_calloc(pool, MAIL_CIDS_MAX, sizeof(*w.cids));
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	if (body != NULL)
		walk_parts(&w, body, "", 0, visit);
	g_object_unref(msg);
	if (w.html != NULL) {
		html_body(&w);
		g_free(w.html);
	}
	return 0;
}

const char *mail_message_part_url_prefix(struct pool *pool, const char *folder, uint32_t uid)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(folder);
	char *enc = pool_alloc(pool, n * 3 + 1), *o = enc;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)folder[i];
		if (g_ascii_isalnum(c) || strchr("-._~", c) != NULL) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return pool_printf(pool, "/api/v1/mail/messages/%s/%u/attachments/", enc, uid);
}

int mail_part_headers(struct pool *pool, const char *mime, size_t size,
                      struct mail_part_info *info_r, const char **error_r)
{
	mail_message_init();
	/* the headers and an empty body: GMime builds the part they describe */
	GMimeStream *stream = g_mime_stream_mem_new();
	g_mime_stream_write(stream, mime, size);
	g_mime_stream_write_string(stream, "\r\n");
	g_mime_stream_reset(stream);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeObject *part = g_mime_parser_construct_part(parser, NULL);
	g_object_unref(parser);
	if (part == NULL || !GMIME_IS_PART(part)) {
		if (part != NULL)
			g_object_unref(part);
		*error_r = "not a leaf part (a multipart or an attached message)";
		return -1;
	}
	GMimePart *p = GMIME_PART(part);
	info_r->content_type = part_type(pool, part);
	info_r->filename = mail_utf8(pool, g_mime_part_get_filename(p));
	info_r->encoding = (int)g_mime_part_get_content_encoding(p);
	g_object_unref(part);
	return 0;
}

struct mail_decoder {
	GMimeStream *out;
};

struct mail_decoder *mail_decoder_create(int fd, int encoding)
{
	mail_message_init();
	GMimeStream *fs = g_mime_stream_fs_new(fd);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(fs), FALSE);
	GMimeStream *out = g_mime_stream_filter_new(fs);
	g_object_unref(fs);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new((GMimeContentEncoding)encoding, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(out), f);
		g_object_unref(f);
	}
	struct mail_decoder *d = g_new0(struct mail_decoder, 1);
	d->out = out;
	return d;
}

int mail_decoder_write(struct mail_decoder *d, const char *data, size_t size)
{
	return g_mime_stream_write(d->out, data, size) == (ssize_t)size ? 0 : -1;
}

int mail_decoder_finish(struct mail_decoder **dp)
{
	struct mail_decoder *d = *dp;
	if (d == NULL)
		return 0;
	*dp = NULL;
	int r = g_mime_stream_flush(d->out);
	g_object_unref(d->out);
	g_free(d);
	return r == 0 ? 0 : -1;
}
