/* SPDX-License-Identifier: MIT */
/* A user's calendar objects (events in "calendar" folders, tasks in "tasks" folders): create,
   replace, get, delete, range queries with expanded instances and changes since a folder
   revision, under the folder's OX bits (docs/internals/calendar.md). Built for the JSON API
   and CalDAV alike: objects are found by id, by folder + resource name or by folder + UID. */
#ifndef TANDEM_STORAGE_CALENDAR_H
#define TANDEM_STORAGE_CALENDAR_H

#include "cal-ical.h"
#include "storage.h"

#define STORAGE_CAL_NAME_MAX 255
/* Instances one range query answers at most, and changes one sync answers at most. */
#define STORAGE_CAL_RANGE_MAX   5000
#define STORAGE_CAL_CHANGES_MAX 5000

/* Why a put or delete was refused beyond its storage_refusal, for CalDAV's preconditions. */
enum storage_cal_problem {
	STORAGE_CAL_OK = 0,
	STORAGE_CAL_BAD_DATA,        /* not valid iCalendar (valid-calendar-data …): 400 */
	STORAGE_CAL_WRONG_COMPONENT, /* VTODO into a calendar, VEVENT into tasks: 400/403 */
	STORAGE_CAL_UID_CONFLICT,    /* another object of the folder has the UID: 409 */
	STORAGE_CAL_PRECONDITION,    /* If-Match / If-None-Match failed: 412 */
	STORAGE_CAL_TOO_LARGE,       /* larger than CAL_ICAL_MAX_SIZE: 413 */
};

/* One stored object. Strings live in the user's pool. */
struct storage_cal_object {
	int64_t id, folder;
	const char *name; /* the resource name in its folder (CalDAV href) */
	const char *uid;
	const char *component; /* "VEVENT" or "VTODO" */
	const char *etag;      /* strong, without quotes */
	int64_t revision;      /* the folder revision that last changed it */
	bool has_start, has_end, all_day, recurs;
	int64_t dtstart, dtend; /* UTC seconds */
	const char *summary;
	const char *ical; /* the text, as stored (NUL-terminated), with its length */
	size_t ical_len;
	int64_t created, modified, created_by, modified_by;
};

/* A create or replace. */
struct storage_cal_put {
	int64_t folder;
	int64_t id;       /* > 0: replace this object (it must be in folder); 0: by name */
	const char *name; /* the resource name; NULL with id 0: "<UID>.ics" (or "<id>.ics") */
	const char *text;
	size_t len;
	const char *if_match;  /* the etag the object must have (without quotes), or NULL */
	bool if_none_match;    /* the object must not exist yet */
	const char *component; /* "VEVENT" or "VTODO": the only kind taken; NULL: either */
	/* results */
	bool created;
	enum storage_cal_problem problem;
	struct storage_cal_object obj;
};

/* Every call returns 0, or -1 with err (STORAGE_REFUSED with its reason and message; put and
   delete also say put->problem / *problem_r). Objects a user may not read are as absent. */

/* Validates the text (cal_ical_parse), checks the folder's module against the component,
   the rights (create; write, own or all), If-Match/If-None-Match, the UID's uniqueness in
   the folder and the context's object limit, and stores it with the folder's next revision
   in one write transaction. The text is stored byte for byte. */
int storage_cal_put(struct storage_user *user, struct storage_cal_put *put,
                    struct storage_error *err);
/* One object by id / by folder and resource name / by folder and UID. */
int storage_cal_get(struct storage_user *user, int64_t id, struct storage_cal_object *obj_r,
                    struct storage_error *err);
int storage_cal_get_by_name(struct storage_user *user, int64_t folder, const char *name,
                            struct storage_cal_object *obj_r, struct storage_error *err);
int storage_cal_get_by_uid(struct storage_user *user, int64_t folder, const char *uid,
                           struct storage_cal_object *obj_r, struct storage_error *err);
/* Deletes object id (the right to delete it, own or all; if_match as for put), leaving a
   tombstone at the folder's next revision. */
int storage_cal_delete(struct storage_user *user, int64_t id, const char *if_match,
                       enum storage_cal_problem *problem_r, struct storage_error *err);

/* The instances of folder's objects the user may read that overlap [start, end), at most
   max (<= STORAGE_CAL_RANGE_MAX): {"instances": [{id, name, uid, summary, start, end, allDay,
   recurrenceId?, etag}], "more": bool}, a new reference, ordered by object then start. */
int storage_cal_range(struct storage_user *user, int64_t folder, int64_t start, int64_t end,
                      size_t max, json_t **result_r, struct storage_error *err);
/* The objects of folder the user may read that have an instance overlapping
   [range[0], range[1]) (every object when range is NULL), ordered by id, at most max (<=
   STORAGE_CAL_RANGE_MAX; *more_r when more matched) into *objects_r (the user's pool), *count_r
   of them, with id, folder, name, uid, component, etag and ical set. One transaction; a single
   event is matched from its columns, a series by expanding it. For CalDAV's calendar-query. */
int storage_cal_query(struct storage_user *user, int64_t folder, const int64_t *range, size_t max,
                      struct storage_cal_object **objects_r, size_t *count_r, bool *more_r,
                      struct storage_error *err);
/* Every object of folder the user may read, as {id, name, uid, etag, revision, summary}
   entries in "objects" (a new reference), at most max (with "more"). */
int storage_cal_list(struct storage_user *user, int64_t folder, size_t max, json_t **result_r,
                     struct storage_error *err);
/* The texts of folder's objects the user may read, at most max (more: STORAGE_OVER_LIMIT),
   into *texts_r (the user's pool), *count_r of them. For export. */
int storage_cal_export(struct storage_user *user, int64_t folder, size_t max, const char ***texts_r,
                       size_t *count_r, struct storage_error *err);
/* What changed in folder after revision since (0 = everything there is): {"revision": now,
   "changed": [{id, name, etag, revision}], "deleted": [{id, name, revision}], "more": bool},
   at most max entries, the oldest first; with more, "revision" is the last one answered, to
   ask again from. A since above the folder's revision: STORAGE_INVALID (an unknown token). */
int storage_cal_changes(struct storage_user *user, int64_t folder, int64_t since, size_t max,
                        json_t **result_r, struct storage_error *err);
/* The folder's revision (getctag, sync token; 0 before its first change), with the module
   ("calendar" or "tasks") into module_r when not NULL. */
int storage_cal_revision(struct storage_user *user, int64_t folder, int64_t *revision_r,
                         char module_r[16], struct storage_error *err);

/* "2026-03-02T09:00:00Z", or "2026-03-02" for a date: into buf. */
void storage_cal_format_time(int64_t t, bool date, char buf[32]);

#endif
