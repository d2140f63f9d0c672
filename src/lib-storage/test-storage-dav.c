/* SPDX-License-Identifier: MIT */
/* Unit tests for storage-dav.c on a SQLite user schema: paged members with a constant page
   size, lookups by id and by name, ETags, quota, and what a viewer may not do. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filestore.h"
#include "folder.h"
#include "migrate.h"
#include "pool.h"
#include "schema.h"
#include "sql.h"
#include "storage-dav.h"
#include "storage-file.h"
#include "storage-folder.h"
#include "storage-props.h"
#include "storage.h"
#include "test-storage-fixture.h"
#include "test.h"

#define CID    1
#define ALICE  1
#define BOB    2
#define SHARED 100 /* alice's, bob may see and read all */
#define BIG    101 /* alice's, 1,000 files */
#define NFILES 1000

static char dir[256];
static struct sql_db *db;
static struct pool *pool;
static struct storage *storage;
static int64_t quota_bytes;

static struct sql_db *locate(void *ctx, int64_t cid, struct storage_context *ctx_r,
                             struct storage_error *err)
{
	ctx_r->quota_bytes = quota_bytes;
	ctx_r->quota_mb = quota_bytes / (1024 * 1024);
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s/files", dir);
	return db;
}

static void add_folder(struct sql_conn *conn, int64_t id, int64_t parent, const char *title,
                       int64_t bob_bits)
{
	test_storage_fixture_add_folder(conn, CID, id, parent, ALICE, "infostore", title);
	if (bob_bits != 0)
		test_storage_fixture_grant(conn, CID, id, BOB, bob_bits);
}

/* The user's "My files": the root of a walk without segments. */
static int64_t home_of(struct storage_user *user)
{
	struct storage_dav_walk w;
	struct storage_error err;
	test_assert_int_eq(storage_dav_walk(user, STORAGE_DAV_HOME, NULL, 0, false, &w, &err), 0);
	test_assert_int_eq(w.found, STORAGE_DAV_FOLDER);
	return w.entry.id;
}

static void teardown(void)
{
	storage_destroy(&storage);
	sql_db_close(&db);
	test_storage_fixture_rmdir(dir);
	pool_destroy(&pool);
}

/* Context 1 with alice and bob; alice's SHARED (bob: see, read all) below "Files" with a
   subfolder "Sub", and BIG with NFILES rows (no content: listings only read rows). SQLite in a
   temp dir, or the database TANDEM_TEST_SQL_URL names (emptied first); the filestore in the
   temp dir. */
static void setup(void)
{
	static const char *const tables[] = {
	    "ctx_sequence",
	    "users",
	    "user_group",
	    "group_member",
	    "tombstone",
	    "filestore_usage",
	    "filestore_reservation",
	    "folder",
	    "folder_permission",
	    "infostore",
	    "infostore_version",
	    "dav_props",
	};
	struct sql_error err;
	struct sql_conn *conn;
	char path[400];

	teardown();
	pool = pool_create(0);
	quota_bytes = 0;
	test_storage_fixture_mkdir(dir, sizeof(dir), "test-storage-dav");
	snprintf(path, sizeof(path), "%s/files", dir);
	test_assert(mkdir(path, 0750) == 0);
	snprintf(path, sizeof(path), "%s/files/1_ctx_store", dir);
	test_assert(mkdir(path, 0750) == 0);
	test_storage_fixture_open(dir, true, &db, &conn);
	test_storage_fixture_clear(conn, tables, sizeof(tables) / sizeof(tables[0]), 0);
	test_assert(sql_begin(conn, true, &err) == 0);
	test_storage_fixture_add_context(conn, CID, 200);
	test_storage_fixture_add_user(conn, CID, ALICE, "alice", true);
	test_storage_fixture_add_user(conn, CID, BOB, "bob", true);
	add_folder(conn, SHARED, FOLDER_ID_FILES, "Shared", FOLDER_BITS(1, 2, 0, 0, 0));
	add_folder(conn, 102, SHARED, "Sub", FOLDER_BITS(1, 2, 0, 0, 0));
	add_folder(conn, BIG, FOLDER_ID_FILES, "Big", 0);
	for (int64_t i = 0; i < NFILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%04lld.txt", (long long)(NFILES - 1 - i));
		test_assert(
		    sql_run(conn, &err,
		            "INSERT INTO infostore (cid, id, folder, name, version, size, md5, "
		            "content_type, created, modified, created_by, modified_by) VALUES "
		            "(?, ?, ?, ?, 1, ?, 'd41d8cd98f00b204e9800998ecf8427e', "
		            "'text/plain', 10, 20, ?, ?)",
		            "iiisiii", (int64_t)CID, 1000 + i, (int64_t)BIG, name, i,
		            (int64_t)ALICE, (int64_t)ALICE) == 0);
	}
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO filestore_usage (cid, used_bytes) VALUES (?, 0)", "i",
	                    (int64_t)CID) == 0);
	test_assert(sql_commit(conn, &err) == 0);
	sql_conn_put(&conn);

	struct storage_settings set = {.locate = locate, .body_timeout_s = 30};
	storage = storage_create(&set);
}

/* Stores data as name in folder through the upload steps, as the JSON API does. */
static int upload(struct storage_user *u, int64_t folder, const char *name, const char *data,
                  struct infostore_file *file_r, struct storage_error *err)
{
	struct filestore_temp *temp;
	const char *error;
	struct folder_perm perm;
	char root[600];
	snprintf(root, sizeof(root), "%s/files", dir);
	if (storage_file_upload_check(u, folder, &perm, err) < 0)
		return -1;
	test_assert(filestore_temp_create(root, CID, &temp, &error) == 0);
	test_assert(filestore_temp_write(temp, data, strlen(data)) == 0);
	struct storage_file_upload up = {.folder = folder,
	                                 .name = name,
	                                 .content_type = "text/plain",
	                                 .perm = &perm,
	                                 .temp = temp};
	int r = storage_file_upload_publish(u, &up, err);
	filestore_temp_destroy(&temp);
	if (r == 0 && file_r != NULL)
		*file_r = up.file;
	return r;
}

/* --- paged members --- */

static void test_paging(void)
{
	struct storage_error err;
	setup();
	struct storage_user *alice = storage_user_create(storage, pool, CID, ALICE);
	struct storage_dav_cursor cursor = {0};
	struct storage_dav_entry page[7];
	size_t count, total = 0, pages = 0;
	char last[INFOSTORE_NAME_MAX + 1] = "";
	size_t used = 0;
	while (!cursor.done) {
		test_assert_int_eq(storage_dav_children(alice, BIG, &cursor, page, 7, &count, &err),
		                   0);
		test_assert(count <= 7);
		test_assert(count == 7 || cursor.done);
		for (size_t i = 0; i < count; i++) {
			/* in order, each once, all fields there */
			test_assert(!page[i].collection);
			test_assert(strcmp(page[i].name, last) > 0);
			snprintf(last, sizeof(last), "%s", page[i].name);
			test_assert_int_eq(page[i].parent, BIG);
			test_assert_str_eq(page[i].content_type, "text/plain");
			test_assert_int_eq(page[i].created, 10);
			test_assert_int_eq(page[i].modified, 20);
			test_assert_int_eq(page[i].version, 1);
			test_assert(page[i].etag[0] == '"');
		}
		total += count;
		pages++;
		/* the request's pool does not grow with the pages */
		if (pages == 2)
			used = pool_used(pool);
		if (pages > 2)
			test_assert_int_eq(pool_used(pool), used);
		test_assert(pages <= NFILES / 7 + 2);
	}
	test_assert_int_eq(total, NFILES);
	test_assert_str_eq(last, "f0999.txt");
	/* after the end: nothing more */
	test_assert_int_eq(storage_dav_children(alice, BIG, &cursor, page, 7, &count, &err), 0);
	test_assert_int_eq(count, 0);

	/* subfolders first, then files; bob sees SHARED's, not BIG at all */
	struct storage_user *bob = storage_user_create(storage, pool, CID, BOB);
	struct infostore_file f;
	test_assert_int_eq(upload(alice, SHARED, "b.txt", "bee", &f, &err), 0);
	test_assert_int_eq(upload(alice, SHARED, "a.txt", "ay", NULL, &err), 0);
	memset(&cursor, 0, sizeof(cursor));
	test_assert_int_eq(storage_dav_children(bob, SHARED, &cursor, page, 2, &count, &err), 0);
	test_assert_int_eq(count, 2);
	test_assert(page[0].collection && page[0].id == 102);
	test_assert_str_eq(page[0].name, "Sub");
	test_assert_str_eq(page[0].module, "infostore");
	test_assert(!page[1].collection);
	test_assert_str_eq(page[1].name, "a.txt");
	test_assert(!cursor.done);
	test_assert_int_eq(storage_dav_children(bob, SHARED, &cursor, page, 2, &count, &err), 0);
	test_assert_int_eq(count, 1);
	test_assert_str_eq(page[0].name, "b.txt");
	test_assert_int_eq(page[0].size, 3);
	test_assert(!page[0].own);
	test_assert(cursor.done);
	memset(&cursor, 0, sizeof(cursor));
	test_assert_int_eq(storage_dav_children(bob, BIG, &cursor, page, 2, &count, &err), -1);
	test_assert_int_eq(err.status, STORAGE_REFUSED);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
}

/* --- lookups, ETags, home, quota --- */

static void test_lookups(void)
{
	struct storage_error err;
	struct storage_dav_entry e, e2;
	struct infostore_file f;
	setup();
	struct storage_user *alice = storage_user_create(storage, pool, CID, ALICE);
	struct storage_user *bob = storage_user_create(storage, pool, CID, BOB);

	int64_t home = home_of(alice), bob_home = home_of(bob);
	test_assert(home > FOLDER_ID_MAX_SYSTEM && bob_home > FOLDER_ID_MAX_SYSTEM &&
	            home != bob_home);
	test_assert_int_eq(storage_dav_folder_get(alice, home, &e, &err), 0);
	test_assert(e.collection && e.own && e.rights.admin);
	test_assert_str_eq(e.etag, "");

	/* lock anchors: whoever asks, from the owner's home, the public root or the top */
	const char *anchor;
	char want[64];
	snprintf(want, sizeof(want), "/dav/files/home/%d", ALICE);
	test_assert_int_eq(storage_dav_lock_anchor(bob, home, pool, &anchor, &err), 0);
	test_assert_str_eq(anchor, want);
	test_assert_int_eq(storage_dav_lock_anchor(bob, 102, pool, &anchor, &err), 0);
	test_assert_str_eq(anchor, "/dav/o/4/Shared/Sub");
	test_assert_int_eq(storage_dav_lock_anchor(alice, FOLDER_ID_PUBLIC, pool, &anchor, &err),
	                   0);
	test_assert_str_eq(anchor, "/dav/files/public");
	test_assert_int_eq(storage_dav_lock_anchor(alice, 999999, pool, &anchor, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);

	/* by (parent, title): exact bytes, only what the user's tree shows there */
	test_assert_int_eq(storage_dav_folder_find(alice, SHARED, "Sub", &e, &err), 0);
	test_assert_int_eq(e.id, 102);
	test_assert_int_eq(storage_dav_folder_find(alice, SHARED, "sub", &e, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert_int_eq(storage_dav_folder_find(bob, SHARED, "Sub", &e, &err), 0);
	test_assert(!e.own && !e.rights.admin);
	test_assert_int_eq(storage_dav_folder_find(bob, FOLDER_ID_FILES, "Big", &e, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert_int_eq(storage_dav_folder_get(bob, BIG, &e, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);

	/* files by (folder, name) and by id; the ETag follows the version */
	test_assert_int_eq(upload(alice, SHARED, "c.txt", "one", &f, &err), 0);
	test_assert_int_eq(storage_dav_file_find(bob, SHARED, "c.txt", &e, &err), 0);
	test_assert_int_eq(e.id, f.id);
	test_assert_int_eq(e.size, 3);
	test_assert_str_eq(e.md5, f.md5);
	test_assert_int_eq(storage_dav_file_get(alice, f.id, &e2, &err), 0);
	test_assert_str_eq(e.etag, e2.etag);
	test_assert(e2.own && !e.own);
	test_assert_int_eq(upload(alice, SHARED, "c.txt", "two", &f, &err), 0);
	test_assert_int_eq(storage_dav_file_get(alice, f.id, &e2, &err), 0);
	test_assert_int_eq(e2.version, 2);
	test_assert(strcmp(e.etag, e2.etag) != 0);
	test_assert_int_eq(storage_dav_file_find(alice, SHARED, "nope.txt", &e, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert_int_eq(storage_dav_file_find(bob, BIG, "f0001.txt", &e, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert_int_eq(storage_dav_file_get(bob, 1001, &e, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);

	/* a whole path in one call; the ETag built from the upload's row is getetag's */
	char etag[STORAGE_DAV_ETAG_SIZE];
	storage_dav_etag(&f, etag);
	test_assert_str_eq(etag, e2.etag);
	struct storage_dav_walk w;
	test_assert_int_eq(storage_dav_walk(alice, STORAGE_DAV_HOME, NULL, 0, false, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_FOLDER && w.entry.id == home);
	const char *sub[] = {"Sub"}, *file[] = {"c.txt"}, *gone[] = {"nope", "x"};
	const char *below[] = {"Sub", "x.txt"};
	test_assert_int_eq(storage_dav_walk(bob, SHARED, sub, 1, true, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_FOLDER && w.entry.id == 102 && w.parent == SHARED);
	test_assert_int_eq(storage_dav_walk(bob, SHARED, file, 1, false, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_FILE && w.entry.id == f.id && w.parent == SHARED);
	test_assert_str_eq(w.entry.etag, e2.etag);
	test_assert_int_eq(storage_dav_walk(bob, SHARED, file, 1, true, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_FILE && w.entry.id == f.id);
	test_assert_int_eq(storage_dav_walk(alice, SHARED, below, 2, false, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_NONE && w.parent == 102 && !w.parent_missing);
	test_assert_int_eq(storage_dav_walk(alice, SHARED, gone, 2, false, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_NONE && w.parent == 0 && w.parent_missing);
	test_assert_int_eq(storage_dav_walk(bob, BIG, NULL, 0, false, &w, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert_int_eq(storage_dav_walk(bob, BIG, file, 1, false, &w, &err), 0);
	test_assert(w.found == STORAGE_DAV_NONE);

	/* quota: used counts every version; unlimited is -1 */
	int64_t used, avail;
	test_assert_int_eq(storage_dav_quota(alice, &used, &avail, &err), 0);
	test_assert_int_eq(used, 6);
	test_assert_int_eq(avail, -1);
	quota_bytes = 100;
	struct storage_user *again = storage_user_create(storage, pool, CID, ALICE);
	test_assert_int_eq(storage_dav_quota(again, &used, &avail, &err), 0);
	test_assert_int_eq(used, 6);
	test_assert_int_eq(avail, 94);
}

/* --- dead properties --- */

static size_t props_of(struct storage_user *u, enum dav_props_kind kind, int64_t id)
{
	struct storage_error err;
	struct dav_prop *props;
	size_t count;
	test_assert_int_eq(storage_props_get(u, kind, id, NULL, 0, &props, &count, &err), 0);
	return count;
}

static void test_props(void)
{
	struct storage_error err;
	struct infostore_file f, f2;
	struct dav_prop *got;
	size_t count, failed;
	setup();
	struct storage_user *alice = storage_user_create(storage, pool, CID, ALICE);
	struct storage_user *bob = storage_user_create(storage, pool, CID, BOB);
	test_assert_int_eq(upload(alice, SHARED, "p.txt", "props", &f, &err), 0);

	/* ordered set/remove: the later op wins */
	struct dav_prop ops[] = {
	    {"urn:x", "color", "<x:c xmlns:x=\"urn:x\">red</x:c>"},
	    {"", "plain", "v"},
	    {"urn:x", "color", NULL},
	    {"urn:x", "color", "blue"},
	    {"urn:x", "Color", "case matters"},
	};
	test_assert_int_eq(storage_props_patch(alice, DAV_PROPS_FILE, f.id, ops, 5, &failed, &err),
	                   0);
	test_assert_int_eq(
	    storage_props_get(alice, DAV_PROPS_FILE, f.id, NULL, 0, &got, &count, &err), 0);
	test_assert_int_eq(count, 3);
	test_assert_str_eq(got[0].ns, "");
	test_assert_str_eq(got[0].name, "plain");
	test_assert_str_eq(got[1].name, "Color");
	test_assert_str_eq(got[2].name, "color");
	test_assert_str_eq(got[2].value, "blue");
	/* named: only those that exist; bob may read them, not change them */
	struct dav_prop names[] = {{"urn:x", "color", NULL}, {"urn:x", "nope", NULL}};
	test_assert_int_eq(
	    storage_props_get(bob, DAV_PROPS_FILE, f.id, names, 2, &got, &count, &err), 0);
	test_assert_int_eq(count, 1);
	test_assert_str_eq(got[0].value, "blue");
	/* with a page of members: each member's own, in the listing's transaction */
	test_assert_int_eq(upload(alice, SHARED, "q.txt", "none", &f2, &err), 0);
	struct storage_dav_cursor cursor = {0};
	struct storage_dav_entry page[8];
	size_t listed, seen = 0;
	test_assert_int_eq(
	    storage_dav_children_props(bob, SHARED, &cursor, page, 8, names, 2, &listed, &err), 0);
	for (size_t i = 0; i < listed; i++) {
		if (strcmp(page[i].name, "p.txt") == 0) {
			test_assert_int_eq(page[i].dead_count, 1);
			test_assert_str_eq(page[i].dead[0].value, "blue");
			seen++;
		} else {
			test_assert_int_eq(page[i].dead_count, 0);
			seen += strcmp(page[i].name, "q.txt") == 0;
		}
	}
	test_assert_int_eq(seen, 2);
	memset(&cursor, 0, sizeof(cursor));
	test_assert_int_eq(
	    storage_dav_children_props(alice, SHARED, &cursor, page, 8, NULL, 0, &listed, &err), 0);
	for (size_t i = 0; i < listed; i++)
		if (strcmp(page[i].name, "p.txt") == 0)
			test_assert_int_eq(page[i].dead_count, 3);
	struct dav_prop mine = {"urn:x", "bob", "x"};
	test_assert_int_eq(storage_props_patch(bob, DAV_PROPS_FILE, f.id, &mine, 1, &failed, &err),
	                   -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert_int_eq(
	    storage_props_patch(bob, DAV_PROPS_FOLDER, SHARED, &mine, 1, &failed, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert_int_eq(
	    storage_props_get(bob, DAV_PROPS_FOLDER, BIG, NULL, 0, &got, &count, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);

	/* bounds: each names itself, and nothing of the patch stays */
	char *big = pool_alloc(pool, DAV_PROPS_VALUE_MAX + 2);
	memset(big, 'v', DAV_PROPS_VALUE_MAX + 1);
	big[DAV_PROPS_VALUE_MAX + 1] = '\0';
	char *long_name = pool_alloc(pool, 300);
	memset(long_name, 'n', 256);
	long_name[256] = '\0';
	struct dav_prop bad[] = {{"urn:x", "new", "1"}, {"urn:x", "big", big}};
	test_assert_int_eq(storage_props_patch(alice, DAV_PROPS_FILE, f.id, bad, 2, &failed, &err),
	                   -1);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_PROP_BOUND);
	test_assert_int_eq(failed, 1);
	test_assert(strstr(err.message, "65536") != NULL);
	bad[1].value = big + 1; /* exactly 64 KiB fits */
	bad[0].name = long_name;
	test_assert_int_eq(storage_props_patch(alice, DAV_PROPS_FILE, f.id, bad, 2, &failed, &err),
	                   -1);
	test_assert_int_eq(failed, 0);
	test_assert(strstr(err.message, "255") != NULL);
	test_assert_int_eq(props_of(alice, DAV_PROPS_FILE, f.id), 3);
	bad[0].name = "new";
	test_assert_int_eq(storage_props_patch(alice, DAV_PROPS_FILE, f.id, bad, 2, &failed, &err),
	                   0);
	test_assert_int_eq(props_of(alice, DAV_PROPS_FILE, f.id), 5);

	/* at most DAV_PROPS_MAX per object: one more is refused whole */
	struct dav_prop *many = pool_calloc(pool, DAV_PROPS_MAX, sizeof(*many));
	for (size_t i = 0; i < DAV_PROPS_MAX; i++) {
		many[i].ns = "urn:m";
		many[i].name = pool_printf(pool, "p%zu", i);
		many[i].value = "x";
	}
	test_assert_int_eq(storage_props_patch(alice, DAV_PROPS_FOLDER, SHARED, many, DAV_PROPS_MAX,
	                                       &failed, &err),
	                   0);
	test_assert_int_eq(props_of(alice, DAV_PROPS_FOLDER, SHARED), DAV_PROPS_MAX);
	struct dav_prop one_more[] = {
	    {"urn:m", "p0", NULL}, {"urn:m", "x1", "1"}, {"urn:m", "x2", "2"}};
	test_assert_int_eq(
	    storage_props_patch(alice, DAV_PROPS_FOLDER, SHARED, one_more, 3, &failed, &err), -1);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_PROP_BOUND);
	test_assert_int_eq(failed, 3);
	test_assert(strstr(err.message, "256") != NULL);
	test_assert_int_eq(props_of(alice, DAV_PROPS_FOLDER, SHARED), DAV_PROPS_MAX);
	test_assert_int_eq(
	    storage_props_patch(alice, DAV_PROPS_FOLDER, SHARED, one_more, 2, &failed, &err), 0);
	/* several folders at once: bob's view, BIG (which he cannot see) has none */
	const int64_t ids[] = {BIG, SHARED};
	const struct dav_prop x1 = {"urn:m", "x1", NULL};
	struct dav_prop *each[2];
	size_t counts[2];
	test_assert_int_eq(storage_props_get_folders(bob, ids, 2, &x1, 1, each, counts, &err), 0);
	test_assert_int_eq(counts[0], 0);
	test_assert_int_eq(counts[1], 1);
	test_assert_str_eq(each[1][0].value, "1");

	/* deleted with their object */
	test_assert_int_eq(storage_file_delete(alice, f.id, &err), 0);
	struct folder_error fe;
	struct folder *sub;
	test_assert_int_eq(
	    storage_folder_create(alice, SHARED, "Gone", NULL, NULL, &sub, &fe, &err), 0);
	test_assert_int_eq(
	    storage_props_patch(alice, DAV_PROPS_FOLDER, sub->id, &mine, 1, &failed, &err), 0);
	test_assert_int_eq(storage_folder_delete(alice, SHARED, &fe, &err), 0);
	struct sql_error se;
	struct sql_conn *conn;
	int64_t left = -1;
	test_assert(sql_conn_get(db, SQL_READ, CID, &conn, &se) == 0);
	test_assert(sql_query_int64(conn, &se, &left, "SELECT COUNT(*) FROM dav_props", "") == 1);
	sql_conn_put(&conn);
	test_assert_int_eq(left, 0);
}

/* --- move and copy --- */

static void read_content(struct storage_user *u, int64_t id, char *buf, size_t size)
{
	struct storage_error err;
	struct infostore_file f;
	struct infostore_version v;
	int fd;
	test_assert_int_eq(storage_file_open(u, id, 0, &f, &v, &fd, &err), 0);
	ssize_t n = read(fd, buf, size - 1);
	test_assert(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static size_t counted;

static int count_file(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_F)
		counted++;
	return 0;
}

/* Files in the context store (stored versions and temp files). */
static size_t stored_files(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/files/1_ctx_store", dir);
	counted = 0;
	test_assert(nftw(path, count_file, 16, FTW_PHYS) == 0);
	return counted;
}

static void test_move_copy(void)
{
	struct storage_error err;
	struct infostore_file a, b, c;
	struct storage_dav_entry e;
	char buf[64];
	size_t failed;
	setup();
	struct storage_user *alice = storage_user_create(storage, pool, CID, ALICE);
	struct storage_user *bob = storage_user_create(storage, pool, CID, BOB);
	test_assert_int_eq(upload(alice, SHARED, "a.txt", "alpha", &a, &err), 0);
	test_assert_int_eq(upload(alice, SHARED, "b.txt", "beta", &b, &err), 0);
	test_assert_int_eq(upload(alice, BIG, "c.txt", "gamma", &c, &err), 0);
	struct dav_prop prop = {"urn:x", "tag", "t"};
	test_assert_int_eq(
	    storage_props_patch(alice, DAV_PROPS_FILE, a.id, &prop, 1, &failed, &err), 0);

	/* a viewer may neither move out, nor copy in, nor delete */
	struct storage_file_place to = {.folder = BIG, .name = "x.txt"};
	test_assert_int_eq(storage_file_move(bob, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	to = (struct storage_file_place){.folder = SHARED, .name = "x.txt"};
	test_assert_int_eq(storage_file_copy(bob, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert_int_eq(storage_file_delete(bob, a.id, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	/* nor see what they cannot see */
	to = (struct storage_file_place){.folder = SHARED, .name = "x.txt"};
	test_assert_int_eq(storage_file_copy(bob, c.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);

	/* rename: same id, props along, ETag kept */
	test_assert_int_eq(storage_dav_file_get(alice, a.id, &e, &err), 0);
	to = (struct storage_file_place){.folder = SHARED, .name = "a2.txt"};
	test_assert_int_eq(storage_file_move(alice, a.id, &to, &err), 0);
	test_assert_int_eq(to.file.id, a.id);
	test_assert_str_eq(to.file.name, "a2.txt");
	test_assert(!to.replaced);
	struct storage_dav_entry moved;
	test_assert_int_eq(storage_dav_file_find(alice, SHARED, "a2.txt", &moved, &err), 0);
	test_assert_str_eq(moved.etag, e.etag);
	test_assert_int_eq(storage_dav_file_find(alice, SHARED, "a.txt", &moved, &err), -1);
	/* a bad name, a taken name */
	to = (struct storage_file_place){.folder = SHARED, .name = "a/b"};
	test_assert_int_eq(storage_file_move(alice, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_INVALID);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_NONE);
	to = (struct storage_file_place){.folder = SHARED, .name = "b.txt"};
	test_assert_int_eq(storage_file_move(alice, a.id, &to, &err), -1);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_EXISTS);
	/* into a system folder, into a folder not there */
	to = (struct storage_file_place){.folder = FOLDER_ID_FILES, .name = "z"};
	test_assert_int_eq(storage_file_move(alice, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	to = (struct storage_file_place){.folder = 999, .name = "z"};
	test_assert_int_eq(storage_file_move(alice, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	/* overwrite: the target goes (with its content) in the same transaction */
	size_t before = stored_files();
	to = (struct storage_file_place){.folder = BIG, .name = "c.txt", .overwrite = true};
	test_assert_int_eq(storage_file_move(alice, a.id, &to, &err), 0);
	test_assert(to.replaced);
	test_assert_int_eq(stored_files(), before - 1);
	test_assert_int_eq(storage_dav_file_get(alice, c.id, &e, &err), -1);
	read_content(alice, a.id, buf, sizeof(buf));
	test_assert_str_eq(buf, "alpha");

	/* copy: new id, same bytes and type, props copied, charged */
	int64_t used0, used1, avail;
	test_assert_int_eq(storage_dav_quota(alice, &used0, &avail, &err), 0);
	to = (struct storage_file_place){.folder = SHARED, .name = "copy.txt"};
	test_assert_int_eq(storage_file_copy(alice, a.id, &to, &err), 0);
	test_assert(to.file.id != a.id);
	test_assert_int_eq(to.file.version, 1);
	test_assert_str_eq(to.file.md5, a.md5);
	read_content(alice, to.file.id, buf, sizeof(buf));
	test_assert_str_eq(buf, "alpha");
	test_assert_int_eq(storage_dav_quota(alice, &used1, &avail, &err), 0);
	test_assert_int_eq(used1, used0 + 5);
	struct dav_prop *got;
	size_t count;
	test_assert_int_eq(
	    storage_props_get(alice, DAV_PROPS_FILE, to.file.id, NULL, 0, &got, &count, &err), 0);
	test_assert_int_eq(count, 1);
	test_assert_str_eq(got[0].value, "t");
	/* onto itself, onto a taken name */
	to = (struct storage_file_place){.folder = BIG, .name = "c.txt", .overwrite = true};
	test_assert_int_eq(storage_file_copy(alice, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	to = (struct storage_file_place){.folder = SHARED, .name = "b.txt"};
	test_assert_int_eq(storage_file_copy(alice, a.id, &to, &err), -1);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_EXISTS);

	/* over quota: refused, nothing left (no row, no content, no usage) */
	quota_bytes = used1 + 2;
	struct storage_user *tight = storage_user_create(storage, pool, CID, ALICE);
	before = stored_files();
	to = (struct storage_file_place){.folder = SHARED, .name = "over.txt"};
	test_assert_int_eq(storage_file_copy(tight, a.id, &to, &err), -1);
	test_assert_int_eq(err.refusal, STORAGE_OVER_LIMIT);
	test_assert(strstr(err.message, "quota") != NULL);
	test_assert_int_eq(stored_files(), before);
	test_assert_int_eq(storage_dav_file_find(tight, SHARED, "over.txt", &e, &err), -1);
	test_assert_int_eq(storage_dav_quota(tight, &used0, &avail, &err), 0);
	test_assert_int_eq(used0, used1);
	test_assert_int_eq(avail, 2);
	/* overwriting with a copy deletes the old target in the same transaction */
	quota_bytes = 0;
	struct storage_user *free_again = storage_user_create(storage, pool, CID, ALICE);
	to = (struct storage_file_place){.folder = SHARED, .name = "b.txt", .overwrite = true};
	test_assert_int_eq(storage_file_copy(free_again, a.id, &to, &err), 0);
	test_assert(to.replaced);
	read_content(alice, to.file.id, buf, sizeof(buf));
	test_assert_str_eq(buf, "alpha");
	test_assert_int_eq(storage_dav_file_get(alice, b.id, &e, &err), -1);
}

static size_t member_count(struct storage_user *u, int64_t folder)
{
	struct storage_error err;
	struct storage_dav_cursor cursor = {0};
	struct storage_dav_entry page[16];
	size_t count, total = 0;
	while (!cursor.done) {
		test_assert_int_eq(storage_dav_children(u, folder, &cursor, page, 16, &count, &err),
		                   0);
		total += count;
	}
	return total;
}

static void test_folder_move_copy(void)
{
	struct storage_error err;
	struct folder_error fe;
	struct infostore_file a, s1;
	struct storage_dav_entry e;
	char buf[64];
	size_t failed;
	setup();
	struct storage_user *alice = storage_user_create(storage, pool, CID, ALICE);
	struct storage_user *bob = storage_user_create(storage, pool, CID, BOB);
	test_assert_int_eq(upload(alice, SHARED, "a.txt", "alpha", &a, &err), 0);
	test_assert_int_eq(upload(alice, 102, "s.txt", "sub!", &s1, &err), 0);
	struct dav_prop prop = {"urn:x", "f", "folder prop"};
	test_assert_int_eq(
	    storage_props_patch(alice, DAV_PROPS_FOLDER, 102, &prop, 1, &failed, &err), 0);

	/* a viewer may neither move nor copy in */
	struct storage_folder_place to = {.parent = FOLDER_ID_FILES, .title = "Mine"};
	test_assert_int_eq(storage_folder_move(bob, 102, &to, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_FORBIDDEN);
	int64_t bob_home = home_of(bob);
	to = (struct storage_folder_place){.parent = SHARED, .title = "Bobs"};
	test_assert_int_eq(storage_folder_copy(bob, bob_home, &to, true, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_FORBIDDEN);

	/* copy, depth infinity: folders, files, content, props; charged */
	int64_t used0, used1, avail;
	test_assert_int_eq(storage_dav_quota(alice, &used0, &avail, &err), 0);
	to = (struct storage_folder_place){.parent = BIG, .title = "Copy"};
	test_assert_int_eq(storage_folder_copy(alice, SHARED, &to, true, &fe, &err), 0);
	test_assert(to.folder != NULL && to.folder->id != SHARED);
	int64_t copy = to.folder->id;
	test_assert_str_eq(to.folder->title, "Copy");
	test_assert_int_eq(member_count(alice, copy), 2);
	test_assert_int_eq(storage_dav_file_find(alice, copy, "a.txt", &e, &err), 0);
	test_assert(e.id != a.id);
	read_content(alice, e.id, buf, sizeof(buf));
	test_assert_str_eq(buf, "alpha");
	struct storage_dav_entry sub;
	test_assert_int_eq(storage_dav_folder_find(alice, copy, "Sub", &sub, &err), 0);
	test_assert(sub.id != 102);
	test_assert_int_eq(storage_dav_file_find(alice, sub.id, "s.txt", &e, &err), 0);
	read_content(alice, e.id, buf, sizeof(buf));
	test_assert_str_eq(buf, "sub!");
	struct dav_prop *got;
	size_t count;
	test_assert_int_eq(
	    storage_props_get(alice, DAV_PROPS_FOLDER, sub.id, NULL, 0, &got, &count, &err), 0);
	test_assert_int_eq(count, 1);
	test_assert_int_eq(storage_dav_quota(alice, &used1, &avail, &err), 0);
	test_assert_int_eq(used1, used0 + 9);
	/* depth 0: the folder alone */
	to = (struct storage_folder_place){.parent = BIG, .title = "Empty"};
	test_assert_int_eq(storage_folder_copy(alice, SHARED, &to, false, &fe, &err), 0);
	test_assert_int_eq(member_count(alice, to.folder->id), 0);
	/* the title is taken, unless overwrite */
	to = (struct storage_folder_place){.parent = BIG, .title = "copy"};
	test_assert_int_eq(storage_folder_copy(alice, SHARED, &to, true, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_CONFLICT);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_EXISTS);
	/* into itself */
	to = (struct storage_folder_place){.parent = 102, .title = "Loop"};
	test_assert_int_eq(storage_folder_copy(alice, SHARED, &to, true, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_INVALID);
	test_assert_str_eq(fe.field, "parent");
	test_assert(fe.loop);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_LOOP);

	/* over quota: refused, nothing left */
	quota_bytes = used1 + 5;
	struct storage_user *tight = storage_user_create(storage, pool, CID, ALICE);
	size_t before = stored_files();
	to = (struct storage_folder_place){.parent = BIG, .title = "Over"};
	test_assert_int_eq(storage_folder_copy(tight, SHARED, &to, true, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_LIMIT);
	test_assert(strstr(fe.message, "quota") != NULL);
	test_assert_int_eq(stored_files(), before);
	test_assert_int_eq(storage_dav_folder_find(tight, BIG, "Over", &e, &err), -1);
	test_assert_int_eq(storage_dav_quota(tight, &used0, &avail, &err), 0);
	test_assert_int_eq(used0, used1);
	quota_bytes = 0;
	struct storage_user *u2 = storage_user_create(storage, pool, CID, ALICE);

	/* move and rename: same id, props along */
	to = (struct storage_folder_place){.parent = BIG, .title = "Moved"};
	test_assert_int_eq(storage_folder_move(u2, 102, &to, &fe, &err), 0);
	test_assert_int_eq(to.folder->id, 102);
	test_assert_int_eq(to.folder->parent, BIG);
	test_assert_str_eq(to.folder->title, "Moved");
	test_assert_int_eq(
	    storage_props_get(u2, DAV_PROPS_FOLDER, 102, NULL, 0, &got, &count, &err), 0);
	test_assert_int_eq(count, 1);
	/* into itself; onto a taken title; with overwrite that one goes */
	struct folder_error fe2;
	struct folder *inner;
	test_assert_int_eq(storage_folder_create(u2, 102, "Inner", NULL, NULL, &inner, &fe2, &err),
	                   0);
	to = (struct storage_folder_place){.parent = inner->id};
	test_assert_int_eq(storage_folder_move(u2, 102, &to, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_INVALID);
	test_assert(fe.loop);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_LOOP);
	to = (struct storage_folder_place){.title = "Copy"};
	test_assert_int_eq(storage_folder_move(u2, 102, &to, &fe, &err), -1);
	test_assert_int_eq(fe.status, FOLDER_CONFLICT);
	test_assert(!fe.loop);
	test_assert_int_eq(err.detail, STORAGE_DETAIL_EXISTS);
	before = stored_files();
	to = (struct storage_folder_place){.title = "Copy", .overwrite = true};
	test_assert_int_eq(storage_folder_move(u2, 102, &to, &fe, &err), 0);
	test_assert(to.replaced);
	test_assert_str_eq(to.folder->title, "Copy");
	test_assert_int_eq(storage_dav_folder_get(u2, copy, &e, &err), -1);
	test_assert_int_eq(stored_files(), before - 2);
	/* no change at all: just the folder */
	to = (struct storage_folder_place){.parent = BIG, .title = "Copy"};
	test_assert_int_eq(storage_folder_move(u2, 102, &to, &fe, &err), 0);
	test_assert(!to.replaced && to.folder->id == 102);
}

/* A user schema of the release before (version 3) gains the table and keeps its rows. */
static void test_migration(void)
{
	struct sql_error err;
	struct sql_conn *conn;
	char url[400];
	int version;
	int64_t n = 0;
	if (getenv("TANDEM_TEST_SQL_URL") != NULL)
		return; /* SQLite's catalogue below; provisioning's tests migrate MariaDB */
	setup();
	sql_db_close(&db);
	snprintf(url, sizeof(url), "sqlite://%s/old.sqlite", dir);
	test_assert(sql_db_open(url, NULL, true, &db, &err) == 0);
	test_assert(sql_conn_get(db, SQL_WRITE, CID, &conn, &err) == 0);
	test_assert(migrate_apply(conn, "userdb", schema_userdb, 3, &err) == 0);
	test_assert(
	    sql_run(conn, &err, "INSERT INTO ctx_sequence VALUES (?, 77)", "i", (int64_t)CID) == 0);
	test_assert(sql_query_int64(conn, &err, &n,
	                            "SELECT COUNT(*) FROM sqlite_master WHERE name='dav_props'",
	                            "") == 1);
	test_assert_int_eq(n, 0);
	test_assert(migrate_apply(conn, "userdb", schema_userdb, schema_userdb_count, &err) == 0);
	test_assert(migrate_current(conn, "userdb", &version, &err) == 0);
	test_assert_int_eq(version, migrate_latest(schema_userdb, schema_userdb_count));
	test_assert(sql_query_int64(conn, &err, &n, "SELECT next_id FROM ctx_sequence", "") == 1);
	test_assert_int_eq(n, 77);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO dav_props (cid, kind, object, ns, name, value) VALUES "
	                    "(1, 'file', 5, 'urn:x', 'a', 'b')",
	                    "") == 0);
	sql_conn_put(&conn);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"paging", test_paging},
	    {"lookups", test_lookups},
	    {"props", test_props},
	    {"move_copy", test_move_copy},
	    {"folder_move_copy", test_folder_move_copy},
	    {"migration", test_migration},
	    {NULL, NULL},
	};
	test_storage_fixture_print_db();
	int ret = test_run(cases);
	teardown();
	return ret;
}
