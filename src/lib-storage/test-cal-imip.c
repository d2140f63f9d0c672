/* SPDX-License-Identifier: MIT */
/* iMIP: REQUEST and CANCEL objects from a stored event, the invitation mail's structure, and
   REPLY parsing with the refusals a forged or broken reply gets. */
#include <string.h>

#include "cal-imip.h"
#include "pool.h"
#include "test.h"

static struct pool *pool;

static const char event[] =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
    "UID:ev-1@tandem\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\n"
    "DTEND:20260105T110000Z\r\nSUMMARY:Pl\xc3\xa4ne\r\nLOCATION:Room 1\r\n"
    "ORGANIZER;CN=Alice:mailto:alice@example.com\r\n"
    "ATTENDEE;PARTSTAT=NEEDS-ACTION;SCHEDULE-STATUS=1.1:mailto:outside@outside.test\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n";

static void test_request_and_cancel(void)
{
	const char *req = cal_imip_itip(pool, event, strlen(event), CAL_IMIP_REQUEST);
	test_assert(req != NULL);
	test_assert(strstr(req, "METHOD:REQUEST") != NULL);
	test_assert(strstr(req, "UID:ev-1@tandem") != NULL);
	test_assert(strstr(req, "SCHEDULE-STATUS") == NULL);
	test_assert(strstr(req, "STATUS:CANCELLED") == NULL);
	const char *cancel = cal_imip_itip(pool, event, strlen(event), CAL_IMIP_CANCEL);
	test_assert(cancel != NULL && strstr(cancel, "METHOD:CANCEL") != NULL);
	test_assert(strstr(cancel, "STATUS:CANCELLED") != NULL);
	test_assert(strstr(cancel, "SEQUENCE:1") != NULL);
	test_assert(strstr(cancel, "METHOD:REQUEST") == NULL);
	/* a METHOD already there is replaced, not doubled */
	const char *again = cal_imip_itip(pool, cancel, strlen(cancel), CAL_IMIP_CANCEL);
	test_assert(strstr(again, "SEQUENCE:2") != NULL);
	test_assert(strstr(strstr(again, "METHOD:") + 1, "METHOD:") == NULL);
	test_assert(cal_imip_itip(pool, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 30,
	                          CAL_IMIP_REQUEST) == NULL);
	test_assert(cal_imip_itip(pool, "garbage", 7, CAL_IMIP_REQUEST) == NULL);
}

static void test_message(void)
{
	const char *itip = cal_imip_itip(pool, event, strlen(event), CAL_IMIP_REQUEST);
	struct cal_imip_mail m = {.method = CAL_IMIP_REQUEST,
	                          .from = "alice@example.com",
	                          .from_name = "Alice \"A\"",
	                          .to = "outside@outside.test",
	                          .itip = itip,
	                          .message_id = "imip.1@tandem",
	                          .date = 1767225600};
	const char *msg = cal_imip_message(pool, &m);
	test_assert(msg != NULL);
	static const char head[] = "From: \"Alice \\\"A\\\"\" <alice@example.com>\r\n"
	                           "To: <outside@outside.test>\r\n"
	                           "Subject: =?utf-8?b?SW52aXRhdGlvbjogUGzDpG5l?=\r\n"
	                           "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n";
	test_assert(strncmp(msg, head, strlen(head)) == 0);
	test_assert(strstr(msg, "Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n") !=
	            NULL);
	test_assert(strstr(msg, "Content-Type: multipart/alternative;") != NULL);
	test_assert(strstr(msg, "filename=\"invite.ics\"") != NULL);
	m.to = "x@y>\r\nBcc: z@w";
	test_assert(cal_imip_message(pool, &m) == NULL);
}

static const char *reply(const char *organizer, const char *attendees, const char *method)
{
	return pool_printf(pool,
	                   "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:%s\r\n"
	                   "BEGIN:VEVENT\r\nUID:ev-1@tandem\r\nDTSTAMP:20260101T000000Z\r\n"
	                   "SEQUENCE:3\r\n%s%sEND:VEVENT\r\nEND:VCALENDAR\r\n",
	                   method, organizer, attendees);
}

static void test_reply(void)
{
	struct cal_imip_reply r;
	char error[200];
	const char *org = "ORGANIZER:mailto:alice@example.com\r\n";
	const char *att = "ATTENDEE;PARTSTAT=ACCEPTED:MAILTO:outside@outside.test\r\n";
	const char *ok = reply(org, att, "REPLY");
	test_assert(cal_imip_parse_reply(pool, ok, strlen(ok), &r, error, sizeof(error)) == 0);
	test_assert_str_eq(r.uid, "ev-1@tandem");
	test_assert_str_eq(r.organizer, "alice@example.com");
	test_assert_str_eq(r.attendee, "outside@outside.test");
	test_assert_str_eq(r.partstat, "ACCEPTED");
	test_assert_int_eq(r.sequence, 3);
	static const struct {
		const char *org, *att, *method, *error;
	} bad[] = {
	    {"ORGANIZER:mailto:a@b\r\n", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:o@t\r\n", "REQUEST",
	     "only METHOD:REPLY"},
	    {"", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:o@t\r\n", "REPLY", "UID and an ORGANIZER"},
	    {"ORGANIZER:mailto:a@b\r\n", "", "REPLY", "exactly one ATTENDEE"},
	    {"ORGANIZER:mailto:a@b\r\n",
	     "ATTENDEE;PARTSTAT=ACCEPTED:mailto:o@t\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:p@t\r\n",
	     "REPLY", "exactly one ATTENDEE"},
	    {"ORGANIZER:mailto:a@b\r\n", "ATTENDEE;PARTSTAT=DELEGATED:mailto:o@t\r\n", "REPLY",
	     "PARTSTAT ACCEPTED"},
	    {"ORGANIZER:mailto:a@b\r\n", "ATTENDEE:mailto:o@t\r\n", "REPLY", "PARTSTAT ACCEPTED"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *t = reply(bad[i].org, bad[i].att, bad[i].method);
		test_assert(cal_imip_parse_reply(pool, t, strlen(t), &r, error, sizeof(error)) < 0);
		test_assert(strstr(error, bad[i].error) != NULL);
	}
	test_assert(cal_imip_parse_reply(pool, "x", 1, &r, error, sizeof(error)) < 0);
	/* nesting past the depth limit never reaches libical */
	const char *deep = "BEGIN:VCALENDAR\r\nBEGIN:A\r\nBEGIN:B\r\nBEGIN:C\r\nBEGIN:D\r\n"
	                   "BEGIN:E\r\nBEGIN:F\r\nBEGIN:G\r\nBEGIN:H\r\n";
	test_assert(cal_imip_parse_reply(pool, deep, strlen(deep), &r, error, sizeof(error)) < 0);
	test_assert_str_eq(error, "not an iCalendar object");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"request_and_cancel", test_request_and_cancel},
	    {"message", test_message},
	    {"reply", test_reply},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int r = test_run(cases);
	pool_destroy(&pool);
	return r;
}
