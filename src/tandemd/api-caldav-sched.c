/* SPDX-License-Identifier: MIT */
/* CalDAV scheduling (RFC 6638 subset, docs/internals/calendar.md "Scheduling"): the
   principal's schedule-inbox-URL, schedule-outbox-URL and calendar-user-address-set, the
   inbox (always empty: invitations go straight into the default calendar) and the outbox,
   which answers a VFREEBUSY request per recipient. */
#include <stdio.h>
#include <string.h>

#include "api-caldav.h"
#include "api-davobj.h"
#include "cal-ical.h"
#include "cal-sched.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "pool.h"
#include "storage-schedule.h"

#define SCHED_ALLOW "OPTIONS, PROPFIND, REPORT, POST"

enum box { BOX_NONE, BOX_INBOX, BOX_OUTBOX };

static const char *box_href(struct dav_req *dr, enum box b)
{
	return pool_printf(dr->pool, "%s%s/%s/", CALDAV_HOME, dr->user.login,
	                   b == BOX_INBOX ? "inbox" : "outbox");
}

static enum box box_of(struct dav_req *dr)
{
	const char *p = dr->path;
	size_t h = strlen(CALDAV_HOME), l = strlen(dr->user.login);
	if (strncmp(p, CALDAV_HOME, h) != 0 || strncmp(p + h, dr->user.login, l) != 0 ||
	    p[h + l] != '/')
		return BOX_NONE;
	p += h + l + 1;
	if (strcmp(p, "inbox") == 0 || strcmp(p, "inbox/") == 0)
		return BOX_INBOX;
	if (strcmp(p, "outbox") == 0 || strcmp(p, "outbox/") == 0)
		return BOX_OUTBOX;
	return BOX_NONE;
}

static void href(struct buf *out, const char *ns, const char *name, const char *const *hrefs,
                 size_t n)
{
	buf_append_str(out, "<");
	buf_append_str(out, name);
	buf_append_str(out, " xmlns=\"");
	buf_append_str(out, ns);
	buf_append_str(out, "\">");
	for (size_t i = 0; i < n; i++) {
		buf_append_str(out, "<D:href>");
		dav_href_append(out, hrefs[i]);
		buf_append_str(out, "</D:href>");
	}
	buf_append_str(out, "</");
	buf_append_str(out, name);
	buf_append_str(out, ">");
}

static bool is(const struct dav_prop_name *n, const char *name)
{
	return strcmp(n->ns, CALDAV_NS) == 0 && strcmp(n->name, name) == 0;
}

bool caldav_sched_principal_prop(struct dav_req *dr, struct buf *out, const struct dav_prop_name *n)
{
	if (is(n, "schedule-inbox-URL") || is(n, "schedule-outbox-URL")) {
		const char *h = box_href(dr, is(n, "schedule-inbox-URL") ? BOX_INBOX : BOX_OUTBOX);
		href(out, CALDAV_NS, n->name, &h, 1);
	} else if (is(n, "calendar-user-address-set")) {
		const char *email, *hrefs[2];
		struct storage_error err;
		size_t k = 0;
		if (storage_sched_whoami(dr->su, &email, NULL, &err) == 0)
			hrefs[k++] = pool_printf(dr->pool, "mailto:%s", email);
		hrefs[k++] = pool_printf(dr->pool, "/dav/principals/users/%s/", dr->user.login);
		href(out, CALDAV_NS, n->name, hrefs, k);
	} else if (is(n, "calendar-user-type")) {
		dav_ms_prop_text(out, CALDAV_NS, "calendar-user-type",
		                 strv_from_cstr("INDIVIDUAL"));
	} else {
		return false;
	}
	return true;
}

static void propfind(struct dav_req *dr, enum box b)
{
	struct dav_propfind *pf;
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_propfind(dr->pool, dav_body(dr), &limits, &pf, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	struct buf *out = http_response_body(dr->req);
	const char *type = b == BOX_INBOX ? "schedule-inbox" : "schedule-outbox";
	dav_ms_begin(out);
	dav_ms_response_begin(out, box_href(dr, b));
	dav_ms_propstat_begin(out);
	buf_append_str(out, "<D:resourcetype><D:collection/><C:");
	buf_append_str(out, type);
	buf_append_str(out, " xmlns:C=\"" CALDAV_NS "\"/></D:resourcetype>");
	dav_ms_prop_text(out, DAV_NS, "displayname",
	                 strv_from_cstr(b == BOX_INBOX ? "Inbox" : "Outbox"));
	dav_ms_propstat_end(out, 200);
	bool other = false;
	for (size_t i = 0; pf->kind == DAV_PROPFIND_PROP && i < pf->count; i++) {
		const struct dav_prop_name *n = &pf->names[i];
		if (strcmp(n->ns, DAV_NS) == 0 &&
		    (strcmp(n->name, "resourcetype") == 0 || strcmp(n->name, "displayname") == 0))
			continue;
		if (!other)
			dav_ms_propstat_begin(out);
		other = true;
		dav_ms_prop_empty(out, n->ns, n->name);
	}
	if (other)
		dav_ms_propstat_end(out, 404);
	dav_ms_response_end(out);
	dav_ms_end(out);
	davobj_send_207(dr);
}

/* "2026-03-02T10:00:00Z" as "20260302T100000Z" into out. */
static void basic_time(struct buf *out, const char *iso)
{
	for (const char *c = iso; *c != '\0'; c++)
		if (*c != '-' && *c != ':')
			buf_append(out, c, 1);
}

/* The VFREEBUSY reply of one recipient from its free/busy entry, as iCalendar text. */
static void fb_reply(struct buf *ics, const struct cal_sched_fbreq *fr, const char *recipient,
                     json_t *entry)
{
	char t[32];
	buf_append_str(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tandem//Tandem//EN\r\n"
	                    "METHOD:REPLY\r\nBEGIN:VFREEBUSY\r\n");
	if (fr->uid != NULL) {
		buf_append_str(ics, "UID:");
		buf_append_str(ics, fr->uid);
		buf_append_str(ics, "\r\n");
	}
	const char *bounds[2] = {"DTSTART:", "DTEND:"};
	for (int i = 0; i < 2; i++) {
		storage_cal_format_time(i == 0 ? fr->start : fr->end, false, t);
		buf_append_str(ics, bounds[i]);
		basic_time(ics, t);
		buf_append_str(ics, "\r\n");
	}
	buf_append_str(ics, "ORGANIZER:mailto:");
	buf_append_str(ics, fr->organizer);
	buf_append_str(ics, "\r\nATTENDEE:mailto:");
	buf_append_str(ics, recipient);
	buf_append_str(ics, "\r\n");
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(entry, "busy"), i, b)
	{
		buf_append_str(ics, "FREEBUSY;FBTYPE=");
		buf_append_str(ics, json_string_value(json_object_get(b, "type")));
		buf_append_str(ics, ":");
		basic_time(ics, json_string_value(json_object_get(b, "start")));
		buf_append_str(ics, "/");
		basic_time(ics, json_string_value(json_object_get(b, "end")));
		buf_append_str(ics, "\r\n");
	}
	buf_append_str(ics, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
}

static void outbox_post(struct dav_req *dr)
{
	struct cal_sched_fbreq fr;
	struct storage_error err;
	char error[200];
	const char *me;
	struct strv body = dav_body(dr);
	if (cal_sched_parse_fbreq(dr->pool, body.ptr != NULL ? body.ptr : "", body.len, &fr, error,
	                          sizeof(error)) < 0) {
		davobj_fail(dr, 400, CALDAV_NS, "valid-calendar-data", error);
		return;
	}
	if (storage_sched_whoami(dr->su, &me, NULL, &err) < 0) {
		caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return;
	}
	if (!cal_sched_same(fr.organizer, me)) {
		davobj_fail(dr, 403, CALDAV_NS, "organizer-allowed",
		            "the ORGANIZER of a free/busy request must be you");
		return;
	}
	if (fr.end - fr.start > STORAGE_SCHED_RANGE_MAX) {
		davobj_fail(dr, 403, CALDAV_NS, "max-date-time",
		            "a free/busy range is at most 400 days");
		return;
	}
	struct buf *out = http_response_body(dr->req);
	buf_append_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:schedule-response "
	                    "xmlns:D=\"DAV:\" xmlns:C=\"" CALDAV_NS "\">");
	for (size_t i = 0; i < fr.attendee_count; i++) {
		json_t *entry = NULL;
		int r = storage_sched_freebusy_email(dr->su, fr.attendees[i], fr.start, fr.end,
		                                     &entry, &err);
		if (r < 0 && err.status != STORAGE_REFUSED) {
			caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
			return;
		}
		buf_append_str(out, "<C:response><C:recipient><D:href>mailto:");
		dav_xml_text_append(out, strv_from_cstr(fr.attendees[i]));
		buf_append_str(out, "</D:href></C:recipient><C:request-status>");
		buf_append_str(out, r < 0 ? "3.7;Invalid calendar user" : "2.0;Success");
		buf_append_str(out, "</C:request-status>");
		if (r == 0) {
			struct buf ics;
			buf_init(&ics, CAL_ICAL_MAX_SIZE);
			fb_reply(&ics, &fr, fr.attendees[i], entry);
			buf_append_str(out, "<C:calendar-data>");
			dav_xml_text_append(out, buf_strv(&ics));
			buf_append_str(out, "</C:calendar-data>");
			buf_free(&ics);
			json_decref(entry);
		}
		buf_append_str(out, "</C:response>");
	}
	buf_append_str(out, "</C:schedule-response>");
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	http_response_send(dr->req);
}

bool caldav_sched_dispatch(struct dav_req *dr)
{
	enum box b = box_of(dr);
	if (b == BOX_NONE)
		return false;
	struct strv m = http_request_head(dr->req)->method;
	if (strv_eq_cstr(m, "OPTIONS")) {
		http_response_status(dr->req, 200);
		http_response_header(dr->req, "DAV",
		                     "1, 2, calendar-access, calendar-auto-schedule");
		http_response_header(dr->req, "Allow", SCHED_ALLOW);
		http_response_send(dr->req);
	} else if (strv_eq_cstr(m, "PROPFIND")) {
		propfind(dr, b);
	} else if (strv_eq_cstr(m, "REPORT")) { /* the inbox holds nothing to report */
		dav_ms_begin(http_response_body(dr->req));
		dav_ms_end(http_response_body(dr->req));
		davobj_send_207(dr);
	} else if (strv_eq_cstr(m, "POST") && b == BOX_OUTBOX) {
		outbox_post(dr);
	} else {
		http_response_header(dr->req, "Allow", SCHED_ALLOW);
		dav_fail(dr, 405, NULL, "DAV-0405", "%.*s is not allowed on %s", (int)m.len, m.ptr,
		         dr->path);
	}
	return true;
}
