/* SPDX-License-Identifier: MIT */
/* The shared setup of the lib-storage unit tests, so that each test states only its data. */
#include "test-storage-fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "folder.h"
#include "migrate.h"
#include "schema.h"
#include "sql.h"
#include "test.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

void test_storage_fixture_print_db(void)
{
	const char *env = getenv("TANDEM_TEST_SQL_URL");
	char redacted[400];
	sql_url_redact(env != NULL ? env : "sqlite (temp file)", redacted, sizeof(redacted));
	printf("# database %s\n", redacted);
}

void test_storage_fixture_mkdir(char *dir, size_t size, const char *prefix)
{
	snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
	test_assert(mkdtemp(dir) != NULL);
}

void test_storage_fixture_rmdir(char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

void test_storage_fixture_open(const char *dir, bool use_env, struct sql_db **db_r,
                               struct sql_conn **conn_r)
{
	struct sql_error err;
	char url[400];
	const char *env = use_env ? getenv("TANDEM_TEST_SQL_URL") : NULL;

	if (env != NULL)
		snprintf(url, sizeof(url), "%s", env);
	else
		snprintf(url, sizeof(url), "sqlite://%s/user.sqlite", dir);
	test_assert(sql_db_open(url, NULL, true, db_r, &err) == 0);
	test_assert(sql_conn_get(*db_r, SQL_WRITE, 1, conn_r, &err) == 0);
	test_assert(migrate_apply(*conn_r, "userdb", schema_userdb, schema_userdb_count, &err) ==
	            0);
}

void test_storage_fixture_clear(struct sql_conn *conn, const char *const *tables, size_t count,
                                int64_t cid)
{
	struct sql_error err;
	for (size_t i = 0; i < count; i++) {
		char sql[80];
		if (cid == 0) {
			snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
			test_assert(sql_exec(conn, sql, &err) == 0);
		} else {
			snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE cid=?", tables[i]);
			test_assert(sql_run(conn, &err, sql, "i", cid) == 0);
		}
	}
}

void test_storage_fixture_add_context(struct sql_conn *conn, int64_t cid, int64_t next_id)
{
	struct sql_error err;
	test_assert(
	    sql_run(conn, &err, "INSERT INTO ctx_sequence VALUES (?, ?)", "ii", cid, next_id) == 0);
	test_assert(folder_create_context_roots(conn, cid, &err) == 0);
}

void test_storage_fixture_add_user(struct sql_conn *conn, int64_t cid, int64_t id,
                                   const char *login, bool defaults)
{
	struct sql_error err;
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO users (cid, id, login, display_name, given_name, sur_name, "
	            "email, password_hash, enabled, disabled_reason, is_admin, created, "
	            "modified) VALUES (?, ?, ?, ?, 'G', 'S', 'e@x', 'h', 1, NULL, 0, 0, 0)",
	            "iiss", cid, id, login, login) == 0);
	if (defaults)
		test_assert(folder_create_user_defaults(conn, cid, id, &err) == 0);
}

void test_storage_fixture_add_folder(struct sql_conn *conn, int64_t cid, int64_t id, int64_t parent,
                                     int64_t owner, const char *module, const char *title)
{
	struct sql_error err;
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO folder (cid, id, parent, owner, module, title, is_system, "
	                    "default_for, created, modified) VALUES "
	                    "(?, ?, ?, ?, ?, ?, 0, NULL, 0, 0)",
	                    "iiiiss", cid, id, parent, owner, module, title) == 0);
	test_storage_fixture_grant(conn, cid, id, owner, FOLDER_BITS_OWNER);
}

void test_storage_fixture_grant(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t entity,
                                int64_t bits)
{
	struct sql_error err;
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO folder_permission (cid, folder, entity, is_group, bits) "
	                    "VALUES (?, ?, ?, 0, ?)",
	                    "iiii", cid, folder, entity, bits) == 0);
}
