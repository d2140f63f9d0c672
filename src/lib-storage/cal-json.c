/* SPDX-License-Identifier: MIT */
/* JSON form of events and tasks on libical, and splitting .ics files for import. */
#include "cal-json.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cal-ical.h"
#include "mem.h"
#include "pool.h"
#include "random.h"

#define TEXT_MAX      (64 * 1024) /* bytes of one text field */
#define ATTENDEES_MAX 500
#define EXDATES_MAX   1000

/* "20260302T090000Z" → "2026-03-02T09:00:00Z", "20260302" → "2026-03-02". */
static json_t *iso_time(struct icaltimetype t)
{
	char out[32];
	if (t.is_date)
		snprintf(out, sizeof(out), "%04d-%02d-%02d", t.year, t.month, t.day);
	else
		snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d%s", t.year, t.month,
		         t.day, t.hour, t.minute, t.second, icaltime_is_utc(t) ? "Z" : "");
	return json_string(out);
}

/* "2026-03-02", "2026-03-02T09:00:00" or with "Z": a date or date-time; false if not. */
static bool parse_iso(const char *s, struct icaltimetype *t_r)
{
	char basic[20];
	size_t n = strlen(s), w = 0;
	bool date = n == 10, utc = n == 20 && s[19] == 'Z';
	if (!date && n != 19 && !utc)
		return false;
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; i < (date ? 10 : 19); i++) {
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
		if (shape[i] == 'd' || shape[i] == 'T')
			basic[w++] = s[i];
	}
	basic[w] = '\0';
	*t_r = icaltime_from_string(basic);
	if (icaltime_is_null_time(*t_r) || !icaltime_is_valid_time(*t_r) || t_r->month < 1 ||
	    t_r->month > 12 || t_r->day < 1 ||
	    t_r->day > icaltime_days_in_month(t_r->month, t_r->year) || t_r->hour > 23 ||
	    t_r->minute > 59 || t_r->second > 60)
		return false;
	if (utc)
		*t_r = icaltime_convert_to_zone(*t_r, icaltimezone_get_utc_timezone());
	return true;
}

static void set_text(json_t *j, const char *key, const char *value)
{
	if (value != NULL && value[0] != '\0')
		json_object_set_new(j, key, json_string(value));
}

json_t *cal_json_from_ical(const char *text, size_t len, char *error, size_t error_size)
{
	cal_ical_init();
	char *copy = mem_strndup(text, len);
	icalcomponent *root = icalparser_parse_string(copy);
	mem_free(&copy);
	if (root == NULL) {
		cal_ical__error(error, error_size, "not iCalendar data");
		return NULL;
	}
	icalcomponent *c = icalcomponent_get_first_real_component(root);
	for (icalcomponent *k = c; k != NULL;
	     k = icalcomponent_get_next_component(root, icalcomponent_isa(c)))
		if (icalcomponent_get_first_property(k, ICAL_RECURRENCEID_PROPERTY) == NULL) {
			c = k;
			break;
		}
	if (c == NULL) {
		icalcomponent_free(root);
		cal_ical__error(error, error_size, "no VEVENT or VTODO");
		return NULL;
	}
	json_t *j = json_object();
	set_text(j, "uid", icalcomponent_get_uid(c));
	set_text(j, "summary", icalcomponent_get_summary(c));
	set_text(j, "description", icalcomponent_get_description(c));
	set_text(j, "location", icalcomponent_get_location(c));
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	icalparameter *tz =
	    p != NULL ? icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) : NULL;
	if (tz != NULL)
		set_text(j, "timezone", icalparameter_get_tzid(tz));
	if ((p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY)) != NULL) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		char *s = icalrecurrencetype_as_string_r(&r);
		set_text(j, "rrule", s);
		icalmemory_free_buffer(s);
	}
	json_t *ex = json_array();
	for (p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY))
		json_array_append_new(ex, iso_time(icalproperty_get_exdate(p)));
	json_object_set_new(j, "exdates", ex);
	json_t *att = json_array();
	for (p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		const char *v = icalproperty_get_attendee(p);
		json_t *a = json_object();
		if (v != NULL && strncasecmp(v, "mailto:", 7) == 0)
			v += 7;
		set_text(a, "email", v);
		icalparameter *cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
		if (cn != NULL)
			set_text(a, "name", icalparameter_get_cn(cn));
		icalparameter *ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
		if (ps != NULL)
			set_text(a, "status",
			         icalparameter_enum_to_string((int)icalparameter_get_partstat(ps)));
		icalparameter *ss =
		    icalproperty_get_first_parameter(p, ICAL_SCHEDULESTATUS_PARAMETER);
		if (ss != NULL)
			set_text(a, "scheduleStatus", icalparameter_get_schedulestatus(ss));
		json_array_append_new(att, a);
	}
	json_object_set_new(j, "attendees", att);
	if ((p = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY)) != NULL &&
	    icalproperty_get_organizer(p) != NULL) {
		const char *v = icalproperty_get_organizer(p);
		json_t *o = json_object();
		set_text(o, "email", strncasecmp(v, "mailto:", 7) == 0 ? v + 7 : v);
		icalparameter *cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
		if (cn != NULL)
			set_text(o, "name", icalparameter_get_cn(cn));
		json_object_set_new(j, "organizer", o);
	}
	if ((p = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY)) != NULL)
		set_text(j, "status", icalproperty_status_to_string(icalproperty_get_status(p)));
	if (icalcomponent_isa(c) == ICAL_VTODO_COMPONENT) {
		if ((p = icalcomponent_get_first_property(c, ICAL_PRIORITY_PROPERTY)) != NULL)
			json_object_set_new(j, "priority",
			                    json_integer(icalproperty_get_priority(p)));
		if ((p = icalcomponent_get_first_property(c, ICAL_PERCENTCOMPLETE_PROPERTY)) !=
		    NULL)
			json_object_set_new(j, "percentComplete",
			                    json_integer(icalproperty_get_percentcomplete(p)));
		if ((p = icalcomponent_get_first_property(c, ICAL_COMPLETED_PROPERTY)) != NULL)
			json_object_set_new(j, "completed",
			                    iso_time(icalproperty_get_completed(p)));
	}
	json_object_set_new(j, "alarms",
	                    json_integer(icalcomponent_count_components(c, ICAL_VALARM_COMPONENT)));
	icalcomponent_free(root);
	return j;
}

/* An empty VCALENDAR of ours. */
static icalcomponent *new_calendar(void)
{
	icalcomponent *root = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(root, icalproperty_new_version("2.0"));
	icalcomponent_add_property(root, icalproperty_new_prodid("-//Tandem//Tandem//EN"));
	return root;
}

/* c as iCalendar text in pool. */
static const char *as_text(struct pool *pool, icalcomponent *c)
{
	char *s = icalcomponent_as_ical_string_r(c);
	const char *text = pool_strdup(pool, s);
	icalmemory_free_buffer(s);
	return text;
}

/* --- JSON → iCalendar --- */

/* body's string field key (NULL when absent): -1 when it is there but no string or longer
   than TEXT_MAX. */
static int text_field(const json_t *body, const char *key, const char **value_r, char *error,
                      size_t size)
{
	json_t *v = json_object_get(body, key);
	*value_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > TEXT_MAX)
		return cal_ical__error(error, size, "\"%s\" must be a string of at most %d bytes",
		                       key, TEXT_MAX);
	*value_r = json_string_value(v);
	return 0;
}

/* A time field into *t_r (in zone when it is neither a date nor UTC): 1 set, 0 absent, -1. */
static int time_field(const json_t *body, const char *key, icaltimezone *zone, bool all_day,
                      struct icaltimetype *t_r, char *error, size_t size)
{
	const char *s;
	if (text_field(body, key, &s, error, size) < 0)
		return -1;
	if (s == NULL)
		return 0;
	if (!parse_iso(s, t_r))
		return cal_ical__error(error, size,
		                       "\"%s\" must be a date (2026-03-02) or a date-time "
		                       "(2026-03-02T09:00:00, with Z for UTC)",
		                       key);
	if (all_day != (t_r->is_date != 0))
		return cal_ical__error(error, size, "\"%s\" must be %s", key,
		                       all_day ? "a date (allDay is true)"
		                               : "a date-time (allDay is false)");
	if (!t_r->is_date && !icaltime_is_utc(*t_r) && zone != NULL)
		t_r->zone = zone;
	return 1;
}

static void add_time(icalcomponent *c, icalproperty *p, struct icaltimetype t)
{
	/* the system's zones go out by their plain names ("Europe/Berlin"), as clients name
	   them, not libical's prefixed TZIDs */
	if (t.zone != NULL && !icaltime_is_utc(t))
		icalproperty_add_parameter(
		    p, icalparameter_new_tzid(icaltimezone_get_location((icaltimezone *)t.zone)));
	if (t.is_date)
		icalproperty_add_parameter(p, icalparameter_new_value(ICAL_VALUE_DATE));
	icalcomponent_add_property(c, p);
}

static int build(icalcomponent *c, const json_t *body, bool todo, icaltimezone **zone_r,
                 char *error, size_t size)
{
	const char *s, *tzid;
	struct icaltimetype t;
	int r;
	if (text_field(body, "timezone", &tzid, error, size) < 0)
		return -1;
	*zone_r = NULL;
	if (tzid != NULL && (*zone_r = icaltimezone_get_builtin_timezone(tzid)) == NULL)
		return cal_ical__error(error, size,
		                       "\"timezone\" names no known time zone: \"%.64s\"", tzid);
	json_t *ad = json_object_get(body, "allDay");
	if (ad != NULL && !json_is_boolean(ad))
		return cal_ical__error(error, size, "\"allDay\" must be true or false");
	bool all_day = json_is_true(ad);
	static const char *const texts[] = {"summary", "description", "location"};
	for (size_t i = 0; i < 3; i++) {
		if (text_field(body, texts[i], &s, error, size) < 0)
			return -1;
		if (s == NULL)
			continue;
		icalproperty *p = i == 0   ? icalproperty_new_summary(s)
		                  : i == 1 ? icalproperty_new_description(s)
		                           : icalproperty_new_location(s);
		icalcomponent_add_property(c, p);
	}
	if ((r = time_field(body, "start", *zone_r, all_day, &t, error, size)) < 0)
		return -1;
	if (r == 0 && !todo)
		return cal_ical__error(error, size, "\"start\" is required");
	if (r > 0)
		add_time(c, icalproperty_new_dtstart(t), t);
	struct icaltimetype end;
	if ((r = time_field(body, todo ? "due" : "end", *zone_r, all_day, &end, error, size)) < 0)
		return -1;
	if (r > 0)
		add_time(c, todo ? icalproperty_new_due(end) : icalproperty_new_dtend(end), end);
	if (text_field(body, "rrule", &s, error, size) < 0)
		return -1;
	if (s != NULL) {
		struct icalrecurrencetype rule = icalrecurrencetype_from_string(s);
		if (rule.freq == ICAL_NO_RECURRENCE)
			return cal_ical__error(error, size,
			                       "\"rrule\" is not an RFC 5545 rule: \"%.100s\"", s);
		icalcomponent_add_property(c, icalproperty_new_rrule(rule));
	}
	json_t *ex = json_object_get(body, "exdates");
	if (ex != NULL && (!json_is_array(ex) || json_array_size(ex) > EXDATES_MAX))
		return cal_ical__error(
		    error, size, "\"exdates\" must be a list of at most %d times", EXDATES_MAX);
	for (size_t i = 0; ex != NULL && i < json_array_size(ex); i++) {
		const char *v = json_string_value(json_array_get(ex, i));
		if (v == NULL || !parse_iso(v, &t) || all_day != (t.is_date != 0))
			return cal_ical__error(error, size,
			                       "\"exdates\"[%zu] must be a %s like \"start\"", i,
			                       all_day ? "date" : "date-time");
		if (!t.is_date && !icaltime_is_utc(t) && *zone_r != NULL)
			t.zone = *zone_r;
		add_time(c, icalproperty_new_exdate(t), t);
	}
	json_t *att = json_object_get(body, "attendees");
	if (att != NULL && (!json_is_array(att) || json_array_size(att) > ATTENDEES_MAX))
		return cal_ical__error(error, size,
		                       "\"attendees\" must be a list of at most %d entries",
		                       ATTENDEES_MAX);
	for (size_t i = 0; att != NULL && i < json_array_size(att); i++) {
		json_t *a = json_array_get(att, i);
		const char *email = json_string_value(json_object_get(a, "email"));
		const char *name = json_string_value(json_object_get(a, "name"));
		if (email == NULL || email[0] == '\0' || strlen(email) > 254 ||
		    strchr(email, '@') == NULL)
			return cal_ical__error(error, size, "\"attendees\"[%zu] needs an \"email\"",
			                       i);
		char addr[270];
		snprintf(addr, sizeof(addr), "mailto:%s", email);
		icalproperty *p = icalproperty_new_attendee(addr);
		if (name != NULL && name[0] != '\0')
			icalproperty_add_parameter(p, icalparameter_new_cn(name));
		icalcomponent_add_property(c, p);
	}
	if (!todo)
		return 0;
	if (text_field(body, "status", &s, error, size) < 0)
		return -1;
	if (s != NULL) {
		icalproperty_status st = icalproperty_string_to_status(s);
		if (st != ICAL_STATUS_NEEDSACTION && st != ICAL_STATUS_COMPLETED &&
		    st != ICAL_STATUS_INPROCESS && st != ICAL_STATUS_CANCELLED)
			return cal_ical__error(
			    error, size,
			    "\"status\" must be NEEDS-ACTION, IN-PROCESS, COMPLETED or "
			    "CANCELLED");
		icalcomponent_add_property(c, icalproperty_new_status(st));
	}
	json_t *pr = json_object_get(body, "priority");
	if (pr != NULL) {
		if (!json_is_integer(pr) || json_integer_value(pr) < 0 ||
		    json_integer_value(pr) > 9)
			return cal_ical__error(error, size, "\"priority\" must be 0 to 9");
		icalcomponent_add_property(c,
		                           icalproperty_new_priority((int)json_integer_value(pr)));
	}
	json_t *pc = json_object_get(body, "percentComplete");
	if (pc != NULL) {
		if (!json_is_integer(pc) || json_integer_value(pc) < 0 ||
		    json_integer_value(pc) > 100)
			return cal_ical__error(error, size, "\"percentComplete\" must be 0 to 100");
		icalcomponent_add_property(
		    c, icalproperty_new_percentcomplete((int)json_integer_value(pc)));
	}
	if ((r = time_field(body, "completed", NULL, false, &t, error, size)) < 0)
		return -1;
	if (r > 0) {
		if (!icaltime_is_utc(t))
			return cal_ical__error(error, size,
			                       "\"completed\" must be in UTC (with Z)");
		icalcomponent_add_property(c, icalproperty_new_completed(t));
	}
	return 0;
}

const char *cal_json_to_ical(struct pool *pool, const json_t *body, const char *component,
                             const char *uid, char *error, size_t error_size)
{
	bool todo = strcmp(component, "VTODO") == 0;
	char fresh[40];
	cal_ical_init();
	const char *given;
	if (text_field(body, "uid", &given, error, error_size) < 0)
		return NULL;
	if (uid == NULL)
		uid = given;
	if (uid == NULL) {
		random_hex(fresh, 16);
		uid = fresh;
	}
	if (strlen(uid) == 0 || strlen(uid) > CAL_ICAL_UID_MAX) {
		cal_ical__error(error, error_size, "\"uid\" must be 1 to %d bytes",
		                CAL_ICAL_UID_MAX);
		return NULL;
	}
	icalcomponent *root = new_calendar();
	icalcomponent *c = icalcomponent_new(todo ? ICAL_VTODO_COMPONENT : ICAL_VEVENT_COMPONENT);
	icalcomponent_add_property(c, icalproperty_new_uid(uid));
	icalcomponent_add_property(c, icalproperty_new_dtstamp(icaltime_current_time_with_zone(
	                                  icaltimezone_get_utc_timezone())));
	icaltimezone *zone;
	const char *out = NULL;
	if (build(c, body, todo, &zone, error, error_size) < 0) {
		icalcomponent_free(c);
		goto out;
	}
	if (zone != NULL) { /* clients expect the definition beside the TZID */
		icalcomponent *vtz = icalcomponent_new_clone(icaltimezone_get_component(zone));
		icalproperty *id = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
		if (id != NULL)
			icalproperty_set_tzid(id, icaltimezone_get_location(zone));
		icalcomponent_add_component(root, vtz);
	}
	icalcomponent_add_component(root, c);
	out = as_text(pool, root);
out:
	icalcomponent_free(root);
	return out;
}

/* --- import --- */

int cal_json_split(struct pool *pool, const char *text, size_t len, size_t max,
                   cal_json_split_fn *fn, void *ctx, char *error, size_t error_size)
{
	cal_ical_init();
	if (len > CAL_ICAL_MAX_SIZE)
		return cal_ical__error(error, error_size, "the file of %zu bytes is larger than %d",
		                       len, CAL_ICAL_MAX_SIZE);
	char *copy = mem_strndup(text, len);
	icalcomponent *root = icalparser_parse_string(copy);
	mem_free(&copy);
	if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		if (root != NULL)
			icalcomponent_free(root);
		return cal_ical__error(error, error_size, "not an iCalendar file (VCALENDAR)");
	}
	/* one pass: each distinct UID (in order) gets an object with the file's VTIMEZONEs, and
	   its components are added to it */
	const char **uids = pool_calloc(pool, max + 1, sizeof(*uids));
	icalcomponent **objs = pool_calloc(pool, max + 1, sizeof(*objs));
	size_t n = 0;
	int ret = -1;
	for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT)
			continue;
		const char *uid = icalcomponent_get_uid(c);
		if (uid == NULL) /* components without UID go together, for put to refuse */
			uid = "";
		size_t i = 0;
		while (i < n && strcmp(uids[i], uid) != 0)
			i++;
		if (i == n) {
			if (n == max) {
				cal_ical__error(error, error_size,
				                "the file holds more than %zu objects", max);
				goto out;
			}
			uids[n] = pool_strdup(pool, uid);
			objs[n++] = new_calendar();
		}
		icalcomponent_add_component(objs[i], icalcomponent_new_clone(c));
	}
	for (size_t i = 0; i < n; i++) {
		for (icalcomponent *c =
		         icalcomponent_get_first_component(root, ICAL_VTIMEZONE_COMPONENT);
		     c != NULL;
		     c = icalcomponent_get_next_component(root, ICAL_VTIMEZONE_COMPONENT))
			icalcomponent_add_component(objs[i], icalcomponent_new_clone(c));
		const char *t = as_text(pool, objs[i]);
		fn(ctx, t, strlen(t), uids[i]);
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		icalcomponent_free(objs[i]);
	icalcomponent_free(root);
	return ret;
}

/* --- export --- */

const char *cal_json_merge(struct pool *pool, const char *const *texts, size_t count)
{
	cal_ical_init();
	icalcomponent *out = new_calendar();
	for (size_t i = 0; i < count; i++) {
		icalcomponent *root = icalparser_parse_string(texts[i]);
		if (root == NULL)
			continue;
		for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
			if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT) {
				icalproperty *id =
				    icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
				const char *tzid = id != NULL ? icalproperty_get_tzid(id) : NULL;
				if (tzid == NULL || icalcomponent_get_timezone(out, tzid) != NULL)
					continue;
			}
			icalcomponent_add_component(out, icalcomponent_new_clone(c));
		}
		icalcomponent_free(root);
	}
	const char *text = as_text(pool, out);
	icalcomponent_free(out);
	return text;
}
