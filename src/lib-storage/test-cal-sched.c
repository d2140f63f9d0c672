/* SPDX-License-Identifier: MIT */
/* Unit tests for cal-sched.c: reading organiser and attendees, rewriting PARTSTAT,
   SCHEDULE-STATUS, ORGANIZER and STATUS (and nothing when nothing changes), what free/busy
   takes from an object, and free/busy requests. */
#include <string.h>

#include "cal-sched.h"
#include "pool.h"
#include "test.h"

#define CAL(body)                                                                                  \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body "END:VCALENDAR\r\n"

static struct pool *pool;

static const char invite[] =
    CAL("BEGIN:VEVENT\r\nUID:u@t\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\n"
        "ORGANIZER;CN=\"Alice, A.\":MAILTO:alice@example.com\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:Bob@Example.com\r\n"
        "ATTENDEE;SCHEDULE-STATUS=1.2:mailto:carol@example.com\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:u@t\r\nRECURRENCE-ID:20260309T090000Z\r\n"
        "DTSTART:20260309T100000Z\r\nDTEND:20260309T110000Z\r\n"
        "ORGANIZER:mailto:alice@example.com\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com\r\nEND:VEVENT\r\n");

static void test_parse(void)
{
	struct cal_sched_info info;
	test_assert(cal_sched_parse(pool, invite, strlen(invite), &info) == 0);
	test_assert(info.event);
	test_assert_str_eq(info.organizer, "alice@example.com");
	test_assert_str_eq(info.organizer_name, "Alice, A.");
	test_assert_int_eq(info.attendee_count, 2);
	const struct cal_sched_attendee *b = cal_sched_attendee(&info, "bob@example.COM");
	test_assert(b != NULL);
	test_assert_str_eq(b->partstat, "ACCEPTED");
	const struct cal_sched_attendee *c = cal_sched_attendee(&info, "mailto:carol@example.com");
	test_assert_str_eq(c->partstat, "NEEDS-ACTION");
	test_assert_str_eq(c->schedule_status, "1.2");
	test_assert(cal_sched_attendee(&info, "dave@example.com") == NULL);
	test_assert(cal_sched_parse(pool, "nonsense", 8, &info) < 0);
	test_assert(cal_sched_reply_status("TENTATIVE") && !cal_sched_reply_status("MAYBE") &&
	            !cal_sched_reply_status(NULL));
}

static void test_rewrite(void)
{
	struct cal_sched_info info;
	/* nothing to change: NULL, the text stays byte for byte */
	struct cal_sched_edit same = {.email = "bob@example.com", .partstat = "ACCEPTED"};
	struct cal_sched_rewrite rw = {.edits = &same, .edit_count = 1};
	test_assert(cal_sched_rewrite(pool, invite, strlen(invite), &rw) == NULL);
	/* a new answer reaches every component of the object */
	struct cal_sched_edit edit = {
	    .email = "BOB@example.com", .partstat = "DECLINED", .schedule_status = "2.0"};
	rw.edits = &edit;
	const char *out = cal_sched_rewrite(pool, invite, strlen(invite), &rw);
	test_assert(out != NULL);
	const char *first = strstr(out, "PARTSTAT=DECLINED");
	test_assert(first != NULL && strstr(first + 1, "PARTSTAT=DECLINED") != NULL);
	test_assert(cal_sched_parse(pool, out, strlen(out), &info) == 0);
	test_assert_str_eq(cal_sched_attendee(&info, "bob@example.com")->schedule_status, "2.0");
	/* an attendee's copy: SCHEDULE-STATUS goes, STATUS:CANCELLED comes */
	struct cal_sched_rewrite copy = {.strip_schedule_status = true, .cancel = true};
	out = cal_sched_rewrite(pool, invite, strlen(invite), &copy);
	test_assert(out != NULL && strstr(out, "SCHEDULE-STATUS") == NULL);
	test_assert(cal_sched_parse(pool, out, strlen(out), &info) == 0 && info.cancelled);
	/* ORGANIZER is added only where there is none */
	static const char plain[] = CAL("BEGIN:VEVENT\r\nUID:p@t\r\nDTSTART:20260302T090000Z\r\n"
	                                "ATTENDEE:mailto:bob@example.com\r\nEND:VEVENT\r\n");
	struct cal_sched_rewrite org = {.organizer = "alice@example.com",
	                                .organizer_name = "Alice"};
	out = cal_sched_rewrite(pool, plain, strlen(plain), &org);
	test_assert(out != NULL && cal_sched_parse(pool, out, strlen(out), &info) == 0);
	test_assert_str_eq(info.organizer, "alice@example.com");
	test_assert(cal_sched_rewrite(pool, invite, strlen(invite), &org) == NULL);
}

static void test_busy_type(void)
{
	struct cal_sched_info info;
	test_assert(cal_sched_parse(pool, invite, strlen(invite), &info) == 0);
	test_assert_int_eq(cal_sched_busy_type(&info, "bob@example.com"), CAL_SCHED_BUSY);
	test_assert_int_eq(cal_sched_busy_type(&info, "carol@example.com"),
	                   CAL_SCHED_BUSY_TENTATIVE);
	test_assert_int_eq(cal_sched_busy_type(&info, "alice@example.com"), CAL_SCHED_BUSY);
	struct cal_sched_edit no = {.email = "bob@example.com", .partstat = "DECLINED"};
	struct cal_sched_rewrite rw = {.edits = &no, .edit_count = 1};
	const char *out = cal_sched_rewrite(pool, invite, strlen(invite), &rw);
	test_assert(cal_sched_parse(pool, out, strlen(out), &info) == 0);
	test_assert_int_eq(cal_sched_busy_type(&info, "bob@example.com"), CAL_SCHED_FREE);
	static const char transp[] = CAL("BEGIN:VEVENT\r\nUID:x@t\r\nDTSTART:20260302T090000Z\r\n"
	                                 "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n");
	test_assert(cal_sched_parse(pool, transp, strlen(transp), &info) == 0);
	test_assert_int_eq(cal_sched_busy_type(&info, "bob@example.com"), CAL_SCHED_FREE);
	test_assert_str_eq(cal_sched_busy_name(CAL_SCHED_BUSY_TENTATIVE), "BUSY-TENTATIVE");
}

static void test_fbreq(void)
{
	struct cal_sched_fbreq fr;
	char error[200];
	static const char req[] =
	    CAL("METHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:f@t\r\nDTSTART:20260302T000000Z\r\n"
	        "DTEND:20260303T000000Z\r\nORGANIZER:mailto:alice@example.com\r\n"
	        "ATTENDEE:mailto:bob@example.com\r\nATTENDEE:mailto:room@example.com\r\n"
	        "END:VFREEBUSY\r\n");
	test_assert(cal_sched_parse_fbreq(pool, req, strlen(req), &fr, error, sizeof(error)) == 0);
	test_assert_int_eq(fr.end - fr.start, 86400);
	test_assert_str_eq(fr.organizer, "alice@example.com");
	test_assert_int_eq(fr.attendee_count, 2);
	test_assert_str_eq(fr.attendees[1], "room@example.com");
	static const char publish[] =
	    CAL("METHOD:PUBLISH\r\nBEGIN:VFREEBUSY\r\nDTSTART:20260302T000000Z\r\n"
	        "DTEND:20260303T000000Z\r\nORGANIZER:mailto:a@t\r\nEND:VFREEBUSY\r\n");
	test_assert(
	    cal_sched_parse_fbreq(pool, publish, strlen(publish), &fr, error, sizeof(error)) < 0);
	test_assert(strstr(error, "METHOD:REQUEST") != NULL);
	static const char backwards[] =
	    CAL("METHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nDTSTART:20260303T000000Z\r\n"
	        "DTEND:20260302T000000Z\r\nORGANIZER:mailto:a@t\r\nEND:VFREEBUSY\r\n");
	test_assert(cal_sched_parse_fbreq(pool, backwards, strlen(backwards), &fr, error,
	                                  sizeof(error)) < 0);
	test_assert(strstr(error, "DTEND") != NULL);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"parse", test_parse},
	    {"rewrite", test_rewrite},
	    {"busy_type", test_busy_type},
	    {"fbreq", test_fbreq},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int ret = test_run(cases);
	pool_destroy(&pool);
	return ret;
}
