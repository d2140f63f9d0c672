/* SPDX-License-Identifier: MIT */
/* The JSON form of events and tasks (docs/api.md "Events", "Tasks") to and from iCalendar,
   and splitting an .ics file of many objects for import. No SQL here. */
#ifndef TANDEM_CAL_JSON_H
#define TANDEM_CAL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct pool;

/* The JSON form of a stored object's master component (or its first override): a new
   reference, or NULL with error. */
json_t *cal_json_from_ical(const char *text, size_t len, char *error, size_t error_size);

/* A calendar object from the JSON form: component "VEVENT" or "VTODO", uid the UID to give
   it (NULL: the body's "uid", else a new random one). The text in pool, or NULL with a
   message naming the offending field in error. */
const char *cal_json_to_ical(struct pool *pool, const json_t *body, const char *component,
                             const char *uid, char *error, size_t error_size);

/* Calls fn with each object of an .ics file of many (components grouped by UID, each with
   the VTIMEZONEs of the file), in the order their UIDs first appear, at most max objects:
   0, or -1 with error when the file is no VCALENDAR at all or holds more than max. A
   component without UID is passed alone, for put to refuse. fn gets the object's text (in
   pool) and its UID (or ""). */
typedef void cal_json_split_fn(void *ctx, const char *text, size_t len, const char *uid);
int cal_json_split(struct pool *pool, const char *text, size_t len, size_t max,
                   cal_json_split_fn *fn, void *ctx, char *error, size_t error_size);

/* One VCALENDAR holding the components of count stored objects (each VTIMEZONE once, by
   TZID), in pool. Texts that do not parse are left out. */
const char *cal_json_merge(struct pool *pool, const char *const *texts, size_t count);

#endif
