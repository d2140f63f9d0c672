/* SPDX-License-Identifier: MIT */
/* iMIP (RFC 6047) for attendees outside the context: the iTIP (RFC 5546) REQUEST or CANCEL
   built from the organiser's stored event, the mail that carries it, and the REPLY an outside
   attendee sends back, read from untrusted text (fuzz-cal-imip). docs/internals/calendar.md
   "Invitations by mail". No SQL, no I/O here. */
#ifndef TANDEM_CAL_IMIP_H
#define TANDEM_CAL_IMIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

enum cal_imip_method { CAL_IMIP_REQUEST, CAL_IMIP_CANCEL };

/* "REQUEST" or "CANCEL". */
const char *cal_imip_method_name(enum cal_imip_method method);

/* The iTIP object for the organiser's event text: METHOD added, SCHEDULE-STATUS and
   SCHEDULE-AGENT (the organiser's bookkeeping) dropped; CANCEL also sets STATUS:CANCELLED and
   raises SEQUENCE by one. NULL when text is no iCalendar object with a VEVENT. */
const char *cal_imip_itip(struct pool *pool, const char *text, size_t len,
                          enum cal_imip_method method);

/* One invitation mail. Strings are UTF-8; addresses are bare (no "mailto:"). */
struct cal_imip_mail {
	enum cal_imip_method method;
	const char *from, *from_name; /* the organiser (from_name may be NULL) */
	const char *to;
	const char *itip;       /* cal_imip_itip()'s text */
	const char *message_id; /* without <>, unique */
	int64_t date;           /* Unix seconds */
};

/* The RFC 5322 message (CRLF lines): multipart/mixed of a multipart/alternative (a text/plain
   summary and the text/calendar; method=…; charset=utf-8) and the same object as an
   invite.ics attachment. The summary and subject come from the itip's SUMMARY, DTSTART and
   LOCATION. NULL when the itip does not parse or an address holds CR, LF, '<' or '>'. */
const char *cal_imip_message(struct pool *pool, const struct cal_imip_mail *mail);

/* An attendee's METHOD:REPLY, as read. */
struct cal_imip_reply {
	const char *uid;
	const char *organizer; /* without "mailto:" */
	const char *attendee;  /* without "mailto:" */
	const char *partstat;  /* ACCEPTED, DECLINED or TENTATIVE */
	int64_t sequence;
};

/* Reads text (len bytes, untrusted) as an iTIP REPLY: METHOD:REPLY, a VEVENT with UID,
   ORGANIZER and exactly one ATTENDEE whose PARTSTAT is ACCEPTED, DECLINED or TENTATIVE (the
   first VEVENT: a reply to one instance is taken as one to the series). 0 with *reply_r, or -1
   with a message naming what is wrong in error. */
int cal_imip_parse_reply(struct pool *pool, const char *text, size_t len,
                         struct cal_imip_reply *reply_r, char *error, size_t error_size);

#endif
