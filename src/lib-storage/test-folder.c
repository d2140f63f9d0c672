/* SPDX-License-Identifier: MIT */
/* Unit tests for folder.c on a SQLite user schema: roots and defaults, the permission matrix,
   the shared tree, moves, deletes and input checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "folder.h"
#include "pool.h"
#include "sql.h"
#include "test-storage-fixture.h"
#include "test.h"

#define CID   1
#define CID2  2
#define ALICE 1
#define BOB   2
#define CAROL 3
#define ERIN  4 /* member of TEAM */
#define DAVE  1 /* user 1 of context 2 */
#define TEAM  5 /* a group */

static char dir[256];
static struct sql_db *db;
static struct sql_conn *conn;
static struct pool *pool;
/* What the changes of the current transaction touched; announced by end() after the commit. */
static struct folder_changes changes;
static int64_t max_objects; /* folder_create's limit (0 = none) */
/* Set for the second run of every case, which must pass the same with folder_access cached. */
static struct cache *folders_cache, *groups_cache;

static void teardown(void)
{
	if (conn != NULL)
		sql_conn_put(&conn);
	sql_db_close(&db);
	test_storage_fixture_rmdir(dir);
	pool_destroy(&pool);
}

/* A fresh schema: context 1 with alice, bob, carol, erin (in group TEAM), context 2 with dave;
   roots and default folders as provisioning makes them. SQLite in a temp dir, or the
   database TANDEM_TEST_SQL_URL names (a MariaDB one is emptied first). */
static void setup(void)
{
	static const char *const tables[] = {
	    "ctx_sequence",    "users",  "user_group",        "group_member", "tombstone",
	    "filestore_usage", "folder", "folder_permission", "infostore",    "infostore_version"};
	struct sql_error err;

	teardown();
	pool = pool_create(0);
	memset(&changes, 0, sizeof(changes));
	/* a fresh schema reuses ids: as after deleting and creating a context again */
	if (folders_cache != NULL) {
		cache_clear(folders_cache);
		cache_clear(groups_cache);
	}
	test_storage_fixture_mkdir(dir, sizeof(dir), "test-folder");
	test_storage_fixture_open(dir, true, &db, &conn);
	test_storage_fixture_clear(conn, tables, sizeof(tables) / sizeof(tables[0]), 0);
	test_assert(sql_begin(conn, true, &err) == 0);
	/* as createcontext does: sequence row, admin user (id 1), then the folders */
	test_assert(sql_run(conn, &err, "INSERT INTO ctx_sequence VALUES (?, 2), (?, 2)", "ii",
	                    (int64_t)CID, (int64_t)CID2) == 0);
	test_storage_fixture_add_user(conn, CID, ALICE, "alice", false);
	test_storage_fixture_add_user(conn, CID2, DAVE, "dave", false);
	test_assert(folder_create_context_roots(conn, CID, &err) == 0);
	test_assert(folder_create_context_roots(conn, CID2, &err) == 0);
	test_assert(folder_create_user_defaults(conn, CID, ALICE, &err) == 0);
	test_assert(folder_create_user_defaults(conn, CID2, DAVE, &err) == 0);
	/* users created later take their ids from the same sequence; these tests use fixed ids */
	test_storage_fixture_add_user(conn, CID, BOB, "bob", true);
	test_storage_fixture_add_user(conn, CID, CAROL, "carol", true);
	test_storage_fixture_add_user(conn, CID, ERIN, "erin", true);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO user_group (cid, id, name, display_name, modified) VALUES "
	                    "(?, ?, 'team', 'Team', 0)",
	                    "ii", (int64_t)CID, (int64_t)TEAM) == 0);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO group_member (cid, group_id, user_id) VALUES (?, ?, ?)",
	                    "iii", (int64_t)CID, (int64_t)TEAM, (int64_t)ERIN) == 0);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO filestore_usage (cid, used_bytes) VALUES (?, 0)", "i",
	                    (int64_t)CID) == 0);
	test_assert(sql_commit(conn, &err) == 0);
}

/* --- helpers: every change runs in its own write transaction, as the API does --- */

static void begin(void)
{
	struct sql_error err;
	test_assert(sql_begin(conn, true, &err) == 0);
}

static void end(int ret)
{
	struct sql_error err;
	if (ret == 0)
		test_assert(sql_commit(conn, &err) == 0);
	else
		sql_rollback(conn);
	folder_changes_announce(&changes);
}

/* What the node does on a group event: there is no API for memberships yet. */
static void groups_changed(void)
{
	if (groups_cache != NULL)
		cache_drop_context(groups_cache, CID);
}

static enum folder_status create(int64_t uid, int64_t parent, const char *title, const char *module,
                                 int64_t *id_r)
{
	struct folder_error err;
	struct folder *f = NULL;
	begin();
	int r = folder_create(conn, pool, CID, uid, parent, title, module, max_objects, &f,
	                      &changes, &err);
	end(r);
	if (id_r != NULL)
		*id_r = r == 0 ? f->id : 0;
	test_assert(r == 0 || err.status != FOLDER_OK);
	return r == 0 ? FOLDER_OK : err.status;
}

static int64_t mk(int64_t uid, int64_t parent, const char *title, const char *module)
{
	int64_t id;
	test_assert_int_eq(create(uid, parent, title, module, &id), FOLDER_OK);
	return id;
}

static enum folder_status update(int64_t uid, int64_t id, const struct folder_change *ch,
                                 struct folder_error *err_r)
{
	struct folder_error err;
	struct folder *f;
	begin();
	int r = folder_update(conn, pool, CID, uid, id, ch, &f, &changes, &err);
	end(r);
	if (err_r != NULL)
		*err_r = err;
	return r == 0 ? FOLDER_OK : err.status;
}

static enum folder_status rename_to(int64_t uid, int64_t id, const char *title)
{
	struct folder_change ch = {.title = title};
	return update(uid, id, &ch, NULL);
}

static enum folder_status move_to(int64_t uid, int64_t id, int64_t parent)
{
	struct folder_change ch = {.parent = parent};
	return update(uid, id, &ch, NULL);
}

/* Replaces the permissions with list. */
static enum folder_status share(int64_t uid, int64_t id, const struct folder_permission *list,
                                size_t count)
{
	struct folder_change ch = {
	    .set_permissions = true, .permissions = list, .permission_count = count};
	return update(uid, id, &ch, NULL);
}

static enum folder_status share1(int64_t uid, int64_t id, int64_t entity, bool group, uint32_t bits)
{
	struct folder_permission p = {entity, group, bits};
	return share(uid, id, &p, 1);
}

static enum folder_status del(int64_t uid, int64_t id, size_t *nlocs_r)
{
	struct folder_error err;
	const char **locs;
	size_t n = 0;
	begin();
	int r = folder_delete(conn, pool, CID, uid, id, &locs, &n, &changes, &err);
	end(r);
	if (nlocs_r != NULL)
		*nlocs_r = n;
	return r == 0 ? FOLDER_OK : err.status;
}

/* folder_access: 1 visible, 0 not. */
static int access_of(int64_t uid, int64_t id, struct folder_perm *perm_r)
{
	struct sql_error err;
	struct folder_perm p;
	int r = folder_access(conn, CID, uid, id, perm_r != NULL ? perm_r : &p, &err);
	test_assert(r >= 0);
	return r;
}

static struct folder *get(int64_t uid, int64_t id)
{
	struct folder_error err;
	struct folder *f = NULL;
	if (folder_get(conn, pool, CID, uid, id, &f, &err) < 0) {
		test_assert_int_eq(err.status, FOLDER_NOT_FOUND);
		return NULL;
	}
	return f;
}

static size_t list(int64_t uid, int64_t parent, struct folder ***folders_r)
{
	struct folder_error err;
	struct folder **fs = NULL;
	size_t n = 0;
	if (folder_list(conn, pool, CID, uid, parent, &fs, &n, &err) < 0) {
		test_assert_int_eq(err.status, FOLDER_NOT_FOUND);
		n = 0;
	}
	if (folders_r != NULL)
		*folders_r = fs;
	return n;
}

static int64_t default_of(int64_t uid, const char *module)
{
	struct sql_error err;
	int64_t id = 0;
	test_assert(sql_query_int64(conn, &err, &id,
	                            "SELECT id FROM folder WHERE cid=? AND owner=? AND "
	                            "default_for=?",
	                            "iis", (int64_t)CID, uid, module) == 1);
	return id;
}

static int64_t count_rows(const char *sql, int64_t a, int64_t b)
{
	struct sql_error err;
	int64_t n = -1;
	test_assert(sql_query_int64(conn, &err, &n, sql, "ii", a, b) == 1);
	return n;
}

/* Permission rows of context 1 on folders lo..hi. */
static int64_t count_permissions(int64_t lo, int64_t hi)
{
	struct sql_error err;
	int64_t n = -1;
	test_assert(sql_query_int64(conn, &err, &n,
	                            "SELECT COUNT(*) FROM folder_permission WHERE cid=? AND "
	                            "folder>=? AND folder<=?",
	                            "iii", (int64_t)CID, lo, hi) == 1);
	return n;
}

static void add_file(int64_t id, int64_t folder, int64_t creator, int64_t size)
{
	struct sql_error err;
	char loc[64];
	snprintf(loc, sizeof(loc), "hashed/00/00/00/%032lld", (long long)id);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO infostore (cid, id, folder, name, version, size, md5, "
	                    "content_type, created, modified, created_by, modified_by) VALUES (?, "
	                    "?, ?, ?, 1, ?, 'd41d8cd98f00b204e9800998ecf8427e', 'text/plain', 0, "
	                    "0, ?, ?)",
	                    "iiisiii", (int64_t)CID, id, folder, loc, size, creator, creator) == 0);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO infostore_version (cid, file, version, size, md5, "
	                    "content_type, filestore_location, created, created_by) VALUES (?, ?, "
	                    "1, ?, 'd41d8cd98f00b204e9800998ecf8427e', 'text/plain', ?, 0, ?)",
	                    "iiisi", (int64_t)CID, id, size, loc, creator) == 0);
	test_assert(sql_run(conn, &err,
	                    "UPDATE filestore_usage SET used_bytes=used_bytes+?, objects=objects+1 "
	                    "WHERE cid=?",
	                    "ii", size, (int64_t)CID) == 0);
}

static int64_t objects(void)
{
	return count_rows("SELECT objects FROM filestore_usage WHERE cid=? AND 0=?", CID, 0);
}

/* --- tests --- */

static void test_bits(void)
{
	struct folder_perm p;
	const char *why;
	folder_perm_unpack(257, &p);
	test_assert(p.folder == 1 && p.read == 2 && p.write == 0 && p.del == 0 && !p.admin);
	test_assert_int_eq(folder_perm_pack(&p), 257);
	test_assert_int_eq(FOLDER_BITS_OWNER, 403710016);
	folder_perm_unpack(FOLDER_BITS_OWNER, &p);
	test_assert(p.folder == 64 && p.read == 64 && p.write == 64 && p.del == 64 && p.admin);
	test_assert(folder_bits_check(0, &why) == 0);
	test_assert(folder_bits_check(257, &why) == 0);
	test_assert(folder_bits_check(FOLDER_BITS_OWNER, &why) == 0);
	test_assert(folder_bits_check(FOLDER_BITS(4, 1, 1, 1, 1), &why) == 0);
	test_assert(folder_bits_check(3, &why) < 0);                          /* folder level 3 */
	test_assert(folder_bits_check(FOLDER_BITS(1, 4, 0, 0, 0), &why) < 0); /* read 4 */
	test_assert(folder_bits_check(1 << 29, &why) < 0);
	test_assert(folder_bits_check(-1, &why) < 0);
	/* object rights */
	folder_perm_unpack(FOLDER_BITS(2, 1, 1, 0, 0), &p);
	test_assert(folder_perm_may_create(&p));
	test_assert(folder_perm_may_read(&p, true) && !folder_perm_may_read(&p, false));
	test_assert(folder_perm_may_write(&p, true) && !folder_perm_may_write(&p, false));
	test_assert(!folder_perm_may_delete(&p, true));
	folder_perm_unpack(257, &p);
	test_assert(!folder_perm_may_create(&p) && folder_perm_may_read(&p, false));
}

static void test_roots_and_defaults(void)
{
	struct folder **fs;
	struct sql_error err;
	setup();
	test_assert_int_eq(list(ALICE, 0, &fs), 4);
	for (int i = 0; i < 4; i++) {
		test_assert_int_eq(fs[i]->id, i + 1);
		test_assert_int_eq(fs[i]->type, FOLDER_TYPE_SYSTEM);
		test_assert(fs[i]->has_subfolders ==
		            (fs[i]->id != FOLDER_ID_PUBLIC && fs[i]->id != FOLDER_ID_SHARED));
	}
	test_assert_str_eq(fs[3]->module, "infostore");
	test_assert_int_eq(fs[1]->rights.folder, FOLDER_LEVEL_CREATE_SUBFOLDERS);
	test_assert_int_eq(fs[2]->rights.folder, FOLDER_LEVEL_SEE);

	test_assert_int_eq(list(ALICE, FOLDER_ID_PRIVATE, &fs), 3);
	test_assert_str_eq(fs[0]->title, "Calendar");
	test_assert_str_eq(fs[1]->title, "Contacts");
	test_assert_str_eq(fs[2]->title, "Tasks");
	for (int i = 0; i < 3; i++) {
		test_assert_int_eq(fs[i]->owner, ALICE);
		test_assert_str_eq(fs[i]->default_for, fs[i]->module);
		test_assert_int_eq(fs[i]->type, FOLDER_TYPE_PRIVATE);
		test_assert_int_eq(fs[i]->view_parent, FOLDER_ID_PRIVATE);
		test_assert_int_eq(folder_perm_pack(&fs[i]->rights), FOLDER_BITS_OWNER);
		test_assert(fs[i]->id > FOLDER_ID_MAX_SYSTEM);
		test_assert_int_eq(fs[i]->permission_count, 1);
		test_assert_int_eq(fs[i]->permissions[0].bits, FOLDER_BITS_OWNER);
	}
	test_assert_int_eq(list(ALICE, FOLDER_ID_FILES, &fs), 1);
	test_assert_str_eq(fs[0]->title, "My files");
	test_assert_str_eq(fs[0]->module, "infostore");
	/* bob sees his own defaults, not alice's */
	test_assert_int_eq(list(BOB, FOLDER_ID_PRIVATE, &fs), 3);
	test_assert_int_eq(fs[0]->owner, BOB);
	test_assert(access_of(BOB, default_of(ALICE, "calendar"), NULL) == 0);
	test_assert(get(BOB, default_of(ALICE, "calendar")) == NULL);
	/* idempotent */
	begin();
	test_assert(folder_create_context_roots(conn, CID, &err) == 0);
	test_assert(folder_create_user_defaults(conn, CID, ALICE, &err) == 0);
	end(0);
	test_assert_int_eq(
	    count_rows("SELECT COUNT(*) FROM folder WHERE cid=? AND owner=?", CID, ALICE), 4);
	test_assert_int_eq(count_rows("SELECT COUNT(*) FROM folder WHERE cid=? AND id<=?", CID,
	                              FOLDER_ID_MAX_SYSTEM),
	                   4);
	/* the admin user created first kept id 1; folder ids skipped the root ids */
	test_assert(default_of(ALICE, "calendar") > FOLDER_ID_MAX_SYSTEM);
	/* the other context has its own tree */
	test_assert_int_eq(
	    count_rows("SELECT COUNT(*) FROM folder WHERE cid=? AND owner=?", CID2, DAVE), 4);
}

static void test_owner_viewer_other(void)
{
	struct folder_perm p;
	setup();
	int64_t proj = mk(ALICE, FOLDER_ID_PRIVATE, "Projects", "calendar");
	test_assert(access_of(ALICE, proj, &p) == 1 && p.admin && p.folder == 64);
	test_assert(access_of(BOB, proj, NULL) == 0);
	/* bob as viewer (257): sees and reads all, creates nothing, changes nothing */
	test_assert_int_eq(share1(ALICE, proj, BOB, false, 257), FOLDER_OK);
	test_assert(access_of(BOB, proj, &p) == 1);
	test_assert(p.folder == 1 && p.read == 2 && p.write == 0 && p.del == 0 && !p.admin);
	test_assert(folder_perm_may_read(&p, false) && !folder_perm_may_create(&p));
	struct folder *f = get(BOB, proj);
	test_assert(f != NULL && f->type == FOLDER_TYPE_SHARED && f->owner == ALICE);
	test_assert(f != NULL && f->view_parent == 0 && f->view_parent_user == ALICE);
	test_assert(f != NULL && f->permission_count == 2); /* alice (owner) and bob */
	test_assert_int_eq(create(BOB, proj, "Sub", NULL, NULL), FOLDER_FORBIDDEN);
	test_assert_int_eq(rename_to(BOB, proj, "Mine"), FOLDER_FORBIDDEN);
	test_assert_int_eq(share1(BOB, proj, BOB, false, FOLDER_BITS_OWNER), FOLDER_FORBIDDEN);
	test_assert_int_eq(del(BOB, proj, NULL), FOLDER_FORBIDDEN);
	/* carol has no grant: everything is "not found" */
	test_assert(access_of(CAROL, proj, NULL) == 0);
	test_assert(get(CAROL, proj) == NULL);
	test_assert_int_eq(create(CAROL, proj, "Sub", NULL, NULL), FOLDER_NOT_FOUND);
	test_assert_int_eq(rename_to(CAROL, proj, "X"), FOLDER_NOT_FOUND);
	test_assert_int_eq(del(CAROL, proj, NULL), FOLDER_NOT_FOUND);
	test_assert_int_eq(list(CAROL, proj, NULL), 0);
	/* a user of another context with the same id as alice sees nothing of context 1 */
	struct sql_error err;
	test_assert(folder_access(conn, CID2, DAVE, proj, &p, &err) == 0);
	/* unknown folders look the same */
	test_assert(get(ALICE, 999999) == NULL);
	test_assert_int_eq(rename_to(ALICE, 999999, "X"), FOLDER_NOT_FOUND);
}

static void test_author_and_subfolders(void)
{
	struct folder_perm p;
	struct folder **fs;
	setup();
	int64_t proj = mk(ALICE, FOLDER_ID_PRIVATE, "Projects", "calendar");
	/* author-like: create objects, read all, write/delete own */
	test_assert_int_eq(share1(ALICE, proj, BOB, false, FOLDER_BITS(2, 2, 1, 1, 0)), FOLDER_OK);
	test_assert(access_of(BOB, proj, &p) == 1);
	test_assert(folder_perm_may_create(&p) && folder_perm_may_write(&p, true) &&
	            !folder_perm_may_write(&p, false) && folder_perm_may_delete(&p, true) &&
	            !folder_perm_may_delete(&p, false));
	test_assert_int_eq(create(BOB, proj, "Sub", NULL, NULL), FOLDER_FORBIDDEN);
	/* with create-subfolders bob may add one; it inherits the parent's sharing */
	test_assert_int_eq(share1(ALICE, proj, BOB, false, FOLDER_BITS(4, 2, 2, 2, 0)), FOLDER_OK);
	int64_t sub = mk(BOB, proj, "Sub", NULL);
	struct folder *f = get(BOB, sub);
	test_assert(f != NULL && f->owner == BOB && f->type == FOLDER_TYPE_PRIVATE);
	test_assert(f != NULL && strcmp(f->module, "calendar") == 0 && f->view_parent == proj);
	test_assert(access_of(ALICE, sub, &p) == 1 && p.admin); /* alice's entry was inherited */
	test_assert_int_eq(list(ALICE, proj, &fs), 1);
	test_assert_int_eq(fs[0]->id, sub);
	test_assert_int_eq(fs[0]->type, FOLDER_TYPE_SHARED);
	f = get(ALICE, proj);
	test_assert(f != NULL && f->has_subfolders);
	/* carol sees neither */
	test_assert(access_of(CAROL, sub, NULL) == 0);
}

static void test_groups_and_admin(void)
{
	struct folder_perm p;
	struct folder_error err;
	setup();
	int64_t proj = mk(ALICE, FOLDER_ID_PRIVATE, "Projects", "tasks");
	test_assert_int_eq(share1(ALICE, proj, TEAM, true, 257), FOLDER_OK);
	test_assert(access_of(ERIN, proj, &p) == 1 && p.read == 2);
	test_assert(access_of(CAROL, proj, NULL) == 0);
	test_assert(access_of(BOB, proj, NULL) == 0);
	/* several entries apply: the maximum per field wins */
	struct folder_permission two[] = {{TEAM, true, 257},
	                                  {ERIN, false, FOLDER_BITS(2, 1, 2, 0, 0)}};
	test_assert_int_eq(share(ALICE, proj, two, 2), FOLDER_OK);
	test_assert(access_of(ERIN, proj, &p) == 1);
	test_assert(p.folder == 2 && p.read == 2 && p.write == 2 && p.del == 0 && !p.admin);
	/* all users (group 0) */
	test_assert_int_eq(share1(ALICE, proj, FOLDER_GROUP_ALL_USERS, true, 257), FOLDER_OK);
	test_assert(access_of(CAROL, proj, NULL) == 1 && access_of(BOB, proj, NULL) == 1);
	/* leaving a member out of the group takes the right away */
	test_assert_int_eq(share1(ALICE, proj, TEAM, true, 257), FOLDER_OK);
	struct sql_error se;
	test_assert(sql_run(conn, &se, "DELETE FROM group_member WHERE cid=? AND user_id=?", "ii",
	                    (int64_t)CID, (int64_t)ERIN) == 0);
	groups_changed();
	test_assert(access_of(ERIN, proj, NULL) == 0);

	/* the admin flag lets bob share further, but never lower the owner */
	test_assert_int_eq(share1(ALICE, proj, BOB, false, FOLDER_BITS(1, 2, 0, 0, 1)), FOLDER_OK);
	struct folder_permission lower[] = {{ALICE, false, 257}, {CAROL, false, 257}};
	struct folder_change ch = {
	    .set_permissions = true, .permissions = lower, .permission_count = 2};
	test_assert_int_eq(update(BOB, proj, &ch, &err), FOLDER_INVALID);
	test_assert_str_eq(err.field, "permissions");
	test_assert(access_of(CAROL, proj, NULL) == 0); /* nothing changed */
	/* leaving alice out keeps her full rights; bob drops his own admin flag */
	struct folder_permission keep[] = {{BOB, false, 257}, {CAROL, false, 257}};
	test_assert_int_eq(share(BOB, proj, keep, 2), FOLDER_OK);
	test_assert(access_of(CAROL, proj, NULL) == 1);
	test_assert(access_of(ALICE, proj, &p) == 1 && p.admin);
	struct folder *f = get(ALICE, proj);
	test_assert(f != NULL && f->permission_count == 3);
	test_assert(access_of(BOB, proj, &p) == 1 && !p.admin);
	test_assert_int_eq(share1(BOB, proj, BOB, false, FOLDER_BITS_OWNER), FOLDER_FORBIDDEN);
	/* the owner may repeat its own entry unchanged */
	struct folder_permission same[] = {{ALICE, false, FOLDER_BITS_OWNER}};
	test_assert_int_eq(share(ALICE, proj, same, 1), FOLDER_OK);
}

static void test_revoke(void)
{
	struct folder **fs;
	setup();
	int64_t proj = mk(ALICE, FOLDER_ID_PRIVATE, "Projects", "contacts");
	test_assert_int_eq(share1(ALICE, proj, BOB, false, 257), FOLDER_OK);
	test_assert(access_of(BOB, proj, NULL) == 1);
	test_assert(get(BOB, proj) != NULL);
	test_assert_int_eq(share(ALICE, proj, NULL, 0), FOLDER_OK);
	test_assert(access_of(BOB, proj, NULL) == 0);
	test_assert(get(BOB, proj) == NULL);
	struct folder_error err;
	struct folder_sharer *sh;
	size_t n = 9;
	test_assert(folder_list_sharers(conn, pool, CID, BOB, &sh, &n, &err) == 0);
	test_assert_int_eq(n, 0);
	/* alice still owns it with full rights */
	test_assert_int_eq(list(ALICE, FOLDER_ID_PRIVATE, &fs), 4);
}

static void test_shared_tree(void)
{
	struct folder_error err;
	struct folder_sharer *sh, node;
	struct folder **fs;
	size_t n;
	setup();
	int64_t proj = mk(ALICE, FOLDER_ID_PRIVATE, "Projects", "calendar");
	int64_t hidden = mk(ALICE, FOLDER_ID_FILES, "Hidden", NULL);
	int64_t inner = mk(ALICE, hidden, "Inner", NULL);
	int64_t carols = mk(CAROL, FOLDER_ID_PRIVATE, "Carol's", "tasks");
	test_assert_int_eq(share1(ALICE, proj, BOB, false, 257), FOLDER_OK);
	test_assert_int_eq(share1(ALICE, inner, BOB, false, 257), FOLDER_OK);
	test_assert_int_eq(share1(CAROL, carols, BOB, false, 257), FOLDER_OK);

	test_assert(folder_list_sharers(conn, pool, CID, BOB, &sh, &n, &err) == 0);
	test_assert_int_eq(n, 2);
	test_assert(n == 2 && sh[0].uid == ALICE && strcmp(sh[0].display_name, "alice") == 0);
	test_assert(n == 2 && sh[1].uid == CAROL);
	test_assert(folder_list_shared_by(conn, pool, CID, BOB, ALICE, &node, &fs, &n, &err) == 0);
	test_assert_int_eq(n, 2);
	test_assert(n == 2 && fs[0]->id == inner && fs[1]->id == proj); /* by title */
	for (size_t i = 0; i < n; i++) {
		test_assert_int_eq(fs[i]->type, FOLDER_TYPE_SHARED);
		test_assert_int_eq(fs[i]->view_parent, 0);
		test_assert_int_eq(fs[i]->view_parent_user, ALICE);
	}
	/* the hidden parent stays hidden */
	test_assert(get(BOB, hidden) == NULL);
	test_assert_int_eq(list(BOB, FOLDER_ID_FILES, &fs), 1); /* only his own "My files" */
	/* carol sees no shares; nobody sees their own node */
	test_assert(folder_list_sharers(conn, pool, CID, CAROL, &sh, &n, &err) == 0);
	test_assert_int_eq(n, 0);
	test_assert(folder_list_shared_by(conn, pool, CID, CAROL, ALICE, NULL, &fs, &n, &err) < 0);
	test_assert_int_eq(err.status, FOLDER_NOT_FOUND);
	test_assert(folder_list_shared_by(conn, pool, CID, ALICE, ALICE, NULL, &fs, &n, &err) < 0);
	/* the shared root shows it has children for bob only */
	struct folder *root = get(BOB, FOLDER_ID_SHARED);
	test_assert(root != NULL && root->has_subfolders);
	root = get(CAROL, FOLDER_ID_SHARED);
	test_assert(root != NULL && !root->has_subfolders);
	/* once the parent is shared too, inner hangs below it instead */
	test_assert_int_eq(share1(ALICE, hidden, BOB, false, 257), FOLDER_OK);
	struct folder *f = get(BOB, inner);
	test_assert(f != NULL && f->view_parent == hidden && f->view_parent_user == 0);

	/* public folders: bob creates one; alice sees it only with a grant */
	int64_t pub = mk(BOB, FOLDER_ID_PUBLIC, "Team", "contacts");
	test_assert_int_eq(list(ALICE, FOLDER_ID_PUBLIC, NULL), 0);
	test_assert_int_eq(share1(BOB, pub, ALICE, false, 257), FOLDER_OK);
	test_assert_int_eq(list(ALICE, FOLDER_ID_PUBLIC, &fs), 1);
	test_assert_int_eq(fs[0]->type, FOLDER_TYPE_PUBLIC);
	test_assert_int_eq(fs[0]->view_parent, FOLDER_ID_PUBLIC);
	f = get(BOB, pub);
	test_assert(f != NULL && f->type == FOLDER_TYPE_PUBLIC);
}

static void test_create_rules(void)
{
	struct folder *f;
	setup();
	int64_t cal = default_of(ALICE, "calendar");
	test_assert_int_eq(create(ALICE, FOLDER_ID_PRIVATE, "Docs", "infostore", NULL),
	                   FOLDER_INVALID);
	test_assert_int_eq(create(ALICE, FOLDER_ID_PRIVATE, "Docs", NULL, NULL), FOLDER_INVALID);
	test_assert_int_eq(create(ALICE, FOLDER_ID_FILES, "Cal", "calendar", NULL), FOLDER_INVALID);
	test_assert_int_eq(create(ALICE, cal, "Other", "contacts", NULL), FOLDER_INVALID);
	test_assert_int_eq(create(ALICE, cal, "Other", "mail", NULL), FOLDER_INVALID);
	test_assert_int_eq(create(ALICE, FOLDER_ID_SHARED, "X", "calendar", NULL),
	                   FOLDER_FORBIDDEN);
	int64_t docs = mk(ALICE, FOLDER_ID_FILES, "Docs", NULL);
	f = get(ALICE, docs);
	test_assert(f != NULL && strcmp(f->module, "infostore") == 0);
	int64_t sub = mk(ALICE, cal, "Sub", NULL);
	f = get(ALICE, sub);
	test_assert(f != NULL && strcmp(f->module, "calendar") == 0);
	/* titles: unique among siblings, ASCII case ignored; per owner below the private root */
	test_assert_int_eq(create(ALICE, cal, "sub", NULL, NULL), FOLDER_CONFLICT);
	test_assert_int_eq(create(ALICE, FOLDER_ID_PRIVATE, "calendar", "calendar", NULL),
	                   FOLDER_CONFLICT);
	test_assert_int_eq(create(BOB, FOLDER_ID_PRIVATE, "Team", "calendar", NULL), FOLDER_OK);
	test_assert_int_eq(create(ALICE, FOLDER_ID_PRIVATE, "Team", "calendar", NULL), FOLDER_OK);
	test_assert_int_eq(create(ALICE, FOLDER_ID_PUBLIC, "Board", "calendar", NULL), FOLDER_OK);
	test_assert_int_eq(create(BOB, FOLDER_ID_PUBLIC, "BOARD", "tasks", NULL), FOLDER_CONFLICT);
	test_assert_int_eq(rename_to(ALICE, sub, "Sub"), FOLDER_OK); /* unchanged */
	int64_t sub2 = mk(ALICE, cal, "Sub2", NULL);
	test_assert_int_eq(rename_to(ALICE, sub2, "SUB"), FOLDER_CONFLICT);
	test_assert_int_eq(rename_to(ALICE, sub2, "Renamed"), FOLDER_OK);
	f = get(ALICE, sub2);
	test_assert(f != NULL && strcmp(f->title, "Renamed") == 0);
	/* bad titles */
	static const char *const bad[] = {"",    " lead",     "trail ", ".",        "..",
	                                  "a/b", "tab\there", "\xff",   "\xc0\xaf", "\xed\xa0\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert_int_eq(create(ALICE, cal, bad[i], NULL, NULL), FOLDER_INVALID);
		test_assert_int_eq(rename_to(ALICE, sub, bad[i]), FOLDER_INVALID);
	}
	test_set_context(NULL);
	char longer[FOLDER_TITLE_MAX + 2];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	test_assert_int_eq(create(ALICE, cal, longer, NULL, NULL), FOLDER_INVALID);
	longer[FOLDER_TITLE_MAX] = '\0';
	test_assert_int_eq(create(ALICE, cal, longer, NULL, NULL), FOLDER_OK);
	test_assert_int_eq(create(ALICE, cal, "日本語 ok", NULL, NULL), FOLDER_OK);
	/* system and default folders */
	test_assert_int_eq(rename_to(ALICE, FOLDER_ID_PUBLIC, "X"), FOLDER_FORBIDDEN);
	test_assert_int_eq(rename_to(ALICE, cal, "My calendar"), FOLDER_OK);
	test_assert_int_eq(del(ALICE, cal, NULL), FOLDER_FORBIDDEN);
	test_assert_int_eq(del(ALICE, FOLDER_ID_FILES, NULL), FOLDER_FORBIDDEN);
	test_assert_int_eq(move_to(ALICE, cal, FOLDER_ID_PRIVATE), FOLDER_OK); /* not a move */
	test_assert_int_eq(move_to(ALICE, cal, sub), FOLDER_FORBIDDEN);
}

static void test_permission_input(void)
{
	struct folder_error err;
	setup();
	int64_t proj = mk(ALICE, FOLDER_ID_PRIVATE, "Projects", "calendar");
	struct {
		struct folder_permission p[2];
		size_t n;
	} bad[] = {
	    {{{99, false, 257}}, 1},                   /* unknown user */
	    {{{99, true, 257}}, 1},                    /* unknown group */
	    {{{0, false, 257}}, 1},                    /* user 0 */
	    {{{-1, true, 257}}, 1},                    /* negative */
	    {{{BOB, false, 3}}, 1},                    /* folder level 3 */
	    {{{BOB, false, 1u << 30}}, 1},             /* above bit 28 */
	    {{{BOB, false, 257}, {BOB, false, 1}}, 2}, /* twice */
	    {{{ALICE, false, 257}}, 1},                /* the owner lowered */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct folder_change ch = {
		    .set_permissions = true, .permissions = bad[i].p, .permission_count = bad[i].n};
		test_assert_int_eq(update(ALICE, proj, &ch, &err), FOLDER_INVALID);
		test_assert_str_eq(err.field, "permissions");
	}
	test_assert_int_eq(count_rows("SELECT COUNT(*) FROM folder_permission WHERE cid=? AND "
	                              "folder=?",
	                              CID, proj),
	                   1);
	/* a user of another context is unknown here */
	test_assert_int_eq(share1(ALICE, proj, 50, false, 257), FOLDER_INVALID);
	/* the same entity as user and as group is two entries */
	struct folder_permission both[] = {{TEAM, true, 257}, {ERIN, false, 257}};
	test_assert_int_eq(share(ALICE, proj, both, 2), FOLDER_OK);
	/* the caller can remove its own visibility: then no folder comes back */
	test_assert_int_eq(share1(ALICE, proj, BOB, false, FOLDER_BITS(1, 0, 0, 0, 1)), FOLDER_OK);
	struct folder_change ch = {.set_permissions = true, .permissions = NULL};
	struct folder *f = (struct folder *)1;
	begin();
	int r = folder_update(conn, pool, CID, BOB, proj, &ch, &f, &changes, &err);
	end(r);
	test_assert(r == 0 && f == NULL);
	test_assert(access_of(BOB, proj, NULL) == 0);
}

static void test_moves(void)
{
	struct folder *f;
	struct folder_error err;
	setup();
	int64_t a = mk(ALICE, FOLDER_ID_PRIVATE, "A", "calendar");
	int64_t b = mk(ALICE, a, "B", NULL);
	int64_t c = mk(ALICE, b, "C", NULL);
	int64_t cal = default_of(ALICE, "calendar");
	/* cycles */
	struct folder_change ch = {.parent = c};
	test_assert_int_eq(update(ALICE, a, &ch, &err), FOLDER_INVALID);
	test_assert_str_eq(err.field, "parent");
	test_assert_int_eq(move_to(ALICE, a, a), FOLDER_INVALID);
	test_assert_int_eq(move_to(ALICE, b, c), FOLDER_INVALID);
	/* fine: c up to the root, then b below the default calendar */
	test_assert_int_eq(move_to(ALICE, c, FOLDER_ID_PRIVATE), FOLDER_OK);
	f = get(ALICE, c);
	test_assert(f != NULL && f->parent == FOLDER_ID_PRIVATE);
	test_assert_int_eq(move_to(ALICE, b, cal), FOLDER_OK);
	f = get(ALICE, a);
	test_assert(f != NULL && !f->has_subfolders);
	/* system and default folders stay */
	test_assert_int_eq(move_to(ALICE, FOLDER_ID_PUBLIC, a), FOLDER_FORBIDDEN);
	test_assert_int_eq(move_to(ALICE, cal, a), FOLDER_FORBIDDEN);
	/* wrong module for the target */
	test_assert_int_eq(move_to(ALICE, a, default_of(ALICE, "infostore")), FOLDER_INVALID);
	test_assert_int_eq(move_to(ALICE, a, FOLDER_ID_FILES), FOLDER_INVALID);
	test_assert_int_eq(move_to(ALICE, a, FOLDER_ID_SHARED), FOLDER_FORBIDDEN);
	/* the target must be visible and allow subfolders */
	int64_t bobs = mk(BOB, FOLDER_ID_PRIVATE, "Bob's", "calendar");
	test_assert_int_eq(move_to(ALICE, a, bobs), FOLDER_NOT_FOUND);
	test_assert_int_eq(share1(BOB, bobs, ALICE, false, 257), FOLDER_OK);
	test_assert_int_eq(move_to(ALICE, a, bobs), FOLDER_FORBIDDEN);
	test_assert_int_eq(share1(BOB, bobs, ALICE, false, FOLDER_BITS(4, 2, 0, 0, 0)), FOLDER_OK);
	test_assert_int_eq(move_to(ALICE, a, bobs), FOLDER_OK);
	f = get(ALICE, a);
	test_assert(f != NULL && f->owner == ALICE && f->type == FOLDER_TYPE_PRIVATE &&
	            f->view_parent == bobs);
	/* bob may not move alice's folder (no admin flag on it) */
	test_assert_int_eq(move_to(BOB, a, FOLDER_ID_PRIVATE), FOLDER_NOT_FOUND);
	/* a title clash at the target */
	mk(ALICE, FOLDER_ID_PRIVATE, "A", "tasks");
	test_assert_int_eq(move_to(ALICE, a, FOLDER_ID_PRIVATE), FOLDER_CONFLICT);
	/* into the public tree: the type follows */
	test_assert_int_eq(move_to(ALICE, c, FOLDER_ID_PUBLIC), FOLDER_OK);
	f = get(ALICE, c);
	test_assert(f != NULL && f->type == FOLDER_TYPE_PUBLIC);
	/* depth limit */
	int64_t deep = mk(ALICE, FOLDER_ID_FILES, "d1", NULL), top = deep;
	for (int i = 2; i <= FOLDER_DEPTH_MAX; i++) {
		char t[16];
		snprintf(t, sizeof(t), "d%d", i);
		deep = mk(ALICE, deep, t, NULL);
	}
	test_assert_int_eq(create(ALICE, deep, "too deep", NULL, NULL), FOLDER_INVALID);
	int64_t x = mk(ALICE, FOLDER_ID_FILES, "x", NULL);
	mk(ALICE, x, "y", NULL);
	test_assert_int_eq(move_to(ALICE, x, top), FOLDER_OK);
	f = get(ALICE, x);
	test_assert(f != NULL && f->parent == top);
	test_assert_int_eq(move_to(ALICE, top, default_of(ALICE, "infostore")), FOLDER_INVALID);
}

static void test_delete(void)
{
	struct sql_error se;
	size_t nlocs;
	int64_t used;
	setup();
	int64_t a = mk(ALICE, FOLDER_ID_FILES, "A", NULL);
	int64_t b = mk(ALICE, a, "B", NULL);
	int64_t c = mk(ALICE, b, "C", NULL);
	int64_t keep = mk(ALICE, FOLDER_ID_FILES, "Keep", NULL);
	begin();
	add_file(1001, a, ALICE, 10);
	add_file(1002, c, ALICE, 20);
	add_file(1003, c, BOB, 30);
	add_file(1004, keep, ALICE, 40);
	end(0);
	/* bob: delete-own only on a, nothing on c -> refused, nothing changes */
	test_assert_int_eq(share1(ALICE, a, BOB, false, FOLDER_BITS(1, 2, 0, 1, 1)), FOLDER_OK);
	test_assert_int_eq(del(BOB, a, NULL), FOLDER_FORBIDDEN);
	test_assert_int_eq(count_rows("SELECT COUNT(*) FROM folder WHERE cid=? AND id>=?", CID, a),
	                   4);
	test_assert_int_eq(del(CAROL, a, NULL), FOLDER_NOT_FOUND);
	/* alice deletes the subtree: folders, files, permissions; tombstones; usage */
	test_assert_int_eq(del(ALICE, a, &nlocs), FOLDER_OK);
	test_assert_int_eq(nlocs, 3);
	test_assert(get(ALICE, a) == NULL && get(ALICE, b) == NULL && get(ALICE, c) == NULL);
	test_assert(get(ALICE, keep) != NULL);
	test_assert_int_eq(
	    count_rows("SELECT COUNT(*) FROM infostore WHERE cid=? AND id<>?", CID, 1004), 0);
	test_assert_int_eq(count_rows("SELECT COUNT(*) FROM infostore_version WHERE cid=? AND "
	                              "file<>?",
	                              CID, 1004),
	                   0);
	test_assert_int_eq(count_permissions(a, c), 0);
	test_assert_int_eq(count_rows("SELECT COUNT(*) FROM tombstone WHERE cid=? AND "
	                              "module='folder' AND id>=?",
	                              CID, a),
	                   3);
	test_assert(sql_query_int64(conn, &se, &used,
	                            "SELECT used_bytes FROM filestore_usage WHERE cid=?", "i",
	                            (int64_t)CID) == 1);
	test_assert_int_eq(used, 40);

	/* a subfolder bob has no admin rights on stops bob's delete */
	int64_t p = mk(ALICE, FOLDER_ID_FILES, "P", NULL);
	test_assert_int_eq(share1(ALICE, p, BOB, false, FOLDER_BITS(4, 2, 2, 2, 1)), FOLDER_OK);
	int64_t q = mk(ALICE, p, "Q", NULL); /* inherits bob's admin entry */
	int64_t r = mk(ALICE, q, "R", NULL);
	test_assert_int_eq(share(ALICE, r, NULL, 0), FOLDER_OK); /* only alice */
	test_assert_int_eq(del(BOB, p, NULL), FOLDER_FORBIDDEN);
	test_assert(get(ALICE, r) != NULL);
	test_assert_int_eq(del(BOB, q, NULL), FOLDER_FORBIDDEN);
	test_assert_int_eq(del(ALICE, r, NULL), FOLDER_OK);
	test_assert_int_eq(del(BOB, p, NULL), FOLDER_OK);
	test_assert(get(ALICE, p) == NULL && get(ALICE, q) == NULL);

	/* files: delete-own covers only one's own files */
	int64_t f = mk(ALICE, FOLDER_ID_FILES, "F", NULL);
	test_assert_int_eq(share1(ALICE, f, BOB, false, FOLDER_BITS(2, 2, 1, 1, 1)), FOLDER_OK);
	begin();
	add_file(2001, f, BOB, 1);
	add_file(2002, f, ALICE, 1);
	end(0);
	test_assert_int_eq(del(BOB, f, NULL), FOLDER_FORBIDDEN);
	begin();
	test_assert(sql_run(conn, &se, "DELETE FROM infostore WHERE cid=? AND id=?", "ii",
	                    (int64_t)CID, (int64_t)2002) == 0);
	end(0);
	test_assert_int_eq(del(BOB, f, &nlocs), FOLDER_OK);
	test_assert_int_eq(nlocs, 1);
}

/* Folders count among the context's objects (the default ones do not): a create beyond the
   limit is refused with nothing changed, and deleting a subtree gives its folders back. */
static void test_object_limit(void)
{
	setup();
	test_assert_int_eq(objects(), 0);
	int64_t a = mk(ALICE, FOLDER_ID_FILES, "A", NULL);
	int64_t b = mk(ALICE, a, "B", NULL);
	mk(ALICE, b, "C", NULL);
	begin();
	add_file(3001, b, ALICE, 10);
	end(0);
	test_assert_int_eq(objects(), 4);

	max_objects = 5;
	int64_t d = mk(BOB, FOLDER_ID_FILES, "D", NULL);
	test_assert_int_eq(create(BOB, d, "E", NULL, NULL), FOLDER_LIMIT);
	test_assert_int_eq(create(BOB, FOLDER_ID_PUBLIC, "F", "contacts", NULL), FOLDER_LIMIT);
	test_assert_int_eq(objects(), 5);
	test_assert_int_eq(
	    count_rows("SELECT COUNT(*) FROM folder WHERE cid=? AND title IN ('E','F') AND 0=?",
	               CID, 0),
	    0);
	/* a refusal for other reasons takes nothing either */
	test_assert_int_eq(create(CAROL, d, "G", NULL, NULL), FOLDER_NOT_FOUND);

	test_assert_int_eq(del(ALICE, a, NULL), FOLDER_OK); /* 3 folders, 1 file version */
	test_assert_int_eq(objects(), 1);
	mk(BOB, d, "E", NULL);
	test_assert_int_eq(objects(), 2);
	max_objects = 0;
}

/* --- the caches --- */

struct announced {
	int64_t cid, ids[16];
	size_t count;
};

static void record(int64_t cid, int64_t folder_id, void *ctx)
{
	struct announced *a = ctx;
	a->cid = cid;
	if (a->count < 16)
		a->ids[a->count++] = folder_id;
}

static bool was_announced(const struct announced *a, int64_t id)
{
	for (size_t i = 0; i < a->count; i++) {
		if (a->ids[i] == id)
			return true;
	}
	return false;
}

static uint64_t hits(struct cache *c)
{
	struct cache_stats st;
	cache_get_stats(c, &st);
	return st.hits;
}

/* Rights come from the caches until a change is announced, and every change in this module
   announces its folders, only when end() says so (after the commit). */
static void test_cache(void)
{
	struct sql_error se;
	struct folder_perm p;
	struct announced ann = {0};
	char module[FOLDER_MODULE_MAX];
	setup();
	struct cache *fc = cache_create("folder", 64, folder_cache_folder_size(), 60000);
	struct cache *gc = cache_create("group", 64, folder_cache_groups_size(), 60000);
	folder_set_caches(fc, gc);
	int64_t proj = mk(ALICE, FOLDER_ID_PUBLIC, "Projects", "infostore");
	test_assert_int_eq(share1(ALICE, proj, BOB, false, 257), FOLDER_OK);
	test_assert(access_of(BOB, proj, &p) == 1 && p.read == 2);
	uint64_t h = hits(fc), gh = hits(gc);
	test_assert(access_of(BOB, proj, &p) == 1 && p.read == 2);
	test_assert(folder_module(conn, CID, proj, module, &se) == 1);
	test_assert_str_eq(module, "infostore");
	test_assert_int_eq(hits(fc), h + 2);
	test_assert_int_eq(hits(gc), gh + 1);

	/* a change nobody announces is not seen: the answer really comes from the cache */
	test_assert(sql_run(conn, &se, "DELETE FROM folder_permission WHERE cid=? AND folder=?",
	                    "ii", (int64_t)CID, proj) == 0);
	test_assert(access_of(BOB, proj, NULL) == 1);
	test_assert_int_eq(share1(ALICE, proj, BOB, false, 257), FOLDER_OK);

	/* revoking through the module: the next access sees it */
	test_assert(access_of(BOB, proj, NULL) == 1);
	test_assert_int_eq(share(ALICE, proj, NULL, 0), FOLDER_OK);
	test_assert(access_of(BOB, proj, NULL) == 0);
	test_assert(access_of(ALICE, proj, &p) == 1 && p.admin);

	/* group memberships are cached per user */
	test_assert_int_eq(share1(ALICE, proj, TEAM, true, 257), FOLDER_OK);
	test_assert(access_of(ERIN, proj, NULL) == 1);
	test_assert(sql_run(conn, &se, "DELETE FROM group_member WHERE cid=? AND user_id=?", "ii",
	                    (int64_t)CID, (int64_t)ERIN) == 0);
	test_assert(access_of(ERIN, proj, NULL) == 1);
	cache_drop(gc, CID, ERIN);
	test_assert(access_of(ERIN, proj, NULL) == 0);

	/* the hook gets the folder, its old and new parents, and a deleted subtree, but only
	   when the transaction is over */
	folder_set_change_hook(record, &ann);
	int64_t sub = mk(ALICE, proj, "Sub", NULL);
	test_assert(was_announced(&ann, sub) && was_announced(&ann, proj));
	int64_t other = mk(ALICE, FOLDER_ID_PUBLIC, "Other", "infostore");
	ann.count = 0;
	test_assert_int_eq(move_to(ALICE, sub, other), FOLDER_OK);
	test_assert(was_announced(&ann, sub) && was_announced(&ann, proj) &&
	            was_announced(&ann, other));
	int64_t leaf = mk(ALICE, sub, "Leaf", NULL);
	ann.count = 0;
	struct folder_error err;
	const char **locs;
	size_t n;
	begin();
	test_assert(folder_delete(conn, pool, CID, ALICE, sub, &locs, &n, &changes, &err) == 0);
	test_assert_int_eq(ann.count, 0);
	end(0);
	test_assert_int_eq(ann.cid, CID);
	test_assert_int_eq(ann.count, 3);
	test_assert(was_announced(&ann, sub) && was_announced(&ann, leaf) &&
	            was_announced(&ann, other));
	/* a subtree too large to list is announced as the whole context */
	int64_t big = mk(ALICE, proj, "Big", NULL);
	for (int i = 0; i < FOLDER_CHANGES_MAX; i++) {
		char title[16];
		snprintf(title, sizeof(title), "f%d", i);
		mk(ALICE, big, title, NULL);
	}
	ann.count = 0;
	test_assert_int_eq(del(ALICE, big, NULL), FOLDER_OK);
	test_assert_int_eq(ann.count, 1);
	test_assert_int_eq(ann.ids[0], 0);
	/* refused changes announce nothing */
	ann.count = 0;
	test_assert_int_eq(rename_to(BOB, proj, "Mine"), FOLDER_NOT_FOUND);
	test_assert_int_eq(ann.count, 0);

	folder_set_change_hook(NULL, NULL);
	folder_set_caches(folders_cache, groups_cache);
	cache_destroy(&fc);
	cache_destroy(&gc);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"bits", test_bits},
	    {"roots_and_defaults", test_roots_and_defaults},
	    {"owner_viewer_other", test_owner_viewer_other},
	    {"author_and_subfolders", test_author_and_subfolders},
	    {"groups_and_admin", test_groups_and_admin},
	    {"revoke", test_revoke},
	    {"shared_tree", test_shared_tree},
	    {"create_rules", test_create_rules},
	    {"permission_input", test_permission_input},
	    {"moves", test_moves},
	    {"delete", test_delete},
	    {"object_limit", test_object_limit},
	    {"cache", test_cache},
	    {NULL, NULL},
	};
	test_storage_fixture_print_db();
	int ret = test_run(cases);
	/* once more with the caches on: every case must pass the same */
	printf("# with folder_access cached\n");
	folders_cache = cache_create("folder", 32, folder_cache_folder_size(), 60000);
	groups_cache = cache_create("group", 8, folder_cache_groups_size(), 60000);
	folder_set_caches(folders_cache, groups_cache);
	ret |= test_run(cases);
	folder_set_caches(NULL, NULL);
	cache_destroy(&folders_cache);
	cache_destroy(&groups_cache);
	teardown();
	return ret;
}
