/* SPDX-License-Identifier: MIT */
/* The handlers /api/v1/events and /api/v1/tasks share: one kind of calendar object each
   (docs/api.md "Events", "Tasks"). */
#ifndef TANDEMD_API_EVENTS_H
#define TANDEMD_API_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "storage-calendar.h"

struct http_request;
struct pool;
struct storage_user;

/* Which objects a route serves. */
struct api_cal_kind {
	const char *component; /* "VEVENT" or "VTODO" */
	const char *module;    /* the folders they live in: "calendar" or "tasks" */
	const char *noun;      /* "event", "task": for messages */
	const char *end_key;   /* the JSON key of DTEND / DUE: "end", "due" */
};

extern const struct api_cal_kind api_cal_events, api_cal_tasks;

/* GET …?folder=ID [&start=…&end=… | &since=REV]: instances, changes, or the objects. */
void api_cal_list(const struct api_cal_kind *kind, void *ctx, struct http_request *req);
/* POST …?folder=ID with JSON or text/calendar: a new object. */
void api_cal_create(const struct api_cal_kind *kind, void *ctx, struct http_request *req);
/* GET, PUT, DELETE …/{id}: one object ([?format=ics]; If-Match on PUT and DELETE). */
void api_cal_get(const struct api_cal_kind *kind, void *ctx, struct http_request *req);
void api_cal_update(const struct api_cal_kind *kind, void *ctx, struct http_request *req);
void api_cal_delete(const struct api_cal_kind *kind, void *ctx, struct http_request *req);

/* query parameter name as a date or UTC date-time: 1 into *t_r, 0 absent, -1 after
   answering 400. */
int api_cal_time_query(struct http_request *req, const char *name, int64_t *t_r);
/* Answers a failed storage-calendar.h call (problem: put's, delete's or STORAGE_CAL_OK). */
void api_cal_failed(struct http_request *req, const struct storage_error *err,
                    enum storage_cal_problem problem);

/* The objects of an .ics text (grouped by UID) stored into the calendar or tasks folder one
   by one: {"results": [{"uid", "id", "status"} or {"uid", "error": {code, message}} …],
   "created", "failed"}, or NULL with error when the text is no iCalendar (or too many). */
json_t *api_cal_import_text(struct storage_user *su, int64_t folder, struct pool *pool,
                            const char *text, size_t len, char *error, size_t size);

#endif
