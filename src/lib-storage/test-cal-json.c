/* SPDX-License-Identifier: MIT */
/* Unit tests for cal-json.c: the JSON form both ways, refusals naming the field, splitting an
   .ics file by UID and merging objects for export. */
#include <stdio.h>
#include <string.h>

#include "cal-ical.h"
#include "cal-json.h"
#include "pool.h"
#include "test.h"

#define CAL(body)                                                                                  \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body "END:VCALENDAR\r\n"

static struct pool *pool;
static char error[300];

static const char *to_ical(const char *json, const char *component)
{
	json_error_t jerr;
	json_t *body = json_loads(json, 0, &jerr);
	test_assert(body != NULL);
	const char *text = cal_json_to_ical(pool, body, component, NULL, error, sizeof(error));
	json_decref(body);
	return text;
}

static void test_round_trip(void)
{
	struct cal_ical_info info;
	const char *text = to_ical("{\"uid\": \"r@x\", \"summary\": \"Review\", \"location\": "
	                           "\"Room 1\", \"start\": \"2026-03-02T09:00:00\", \"end\": "
	                           "\"2026-03-02T10:00:00\", \"timezone\": \"Europe/Berlin\", "
	                           "\"rrule\": \"FREQ=WEEKLY;COUNT=3\", \"exdates\": "
	                           "[\"2026-03-09T09:00:00\"], \"attendees\": [{\"email\": "
	                           "\"bob@example.com\", \"name\": \"Bob\"}]}",
	                           "VEVENT");
	test_assert(text != NULL);
	test_assert(strstr(text, "BEGIN:VTIMEZONE") != NULL);
	test_assert(cal_ical_parse(text, strlen(text), &info, error, sizeof(error)) == 0);
	test_assert_str_eq(info.uid, "r@x");
	test_assert_int_eq(info.dtstart, 1772438400); /* 09:00 CET = 08:00 UTC */
	test_assert(!info.unbounded);
	json_t *j = cal_json_from_ical(text, strlen(text), error, sizeof(error));
	test_assert(j != NULL);
	test_assert_str_eq(json_string_value(json_object_get(j, "summary")), "Review");
	test_assert_str_eq(json_string_value(json_object_get(j, "timezone")), "Europe/Berlin");
	test_assert_str_eq(json_string_value(json_object_get(j, "rrule")), "FREQ=WEEKLY;COUNT=3");
	test_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "exdates"), 0)),
	                   "2026-03-09T09:00:00");
	json_t *att = json_array_get(json_object_get(j, "attendees"), 0);
	test_assert_str_eq(json_string_value(json_object_get(att, "email")), "bob@example.com");
	json_decref(j);
	/* a task without dates, with a status */
	text =
	    to_ical("{\"summary\": \"T\", \"status\": \"IN-PROCESS\", \"priority\": 5}", "VTODO");
	test_assert(text != NULL);
	test_assert(cal_ical_parse(text, strlen(text), &info, error, sizeof(error)) == 0);
	test_assert_str_eq(info.component, "VTODO");
	test_assert(strlen(info.uid) == 32); /* a fresh one */
}

static void test_refusals(void)
{
	static const struct {
		const char *json, *component, *field;
	} bad[] = {
	    {"{\"summary\": \"x\"}", "VEVENT", "\"start\""},
	    {"{\"start\": \"2026-02-30T09:00:00Z\"}", "VEVENT", "\"start\""},
	    {"{\"start\": \"2026-03-02\"}", "VEVENT", "allDay"},
	    {"{\"start\": \"2026-03-02T09:00:00Z\", \"timezone\": \"Mars/Base\"}", "VEVENT",
	     "timezone"},
	    {"{\"start\": \"2026-03-02T09:00:00Z\", \"rrule\": \"EVERY DAY\"}", "VEVENT", "rrule"},
	    {"{\"start\": \"2026-03-02T09:00:00Z\", \"exdates\": [\"2026-03-09\"]}", "VEVENT",
	     "exdates"},
	    {"{\"start\": \"2026-03-02T09:00:00Z\", \"attendees\": [{\"name\": \"n\"}]}", "VEVENT",
	     "attendees"},
	    {"{\"summary\": 5}", "VTODO", "summary"},
	    {"{\"priority\": 10}", "VTODO", "priority"},
	    {"{\"completed\": \"2026-03-02T09:00:00\"}", "VTODO", "completed"},
	    {NULL, NULL, NULL},
	};
	for (size_t i = 0; bad[i].json != NULL; i++) {
		test_set_context(bad[i].json);
		test_assert(to_ical(bad[i].json, bad[i].component) == NULL);
		test_assert(strstr(error, bad[i].field) != NULL);
	}
}

struct seen {
	size_t n;
	char uids[8][32];
	bool with_tz[8];
};

static void collect(void *ctx, const char *text, size_t len, const char *uid)
{
	struct seen *s = ctx;
	test_assert(s->n < 8);
	snprintf(s->uids[s->n], sizeof(s->uids[0]), "%s", uid);
	s->with_tz[s->n] = strstr(text, "BEGIN:VTIMEZONE") != NULL;
	s->n++;
}

static void test_split_and_merge(void)
{
	static const char file[] =
	    CAL("BEGIN:VTIMEZONE\r\nTZID:Z1\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
	        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	        "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Z1:20260302T090000\r\nEND:VEVENT\r\n"
	        "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260302T090000Z\r\nEND:VEVENT\r\n"
	        "BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=Z1:20260302T090000\r\n"
	        "DTSTART;TZID=Z1:20260302T100000\r\nEND:VEVENT\r\n");
	struct seen s = {0};
	test_assert(
	    cal_json_split(pool, file, strlen(file), 10, collect, &s, error, sizeof(error)) == 0);
	test_assert_int_eq(s.n, 2);
	test_assert_str_eq(s.uids[0], "a");
	test_assert_str_eq(s.uids[1], "b");
	test_assert(s.with_tz[0]);
	struct seen none = {0};
	test_assert(
	    cal_json_split(pool, file, strlen(file), 1, collect, &none, error, sizeof(error)) < 0);
	test_assert(strstr(error, "more than 1") != NULL);
	test_assert(cal_json_split(pool, "hello", 5, 10, collect, &none, error, sizeof(error)) < 0);

	const char *const texts[] = {file, file};
	const char *merged = cal_json_merge(pool, texts, 2);
	size_t tz = 0;
	for (const char *p = merged; (p = strstr(p, "BEGIN:VTIMEZONE")) != NULL; p++)
		tz++;
	test_assert_int_eq(tz, 1);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"round_trip", test_round_trip},
	    {"refusals", test_refusals},
	    {"split_and_merge", test_split_and_merge},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int ret = test_run(cases);
	pool_destroy(&pool);
	return ret;
}
