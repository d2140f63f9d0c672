/* SPDX-License-Identifier: MIT */
/* The scheduling side of a calendar object (RFC 6638 subset) through libical: who organises
   it and who attends with which PARTSTAT, rewriting those (PARTSTAT, SCHEDULE-STATUS, an added
   ORGANIZER, STATUS:CANCELLED), and what a viewer's free/busy takes from it
   (docs/internals/calendar.md "Scheduling"). No SQL here. */
#ifndef TANDEM_CAL_SCHED_H
#define TANDEM_CAL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Attendees one object carries at most for scheduling (more are left alone). */
#define CAL_SCHED_ATTENDEES_MAX 500

struct cal_sched_attendee {
	const char *email;           /* without "mailto:" */
	const char *name;            /* CN, or NULL */
	const char *partstat;        /* "NEEDS-ACTION" when absent */
	const char *schedule_status; /* or NULL */
};

/* The master component's (or the first one's) scheduling properties; strings in pool. */
struct cal_sched_info {
	bool event;            /* a VEVENT */
	const char *organizer; /* e-mail without "mailto:", or NULL */
	const char *organizer_name;
	struct cal_sched_attendee *attendees;
	size_t attendee_count;
	bool cancelled;   /* STATUS:CANCELLED */
	bool tentative;   /* STATUS:TENTATIVE */
	bool transparent; /* TRANSP:TRANSPARENT */
};

/* 0 with *info_r, or -1 when text is no iCalendar object. */
int cal_sched_parse(struct pool *pool, const char *text, size_t len, struct cal_sched_info *info_r);
/* The attendee with e-mail email (case-insensitive), or NULL. */
const struct cal_sched_attendee *cal_sched_attendee(const struct cal_sched_info *info,
                                                    const char *email);
/* Whether a and b are the same address (case-insensitive, "mailto:" ignored). */
bool cal_sched_same(const char *a, const char *b);
/* Whether s is a PARTSTAT an attendee may reply with (ACCEPTED, DECLINED, TENTATIVE). */
bool cal_sched_reply_status(const char *s);

/* One attendee's new PARTSTAT and SCHEDULE-STATUS (NULL: leave as is). */
struct cal_sched_edit {
	const char *email;
	const char *partstat;
	const char *schedule_status;
};

/* What a rewrite does, to every VEVENT of the object. */
struct cal_sched_rewrite {
	const char *organizer, *organizer_name; /* add ORGANIZER when there is none (or NULL) */
	const struct cal_sched_edit *edits;
	size_t edit_count;
	bool strip_schedule_status; /* an attendee's copy: SCHEDULE-STATUS is the organiser's */
	bool cancel;                /* STATUS:CANCELLED */
};

/* The text rewritten (in pool), or NULL when nothing changes (or it does not parse). */
const char *cal_sched_rewrite(struct pool *pool, const char *text, size_t len,
                              const struct cal_sched_rewrite *rw);

enum cal_sched_busy { CAL_SCHED_FREE = 0, CAL_SCHED_BUSY, CAL_SCHED_BUSY_TENTATIVE };
/* What the object means for the free/busy of self (its e-mail): FREE when transparent,
   cancelled, or declined by self; BUSY-TENTATIVE when tentative or self has not answered
   (NEEDS-ACTION, TENTATIVE); BUSY otherwise. */
enum cal_sched_busy cal_sched_busy_type(const struct cal_sched_info *info, const char *self);
const char *cal_sched_busy_name(enum cal_sched_busy type);

/* A free/busy request (RFC 6638 §3.2.6: METHOD:REQUEST with a VFREEBUSY) posted to an
   outbox: its range, organiser and attendees (in pool). */
struct cal_sched_fbreq {
	int64_t start, end;
	const char *organizer, *uid;
	const char **attendees; /* without "mailto:" */
	size_t attendee_count;
};
/* 0 with *req_r, or -1 with a message naming what is missing in error. */
int cal_sched_parse_fbreq(struct pool *pool, const char *text, size_t len,
                          struct cal_sched_fbreq *req_r, char *error, size_t error_size);

#endif
