/* SPDX-License-Identifier: MIT */
/* Reply and forward prefill. The addresses come from GMime's parsed address lists (never from
   re-splitting the display strings: a display name may hold a comma); the HTML rendering is
   ours and sees hostile input (fuzz-mail-reply). */
#include "mail-reply.h"

#include <gmime/gmime.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "pool.h"

/* ------------------------------------------------------------------ subject */

/* Length of a leading "<word>:" plus the blanks after it when subject starts with it. */
static size_t prefix_len(const char *subject, const char *word)
{
	size_t n = strlen(word);
	if (strncasecmp(subject, word, n) != 0 || subject[n] != ':')
		return 0;
	n++;
	while (subject[n] == ' ' || subject[n] == '\t')
		n++;
	return n;
}

const char *mail_reply_subject(struct pool *pool, const char *subject, const char *prefix)
{
	char word[16];
	size_t w = 0;
	while (prefix[w] != '\0' && prefix[w] != ':' && w + 1 < sizeof(word)) {
		word[w] = prefix[w];
		w++;
	}
	word[w] = '\0';
	const char *s = subject != NULL ? subject : "";
	while (*s == ' ' || *s == '\t')
		s++;
	/* "Re: Re: x" collapses as well: one prefix, however many were there */
	size_t n;
	while ((n = prefix_len(s, word)) > 0)
		s += n;
	return pool_printf(pool, "%s%s", prefix, s);
}

/* ------------------------------------------------------------------ quoting */

const char *mail_reply_quote(struct pool *pool, const char *text)
{
	struct buf b;
	buf_init(&b, 2 * MAIL_TEXT_MAX + 16);
	const char *p = text;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		buf_append_str(&b, len > 0 && p[0] == '>' ? ">" : len > 0 ? "> " : ">");
		buf_append(&b, p, len);
		buf_append_char(&b, '\n');
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	const char *r = pool_strndup(pool, b.data, b.len);
	buf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ HTML as text */

static const struct {
	const char *name;
	const char *text;
} entities[] = {{"amp", "&"},    {"lt", "<"},   {"gt", ">"},    {"quot", "\""},
                {"apos", "'"},   {"nbsp", " "}, {"mdash", "—"}, {"ndash", "–"},
                {"hellip", "…"}, {"copy", "©"}, {"laquo", "«"}, {"raquo", "»"}};

/* Appends the entity at p (after '&'); returns the bytes it took, 0 when none. */
static size_t entity(struct buf *b, const char *p, const char *end)
{
	size_t max = (size_t)(end - p) < 12 ? (size_t)(end - p) : 12;
	const char *semi = memchr(p, ';', max);
	if (semi == NULL)
		return 0;
	size_t n = (size_t)(semi - p);
	if (n >= 2 && p[0] == '#') {
		unsigned long cp = 0;
		bool hex = p[1] == 'x' || p[1] == 'X';
		for (size_t i = hex ? 2 : 1; i < n; i++) {
			char c = p[i];
			int d = c >= '0' && c <= '9'          ? c - '0'
			        : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
			        : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
			                                      : -1;
			if (d < 0 || cp > 0x10FFFF)
				return 0;
			cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			cp = 0xFFFD;
		char out[8];
		int len = g_unichar_to_utf8((gunichar)cp, out);
		buf_append(b, out, (size_t)len);
		return n + 1;
	}
	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
		if (strlen(entities[i].name) == n && strncmp(p, entities[i].name, n) == 0) {
			buf_append_str(b, entities[i].text);
			return n + 1;
		}
	}
	return 0;
}

static bool tag_is(const char *name, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncasecmp(name, *list, n) == 0)
			return true;
	return false;
}

/* The end of the element whose content is skipped (</script> etc.), or end. */
static const char *skip_content(const char *p, const char *end, const char *name, size_t n)
{
	for (; p < end; p++) {
		if (p[0] == '<' && p + 2 + n <= end && p[1] == '/' &&
		    strncasecmp(p + 2, name, n) == 0)
			return p;
	}
	return end;
}

const char *mail_reply_html_text(struct pool *pool, const char *html, size_t len)
{
	static const char *const breaks[] = {"br",    "p",          "div", "tr", "li", "hr",
	                                     "h1",    "h2",         "h3",  "h4", "h5", "h6",
	                                     "table", "blockquote", "pre", NULL};
	static const char *const hidden[] = {"script", "style", "head", "title", NULL};
	struct buf b;
	buf_init(&b, MAIL_TEXT_MAX);
	const char *p = html, *end = html + len;
	bool space = false; /* a pending blank collapsed from white space */
	while (p < end && !buf_overflowed(&b)) {
		char c = *p;
		if (c == '<') {
			const char *gt = memchr(p, '>', (size_t)(end - p));
			if (gt == NULL)
				break;
			if (p + 4 <= end && strncmp(p, "<!--", 4) == 0) {
				const char *close = p + 4;
				while (close + 3 <= end && strncmp(close, "-->", 3) != 0)
					close++;
				p = close + 3 <= end ? close + 3 : end;
				continue;
			}
			const char *name = p + 1 + (p[1] == '/');
			size_t n = 0;
			while (name + n < gt && (g_ascii_isalnum(name[n])))
				n++;
			p = gt + 1;
			if (tag_is(name, n, breaks)) {
				if (b.len > 0 && b.data[b.len - 1] != '\n')
					buf_append_char(&b, '\n');
				space = false;
			} else if (name[-1] != '/' && tag_is(name, n, hidden)) {
				p = skip_content(p, end, name, n);
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = b.len > 0 && b.data[b.len - 1] != '\n';
			p++;
			continue;
		}
		if (space) {
			buf_append_char(&b, ' ');
			space = false;
		}
		if (c == '&') {
			size_t took = entity(&b, p + 1, end);
			if (took > 0) {
				p += 1 + took;
				continue;
			}
		}
		buf_append_char(&b, c);
		p++;
	}
	size_t out = b.len;
	/* cut on a character boundary when the cap was hit */
	if (buf_overflowed(&b))
		while (out > 0 && ((unsigned char)b.data[out] & 0xC0) == 0x80)
			out--;
	const char *r = mail_utf8(pool, pool_strndup(pool, b.data, out));
	buf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ recipients */

struct recipients {
	struct pool *pool;
	const char **list;
	size_t count;
};

static bool seen_addr(const char *addr, const char *const *self, size_t self_count, GPtrArray *seen)
{
	for (size_t i = 0; i < self_count; i++)
		if (self[i] != NULL && strcasecmp(self[i], addr) == 0)
			return true;
	for (guint i = 0; i < seen->len; i++)
		if (strcasecmp(g_ptr_array_index(seen, i), addr) == 0)
			return true;
	return false;
}

/* Appends list's mailboxes (group members too) to r, except self and those already seen. */
static void add_list(struct recipients *r, InternetAddressList *list, const char *const *self,
                     size_t self_count, GPtrArray *seen, unsigned depth)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;
	for (int i = 0; i < n && r->count < MAIL_REPLY_RECIPIENTS_MAX; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (depth < 2)
				add_list(
				    r,
				    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
				    self, self_count, seen, depth + 1);
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		if (addr == NULL || strchr(addr, '@') == NULL ||
		    seen_addr(addr, self, self_count, seen))
			continue;
		g_ptr_array_add(seen, (gpointer)addr);
		char *s = internet_address_to_string(ia, NULL, FALSE);
		r->list[r->count++] = mail_utf8(r->pool, s);
		g_free(s);
	}
}

/* ------------------------------------------------------------------ the whole */

static GMimeMessage *parse(const void *data, size_t size)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, size);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	return msg;
}

/* The first text/html part outside attachments, as UTF-8 (GLib-allocated), or NULL. */
static char *first_html(GMimeObject *obj, unsigned depth)
{
	if (obj == NULL || depth > 32)
		return NULL;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++) {
			char *s = first_html(g_mime_multipart_get_part(mp, i), depth + 1);
			if (s != NULL)
				return s;
		}
		return NULL;
	}
	if (!GMIME_IS_TEXT_PART(obj) || g_mime_part_is_attachment(GMIME_PART(obj)))
		return NULL;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	if (!g_mime_content_type_is_type(ct, "text", "html"))
		return NULL;
	return g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
}

static const char *date_text(struct pool *pool, GMimeMessage *msg)
{
	GDateTime *date = g_mime_message_get_date(msg);
	if (date == NULL)
		return "an unknown date";
	char *s = g_date_time_format(date, "%a, %d %b %Y %H:%M %z");
	const char *r = s != NULL ? pool_strdup(pool, s) : "an unknown date";
	g_free(s);
	return r;
}

static const char *original_text(struct pool *pool, GMimeMessage *msg,
                                 const struct mail_message_view *v)
{
	if (v->text != NULL)
		return v->text;
	if (!v->has_html)
		return "";
	char *html = first_html(g_mime_message_get_mime_part(msg), 0);
	if (html == NULL)
		return "";
	const char *r = mail_reply_html_text(pool, html, strlen(html));
	g_free(html);
	return r;
}

int mail_reply_build(struct pool *pool, const void *data, size_t size, enum mail_reply_kind kind,
                     const char *const *self, size_t self_count, struct mail_reply *r,
                     const char **error_r)
{
	memset(r, 0, sizeof(*r));
	if (mail_message_parse(pool, data, size, &r->view, error_r) < 0)
		return -1;
	GMimeMessage *msg = parse(data, size);
	if (msg == NULL) {
		*error_r = "the message could not be parsed as MIME";
		return -1;
	}
	const struct mail_message_view *v = &r->view;
	const char *text = original_text(pool, msg, v);
	const char *date = date_text(pool, msg);
	const char *from = v->from != NULL ? v->from : "an unknown sender";
	struct recipients to = {.pool = pool}, cc = {.pool = pool};
	to.list = pool_calloc(pool, MAIL_REPLY_RECIPIENTS_MAX, sizeof(*to.list));
	cc.list = pool_calloc(pool, MAIL_REPLY_RECIPIENTS_MAX, sizeof(*cc.list));
	if (kind == MAIL_FORWARD) {
		r->subject = mail_reply_subject(pool, v->subject, "Fwd: ");
		r->text = pool_printf(pool,
		                      "\n\n---------- Forwarded message ----------\n"
		                      "From: %s\nDate: %s\nSubject: %s\nTo: %s\n%s%s%s\n%s",
		                      from, date, v->subject != NULL ? v->subject : "",
		                      v->to != NULL ? v->to : "", v->cc != NULL ? "Cc: " : "",
		                      v->cc != NULL ? v->cc : "", v->cc != NULL ? "\n" : "", text);
	} else {
		GPtrArray *seen = g_ptr_array_new();
		InternetAddressList *reply_to = g_mime_message_get_reply_to(msg);
		InternetAddressList *first =
		    reply_to != NULL && internet_address_list_length(reply_to) > 0
		        ? reply_to
		        : g_mime_message_get_from(msg);
		/* the sender is answered even when it is the user (a reply to one's own mail) */
		add_list(&to, first, NULL, 0, seen, 0);
		if (kind == MAIL_REPLY_ALL) {
			add_list(&to, g_mime_message_get_to(msg), self, self_count, seen, 0);
			add_list(&cc, g_mime_message_get_cc(msg), self, self_count, seen, 0);
		}
		g_ptr_array_free(seen, TRUE);
		r->subject = mail_reply_subject(pool, v->subject, "Re: ");
		r->text = pool_printf(pool, "\n\nOn %s, %s wrote:\n%s", date, from,
		                      mail_reply_quote(pool, text));
	}
	g_object_unref(msg);
	r->to = to.list;
	r->to_count = to.count;
	r->cc = cc.list;
	r->cc_count = cc.count;
	return 0;
}
