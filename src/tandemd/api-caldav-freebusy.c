/* SPDX-License-Identifier: MIT */
/* free-busy-query (RFC 4791 §7.10): one VFREEBUSY over the collection's events in the range,
   per instance (an EXDATE'd one is not there, a moved one counts at its new time), leaving out
   transparent and cancelled ones; overlapping periods of one type are merged
   (docs/internals/calendar.md "CalDAV"). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api-caldav-data.h"
#include "api-caldav-freebusy.h"
#include "array.h"
#include "http-server.h"
#include "mem.h"
#include "pool.h"

/* Instances of one object the answer looks at, at most (more: the object counts as busy
   over the whole range rather than being left out). */
#define FREEBUSY_INSTANCES_MAX 2000

struct period {
	int64_t start, end;
	bool tentative;
};

static int cmp_period(const void *a, const void *b)
{
	const struct period *x = a, *y = b;
	if (x->tentative != y->tentative)
		return x->tentative ? 1 : -1;
	return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static void utc_text(int64_t t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The busy periods of the object named name in [start, end) into periods: false when the
   storage failed. */
static bool object_periods(struct dav_req *dr, int64_t folder, const char *name, int64_t start,
                           int64_t end, struct array *periods, struct storage_error *err)
{
	struct storage_cal_object o;
	if (storage_cal_get_by_name(dr->su, folder, name, &o, err) < 0)
		return err->status == STORAGE_REFUSED; /* deleted meanwhile */
	struct cal_ical_instance *inst = mem_calloc(FREEBUSY_INSTANCES_MAX, sizeof(*inst));
	size_t n = 0;
	bool more = false;
	char error[256];
	if (cal_ical_expand(o.ical, o.ical_len, start, end, inst, FREEBUSY_INSTANCES_MAX, &n, &more,
	                    error, sizeof(error)) < 0)
		n = 0; /* stored objects parse; nothing to count if one does not */
	for (size_t i = 0; i < n; i++) {
		if (inst[i].transparent || inst[i].cancelled)
			continue;
		struct period *p = array_push(periods);
		*p = (struct period){inst[i].start < start ? start : inst[i].start,
		                     inst[i].end > end ? end : inst[i].end, inst[i].tentative};
	}
	mem_free(&inst);
	return true;
}

void caldav_freebusy(struct dav_req *dr, const struct folder *folder, xmlNode *root)
{
	xmlNode *range = davobj_child(root, CALDAV_NS, "time-range");
	int64_t start, end;
	if (range == NULL || !caldav_time_range(dr->pool, range, &start, &end) ||
	    davobj_attr(dr->pool, range, "start") == NULL ||
	    davobj_attr(dr->pool, range, "end") == NULL || end <= start) {
		davobj_fail(dr, 400, CALDAV_NS, "valid-filter",
		            "free-busy-query needs one time-range with start and end as UTC "
		            "date-times (20260302T090000Z), start before end");
		return;
	}
	struct array periods = ARRAY_INIT(struct period);
	struct storage_error err;
	json_t *result = NULL;
	if (strcmp(folder->module, "calendar") == 0) {
		if (storage_cal_range(dr->su, folder->id, start, end, STORAGE_CAL_RANGE_MAX,
		                      &result, &err) < 0) {
			caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
			goto out;
		}
		size_t i;
		json_t *e;
		const char *last = "";
		json_array_foreach(json_object_get(result, "instances"), i, e)
		{
			const char *name = json_string_value(json_object_get(e, "name"));
			if (name == NULL || strcmp(name, last) == 0)
				continue; /* one object's instances come in a row */
			last = name;
			if (!object_periods(dr, folder->id, name, start, end, &periods, &err)) {
				caldav_storage_failed(dr, &err, STORAGE_CAL_OK);
				goto out;
			}
		}
	}
	if (periods.count > 1)
		qsort(periods.data, periods.count, sizeof(struct period), cmp_period);
	char s[17], e[17];
	struct buf *out = http_response_body(dr->req);
	utc_text((int64_t)time(NULL), s);
	buf_printf(out,
	           "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tandem//CalDAV//EN\r\n"
	           "BEGIN:VFREEBUSY\r\nDTSTAMP:%s\r\n",
	           s);
	utc_text(start, s);
	utc_text(end, e);
	buf_printf(out, "DTSTART:%s\r\nDTEND:%s\r\n", s, e);
	for (size_t i = 0; i < periods.count;) {
		struct period p = *ARRAY_IDX(&periods, struct period, i);
		for (i++; i < periods.count; i++) { /* merge what overlaps or touches */
			const struct period *q = array_idx(&periods, i);
			if (q->tentative != p.tentative || q->start > p.end)
				break;
			if (q->end > p.end)
				p.end = q->end;
		}
		utc_text(p.start, s);
		utc_text(p.end, e);
		buf_printf(out, "FREEBUSY;FBTYPE=%s:%s/%s\r\n",
		           p.tentative ? "BUSY-TENTATIVE" : "BUSY", s, e);
	}
	buf_append_str(out, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "Content-Type", "text/calendar; charset=utf-8");
	http_response_send(dr->req);
out:
	json_decref(result);
	array_free(&periods);
}
