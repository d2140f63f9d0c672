/* SPDX-License-Identifier: MIT */
/* Unit tests for storage.c on a SQLite user schema: finding the context, the transaction
   wrapper (BUSY retried, refusals and errors typed) and the caches dropped through the
   invalidation entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "folder.h"
#include "invalidation.h"
#include "pool.h"
#include "sql.h"
#include "storage-folder.h"
#include "storage.h"
#include "test-storage-fixture.h"
#include "test.h"

#define CID    1
#define ALICE  1
#define BOB    2
#define NO_CID 9 /* a context the locate callback does not know */
#define SHARED 100

static char dir[256];
static struct sql_db *db;
static struct pool *pool;
static struct inval_bus *bus;
static struct storage *storage;
static unsigned locates;       /* calls of the locate callback */
static unsigned folder_events; /* INVAL_FOLDER events seen on the bus */

static struct sql_db *locate(void *ctx, int64_t cid, struct storage_context *ctx_r,
                             struct storage_error *err)
{
	locates++;
	if (cid != CID) {
		err->status = STORAGE_NO_CONTEXT;
		snprintf(err->message, sizeof(err->message), "context %lld does not exist",
		         (long long)cid);
		return NULL;
	}
	ctx_r->quota_mb = 0;
	ctx_r->quota_bytes = 0;
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s/files", dir);
	return db;
}

static void count_folder_event(const struct inval_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	folder_events++;
}

static void teardown(void)
{
	storage_destroy(&storage);
	inval_bus_destroy(&bus);
	sql_db_close(&db);
	test_storage_fixture_rmdir(dir);
	pool_destroy(&pool);
}

/* Context 1 with alice and bob (their roots and defaults), alice's folder SHARED visible to
   bob; a storage over it with caches, on a bus. */
static void setup(void)
{
	struct sql_error err;
	struct sql_conn *conn;

	teardown();
	pool = pool_create(0);
	test_storage_fixture_mkdir(dir, sizeof(dir), "test-storage");
	test_storage_fixture_open(dir, false, &db, &conn);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_storage_fixture_add_context(conn, CID, 200);
	test_storage_fixture_add_user(conn, CID, ALICE, "alice", true);
	test_storage_fixture_add_user(conn, CID, BOB, "bob", true);
	test_storage_fixture_add_folder(conn, CID, SHARED, FOLDER_ID_FILES, ALICE, "infostore",
	                                "Shared");
	test_storage_fixture_grant(conn, CID, SHARED, BOB, FOLDER_BITS(1, 2, 0, 0, 0));
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO filestore_usage (cid, used_bytes) VALUES (?, 0)", "i",
	                    (int64_t)CID) == 0);
	test_assert(sql_commit(conn, &err) == 0);
	sql_conn_put(&conn);

	bus = inval_bus_create();
	inval_subscribe(bus, INVAL_FOLDER, count_folder_event, NULL);
	struct storage_settings set = {.locate = locate,
	                               .inval = bus,
	                               .folder_cache_max = 32,
	                               .group_cache_max = 8,
	                               .cache_ttl_ms = 60000};
	storage = storage_create(&set);
	locates = 0;
	folder_events = 0;
}

/* --- the transaction wrapper --- */

struct attempts {
	unsigned runs;
	unsigned busy_runs;       /* the first this many runs fail with BUSY */
	bool refuse;              /* roll back with err left empty */
	enum sql_error_kind fail; /* roll back with this error (NONE: do not) */
};

/* Adds a folder-less marker row, then decides. */
static int marker_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	static int64_t next_id;
	struct attempts *a = ctx;
	a->runs++;
	if (sql_run(conn, err,
	            "INSERT INTO tombstone (cid, module, id, deleted) VALUES "
	            "(?, 'test', ?, 0)",
	            "ii", (int64_t)CID, ++next_id) < 0)
		return -1;
	if (a->runs <= a->busy_runs) {
		sql_error_set(err, SQL_ERR_BUSY, 5, "database is locked (test)");
		return -1;
	}
	if (a->refuse)
		return -1;
	if (a->fail != SQL_ERR_NONE) {
		sql_error_set(err, a->fail, 1, "failed (test)");
		return -1;
	}
	return 0;
}

static int64_t markers(void)
{
	struct sql_error err;
	struct sql_conn *conn;
	int64_t n = -1;
	test_assert(sql_conn_get(db, SQL_READ, CID, &conn, &err) == 0);
	test_assert(sql_query_int64(conn, &err, &n,
	                            "SELECT COUNT(*) FROM tombstone WHERE module = 'test'",
	                            "") == 1);
	sql_conn_put(&conn);
	return n;
}

static void test_busy_retry(void)
{
	struct storage_error err;
	setup();
	struct storage_user *u = storage_user_create(storage, pool, CID, ALICE);
	test_assert_int_eq(storage_user_cid(u), CID);
	test_assert_int_eq(storage_user_uid(u), ALICE);

	/* busy twice, then through: one commit, nothing left of the failed attempts */
	struct attempts a = {.busy_runs = 2};
	test_assert_int_eq(storage_transaction(u, true, marker_txn, &a, &err), 0);
	test_assert_int_eq(a.runs, 3);
	test_assert_int_eq(markers(), 1);

	/* busy every time: given up after the retries, and reported as unavailable */
	struct attempts always = {.busy_runs = 100};
	test_assert_int_eq(storage_transaction(u, true, marker_txn, &always, &err), -1);
	test_assert_int_eq(always.runs, 6);
	test_assert_int_eq(err.status, STORAGE_UNAVAILABLE);
	test_assert(strstr(err.message, "locked") != NULL);
	test_assert_str_eq(err.kind, "busy");
	test_assert_int_eq(markers(), 1);
	/* the context was found once for all of it */
	test_assert_int_eq(locates, 1);
}

static void test_typed_errors(void)
{
	struct storage_error err;
	setup();
	struct storage_user *u = storage_user_create(storage, pool, CID, ALICE);

	/* a refusal: rolled back, not retried */
	struct attempts refuse = {.refuse = true};
	test_assert_int_eq(storage_transaction(u, true, marker_txn, &refuse, &err), -1);
	test_assert_int_eq(refuse.runs, 1);
	test_assert_int_eq(err.status, STORAGE_REFUSED);
	test_assert_int_eq(markers(), 0);

	struct attempts other = {.fail = SQL_ERR_OTHER};
	test_assert_int_eq(storage_transaction(u, true, marker_txn, &other, &err), -1);
	test_assert_int_eq(other.runs, 1);
	test_assert_int_eq(err.status, STORAGE_FAILED);

	struct attempts lost = {.fail = SQL_ERR_CONNECTION};
	test_assert_int_eq(storage_transaction(u, false, marker_txn, &lost, &err), -1);
	test_assert_int_eq(err.status, STORAGE_UNAVAILABLE);

	struct attempts ro = {.fail = SQL_ERR_READ_ONLY};
	test_assert_int_eq(storage_transaction(u, true, marker_txn, &ro, &err), -1);
	test_assert_int_eq(err.status, STORAGE_READ_ONLY);

	/* a context that does not exist: the locate callback's answer, and no transaction */
	struct storage_user *nobody = storage_user_create(storage, pool, NO_CID, ALICE);
	struct attempts none = {0};
	test_assert_int_eq(storage_transaction(nobody, false, marker_txn, &none, &err), -1);
	test_assert_int_eq(none.runs, 0);
	test_assert_int_eq(err.status, STORAGE_NO_CONTEXT);
	test_assert_str_eq(err.message, "context 9 does not exist");
	test_assert(storage_user_context(nobody, &err) == NULL);

	/* a folder refusal keeps folder.c's reason */
	struct folder_error fe;
	struct folder *f;
	test_assert_int_eq(storage_folder_get(u, 9999, &f, &fe, &err), -1);
	test_assert_int_eq(err.status, STORAGE_REFUSED);
	test_assert_int_eq(fe.status, FOLDER_NOT_FOUND);
}

/* --- caches and invalidation --- */

static uint64_t entries(size_t which)
{
	struct cache *caches[2];
	struct cache_stats st;
	test_assert_int_eq(storage_caches(storage, caches, 2), 2);
	cache_get_stats(caches[which], &st);
	return st.entries;
}

/* bob's rights on SHARED, read as the file API does: fills both caches. */
static void warm(void)
{
	struct sql_error err;
	struct sql_conn *conn;
	struct folder_perm perm;
	test_assert(sql_conn_get(db, SQL_READ, CID, &conn, &err) == 0);
	test_assert_int_eq(folder_access(conn, CID, BOB, SHARED, &perm, &err), 1);
	sql_conn_put(&conn);
	test_assert_int_eq(perm.read, 2);
	test_assert_int_eq(entries(0), 1);
	test_assert_int_eq(entries(1), 1);
}

static void test_cache_drop(void)
{
	setup();
	struct cache *caches[4];
	test_assert_int_eq(storage_caches(storage, caches, 4), 2);
	test_assert_str_eq(cache_name(caches[0]), "folder");
	test_assert_str_eq(cache_name(caches[1]), "group");

	/* through the entry point: a folder event drops that folder only */
	warm();
	struct inval_event ev = {.region = INVAL_FOLDER, .cid = CID, .key = SHARED};
	storage_on_event(storage, &ev);
	test_assert_int_eq(entries(0), 0);
	test_assert_int_eq(entries(1), 1);
	/* a user event drops that user's groups */
	ev = (struct inval_event){.region = INVAL_USER, .cid = CID, .key = BOB};
	storage_on_event(storage, &ev);
	test_assert_int_eq(entries(1), 0);

	/* through the bus it subscribed to: another context's event leaves ours alone */
	warm();
	inval_publish(bus, INVAL_CONTEXT, CID + 1, 0);
	test_assert_int_eq(entries(0), 1);
	inval_publish(bus, INVAL_CONTEXT, CID, 0);
	test_assert_int_eq(entries(0), 0);
	test_assert_int_eq(entries(1), 0);
	warm();
	inval_publish(bus, INVAL_GROUP, CID, 5);
	test_assert_int_eq(entries(1), 0);
	test_assert_int_eq(entries(0), 1);
	inval_flush_all(bus);
	test_assert_int_eq(entries(0), 0);

	/* a change through the storage user is announced on the bus after its commit, and
	   drops the entry there */
	warm();
	struct storage_error err;
	struct folder_error fe;
	struct folder *f;
	struct storage_folder_update up = {.change = {.title = "Renamed"}};
	struct storage_user *alice = storage_user_create(storage, pool, CID, ALICE);
	test_assert_int_eq(storage_folder_update(alice, SHARED, &up, &f, &fe, &err), 0);
	test_assert_str_eq(f->title, "Renamed");
	test_assert(folder_events >= 1);
	test_assert_int_eq(entries(0), 0);
	/* a refused change announces nothing */
	warm();
	unsigned before = folder_events;
	struct storage_user *bob = storage_user_create(storage, pool, CID, BOB);
	up.change.title = "Mine now";
	test_assert_int_eq(storage_folder_update(bob, SHARED, &up, &f, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_FORBIDDEN);
	test_assert_int_eq(folder_events, before);
	test_assert_int_eq(entries(0), 1);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"busy_retry", test_busy_retry},
	    {"typed_errors", test_typed_errors},
	    {"cache_drop", test_cache_drop},
	    {NULL, NULL},
	};
	int ret = test_run(cases);
	teardown();
	return ret;
}
