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
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "pool.h"
#include "storage-folder.h"

#define CALDAV_ALLOW_COLLECTION "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, DELETE"
#define CALDAV_ALLOW_OBJECT     "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND"

bool caldav_path(const char *path)
{
	return strncmp(path, "/dav/calendars", 14) == 0 && (path[14] == '\0' || path[14] == '/');
}

bool caldav_path_target(struct strv target)
{
	struct strv pre = strv_from_cstr("/dav/calendars");
	return strv_starts_with(target, pre) &&
	       (target.len == pre.len || target.ptr[pre.len] == '/' || target.ptr[pre.len] == '?');
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

const char *caldav_sync_token(struct dav_req *dr, int64_t folder, int64_t revision)
{
	return pool_printf(dr->pool, "urn:tandem:sync:%lld:%lld", (long long)folder,
	                   (long long)revision);
}

void caldav_send_207(struct dav_req *dr)
{
	http_response_status(dr->req, 207);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	http_response_send(dr->req);
}

void caldav_fail(struct dav_req *dr, int status, const char *ns, const char *precondition,
                 const char *message)
{
	struct buf *out = http_response_body(dr->req);
	buf_reset(out); /* a multistatus begun before the failure */
	http_response_status(dr->req, status);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	buf_append_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                    "<D:error xmlns:D=\"DAV:\" xmlns:C=\"" CALDAV_NS "\">");
	if (precondition != NULL) {
		buf_append_str(out, strcmp(ns, CALDAV_NS) == 0 ? "<C:" : "<D:");
		buf_append_str(out, precondition);
		buf_append_str(out, "/>");
	}
	buf_append_str(out, "<D:responsedescription>");
	dav_xml_text_append(out, strv_from_cstr(message));
	buf_append_str(out, "</D:responsedescription></D:error>");
	http_response_send(dr->req);
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
	const char *msg = err->message;
	buf_reset(http_response_body(dr->req));
	if (err->status != STORAGE_REFUSED) {
		dav_storage_failed(dr, err);
		return;
	}
	switch (problem) {
	case STORAGE_CAL_BAD_DATA:
		caldav_fail(dr, 400, CALDAV_NS, bad_data_precondition(msg), msg);
		return;
	case STORAGE_CAL_WRONG_COMPONENT:
		caldav_fail(dr, 403, CALDAV_NS, "supported-calendar-component", msg);
		return;
	case STORAGE_CAL_UID_CONFLICT:
		caldav_fail(dr, 409, CALDAV_NS, "no-uid-conflict", msg);
		return;
	case STORAGE_CAL_PRECONDITION:
		caldav_fail(dr, 412, DAV_NS, NULL, msg);
		return;
	case STORAGE_CAL_TOO_LARGE:
		caldav_fail(dr, 413, CALDAV_NS, "max-resource-size", msg);
		return;
	case STORAGE_CAL_OK:
		break;
	}
	switch (err->refusal) {
	case STORAGE_NOT_FOUND:
		caldav_fail(dr, 404, DAV_NS, NULL, msg);
		return;
	case STORAGE_FORBIDDEN:
		caldav_fail(dr, 403, DAV_NS, "need-privileges", msg);
		return;
	case STORAGE_INVALID:
		caldav_fail(dr, 400, CALDAV_NS, "valid-calendar-object-resource", msg);
		return;
	default:
		dav_storage_failed(dr, err);
	}
}

/* /dav/calendars/<login>/<folder id>/<name>: 0 with res_r (kind NONE when nothing is there),
   -1 after answering. */
int caldav_resolve(struct dav_req *dr, const char *path, struct caldav_res *res_r)
{
	memset(res_r, 0, sizeof(*res_r));
	if (!caldav_path(path))
		return 0;
	const char *p = path + 14;
	while (*p == '/')
		p++;
	if (*p == '\0') {
		res_r->kind = CALDAV_ROOT;
		return 0;
	}
	size_t l = strlen(dr->user.login);
	if (strncmp(p, dr->user.login, l) != 0 || (p[l] != '\0' && p[l] != '/'))
		return 0;
	p += l;
	while (*p == '/')
		p++;
	if (*p == '\0') {
		res_r->kind = CALDAV_HOME_SET;
		return 0;
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
	p = end;
	while (*p == '/')
		p++;
	if (*p == '\0') {
		res_r->kind = CALDAV_CALENDAR;
		return 0;
	}
	if (strchr(p, '/') != NULL && strchr(p, '/')[1] != '\0')
		return 0;
	res_r->kind = CALDAV_OBJECT;
	res_r->name = pool_strndup(dr->pool, p, strcspn(p, "/"));
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
    {DAV_NS, "getcontenttype"},         {CALDAV_CS_NS, "getctag"}, {DAV_NS, "sync-token"},
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

static void href_prop(struct buf *out, const char *ns, const char *name, const char *href)
{
	buf_append_str(out, "<");
	buf_append_str(out, name);
	buf_append_str(out, " xmlns=\"");
	buf_append_str(out, ns);
	buf_append_str(out, "\"><D:href>");
	dav_href_append(out, href);
	buf_append_str(out, "</D:href></");
	buf_append_str(out, name);
	buf_append_str(out, ">");
}

static bool is(const struct dav_prop_name *n, const char *ns, const char *name)
{
	return strcmp(n->ns, ns) == 0 && strcmp(n->name, name) == 0;
}

static void privileges(struct buf *out, const struct folder *f)
{
	buf_append_str(out,
	               "<D:current-user-privilege-set><D:privilege><D:read/></D:privilege>"
	               "<D:privilege><C:read-free-busy xmlns:C=\"" CALDAV_NS "\"/></D:privilege>");
	if (f->rights.folder >= 2)
		buf_append_str(out, "<D:privilege><D:bind/></D:privilege>");
	if (f->rights.write > 0)
		buf_append_str(out, "<D:privilege><D:write-content/></D:privilege>"
		                    "<D:privilege><D:write-properties/></D:privilege>");
	if (f->rights.del > 0)
		buf_append_str(out, "<D:privilege><D:unbind/></D:privilege>");
	if (f->rights.folder >= 2 && f->rights.write > 0 && f->rights.del > 0)
		buf_append_str(out, "<D:privilege><D:write/></D:privilege>");
	buf_append_str(out, "</D:current-user-privilege-set>");
}

/* One property of a collection (f NULL: the home or the principal): false when it has none. */
static bool collection_prop(struct pf *pf, const struct dav_prop_name *n, const struct folder *f,
                            bool principal)
{
	struct dav_req *dr = pf->dr;
	struct buf *out = pf->out;
	const char *home = pool_printf(dr->pool, "%s%s/", CALDAV_HOME, dr->user.login);
	const char *me = pool_printf(dr->pool, "/dav/principals/users/%s/", dr->user.login);
	if (is(n, DAV_NS, "current-user-principal")) {
		href_prop(out, DAV_NS, "current-user-principal", me);
	} else if (is(n, DAV_NS, "principal-URL") && principal) {
		href_prop(out, DAV_NS, "principal-URL", me);
	} else if (is(n, CALDAV_NS, "calendar-home-set") && principal) {
		href_prop(out, CALDAV_NS, "calendar-home-set", home);
	} else if (principal && caldav_sched_principal_prop(dr, out, n)) {
		/* scheduling's: inbox, outbox, calendar-user-address-set (api-caldav-sched.c) */
	} else if (is(n, DAV_NS, "owner") && f == NULL && !principal) {
		href_prop(out, DAV_NS, "owner", me);
	} else if (is(n, DAV_NS, "resourcetype")) {
		raw(out,
		    principal   ? "<D:resourcetype><D:collection/><D:principal/></D:resourcetype>"
		    : f != NULL ? "<D:resourcetype><D:collection/><C:calendar xmlns:C=\"" CALDAV_NS
		                  "\"/></D:resourcetype>"
		                : "<D:resourcetype><D:collection/></D:resourcetype>");
	} else if (is(n, DAV_NS, "displayname")) {
		text(out, DAV_NS, "displayname", f != NULL ? f->title : dr->user.login);
	} else if (f == NULL) {
		return false;
	} else if (caldav_collection_stored_prop(dr, f, n, out)) { /* set by the client */
	} else if (is(n, CALDAV_NS, "calendar-description")) {
		text(out, CALDAV_NS, "calendar-description",
		     pool_printf(dr->pool, "%s (%s)", f->title, f->module));
	} else if (is(n, CALDAV_NS, "supported-calendar-component-set")) {
		raw(out, strcmp(f->module, "tasks") == 0
		             ? "<C:supported-calendar-component-set xmlns:C=\"" CALDAV_NS
		               "\"><C:comp name=\"VTODO\"/></C:supported-calendar-component-set>"
		             : "<C:supported-calendar-component-set xmlns:C=\"" CALDAV_NS
		               "\"><C:comp name=\"VEVENT\"/></C:supported-calendar-component-set>");
	} else if (is(n, CALDAV_NS, "supported-calendar-data")) {
		raw(out,
		    "<C:supported-calendar-data xmlns:C=\"" CALDAV_NS "\"><C:calendar-data "
		    "content-type=\"text/calendar\" version=\"2.0\"/></C:supported-calendar-data>");
	} else if (is(n, CALDAV_NS, "max-resource-size")) {
		text(out, CALDAV_NS, "max-resource-size",
		     pool_printf(dr->pool, "%u", (unsigned)CAL_ICAL_MAX_SIZE));
	} else if (is(n, DAV_NS, "current-user-privilege-set")) {
		privileges(out, f);
	} else if (is(n, DAV_NS, "supported-report-set")) {
		raw(out,
		    "<D:supported-report-set><D:supported-report><D:report><C:calendar-multiget "
		    "xmlns:C=\"" CALDAV_NS "\"/></D:report></D:supported-report><D:supported-"
		    "report><D:report><C:calendar-query xmlns:C=\"" CALDAV_NS "\"/></D:report>"
		    "</D:supported-report><D:supported-report><D:report><C:free-busy-query "
		    "xmlns:C=\"" CALDAV_NS "\"/></D:report></D:supported-report>"
		    "<D:supported-report><D:report><D:sync-collection/>"
		    "</D:report></D:supported-report></D:supported-report-set>");
	} else if (is(n, CALDAV_CS_NS, "getctag") || is(n, DAV_NS, "sync-token")) {
		int64_t rev;
		struct storage_error err;
		if (storage_cal_revision(dr->su, f->id, &rev, NULL, &err) < 0)
			return false;
		if (is(n, DAV_NS, "sync-token"))
			text(out, DAV_NS, "sync-token", caldav_sync_token(dr, f->id, rev));
		else
			text(out, CALDAV_CS_NS, "getctag",
			     pool_printf(dr->pool, "%lld", (long long)rev));
	} else {
		return false;
	}
	return true;
}

static bool object_prop(struct pf *pf, const struct dav_prop_name *n,
                        const struct storage_cal_object *o)
{
	struct buf *out = pf->out;
	if (is(n, DAV_NS, "getetag"))
		text(out, DAV_NS, "getetag", pool_printf(pf->dr->pool, "\"%s\"", o->etag));
	else if (is(n, DAV_NS, "getcontenttype"))
		text(out, DAV_NS, "getcontenttype", "text/calendar; charset=utf-8");
	else if (is(n, DAV_NS, "resourcetype"))
		raw(out, "<D:resourcetype/>");
	else if (is(n, DAV_NS, "getcontentlength"))
		text(out, DAV_NS, "getcontentlength",
		     pool_printf(pf->dr->pool, "%zu", o->ical_len));
	else if (is(n, CALDAV_NS, "calendar-data") && o->ical_len > 0) /* not in a listing */
		dav_ms_prop_text(out, CALDAV_NS, "calendar-data", strv_make(o->ical, o->ical_len));
	else
		return false;
	return true;
}

/* One <D:response> for href: properties of a collection (o NULL) or an object. */
static void response(struct pf *pf, const char *href, const struct folder *f, bool principal,
                     const struct storage_cal_object *o)
{
	const struct dav_prop_name *names = pf->req->names;
	size_t count = pf->req->count;
	if (pf->req->kind != DAV_PROPFIND_PROP) {
		names = allprop;
		count = sizeof(allprop) / sizeof(allprop[0]);
	}
	bool *missing = pool_calloc(pf->dr->pool, count + 1, sizeof(*missing));
	size_t nmissing = 0;
	dav_ms_response_begin(pf->out, href);
	dav_ms_propstat_begin(pf->out);
	for (size_t i = 0; i < count; i++) {
		bool found = o != NULL ? object_prop(pf, &names[i], o)
		                       : collection_prop(pf, &names[i], f, principal);
		if (!found) {
			missing[i] = true;
			nmissing++;
		}
	}
	dav_ms_propstat_end(pf->out, 200);
	if (nmissing > 0 && pf->req->kind == DAV_PROPFIND_PROP) {
		dav_ms_propstat_begin(pf->out);
		for (size_t i = 0; i < count; i++)
			if (missing[i])
				dav_ms_prop_empty(pf->out, names[i].ns, names[i].name);
		dav_ms_propstat_end(pf->out, 404);
	}
	dav_ms_response_end(pf->out);
}

/* The calendar and tasks folders the user sees: their own below the private root, and
   those others share with them. */
static int home_folders(struct dav_req *dr, struct folder ***folders_r, size_t *count_r)
{
	struct folder **own, **all;
	size_t nown, n = 0;
	struct folder_sharer *sharers;
	size_t nsharers;
	struct folder_error fe;
	struct storage_error err;
	if (storage_folder_list(dr->su, FOLDER_ID_PRIVATE, &own, &nown, &fe, &err) < 0 ||
	    storage_folder_list_sharers(dr->su, &sharers, &nsharers, &fe, &err) < 0) {
		buf_reset(http_response_body(dr->req));
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	struct folder ***shared = pool_calloc(dr->pool, nsharers + 1, sizeof(*shared));
	size_t *nshared = pool_calloc(dr->pool, nsharers + 1, sizeof(*nshared));
	size_t total = nown;
	for (size_t i = 0; i < nsharers; i++) {
		struct folder_sharer s;
		if (storage_folder_list_shared_by(dr->su, sharers[i].uid, &s, &shared[i],
		                                  &nshared[i], &fe, &err) < 0) {
			nshared[i] = 0; /* unshared meanwhile */
			continue;
		}
		total += nshared[i];
	}
	all = pool_calloc(dr->pool, total + 1, sizeof(*all));
	for (size_t i = 0; i < nown; i++)
		if (calendar_module(own[i]))
			all[n++] = own[i];
	for (size_t i = 0; i < nsharers; i++)
		for (size_t j = 0; j < nshared[i]; j++)
			if (calendar_module(shared[i][j]))
				all[n++] = shared[i][j];
	*folders_r = all;
	*count_r = n;
	return 0;
}

static void propfind(struct dav_req *dr, const struct caldav_res *res)
{
	struct pf pf = {.dr = dr, .out = http_response_body(dr->req)};
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_propfind(dr->pool, dav_body(dr), &limits, &pf.req, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	enum dav_depth depth;
	struct strv dh = http_request_header(dr->req, "Depth");
	if (dav_depth_parse(dh, DAV_DEPTH_INFINITY, &depth, &error) < 0) {
		dav_fail(dr, 400, NULL, "DAV-0400", "%s", error);
		return;
	}
	bool members = depth != DAV_DEPTH_0;
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
		if (members && home_folders(dr, &fs, &n) < 0)
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
	caldav_send_207(dr);
}

/* ------------------------------------------------------------------------ GET, PUT, DELETE */

static const char *etag_header(struct dav_req *dr, const char *name)
{
	struct strv v = http_request_header(dr->req, name);
	if (v.ptr == NULL)
		return NULL;
	if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
		return pool_strndup(dr->pool, v.ptr + 1, v.len - 2);
	return pool_strndup(dr->pool, v.ptr, v.len);
}

static void etag_out(struct dav_req *dr, const char *etag)
{
	http_response_header(dr->req, "ETag", pool_printf(dr->pool, "\"%s\"", etag));
}

static void get(struct dav_req *dr, const struct caldav_res *res)
{
	struct storage_cal_object o;
	struct storage_error err;
	if (storage_cal_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0) {
		caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return;
	}
	const char *inm = etag_header(dr, "If-None-Match");
	if (inm != NULL && (strcmp(inm, o.etag) == 0 || strcmp(inm, "*") == 0)) {
		etag_out(dr, o.etag);
		http_response_status(dr->req, 304);
		http_response_send(dr->req);
		return;
	}
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "Content-Type", "text/calendar; charset=utf-8");
	etag_out(dr, o.etag);
	if (!strv_eq_cstr(http_request_head(dr->req)->method, "HEAD"))
		buf_append(http_response_body(dr->req), o.ical, o.ical_len);
	http_response_send(dr->req);
}

static void put(struct dav_req *dr, const struct caldav_res *res)
{
	if (dr->body->too_large) {
		caldav_fail(dr, 413, CALDAV_NS, "max-resource-size",
		            "a calendar object is at most 1 MiB");
		return;
	}
	struct strv body = dav_body(dr);
	const char *inm = etag_header(dr, "If-None-Match");
	struct storage_cal_put p = {
	    .folder = res->folder->id,
	    .name = res->name,
	    .text = body.ptr != NULL ? body.ptr : "",
	    .len = body.len,
	    .if_match = etag_header(dr, "If-Match"),
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
	bool rewritten = event && api_sched_after_put(dr->su, had ? &old : NULL, &p.obj, false);
	http_response_status(dr->req, p.created ? 201 : 204);
	if (!rewritten) /* RFC 4791 §5.3.4: no ETag when the server changed what was sent */
		etag_out(dr, p.obj.etag);
	http_response_send(dr->req);
}

static void delete (struct dav_req *dr, const struct caldav_res *res)
{
	struct storage_cal_object o;
	struct storage_error err;
	enum storage_cal_problem problem = STORAGE_CAL_OK;
	if (storage_cal_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0 ||
	    storage_cal_delete(dr->su, o.id, etag_header(dr, "If-Match"), &problem, &err) < 0) {
		caldav_storage_failed(dr, &err, problem);
		return;
	}
	if (strcmp(o.component, "VEVENT") == 0)
		api_sched_after_delete(dr->su, &o);
	http_response_status(dr->req, 204);
	http_response_send(dr->req);
}

static void options(struct dav_req *dr, bool object)
{
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "DAV", "1, 2, calendar-access, calendar-auto-schedule, extended-mkcol");
	http_response_header(dr->req, "Allow",
	                     object ? CALDAV_ALLOW_OBJECT : CALDAV_ALLOW_COLLECTION);
	http_response_send(dr->req);
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
		http_response_header(dr->req, "Allow",
		                     object ? CALDAV_ALLOW_OBJECT : CALDAV_ALLOW_COLLECTION);
		dav_fail(dr, 405, NULL, "DAV-0405", "%.*s is not allowed on %s", (int)m.len, m.ptr,
		         dr->path);
	}
}
