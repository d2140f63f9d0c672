/* SPDX-License-Identifier: MIT */
/* The fixture of test-storage-calendar and test-storage-contacts. */
#include "test-storage-env.h"

#include <stdio.h>

#include "folder.h"
#include "pool.h"
#include "sql.h"
#include "test-storage-fixture.h"
#include "test.h"

static struct test_storage_env *current;

static struct sql_db *locate(void *ctx, int64_t cid, struct storage_context *ctx_r,
                             struct storage_error *err)
{
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s", current->dir);
	return current->db;
}

void test_storage_env_teardown(struct test_storage_env *env)
{
	storage_destroy(&env->storage);
	sql_db_close(&env->db);
	test_storage_fixture_rmdir(env->dir);
	pool_destroy(&env->pool);
}

void test_storage_env_setup(struct test_storage_env *env, const char *shared_module,
                            int64_t max_objects)
{
	static const char *const tables[] = {
	    "ctx_sequence",
	    "users",
	    "user_group",
	    "group_member",
	    "tombstone",
	    "filestore_usage",
	    "folder",
	    "folder_permission",
	    "cal_object",
	    "contact_object",
	    "cal_folder_revision",
	    "cal_tombstone",
	};
	struct sql_error err;
	struct sql_conn *conn;

	test_storage_env_teardown(env);
	current = env;
	env->pool = pool_create(0);
	test_storage_fixture_mkdir(env->dir, sizeof(env->dir), "test-storage");
	test_storage_fixture_open(env->dir, true, &env->db, &conn);
	test_storage_fixture_clear(conn, tables, sizeof(tables) / sizeof(tables[0]), 0);
	test_storage_fixture_add_context(conn, TEST_CID, 200);
	test_storage_fixture_add_user(conn, TEST_CID, TEST_ALICE, "alice", true);
	test_storage_fixture_add_user(conn, TEST_CID, TEST_BOB, "bob", true);
	test_storage_fixture_add_user(conn, TEST_CID, TEST_CAROL, "carol", true);
	test_storage_fixture_add_folder(conn, TEST_CID, TEST_SHARED, 1, TEST_ALICE, shared_module,
	                                "Team");
	test_storage_fixture_grant(conn, TEST_CID, TEST_SHARED, TEST_BOB,
	                           FOLDER_BITS(1, 2, 0, 0, 0));
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO filestore_usage (cid, used_bytes, objects) VALUES (?, 0, 1)", "i",
	            (int64_t)TEST_CID) == 0);
	sql_conn_put(&conn);
	struct storage_settings set = {.locate = locate, .max_objects = max_objects};
	env->storage = storage_create(&set);
}

int64_t test_storage_env_default(struct test_storage_env *env, int64_t uid, const char *module)
{
	struct sql_conn *conn;
	struct sql_error err;
	int64_t id = 0;
	test_assert(sql_conn_get(env->db, SQL_WRITE, TEST_CID, &conn, &err) == 0);
	test_assert(folder_default(conn, TEST_CID, uid, module, &id, &err) == 1);
	sql_conn_put(&conn);
	return id;
}
