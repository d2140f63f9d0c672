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

/* The first text part of subtype sub (outside attachments unless with_attachments), or NULL. */
static GMimeObject *first_text(GMimeObject *obj, const char *sub, bool with_attachments,
                               unsigned depth)
{
	if (obj == NULL || depth > 32)
		return NULL;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++) {
			GMimeObject *found = first_text(g_mime_multipart_get_part(mp, i), sub,
			                                with_attachments, depth + 1);
			if (found != NULL)
				return found;
		}
		return NULL;
	}
	if (!GMIME_IS_TEXT_PART(obj) ||
	    (!with_attachments && g_mime_part_is_attachment(GMIME_PART(obj))))
		return NULL;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	return g_mime_content_type_is_type(ct, "text", sub) ? obj : NULL;
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

int mail_reply_build(struct pool *pool, const void *data, size_t size, enum mail_reply_kind kind,
                     const char *const *self, size_t self_count, struct mail_reply *r,
                     const char **error_r)
{
	memset(r, 0, sizeof(*r));
	if (mail_message_parse(pool, data, size, &r->view, error_r) < 0)
		return -1;
	GMimeMessage *msg = mail_message_gmime(data, size);
	if (msg == NULL) {
		*error_r = "the message could not be parsed as MIME";
		return -1;
	}
	const struct mail_message_view *v = &r->view;
	/* an HTML-only message's text is mail-html's rendering of it (mail_message_parse) */
	const char *text = v->text != NULL ? v->text : "";
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

/* ------------------------------------------------------------------ iMIP replies */

int mail_reply_calendar(struct pool *pool, const void *data, size_t size,
                        struct mail_calendar *cal_r)
{
	memset(cal_r, 0, sizeof(*cal_r));
	mail_message_init();
	GMimeMessage *msg = mail_message_gmime(data, size);
	if (msg == NULL)
		return 0;
	InternetAddressList *from = g_mime_message_get_from(msg);
	InternetAddress *ia = from != NULL && internet_address_list_length(from) == 1
	                          ? internet_address_list_get_address(from, 0)
	                          : NULL;
	if (ia != NULL && INTERNET_ADDRESS_IS_MAILBOX(ia))
		cal_r->from = mail_utf8(
		    pool, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
	/* Outlook sends the calendar as an attachment, too */
	GMimeObject *part = first_text(g_mime_message_get_mime_part(msg), "calendar", true, 0);
	char *text = part != NULL ? g_mime_text_part_get_text(GMIME_TEXT_PART(part)) : NULL;
	if (text != NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(part);
		cal_r->method = mail_utf8(pool, g_mime_content_type_get_parameter(ct, "method"));
		cal_r->text = mail_utf8(pool, text);
		cal_r->len = strlen(cal_r->text);
		g_free(text);
	}
	g_object_unref(msg);
	return cal_r->text != NULL;
}
