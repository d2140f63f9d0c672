/* SPDX-License-Identifier: MIT */
/* Unit tests for storage-calendar.c on SQLite (or the database TANDEM_TEST_SQL_URL names):
   put with its preconditions, lookups, permissions from OX bits, range queries with
   recurrence, revisions and changes with tombstones, the object limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folder.h"
#include "pool.h"
#include "sql.h"
#include "storage-calendar.h"
#include "test-storage-fixture.h"
#include "test.h"

#define CID    1
#define ALICE  1
#define BOB    2
#define CAROL  3
#define SHARED 100 /* alice's calendar: bob sees and reads all, carol nothing */
#define MAR2   1772409600LL
#define DAY    86400

#define CAL(body)                                                                                  \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body "END:VCALENDAR\r\n"
#define EVENT(uid, summary, start, extra)                                                          \
	CAL("BEGIN:VEVENT\r\nUID:" uid "\r\nSUMMARY:" summary "\r\nDTSTART:" start                 \
	    "\r\nDURATION:PT1H\r\n" extra "END:VEVENT\r\n")

static char dir[256];
static struct sql_db *db;
static struct pool *pool;
static struct storage *storage;
static int64_t calendar_of[4], tasks_of[4];
static int64_t max_objects = 10; /* the context's limit for the next setup() */

static struct sql_db *locate(void *ctx, int64_t cid, struct storage_context *ctx_r,
                             struct storage_error *err)
{
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s", dir);
	return db;
}

static void add_user(struct sql_conn *conn, int64_t id, const char *login)
{
	struct sql_error err;
	test_storage_fixture_add_user(conn, CID, id, login, true);
	test_assert(folder_default(conn, CID, id, "calendar", &calendar_of[id], &err) == 1);
	test_assert(folder_default(conn, CID, id, "tasks", &tasks_of[id], &err) == 1);
}

static void teardown(void)
{
	storage_destroy(&storage);
	sql_db_close(&db);
	test_storage_fixture_rmdir(dir);
	pool_destroy(&pool);
}

static void setup(void)
{
	static const char *const tables[] = {
	    "ctx_sequence",    "users",  "user_group",        "group_member", "tombstone",
	    "filestore_usage", "folder", "folder_permission", "cal_object",   "cal_folder_revision",
	    "cal_tombstone",
	};
	struct sql_error err;
	struct sql_conn *conn;

	teardown();
	pool = pool_create(0);
	test_storage_fixture_mkdir(dir, sizeof(dir), "test-storage-cal");
	test_storage_fixture_open(dir, true, &db, &conn);
	test_storage_fixture_clear(conn, tables, sizeof(tables) / sizeof(tables[0]), 0);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_storage_fixture_add_context(conn, CID, 200);
	add_user(conn, ALICE, "alice");
	add_user(conn, BOB, "bob");
	add_user(conn, CAROL, "carol");
	test_storage_fixture_add_folder(conn, CID, SHARED, 1, ALICE, "calendar", "Team");
	test_storage_fixture_grant(conn, CID, SHARED, BOB, FOLDER_BITS(1, 2, 0, 0, 0));
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO filestore_usage (cid, used_bytes, objects) VALUES (?, 0, 1)", "i",
	            (int64_t)CID) == 0);
	test_assert(sql_commit(conn, &err) == 0);
	sql_conn_put(&conn);
	struct storage_settings set = {.locate = locate, .max_objects = max_objects};
	storage = storage_create(&set);
}

static struct storage_user *as(int64_t uid)
{
	return storage_user_create(storage, pool, CID, uid);
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

/* The names storage_cal_query found, in order, joined by spaces. */
static const char *query_names(int64_t uid, const int64_t *range, size_t max, bool *more_r)
{
	struct storage_cal_object *objs;
	struct storage_error err;
	size_t n;
	if (storage_cal_query(as(uid), calendar_of[ALICE], range, max, &objs, &n, more_r, &err) < 0)
		return pool_strdup(pool, err.message);
	const char *names = "";
	for (size_t i = 0; i < n; i++) {
		test_assert(objs[i].etag[0] != '\0' && strstr(objs[i].ical, objs[i].uid) != NULL);
		test_assert_str_eq(objs[i].component, "VEVENT");
		names = pool_printf(pool, "%s%s%s", names, i > 0 ? " " : "", objs[i].name);
	}
	return names;
}

static void test_query(void)
{
	struct storage_cal_put p;
	struct storage_error err;
	bool more;
	setup();
	int64_t cal = calendar_of[ALICE], week[2] = {MAR2 + 7 * DAY, MAR2 + 14 * DAY};
	test_assert(put(ALICE, cal, "w.ics",
	                EVENT("w@x", "Weekly", "20260302T090000Z",
	                      "RRULE:FREQ=WEEKLY;COUNT=3\r\nEXDATE:20260309T090000Z\r\n"),
	                &p, &err) == 0);
	test_assert(put(ALICE, cal, "once.ics", EVENT("o@x", "Once", "20260310T090000Z", ""), &p,
	                &err) == 0);
	/* single events are matched from their columns: one ending where the range starts is
	   out, an instant at its start is in */
	test_assert(put(ALICE, cal, "edge.ics", EVENT("e@x", "Edge", "20260308T230000Z", ""), &p,
	                &err) == 0);
	test_assert(put(ALICE, cal, "instant.ics",
	                CAL("BEGIN:VEVENT\r\nUID:i@x\r\nDTSTART:20260309T000000Z\r\n"
	                    "DTEND:20260309T000000Z\r\nEND:VEVENT\r\n"),
	                &p, &err) == 0);
	test_assert_str_eq(query_names(ALICE, week, 0, &more), "once.ics instant.ics");
	test_assert(!more);
	/* the series' third instance is on the 16th */
	week[0] += 7 * DAY;
	week[1] += 7 * DAY;
	test_assert_str_eq(query_names(ALICE, week, 0, &more), "w.ics");
	test_assert_str_eq(query_names(ALICE, NULL, 0, &more),
	                   "w.ics once.ics edge.ics instant.ics");
	test_assert_str_eq(query_names(ALICE, NULL, 2, &more), "w.ics once.ics");
	test_assert(more);
	test_assert(strstr(query_names(CAROL, NULL, 0, &more), "not found") != NULL);
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
	test_assert(storage_consistency_check(storage, CID, false, &j, &err) == 0);
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
	    {"query", test_query},
	    {"changes_and_limit", test_changes_and_limit},
	    {NULL, NULL},
	};
	test_storage_fixture_print_db();
	int ret = test_run(cases);
	teardown();
	return ret;
}
