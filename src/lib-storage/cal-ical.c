/* SPDX-License-Identifier: MIT */
/* Validation, columns and recurrence expansion of calendar objects on libical. */
#include "cal-ical.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "mem.h"

/* A whole series is never followed further than this many rule steps in one call, so a
   MINUTELY rule with no end cannot make a query spin. */
#define RULE_STEPS_MAX 200000

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	/* bad input is an error return, never an abort inside libical */
	icalerror_set_errors_are_fatal(0);
}

void cal_ical_init(void)
{
	pthread_once(&init_once, init);
}

int cal_ical__error(char *error, size_t size, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(error, size, fmt, args);
	va_end(args);
	return -1;
}

/* The BEGIN: depth of text, checked before libical parses it (its parser recurses). */
static int check_depth(const char *text, size_t len, char *error, size_t size)
{
	int depth = 0;
	for (size_t i = 0; i < len;) {
		const char *line = text + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - i;
		if (n >= 6 && strncasecmp(line, "BEGIN:", 6) == 0 && ++depth > CAL_ICAL_MAX_DEPTH)
			return cal_ical__error(error, size, "components nested deeper than %d",
			                       CAL_ICAL_MAX_DEPTH);
		if (n >= 4 && strncasecmp(line, "END:", 4) == 0 && depth > 0)
			depth--;
		i += n + 1;
	}
	return 0;
}

/* The text as a NUL-terminated copy parsed by libical: the VCALENDAR, or NULL with error. */
static icalcomponent *parse_text(const char *text, size_t len, char *error, size_t size)
{
	cal_ical_init();
	if (len > CAL_ICAL_MAX_SIZE) {
		cal_ical__error(error, size, "object of %zu bytes is larger than %d", len,
		                CAL_ICAL_MAX_SIZE);
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		cal_ical__error(error, size, "object contains a NUL byte");
		return NULL;
	}
	if (check_depth(text, len, error, size) < 0)
		return NULL;
	char *copy = mem_strndup(text, len);
	icalcomponent *root = icalparser_parse_string(copy);
	mem_free(&copy);
	if (root == NULL) {
		cal_ical__error(error, size, "not iCalendar data");
		return NULL;
	}
	if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(root);
		cal_ical__error(error, size, "not a VCALENDAR");
		return NULL;
	}
	return root;
}

/* The zone of a date-time property (TZID resolved in the object, then the system's), the
   UTC zone for a Z time, or NULL for a floating one; -1 when TZID names no zone. */
static int prop_zone(icalcomponent *root, icalproperty *prop, icaltimezone **zone_r)
{
	icalparameter *p = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
	*zone_r = NULL;
	if (p == NULL)
		return 0;
	const char *tzid = icalparameter_get_tzid(p);
	if (tzid == NULL)
		return -1;
	*zone_r = icalcomponent_get_timezone(root, tzid);
	if (*zone_r == NULL)
		*zone_r = icaltimezone_get_builtin_timezone_from_tzid(tzid);
	if (*zone_r == NULL)
		*zone_r = icaltimezone_get_builtin_timezone(tzid);
	return *zone_r != NULL ? 0 : -1;
}

/* t in UTC seconds: in its own zone, else in zone, else (floating) read as UTC. */
static int64_t utc(struct icaltimetype t, const icaltimezone *zone)
{
	if (t.zone != NULL)
		zone = t.zone;
	if (icaltime_is_utc(t) || zone == NULL)
		zone = icaltimezone_get_utc_timezone();
	return (int64_t)icaltime_as_timet_with_zone(t, zone);
}

/* libical takes "03184800" as a date (month 48, day 0) and its validity check does not look
   at the month or day: such a time would come back out of expansion as 00000000T000000,
   which nothing parses. A calendar date and a clock time, or refused. */
static bool sane_time(struct icaltimetype t)
{
	if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t) || t.year < 1 || t.year > 9999 ||
	    t.month < 1 || t.month > 12 || t.day < 1 ||
	    t.day > icaltime_days_in_month(t.month, t.year))
		return false;
	return t.is_date || (t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 &&
	                     t.second >= 0 && t.second <= 60);
}
/* The value of a date-time property in UTC seconds and whether it is a DATE. */
static int prop_time(icalcomponent *root, icalproperty *prop, int64_t *utc_r, bool *date_r)
{
	icaltimezone *zone;
	if (prop_zone(root, prop, &zone) < 0)
		return -1;
	struct icaltimetype t;
	icalvalue *v = icalproperty_get_value(prop);
	if (v != NULL && icalvalue_isa(v) == ICAL_PERIOD_VALUE)
		t = icalvalue_get_period(v).start;
	else if (v != NULL &&
	         (icalvalue_isa(v) == ICAL_DATETIME_VALUE || icalvalue_isa(v) == ICAL_DATE_VALUE))
		t = icalvalue_get_datetime(v);
	else if (icalproperty_isa(prop) == ICAL_RDATE_PROPERTY)
		t = icalproperty_get_rdate(prop).time;
	else
		return -1;
	if (!sane_time(t))
		return -1;
	*utc_r = utc(t, zone);
	if (date_r != NULL)
		*date_r = t.is_date != 0;
	return 0;
}

/* --- one component's times --- */

struct comp_times {
	icalcomponent *comp;
	icaltimezone *zone; /* of DTSTART; NULL floating or UTC */
	struct icaltimetype start_tt;
	bool has_start, has_end, all_day;
	int64_t start, end; /* end: DTEND/DURATION/DUE, or start (+1 day for a date) */
	bool has_rid, future;
	int64_t rid;
};

static int comp_times(icalcomponent *root, icalcomponent *c, struct comp_times *t, char *error,
                      size_t size)
{
	memset(t, 0, sizeof(*t));
	t->comp = c;
	bool todo = icalcomponent_isa(c) == ICAL_VTODO_COMPONENT;
	icalproperty *ps = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	icalproperty *pe =
	    icalcomponent_get_first_property(c, todo ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY);
	icalproperty *pd = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY);
	icalproperty *pr = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	bool end_date = false;
	if (ps != NULL) {
		if (prop_zone(root, ps, &t->zone) < 0)
			return cal_ical__error(error, size, "DTSTART names an unknown time zone");
		if (prop_time(root, ps, &t->start, &t->all_day) < 0)
			return cal_ical__error(error, size,
			                       "DTSTART is not a valid date or date-time");
		t->start_tt = icalproperty_get_dtstart(ps);
		if (t->zone != NULL) /* a Z time keeps its UTC zone */
			t->start_tt.zone = t->zone;
		t->has_start = true;
	} else if (!todo) {
		return cal_ical__error(error, size, "VEVENT has no DTSTART");
	}
	if (pe != NULL && pd != NULL)
		return cal_ical__error(error, size, "%s has both %s and DURATION",
		                       todo ? "VTODO" : "VEVENT", todo ? "DUE" : "DTEND");
	if (pe != NULL) {
		if (prop_time(root, pe, &t->end, &end_date) < 0)
			return cal_ical__error(error, size, "%s is not a valid date or date-time",
			                       todo ? "DUE" : "DTEND");
		if (t->has_start && end_date != t->all_day)
			return cal_ical__error(error, size, "DTSTART and %s differ in value type",
			                       todo ? "DUE" : "DTEND");
		t->has_end = true;
		if (!t->has_start) /* a task with a due date only */
			t->all_day = end_date;
	} else if (pd != NULL && t->has_start) {
		struct icaldurationtype d = icalproperty_get_duration(pd);
		t->end = t->start + icaldurationtype_as_int(d);
		t->has_end = true;
	} else if (pd != NULL) {
		return cal_ical__error(error, size, "DURATION without DTSTART");
	}
	if (t->has_start && t->has_end && t->end < t->start)
		return cal_ical__error(error, size, "%s is before DTSTART", todo ? "DUE" : "DTEND");
	if (t->has_start && !t->has_end && !todo)
		t->end = t->start + (t->all_day ? 86400 : 0);
	if (pr != NULL) {
		if (prop_time(root, pr, &t->rid, NULL) < 0)
			return cal_ical__error(error, size,
			                       "RECURRENCE-ID is not valid or names an unknown "
			                       "time zone");
		t->has_rid = true;
		icalparameter *range = icalproperty_get_first_parameter(pr, ICAL_RANGE_PARAMETER);
		t->future =
		    range != NULL && icalparameter_get_range(range) == ICAL_RANGE_THISANDFUTURE;
	}
	return 0;
}

/* --- the object: master and overrides --- */

#define OVERRIDES_MAX 1000

struct object {
	icalcomponent *root;
	icalcomponent_kind kind;
	bool has_master;
	struct comp_times master;
	struct comp_times *overrides;
	size_t override_count;
};

static void object_free(struct object *o)
{
	mem_free(&o->overrides);
	if (o->root != NULL)
		icalcomponent_free(o->root);
	memset(o, 0, sizeof(*o));
}

/* Every date-time property with a TZID in c resolves. */
static int check_tzids(icalcomponent *root, icalcomponent *c, char *error, size_t size)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icaltimezone *zone;
		if (prop_zone(root, p, &zone) < 0) {
			icalparameter *tz =
			    icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
			const char *name = tz != NULL ? icalparameter_get_tzid(tz) : NULL;
			return cal_ical__error(
			    error, size, "%s names an unknown time zone \"%.64s\"",
			    icalproperty_get_property_name(p), name != NULL ? name : "");
		}
	}
	return 0;
}

static int object_load(const char *text, size_t len, struct object *o, char *error, size_t size)
{
	memset(o, 0, sizeof(*o));
	o->root = parse_text(text, len, error, size);
	if (o->root == NULL)
		return -1;
	icalcomponent *root = o->root;
	/* libical marks what it could not parse with X-LIC-ERROR properties */
	if (icalcomponent_count_errors(root) > 0) {
		const char *what = "malformed iCalendar data";
		for (icalcomponent *c = root; c != NULL && what[0] == 'm';
		     c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT)) {
			icalproperty *e =
			    icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
			if (e != NULL && icalproperty_get_xlicerror(e) != NULL)
				what = icalproperty_get_xlicerror(e);
			if (c != root)
				break;
		}
		return cal_ical__error(error, size, "invalid iCalendar: %.200s", what);
	}
	const char *uid = NULL;
	size_t n = 0;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind k = icalcomponent_isa(c);
		if (k == ICAL_VTIMEZONE_COMPONENT)
			continue;
		if (k != ICAL_VEVENT_COMPONENT && k != ICAL_VTODO_COMPONENT)
			return cal_ical__error(error, size,
			                       "component %s is not supported (VEVENT or VTODO)",
			                       icalcomponent_kind_to_string(k));
		if (o->kind != ICAL_NO_COMPONENT && k != o->kind)
			return cal_ical__error(error, size, "object mixes VEVENT and VTODO");
		o->kind = k;
		const char *u = icalcomponent_get_uid(c);
		if (u == NULL || u[0] == '\0')
			return cal_ical__error(error, size, "%s has no UID",
			                       icalcomponent_kind_to_string(k));
		if (strlen(u) > CAL_ICAL_UID_MAX)
			return cal_ical__error(error, size, "UID is longer than %d bytes",
			                       CAL_ICAL_UID_MAX);
		if (uid != NULL && strcmp(uid, u) != 0)
			return cal_ical__error(error, size, "components have different UIDs");
		uid = u;
		if (check_tzids(root, c, error, size) < 0)
			return -1;
		n++;
	}
	if (n == 0)
		return cal_ical__error(error, size, "no VEVENT or VTODO in the object");
	if (n - 1 > OVERRIDES_MAX)
		return cal_ical__error(error, size, "more than %d overridden instances",
		                       OVERRIDES_MAX);
	o->overrides = mem_calloc(n, sizeof(*o->overrides));
	for (icalcomponent *c = icalcomponent_get_first_component(root, o->kind); c != NULL;
	     c = icalcomponent_get_next_component(root, o->kind)) {
		struct comp_times t;
		if (comp_times(root, c, &t, error, size) < 0)
			return -1;
		if (!t.has_rid) {
			if (o->has_master)
				return cal_ical__error(error, size,
				                       "two components without RECURRENCE-ID");
			o->master = t;
			o->has_master = true;
			continue;
		}
		for (size_t i = 0; i < o->override_count; i++)
			if (o->overrides[i].rid == t.rid)
				return cal_ical__error(error, size, "RECURRENCE-ID given twice");
		o->overrides[o->override_count++] = t;
	}
	return 0;
}

/* --- expansion --- */

struct span {
	int64_t start, end, rid;
	const struct comp_times *from; /* the component whose properties the instance has */
	bool overridden;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

/* Whether sp overlaps [start, end) (an instant at start counts). */
static bool span_in(const struct span *sp, int64_t start, int64_t end)
{
	return sp->start == sp->end ? sp->start >= start && sp->start < end
	                            : sp->start < end && sp->end > start;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* The master's instance starts (UTC) below until (at most about max_starts), from the rule and
   RDATEs without EXDATEs, sorted, into starts. *open_r: the rule was cut (no end, or longer than
   the steps). */
static void master_starts(const struct object *o, int64_t from, int64_t until, size_t max_starts,
                          struct array *starts, bool *open_r)
{
	const struct comp_times *m = &o->master;
	icalcomponent *c = m->comp;
	int64_t dur = m->end - m->start;
	bool has_rule = false;
	*open_r = false;
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype rule = icalproperty_get_rrule(p);
		icalrecur_iterator *it = icalrecur_iterator_new(rule, m->start_tt);
		has_rule = true;
		if (it == NULL)
			continue;
		bool bounded = rule.count > 0 || !icaltime_is_null_time(rule.until);
		/* skip ahead to the range when no COUNT makes the earlier instances matter
		   (libical brings the time into DTSTART's zone) */
		if (rule.count == 0 && from - dur - 86400 > m->start)
			icalrecur_iterator_set_start(
			    it,
			    icaltime_from_timet_with_zone((time_t)(from - dur - 86400), m->all_day,
			                                  icaltimezone_get_utc_timezone()));
		size_t steps = 0;
		for (;;) {
			struct icaltimetype t = icalrecur_iterator_next(it);
			if (icaltime_is_null_time(t))
				break;
			if (++steps > RULE_STEPS_MAX || starts->count > max_starts) {
				*open_r = true;
				break;
			}
			int64_t s = utc(t, m->zone);
			if (s >= until) {
				*open_r = *open_r || !bounded;
				break;
			}
			*(int64_t *)array_push(starts) = s;
		}
		icalrecur_iterator_free(it);
	}
	if (!has_rule)
		*(int64_t *)array_push(starts) = m->start;
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
		int64_t s;
		if (prop_time(o->root, p, &s, NULL) == 0 && s < until)
			*(int64_t *)array_push(starts) = s;
	}
	if (starts->count > 1)
		qsort(starts->data, starts->count, sizeof(int64_t), cmp_i64);
	/* EXDATEs (compared in UTC: they may name another zone than DTSTART) and duplicates out */
	struct array ex = ARRAY_INIT(int64_t);
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		int64_t x;
		if (prop_time(o->root, p, &x, NULL) == 0)
			*(int64_t *)array_push(&ex) = x;
	}
	if (ex.count > 1)
		qsort(ex.data, ex.count, sizeof(int64_t), cmp_i64);
	size_t w = 0;
	int64_t *v = starts->data;
	for (size_t i = 0; i < starts->count; i++) {
		if ((w > 0 && v[w - 1] == v[i]) ||
		    (ex.count > 0 &&
		     bsearch(&v[i], ex.data, ex.count, sizeof(int64_t), cmp_i64) != NULL))
			continue;
		v[w++] = v[i];
	}
	array_free(&ex);
	starts->count = w;
}

/* Every instance starting before until into spans (unsorted); *open_r as master_starts. */
static void object_spans(const struct object *o, int64_t from, int64_t until, size_t max_starts,
                         struct array *spans, bool *open_r)
{
	*open_r = false;
	if (o->has_master && o->master.has_start) {
		struct array starts = ARRAY_INIT(int64_t);
		master_starts(o, from, until, max_starts, &starts, open_r);
		int64_t dur = o->master.end - o->master.start;
		bool recurs =
		    starts.count > 1 || o->override_count > 0 ||
		    icalcomponent_get_first_property(o->master.comp, ICAL_RRULE_PROPERTY) != NULL;
		for (size_t i = 0; i < starts.count; i++) {
			int64_t s = *ARRAY_IDX(&starts, int64_t, i);
			struct span *sp = array_push(spans);
			*sp = (struct span){s, s + dur, recurs ? s : 0, &o->master, false};
		}
		array_free(&starts);
	} else if (o->has_master && o->master.has_end) { /* a task with a due time only */
		struct span *sp = array_push(spans);
		*sp = (struct span){o->master.end, o->master.end, 0, &o->master, false};
	}
	/* overrides replace their instance; THISANDFUTURE moves the later ones with it */
	for (size_t k = 0; k < o->override_count; k++) {
		const struct comp_times *ov = &o->overrides[k];
		for (size_t i = 0; i < spans->count;) {
			struct span *sp = array_idx(spans, i);
			if (sp->overridden || sp->rid == 0) {
				i++;
				continue;
			}
			if (sp->rid == ov->rid) {
				array_delete(spans, i);
				continue;
			}
			if (ov->future && sp->rid > ov->rid && ov->has_start) {
				sp->start = sp->rid + (ov->start - ov->rid);
				sp->end = sp->start + (ov->end - ov->start);
				sp->from = ov;
			}
			i++;
		}
	}
	for (size_t k = 0; k < o->override_count; k++) {
		const struct comp_times *ov = &o->overrides[k];
		int64_t s = ov->has_start ? ov->start : ov->end;
		if (s >= until)
			continue;
		struct span *sp = array_push(spans);
		*sp = (struct span){s, ov->has_start ? ov->end : s, ov->rid, ov, true};
	}
}

static void copy_summary(char *dst, size_t size, icalcomponent *c)
{
	const char *s = icalcomponent_get_summary(c);
	size_t n = s != NULL ? strlen(s) : 0;
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* not inside a UTF-8 sequence */
	}
	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

int cal_ical_parse(const char *text, size_t len, struct cal_ical_info *info_r, char *error,
                   size_t error_size)
{
	struct object o;
	int ret = -1;
	memset(info_r, 0, sizeof(*info_r));
	if (object_load(text, len, &o, error, error_size) < 0)
		goto out;
	const struct comp_times *m = o.has_master ? &o.master : &o.overrides[0];
	snprintf(info_r->component, sizeof(info_r->component), "%s",
	         o.kind == ICAL_VEVENT_COMPONENT ? "VEVENT" : "VTODO");
	snprintf(info_r->uid, sizeof(info_r->uid), "%s", icalcomponent_get_uid(m->comp));
	copy_summary(info_r->summary, sizeof(info_r->summary), m->comp);
	info_r->has_start = m->has_start;
	info_r->dtstart = m->start;
	info_r->has_end = m->has_end || (m->has_start && o.kind == ICAL_VEVENT_COMPONENT);
	info_r->dtend = m->end;
	info_r->all_day = m->all_day;
	info_r->floating = m->has_start && m->zone == NULL && !icaltime_is_utc(m->start_tt);
	info_r->recurs = o.override_count > 0 ||
	                 (o.has_master &&
	                  (icalcomponent_get_first_property(m->comp, ICAL_RRULE_PROPERTY) != NULL ||
	                   icalcomponent_get_first_property(m->comp, ICAL_RDATE_PROPERTY) != NULL));

	/* follow the series to its end, unless it has none or is too long to */
	struct array spans = ARRAY_INIT(struct span);
	bool open;
	object_spans(&o, INT64_MIN / 2, INT64_MAX / 2, CAL_ICAL_FOLLOW_MAX, &spans, &open);
	for (size_t i = 0; i < spans.count; i++) {
		const struct span *sp = array_idx(&spans, i);
		if (!info_r->has_first || sp->start < info_r->first_instance)
			info_r->first_instance = sp->start;
		if (!info_r->has_first || sp->end > info_r->last_instance)
			info_r->last_instance = sp->end;
		info_r->has_first = true;
	}
	if (spans.count > CAL_ICAL_FOLLOW_MAX)
		open = true;
	array_free(&spans);
	info_r->unbounded = open;
	bool floating = info_r->floating || info_r->all_day;
	if (info_r->has_first && floating) {
		info_r->first_instance -= CAL_ICAL_FLOAT_SLACK;
		info_r->last_instance += CAL_ICAL_FLOAT_SLACK;
	}
	ret = 0;
out:
	object_free(&o);
	return ret;
}

/* The object in text and its instances starting before end, sorted by start, into spans. */
static int load_spans(const char *text, size_t len, int64_t start, int64_t end, struct object *o,
                      struct array *spans, char *error, size_t error_size)
{
	bool open;
	if (object_load(text, len, o, error, error_size) < 0)
		return -1;
	object_spans(o, start, end, SIZE_MAX, spans, &open);
	if (spans->count > 1)
		qsort(spans->data, spans->count, sizeof(struct span), cmp_span);
	return 0;
}

int cal_ical_expand(const char *text, size_t len, int64_t start, int64_t end,
                    struct cal_ical_instance *instances_r, size_t max, size_t *count_r,
                    bool *more_r, char *error, size_t error_size)
{
	struct object o;
	struct array spans = ARRAY_INIT(struct span);
	int ret = -1;
	*count_r = 0;
	*more_r = false;
	if (load_spans(text, len, start, end, &o, &spans, error, error_size) < 0)
		goto out;
	for (size_t i = 0; i < spans.count; i++) {
		const struct span *sp = array_idx(&spans, i);
		if (!span_in(sp, start, end))
			continue;
		if (*count_r == max) {
			*more_r = true;
			break;
		}
		struct cal_ical_instance *inst = &instances_r[(*count_r)++];
		inst->start = sp->start;
		inst->end = sp->end;
		inst->recurrence_id = sp->rid;
		inst->overridden = sp->overridden || sp->from != &o.master;
		copy_summary(inst->summary, sizeof(inst->summary), sp->from->comp);
		icalcomponent *c = sp->from->comp;
		icalproperty *tp = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY);
		inst->transparent =
		    tp != NULL && icalproperty_get_transp(tp) == ICAL_TRANSP_TRANSPARENT;
		icalproperty *st = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
		enum icalproperty_status status =
		    st != NULL ? icalproperty_get_status(st) : ICAL_STATUS_NONE;
		inst->tentative = status == ICAL_STATUS_TENTATIVE;
		inst->cancelled = status == ICAL_STATUS_CANCELLED;
	}
	ret = 0;
out:
	array_free(&spans);
	object_free(&o);
	return ret;
}

/* --- calendar-data's expand and limit-recurrence-set --- */

/* t (UTC seconds) as a UTC date-time, or as a DATE when date. */
static struct icaltimetype utc_tt(int64_t t, bool date)
{
	return icaltime_from_timet_with_zone((time_t)t, date ? 1 : 0,
	                                     icaltimezone_get_utc_timezone());
}

static void remove_props(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p;
	while ((p = icalcomponent_get_first_property(c, kind)) != NULL) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

/* A copy of the instance sp as a component of its own: its times in UTC (dates stay dates),
   RECURRENCE-ID for an instance of a series, no RRULE, RDATE or EXDATE. */
static icalcomponent *instance_comp(const struct object *o, const struct span *sp)
{
	icalcomponent *c = icalcomponent_new_clone(sp->from->comp);
	bool todo = o->kind == ICAL_VTODO_COMPONENT, date = sp->from->all_day;
	static const icalproperty_kind gone[] = {
	    ICAL_RRULE_PROPERTY,    ICAL_RDATE_PROPERTY,        ICAL_EXDATE_PROPERTY,
	    ICAL_DTSTART_PROPERTY,  ICAL_DTEND_PROPERTY,        ICAL_DUE_PROPERTY,
	    ICAL_DURATION_PROPERTY, ICAL_RECURRENCEID_PROPERTY,
	};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		remove_props(c, gone[i]);
	if (sp->from->has_start)
		icalcomponent_add_property(c, icalproperty_new_dtstart(utc_tt(sp->start, date)));
	if (sp->from->has_end || (!todo && sp->end != sp->start))
		icalcomponent_add_property(c, todo ? icalproperty_new_due(utc_tt(sp->end, date))
		                                   : icalproperty_new_dtend(utc_tt(sp->end, date)));
	if (sp->rid != 0)
		icalcomponent_add_property(c, icalproperty_new_recurrenceid(utc_tt(sp->rid, date)));
	return c;
}

int cal_ical_limit(const char *text, size_t len, int64_t start, int64_t end, bool expand,
                   char **text_r, size_t *len_r, char *error, size_t error_size)
{
	struct object o;
	struct array spans = ARRAY_INIT(struct span);
	icalcomponent *out = NULL;
	int ret = -1;
	*text_r = NULL;
	*len_r = 0;
	if (load_spans(text, len, start, end, &o, &spans, error, error_size) < 0)
		goto out;
	out = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	for (icalproperty *p = icalcomponent_get_first_property(o.root, ICAL_ANY_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(o.root, ICAL_ANY_PROPERTY))
		icalcomponent_add_property(out, icalproperty_new_clone(p));
	if (expand) {
		size_t n = 0;
		for (size_t i = 0; i < spans.count; i++) {
			const struct span *sp = array_idx(&spans, i);
			if (!span_in(sp, start, end))
				continue;
			if (++n > CAL_ICAL_EXPAND_MAX) {
				cal_ical__error(error, error_size,
				                "more than %d instances in the range to expand",
				                CAL_ICAL_EXPAND_MAX);
				goto out;
			}
			icalcomponent_add_component(out, instance_comp(&o, sp));
		}
	} else {
		/* the master, the time zones, and the overrides whose instance is in range */
		for (icalcomponent *c =
		         icalcomponent_get_first_component(o.root, ICAL_ANY_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(o.root, ICAL_ANY_COMPONENT)) {
			bool keep = true;
			for (size_t k = 0; k < o.override_count; k++) {
				const struct comp_times *ov = &o.overrides[k];
				if (ov->comp != c)
					continue;
				struct span sp = {ov->has_start ? ov->start : ov->end, ov->end,
				                  ov->rid, ov, true};
				keep = span_in(&sp, start, end);
			}
			if (keep)
				icalcomponent_add_component(out, icalcomponent_new_clone(c));
		}
	}
	char *s = icalcomponent_as_ical_string_r(out);
	*len_r = strlen(s);
	*text_r = mem_strndup(s, *len_r);
	icalmemory_free_buffer(s);
	ret = 0;
out:
	if (out != NULL)
		icalcomponent_free(out);
	array_free(&spans);
	object_free(&o);
	return ret;
}
