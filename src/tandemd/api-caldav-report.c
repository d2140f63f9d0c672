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
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *parent, const char *ns, const char *name)
{
	for (xmlNode *c = parent->children; c != NULL; c = c->next)
		if (elem(c, ns, name))
			return c;
	return NULL;
}

static const char *attr(struct report *r, xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (v == NULL)
		return NULL;
	const char *s = pool_strdup(r->dr->pool, (const char *)v);
	xmlFree(v);
	return s;
}

static const char *content(struct report *r, xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	const char *s = pool_strdup(r->dr->pool, v != NULL ? (const char *)v : "");
	xmlFree(v);
	return s;
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

static int multiget(struct report *r, xmlNode *root)
{
	for (xmlNode *h = root->children; h != NULL; h = h->next) {
		if (!elem(h, DAV_NS, "href"))
			continue;
		const char *uri = content(r, h), *path, *error;
		int status;
		struct caldav_res res;
		if (dav_uri_to_path(r->dr->pool, strv_from_cstr(uri), &r->dr->origin, &path,
		                    &status, &error) < 0) {
			dav_ms_response_status(r->out, uri, 404, NULL);
			continue;
		}
		if (caldav_resolve(r->dr, path, &res) < 0)
			return -1;
		if (res.kind != CALDAV_OBJECT || res.folder->id != r->folder->id) {
			dav_ms_response_status(r->out, path, 404, NULL);
			continue;
		}
		if (!by_name(r, path, res.name, true))
			return -1;
	}
	return 0;
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
	int64_t window[2] = {INT32_MIN * (int64_t)4, INT32_MAX * (int64_t)4}; /* open */
	if (range != NULL) {
		const char *s = attr(r, range, "start"), *e = attr(r, range, "end");
		if ((s == NULL && e == NULL) || (s != NULL && !utc_time(s, &window[0])) ||
		    (e != NULL && !utc_time(e, &window[1]))) {
			caldav_fail(dr, 400, CALDAV_NS, "valid-filter",
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
	for (size_t i = 0; i < count; i++)
		if (filters_pass(r, &objects[i]))
			object_response(r, &objects[i]);
	/* more than one answer holds (RFC 4791 §7.8: the client narrows its query) */
	if (more)
		dav_ms_response_status(r->out, r->base, 507, "number-of-matches-within-limits");
	return 0;
}

/* sync-collection: the changes after the token's revision, deletions as 404s. */
static int sync_collection(struct report *r, xmlNode *root)
{
	struct dav_req *dr = r->dr;
	xmlNode *t = child(root, DAV_NS, "sync-token");
	const char *token = t != NULL ? content(r, t) : "";
	int64_t since = 0;
	if (token[0] != '\0') {
		const char *prefix = caldav_sync_token(dr, r->folder->id, 0);
		size_t pl = strlen(prefix) - 1; /* without the "0" */
		char *end;
		long long v = strncmp(token, prefix, pl) == 0 ? strtoll(token + pl, &end, 10) : -1;
		if (v < 0 || *end != '\0') {
			caldav_fail(dr, 403, DAV_NS, "valid-sync-token",
			            "the sync-token is not one this collection gave out");
			return -1;
		}
		since = v;
	}
	json_t *changes;
	struct storage_error err;
	if (storage_cal_changes(dr->su, r->folder->id, since, STORAGE_CAL_CHANGES_MAX, &changes,
	                        &err) < 0) {
		if (err.status == STORAGE_REFUSED && err.refusal == STORAGE_INVALID)
			caldav_fail(dr, 403, DAV_NS, "valid-sync-token",
			            "the sync-token is newer than the collection");
		else
			caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
		return -1;
	}
	size_t i;
	json_t *e;
	int rc = 0;
	json_array_foreach(json_object_get(changes, "changed"), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!r->data) {
			struct storage_cal_object o = {
			    .name = name, .etag = json_string_value(json_object_get(e, "etag"))};
			object_response(r, &o);
		} else if (!by_name(r, pool_printf(dr->pool, "%s%s", r->base, name), name, true)) {
			rc = -1;
			break;
		}
	}
	json_array_foreach(json_object_get(changes, "deleted"), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		dav_ms_response_status(r->out, pool_printf(dr->pool, "%s%s", r->base, name), 404,
		                       NULL);
	}
	/* more than one answer holds: the client asks again from the token (RFC 6578 §3.6) */
	if (json_is_true(json_object_get(changes, "more")))
		dav_ms_response_status(r->out, r->base, 507, "number-of-matches-within-limits");
	int64_t now = json_integer_value(json_object_get(changes, "revision"));
	json_decref(changes);
	if (rc == 0) {
		buf_append_str(r->out, "<D:sync-token>");
		dav_xml_text_append(r->out,
		                    strv_from_cstr(caldav_sync_token(dr, r->folder->id, now)));
		buf_append_str(r->out, "</D:sync-token>");
	}
	return rc;
}

void caldav_report(struct dav_req *dr, const struct caldav_res *res)
{
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (res->kind != CALDAV_CALENDAR) {
		caldav_fail(dr, 403, DAV_NS, "supported-report",
		            "REPORTs are answered on a calendar collection");
		return;
	}
	xmlDocPtr doc = dav_xml_parse_doc(dr->pool, dav_body(dr), &limits, &status, &error);
	if (doc == NULL) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	struct report r = {.dr = dr,
	                   .folder = res->folder,
	                   .base = caldav_folder_href(dr, res->folder->id),
	                   .out = http_response_body(dr->req)};
	props(&r, root);
	dav_ms_begin(r.out);
	int rc;
	if (elem(root, CALDAV_NS, "calendar-multiget")) {
		rc = multiget(&r, root);
	} else if (elem(root, CALDAV_NS, "calendar-query")) {
		rc = query(&r, root);
	} else if (elem(root, DAV_NS, "sync-collection")) {
		rc = sync_collection(&r, root);
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
