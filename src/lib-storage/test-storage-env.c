/* SPDX-License-Identifier: MIT */
/* The fixture of test-storage-calendar and test-storage-contacts. */
#include "test-storage-env.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "folder.h"
#include "migrate.h"
#include "pool.h"
#include "schema.h"
#include "sql.h"
#include "test.h"

static struct test_storage_env *current;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static struct sql_db *locate(void *ctx, int64_t cid, struct storage_context *ctx_r,
                             struct storage_error *err)
{
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s", current->dir);
	return current->db;
}

static void add_user(struct sql_conn *conn, int64_t id, const char *login)
{
	struct sql_error err;
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO users (cid, id, login, display_name, given_name, sur_name, "
	            "email, password_hash, enabled, disabled_reason, is_admin, created, "
	            "modified) VALUES (?, ?, ?, ?, 'G', 'S', 'e@x', 'h', 1, NULL, 0, 0, 0)",
	            "iiss", (int64_t)TEST_CID, id, login, login) == 0);
	test_assert(folder_create_user_defaults(conn, TEST_CID, id, &err) == 0);
}

void test_storage_env_teardown(struct test_storage_env *env)
{
	storage_destroy(&env->storage);
	sql_db_close(&env->db);
	if (env->dir[0] != '\0')
		nftw(env->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	env->dir[0] = '\0';
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
	char url[400];
	const char *env_url = getenv("TANDEM_TEST_SQL_URL");

	test_storage_env_teardown(env);
	current = env;
	env->pool = pool_create(0);
	snprintf(env->dir, sizeof(env->dir), "/tmp/test-storage-XXXXXX");
	test_assert(mkdtemp(env->dir) != NULL);
	if (env_url != NULL)
		snprintf(url, sizeof(url), "%s", env_url);
	else
		snprintf(url, sizeof(url), "sqlite://%s/user.sqlite", env->dir);
	test_assert(sql_db_open(url, NULL, true, &env->db, &err) == 0);
	test_assert(sql_conn_get(env->db, SQL_WRITE, TEST_CID, &conn, &err) == 0);
	test_assert(migrate_apply(conn, "userdb", schema_userdb, schema_userdb_count, &err) == 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
		test_assert(sql_exec(conn, sql, &err) == 0);
	}
	test_assert(sql_begin(conn, true, &err) == 0);
	test_assert(sql_run(conn, &err, "INSERT INTO ctx_sequence VALUES (?, 200)", "i",
	                    (int64_t)TEST_CID) == 0);
	test_assert(folder_create_context_roots(conn, TEST_CID, &err) == 0);
	add_user(conn, TEST_ALICE, "alice");
	add_user(conn, TEST_BOB, "bob");
	add_user(conn, TEST_CAROL, "carol");
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO folder (cid, id, parent, owner, module, title, is_system, "
	                    "default_for, created, modified) VALUES "
	                    "(?, ?, 1, ?, ?, 'Team', 0, NULL, 0, 0)",
	                    "iiis", (int64_t)TEST_CID, (int64_t)TEST_SHARED, (int64_t)TEST_ALICE,
	                    shared_module) == 0);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO folder_permission (cid, folder, entity, is_group, bits) "
	                    "VALUES (?, ?, ?, 0, ?), (?, ?, ?, 0, ?)",
	                    "iiiiiiii", (int64_t)TEST_CID, (int64_t)TEST_SHARED,
	                    (int64_t)TEST_ALICE, (int64_t)FOLDER_BITS_OWNER, (int64_t)TEST_CID,
	                    (int64_t)TEST_SHARED, (int64_t)TEST_BOB,
	                    (int64_t)FOLDER_BITS(1, 2, 0, 0, 0)) == 0);
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO filestore_usage (cid, used_bytes, objects) VALUES (?, 0, 1)", "i",
	            (int64_t)TEST_CID) == 0);
	test_assert(sql_commit(conn, &err) == 0);
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

void test_storage_env_print_database(void)
{
	const char *env = getenv("TANDEM_TEST_SQL_URL");
	char redacted[400];
	sql_url_redact(env != NULL ? env : "sqlite (temp file)", redacted, sizeof(redacted));
	printf("# database %s\n", redacted);
}
