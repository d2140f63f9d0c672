/* SPDX-License-Identifier: MIT */
/* CalDAV: the calendar home and its collections (PROPFIND), the principal's
   calendar-home-set, and objects (GET, PUT, DELETE) over storage-calendar.h
   (docs/internals/calendar.md "CalDAV"). REPORTs are in api-caldav-report.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-caldav-collection.h"
#include "api-caldav.h"
#include "api-schedule.h"
#include "api-carddav.h"
#include "api-davobj.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "pool.h"
#include "storage-folder.h"

#define CALDAV_ALLOW_COLLECTION "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, DELETE"
#define CALDAV_ALLOW_OBJECT     "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND"

bool caldav_path(const char *path)
{
	return davobj_under(path, "/dav/calendars");
}

bool caldav_path_target(struct strv target)
{
	return davobj_under_target(target, "/dav/calendars");
}

bool caldav_discovery_target(const struct http_request_head *head, const char *login)
{
	if (!strv_eq_cstr(head->method, "PROPFIND") && !strv_eq_cstr(head->method, "OPTIONS"))
		return false;
	struct strv t = head->target, pre = strv_from_cstr("/dav/principals/users/");
	if (strv_eq_cstr(t, "/dav") || strv_eq_cstr(t, "/dav/"))
		return true;
	if (!strv_starts_with(t, pre))
		return false;
	struct strv rest = strv_make(t.ptr + pre.len, t.len - pre.len);
	if (rest.len > 0 && rest.ptr[rest.len - 1] == '/')
		rest.len--;
	return strv_eq_cstr(rest, login);
}

static bool is_principal(struct dav_req *dr)
{
	const char *p = dr->path;
	const char *pre = "/dav/principals/users/";
	size_t n = strlen(pre), l = strlen(dr->user.login);
	return strncmp(p, pre, n) == 0 && strncmp(p + n, dr->user.login, l) == 0 &&
	       (p[n + l] == '\0' || strcmp(p + n + l, "/") == 0);
}

bool caldav_handles(struct dav_req *dr)
{
	struct strv m = http_request_head(dr->req)->method;
	return caldav_path(dr->path) ||
	       ((strv_eq_cstr(m, "PROPFIND") || strv_eq_cstr(m, "OPTIONS")) && is_principal(dr));
}

static bool calendar_module(const struct folder *f)
{
	return f->module != NULL &&
	       (strcmp(f->module, "calendar") == 0 || strcmp(f->module, "tasks") == 0);
}

const char *caldav_folder_href(struct dav_req *dr, int64_t folder)
{
	return pool_printf(dr->pool, "%s%s/%lld/", CALDAV_HOME, dr->user.login, (long long)folder);
}

/* cal_ical_parse's refusals of an object that is iCalendar but not one calendar object
   resource (RFC 4791 §4.1: one UID, one kind, one master): valid-calendar-object-resource;
   the rest are valid-calendar-data. Its messages are the only record of which it was. */
static const char *const object_rules[] = {
    "object mixes VEVENT and VTODO",  "has no UID",
    "components have different UIDs", "no VEVENT or VTODO in the object",
    "overridden instances",           "two components without RECURRENCE-ID",
    "RECURRENCE-ID given twice",      "is not supported (VEVENT or VTODO)",
};

static const char *bad_data_precondition(const char *message)
{
	for (size_t i = 0; i < sizeof(object_rules) / sizeof(object_rules[0]); i++)
		if (strstr(message, object_rules[i]) != NULL)
			return "valid-calendar-object-resource";
	return "valid-calendar-data";
}

/* Answers a failed storage call (any multistatus begun is dropped). */
void caldav_storage_failed(struct dav_req *dr, const struct storage_error *err,
                           enum storage_cal_problem problem)
{
	const char *bad_data =
	    problem == STORAGE_CAL_BAD_DATA ? bad_data_precondition(err->message) : NULL;
	const struct davobj_problem problems[] = {
	    [STORAGE_CAL_BAD_DATA] = {400, CALDAV_NS, bad_data},
	    [STORAGE_CAL_WRONG_COMPONENT] = {403, CALDAV_NS, "supported-calendar-component"},
	    [STORAGE_CAL_UID_CONFLICT] = {409, CALDAV_NS, "no-uid-conflict"},
	    [STORAGE_CAL_PRECONDITION] = {412, DAV_NS, NULL},
	    [STORAGE_CAL_TOO_LARGE] = {413, CALDAV_NS, "max-resource-size"},
	};
	davobj_storage_failed(dr, err, problems, sizeof(problems) / sizeof(problems[0]), problem,
	                      CALDAV_NS, "valid-calendar-object-resource");
}

/* /dav/calendars/<login>/<folder id>/<name>: 0 with res_r (kind NONE when nothing is there),
   -1 after answering. */
int caldav_resolve(struct dav_req *dr, const char *path, struct caldav_res *res_r)
{
	memset(res_r, 0, sizeof(*res_r));
	const char *p = NULL;
	switch (davobj_level(dr, path, "/dav/calendars", &p)) {
	case DAVOBJ_NONE:
		return 0;
	case DAVOBJ_ROOT:
		res_r->kind = CALDAV_ROOT;
		return 0;
	case DAVOBJ_HOME:
		res_r->kind = CALDAV_HOME_SET;
		return 0;
	case DAVOBJ_BELOW:
		break;
	}
	char *end;
	long long id = strtoll(p, &end, 10);
	struct folder_error fe;
	struct storage_error err;
	size_t seg = strcspn(p, "/");
	if (strspn(p, "0123456789") != seg) { /* a name the client chose (MKCALENDAR) */
		end = (char *)p + seg;
		if (caldav_collection_lookup(dr, pool_strndup(dr->pool, p, seg), &res_r->folder) <
		    0)
			return -1;
		if (res_r->folder == NULL)
			return 0;
	} else if (id <= FOLDER_ID_MAX_SYSTEM) {
		return 0;
	} else if (storage_folder_get(dr->su, id, &res_r->folder, &fe, &err) < 0) {
		if (err.status == STORAGE_REFUSED)
			return 0;
		caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return -1;
	}
	if (!calendar_module(res_r->folder))
		return 0;
	res_r->href = pool_printf(dr->pool, "%s%s/%.*s/", CALDAV_HOME, dr->user.login, (int)seg, p);
	switch (davobj_member(dr, end, &res_r->name)) {
	case DAVOBJ_MEMBER_NONE:
		break;
	case DAVOBJ_MEMBER_COLLECTION:
		res_r->kind = CALDAV_CALENDAR;
		break;
	case DAVOBJ_MEMBER_OBJECT:
		res_r->kind = CALDAV_OBJECT;
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------------------- PROPFIND */

struct pf {
	struct dav_req *dr;
	struct dav_propfind *req;
	struct buf *out;
};

static const struct dav_prop_name allprop[] = {
    {DAV_NS, "resourcetype"},           {DAV_NS, "displayname"},   {DAV_NS, "getetag"},
    {DAV_NS, "getcontenttype"},         {DAVOBJ_CS_NS, "getctag"}, {DAV_NS, "sync-token"},
    {DAV_NS, "current-user-principal"},
};

static void raw(struct buf *out, const char *xml)
{
	dav_ms_prop_raw(out, strv_from_cstr(xml));
}

static void text(struct buf *out, const char *ns, const char *name, const char *value)
{
	dav_ms_prop_text(out, ns, name, strv_from_cstr(value));
}

/* One property of a collection (f NULL: the home or the principal): false when it has none. */
static bool collection_prop(struct pf *pf, const struct dav_prop_name *n, const struct folder *f,
                            bool principal)
{
	struct dav_req *dr = pf->dr;
	struct buf *out = pf->out;
	const char *home = pool_printf(dr->pool, "%s%s/", CALDAV_HOME, dr->user.login);
	const char *me = pool_printf(dr->pool, "/dav/principals/users/%s/", dr->user.login);
	if (davobj_is(n, DAV_NS, "current-user-principal")) {
		davobj_href_prop(out, DAV_NS, "current-user-principal", me);
	} else if (davobj_is(n, DAV_NS, "principal-URL") && principal) {
		davobj_href_prop(out, DAV_NS, "principal-URL", me);
	} else if (davobj_is(n, CALDAV_NS, "calendar-home-set") && principal) {
		davobj_href_prop(out, CALDAV_NS, "calendar-home-set", home);
	} else if (davobj_is(n, CARDDAV_NS, "addressbook-home-set") && principal) {
		davobj_href_prop(out, CARDDAV_NS, "addressbook-home-set",
		                 pool_printf(dr->pool, "%s%s/", CARDDAV_HOME, dr->user.login));
	} else if (principal && caldav_sched_principal_prop(dr, out, n)) {
		/* scheduling's: inbox, outbox, calendar-user-address-set (api-caldav-sched.c) */
	} else if (davobj_is(n, DAV_NS, "owner") && f == NULL && !principal) {
		davobj_href_prop(out, DAV_NS, "owner", me);
	} else if (davobj_is(n, DAV_NS, "resourcetype")) {
		raw(out,
		    principal   ? "<D:resourcetype><D:collection/><D:principal/></D:resourcetype>"
		    : f != NULL ? "<D:resourcetype><D:collection/><C:calendar xmlns:C=\"" CALDAV_NS
		                  "\"/></D:resourcetype>"
		                : "<D:resourcetype><D:collection/></D:resourcetype>");
	} else if (davobj_is(n, DAV_NS, "displayname")) {
		text(out, DAV_NS, "displayname", f != NULL ? f->title : dr->user.login);
	} else if (f == NULL) {
		return false;
	} else if (caldav_collection_stored_prop(dr, f, n, out)) { /* set by the client */
	} else if (davobj_is(n, CALDAV_NS, "calendar-description")) {
		text(out, CALDAV_NS, "calendar-description",
		     pool_printf(dr->pool, "%s (%s)", f->title, f->module));
	} else if (davobj_is(n, CALDAV_NS, "supported-calendar-component-set")) {
		raw(out, strcmp(f->module, "tasks") == 0
		             ? "<C:supported-calendar-component-set xmlns:C=\"" CALDAV_NS
		               "\"><C:comp name=\"VTODO\"/></C:supported-calendar-component-set>"
		             : "<C:supported-calendar-component-set xmlns:C=\"" CALDAV_NS
		               "\"><C:comp name=\"VEVENT\"/></C:supported-calendar-component-set>");
	} else if (davobj_is(n, CALDAV_NS, "supported-calendar-data")) {
		raw(out,
		    "<C:supported-calendar-data xmlns:C=\"" CALDAV_NS "\"><C:calendar-data "
		    "content-type=\"text/calendar\" version=\"2.0\"/></C:supported-calendar-data>");
	} else if (davobj_is(n, CALDAV_NS, "max-resource-size")) {
		text(out, CALDAV_NS, "max-resource-size",
		     pool_printf(dr->pool, "%u", (unsigned)CAL_ICAL_MAX_SIZE));
	} else if (davobj_is(n, DAV_NS, "current-user-privilege-set")) {
		davobj_privileges(out, f,
		                  "<D:privilege><C:read-free-busy xmlns:C=\"" CALDAV_NS
		                  "\"/></D:privilege>");
	} else if (davobj_is(n, DAV_NS, "supported-report-set")) {
		raw(out,
		    "<D:supported-report-set><D:supported-report><D:report><C:calendar-multiget "
		    "xmlns:C=\"" CALDAV_NS "\"/></D:report></D:supported-report><D:supported-"
		    "report><D:report><C:calendar-query xmlns:C=\"" CALDAV_NS "\"/></D:report>"
		    "</D:supported-report><D:supported-report><D:report><C:free-busy-query "
		    "xmlns:C=\"" CALDAV_NS "\"/></D:report></D:supported-report>"
		    "<D:supported-report><D:report><D:sync-collection/>"
		    "</D:report></D:supported-report></D:supported-report-set>");
	} else if (davobj_is_revision_prop(n)) {
		int64_t rev;
		struct storage_error err;
		if (storage_cal_revision(dr->su, f->id, &rev, NULL, &err) < 0)
			return false;
		davobj_revision_prop(dr, out, n, f->id, rev);
	} else {
		return false;
	}
	return true;
}

static bool object_prop(struct pf *pf, const struct dav_prop_name *n,
                        const struct storage_cal_object *o)
{
	struct buf *out = pf->out;
	if (davobj_is(n, DAV_NS, "getetag"))
		text(out, DAV_NS, "getetag", pool_printf(pf->dr->pool, "\"%s\"", o->etag));
	else if (davobj_is(n, DAV_NS, "getcontenttype"))
		text(out, DAV_NS, "getcontenttype", "text/calendar; charset=utf-8");
	else if (davobj_is(n, DAV_NS, "resourcetype"))
		raw(out, "<D:resourcetype/>");
	else if (davobj_is(n, DAV_NS, "getcontentlength"))
		text(out, DAV_NS, "getcontentlength",
		     pool_printf(pf->dr->pool, "%zu", o->ical_len));
	else if (davobj_is(n, CALDAV_NS, "calendar-data") && o->ical_len > 0) /* not in a listing */
		dav_ms_prop_text(out, CALDAV_NS, "calendar-data", strv_make(o->ical, o->ical_len));
	else
		return false;
	return true;
}

/* What one <D:response> shows: a collection (o NULL: f, or the home or the principal) or an
   object. */
struct shown {
	struct pf *pf;
	const struct folder *f;
	bool principal;
	const struct storage_cal_object *o;
};

static bool shown_prop(void *ctx, struct buf *out, const struct dav_prop_name *n)
{
	struct shown *s = ctx;
	(void)out;
	return s->o != NULL ? object_prop(s->pf, n, s->o)
	                    : collection_prop(s->pf, n, s->f, s->principal);
}

static void response(struct pf *pf, const char *href, const struct folder *f, bool principal,
                     const struct storage_cal_object *o)
{
	struct shown s = {pf, f, principal, o};
	davobj_response(pf->dr, pf->out, pf->req, allprop, sizeof(allprop) / sizeof(allprop[0]),
	                href, shown_prop, &s);
}

static void propfind(struct dav_req *dr, const struct caldav_res *res)
{
	struct pf pf = {.dr = dr, .out = http_response_body(dr->req)};
	bool members;
	if (davobj_propfind_parse(dr, &pf.req, &members) < 0)
		return;
	struct storage_error err;
	dav_ms_begin(pf.out);
	if (res == NULL) { /* the principal */
		response(&pf, pool_printf(dr->pool, "/dav/principals/users/%s/", dr->user.login),
		         NULL, true, NULL);
	} else if (res->kind == CALDAV_ROOT) {
		response(&pf, CALDAV_HOME, NULL, false, NULL);
		if (members)
			response(&pf, pool_printf(dr->pool, "%s%s/", CALDAV_HOME, dr->user.login),
			         NULL, false, NULL);
	} else if (res->kind == CALDAV_HOME_SET) {
		response(&pf, pool_printf(dr->pool, "%s%s/", CALDAV_HOME, dr->user.login), NULL,
		         false, NULL);
		struct folder **fs;
		size_t n;
		if (members && davobj_home_folders(dr, calendar_module, &fs, &n) < 0)
			return;
		for (size_t i = 0; members && i < n; i++)
			response(&pf, caldav_collection_href(dr, fs[i]), fs[i], false, NULL);
	} else if (res->kind == CALDAV_CALENDAR) {
		const char *href = res->href;
		response(&pf, href, res->folder, false, NULL);
		json_t *list = NULL;
		if (members && storage_cal_list(dr->su, res->folder->id, STORAGE_CAL_RANGE_MAX,
		                                &list, &err) < 0) {
			caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
			return;
		}
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(list, "objects"), i, e)
		{
			struct storage_cal_object o = {
			    .etag = json_string_value(json_object_get(e, "etag")),
			    .ical = "",
			    .ical_len = 0};
			const char *name = json_string_value(json_object_get(e, "name"));
			response(&pf, pool_printf(dr->pool, "%s%s", href, name), NULL, false, &o);
		}
		json_decref(list);
	} else {
		struct storage_cal_object o;
		if (storage_cal_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0) {
			caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
			return;
		}
		response(&pf, dr->path, NULL, false, &o);
	}
	dav_ms_end(pf.out);
	davobj_send_207(dr);
}

/* ------------------------------------------------------------------------ GET, PUT, DELETE */

static void get(struct dav_req *dr, const struct caldav_res *res)
{
	struct storage_cal_object o;
	struct storage_error err;
	if (storage_cal_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0) {
		caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return;
	}
	davobj_send_object(dr, o.etag, "text/calendar; charset=utf-8", o.ical, o.ical_len);
}

static void put(struct dav_req *dr, const struct caldav_res *res)
{
	if (dr->body->too_large) {
		davobj_fail(dr, 413, CALDAV_NS, "max-resource-size",
		            "a calendar object is at most 1 MiB");
		return;
	}
	struct strv body = dav_body(dr);
	const char *inm = davobj_etag_header(dr, "If-None-Match");
	struct storage_cal_put p = {
	    .folder = res->folder->id,
	    .name = res->name,
	    .text = body.ptr != NULL ? body.ptr : "",
	    .len = body.len,
	    .if_match = davobj_etag_header(dr, "If-Match"),
	    .if_none_match = inm != NULL && strcmp(inm, "*") == 0,
	    .component = strcmp(res->folder->module, "tasks") == 0 ? "VTODO" : "VEVENT",
	};
	struct storage_error err;
	struct storage_cal_object old;
	bool event = strcmp(p.component, "VEVENT") == 0;
	bool had = event && !p.if_none_match &&
	           storage_cal_get_by_name(dr->su, p.folder, p.name, &old, &err) == 0;
	if (storage_cal_put(dr->su, &p, &err) < 0) {
		caldav_storage_failed(dr, &err, p.problem);
		return;
	}
	bool rewritten =
	    event && api_sched_after_put(dr->node, dr->su, had ? &old : NULL, &p.obj, false);
	/* RFC 4791 §5.3.4: no ETag when the server changed what was sent */
	davobj_stored(dr, p.created, rewritten ? NULL : p.obj.etag);
}

static void delete (struct dav_req *dr, const struct caldav_res *res)
{
	struct storage_cal_object o;
	struct storage_error err;
	enum storage_cal_problem problem = STORAGE_CAL_OK;
	if (storage_cal_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0 ||
	    storage_cal_delete(dr->su, o.id, davobj_etag_header(dr, "If-Match"), &problem, &err) <
	        0) {
		caldav_storage_failed(dr, &err, problem);
		return;
	}
	if (strcmp(o.component, "VEVENT") == 0)
		api_sched_after_delete(dr->node, dr->su, &o);
	davobj_stored(dr, false, NULL);
}

static void options(struct dav_req *dr, bool object)
{
	davobj_options(dr, "1, 2, calendar-access, calendar-auto-schedule, extended-mkcol",
	               object ? CALDAV_ALLOW_OBJECT : CALDAV_ALLOW_COLLECTION);
}

void caldav_dispatch(struct dav_req *dr)
{
	struct strv m = http_request_head(dr->req)->method;
	struct caldav_res res;
	if (caldav_sched_dispatch(dr)) /* the schedule inbox and outbox */
		return;
	if (!caldav_path(dr->path)) { /* the principal */
		if (strv_eq_cstr(m, "OPTIONS"))
			options(dr, false);
		else
			propfind(dr, NULL);
		return;
	}
	if (caldav_resolve(dr, dr->path, &res) < 0)
		return;
	bool object = res.kind == CALDAV_OBJECT;
	if (strv_eq_cstr(m, "OPTIONS")) {
		options(dr, object);
		return;
	}
	if (strv_eq_cstr(m, "MKCALENDAR") || strv_eq_cstr(m, "MKCOL")) {
		caldav_collection_create(dr, &res);
		return;
	}
	if (res.kind == CALDAV_NONE) {
		dav_fail(dr, 404, NULL, "DAV-0404", "%s is not a calendar resource", dr->path);
		return;
	}
	if (strv_eq_cstr(m, "PROPFIND")) {
		propfind(dr, &res);
	} else if (strv_eq_cstr(m, "REPORT")) {
		caldav_report(dr, &res);
	} else if (object && (strv_eq_cstr(m, "GET") || strv_eq_cstr(m, "HEAD"))) {
		get(dr, &res);
	} else if (object && strv_eq_cstr(m, "PUT")) {
		put(dr, &res);
	} else if (object && strv_eq_cstr(m, "DELETE")) {
		delete (dr, &res);
	} else if (strv_eq_cstr(m, "PROPPATCH")) {
		caldav_collection_proppatch(dr, &res);
	} else if (res.kind == CALDAV_CALENDAR && strv_eq_cstr(m, "DELETE")) {
		caldav_collection_delete(dr, &res);
	} else {
		davobj_not_allowed(dr, object ? CALDAV_ALLOW_OBJECT : CALDAV_ALLOW_COLLECTION);
	}
}
