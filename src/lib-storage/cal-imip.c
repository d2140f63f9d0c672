/* SPDX-License-Identifier: MIT */
/* iMIP messages on libical. The REPLY comes from anyone who can send mail to the organiser:
   it is size- and depth-checked before libical sees it, and only its UID, ORGANIZER, one
   ATTENDEE and PARTSTAT are taken (what it may change is decided by storage-schedule.c). */
#include "cal-imip.h"

#include <libical/ical.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "cal-ical.h"
#include "mem.h"
#include "pool.h"

const char *cal_imip_method_name(enum cal_imip_method method)
{
	return method == CAL_IMIP_CANCEL ? "CANCEL" : "REQUEST";
}

static const char *strip_mailto(const char *v)
{
	return v != NULL && strncasecmp(v, "mailto:", 7) == 0 ? v + 7 : v;
}

/* Whether BEGIN: lines nest deeper than CAL_ICAL_MAX_DEPTH (libical recurses on them). */
static bool too_deep(const char *text, size_t len)
{
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && text[i - 1] != '\n')
			continue;
		if (len - i >= 6 && strncasecmp(text + i, "BEGIN:", 6) == 0 &&
		    ++depth > CAL_ICAL_MAX_DEPTH)
			return true;
		if (len - i >= 4 && strncasecmp(text + i, "END:", 4) == 0 && depth > 0)
			depth--;
	}
	return false;
}

static icalcomponent *parse(const char *text, size_t len)
{
	if (len > CAL_ICAL_MAX_SIZE || too_deep(text, len))
		return NULL;
	cal_ical_init();
	char *copy = mem_strndup(text, len);
	icalcomponent *root = icalparser_parse_string(copy);
	mem_free(&copy);
	if (root != NULL && icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(root);
		root = NULL;
	}
	return root;
}

static const char *as_text(struct pool *pool, icalcomponent *root)
{
	char *s = icalcomponent_as_ical_string_r(root);
	const char *out = pool_strdup(pool, s);
	icalmemory_free_buffer(s);
	return out;
}

/* ------------------------------------------------------------------ REQUEST and CANCEL */

static void drop_bookkeeping(icalcomponent *c)
{
	icalproperty_kind kinds[] = {ICAL_ATTENDEE_PROPERTY, ICAL_ORGANIZER_PROPERTY};
	for (size_t k = 0; k < 2; k++)
		for (icalproperty *p = icalcomponent_get_first_property(c, kinds[k]); p != NULL;
		     p = icalcomponent_get_next_property(c, kinds[k])) {
			icalproperty_remove_parameter_by_kind(p, ICAL_SCHEDULESTATUS_PARAMETER);
			icalproperty_remove_parameter_by_kind(p, ICAL_SCHEDULEAGENT_PARAMETER);
			icalproperty_remove_parameter_by_kind(p, ICAL_SCHEDULEFORCESEND_PARAMETER);
		}
}

const char *cal_imip_itip(struct pool *pool, const char *text, size_t len,
                          enum cal_imip_method method)
{
	icalcomponent *root = parse(text, len);
	if (root == NULL)
		return NULL;
	if (icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT) == NULL) {
		icalcomponent_free(root);
		return NULL;
	}
	icalproperty *m;
	while ((m = icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY)) != NULL) {
		icalcomponent_remove_property(root, m);
		icalproperty_free(m);
	}
	icalcomponent_add_property(root, icalproperty_new_method(method == CAL_IMIP_CANCEL
	                                                             ? ICAL_METHOD_CANCEL
	                                                             : ICAL_METHOD_REQUEST));
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
		drop_bookkeeping(c);
		if (method != CAL_IMIP_CANCEL)
			continue;
		icalproperty *s = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
		if (s != NULL)
			icalproperty_set_status(s, ICAL_STATUS_CANCELLED);
		else
			icalcomponent_add_property(c,
			                           icalproperty_new_status(ICAL_STATUS_CANCELLED));
		icalproperty *q = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);
		if (q != NULL)
			icalproperty_set_sequence(q, icalproperty_get_sequence(q) + 1);
		else
			icalcomponent_add_property(c, icalproperty_new_sequence(1));
	}
	const char *out = as_text(pool, root);
	icalcomponent_free(root);
	return out;
}

/* ------------------------------------------------------------------ the mail */

static void base64(struct buf *b, const unsigned char *in, size_t len, size_t line)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		char out[4] = {abc[(v >> 18) & 63], abc[(v >> 12) & 63],
		               i + 1 < len ? abc[(v >> 6) & 63] : '=',
		               i + 2 < len ? abc[v & 63] : '='};
		buf_append(b, out, 4);
		col += 4;
		if (line > 0 && col >= line) {
			buf_append_str(b, "\r\n");
			col = 0;
		}
	}
	if (line > 0 && col > 0)
		buf_append_str(b, "\r\n");
}

static bool ascii_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* s as header text: itself when printable ASCII, else RFC 2047 encoded words (each under 76
   characters, cut on UTF-8 character boundaries). */
static void header_text(struct buf *b, const char *s)
{
	if (ascii_printable(s)) {
		buf_append_str(b, s);
		return;
	}
	size_t len = strlen(s), at = 0;
	while (at < len) {
		size_t n = len - at > 42 ? 42 : len - at;
		while (at + n < len && n > 1 && ((unsigned char)s[at + n] & 0xC0) == 0x80)
			n--;
		if (at > 0)
			buf_append_str(b, "\r\n ");
		buf_append_str(b, "=?utf-8?b?");
		base64(b, (const unsigned char *)s + at, n, 0);
		buf_append_str(b, "?=");
		at += n;
	}
}

static bool header_safe(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n<>") == NULL;
}

/* "Name <addr>" with the name quoted or encoded, or "addr". */
static void mailbox(struct buf *b, const char *name, const char *addr)
{
	if (name != NULL && name[0] != '\0' && header_safe(name)) {
		if (ascii_printable(name)) {
			buf_append_char(b, '"');
			for (const char *p = name; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					buf_append_char(b, '\\');
				buf_append_char(b, *p);
			}
			buf_append_char(b, '"');
		} else {
			header_text(b, name);
		}
		buf_append_char(b, ' ');
	}
	buf_printf(b, "<%s>", addr);
}

struct summary {
	const char *title, *when, *where;
};

static const char *when_text(struct pool *pool, icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	if (p == NULL)
		return NULL;
	struct icaltimetype t = icalproperty_get_dtstart(p);
	if (t.is_date)
		return pool_printf(pool, "%04d-%02d-%02d (all day)", t.year, t.month, t.day);
	icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	const char *zone = icaltime_is_utc(t) ? "UTC"
	                   : tz != NULL       ? icalparameter_get_tzid(tz)
	                                      : "floating time";
	return pool_printf(pool, "%04d-%02d-%02d %02d:%02d %s", t.year, t.month, t.day, t.hour,
	                   t.minute, zone != NULL ? zone : "");
}

static int summary_of(struct pool *pool, const char *itip, struct summary *s_r)
{
	icalcomponent *root = parse(itip, strlen(itip));
	icalcomponent *c =
	    root != NULL ? icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT) : NULL;
	if (c == NULL) {
		if (root != NULL)
			icalcomponent_free(root);
		return -1;
	}
	const char *title = icalcomponent_get_summary(c);
	const char *where = icalcomponent_get_location(c);
	s_r->title = pool_strdup(pool, title != NULL && title[0] != '\0' ? title : "(no title)");
	s_r->where = where != NULL && where[0] != '\0' ? pool_strdup(pool, where) : NULL;
	s_r->when = when_text(pool, c);
	icalcomponent_free(root);
	return 0;
}

/* A text part of type (with its parameters), base64 of the UTF-8 body. */
static void part(struct buf *b, const char *boundary, const char *type, const char *extra,
                 const char *body)
{
	buf_printf(b, "--%s\r\nContent-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n",
	           boundary, type, extra);
	base64(b, (const unsigned char *)body, strlen(body), 76);
}

const char *cal_imip_message(struct pool *pool, const struct cal_imip_mail *m)
{
	struct summary s;
	if (!header_safe(m->from) || !header_safe(m->to) || !header_safe(m->message_id) ||
	    summary_of(pool, m->itip, &s) < 0)
		return NULL;
	const char *method = cal_imip_method_name(m->method);
	bool cancel = m->method == CAL_IMIP_CANCEL;
	const char *who = m->from_name != NULL && m->from_name[0] != '\0' ? m->from_name : m->from;
	const char *text =
	    pool_printf(pool, "%s %s:\r\n\r\n  %s\r\n%s%s%s%s%s%s\r\n%s\r\n", who,
	                cancel ? "has cancelled" : "invites you to", s.title,
	                s.when != NULL ? "  When: " : "", s.when != NULL ? s.when : "",
	                s.when != NULL ? "\r\n" : "", s.where != NULL ? "  Where: " : "",
	                s.where != NULL ? s.where : "", s.where != NULL ? "\r\n" : "",
	                cancel ? "The event is cancelled; your calendar program can remove it."
	                       : "Your calendar program can answer the attached invitation.");
	/* the boundaries never occur in base64 text (they hold '_' and '.') */
	char outer[64], inner[64], date[64];
	snprintf(outer, sizeof(outer), "=_imip.mixed.%s", method);
	snprintf(inner, sizeof(inner), "=_imip.alt.%s", method);
	time_t t = (time_t)m->date;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	struct buf b;
	buf_init(&b, 4 * CAL_ICAL_MAX_SIZE);
	buf_append_str(&b, "From: ");
	mailbox(&b, m->from_name, m->from);
	buf_printf(&b, "\r\nTo: <%s>\r\nSubject: ", m->to);
	header_text(&b, pool_printf(pool, "%s: %s", cancel ? "Cancelled" : "Invitation", s.title));
	buf_printf(&b,
	           "\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
	           "--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
	           date, m->message_id, outer, outer, inner);
	part(&b, inner, "text/plain; charset=utf-8", "", text);
	part(&b, inner, pool_printf(pool, "text/calendar; method=%s; charset=utf-8", method), "",
	     m->itip);
	buf_printf(&b, "--%s--\r\n\r\n", inner);
	part(&b, outer, pool_printf(pool, "application/ics; name=\"invite.ics\""),
	     "Content-Disposition: attachment; filename=\"invite.ics\"\r\n", m->itip);
	buf_printf(&b, "--%s--\r\n", outer);
	const char *out = buf_overflowed(&b) ? NULL : pool_strndup(pool, b.data, b.len);
	buf_free(&b);
	return out;
}

/* ------------------------------------------------------------------ REPLY */

int cal_imip_parse_reply(struct pool *pool, const char *text, size_t len, struct cal_imip_reply *r,
                         char *error, size_t error_size)
{
	memset(r, 0, sizeof(*r));
	icalcomponent *root = parse(text, len);
	if (root == NULL)
		return cal_ical__error(error, error_size, "not an iCalendar object");
	int ret = -1;
	icalproperty *m = icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY);
	icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
	if (m == NULL || icalproperty_get_method(m) != ICAL_METHOD_REPLY || c == NULL) {
		cal_ical__error(error, error_size, "only METHOD:REPLY with a VEVENT is taken");
		goto out;
	}
	const char *uid = icalcomponent_get_uid(c);
	icalproperty *o = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);
	const char *organizer = o != NULL ? strip_mailto(icalproperty_get_organizer(o)) : NULL;
	if (uid == NULL || uid[0] == '\0' || strlen(uid) > CAL_ICAL_UID_MAX || organizer == NULL ||
	    organizer[0] == '\0') {
		cal_ical__error(error, error_size, "the VEVENT needs a UID and an ORGANIZER");
		goto out;
	}
	if (icalcomponent_count_properties(c, ICAL_ATTENDEE_PROPERTY) != 1) {
		cal_ical__error(error, error_size, "a REPLY names exactly one ATTENDEE");
		goto out;
	}
	icalproperty *a = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	const char *attendee = strip_mailto(icalproperty_get_attendee(a));
	icalparameter *ps = icalproperty_get_first_parameter(a, ICAL_PARTSTAT_PARAMETER);
	const char *partstat = NULL;
	if (ps != NULL) {
		switch (icalparameter_get_partstat(ps)) {
		case ICAL_PARTSTAT_ACCEPTED:
			partstat = "ACCEPTED";
			break;
		case ICAL_PARTSTAT_DECLINED:
			partstat = "DECLINED";
			break;
		case ICAL_PARTSTAT_TENTATIVE:
			partstat = "TENTATIVE";
			break;
		default:
			break;
		}
	}
	if (attendee == NULL || attendee[0] == '\0' || partstat == NULL) {
		cal_ical__error(error, error_size,
		                "the ATTENDEE needs an address and PARTSTAT ACCEPTED, DECLINED or "
		                "TENTATIVE");
		goto out;
	}
	icalproperty *q = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);
	r->uid = pool_strdup(pool, uid);
	r->organizer = pool_strdup(pool, organizer);
	r->attendee = pool_strdup(pool, attendee);
	r->partstat = partstat;
	r->sequence = q != NULL ? icalproperty_get_sequence(q) : 0;
	ret = 0;
out:
	icalcomponent_free(root);
	return ret;
}
