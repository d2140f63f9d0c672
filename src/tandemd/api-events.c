/* SPDX-License-Identifier: MIT */
/* /api/v1/events (and the handlers /api/v1/tasks shares): calendar objects in a JSON form or
   as iCalendar, expanded instances in a time range, changes since a folder revision, and
   import of .ics files into a folder (docs/api.md "Events"). Parse, authorise through the
   storage layer, answer: no SQL here. */
#include "api-events.h"
#include "api-mail-imip.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api-common.h"
#include "api-contacts.h"
#include "api-schedule.h"
#include "buf.h"
#include "cal-json.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node-access.h"
#include "node.h"
#include "pool.h"
#include "routes.h"
#include "storage-calendar.h"
#include "strv.h"

/* Objects one import takes at most, and one export gives at most (its answer is held in
   memory: at most [http] max_buffered_body × 16). */
#define IMPORT_MAX 2000
#define EXPORT_MAX 10000

const struct api_cal_kind api_cal_events = {"VEVENT", "calendar", "event", "end"};
const struct api_cal_kind api_cal_tasks = {"VTODO", "tasks", "task", "due"};

/* --------------------------------------------------------------- answers */

static void storage_failed(struct http_request *req, const struct storage_error *err,
                           enum storage_cal_problem problem)
{
	const char *what = err->what != NULL ? err->what : "calendar";
	if (api_storage_context_failed(req, err))
		return;
	switch (err->status) {
	case STORAGE_READ_ONLY:
		api_error(req, 503, API_CODE_READ_ONLY, "%s refused: %s", what, err->message);
		return;
	case STORAGE_REFUSED:
		switch (problem) {
		case STORAGE_CAL_UID_CONFLICT:
			api_error(req, 409, "CAL-0409", "%s", err->message);
			return;
		case STORAGE_CAL_PRECONDITION:
			api_error(req, 412, "CAL-0412", "%s", err->message);
			return;
		case STORAGE_CAL_TOO_LARGE:
			api_error(req, 413, "CAL-0413", "%s", err->message);
			return;
		case STORAGE_CAL_OK:
		case STORAGE_CAL_BAD_DATA:
		case STORAGE_CAL_WRONG_COMPONENT:
			break;
		}
		switch (err->refusal) {
		case STORAGE_NOT_FOUND:
			api_error(req, 404, "CAL-0404", "%s", err->message);
			return;
		case STORAGE_FORBIDDEN:
			api_error(req, 403, "CAL-0403", "%s", err->message);
			return;
		case STORAGE_OVER_LIMIT:
			api_error(req, 413, "CAL-0413", "%s", err->message);
			return;
		default:
			api_error(req, 400, "CAL-0400", "%s", err->message);
			return;
		}
	default:
		break;
	}
	bool unavailable = err->status == STORAGE_UNAVAILABLE;
	log_error("calendar", "%s: %s (%s)", what, err->message,
	          err->kind != NULL ? err->kind : "none");
	api_error(req, unavailable ? 503 : 500, unavailable ? "CAL-0503" : "CAL-0500",
	          "%s failed: the database is %s", what, unavailable ? "unavailable" : "in error");
}

void api_cal_failed(struct http_request *req, const struct storage_error *err,
                    enum storage_cal_problem problem)
{
	storage_failed(req, err, problem);
}

/* The JSON form of an object: its text's fields and the columns (an event's with what
   scheduling adds for the viewer su). A new reference. */
static json_t *object_json(const struct api_cal_kind *kind, struct storage_user *su,
                           const struct storage_cal_object *o)
{
	char error[200], t[32];
	json_t *j = cal_json_from_ical(o->ical, o->ical_len, error, sizeof(error));
	if (j == NULL)
		j = json_object();
	json_object_set_new(j, "id", json_integer(o->id));
	json_object_set_new(j, "folder", json_integer(o->folder));
	json_object_set_new(j, "name", json_string(o->name));
	json_object_set_new(j, "etag", json_string(o->etag));
	json_object_set_new(j, "revision", json_integer(o->revision));
	json_object_set_new(j, "allDay", json_boolean(o->all_day));
	json_object_set_new(j, "recurs", json_boolean(o->recurs));
	if (o->has_start) {
		storage_cal_format_time(o->dtstart, o->all_day, t);
		json_object_set_new(j, "start", json_string(t));
	}
	if (o->has_end) {
		storage_cal_format_time(o->dtend, o->all_day, t);
		json_object_set_new(j, kind->end_key, json_string(t));
	}
	json_object_set_new(j, "created", json_integer(o->created));
	json_object_set_new(j, "modified", json_integer(o->modified));
	json_object_set_new(j, "createdBy", json_integer(o->created_by));
	if (kind == &api_cal_events)
		api_sched_decorate(su, j);
	return j;
}

static void send_object(const struct api_cal_kind *kind, struct storage_user *su,
                        struct http_request *req, int status, const struct storage_cal_object *o,
                        bool ics)
{
	http_response_headerf(req, "ETag", "\"%s\"", o->etag);
	if (!ics) {
		http_response_json(req, status, object_json(kind, su, o));
		return;
	}
	http_response_status(req, status);
	http_response_header(req, "Content-Type", "text/calendar; charset=utf-8");
	buf_append(http_response_body(req), o->ical, o->ical_len);
	http_response_send(req);
}

/* --------------------------------------------------------------- request parsing */

/* The caller as a storage user; NULL after answering 401. */
static struct storage_user *caller(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user))
		return NULL;
	return storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
}

/* digits of s[at, at+n) as a number, or -1. */
static int digits(const char *s, size_t at, size_t n)
{
	int v = 0;
	for (size_t i = at; i < at + n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "2026-03-02" or "2026-03-02T09:00:00Z" as UTC seconds. */
static bool parse_utc(const char *s, int64_t *t_r)
{
	size_t n = strlen(s);
	struct tm tm = {0};
	if ((n != 10 && n != 20) || s[4] != '-' || s[7] != '-')
		return false;
	tm.tm_year = digits(s, 0, 4) - 1900;
	tm.tm_mon = digits(s, 5, 2) - 1;
	tm.tm_mday = digits(s, 8, 2);
	if (n == 20) {
		if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
			return false;
		tm.tm_hour = digits(s, 11, 2);
		tm.tm_min = digits(s, 14, 2);
		tm.tm_sec = digits(s, 17, 2);
	}
	if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return false;
	*t_r = (int64_t)timegm(&tm);
	return true;
}

int api_cal_time_query(struct http_request *req, const char *name, int64_t *t_r)
{
	const char *v = api_query(req, name);
	if (v == NULL)
		return 0;
	if (!parse_utc(v, t_r)) {
		api_error(req, 400, "CAL-0400",
		          "query parameter \"%s\" must be a date (2026-03-02) or a UTC date-time "
		          "(2026-03-02T09:00:00Z)",
		          name);
		return -1;
	}
	return 1;
}

static bool is_ics(struct http_request *req)
{
	struct strv ct = http_request_header(req, "Content-Type");
	return ct.len >= 13 && strncasecmp(ct.ptr, "text/calendar", 13) == 0;
}

/* The object text of a POST or PUT: the body itself (text/calendar) or built from its JSON
   form (uid: the object's, or NULL for a new one). NULL after answering 400. */
static const char *body_text(const struct api_cal_kind *kind, struct http_request *req,
                             const char *uid, size_t *len_r)
{
	if (is_ics(req)) {
		struct strv b = http_request_body(req);
		*len_r = b.len;
		return b.ptr != NULL ? b.ptr : "";
	}
	json_t *body = api_body_object(req);
	if (body == NULL)
		return NULL;
	char error[300];
	const char *text = cal_json_to_ical(http_request_pool(req), body, kind->component, uid,
	                                    error, sizeof(error));
	json_decref(body);
	if (text == NULL) {
		api_error(req, 400, "CAL-0400", "invalid %s: %s", kind->noun, error);
		return NULL;
	}
	*len_r = strlen(text);
	return text;
}

static bool wants_ics(struct http_request *req)
{
	const char *f = api_query(req, "format");
	return f != NULL && strcmp(f, "ics") == 0;
}

/* --------------------------------------------------------------- handlers */

void api_cal_list(const struct api_cal_kind *kind, void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_error err;
	int64_t folder, start = 0, end = 0, since, limit;
	int has_since;
	json_t *result = NULL;
	int r;
	if (su == NULL ||
	    api_query_folder_cursor(req, "CAL-0400", &folder, &has_since, &since, &limit) < 0)
		return;
	int has_start = api_cal_time_query(req, "start", &start);
	int has_end = has_start < 0 ? -1 : api_cal_time_query(req, "end", &end);
	if (has_end < 0)
		return;
	if (has_start != has_end) {
		api_error(req, 400, "CAL-0400", "\"start\" and \"end\" go together");
		return;
	}
	if (has_start > 0 && end <= start) {
		api_error(req, 400, "CAL-0400", "\"end\" must be after \"start\"");
		return;
	}
	if (has_since > 0)
		r = storage_cal_changes(su, folder, since, (size_t)limit, &result, &err);
	else if (has_start > 0)
		r = storage_cal_range(su, folder, start, end, (size_t)limit, &result, &err);
	else
		r = storage_cal_list(su, folder, limit > 0 ? (size_t)limit : STORAGE_CAL_RANGE_MAX,
		                     &result, &err);
	if (r < 0) {
		storage_failed(req, &err, STORAGE_CAL_OK);
		return;
	}
	http_response_json(req, 200, result);
}

/* Object id of the path if it is of this kind: 0, or -1 after answering. */
static int load(const struct api_cal_kind *kind, struct storage_user *su, struct http_request *req,
                struct storage_cal_object *o)
{
	struct storage_error err;
	int64_t id = http_request_param_id(req, "id");
	if (storage_cal_get(su, id, o, &err) < 0) {
		storage_failed(req, &err, STORAGE_CAL_OK);
		return -1;
	}
	if (strcmp(o->component, kind->component) != 0) {
		api_error(req, 404, "CAL-0404", "%s %lld not found", kind->noun, (long long)id);
		return -1;
	}
	return 0;
}

void api_cal_get(const struct api_cal_kind *kind, void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_cal_object o;
	if (su != NULL && load(kind, su, req, &o) == 0)
		send_object(kind, su, req, 200, &o, wants_ics(req));
}

void api_cal_create(const struct api_cal_kind *kind, void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_cal_put put = {0};
	struct storage_error err;
	if (su == NULL || api_query_folder(req, "CAL-0400", &put.folder) < 0)
		return;
	if ((put.text = body_text(kind, req, NULL, &put.len)) == NULL)
		return;
	put.if_none_match = true;
	put.component = kind->component;
	if (storage_cal_put(su, &put, &err) < 0) {
		storage_failed(req, &err, put.problem);
		return;
	}
	if (kind == &api_cal_events)
		api_sched_after_put(ctx, su, NULL, &put.obj, true);
	send_object(kind, su, req, 201, &put.obj, wants_ics(req));
}

void api_cal_update(const struct api_cal_kind *kind, void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_cal_object o;
	struct storage_error err;
	if (su == NULL || load(kind, su, req, &o) < 0)
		return;
	struct storage_cal_put put = {.folder = o.folder,
	                              .id = o.id,
	                              .if_match = api_if_match(req),
	                              .component = kind->component};
	if ((put.text = body_text(kind, req, o.uid, &put.len)) == NULL)
		return;
	if (storage_cal_put(su, &put, &err) < 0) {
		storage_failed(req, &err, put.problem);
		return;
	}
	if (kind == &api_cal_events)
		api_sched_after_put(ctx, su, &o, &put.obj, true);
	send_object(kind, su, req, 200, &put.obj, wants_ics(req));
}

void api_cal_delete(const struct api_cal_kind *kind, void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_cal_object o;
	struct storage_error err;
	enum storage_cal_problem problem;
	if (su == NULL || load(kind, su, req, &o) < 0)
		return;
	if (storage_cal_delete(su, o.id, api_if_match(req), &problem, &err) < 0) {
		storage_failed(req, &err, problem);
		return;
	}
	if (kind == &api_cal_events)
		api_sched_after_delete(ctx, su, &o);
	http_response_status(req, 204);
	http_response_send(req);
}

/* --------------------------------------------------------------- import */

struct import {
	struct storage_user *su;
	int64_t folder;
	json_t *results;
	size_t created, failed;
};

static const char *problem_code(const struct storage_error *err, enum storage_cal_problem p)
{
	if (err->status != STORAGE_REFUSED)
		return "CAL-0500";
	if (p == STORAGE_CAL_UID_CONFLICT)
		return "CAL-0409";
	if (p == STORAGE_CAL_TOO_LARGE || err->refusal == STORAGE_OVER_LIMIT)
		return "CAL-0413";
	if (err->refusal == STORAGE_FORBIDDEN)
		return "CAL-0403";
	return err->refusal == STORAGE_NOT_FOUND ? "CAL-0404" : "CAL-0400";
}

static void import_one(void *ctx, const char *text, size_t len, const char *uid)
{
	struct import *im = ctx;
	struct storage_cal_put put = {.folder = im->folder, .text = text, .len = len};
	struct storage_error err;
	json_t *r = json_pack("{ss}", "uid", uid);
	if (storage_cal_put(im->su, &put, &err) == 0) {
		im->created++;
		json_object_set_new(r, "id", json_integer(put.obj.id));
		json_object_set_new(r, "status", json_integer(put.created ? 201 : 200));
	} else {
		im->failed++;
		json_object_set_new(r, "error",
		                    json_pack("{ss ss}", "code", problem_code(&err, put.problem),
		                              "message", err.message));
	}
	json_array_append_new(im->results, r);
}

json_t *api_cal_import_text(struct storage_user *su, int64_t folder, struct pool *pool,
                            const char *text, size_t len, char *error, size_t size)
{
	struct import im = {.su = su, .folder = folder, .results = json_array()};
	if (cal_json_split(pool, text, len, IMPORT_MAX, import_one, &im, error, size) < 0) {
		json_decref(im.results);
		return NULL;
	}
	return json_pack("{so sI sI}", "results", im.results, "created", (json_int_t)im.created,
	                 "failed", (json_int_t)im.failed);
}

/* The folder's module, and the caller's right to use it (calendar or tasks: ACC-0403 when
   not); false after answering. */
static bool folder_module_ok(void *ctx, struct http_request *req, struct storage_user *su,
                             int64_t folder)
{
	struct node *node = ctx;
	struct api_user user;
	struct storage_error err;
	int64_t rev;
	char module[16];
	if (storage_cal_revision(su, folder, &rev, module, &err) < 0) {
		storage_failed(req, &err, STORAGE_CAL_OK);
		return false;
	}
	return api_auth(node, req, &user) &&
	       api_module_check(node, req, &user,
	                        strcmp(module, "tasks") == 0 ? MODULE_TASKS : MODULE_CALENDAR);
}

static void folders_import(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	char error[300];
	if (su == NULL)
		return;
	int64_t folder = http_request_param_id(req, "id");
	if (api_contacts_folder(su, folder)) { /* .vcf into a contacts folder */
		api_contacts_import(ctx, req);
		return;
	}
	/* the folder first: an unknown or foreign one says so once, not per object */
	if (!folder_module_ok(ctx, req, su, folder))
		return;
	struct strv body = http_request_body(req);
	json_t *j =
	    api_cal_import_text(su, folder, http_request_pool(req),
	                        body.ptr != NULL ? body.ptr : "", body.len, error, sizeof(error));
	if (j == NULL) {
		api_error(req, 400, "CAL-0400", "import refused: %s", error);
		return;
	}
	http_response_json(req, 200, j);
}

static void folders_export(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_error err;
	const char **texts;
	size_t n;
	if (su == NULL)
		return;
	int64_t folder = http_request_param_id(req, "id");
	if (api_contacts_folder(su, folder)) {
		api_contacts_export(ctx, req);
		return;
	}
	if (!folder_module_ok(ctx, req, su, folder))
		return;
	if (storage_cal_export(su, folder, EXPORT_MAX, &texts, &n, &err) < 0) {
		storage_failed(req, &err, STORAGE_CAL_OK);
		return;
	}
	const char *text = cal_json_merge(http_request_pool(req), texts, n);
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", "text/calendar; charset=utf-8");
	http_response_headerf(req, "Content-Disposition", "attachment; filename=\"%lld.ics\"",
	                      (long long)folder);
	buf_append_str(http_response_body(req), text);
	http_response_send(req);
}

/* --------------------------------------------------------------- routes */

static void events_list(void *ctx, struct http_request *req)
{
	if (api_mail_imip_scan(ctx, req))
		api_cal_list(&api_cal_events, ctx, req);
}

static void events_create(void *ctx, struct http_request *req)
{
	api_cal_create(&api_cal_events, ctx, req);
}

static void events_get(void *ctx, struct http_request *req)
{
	if (api_mail_imip_scan(ctx, req))
		api_cal_get(&api_cal_events, ctx, req);
}

static void events_update(void *ctx, struct http_request *req)
{
	api_cal_update(&api_cal_events, ctx, req);
}

static void events_delete(void *ctx, struct http_request *req)
{
	api_cal_delete(&api_cal_events, ctx, req);
}

const struct http_route api_event_routes[] = {
    {"GET", "/api/v1/events", events_list, 0, NULL},
    {"POST", "/api/v1/events", events_create, 0, NULL},
    {"GET", "/api/v1/events/{id:id}", events_get, 0, NULL},
    {"PUT", "/api/v1/events/{id:id}", events_update, 0, NULL},
    {"DELETE", "/api/v1/events/{id:id}", events_delete, 0, NULL},
    {"POST", "/api/v1/folders/{id:id}/import", folders_import, 0, NULL},
    {"GET", "/api/v1/folders/{id:id}/export", folders_export, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
