/* SPDX-License-Identifier: MIT */
/* CalDAV's REPORTs on a calendar collection: calendar-multiget (RFC 4791 §7.9),
   calendar-query with comp-filter and time-range answered per instance through storage's
   expansion (§7.8), and sync-collection with counter tokens (RFC 6578)
   (docs/internals/calendar.md "CalDAV"). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "api-caldav-data.h"
#include "api-caldav-filter.h"
#include "api-caldav-freebusy.h"
#include "api-caldav.h"
#include "api-mail-imip.h"
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
	struct caldav_data cd;              /* how it asks for calendar-data */
	struct caldav_prop_filter *filters; /* calendar-query: all must pass */
	size_t filter_count;
};

/* What <D:prop> asks for: false after answering a bad calendar-data. */
static bool props(struct report *r, xmlNode *root)
{
	xmlNode *prop = davobj_child(root, DAV_NS, "prop");
	r->etag = prop == NULL;
	if (prop == NULL)
		return true;
	r->etag = davobj_child(prop, DAV_NS, "getetag") != NULL;
	xmlNode *data = davobj_child(prop, CALDAV_NS, "calendar-data");
	const char *error;
	r->data = data != NULL;
	if (data != NULL && caldav_data_parse(r->dr->pool, data, &r->cd, &error) < 0) {
		davobj_fail(r->dr, 400, CALDAV_NS, "valid-calendar-data", error);
		return false;
	}
	return true;
}

/* The response for o at href: false after answering (calendar-data that could not be
   made). */
static bool object_response(struct report *r, const char *href, const struct storage_cal_object *o)
{
	struct strv data = STRV_NULL;
	const char *error;
	if (r->data &&
	    caldav_data_render(r->dr->pool, &r->cd, o->ical, o->ical_len, &data, &error) < 0) {
		davobj_fail(r->dr, 403, CALDAV_NS, "number-of-matches-within-limits", error);
		return false;
	}
	dav_ms_response_begin(r->out, href);
	dav_ms_propstat_begin(r->out);
	if (r->etag)
		dav_ms_prop_text(r->out, DAV_NS, "getetag",
		                 strv_from_cstr(pool_printf(r->dr->pool, "\"%s\"", o->etag)));
	if (r->data)
		dav_ms_prop_text(r->out, CALDAV_NS, "calendar-data", data);
	dav_ms_propstat_end(r->out, 200);
	dav_ms_response_end(r->out);
	return true;
}

/* Whether o passes every prop-filter of the query. */
static bool filters_pass(const struct report *r, const struct storage_cal_object *o)
{
	for (size_t i = 0; i < r->filter_count; i++)
		if (!caldav_filter_match(&r->filters[i], o->component, o->ical, o->ical_len))
			return false;
	return true;
}

/* The object named name into the answer when it passes the query's prop-filters (a missing
   one as 404 when missing404): false when the storage failed (answered). */
static bool by_name(struct report *r, const char *href, const char *name, bool missing404)
{
	struct storage_cal_object o;
	struct storage_error err;
	if (storage_cal_get_by_name(r->dr->su, r->folder->id, name, &o, &err) == 0) {
		if (filters_pass(r, &o))
			return object_response(r, href, &o);
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

static size_t count_children(xmlNode *parent, const char *name)
{
	size_t n = 0;
	for (xmlNode *c = parent->children; c != NULL; c = c->next)
		n += davobj_elem(c, CALDAV_NS, name);
	return n;
}

/* The prop-filter or param-filter el into m: false after answering what is not supported. */
static bool match(struct report *r, xmlNode *el, struct caldav_match *m)
{
	struct pool *pool = r->dr->pool;
	xmlNode *tm = davobj_child(el, CALDAV_NS, "text-match");
	m->name = davobj_attr(pool, el, "name");
	m->is_not_defined = davobj_child(el, CALDAV_NS, "is-not-defined") != NULL;
	if (m->name == NULL || davobj_child(el, CALDAV_NS, "time-range") != NULL) {
		davobj_fail(r->dr, 403, CALDAV_NS, "supported-filter",
		            "a prop-filter or param-filter needs a name and is-not-defined, "
		            "text-match (or param-filter); time-range in a prop-filter is not "
		            "supported");
		return false;
	}
	if (tm == NULL)
		return true;
	const char *coll = davobj_attr(pool, tm, "collation");
	const char *neg = davobj_attr(pool, tm, "negate-condition");
	if (coll != NULL && strcmp(coll, "i;octet") != 0 && strcmp(coll, "i;ascii-casemap") != 0) {
		davobj_fail(r->dr, 403, CALDAV_NS, "supported-collation",
		            "text-match collations are i;ascii-casemap and i;octet");
		return false;
	}
	m->text = davobj_content(pool, tm);
	m->octet = coll != NULL && strcmp(coll, "i;octet") == 0;
	m->negate = neg != NULL && strcmp(neg, "yes") == 0;
	return true;
}

/* The prop-filters of comp, with their param-filters, into r: false after answering what is
   not supported. */
static bool prop_filters(struct report *r, xmlNode *comp)
{
	r->filters =
	    pool_calloc(r->dr->pool, count_children(comp, "prop-filter") + 1, sizeof(*r->filters));
	for (xmlNode *c = comp->children; c != NULL; c = c->next) {
		if (!davobj_elem(c, CALDAV_NS, "prop-filter"))
			continue;
		struct caldav_prop_filter *f = &r->filters[r->filter_count++];
		if (!match(r, c, &f->m))
			return false;
		f->params = pool_calloc(r->dr->pool, count_children(c, "param-filter") + 1,
		                        sizeof(*f->params));
		for (xmlNode *p = c->children; p != NULL; p = p->next)
			if (davobj_elem(p, CALDAV_NS, "param-filter") &&
			    !match(r, p, &f->params[f->param_count++]))
				return false;
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

/* calendar-query: the comp-filter VCALENDAR > VEVENT|VTODO with an optional time-range. */
static int query(struct report *r, xmlNode *root)
{
	struct dav_req *dr = r->dr;
	const char *want = strcmp(r->folder->module, "tasks") == 0 ? "VTODO" : "VEVENT";
	xmlNode *filter = davobj_child(root, CALDAV_NS, "filter");
	xmlNode *cal = filter != NULL ? davobj_child(filter, CALDAV_NS, "comp-filter") : NULL;
	const char *cal_name = cal != NULL ? davobj_attr(r->dr->pool, cal, "name") : NULL;
	if (cal_name == NULL || strcmp(cal_name, "VCALENDAR") != 0) {
		davobj_fail(dr, 403, CALDAV_NS, "valid-filter",
		            "the filter must hold one comp-filter name=\"VCALENDAR\"");
		return -1;
	}
	xmlNode *comp = davobj_child(cal, CALDAV_NS, "comp-filter");
	xmlNode *range = NULL;
	if (comp != NULL) {
		const char *name = davobj_attr(r->dr->pool, comp, "name");
		if (name == NULL || strcmp(name, want) != 0)
			return 0; /* nothing of that component is stored here */
		if (davobj_child(comp, CALDAV_NS, "comp-filter") != NULL) {
			davobj_fail(dr, 403, CALDAV_NS, "supported-filter",
			            "a comp-filter inside the event's or task's (VALARM) is not "
			            "supported yet: filter with time-range and prop-filter");
			return -1;
		}
		if (!prop_filters(r, comp))
			return -1;
		range = davobj_child(comp, CALDAV_NS, "time-range");
	}
	int64_t window[2] = {INT32_MIN * (int64_t)4, INT32_MAX * (int64_t)4}; /* open */
	if (range != NULL) {
		if (!caldav_time_range(dr->pool, range, &window[0], &window[1])) {
			davobj_fail(dr, 400, CALDAV_NS, "valid-filter",
			            "a time-range has start, end or both as UTC date-times "
			            "(20260302T090000Z)");
			return -1;
		}
	}
	/* the matching objects with their texts in one read (no lookup per object) */
	struct storage_error err;
	struct storage_cal_object *objects;
	size_t count;
	bool more;
	if (storage_cal_query(dr->su, r->folder->id, range != NULL ? window : NULL,
	                      STORAGE_CAL_RANGE_MAX, &objects, &count, &more, &err) < 0) {
		caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const char *href = pool_printf(dr->pool, "%s%s", r->base, objects[i].name);
		if (filters_pass(r, &objects[i]) && !object_response(r, href, &objects[i]))
			return -1;
	}
	/* more than one answer holds (RFC 4791 §7.8: the client narrows its query) */
	if (more)
		dav_ms_response_status(r->out, r->base, 507, "number-of-matches-within-limits");
	return 0;
}

void caldav_report(struct dav_req *dr, const struct caldav_res *res)
{
	if (res->kind != CALDAV_CALENDAR) {
		davobj_fail(dr, 403, DAV_NS, "supported-report",
		            "REPORTs are answered on a calendar collection");
		return;
	}
	/* replies to invitations by mail land in the organiser's INBOX: a CalDAV-only organiser
	   has them applied when their client polls (at most every 2 s, api-mail-imip.c) */
	api_mail_imip_scan_user(dr->node, &dr->user, dr->pool);
	xmlDocPtr doc = davobj_parse_body(dr);
	if (doc == NULL)
		return;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (davobj_elem(root, CALDAV_NS, "free-busy-query")) { /* text/calendar, no 207 */
		caldav_freebusy(dr, res->folder, root);
		xmlFreeDoc(doc);
		return;
	}
	struct report r = {
	    .dr = dr, .folder = res->folder, .base = res->href, .out = http_response_body(dr->req)};
	int rc = -1;
	dav_ms_begin(r.out);
	if (!props(&r, root)) {
		rc = -1;
	} else if (davobj_elem(root, CALDAV_NS, "calendar-multiget")) {
		struct davobj_report b = shared(&r);
		rc = davobj_multiget(&b, root);
	} else if (davobj_elem(root, CALDAV_NS, "calendar-query")) {
		rc = query(&r, root);
	} else if (davobj_elem(root, DAV_NS, "sync-collection")) {
		struct davobj_report b = shared(&r);
		rc = davobj_sync_collection(&b, root);
	} else {
		davobj_fail(dr, 403, DAV_NS, "supported-report",
		            "this REPORT is not supported here (calendar-multiget, calendar-query, "
		            "free-busy-query, sync-collection are)");
		rc = -1;
	}
	xmlFreeDoc(doc);
	if (rc < 0)
		return;
	dav_ms_end(r.out);
	davobj_send_207(dr);
}
