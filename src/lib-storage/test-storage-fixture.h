/* SPDX-License-Identifier: MIT */
/* The user database the lib-storage unit tests set up: a temp dir, the user schema on SQLite
   there or on the database TANDEM_TEST_SQL_URL names, contexts, users and folders. Linked
   into the tests only. Every function asserts (test_assert) instead of returning errors. */
#ifndef TEST_STORAGE_FIXTURE_H
#define TEST_STORAGE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sql_conn;
struct sql_db;

/* Prints "# database <which>" (the password of a TANDEM_TEST_SQL_URL hidden). */
void test_storage_fixture_print_db(void);

/* Makes a fresh directory /tmp/<prefix>-XXXXXX into dir (size bytes). */
void test_storage_fixture_mkdir(char *dir, size_t size, const char *prefix);

/* Removes dir and all below it, and empties dir; nothing when dir is already empty. */
void test_storage_fixture_rmdir(char *dir);

/* Opens the user database: the one TANDEM_TEST_SQL_URL names when use_env is true and it is
   set, else dir/user.sqlite; applies the user-schema migrations. Returns the database and a
   write connection (context 1's shard) the caller puts back. */
void test_storage_fixture_open(const char *dir, bool use_env, struct sql_db **db_r,
                               struct sql_conn **conn_r);

/* Deletes every row of the count tables, or only context cid's rows when cid is not 0 (a
   shared MariaDB database keeps nothing of an earlier run). */
void test_storage_fixture_clear(struct sql_conn *conn, const char *const *tables, size_t count,
                                int64_t cid);

/* Context cid as createcontext starts it: its id sequence at next_id and its root folders. */
void test_storage_fixture_add_context(struct sql_conn *conn, int64_t cid, int64_t next_id);

/* An enabled, non-admin user login (id in cid); with defaults, its default folders too. */
void test_storage_fixture_add_user(struct sql_conn *conn, int64_t cid, int64_t id,
                                   const char *login, bool defaults);

/* A non-system folder of owner in module below parent, the owner holding all rights. */
void test_storage_fixture_add_folder(struct sql_conn *conn, int64_t cid, int64_t id, int64_t parent,
                                     int64_t owner, const char *module, const char *title);

/* Gives user entity the permission bits on folder. */
void test_storage_fixture_grant(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t entity,
                                int64_t bits);

#endif
