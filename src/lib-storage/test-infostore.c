/* SPDX-License-Identifier: MIT */
/* Unit tests for infostore.c and infostore-check.c on a SQLite user schema and a temp dir. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "infostore.h"
#include "random.h"
#include "sql.h"
#include "test-storage-fixture.h"
#include "test.h"

#define CID 5

static char dir[256], root[300];
static struct sql_db *db;
static struct sql_conn *conn;

/* A fresh context: SQLite in a temp dir, or the database TANDEM_TEST_SQL_URL names (a MariaDB
   one is emptied of this context's rows first). The filestore is always a temp dir. */
static void setup(void)
{
	static const char *const tables[] = {
	    "ctx_sequence", "tombstone",         "filestore_usage", "filestore_reservation",
	    "infostore",    "infostore_version", "dav_props"};
	struct sql_error err;
	char ctx[400];

	if (conn != NULL)
		sql_conn_put(&conn);
	sql_db_close(&db);
	test_storage_fixture_rmdir(dir);
	test_storage_fixture_mkdir(dir, sizeof(dir), "test-infostore");
	snprintf(root, sizeof(root), "%s/fs", dir);
	snprintf(ctx, sizeof(ctx), "%s/%d_ctx_store", root, CID);
	test_assert(mkdir(root, 0750) == 0 && mkdir(ctx, 0750) == 0);
	test_storage_fixture_open(dir, true, &db, &conn);
	test_storage_fixture_clear(conn, tables, sizeof(tables) / sizeof(tables[0]), CID);
	test_assert(sql_run(conn, &err, "INSERT INTO ctx_sequence (cid, next_id) VALUES (?, 10)",
	                    "i", (int64_t)CID) == 0);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO filestore_usage (cid, used_bytes) VALUES (?, 0)", "i",
	                    (int64_t)CID) == 0);
}

/* What upload() passes to infostore_charge besides the size. */
static int64_t max_objects;
static const char *hold;

/* Stores text as a file the way the API does: publish, then one transaction. Returns the id. */
static int64_t upload(int64_t folder, const char *name, const char *text, int64_t quota,
                      int *status_r)
{
	struct filestore_temp *t;
	const char *error;
	struct sql_error err;
	char md5[33], loc[FILESTORE_LOCATION_SIZE];
	int64_t id = 0, version = 0;

	test_assert(filestore_temp_create(root, CID, &t, &error) == 0);
	test_assert(filestore_temp_write(t, text, strlen(text)) == 0);
	filestore_temp_md5(t, md5);
	test_assert(filestore_temp_publish(t, loc, &error) == 0);
	struct infostore_upload up = {.cid = CID,
	                              .folder = folder,
	                              .uid = 3,
	                              .name = name,
	                              .size = (int64_t)strlen(text),
	                              .md5 = md5,
	                              .content_type = "text/plain",
	                              .location = loc,
	                              .now = time(NULL)};
	struct infostore_file existing;
	test_assert(sql_begin(conn, true, &err) == 0);
	struct infostore_charge ch = {.cid = CID,
	                              .bytes = up.size,
	                              .objects = 1,
	                              .quota_bytes = quota,
	                              .max_objects = max_objects,
	                              .hold = hold,
	                              .now = up.now};
	int r = infostore_charge(conn, &ch, &err);
	if (r == 0) {
		int found = infostore_find(conn, CID, folder, name, &existing, &err);
		test_assert(found >= 0);
		r = infostore_add_version(conn, &up, found > 0 ? &existing : NULL, &id, &version,
		                          &err);
	}
	if (r == 0) {
		test_assert(sql_commit(conn, &err) == 0);
	} else {
		sql_rollback(conn);
		filestore_temp_unpublish(t);
	}
	filestore_temp_destroy(&t);
	*status_r = r;
	return id;
}

/* The usage row: bytes (objects false) or object count. */
static int64_t total(bool objects)
{
	struct sql_error err;
	int64_t used = -1, count = -1;
	test_assert(infostore_usage(conn, CID, &used, &count, &err) == 1);
	return objects ? count : used;
}

static int64_t usage(void)
{
	return total(false);
}

static void test_names(void)
{
	static const char *const good[] = {"a",          "report.pdf",  "..a",
	                                   "a..",        "...",         "ünïcødé €",
	                                   "with space", "back\\slash", "日本語.txt"};
	static const struct {
		const char *name;
		size_t len;
	} bad[] = {
	    {"", 0},         {".", 1},        {"..", 2},        {"a/b", 3},
	    {"/", 1},        {"a\0b", 3},     {"tab\there", 8}, {"nl\n", 3},
	    {"del\x7f", 4},  {"\xc0\xaf", 2}, {"\xff", 1},      {"\xed\xa0\x80", 3},
	    {"\xc2\x85", 2}, {"\xe2\x82", 2},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_set_context(good[i]);
		test_assert(infostore_check_name(good[i], strlen(good[i])) == NULL);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i].name);
		test_assert(infostore_check_name(bad[i].name, bad[i].len) != NULL);
	}
	test_set_context(NULL);
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	test_assert(infostore_check_name(longname, 255) == NULL);
	test_assert(infostore_check_name(longname, 256) != NULL);

	test_assert(infostore_check_content_type(STRV_LIT("text/plain")) == NULL);
	test_assert(infostore_check_content_type(STRV_LIT("text/plain; charset=utf-8")) == NULL);
	test_assert(infostore_check_content_type(STRV_LIT("text")) != NULL);
	test_assert(infostore_check_content_type(STRV_LIT("/plain")) != NULL);
	test_assert(infostore_check_content_type(STRV_LIT("text/")) != NULL);
	test_assert(infostore_check_content_type(STRV_LIT("text/plain\r\nX: y")) != NULL);
	test_assert(infostore_check_content_type(STRV_LIT("")) != NULL);
}

static void test_versions_and_quota(void)
{
	struct sql_error err;
	struct infostore_file f;
	int status;

	setup();
	int64_t id = upload(20, "a.txt", "hello", 0, &status);
	test_assert_int_eq(status, 0);
	test_assert_int_eq(id, 10); /* from ctx_sequence */
	test_assert_int_eq(upload(20, "a.txt", "hello world", 0, &status), id);
	test_assert_int_eq(usage(), 16);
	test_assert(infostore_get(conn, CID, id, &f, &err) == 1);
	test_assert_int_eq(f.version, 2);
	test_assert_int_eq(f.size, 11);
	test_assert_str_eq(f.name, "a.txt");
	json_t *versions = infostore_versions_json(conn, CID, id, &err);
	test_assert(json_array_size(versions) == 2);
	test_assert_int_eq(
	    json_integer_value(json_object_get(json_array_get(versions, 0), "version")), 2);
	json_decref(versions);

	/* a quota of 20 bytes: 16 used, 5 more would exceed it, 4 fit */
	upload(20, "b.txt", "12345", 20, &status);
	test_assert_int_eq(status, 1);
	test_assert_int_eq(usage(), 16);
	test_assert(infostore_find(conn, CID, 20, "b.txt", &f, &err) == 0);
	int64_t id2 = upload(20, "b.txt", "1234", 20, &status);
	test_assert_int_eq(status, 0);
	test_assert_int_eq(usage(), 20);

	json_t *list = infostore_list(conn, CID, 20, 0, &err);
	test_assert(json_array_size(list) == 2);
	json_decref(list);
	list = infostore_list(conn, CID, 20, 99, &err);
	test_assert(json_array_size(list) == 0);
	json_decref(list);

	struct array locs;
	array_init(&locs, FILESTORE_LOCATION_SIZE);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_assert_int_eq(infostore_delete(conn, CID, id, time(NULL), &locs, &err), 1);
	test_assert(sql_commit(conn, &err) == 0);
	test_assert_int_eq(locs.count, 2);
	for (size_t i = 0; i < locs.count; i++)
		test_assert(filestore_remove(root, CID, array_idx(&locs, i)) == 0);
	test_assert_int_eq(usage(), 4);
	test_assert(infostore_get(conn, CID, id, &f, &err) == 0);
	int64_t tomb = 0;
	test_assert(sql_query_int64(conn, &err, &tomb,
	                            "SELECT COUNT(*) FROM tombstone WHERE cid=? AND module='file' "
	                            "AND id=?",
	                            "ii", (int64_t)CID, id) == 1);
	test_assert_int_eq(tomb, 1);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_assert_int_eq(infostore_delete(conn, CID, id, time(NULL), &locs, &err), 0);
	sql_rollback(conn);
	array_free(&locs);

	/* nothing wrong so far */
	json_t *report;
	test_assert(infostore_check_consistency(conn, CID, root, false, &report, &err) == 0);
	test_assert_int_eq(json_integer_value(json_object_get(report, "problems")), 0);
	json_decref(report);
	(void)id2;
}

static size_t list_size(json_t *report, const char *key)
{
	return json_array_size(json_object_get(report, key));
}

static int64_t held(void)
{
	struct sql_error err;
	int64_t n = -1;
	test_assert(sql_query_int64(conn, &err, &n,
	                            "SELECT COALESCE(SUM(bytes), 0) FROM filestore_reservation "
	                            "WHERE cid=?",
	                            "i", (int64_t)CID) == 1);
	return n;
}

static int64_t objects(void)
{
	return total(true);
}

/* Sets a hold in a transaction of its own; returns infostore_reserve's answer, or what was
   held when it is not want. */
static int64_t reserve(const char *id, int64_t need, int64_t want, int64_t quota, int64_t now,
                       int64_t expires)
{
	struct sql_error err;
	struct infostore_hold h = {.cid = CID,
	                           .id = id,
	                           .need = need,
	                           .want = want,
	                           .quota_bytes = quota,
	                           .now = now,
	                           .expires = expires};
	int64_t got = -1;
	test_assert(sql_begin(conn, true, &err) == 0);
	int r = infostore_reserve(conn, &h, &got, &err);
	test_assert(r >= 0);
	if (r == 0)
		test_assert(sql_commit(conn, &err) == 0);
	else
		sql_rollback(conn);
	return r == 0 && got != want ? got : r;
}

/* Holds count against the quota beside the usage, each upload's own excepted; expired ones
   count for nothing and go; a commit turns the hold into usage. */
static void test_holds(void)
{
	struct sql_error err;
	int status;
	int64_t now = time(NULL);

	setup();
	upload(20, "base", "0123456789", 0, &status); /* 10 bytes used */
	test_assert_int_eq(reserve("a", 30, 30, 100, now, now + 60), 0);
	test_assert_int_eq(reserve("b", 40, 40, 100, now, now + 60), 0);
	/* 10 + 30 + 40 = 80: another 21 does not fit, 20 does; nor does an upload of 21 */
	test_assert_int_eq(reserve("c", 21, 1, 100, now, now + 60), INFOSTORE_OVER_QUOTA);
	test_assert_int_eq(held(), 70);
	upload(20, "x", "123456789012345678901", 100, &status);
	test_assert_int_eq(status, INFOSTORE_OVER_QUOTA);
	/* wanting more than fits holds what does */
	test_assert_int_eq(reserve("c", 5, 50, 100, now, now + 60), 20);
	/* a hold may grow as far as the others leave room; it does not count against itself */
	test_assert_int_eq(reserve("a", 31, 31, 100, now, now + 60), INFOSTORE_OVER_QUOTA);
	test_assert_int_eq(reserve("a", 30, 30, 100, now, now + 60), 0);
	test_assert_int_eq(held(), 90);

	/* "b" commits 35 bytes: its hold goes, its bytes are usage now */
	hold = "b";
	upload(20, "b", "12345678901234567890123456789012345", 100, &status);
	hold = NULL;
	test_assert_int_eq(status, 0);
	test_assert_int_eq(usage(), 45);
	test_assert_int_eq(held(), 50);

	/* "a" expires: it counts for nothing, and the next hold drops its row */
	test_assert_int_eq(reserve("a", 30, 30, 100, now, now + 1), 0);
	test_assert_int_eq(reserve("d", 35, 35, 100, now + 1, now + 60), 0);
	int64_t rows = 0;
	test_assert(sql_query_int64(conn, &err, &rows,
	                            "SELECT COUNT(*) FROM filestore_reservation WHERE cid=? AND "
	                            "id='a'",
	                            "i", (int64_t)CID) == 1);
	test_assert_int_eq(rows, 0);
	test_assert_int_eq(held(), 55);

	/* a lowered quota refuses any growth; a release drops the row */
	test_assert_int_eq(reserve("c", 20, 20, 50, now + 1, now + 60), INFOSTORE_OVER_QUOTA);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_assert(infostore_release(conn, CID, "c", &err) == 0);
	test_assert(infostore_release(conn, CID, "nobody", &err) == 0);
	test_assert(sql_commit(conn, &err) == 0);
	test_assert_int_eq(held(), 35);

	/* expired holds are listed by the check and dropped by a repair */
	test_assert_int_eq(reserve("e", 5, 5, 100, now - 100, now - 50), 0);
	json_t *report;
	test_assert(infostore_check_consistency(conn, CID, root, false, &report, &err) == 0);
	test_assert_int_eq(list_size(report, "expired_holds"), 1);
	test_assert_int_eq(json_integer_value(json_object_get(report, "problems")), 1);
	json_decref(report);
	test_assert(infostore_check_consistency(conn, CID, root, true, &report, &err) == 0);
	test_assert_int_eq(json_integer_value(json_object_get(report, "repaired")), 1);
	json_decref(report);
	test_assert_int_eq(held(), 35);
}

/* Every file version counts as an object; deleting a file gives its versions back. */
static void test_object_limit(void)
{
	struct sql_error err;
	int status;

	setup();
	max_objects = 3;
	int64_t a = upload(20, "a", "1", 0, &status);
	upload(20, "a", "12", 0, &status);
	upload(20, "empty", "", 0, &status);
	test_assert_int_eq(status, 0);
	test_assert_int_eq(objects(), 3);
	upload(20, "zero", "", 0, &status);
	test_assert_int_eq(status, INFOSTORE_OVER_OBJECTS);
	upload(20, "a", "123", 0, &status);
	test_assert_int_eq(status, INFOSTORE_OVER_OBJECTS);
	test_assert_int_eq(objects(), 3);

	struct array locs;
	array_init(&locs, FILESTORE_LOCATION_SIZE);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_assert_int_eq(infostore_delete(conn, CID, a, time(NULL), &locs, &err), 1);
	test_assert(sql_commit(conn, &err) == 0);
	for (size_t i = 0; i < locs.count; i++)
		test_assert(filestore_remove(root, CID, array_idx(&locs, i)) == 0);
	array_free(&locs);
	test_assert_int_eq(objects(), 1);
	upload(20, "zero", "", 0, &status);
	test_assert_int_eq(status, 0);
	max_objects = 0;

	/* a wrong count is found and fixed like the usage */
	test_assert(sql_run(conn, &err, "UPDATE filestore_usage SET objects=77 WHERE cid=?", "i",
	                    (int64_t)CID) == 0);
	json_t *report;
	test_assert(infostore_check_consistency(conn, CID, root, true, &report, &err) == 0);
	json_t *o = json_object_get(report, "objects");
	test_assert_int_eq(json_integer_value(json_object_get(o, "recorded")), 77);
	test_assert_int_eq(json_integer_value(json_object_get(o, "actual")), 2);
	test_assert_int_eq(json_integer_value(json_object_get(report, "repaired")), 1);
	json_decref(report);
	test_assert_int_eq(objects(), 2);
}

static void plant(const char *rel, const char *text)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%d_ctx_store/%s", root, CID, rel);
	for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0750);
			*p = '/';
		}
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	test_assert(fd >= 0);
	if (fd >= 0) {
		test_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
		close(fd);
	}
}

static void test_consistency(void)
{
	struct sql_error err;
	struct infostore_file f;
	struct infostore_version v;
	json_t *report;
	int status;

	setup();
	int64_t a = upload(20, "a.txt", "version one", 0, &status);
	upload(20, "a.txt", "version two!", 0, &status);
	int64_t b = upload(20, "b.txt", "only version", 0, &status);
	test_assert_int_eq(usage(), 11 + 12 + 12);

	/* damage: a's current version and b's only version lose their files, an orphan and a
	   crashed upload's temp appear, a stray file, and the usage row is off */
	test_assert(infostore_get_version(conn, CID, a, 2, &v, &err) == 1);
	test_assert(filestore_remove(root, CID, v.location) == 0);
	test_assert(infostore_get_version(conn, CID, b, 1, &v, &err) == 1);
	test_assert(filestore_remove(root, CID, v.location) == 0);
	/* b's WebDAV property goes with it, a's stays */
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO dav_props (cid, kind, object, ns, name, value) VALUES "
	                    "(?, 'file', ?, 'urn:x', 'p', 'v'), (?, 'file', ?, 'urn:x', 'p', 'v')",
	                    "iiii", (int64_t)CID, a, (int64_t)CID, b) == 0);
	plant("hashed/ab/cd/ef/abcdef00000000000000000000000000", "orphan");
	plant("tmp/0123.part", "partial");
	plant("README", "stray");
	test_assert(sql_run(conn, &err, "UPDATE filestore_usage SET used_bytes=999 WHERE cid=?",
	                    "i", (int64_t)CID) == 0);

	/* an upload in progress is left alone */
	struct filestore_temp *live;
	const char *error;
	test_assert(filestore_temp_create(root, CID, &live, &error) == 0);

	test_assert(infostore_check_consistency(conn, CID, root, false, &report, &err) == 0);
	test_assert_int_eq(list_size(report, "orphan_files"), 1);
	test_assert_int_eq(list_size(report, "missing_files"), 2);
	test_assert_int_eq(list_size(report, "stale_temp_files"), 1);
	test_assert_int_eq(list_size(report, "in_progress"), 1);
	test_assert_int_eq(list_size(report, "unknown_entries"), 1);
	json_t *u = json_object_get(report, "usage");
	test_assert_int_eq(json_integer_value(json_object_get(u, "recorded")), 999);
	test_assert_int_eq(json_integer_value(json_object_get(u, "actual")), 35);
	test_assert_int_eq(json_integer_value(json_object_get(report, "problems")), 6);
	test_assert_int_eq(json_integer_value(json_object_get(report, "repaired")), 0);
	json_decref(report);
	test_assert_int_eq(usage(), 999); /* a check changes nothing */

	test_assert(infostore_check_consistency(conn, CID, root, true, &report, &err) == 0);
	test_assert_int_eq(json_integer_value(json_object_get(report, "problems")), 6);
	test_assert_int_eq(json_integer_value(json_object_get(report, "repaired")), 5);
	json_decref(report);

	/* a fell back to version 1, b is gone with a tombstone, usage is the sum */
	test_assert(infostore_get(conn, CID, a, &f, &err) == 1);
	test_assert_int_eq(f.version, 1);
	test_assert_int_eq(f.size, 11);
	test_assert(infostore_get(conn, CID, b, &f, &err) == 0);
	test_assert_int_eq(usage(), 11);
	int64_t tomb = 0;
	sql_query_int64(conn, &err, &tomb, "SELECT COUNT(*) FROM tombstone WHERE id=?", "i", b);
	test_assert_int_eq(tomb, 1);
	int64_t props = 0;
	sql_query_int64(conn, &err, &props, "SELECT COUNT(*) FROM dav_props WHERE object=?", "i",
	                b);
	test_assert_int_eq(props, 0);
	sql_query_int64(conn, &err, &props, "SELECT COUNT(*) FROM dav_props WHERE object=?", "i",
	                a);
	test_assert_int_eq(props, 1);

	/* only the stray file (never touched) and the live upload remain */
	test_assert(infostore_check_consistency(conn, CID, root, false, &report, &err) == 0);
	test_assert_int_eq(json_integer_value(json_object_get(report, "problems")), 1);
	test_assert_int_eq(list_size(report, "unknown_entries"), 1);
	test_assert_int_eq(list_size(report, "in_progress"), 1);
	json_decref(report);
	filestore_temp_destroy(&live);

	/* the next upload to a follows its newest remaining version */
	upload(20, "a.txt", "three", 0, &status);
	test_assert(infostore_get(conn, CID, a, &f, &err) == 1);
	test_assert_int_eq(f.version, 2);
	test_assert_int_eq(usage(), 16);
}

/* Eight connections charge 300 bytes each against a quota of 1000 at the same time: exactly
   three may commit, and the usage is their sum (the usage row serialises them). */
struct racer {
	int64_t quota;
	bool hold; /* infostore_reserve instead of infostore_charge */
	int result;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct sql_conn *c;
	struct sql_error err;
	r->result = -1;
	if (sql_conn_get(db, SQL_WRITE, 1, &c, &err) < 0)
		return NULL;
	for (int attempt = 0; attempt < 20; attempt++) {
		if (sql_begin(c, true, &err) < 0) {
			if (err.kind == SQL_ERR_BUSY)
				continue;
			break;
		}
		int x;
		if (r->hold) {
			char id[32];
			snprintf(id, sizeof(id), "racer-%p", (void *)r);
			struct infostore_hold h = {.cid = CID,
			                           .id = id,
			                           .need = 300,
			                           .want = 300,
			                           .quota_bytes = r->quota,
			                           .now = time(NULL),
			                           .expires = time(NULL) + 60};
			int64_t got;
			x = infostore_reserve(c, &h, &got, &err);
		} else {
			struct infostore_charge ch = {
			    .cid = CID, .bytes = 300, .quota_bytes = r->quota, .now = time(NULL)};
			x = infostore_charge(c, &ch, &err);
		}
		if (x == 0 && sql_commit(c, &err) == 0) {
			r->result = 0;
			break;
		}
		sql_rollback(c);
		if (x == 1) {
			r->result = 1;
			break;
		}
		if (err.kind != SQL_ERR_BUSY)
			break;
	}
	sql_conn_put(&c);
	return NULL;
}

static void run_racers(bool holds)
{
	pthread_t threads[8];
	struct racer racers[8];
	int ok = 0, over = 0;

	setup();
	sql_conn_put(&conn); /* the racers need the pool's connections */
	for (int i = 0; i < 8; i++) {
		racers[i].quota = 1000;
		racers[i].hold = holds;
		test_assert(pthread_create(&threads[i], NULL, race, &racers[i]) == 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		ok += racers[i].result == 0;
		over += racers[i].result == 1;
	}
	struct sql_error err;
	test_assert(sql_conn_get(db, SQL_WRITE, 1, &conn, &err) == 0);
	test_assert_int_eq(ok, 3);
	test_assert_int_eq(over, 5);
	test_assert_int_eq(holds ? held() : usage(), 900);
}

static void test_concurrent_charges(void)
{
	run_racers(false);
}

/* The same race for holds: they count against each other as usage does. */
static void test_concurrent_holds(void)
{
	run_racers(true);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"names", test_names},
	    {"versions_and_quota", test_versions_and_quota},
	    {"consistency", test_consistency},
	    {"concurrent_charges", test_concurrent_charges},
	    {"holds", test_holds},
	    {"object_limit", test_object_limit},
	    {"concurrent_holds", test_concurrent_holds},
	    {NULL, NULL},
	};
	test_storage_fixture_print_db();
	random_init();
	int ret = test_run(cases);
	if (conn != NULL)
		sql_conn_put(&conn);
	sql_db_close(&db);
	test_storage_fixture_rmdir(dir);
	return ret;
}
