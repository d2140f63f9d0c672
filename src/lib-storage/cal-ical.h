/* SPDX-License-Identifier: MIT */
/* iCalendar objects through libical: validation of one stored calendar object (one VEVENT or
   VTODO series with its overrides), the columns queries need, and recurrence expansion over a
   time range (docs/internals/calendar.md). No SQL here. */
#ifndef TANDEM_CAL_ICAL_H
#define TANDEM_CAL_ICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest object accepted, in bytes (CalDAV max-resource-size). */
#define CAL_ICAL_MAX_SIZE (1024 * 1024)
/* BEGIN: nesting deeper than this is refused before libical sees the text. */
#define CAL_ICAL_MAX_DEPTH 8
#define CAL_ICAL_UID_MAX   255
/* Instances a series is followed for before its end counts as open (last_instance). */
#define CAL_ICAL_FOLLOW_MAX 10000
/* Floating times are anywhere between these offsets from UTC: stored bounds widen by it. */
#define CAL_ICAL_FLOAT_SLACK (14 * 3600)

/* Sets libical up once (errors not fatal); every call
   here does it, other modules using libical call it first. Thread-safe. */
void cal_ical_init(void);

/* Writes a message into error (this module's and cal-json.c's refusals). Returns -1. */
int cal_ical__error(char *error, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What the columns of a stored object hold. Times are unix seconds, UTC; floating times and
   dates are read as UTC. */
struct cal_ical_info {
	char component[8]; /* "VEVENT" or "VTODO" */
	char uid[CAL_ICAL_UID_MAX + 1];
	char summary[512]; /* the master's (or the first override's), cut at a character */
	bool has_start, has_end;
	int64_t dtstart, dtend; /* DTEND, or DTSTART + DURATION; a task's DUE */
	bool all_day;           /* DTSTART is a DATE */
	bool floating;          /* DTSTART has no zone */
	bool recurs;            /* RRULE or RDATE, or overrides only */
	bool has_first;         /* an event, or a task with a start or due time */
	int64_t first_instance; /* the earliest start of any instance (floating widened) */
	bool unbounded;         /* the series has no end (last_instance is then meaningless) */
	int64_t last_instance;  /* the latest end of any instance (floating widened) */
};

/* Checks text (len bytes, not necessarily NUL-terminated) as one calendar object: a
   VCALENDAR of at most CAL_ICAL_MAX_SIZE bytes holding components of one kind, VEVENT or
   VTODO (VTIMEZONEs beside them), all with the same UID, at most one without RECURRENCE-ID
   and no RECURRENCE-ID twice, every TZID defined in the object or known to the system, a
   VEVENT with DTSTART, DTEND not before DTSTART and not both DTEND and DURATION. 0 with
   *info_r, or -1 with a message naming the problem in error (NUL-terminated). */
int cal_ical_parse(const char *text, size_t len, struct cal_ical_info *info_r, char *error,
                   size_t error_size);

/* One instance of a series in a range. */
struct cal_ical_instance {
	int64_t start, end;    /* UTC seconds; end == start for an instant */
	int64_t recurrence_id; /* the instance's original start (UTC), 0 for a single object */
	bool overridden;       /* an override (RECURRENCE-ID) gave it */
	bool transparent;      /* TRANSP:TRANSPARENT (free/busy leaves it out) */
	bool tentative;        /* STATUS:TENTATIVE */
	bool cancelled;        /* STATUS:CANCELLED */
	char summary[512];
};

/* The instances of the object in text that overlap [start, end) (an instant at start counts),
   ordered by start; floating times read in UTC. At most max into instances_r (*count_r how
   many, *more_r whether some were left out). The text must pass cal_ical_parse(). 0 or -1
   with error. */
int cal_ical_expand(const char *text, size_t len, int64_t start, int64_t end,
                    struct cal_ical_instance *instances_r, size_t max, size_t *count_r,
                    bool *more_r, char *error, size_t error_size);

/* Instances cal_ical_limit expands at most. */
#define CAL_ICAL_EXPAND_MAX 5000

/* calendar-data's expand (RFC 4791 §9.6.5; expand true): the object rewritten as its instances
   overlapping [start, end), each a component of its own in UTC with RECURRENCE-ID (for a
   series) and no RRULE, RDATE or EXDATE, an overridden instance at its own time, no
   VTIMEZONE; or limit-recurrence-set (§9.6.6; expand false): the master and time zones with
   only the overrides whose instance overlaps the range. The text must pass cal_ical_parse().
   0 with *text_r (mem_free() it) of *len_r bytes, or -1 with error (more than
   CAL_ICAL_EXPAND_MAX instances). */
int cal_ical_limit(const char *text, size_t len, int64_t start, int64_t end, bool expand,
                   char **text_r, size_t *len_r, char *error, size_t error_size);

#endif
