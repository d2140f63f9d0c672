/* SPDX-License-Identifier: MIT */
/* Unit tests for cal-ical.c: validation with named problems, the columns, and recurrence
   expansion (EXDATE, moved and THISANDFUTURE instances, COUNT and UNTIL, all-day, floating,
   DST in Europe/Berlin), and calendar-data's expand and limit-recurrence-set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal-ical.h"
#include "mem.h"
#include "test.h"

#define H   3600
#define DAY 86400
/* 2026-03-02 00:00:00 UTC, a Monday */
#define MAR2 1772409600LL

#define CAL(body)                                                                                  \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body "END:VCALENDAR\r\n"

static char error[300];
static struct cal_ical_instance inst[64];

static int parse(const char *text, struct cal_ical_info *info)
{
	error[0] = '\0';
	return cal_ical_parse(text, strlen(text), info, error, sizeof(error));
}

/* Instances of text in [start, end): their count (inst[] holds them). */
static size_t expand(const char *text, int64_t start, int64_t end)
{
	size_t n = 0;
	bool more;
	test_assert(cal_ical_expand(text, strlen(text), start, end, inst, 64, &n, &more, error,
	                            sizeof(error)) == 0);
	return n;
}

static void test_refusals(void)
{
	struct cal_ical_info info;
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"hello", "not"},
	    {CAL("BEGIN:VEVENT\r\nDTSTART:20260302T100000Z\r\nEND:VEVENT\r\n"), "no UID"},
	    {CAL("BEGIN:VJOURNAL\r\nUID:a\r\nEND:VJOURNAL\r\n"), "VJOURNAL"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260302T100000Z\r\nEND:VEVENT\r\n"
	         "BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\n"),
	     "mixes"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260302T100000Z\r\nEND:VEVENT\r\n"
	         "BEGIN:VEVENT\r\nUID:b\r\nRECURRENCE-ID:20260303T100000Z\r\n"
	         "DTSTART:20260303T100000Z\r\nEND:VEVENT\r\n"),
	     "different UIDs"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260302T100000Z\r\nEND:VEVENT\r\n"
	         "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260303T100000Z\r\nEND:VEVENT\r\n"),
	     "two components"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\nEND:VEVENT\r\n"), "no DTSTART"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Mars/Olympus:20260302T100000\r\n"
	         "END:VEVENT\r\n"),
	     "unknown time zone"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260302T100000Z\r\n"
	         "DTEND:20260302T090000Z\r\nEND:VEVENT\r\n"),
	     "before DTSTART"},
	    {CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260302T100000Z\r\n"
	         "DTEND:20260302T110000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"),
	     "both DTEND and DURATION"},
	    {CAL(""), "no VEVENT"},
	    {NULL, NULL},
	};
	for (size_t i = 0; bad[i].text != NULL; i++) {
		test_set_context(bad[i].want);
		test_assert(parse(bad[i].text, &info) < 0);
		test_assert(strstr(error, bad[i].want) != NULL);
	}
	/* deep nesting and size are refused before libical parses */
	char deep[400] = "";
	for (size_t i = 0; i < 20; i++)
		memcpy(deep + i * 9, "BEGIN:X\r\n", 9);
	test_assert(parse(deep, &info) < 0);
	test_assert(strstr(error, "nested") != NULL);
	char *big = mem_calloc(1, CAL_ICAL_MAX_SIZE + 2);
	memset(big, 'x', CAL_ICAL_MAX_SIZE + 1);
	test_assert(parse(big, &info) < 0);
	test_assert(strstr(error, "larger") != NULL);
	mem_free(&big);
}

static void test_columns(void)
{
	struct cal_ical_info info;
	test_assert(parse(CAL("BEGIN:VEVENT\r\nUID:one@x\r\nSUMMARY:Lunch\r\n"
	                      "DTSTART:20260302T120000Z\r\nDURATION:PT1H\r\n"
	                      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\n"
	                      "END:VALARM\r\nEND:VEVENT\r\n"),
	                  &info) == 0);
	test_assert_str_eq(info.component, "VEVENT");
	test_assert_str_eq(info.uid, "one@x");
	test_assert_str_eq(info.summary, "Lunch");
	test_assert_int_eq(info.dtstart, MAR2 + 12 * H);
	test_assert_int_eq(info.dtend, MAR2 + 13 * H);
	test_assert(!info.recurs && !info.unbounded && !info.all_day);
	test_assert_int_eq(info.first_instance, MAR2 + 12 * H);
	test_assert_int_eq(info.last_instance, MAR2 + 13 * H);

	test_assert(parse(CAL("BEGIN:VEVENT\r\nUID:w\r\nDTSTART:20260302T120000Z\r\n"
	                      "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"),
	                  &info) == 0);
	test_assert(info.recurs && info.unbounded);

	test_assert(parse(CAL("BEGIN:VTODO\r\nUID:t\r\nSUMMARY:Pay\r\nDUE:20260310T170000Z\r\n"
	                      "STATUS:NEEDS-ACTION\r\nEND:VTODO\r\n"),
	                  &info) == 0);
	test_assert_str_eq(info.component, "VTODO");
	test_assert(!info.has_start && info.has_end);
	test_assert_int_eq(info.dtend, MAR2 + 8 * DAY + 17 * H);
}

#define WEEKLY                                                                                     \
	"BEGIN:VEVENT\r\nUID:series\r\nSUMMARY:Standup\r\nDTSTART:20260302T090000Z\r\n"            \
	"DTEND:20260302T093000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE:20260309T090000Z\r\n"      \
	"END:VEVENT\r\n"                                                                           \
	"BEGIN:VEVENT\r\nUID:series\r\nSUMMARY:Standup "                                           \
	"moved\r\nRECURRENCE-ID:20260316T090000Z\r\n"                                              \
	"DTSTART:20260317T140000Z\r\nDTEND:20260317T143000Z\r\nEND:VEVENT\r\n"

static void test_exdate_and_moved(void)
{
	const char *text = CAL(WEEKLY);
	/* the week of the EXDATE has nothing */
	test_assert_int_eq(expand(text, MAR2 + 7 * DAY, MAR2 + 14 * DAY), 0);
	/* the moved instance is found at its new time, not its old one */
	test_assert_int_eq(expand(text, MAR2 + 14 * DAY, MAR2 + 15 * DAY), 0);
	test_assert_int_eq(expand(text, MAR2 + 15 * DAY, MAR2 + 16 * DAY), 1);
	test_assert_int_eq(inst[0].start, MAR2 + 15 * DAY + 14 * H);
	test_assert_int_eq(inst[0].recurrence_id, MAR2 + 14 * DAY + 9 * H);
	test_assert(inst[0].overridden);
	test_assert_str_eq(inst[0].summary, "Standup moved");
	/* four weeks: the 2nd, (9th gone), 17th moved, 23rd */
	test_assert_int_eq(expand(text, MAR2, MAR2 + 28 * DAY), 3);
	test_assert_int_eq(inst[0].start, MAR2 + 9 * H);
	test_assert_int_eq(inst[2].start, MAR2 + 21 * DAY + 9 * H);
	test_assert_str_eq(inst[2].summary, "Standup");
	/* far in the future the series goes on */
	test_assert_int_eq(expand(text, MAR2 + 700 * DAY, MAR2 + 707 * DAY), 1);
}

static void test_thisandfuture(void)
{
	const char *text =
	    CAL("BEGIN:VEVENT\r\nUID:f\r\nSUMMARY:Old\r\nDTSTART:20260302T090000Z\r\n"
	        "DTEND:20260302T100000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\n"
	        "BEGIN:VEVENT\r\nUID:f\r\nSUMMARY:New\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:"
	        "20260304T090000Z\r\nDTSTART:20260304T110000Z\r\nDTEND:20260304T110000Z\r\nEND:"
	        "VEVENT\r\n");
	test_assert_int_eq(expand(text, MAR2, MAR2 + 10 * DAY), 5);
	test_assert_int_eq(inst[1].start, MAR2 + DAY + 9 * H);
	test_assert_str_eq(inst[1].summary, "Old");
	test_assert_int_eq(inst[2].start, MAR2 + 2 * DAY + 11 * H);
	test_assert_int_eq(inst[4].start, MAR2 + 4 * DAY + 11 * H);
	test_assert_int_eq(inst[4].end, MAR2 + 4 * DAY + 11 * H);
	test_assert_str_eq(inst[4].summary, "New");
}

static void test_count_until(void)
{
	struct cal_ical_info info;
	const char *count = CAL("BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260302T090000Z\r\n"
	                        "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n");
	test_assert_int_eq(expand(count, MAR2, MAR2 + 30 * DAY), 3);
	test_assert_int_eq(expand(count, MAR2 + 3 * DAY, MAR2 + 30 * DAY), 0);
	test_assert(parse(count, &info) == 0);
	test_assert(!info.unbounded);
	test_assert_int_eq(info.last_instance, MAR2 + 2 * DAY + 10 * H);
	const char *until = CAL("BEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260302T090000Z\r\n"
	                        "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;UNTIL=20260316T090000Z\r\n"
	                        "END:VEVENT\r\n");
	test_assert_int_eq(expand(until, MAR2, MAR2 + 60 * DAY), 3);
	test_assert(parse(until, &info) == 0);
	test_assert(!info.unbounded);
	test_assert_int_eq(info.last_instance, MAR2 + 14 * DAY + 10 * H);
}

static void test_all_day_and_floating(void)
{
	struct cal_ical_info info;
	const char *day = CAL("BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20260302\r\n"
	                      "RRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\n");
	test_assert(parse(day, &info) == 0);
	test_assert(info.all_day);
	test_assert_int_eq(info.dtend, MAR2 + DAY); /* one day without DTEND */
	test_assert_int_eq(expand(day, MAR2, MAR2 + 10 * DAY), 2);
	test_assert_int_eq(inst[1].start, MAR2 + DAY);
	test_assert_int_eq(inst[1].end, MAR2 + 2 * DAY);
	test_assert_int_eq(expand(day, MAR2 + 2 * DAY, MAR2 + 3 * DAY), 0);

	const char *floating = CAL("BEGIN:VEVENT\r\nUID:fl\r\nDTSTART:20260302T090000\r\n"
	                           "DTEND:20260302T100000\r\nEND:VEVENT\r\n");
	test_assert(parse(floating, &info) == 0);
	test_assert(info.floating);
	test_assert_int_eq(info.dtstart, MAR2 + 9 * H);
	test_assert(info.first_instance <= MAR2 + 9 * H - CAL_ICAL_FLOAT_SLACK);
	test_assert_int_eq(expand(floating, MAR2, MAR2 + DAY), 1);
}

/* Europe/Berlin moves from +01:00 to +02:00 on 2026-03-29: 09:00 local stays 09:00 */
static void test_dst_berlin(void)
{
	const char *system_tz = CAL("BEGIN:VEVENT\r\nUID:b\r\n"
	                            "DTSTART;TZID=Europe/Berlin:20260327T090000\r\n"
	                            "DTEND;TZID=Europe/Berlin:20260327T100000\r\n"
	                            "RRULE:FREQ=DAILY;COUNT=4\r\nEND:VEVENT\r\n");
	int64_t mar27 = MAR2 + 25 * DAY;
	test_assert_int_eq(expand(system_tz, mar27, mar27 + 5 * DAY), 4);
	test_assert_int_eq(inst[0].start, mar27 + 8 * H);           /* 09:00 CET */
	test_assert_int_eq(inst[2].start, mar27 + 2 * DAY + 7 * H); /* 09:00 CEST */
	test_assert_int_eq(inst[2].end - inst[2].start, H);

	/* the same with the zone defined in the object itself */
	const char *own_tz = CAL(
	    "BEGIN:VTIMEZONE\r\nTZID:Berlin-own\r\n"
	    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
	    "DTSTART:19810329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
	    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
	    "DTSTART:19961027T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	    "END:STANDARD\r\nEND:VTIMEZONE\r\n"
	    "BEGIN:VEVENT\r\nUID:b2\r\nDTSTART;TZID=Berlin-own:20260327T090000\r\n"
	    "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=4\r\n"
	    "EXDATE;TZID=Berlin-own:20260330T090000\r\nEND:VEVENT\r\n");
	struct cal_ical_info info;
	test_assert(parse(own_tz, &info) == 0);
	test_assert_int_eq(expand(own_tz, mar27, mar27 + 5 * DAY), 3);
	test_assert_int_eq(inst[2].start, mar27 + 2 * DAY + 7 * H);
}

static void test_bounded(void)
{
	const char *minutely = CAL("BEGIN:VEVENT\r\nUID:m\r\nDTSTART:20260302T000000Z\r\n"
	                           "RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n");
	size_t n = 0;
	bool more = false;
	test_assert(cal_ical_expand(minutely, strlen(minutely), MAR2, MAR2 + DAY, inst, 64, &n,
	                            &more, error, sizeof(error)) == 0);
	test_assert_int_eq(n, 64);
	test_assert(more);
	struct cal_ical_info info;
	test_assert(parse(minutely, &info) == 0);
	test_assert(info.unbounded);
}

/* cal_ical_limit of text over [start, end) as a NUL-terminated copy (mem_free it). */
static char *limit(const char *text, int64_t start, int64_t end, bool expand_it)
{
	char *out;
	size_t n;
	test_assert(cal_ical_limit(text, strlen(text), start, end, expand_it, &out, &n, error,
	                           sizeof(error)) == 0);
	test_assert_int_eq(strlen(out), n);
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_limit(void)
{
	const char *text = CAL(WEEKLY);
	/* expand: one VEVENT per instance in UTC, no rule, the moved one at its new time */
	char *out = limit(text, MAR2, MAR2 + 22 * DAY, true);
	test_assert_int_eq(count(out, "BEGIN:VEVENT"), 3);
	test_assert(strstr(out, "RRULE") == NULL && strstr(out, "EXDATE") == NULL);
	test_assert(strstr(out, "DTSTART:20260302T090000Z") != NULL);
	test_assert(strstr(out, "RECURRENCE-ID:20260302T090000Z") != NULL);
	test_assert(strstr(out, "DTSTART:20260317T140000Z") != NULL);
	test_assert(strstr(out, "RECURRENCE-ID:20260316T090000Z") != NULL);
	test_assert(strstr(out, "DTSTART:20260309") == NULL);
	test_assert(strstr(out, "PRODID:-//t//t//EN") != NULL);
	mem_free(&out);
	/* a Berlin series comes out in UTC, without its VTIMEZONE */
	out = limit(CAL("BEGIN:VEVENT\r\nUID:b\r\nDTSTART;TZID=Europe/Berlin:20260302T100000\r\n"
	                "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\n"),
	            MAR2, MAR2 + 7 * DAY, true);
	test_assert_int_eq(count(out, "BEGIN:VEVENT"), 2);
	test_assert(strstr(out, "DTSTART:20260303T090000Z") != NULL);
	test_assert(strstr(out, "DTEND:20260303T100000Z") != NULL);
	test_assert(strstr(out, "TZID") == NULL && strstr(out, "DURATION") == NULL);
	mem_free(&out);
	/* limit-recurrence-set: the master always, the override only when in range */
	out = limit(text, MAR2, MAR2 + 7 * DAY, false);
	test_assert_int_eq(count(out, "BEGIN:VEVENT"), 1);
	test_assert(strstr(out, "RRULE:FREQ=WEEKLY") != NULL);
	mem_free(&out);
	out = limit(text, MAR2 + 15 * DAY, MAR2 + 16 * DAY, false);
	test_assert_int_eq(count(out, "BEGIN:VEVENT"), 2);
	mem_free(&out);
	/* too many instances to expand */
	const char *minutely = CAL("BEGIN:VEVENT\r\nUID:m\r\nDTSTART:20260302T090000Z\r\n"
	                           "RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n");
	char *big;
	size_t n;
	test_assert(cal_ical_limit(minutely, strlen(minutely), MAR2, MAR2 + 7 * DAY, true, &big, &n,
	                           error, sizeof(error)) < 0);
	test_assert(strstr(error, "more than 5000 instances") != NULL);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"refusals", test_refusals},
	    {"columns", test_columns},
	    {"exdate_and_moved", test_exdate_and_moved},
	    {"thisandfuture", test_thisandfuture},
	    {"count_until", test_count_until},
	    {"all_day_and_floating", test_all_day_and_floating},
	    {"dst_berlin", test_dst_berlin},
	    {"bounded", test_bounded},
	    {"limit", test_limit},
	    {NULL, NULL},
	};
	return test_run(cases);
}
