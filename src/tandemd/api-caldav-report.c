/* SPDX-License-Identifier: MIT */
/* CalDAV's REPORTs on a calendar collection: calendar-multiget (RFC 4791 §7.9),
   calendar-query with comp-filter and time-range answered per instance through storage's
   expansion (§7.8), and sync-collection with counter tokens (RFC 6578)
   (docs/internals/calendar.md "CalDAV"). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "api-caldav-filter.h"
#include "api-caldav.h"
#include "api-davobj.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "pool.h"

struct report {
	struct dav_req *dr;
	const struct folder *folder;
	const char *base; /* the collection's href */
	struct buf *out;
	bool etag, data;                    /* what <D:prop> asks for */
	struct caldav_prop_filter *filters; /* calendar-query: all must pass */
	size_t filter_count;
};

static bool elem(const xmlNode *n, const char *ns, const char *name)
{
	return davobj_elem(n, ns, name);
}

static xmlNode *child(const xmlNode *parent, const char *ns, const char *name)
{
	return davobj_child(parent, ns, name);
}

static const char *attr(struct report *r, xmlNode *n, const char *name)
{
	return davobj_attr(r->dr, n, name);
}

static const char *content(struct report *r, xmlNode *n)
{
	return davobj_content(r->dr, n);
}

static void props(struct report *r, xmlNode *root)
{
	xmlNode *prop = child(root, DAV_NS, "prop");
	r->etag = prop == NULL;
	if (prop == NULL)
		return;
	r->etag = child(prop, DAV_NS, "getetag") != NULL;
	r->data = child(prop, CALDAV_NS, "calendar-data") != NULL;
}

static void object_response(struct report *r, const struct storage_cal_object *o)
{
	dav_ms_response_begin(r->out, pool_printf(r->dr->pool, "%s%s", r->base, o->name));
	dav_ms_propstat_begin(r->out);
	if (r->etag)
		dav_ms_prop_text(r->out, DAV_NS, "getetag",
		                 strv_from_cstr(pool_printf(r->dr->pool, "\"%s\"", o->etag)));
	if (r->data)
		dav_ms_prop_text(r->out, CALDAV_NS, "calendar-data",
		                 strv_make(o->ical, o->ical_len));
	dav_ms_propstat_end(r->out, 200);
	dav_ms_response_end(r->out);
}

/* The object named name into the answer when it passes the query's prop-filters (a missing
   one as 404 when missing404): false when the storage failed (answered). */
static bool by_name(struct report *r, const char *href, const char *name, bool missing404)
{
	struct storage_cal_object o;
	struct storage_error err;
	if (storage_cal_get_by_name(r->dr->su, r->folder->id, name, &o, &err) == 0) {
		for (size_t i = 0; i < r->filter_count; i++)
			if (!caldav_filter_match(&r->filters[i], o.component, o.ical, o.ical_len))
				return true;
		object_response(r, &o);
		return true;
	}
	if (err.status != STORAGE_REFUSED) {
		caldav_storage_failed(r->dr, &err, STORAGE_CAL_OK);
		return false;
	}
	if (missing404)
		dav_ms_response_status(r->out, href, 404, NULL);
	return true;
}

/* The prop-filters of comp into r: false after answering what is not supported. */
static bool prop_filters(struct report *r, xmlNode *comp)
{
	size_t n = 0;
	for (xmlNode *c = comp->children; c != NULL; c = c->next)
		n += elem(c, CALDAV_NS, "prop-filter");
	r->filters = pool_calloc(r->dr->pool, n + 1, sizeof(*r->filters));
	for (xmlNode *c = comp->children; c != NULL; c = c->next) {
		if (!elem(c, CALDAV_NS, "prop-filter"))
			continue;
		struct caldav_prop_filter *f = &r->filters[r->filter_count++];
		xmlNode *tm = child(c, CALDAV_NS, "text-match");
		f->name = attr(r, c, "name");
		f->is_not_defined = child(c, CALDAV_NS, "is-not-defined") != NULL;
		if (f->name == NULL || child(c, CALDAV_NS, "param-filter") != NULL ||
		    child(c, CALDAV_NS, "time-range") != NULL) {
			caldav_fail(
			    r->dr, 403, CALDAV_NS, "supported-filter",
			    "a prop-filter needs a name and is-not-defined or text-match; "
			    "param-filter and time-range in a prop-filter are not supported");
			return false;
		}
		if (tm == NULL)
			continue;
		const char *coll = attr(r, tm, "collation"), *neg = attr(r, tm, "negate-condition");
		if (coll != NULL && strcmp(coll, "i;octet") != 0 &&
		    strcmp(coll, "i;ascii-casemap") != 0) {
			caldav_fail(r->dr, 403, CALDAV_NS, "supported-collation",
			            "text-match collations are i;ascii-casemap and i;octet");
			return false;
		}
		f->text = content(r, tm);
		f->octet = coll != NULL && strcmp(coll, "i;octet") == 0;
		f->negate = neg != NULL && strcmp(neg, "yes") == 0;
	}
	return true;
}

/* --- multiget and sync-collection are api-davobj.c's, over these --- */

static bool shared_by_name(struct davobj_report *b, const char *href, const char *name,
                           bool missing404)
{
	return by_name(b->ctx, href, name, missing404);
}

static int shared_resolve(struct davobj_report *b, const char *path, const char **name_r)
{
	struct caldav_res res;
	if (caldav_resolve(b->dr, path, &res) < 0)
		return -1;
	if (res.kind != CALDAV_OBJECT || res.folder->id != b->folder)
		return 0;
	*name_r = res.name;
	return 1;
}

static int shared_changes(struct davobj_report *b, int64_t since, json_t **changes_r,
                          struct storage_error *err)
{
	return storage_cal_changes(b->dr->su, b->folder, since, STORAGE_CAL_CHANGES_MAX, changes_r,
	                           err);
}

static void shared_failed(struct davobj_report *b, const struct storage_error *err)
{
	caldav_storage_failed(b->dr, err, STORAGE_CAL_OK);
}

static struct davobj_report shared(struct report *r)
{
	return (struct davobj_report){.dr = r->dr,
	                              .folder = r->folder->id,
	                              .base = r->base,
	                              .out = r->out,
	                              .data = r->data,
	                              .ctx = r,
	                              .by_name = shared_by_name,
	                              .resolve = shared_resolve,
	                              .changes = shared_changes,
	                              .storage_failed = shared_failed};
}

/* "20260302T090000Z" as UTC seconds into *t_r; false when it is not that form. */
static bool utc_time(const char *s, int64_t *t_r)
{
	struct tm tm = {0};
	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	const char *end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*t_r = (int64_t)timegm(&tm);
	return true;
}

/* calendar-query: the comp-filter VCALENDAR > VEVENT|VTODO with an optional time-range. */
static int query(struct report *r, xmlNode *root)
{
	struct dav_req *dr = r->dr;
	const char *want = strcmp(r->folder->module, "tasks") == 0 ? "VTODO" : "VEVENT";
	xmlNode *filter = child(root, CALDAV_NS, "filter");
	xmlNode *cal = filter != NULL ? child(filter, CALDAV_NS, "comp-filter") : NULL;
	const char *cal_name = cal != NULL ? attr(r, cal, "name") : NULL;
	if (cal_name == NULL || strcmp(cal_name, "VCALENDAR") != 0) {
		caldav_fail(dr, 403, CALDAV_NS, "valid-filter",
		            "the filter must hold one comp-filter name=\"VCALENDAR\"");
		return -1;
	}
	xmlNode *comp = child(cal, CALDAV_NS, "comp-filter");
	xmlNode *range = NULL;
	if (comp != NULL) {
		const char *name = attr(r, comp, "name");
		if (name == NULL || strcmp(name, want) != 0)
			return 0; /* nothing of that component is stored here */
		if (child(comp, CALDAV_NS, "comp-filter") != NULL) {
			caldav_fail(dr, 403, CALDAV_NS, "supported-filter",
			            "a comp-filter inside the event's or task's (VALARM) is not "
			            "supported yet: filter with time-range and prop-filter");
			return -1;
		}
		if (!prop_filters(r, comp))
			return -1;
		range = child(comp, CALDAV_NS, "time-range");
	}
	struct storage_error err;
	json_t *result;
	const char *key = "objects";
	if (range != NULL) {
		const char *s = attr(r, range, "start"), *e = attr(r, range, "end");
		int64_t start = INT32_MIN * (int64_t)4, end = INT32_MAX * (int64_t)4; /* open */
		if ((s == NULL && e == NULL) || (s != NULL && !utc_time(s, &start)) ||
		    (e != NULL && !utc_time(e, &end))) {
			caldav_fail(dr, 400, CALDAV_NS, "valid-filter",
			            "a time-range has start, end or both as UTC date-times "
			            "(20260302T090000Z)");
			return -1;
		}
		if (storage_cal_range(dr->su, r->folder->id, start, end, STORAGE_CAL_RANGE_MAX,
		                      &result, &err) < 0) {
			caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
			return -1;
		}
		key = "instances";
	} else if (storage_cal_list(dr->su, r->folder->id, STORAGE_CAL_RANGE_MAX, &result, &err) <
	           0) {
		caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return -1;
	}
	size_t i;
	json_t *e;
	const char *last = "";
	int rc = 0;
	json_array_foreach(json_object_get(result, key), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (name == NULL || strcmp(name, last) == 0)
			continue; /* one response per object, its instances come in a row */
		last = pool_strdup(dr->pool, name);
		if (!by_name(r, pool_printf(dr->pool, "%s%s", r->base, name), name, false)) {
			rc = -1;
			break;
		}
	}
	/* more than one answer holds (RFC 4791 §7.8: the client narrows its query) */
	if (rc == 0 && json_is_true(json_object_get(result, "more")))
		dav_ms_response_status(r->out, r->base, 507, "number-of-matches-within-limits");
	json_decref(result);
	return rc;
}

void caldav_report(struct dav_req *dr, const struct caldav_res *res)
{
	if (res->kind != CALDAV_CALENDAR) {
		caldav_fail(dr, 403, DAV_NS, "supported-report",
		            "REPORTs are answered on a calendar collection");
		return;
	}
	xmlDocPtr doc = davobj_parse_body(dr);
	if (doc == NULL)
		return;
	xmlNode *root = xmlDocGetRootElement(doc);
	struct report r = {.dr = dr,
	                   .folder = res->folder,
	                   .base = caldav_folder_href(dr, res->folder->id),
	                   .out = http_response_body(dr->req)};
	props(&r, root);
	dav_ms_begin(r.out);
	int rc;
	if (elem(root, CALDAV_NS, "calendar-multiget")) {
		struct davobj_report b = shared(&r);
		rc = davobj_multiget(&b, root);
	} else if (elem(root, CALDAV_NS, "calendar-query")) {
		rc = query(&r, root);
	} else if (elem(root, DAV_NS, "sync-collection")) {
		struct davobj_report b = shared(&r);
		rc = davobj_sync_collection(&b, root);
	} else {
		caldav_fail(dr, 403, DAV_NS, "supported-report",
		            "this REPORT is not supported here (calendar-multiget, calendar-query, "
		            "sync-collection are)");
		rc = -1;
	}
	xmlFreeDoc(doc);
	if (rc < 0)
		return;
	dav_ms_end(r.out);
	caldav_send_207(dr);
}
