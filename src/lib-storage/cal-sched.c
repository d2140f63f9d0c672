/* SPDX-License-Identifier: MIT */
/* Scheduling properties of calendar objects on libical. */
#include "cal-sched.h"

#include <libical/ical.h>
#include <string.h>
#include <strings.h>

#include "cal-ical.h"
#include "cal-sched-private.h"
#include "mem.h"
#include "pool.h"

static const char *strip_mailto(const char *v)
{
	if (v != NULL && strncasecmp(v, "mailto:", 7) == 0)
		return v + 7;
	return v;
}

bool cal_sched_same(const char *a, const char *b)
{
	a = strip_mailto(a);
	b = strip_mailto(b);
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

bool cal_sched_reply_status(const char *s)
{
	return s != NULL && (strcmp(s, "ACCEPTED") == 0 || strcmp(s, "DECLINED") == 0 ||
	                     strcmp(s, "TENTATIVE") == 0);
}

icalcomponent *cal_sched__parse(const char *text, size_t len)
{
	cal_ical_init();
	char *copy = mem_strndup(text, len);
	icalcomponent *root = icalparser_parse_string(copy);
	mem_free(&copy);
	if (root != NULL && icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(root);
		root = NULL;
	}
	return root;
}

/* The master (no RECURRENCE-ID), else the first VEVENT or VTODO. */
static icalcomponent *master(icalcomponent *root)
{
	icalcomponent *first = icalcomponent_get_first_real_component(root);
	if (first == NULL)
		return NULL;
	icalcomponent_kind kind = icalcomponent_isa(first);
	for (icalcomponent *c = icalcomponent_get_first_component(root, kind); c != NULL;
	     c = icalcomponent_get_next_component(root, kind))
		if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) == NULL)
			return c;
	return first;
}

static const char *param_text(struct pool *pool, icalproperty *p, icalparameter_kind kind)
{
	icalparameter *par = icalproperty_get_first_parameter(p, kind);
	if (par == NULL)
		return NULL;
	char *s = icalparameter_as_ical_string_r(par);
	const char *eq = s != NULL ? strchr(s, '=') : NULL;
	const char *v = eq != NULL ? pool_strdup(pool, eq + 1) : NULL;
	icalmemory_free_buffer(s);
	if (v != NULL && v[0] == '"') /* a quoted value */
		v = pool_strndup(pool, v + 1, strlen(v) >= 2 ? strlen(v) - 2 : 0);
	return v;
}

int cal_sched_parse(struct pool *pool, const char *text, size_t len, struct cal_sched_info *info_r)
{
	memset(info_r, 0, sizeof(*info_r));
	icalcomponent *root = cal_sched__parse(text, len);
	icalcomponent *c = root != NULL ? master(root) : NULL;
	if (c == NULL) {
		if (root != NULL)
			icalcomponent_free(root);
		return -1;
	}
	info_r->event = icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT;
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);
	if (p != NULL && icalproperty_get_organizer(p) != NULL) {
		info_r->organizer = pool_strdup(pool, strip_mailto(icalproperty_get_organizer(p)));
		info_r->organizer_name = param_text(pool, p, ICAL_CN_PARAMETER);
	}
	size_t n = icalcomponent_count_properties(c, ICAL_ATTENDEE_PROPERTY);
	if (n > CAL_SCHED_ATTENDEES_MAX)
		n = CAL_SCHED_ATTENDEES_MAX;
	info_r->attendees = pool_calloc(pool, n + 1, sizeof(*info_r->attendees));
	for (p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	     p != NULL && info_r->attendee_count < n;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		const char *v = icalproperty_get_attendee(p);
		if (v == NULL)
			continue;
		struct cal_sched_attendee *a = &info_r->attendees[info_r->attendee_count++];
		a->email = pool_strdup(pool, strip_mailto(v));
		a->name = param_text(pool, p, ICAL_CN_PARAMETER);
		a->partstat = param_text(pool, p, ICAL_PARTSTAT_PARAMETER);
		if (a->partstat == NULL)
			a->partstat = "NEEDS-ACTION";
		a->schedule_status = param_text(pool, p, ICAL_SCHEDULESTATUS_PARAMETER);
	}
	if ((p = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY)) != NULL) {
		info_r->cancelled = icalproperty_get_status(p) == ICAL_STATUS_CANCELLED;
		info_r->tentative = icalproperty_get_status(p) == ICAL_STATUS_TENTATIVE;
	}
	if ((p = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY)) != NULL)
		info_r->transparent = icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT;
	icalcomponent_free(root);
	return 0;
}

const struct cal_sched_attendee *cal_sched_attendee(const struct cal_sched_info *info,
                                                    const char *email)
{
	for (size_t i = 0; i < info->attendee_count; i++)
		if (cal_sched_same(info->attendees[i].email, email))
			return &info->attendees[i];
	return NULL;
}

/* Sets parameter kind of p to value ("NAME=value" parsed by libical): true if it changed. */
static bool set_param(struct pool *pool, icalproperty *p, icalparameter_kind kind, const char *name,
                      const char *value)
{
	const char *old = param_text(pool, p, kind);
	if (old != NULL && value != NULL && strcmp(old, value) == 0)
		return false;
	if (old == NULL && value == NULL)
		return false;
	icalproperty_remove_parameter_by_kind(p, kind);
	if (value != NULL) {
		icalparameter *par =
		    icalparameter_new_from_string(pool_printf(pool, "%s=%s", name, value));
		if (par != NULL)
			icalproperty_add_parameter(p, par);
	}
	return true;
}

static bool rewrite_component(struct pool *pool, icalcomponent *c,
                              const struct cal_sched_rewrite *rw)
{
	bool changed = false;
	if (rw->organizer != NULL &&
	    icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY) == NULL) {
		icalproperty *o =
		    icalproperty_new_organizer(pool_printf(pool, "mailto:%s", rw->organizer));
		if (rw->organizer_name != NULL && rw->organizer_name[0] != '\0')
			icalproperty_add_parameter(o, icalparameter_new_cn(rw->organizer_name));
		icalcomponent_add_property(c, o);
		changed = true;
	}
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		const char *v = icalproperty_get_attendee(p);
		if (rw->strip_schedule_status)
			changed |= set_param(pool, p, ICAL_SCHEDULESTATUS_PARAMETER,
			                     "SCHEDULE-STATUS", NULL);
		for (size_t i = 0; i < rw->edit_count; i++) {
			const struct cal_sched_edit *e = &rw->edits[i];
			if (!cal_sched_same(v, e->email))
				continue;
			if (e->partstat != NULL)
				changed |= set_param(pool, p, ICAL_PARTSTAT_PARAMETER, "PARTSTAT",
				                     e->partstat);
			if (e->schedule_status != NULL)
				changed |= set_param(pool, p, ICAL_SCHEDULESTATUS_PARAMETER,
				                     "SCHEDULE-STATUS", e->schedule_status);
		}
	}
	if (rw->cancel) {
		icalproperty *s = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
		if (s == NULL) {
			icalcomponent_add_property(c,
			                           icalproperty_new_status(ICAL_STATUS_CANCELLED));
			changed = true;
		} else if (icalproperty_get_status(s) != ICAL_STATUS_CANCELLED) {
			icalproperty_set_status(s, ICAL_STATUS_CANCELLED);
			changed = true;
		}
	}
	return changed;
}

const char *cal_sched_rewrite(struct pool *pool, const char *text, size_t len,
                              const struct cal_sched_rewrite *rw)
{
	icalcomponent *root = cal_sched__parse(text, len);
	if (root == NULL)
		return NULL;
	bool changed = false;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT))
		changed |= rewrite_component(pool, c, rw);
	const char *out = NULL;
	if (changed) {
		char *s = icalcomponent_as_ical_string_r(root);
		out = pool_strdup(pool, s);
		icalmemory_free_buffer(s);
	}
	icalcomponent_free(root);
	return out;
}

enum cal_sched_busy cal_sched_busy_type(const struct cal_sched_info *info, const char *self)
{
	if (info->transparent || info->cancelled)
		return CAL_SCHED_FREE;
	const struct cal_sched_attendee *me = cal_sched_attendee(info, self);
	bool organiser = info->organizer != NULL && cal_sched_same(info->organizer, self);
	if (me != NULL && !organiser) {
		if (strcmp(me->partstat, "DECLINED") == 0)
			return CAL_SCHED_FREE;
		if (strcmp(me->partstat, "ACCEPTED") != 0)
			return CAL_SCHED_BUSY_TENTATIVE;
	}
	return info->tentative ? CAL_SCHED_BUSY_TENTATIVE : CAL_SCHED_BUSY;
}

const char *cal_sched_busy_name(enum cal_sched_busy type)
{
	return type == CAL_SCHED_BUSY_TENTATIVE ? "BUSY-TENTATIVE" : "BUSY";
}

static int64_t utc_seconds(icalproperty *p)
{
	struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
	return (int64_t)icaltime_as_timet_with_zone(
	    t, t.zone != NULL ? t.zone : icaltimezone_get_utc_timezone());
}

int cal_sched_parse_fbreq(struct pool *pool, const char *text, size_t len,
                          struct cal_sched_fbreq *req_r, char *error, size_t error_size)
{
	memset(req_r, 0, sizeof(*req_r));
	icalcomponent *root = cal_sched__parse(text, len);
	if (root == NULL)
		return cal_ical__error(error, error_size, "not an iCalendar object");
	int ret = -1;
	icalcomponent *fb = icalcomponent_get_first_component(root, ICAL_VFREEBUSY_COMPONENT);
	icalproperty *m = icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY);
	icalproperty *s =
	    fb != NULL ? icalcomponent_get_first_property(fb, ICAL_DTSTART_PROPERTY) : NULL;
	icalproperty *e =
	    fb != NULL ? icalcomponent_get_first_property(fb, ICAL_DTEND_PROPERTY) : NULL;
	icalproperty *o =
	    fb != NULL ? icalcomponent_get_first_property(fb, ICAL_ORGANIZER_PROPERTY) : NULL;
	if (m == NULL || icalproperty_get_method(m) != ICAL_METHOD_REQUEST || fb == NULL) {
		cal_ical__error(error, error_size, "only METHOD:REQUEST with a VFREEBUSY is taken");
		goto out;
	}
	if (s == NULL || e == NULL || o == NULL || icalproperty_get_organizer(o) == NULL) {
		cal_ical__error(error, error_size,
		                "the VFREEBUSY needs DTSTART, DTEND and ORGANIZER");
		goto out;
	}
	req_r->start = utc_seconds(s);
	req_r->end = utc_seconds(e);
	req_r->organizer = pool_strdup(pool, strip_mailto(icalproperty_get_organizer(o)));
	const char *uid = icalcomponent_get_uid(fb);
	req_r->uid = uid != NULL ? pool_strdup(pool, uid) : NULL;
	size_t n = icalcomponent_count_properties(fb, ICAL_ATTENDEE_PROPERTY);
	if (n > CAL_SCHED_ATTENDEES_MAX)
		n = CAL_SCHED_ATTENDEES_MAX;
	req_r->attendees = pool_calloc(pool, n + 1, sizeof(*req_r->attendees));
	for (icalproperty *p = icalcomponent_get_first_property(fb, ICAL_ATTENDEE_PROPERTY);
	     p != NULL && req_r->attendee_count < n;
	     p = icalcomponent_get_next_property(fb, ICAL_ATTENDEE_PROPERTY))
		if (icalproperty_get_attendee(p) != NULL)
			req_r->attendees[req_r->attendee_count++] =
			    pool_strdup(pool, strip_mailto(icalproperty_get_attendee(p)));
	if (req_r->end <= req_r->start) {
		cal_ical__error(error, error_size, "DTEND must be after DTSTART");
		goto out;
	}
	ret = 0;
out:
	icalcomponent_free(root);
	return ret;
}
