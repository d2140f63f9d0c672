/* SPDX-License-Identifier: MIT */
/* What CalDAV's REPORTs share beyond api-caldav.h (its XML helpers are api-davobj.h's): UTC
   date-times, and calendar-data's expand / limit-recurrence-set / limit-freebusy-set and
   partial comp/prop selection (RFC 4791 §9.6) applied to a stored object
   (api-caldav-data.c). */
#ifndef TANDEMD_API_CALDAV_DATA_H
#define TANDEMD_API_CALDAV_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "api-caldav.h"
#include "api-davobj.h"

/* "20260302T090000Z" as UTC seconds into *t_r; false when it is not that form. */
bool caldav_utc_time(const char *s, int64_t *t_r);
/* A time-range element's start and end (an absent one open): false when neither is given or
   one is not a UTC date-time. */
bool caldav_time_range(struct pool *pool, xmlNode *range, int64_t *start_r, int64_t *end_r);

/* Partial calendar-data: one <C:comp> with the properties and components it keeps. */
struct caldav_comp_sel {
	const char *name;      /* "VCALENDAR", "VEVENT", … */
	bool allprop, allcomp; /* <C:allprop/>, <C:allcomp/> (or neither list given) */
	const char **props;    /* <C:prop name=…> */
	size_t prop_count;
	struct caldav_comp_sel *comps; /* <C:comp name=…> */
	size_t comp_count;
};

/* How a <C:calendar-data> asks for the data. */
struct caldav_data {
	bool expand, limit; /* <C:expand>, <C:limit-recurrence-set> (one of them) */
	int64_t start, end;
	struct caldav_comp_sel *sel; /* NULL: everything */
};

/* Reads <C:calendar-data> el into *cd_r: 0, or -1 with a message naming what is wrong. */
int caldav_data_parse(struct pool *pool, xmlNode *el, struct caldav_data *cd_r,
                      const char **error_r);
/* The calendar-data to answer for the object's text (len bytes) as cd asks: text itself or a
   rewrite in pool. 0 with *out_r, or -1 with a message (too many instances to expand). */
int caldav_data_render(struct pool *pool, const struct caldav_data *cd, const char *text,
                       size_t len, struct strv *out_r, const char **error_r);

#endif
