/* SPDX-License-Identifier: MIT */
/* Unit tests for storage-calendar.c on SQLite (or the database TANDEM_TEST_SQL_URL names):
   put with its preconditions, lookups, permissions from OX bits, range queries with
   recurrence, revisions and changes with tombstones, the object limit. */
#include <stdio.h>
#include <string.h>

#include "storage-calendar.h"
#include "test-storage-env.h"
#include "test.h"

#define CID    TEST_CID
#define ALICE  TEST_ALICE
#define BOB    TEST_BOB
#define CAROL  TEST_CAROL
#define SHARED TEST_SHARED /* alice's: bob reads all, carol sees nothing */
#define MAR2   1772409600LL
#define DAY    86400

#define CAL(body)                                                                                  \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body "END:VCALENDAR\r\n"
#define EVENT(uid, summary, start, extra)                                                          \
	CAL("BEGIN:VEVENT\r\nUID:" uid "\r\nSUMMARY:" summary "\r\nDTSTART:" start                 \
	    "\r\nDURATION:PT1H\r\n" extra "END:VEVENT\r\n")

static struct test_storage_env env;
static int64_t calendar_of[4], tasks_of[4];
static int64_t max_objects = 10; /* the context's limit for the next setup() */

static void setup(void)
{
	test_storage_env_setup(&env, "calendar", max_objects);
	for (int64_t u = ALICE; u <= CAROL; u++) {
		calendar_of[u] = test_storage_env_default(&env, u, "calendar");
		tasks_of[u] = test_storage_env_default(&env, u, "tasks");
	}
}

static struct storage_user *as(int64_t uid)
{
	return storage_user_create(env.storage, env.pool, CID, uid);
}

static int put(int64_t uid, int64_t folder, const char *name, const char *text,
               struct storage_cal_put *p, struct storage_error *err)
{
	memset(p, 0, sizeof(*p));
	p->folder = folder;
	p->name = name;
	p->text = text;
	p->len = strlen(text);
	return storage_cal_put(as(uid), p, err);
}

static void test_put_get(void)
{
	struct storage_cal_put p;
	struct storage_error err;
	struct storage_cal_object o;
	const char *text =
	    EVENT("a@x", "Lunch", "20260302T120000Z",
	          "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n");
	setup();
	test_assert(put(ALICE, SHARED, NULL, text, &p, &err) == 0);
	test_assert(p.created);
	test_assert_str_eq(p.obj.name, "a@x.ics");
	test_assert_str_eq(p.obj.uid, "a@x");
	test_assert_int_eq(p.obj.revision, 1);
	test_assert_int_eq(p.obj.dtstart, MAR2 + 12 * 3600);
	int64_t id = p.obj.id;
	const char *etag = p.obj.etag;
	/* byte-equal on the way back, by id, by name, by UID */
	test_assert(storage_cal_get(as(ALICE), id, &o, &err) == 0);
	test_assert_str_eq(o.ical, text);
	test_assert(storage_cal_get_by_name(as(BOB), SHARED, "a@x.ics", &o, &err) == 0);
	test_assert_int_eq(o.id, id);
	test_assert(storage_cal_get_by_uid(as(BOB), SHARED, "a@x", &o, &err) == 0);
	test_assert_str_eq(o.etag, etag);

	/* If-None-Match: * never overwrites; If-Match must match */
	memset(&p, 0, sizeof(p));
	p = (struct storage_cal_put){.folder = SHARED,
	                             .name = "a@x.ics",
	                             .text = text,
	                             .len = strlen(text),
	                             .if_none_match = true};
	test_assert(storage_cal_put(as(ALICE), &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CAL_PRECONDITION);
	const char *changed = EVENT("a@x", "Long lunch", "20260302T120000Z", "");
	p = (struct storage_cal_put){.folder = SHARED,
	                             .name = "a@x.ics",
	                             .text = changed,
	                             .len = strlen(changed),
	                             .if_match = "nope"};
	test_assert(storage_cal_put(as(ALICE), &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CAL_PRECONDITION);
	p.if_match = etag;
	test_assert(storage_cal_put(as(ALICE), &p, &err) == 0);
	test_assert(!p.created);
	test_assert_int_eq(p.obj.id, id);
	test_assert_int_eq(p.obj.revision, 2);
	test_assert(strcmp(p.obj.etag, etag) != 0);
	test_assert_str_eq(p.obj.summary, "Long lunch");

	/* the same UID under another name: a conflict; a VTODO in a calendar: wrong component */
	test_assert(put(ALICE, SHARED, "other.ics", text, &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CAL_UID_CONFLICT);
	test_assert(strstr(err.message, "a@x.ics") != NULL);
	test_assert(put(ALICE, SHARED, NULL,
	                CAL("BEGIN:VTODO\r\nUID:t\r\nSUMMARY:x\r\nEND:VTODO\r\n"), &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CAL_WRONG_COMPONENT);
	test_assert(put(ALICE, tasks_of[ALICE], NULL,
	                CAL("BEGIN:VTODO\r\nUID:t\r\nSUMMARY:x\r\nEND:VTODO\r\n"), &p, &err) == 0);
	/* invalid data names the problem; nothing stored */
	test_assert(put(ALICE, SHARED, NULL, CAL("BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"), &p,
	                &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CAL_BAD_DATA);
	test_assert(strstr(err.message, "no UID") != NULL);
	/* a default name another object holds already: the id's instead */
	test_assert(put(ALICE, SHARED, "n@x.ics", EVENT("other@x", "O", "20260302T120000Z", ""), &p,
	                &err) == 0);
	test_assert(put(ALICE, SHARED, NULL, EVENT("n@x", "N", "20260302T120000Z", ""), &p, &err) ==
	            0);
	char want[32];
	snprintf(want, sizeof(want), "%lld.ics", (long long)p.obj.id);
	test_assert_str_eq(p.obj.name, want);
	test_assert(put(ALICE, SHARED, "../x", text, &p, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_INVALID);
}

static void test_permissions(void)
{
	struct storage_cal_put p;
	struct storage_error err;
	struct storage_cal_object o;
	json_t *j;
	setup();
	test_assert(
	    put(ALICE, SHARED, NULL, EVENT("s@x", "Team", "20260302T090000Z", ""), &p, &err) == 0);
	int64_t id = p.obj.id;
	/* bob reads but may not create, change or delete */
	test_assert(
	    put(BOB, SHARED, NULL, EVENT("b@x", "Bob's", "20260302T090000Z", ""), &p, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert(put(BOB, SHARED, "s@x.ics", EVENT("s@x", "Mine", "20260302T090000Z", ""), &p,
	                &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert(storage_cal_delete(as(BOB), id, NULL, NULL, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert(storage_cal_range(as(BOB), SHARED, MAR2, MAR2 + DAY, 0, &j, &err) == 0);
	test_assert_int_eq(json_array_size(json_object_get(j, "instances")), 1);
	json_decref(j);
	/* carol sees nothing of it, and cannot tell it exists */
	test_assert(storage_cal_get(as(CAROL), id, &o, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert(storage_cal_range(as(CAROL), SHARED, MAR2, MAR2 + DAY, 0, &j, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert(storage_cal_changes(as(CAROL), SHARED, 0, 0, &j, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert(put(CAROL, SHARED, NULL, EVENT("c@x", "C", "20260302T090000Z", ""), &p, &err) <
	            0);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	/* the owner deletes */
	test_assert(storage_cal_delete(as(ALICE), id, NULL, NULL, &err) == 0);
	test_assert(storage_cal_get(as(ALICE), id, &o, &err) < 0);
}

static void test_range(void)
{
	struct storage_cal_put p;
	struct storage_error err;
	json_t *j;
	setup();
	test_assert(put(ALICE, calendar_of[ALICE], NULL,
	                EVENT("w@x", "Weekly", "20260302T090000Z",
	                      "RRULE:FREQ=WEEKLY\r\nEXDATE:20260309T090000Z\r\n"),
	                &p, &err) == 0);
	test_assert(put(ALICE, calendar_of[ALICE], NULL,
	                EVENT("o@x", "Once", "20260310T090000Z", ""), &p, &err) == 0);
	test_assert(storage_cal_range(as(ALICE), calendar_of[ALICE], MAR2 + 7 * DAY,
	                              MAR2 + 14 * DAY, 0, &j, &err) == 0);
	json_t *in = json_object_get(j, "instances");
	test_assert_int_eq(json_array_size(in), 1); /* the 9th is excluded */
	test_assert_str_eq(json_string_value(json_object_get(json_array_get(in, 0), "summary")),
	                   "Once");
	json_decref(j);
	/* a year on the series is still there; the result is bounded */
	test_assert(storage_cal_range(as(ALICE), calendar_of[ALICE], MAR2 + 364 * DAY,
	                              MAR2 + 371 * DAY, 0, &j, &err) == 0);
	test_assert_int_eq(json_array_size(json_object_get(j, "instances")), 1);
	json_decref(j);
	test_assert(storage_cal_range(as(ALICE), calendar_of[ALICE], MAR2, MAR2 + 70 * DAY, 3, &j,
	                              &err) == 0);
	test_assert_int_eq(json_array_size(json_object_get(j, "instances")), 3);
	test_assert(json_is_true(json_object_get(j, "more")));
	json_decref(j);
}

static void test_changes_and_limit(void)
{
	struct storage_cal_put p;
	struct storage_error err;
	json_t *j;
	int64_t rev;
	max_objects = 4;
	setup();
	max_objects = 10;
	int64_t cal = calendar_of[ALICE];
	test_assert(storage_cal_revision(as(ALICE), cal, &rev, NULL, &err) == 0);
	test_assert_int_eq(rev, 0);
	test_assert(put(ALICE, cal, NULL, EVENT("1@x", "One", "20260302T090000Z", ""), &p, &err) ==
	            0);
	int64_t one = p.obj.id;
	test_assert(put(ALICE, cal, NULL, EVENT("2@x", "Two", "20260302T090000Z", ""), &p, &err) ==
	            0);
	test_assert(
	    put(ALICE, cal, NULL, EVENT("3@x", "Three", "20260302T090000Z", ""), &p, &err) == 0);
	/* the context's limit is 4 objects: the Team folder and three events */
	test_assert(put(ALICE, cal, NULL, EVENT("4@x", "Four", "20260302T090000Z", ""), &p, &err) <
	            0);
	test_assert_int_eq(err.refusal, STORAGE_OVER_LIMIT);
	test_assert(storage_cal_delete(as(ALICE), one, NULL, NULL, &err) == 0);
	test_assert(storage_cal_revision(as(ALICE), cal, &rev, NULL, &err) == 0);
	test_assert_int_eq(rev, 4);
	test_assert(storage_cal_changes(as(ALICE), cal, 1, 0, &j, &err) == 0);
	test_assert_int_eq(json_integer_value(json_object_get(j, "revision")), 4);
	test_assert_int_eq(json_array_size(json_object_get(j, "changed")), 2);
	test_assert_int_eq(json_array_size(json_object_get(j, "deleted")), 1);
	json_decref(j);
	/* paged: two at a time, then the rest */
	test_assert(storage_cal_changes(as(ALICE), cal, 0, 2, &j, &err) == 0);
	test_assert(json_is_true(json_object_get(j, "more")));
	test_assert_int_eq(json_integer_value(json_object_get(j, "revision")), 3);
	json_decref(j);
	test_assert(storage_cal_changes(as(ALICE), cal, 9, 0, &j, &err) < 0);
	test_assert(strstr(err.message, "unknown") != NULL);
	/* the consistency check counts events and tasks among the objects */
	test_assert(storage_consistency_check(env.storage, CID, false, &j, &err) == 0);
	json_t *objects = json_object_get(j, "objects");
	test_assert(json_is_true(json_object_get(objects, "ok")));
	test_assert_int_eq(json_integer_value(json_object_get(objects, "actual")), 3);
	json_decref(j);
	/* room again after the delete; a name deleted and used again is no longer deleted */
	test_assert(put(ALICE, cal, NULL, EVENT("1@x", "One again", "20260302T090000Z", ""), &p,
	                &err) == 0);
	test_assert(storage_cal_changes(as(ALICE), cal, 0, 0, &j, &err) == 0);
	test_assert_int_eq(json_array_size(json_object_get(j, "deleted")), 0);
	json_decref(j);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"put_get", test_put_get},
	    {"permissions", test_permissions},
	    {"range", test_range},
	    {"changes_and_limit", test_changes_and_limit},
	    {NULL, NULL},
	};
	test_storage_env_print_database();
	int ret = test_run(cases);
	test_storage_env_teardown(&env);
	return ret;
}
