/* SPDX-License-Identifier: MIT */
/* Driver conformance tests for the SQL layer: a fresh SQLite file by default, or the database
   named by TANDEM_TEST_SQL_URL (e.g. a private MariaDB started by the integration tests). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "sql.h"
#include "test.h"

static char db_url[600];
static char sqlite_path[512];
static struct sql_settings settings;

static void sql_failed(const char *file, int line, const char *what, const struct sql_error *err)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s -> %s: %s", what, sql_error_kind_name(err->kind),
	         err->message);
	test__fail(file, line, msg);
}

/* Asserts that a call returning < 0 on error succeeded, printing the SQL error if not. */
#define check_ok(expr)                                                                             \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			sql_failed(__FILE__, __LINE__, #expr, &err);                               \
	} while (0)

static struct sql_db *open_db_with(const struct sql_settings *set)
{
	struct sql_db *db = NULL;
	struct sql_error err = {0};

	if (sql_db_open(db_url, set, true, &db, &err) < 0) {
		/* Nothing else can run without the database. */
		printf("FAIL cannot open %s: %s\n", db_url, err.message);
		exit(1);
	}
	return db;
}

static struct sql_db *open_db(void)
{
	return open_db_with(&settings);
}

static struct sql_conn *get_conn(struct sql_db *db)
{
	struct sql_conn *conn = NULL;
	struct sql_error err = {0};

	if (sql_conn_get(db, SQL_WRITE, 0, &conn, &err) < 0) {
		printf("FAIL cannot get a connection: %s\n", err.message);
		exit(1);
	}
	return conn;
}

static bool is_mariadb(struct sql_db *db)
{
	return sql_db_driver(db) == SQL_DRIVER_MARIADB;
}

/* MariaDB's server default charset may be latin1 (it is with --no-defaults): say utf8mb4. */
static const char *table_options(struct sql_db *db)
{
	return is_mariadb(db) ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" : "";
}

static void create_table(struct sql_db *db, struct sql_conn *conn, const char *name,
                         const char *columns)
{
	struct sql_error err = {0};
	char sql[512];

	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", name);
	check_ok(sql_exec(conn, sql, &err));
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (%s)%s", name, columns, table_options(db));
	check_ok(sql_exec(conn, sql, &err));
}

/* MEDIUMTEXT, not TEXT: MariaDB's TEXT holds at most 64 KiB; SQLite takes any type name. */
#define T_COLUMNS                                                                                  \
	"id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, note MEDIUMTEXT NULL"

static int64_t count_rows(struct sql_conn *conn, const char *table)
{
	struct sql_error err = {0};
	int64_t n = -1;
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	if (sql_query_int64(conn, &err, &n, sql, "") != 1)
		sql_failed(__FILE__, __LINE__, sql, &err);
	return n;
}

static void insert_t(struct sql_conn *conn, int64_t id, const char *name, const char *note)
{
	struct sql_error err = {0};

	check_ok(sql_run(conn, &err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss", id,
	                 name, note));
}

/* ---------------------------------------------------------------- URLs */

static void test_url_parse_good(void)
{
	struct sql_url u;
	const char *error = NULL;

	test_assert(sql_url_parse("mariadb://app:p%40ss%3Aw%2Fd%25@db.example.org:3307/tandem", &u,
	                          &error) == 0);
	test_assert_int_eq(u.driver, SQL_DRIVER_MARIADB);
	test_assert_str_eq(u.host, "db.example.org");
	test_assert_int_eq(u.port, 3307);
	test_assert_str_eq(u.user, "app");
	test_assert_str_eq(u.password, "p@ss:w/d%");
	test_assert_str_eq(u.database, "tandem");

	test_assert(sql_url_parse("mariadb://app@db1/tandem_2", &u, &error) == 0);
	test_assert_int_eq(u.port, 3306);
	test_assert_str_eq(u.user, "app");
	test_assert_str_eq(u.password, "");
	test_assert_str_eq(u.host, "db1");
	test_assert_str_eq(u.database, "tandem_2");

	test_assert(sql_url_parse("mariadb://10.0.0.7/x", &u, &error) == 0);
	test_assert_int_eq(u.port, 3306);
	test_assert_str_eq(u.user, "");
	test_assert_str_eq(u.host, "10.0.0.7");

	test_assert(sql_url_parse("mariadb://u:pw@localhost:3310/x", &u, &error) == 0);
	test_assert(strcmp(u.host, "localhost") == 0 || strcmp(u.host, "127.0.0.1") == 0);
	test_assert_int_eq(u.port, 3310);

	test_assert(sql_url_parse("sqlite:///var/lib/tandem/db.sqlite", &u, &error) == 0);
	test_assert_int_eq(u.driver, SQL_DRIVER_SQLITE);
	test_assert_str_eq(u.path, "/var/lib/tandem/db.sqlite");

	test_assert(sql_url_parse("sqlite://relative/dir/db.sqlite", &u, &error) == 0);
	test_assert_str_eq(u.path, "relative/dir/db.sqlite");

	test_assert(sql_url_parse("sqlite:///var/lib/tandem/", &u, &error) == 0);
	test_assert_str_eq(u.path, "/var/lib/tandem/");
}

static void test_url_parse_bad(void)
{
	static const char *const bad[] = {
	    "",
	    "postgres://u:p@h/db",
	    "mariadb:/h/db",
	    "sqlite://",
	    "mariadb://",
	    "mariadb://u:p@h:99999/db",
	    "mariadb://u:p@h:0/db",
	    "mariadb://u:p@h:port/db",
	    "mariadb://u:p@h:/db",
	    "mariadb://u:p@:3306/db",
	    "mariadb://u:p%zz@h/db",
	    "mariadb://u:p%4@h/db",
	    NULL,
	};
	char long_password[300];
	char url[400];
	struct sql_url u;

	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *error = NULL;

		test_set_context(bad[i]);
		test_assert(sql_url_parse(bad[i], &u, &error) < 0);
		test_assert(error != NULL && error[0] != '\0');
	}
	test_set_context(NULL);

	memset(long_password, 'x', sizeof(long_password) - 1);
	long_password[sizeof(long_password) - 1] = '\0';
	snprintf(url, sizeof(url), "mariadb://u:%s@h/db", long_password);
	{
		const char *error = NULL;

		test_assert(sql_url_parse(url, &u, &error) < 0);
		test_assert(error != NULL);
	}
}

static void test_url_redact(void)
{
	char out[256];
	char small[12];

	sql_url_redact("mariadb://app:s3cret@db:3306/tandem", out, sizeof(out));
	test_assert_str_eq(out, "mariadb://app:***@db:3306/tandem");
	sql_url_redact("mariadb://app:p%40ss%2F@db/tandem", out, sizeof(out));
	test_assert(strstr(out, "p%40ss") == NULL);
	test_assert(strstr(out, "***") != NULL);
	sql_url_redact("mariadb://app@db/tandem", out, sizeof(out));
	test_assert_str_eq(out, "mariadb://app@db/tandem");
	sql_url_redact("sqlite:///var/lib/tandem/db.sqlite", out, sizeof(out));
	test_assert_str_eq(out, "sqlite:///var/lib/tandem/db.sqlite");

	/* A short buffer truncates but never shows the password nor overflows. */
	sql_url_redact("mariadb://a:s3cret@db/x", small, sizeof(small));
	test_assert(strlen(small) < sizeof(small));
	test_assert(strstr(small, "s3c") == NULL);
}

/* ---------------------------------------------------------------- opening */

static void test_open(void)
{
	struct sql_settings set = settings;
	struct sql_error err = {0};
	struct sql_db *db = NULL;
	struct sql_url u;
	const char *error;
	char missing[600];

	db = open_db();
	test_assert(sql_url_parse(db_url, &u, &error) == 0);
	test_assert_int_eq(sql_db_driver(db), u.driver);
	if (u.password[0] != '\0')
		test_assert(strstr(sql_db_url(db), u.password) == NULL);
	test_assert(strstr(sql_db_url(db), "://") != NULL);
	sql_db_close(&db);
	test_assert(db == NULL);

	/* Nothing listens on port 1: refused at once, well within the connect timeout. */
	set.connect_timeout_ms = 2000;
	test_assert(sql_db_open("mariadb://u:p@127.0.0.1:1/x", &set, false, &db, &err) < 0);
	test_assert_int_eq(err.kind, SQL_ERR_CONNECTION);
	test_assert(err.message[0] != '\0');
	test_assert(db == NULL);

	memset(&err, 0, sizeof(err));
	test_assert(sql_db_open("nosuch://x/y", &set, false, &db, &err) < 0);
	test_assert(err.kind != SQL_ERR_NONE);
	test_assert(err.message[0] != '\0');
	test_assert(db == NULL);

	/* A missing SQLite file is not created unless asked to. */
	snprintf(missing, sizeof(missing), "sqlite:///tmp/tandem-test-sql-%d-missing.sqlite",
	         (int)getpid());
	memset(&err, 0, sizeof(err));
	test_assert(sql_db_open(missing, &set, false, &db, &err) < 0);
	test_assert_int_eq(err.kind, SQL_ERR_CONNECTION);
	test_assert(access(missing + strlen("sqlite://"), F_OK) != 0);
}

/* ---------------------------------------------------------------- rows */

static const char *const special_values[] = {
    "plain",
    "it's \"quoted\"",
    "back\\slash \\' \\\\ \\0 \\n",
    "Gr\xc3\xbc\xc3\x9f"
    "e, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e, emoji \xf0\x9f\x8e\x89",
    "ctl \x01\x02\x1f\x7f tab\t nl\n cr\r",
    "'); DROP TABLE t; --",
    "%_?* ? ?",
    "",
    NULL,
};

static void test_insert_select(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	struct sql_stmt *stmt;
	size_t n = 0;
	int64_t value;
	int rc;

	create_table(db, conn, "t", T_COLUMNS);
	for (n = 0; special_values[n] != NULL; n++) {
		stmt = sql_prepare(conn, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", &err);
		test_assert(stmt != NULL);
		if (stmt == NULL)
			break;
		sql_bind_int64(stmt, 1, (int64_t)n + 1);
		sql_bind_text(stmt, 2, special_values[n]);
		if (n % 2 == 0)
			sql_bind_text(stmt, 3, special_values[n]);
		else if (n % 4 == 1)
			sql_bind_null(stmt, 3);
		else
			sql_bind_text(stmt, 3, NULL);
		test_assert_int_eq(sql_step(stmt, &err), 0);
		test_assert_int_eq(sql_stmt_changes(stmt), 1);
		sql_stmt_done(&stmt);
		test_assert(stmt == NULL);
	}
	test_assert_int_eq(count_rows(conn, "t"), n);

	stmt = sql_prepare(conn, "SELECT id, name, note FROM t ORDER BY id", &err);
	test_assert(stmt != NULL);
	for (size_t i = 0; stmt != NULL; i++) {
		rc = sql_step(stmt, &err);
		if (rc <= 0) {
			test_assert_int_eq(rc, 0);
			test_assert_int_eq(i, n);
			break;
		}
		test_set_context(special_values[i]);
		test_assert_int_eq(sql_col_int64(stmt, 0), i + 1);
		test_assert_str_eq(sql_col_text(stmt, 1), special_values[i]);
		test_assert(!sql_col_is_null(stmt, 1));
		if (i % 2 == 0) {
			test_assert_str_eq(sql_col_text(stmt, 2), special_values[i]);
			test_assert(!sql_col_is_null(stmt, 2));
		} else {
			test_assert(sql_col_text(stmt, 2) == NULL);
			test_assert(sql_col_is_null(stmt, 2));
		}
	}
	test_set_context(NULL);
	/* Stepping past the end stays at "done". */
	if (stmt != NULL)
		test_assert_int_eq(sql_step(stmt, &err), 0);
	sql_stmt_done(&stmt);

	/* A value that looks like SQL is only ever data. */
	test_assert_int_eq(sql_query_int64(conn, &err, &value, "SELECT id FROM t WHERE name = ?",
	                                   "s", "'); DROP TABLE t; --"),
	                   1);
	test_assert_int_eq(value, 6);

	/* No row: the first step says done. */
	stmt = sql_prepare(conn, "SELECT id, name FROM t WHERE id > ?", &err);
	test_assert(stmt != NULL);
	if (stmt != NULL) {
		sql_bind_int64(stmt, 1, 1000);
		test_assert_int_eq(sql_step(stmt, &err), 0);
		sql_stmt_done(&stmt);
	}

	/* UPDATE counts the rows it matched, also when a value did not change. */
	test_assert_int_eq(sql_run_changes(conn, &err, "UPDATE t SET note = ? WHERE id = ?", "si",
	                                   "changed", (int64_t)1),
	                   1);
	test_assert_int_eq(sql_run_changes(conn, &err, "UPDATE t SET note = ? WHERE id = ?", "si",
	                                   "changed", (int64_t)1),
	                   1);
	test_assert_int_eq(sql_run_changes(conn, &err, "UPDATE t SET note = ? WHERE id = ?", "si",
	                                   "changed", (int64_t)999),
	                   0);
	test_assert_int_eq(
	    sql_run_changes(conn, &err, "DELETE FROM t WHERE id > ?", "i", (int64_t)4), n - 4);
	test_assert_int_eq(count_rows(conn, "t"), 4);

	sql_conn_put(&conn);
	test_assert(conn == NULL);
	sql_db_close(&db);
}

static void test_int64_range(void)
{
	static const int64_t values[] = {INT64_MAX, INT64_MIN, 0, -1, 9007199254740993LL};
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	struct sql_stmt *stmt;
	char name[32], want[32];

	create_table(db, conn, "t", T_COLUMNS);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		insert_t(conn, values[i], name, NULL);
	}
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		snprintf(want, sizeof(want), "%" PRId64, values[i]);
		stmt = sql_prepare(conn, "SELECT id, id FROM t WHERE name = ?", &err);
		test_assert(stmt != NULL);
		if (stmt == NULL)
			break;
		sql_bind_text(stmt, 1, name);
		test_assert_int_eq(sql_step(stmt, &err), 1);
		test_assert(sql_col_int64(stmt, 0) == values[i]);
		test_assert_str_eq(sql_col_text(stmt, 1), want);
		sql_stmt_done(&stmt);
	}
	sql_conn_put(&conn);
	sql_db_close(&db);
}

/* Fills buf (size bytes incl. NUL) with a recognisable pattern that includes UTF-8. */
static void fill_text(char *buf, size_t size, unsigned seed)
{
	static const char unit[] = "abc\xc3\xa9\xe6\x97\xa5-0123456789|";
	size_t len = size - 1, i = 0;

	while (i < len) {
		size_t take = sizeof(unit) - 1;

		if (take > len - i) {
			/* Pad with ASCII so no multi-byte sequence is cut. */
			memset(buf + i, 'z', len - i);
			break;
		}
		memcpy(buf + i, unit, take);
		buf[i] = (char)('a' + (seed + i) % 26);
		i += take;
	}
	buf[len] = '\0';
}

static void test_large_values(void)
{
	/* Lengths around the driver's first column buffer and well past it. */
	static const size_t lengths[] = {0, 1, 126, 127, 128, 129, 255, 256, 257, 1000, 100 * 1024};
	const size_t count = sizeof(lengths) / sizeof(lengths[0]);
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	struct sql_stmt *stmt;
	char *texts[sizeof(lengths) / sizeof(lengths[0])];
	char name[32];

	create_table(db, conn, "t", T_COLUMNS);
	for (size_t i = 0; i < count; i++) {
		texts[i] = mem_alloc(lengths[i] + 1);
		fill_text(texts[i], lengths[i] + 1, (unsigned)i);
		snprintf(name, sizeof(name), "len-%zu", lengths[i]);
		insert_t(conn, (int64_t)i, name, texts[i]);
	}
	/* Twice: the second run reuses the cached statement and its grown buffers. */
	for (int round = 0; round < 2; round++) {
		stmt = sql_prepare(conn, "SELECT id, note, name FROM t ORDER BY id", &err);
		test_assert(stmt != NULL);
		if (stmt == NULL)
			break;
		for (size_t i = 0; i < count; i++) {
			const char *got;

			test_assert_int_eq(sql_step(stmt, &err), 1);
			got = sql_col_text(stmt, 1);
			test_assert(got != NULL);
			if (got == NULL)
				break;
			test_assert_int_eq(strlen(got), lengths[i]);
			test_assert(strcmp(got, texts[i]) == 0);
			snprintf(name, sizeof(name), "len-%zu", lengths[i]);
			test_assert_str_eq(sql_col_text(stmt, 2), name);
		}
		test_assert_int_eq(sql_step(stmt, &err), 0);
		sql_stmt_done(&stmt);
	}
	/* The big value alone, then a NULL in the same column of the same statement. */
	stmt = sql_prepare(conn, "SELECT note FROM t WHERE id = ?", &err);
	test_assert(stmt != NULL);
	if (stmt != NULL) {
		sql_bind_int64(stmt, 1, (int64_t)count - 1);
		test_assert_int_eq(sql_step(stmt, &err), 1);
		test_assert(sql_col_text(stmt, 0) != NULL &&
		            strcmp(sql_col_text(stmt, 0), texts[count - 1]) == 0);
		sql_stmt_done(&stmt);
	}
	check_ok(
	    sql_run(conn, &err, "UPDATE t SET note = NULL WHERE id = ?", "i", (int64_t)count - 1));
	stmt = sql_prepare(conn, "SELECT note FROM t WHERE id = ?", &err);
	test_assert(stmt != NULL);
	if (stmt != NULL) {
		sql_bind_int64(stmt, 1, (int64_t)count - 1);
		test_assert_int_eq(sql_step(stmt, &err), 1);
		test_assert(sql_col_text(stmt, 0) == NULL);
		test_assert(sql_col_is_null(stmt, 0));
		sql_stmt_done(&stmt);
	}
	for (size_t i = 0; i < count; i++)
		mem_free(&texts[i]);
	sql_conn_put(&conn);
	sql_db_close(&db);
}

static void test_auto_increment(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	struct sql_stmt *stmt;
	int64_t id;

	create_table(db, conn, "a",
	             is_mariadb(db)
	                 ? "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v TEXT NOT NULL"
	                 : "id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL");
	for (int64_t i = 1; i <= 4; i++) {
		char v[16];

		snprintf(v, sizeof(v), "v%" PRId64, i);
		stmt = sql_prepare(conn, "INSERT INTO a (v) VALUES (?)", &err);
		test_assert(stmt != NULL);
		if (stmt == NULL)
			break;
		sql_bind_text(stmt, 1, v);
		test_assert_int_eq(sql_step(stmt, &err), 0);
		test_assert_int_eq(sql_stmt_changes(stmt), 1);
		test_assert_int_eq(sql_stmt_last_insert_id(stmt), i);
		sql_stmt_done(&stmt);
		test_assert_int_eq(
		    sql_query_int64(conn, &err, &id, "SELECT id FROM a WHERE v = ?", "s", v), 1);
		test_assert_int_eq(id, i);
	}
	test_assert_int_eq(
	    sql_run_changes(conn, &err, "INSERT INTO a (v) VALUES (?), (?)", "ss", "m1", "m2"), 2);
	test_assert_int_eq(count_rows(conn, "a"), 6);
	sql_conn_put(&conn);
	sql_db_close(&db);
}

static void test_errors(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	int64_t value = 42;

	create_table(db, conn, "t", T_COLUMNS);
	insert_t(conn, 1, "one", NULL);

	/* unique violated */
	memset(&err, 0, sizeof(err));
	test_assert(sql_run(conn, &err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss",
	                    (int64_t)2, "one", "dup name") < 0);
	test_assert_int_eq(err.kind, SQL_ERR_CONSTRAINT);
	test_assert(err.native != 0);
	test_assert(err.message[0] != '\0');
	/* primary key violated */
	memset(&err, 0, sizeof(err));
	test_assert(sql_run(conn, &err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss",
	                    (int64_t)1, "two", "dup id") < 0);
	test_assert_int_eq(err.kind, SQL_ERR_CONSTRAINT);
	/* NOT NULL violated */
	memset(&err, 0, sizeof(err));
	test_assert(sql_run(conn, &err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss",
	                    (int64_t)3, (const char *)NULL, "null name") < 0);
	test_assert_int_eq(err.kind, SQL_ERR_CONSTRAINT);

	/* The connection is still good and nothing was written. */
	test_assert_int_eq(count_rows(conn, "t"), 1);

	/* syntax and unknown tables */
	memset(&err, 0, sizeof(err));
	test_assert(sql_prepare(conn, "SELEKT 1", &err) == NULL);
	test_assert_int_eq(err.kind, SQL_ERR_OTHER);
	memset(&err, 0, sizeof(err));
	test_assert(sql_exec(conn, "THIS IS NOT SQL", &err) < 0);
	test_assert_int_eq(err.kind, SQL_ERR_OTHER);
	memset(&err, 0, sizeof(err));
	test_assert_int_eq(sql_query_int64(conn, &err, &value, "SELECT id FROM no_such_table", ""),
	                   -1);
	test_assert_int_eq(err.kind, SQL_ERR_OTHER);
	test_assert_int_eq(value, 42);
	test_assert_str_eq(sql_error_kind_name(SQL_ERR_CONSTRAINT), "constraint");

	test_assert_int_eq(count_rows(conn, "t"), 1);
	sql_conn_put(&conn);
	sql_db_close(&db);
}

/* ---------------------------------------------------------------- transactions */

static void test_transactions(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *c1 = get_conn(db);
	struct sql_conn *c2 = get_conn(db);
	struct sql_error err = {0};
	int64_t value;

	test_assert(c1 != c2);
	create_table(db, c1, "t", T_COLUMNS);

	/* rolled back: never visible */
	check_ok(sql_begin(c1, true, &err));
	insert_t(c1, 1, "one", NULL);
	test_assert_int_eq(count_rows(c1, "t"), 1);
	test_assert_int_eq(count_rows(c2, "t"), 0);
	sql_rollback(c1);
	test_assert_int_eq(count_rows(c1, "t"), 0);
	test_assert_int_eq(count_rows(c2, "t"), 0);

	/* committed: visible to the other connection only after COMMIT */
	check_ok(sql_begin(c1, true, &err));
	insert_t(c1, 2, "two", NULL);
	test_assert_int_eq(count_rows(c2, "t"), 0);
	check_ok(sql_commit(c1, &err));
	test_assert_int_eq(count_rows(c2, "t"), 1);

	/* a read transaction */
	check_ok(sql_begin(c2, false, &err));
	test_assert_int_eq(
	    sql_query_int64(c2, &err, &value, "SELECT id FROM t WHERE name = ?", "s", "two"), 1);
	test_assert_int_eq(value, 2);
	check_ok(sql_commit(c2, &err));

	/* returning a connection with an open transaction rolls it back */
	check_ok(sql_begin(c1, true, &err));
	insert_t(c1, 3, "three", NULL);
	sql_conn_put(&c1);
	test_assert(c1 == NULL);
	test_assert_int_eq(count_rows(c2, "t"), 1);
	c1 = get_conn(db);
	test_assert_int_eq(count_rows(c1, "t"), 1);
	insert_t(c1, 3, "three", NULL); /* autocommit again */
	test_assert_int_eq(count_rows(c2, "t"), 2);

	sql_conn_put(&c1);
	sql_conn_put(&c2);
	sql_db_close(&db);
}

static void test_busy(void)
{
	struct sql_settings set = settings;
	struct sql_db *db;
	struct sql_conn *c1, *c2;
	struct sql_error err = {0};
	int64_t value = 0;
	int rc;

	/* One second is the smallest MariaDB lock wait. */
	set.busy_timeout_ms = 1000;
	db = open_db_with(&set);
	c1 = get_conn(db);
	c2 = get_conn(db);
	create_table(db, c1, "bz", "id BIGINT NOT NULL PRIMARY KEY, v BIGINT NOT NULL");
	check_ok(sql_run(c1, &err, "INSERT INTO bz (id, v) VALUES (?, ?)", "ii", (int64_t)1,
	                 (int64_t)0));

	check_ok(sql_begin(c1, true, &err));
	check_ok(sql_run(c1, &err, "UPDATE bz SET v = v + 1 WHERE id = ?", "i", (int64_t)1));
	/* SQLite refuses the second writer at BEGIN IMMEDIATE; InnoDB at the locked row. */
	memset(&err, 0, sizeof(err));
	rc = sql_begin(c2, true, &err);
	if (rc == 0) {
		rc = sql_run(c2, &err, "UPDATE bz SET v = v + 1 WHERE id = ?", "i", (int64_t)1);
		sql_rollback(c2);
	}
	test_assert_int_eq(rc, -1);
	test_assert_int_eq(err.kind, SQL_ERR_BUSY);
	check_ok(sql_commit(c1, &err));
	test_assert_int_eq(
	    sql_query_int64(c2, &err, &value, "SELECT v FROM bz WHERE id = ?", "i", (int64_t)1), 1);
	test_assert_int_eq(value, 1);

	sql_conn_put(&c1);
	sql_conn_put(&c2);
	sql_db_close(&db);
}

struct txn_ctx {
	int64_t id;
	unsigned calls;
	unsigned busy_calls;  /* fail with BUSY this many times first */
	bool logical_failure; /* return -1 without an SQL error */
};

static int txn_insert(struct sql_conn *conn, void *context, struct sql_error *err)
{
	struct txn_ctx *ctx = context;
	char name[32];

	ctx->calls++;
	snprintf(name, sizeof(name), "txn-%" PRId64, ctx->id);
	if (sql_run(conn, err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss", ctx->id,
	            name, (const char *)NULL) < 0)
		return -1;
	if (ctx->calls <= ctx->busy_calls) {
		sql_error_set(err, SQL_ERR_BUSY, 0, "simulated busy");
		return -1;
	}
	return ctx->logical_failure ? -1 : 0;
}

static void test_transaction_helper(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	struct txn_ctx ctx;

	create_table(db, conn, "t", T_COLUMNS);
	sql_conn_put(&conn);

	ctx = (struct txn_ctx){.id = 1};
	check_ok(sql_transaction(db, SQL_WRITE, 0, txn_insert, &ctx, &err));
	test_assert_int_eq(ctx.calls, 1);

	/* logical failure: rolled back, err left empty */
	ctx = (struct txn_ctx){.id = 2, .logical_failure = true};
	test_assert_int_eq(sql_transaction(db, SQL_WRITE, 0, txn_insert, &ctx, &err), -1);
	test_assert_int_eq(err.kind, SQL_ERR_NONE);
	test_assert_int_eq(ctx.calls, 1);

	/* SQL error: not retried */
	ctx = (struct txn_ctx){.id = 1};
	test_assert_int_eq(sql_transaction(db, SQL_WRITE, 0, txn_insert, &ctx, &err), -1);
	test_assert_int_eq(err.kind, SQL_ERR_CONSTRAINT);
	test_assert_int_eq(ctx.calls, 1);

	/* BUSY: retried, the failed attempts rolled back */
	ctx = (struct txn_ctx){.id = 3, .busy_calls = 2};
	check_ok(sql_transaction(db, SQL_WRITE, 0, txn_insert, &ctx, &err));
	test_assert_int_eq(ctx.calls, 3);

	/* always BUSY: the first try and 5 retries, then the error */
	ctx = (struct txn_ctx){.id = 4, .busy_calls = 1000};
	test_assert_int_eq(sql_transaction(db, SQL_WRITE, 0, txn_insert, &ctx, &err), -1);
	test_assert_int_eq(err.kind, SQL_ERR_BUSY);
	test_assert_int_eq(ctx.calls, 6);

	conn = get_conn(db);
	test_assert_int_eq(count_rows(conn, "t"), 2);
	test_assert_int_eq(sql_run_changes(conn, &err, "DELETE FROM t WHERE id IN (?, ?)", "ii",
	                                   (int64_t)1, (int64_t)3),
	                   2);
	sql_conn_put(&conn);
	sql_db_close(&db);
}

/* ---------------------------------------------------------------- helpers and cache */

static void test_helpers(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	int64_t value;

	create_table(db, conn, "t", T_COLUMNS);
	check_ok(sql_run(conn, &err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss",
	                 (int64_t)1, "one", (const char *)NULL));
	check_ok(sql_run(conn, &err, "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", "iss",
	                 (int64_t)2, "two", "2"));
	check_ok(sql_run(conn, &err, "INSERT INTO t (id, name) VALUES (?, ?)", "is", (int64_t)3,
	                 "three"));
	test_assert_int_eq(sql_run_changes(conn, &err, "UPDATE t SET note = ? WHERE id >= ?", "si",
	                                   "x", (int64_t)2),
	                   2);
	test_assert_int_eq(
	    sql_run_changes(conn, &err, "DELETE FROM t WHERE name = ?", "s", "nobody"), 0);

	value = -7;
	test_assert_int_eq(
	    sql_query_int64(conn, &err, &value, "SELECT id FROM t WHERE name = ?", "s", "two"), 1);
	test_assert_int_eq(value, 2);
	value = -7;
	test_assert_int_eq(
	    sql_query_int64(conn, &err, &value, "SELECT id FROM t WHERE name = ?", "s", "zero"), 0);
	test_assert_int_eq(value, -7);
	test_assert_int_eq(sql_query_int64(conn, &err, &value,
	                                   "SELECT COUNT(*) FROM t WHERE note = ? AND id > ?", "si",
	                                   "x", (int64_t)0),
	                   1);
	test_assert_int_eq(value, 2);
	/* first row of several, in order */
	test_assert_int_eq(
	    sql_query_int64(conn, &err, &value, "SELECT id FROM t ORDER BY id DESC", ""), 1);
	test_assert_int_eq(value, 3);
	test_assert_int_eq(
	    sql_query_int64(conn, &err, &value, "SELECT id FROM t WHERE note IS NULL", ""), 1);
	test_assert_int_eq(value, 1);

	sql_conn_put(&conn);
	sql_db_close(&db);
}

static void test_stmt_cache(void)
{
	static const char *const by_id = "SELECT name FROM t WHERE id = ?";
	struct sql_db *db = open_db();
	struct sql_conn *conn = get_conn(db);
	struct sql_error err = {0};
	struct sql_stmt *first = NULL, *a, *b;
	char name[32];
	int64_t value;
	int rows;

	create_table(db, conn, "t", T_COLUMNS);
	create_table(db, conn, "log", "id BIGINT NOT NULL PRIMARY KEY");
	for (int64_t i = 1; i <= 5; i++) {
		snprintf(name, sizeof(name), "row-%" PRId64, i);
		insert_t(conn, i, name, NULL);
	}

	/* The same text again and again: one statement, prepared once. */
	for (int i = 0; i < 50; i++) {
		a = sql_prepare(conn, by_id, &err);
		test_assert(a != NULL);
		if (a == NULL)
			break;
		if (first == NULL)
			first = a;
		test_assert(a == first);
		sql_bind_int64(a, 1, i % 5 + 1);
		snprintf(name, sizeof(name), "row-%d", i % 5 + 1);
		test_assert_int_eq(sql_step(a, &err), 1);
		test_assert_str_eq(sql_col_text(a, 0), name);
		test_assert_int_eq(sql_step(a, &err), 0);
		sql_stmt_done(&a);
	}

	/* Two uses of one text at the same time get two statements. */
	a = sql_prepare(conn, by_id, &err);
	b = sql_prepare(conn, by_id, &err);
	test_assert(a != NULL && b != NULL && a != b);
	if (a != NULL && b != NULL) {
		sql_bind_int64(a, 1, 1);
		sql_bind_int64(b, 1, 2);
		test_assert_int_eq(sql_step(a, &err), 1);
		test_assert_int_eq(sql_step(b, &err), 1);
		test_assert_str_eq(sql_col_text(a, 0), "row-1");
		test_assert_str_eq(sql_col_text(b, 0), "row-2");
	}
	sql_stmt_done(&a);
	sql_stmt_done(&b);

	/* Writes on the same connection while a result is being read. */
	a = sql_prepare(conn, "SELECT id, name FROM t ORDER BY id", &err);
	test_assert(a != NULL);
	rows = 0;
	while (a != NULL && sql_step(a, &err) == 1) {
		rows++;
		test_assert_int_eq(sql_col_int64(a, 0), rows);
		check_ok(sql_run(conn, &err, "INSERT INTO log (id) VALUES (?)", "i",
		                 sql_col_int64(a, 0)));
	}
	test_assert_int_eq(rows, 5);
	sql_stmt_done(&a);
	test_assert_int_eq(count_rows(conn, "log"), 5);

	/* Done in the middle of a result; the next prepare starts afresh with no bindings
	   (an unbound parameter is NULL, which matches nothing). */
	a = sql_prepare(conn, "SELECT COUNT(*) FROM t WHERE id = ?", &err);
	test_assert(a != NULL);
	if (a != NULL) {
		sql_bind_int64(a, 1, 1);
		test_assert_int_eq(sql_step(a, &err), 1);
		test_assert_int_eq(sql_col_int64(a, 0), 1);
		sql_stmt_done(&a);
	}
	a = sql_prepare(conn, "SELECT COUNT(*) FROM t WHERE id = ?", &err);
	test_assert(a != NULL);
	if (a != NULL) {
		test_assert_int_eq(sql_step(a, &err), 1);
		test_assert_int_eq(sql_col_int64(a, 0), 0);
		sql_stmt_done(&a);
	}
	a = sql_prepare(conn, "SELECT id FROM t ORDER BY id", &err);
	test_assert(a != NULL);
	if (a != NULL) {
		test_assert_int_eq(sql_step(a, &err), 1);
		test_assert_int_eq(sql_col_int64(a, 0), 1);
		sql_stmt_done(&a);
	}
	test_assert_int_eq(sql_query_int64(conn, &err, &value, "SELECT id FROM t ORDER BY id", ""),
	                   1);
	test_assert_int_eq(value, 1);

	/* Bindings past 9, given out of order. */
	a = sql_prepare(
	    conn, "SELECT COUNT(*) FROM t WHERE id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &err);
	test_assert(a != NULL);
	if (a != NULL) {
		for (unsigned i = 12; i >= 1; i--)
			sql_bind_int64(a, i, i);
		test_assert_int_eq(sql_step(a, &err), 1);
		test_assert_int_eq(sql_col_int64(a, 0), 5);
		sql_stmt_done(&a);
	}

	/* A statement left in use is released when the connection goes back. */
	a = sql_prepare(conn, by_id, &err);
	sql_conn_put(&conn);
	conn = get_conn(db);
	test_assert_int_eq(sql_query_int64(conn, &err, &value, "SELECT COUNT(*) FROM t", ""), 1);
	test_assert_int_eq(value, 5);
	sql_conn_put(&conn);
	sql_db_close(&db);
}

/* A statement abandoned in the middle of its result must not outlive the connection's return
   to the pool: with SQLite an unfinished SELECT keeps its read snapshot, so later reads on
   that connection would not see other connections' commits. */
static void test_stmt_left_open(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *c1 = get_conn(db);
	struct sql_conn *c2 = get_conn(db);
	struct sql_conn *again;
	struct sql_error err = {0};
	struct sql_stmt *stmt;

	create_table(db, c1, "t", T_COLUMNS);
	insert_t(c1, 1, "one", NULL);
	insert_t(c1, 2, "two", NULL);
	stmt = sql_prepare(c1, "SELECT id FROM t ORDER BY id", &err);
	test_assert(stmt != NULL);
	if (stmt != NULL)
		test_assert_int_eq(sql_step(stmt, &err), 1);
	sql_conn_put(&c1); /* without sql_stmt_done */
	insert_t(c2, 3, "three", NULL);
	again = get_conn(db);
	test_assert_int_eq(count_rows(again, "t"), 3);
	test_assert_int_eq(count_rows(c2, "t"), 3);
	sql_conn_put(&again);
	sql_conn_put(&c2);
	sql_db_close(&db);
}

/* ---------------------------------------------------------------- pool */

#define THREADS            4
#define INSERTS_PER_THREAD 200

struct worker {
	pthread_t thread;
	struct sql_db *db;
	int64_t index;
	unsigned failures;
	char last_error[256];
};

struct worker_txn {
	int64_t id, worker;
};

static int worker_txn(struct sql_conn *conn, void *context, struct sql_error *err)
{
	struct worker_txn *t = context;
	int64_t before = 0;
	char name[32];

	/* A read and a write in one transaction. */
	if (sql_query_int64(conn, err, &before, "SELECT COUNT(*) FROM c WHERE worker = ?", "i",
	                    t->worker) < 0)
		return -1;
	snprintf(name, sizeof(name), "w%" PRId64 "-%" PRId64, t->worker, before);
	return sql_run(conn, err, "INSERT INTO c (id, worker, name) VALUES (?, ?, ?)", "iis", t->id,
	               t->worker, name);
}

static void *worker_main(void *context)
{
	struct worker *w = context;
	struct sql_error err;

	for (int64_t i = 0; i < INSERTS_PER_THREAD; i++) {
		struct worker_txn t = {.id = w->index * 100000 + i, .worker = w->index};

		if (sql_transaction(w->db, SQL_WRITE, 0, worker_txn, &t, &err) < 0) {
			w->failures++;
			snprintf(w->last_error, sizeof(w->last_error), "%s", err.message);
		}
	}
	return NULL;
}

static void test_concurrency(void)
{
	struct sql_settings set = settings;
	struct worker workers[THREADS];
	struct sql_db *db;
	struct sql_conn *conn;
	struct sql_error err = {0};
	int64_t value;

	/* Fewer connections than threads, so that threads also wait for the pool. */
	set.max_connections = THREADS - 1;
	db = open_db_with(&set);
	conn = get_conn(db);
	create_table(db, conn, "c",
	             "id BIGINT NOT NULL PRIMARY KEY, worker BIGINT NOT NULL, name VARCHAR(100) "
	             "NOT NULL UNIQUE");
	sql_conn_put(&conn);

	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){.db = db, .index = i + 1};
		test_assert(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) ==
		            0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(workers[i].thread, NULL);
		test_set_context(workers[i].last_error);
		test_assert_int_eq(workers[i].failures, 0);
	}
	test_set_context(NULL);

	conn = get_conn(db);
	test_assert_int_eq(count_rows(conn, "c"), THREADS * INSERTS_PER_THREAD);
	for (int i = 0; i < THREADS; i++) {
		test_assert_int_eq(sql_query_int64(conn, &err, &value,
		                                   "SELECT COUNT(*) FROM c WHERE worker = ?", "i",
		                                   (int64_t)i + 1),
		                   1);
		test_assert_int_eq(value, INSERTS_PER_THREAD);
	}
	sql_conn_put(&conn);
	sql_db_close(&db);
}

/* A connection killed on the server: an error of kind CONNECTION while checked out, and
   silently replaced when found dead in the pool. MariaDB only. */
static void test_lost_connection(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *c1, *c2, *x1, *x2;
	struct sql_error err = {0};
	int64_t id1 = 0, id2 = 0, value = 0;
	char kill[64];

	if (!is_mariadb(db)) {
		sql_db_close(&db);
		return;
	}
	/* killed while in use */
	c1 = get_conn(db);
	c2 = get_conn(db);
	test_assert_int_eq(sql_query_int64(c1, &err, &id1, "SELECT CONNECTION_ID()", ""), 1);
	snprintf(kill, sizeof(kill), "KILL CONNECTION %" PRId64, id1);
	check_ok(sql_exec(c2, kill, &err));
	memset(&err, 0, sizeof(err));
	test_assert_int_eq(sql_query_int64(c1, &err, &value, "SELECT 1", ""), -1);
	test_assert_int_eq(err.kind, SQL_ERR_CONNECTION);
	sql_conn_put(&c1);

	/* killed while idle in the pool */
	c1 = get_conn(db);
	test_assert_int_eq(sql_query_int64(c1, &err, &id1, "SELECT CONNECTION_ID()", ""), 1);
	sql_conn_put(&c1);
	snprintf(kill, sizeof(kill), "KILL CONNECTION %" PRId64, id1);
	check_ok(sql_exec(c2, kill, &err));
	sql_conn_put(&c2);
	x1 = get_conn(db);
	x2 = get_conn(db);
	test_assert_int_eq(sql_query_int64(x1, &err, &id1, "SELECT CONNECTION_ID()", ""), 1);
	test_assert_int_eq(sql_query_int64(x2, &err, &id2, "SELECT CONNECTION_ID()", ""), 1);
	test_assert(id1 != id2);
	sql_conn_put(&x1);
	sql_conn_put(&x2);
	sql_db_close(&db);
}

/* A retired pool (its primary was replaced) refuses writes, keeps serving reads. */
static void test_retired(void)
{
	struct sql_db *db = open_db();
	struct sql_conn *conn = NULL;
	struct sql_error err = {0};
	int64_t value = 0;
	struct sql_db_stats stats;

	sql_db_retire(db, "promoted elsewhere");
	test_assert_int_eq(sql_conn_get(db, SQL_WRITE, 7, &conn, &err), -1);
	test_assert_int_eq(err.kind, SQL_ERR_READ_ONLY);
	test_assert(strstr(err.message, "replaced: promoted elsewhere") != NULL);
	test_assert(conn == NULL);
	sql_db_stats(db, &stats);
	test_assert(stats.write_fail_down == 1 && stats.writes == 0);
	check_ok(sql_conn_get(db, SQL_READ, 7, &conn, &err));
	test_assert_int_eq(sql_query_int64(conn, &err, &value, "SELECT 1", ""), 1);
	test_assert(value == 1);
	sql_conn_put(&conn);
	sql_db_close(&db);
}

static void remove_sqlite_files(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char path[600];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", sqlite_path, suffixes[i]);
		unlink(path);
	}
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"url parse: good", test_url_parse_good},
	    {"url parse: bad", test_url_parse_bad},
	    {"url redact", test_url_redact},
	    {"open and open errors", test_open},
	    {"insert and select with bound values", test_insert_select},
	    {"int64 range", test_int64_range},
	    {"large values", test_large_values},
	    {"auto increment, changes, last insert id", test_auto_increment},
	    {"error kinds", test_errors},
	    {"transactions", test_transactions},
	    {"busy", test_busy},
	    {"transaction helper", test_transaction_helper},
	    {"one-shot helpers", test_helpers},
	    {"statement cache", test_stmt_cache},
	    {"statement left open when the connection is returned", test_stmt_left_open},
	    {"concurrency through the pool", test_concurrency},
	    {"lost connection", test_lost_connection},
	    {"retired pool refuses writes", test_retired},
	    {NULL, NULL},
	};
	const char *env = getenv("TANDEM_TEST_SQL_URL");
	int ret;

	sql_settings_default(&settings);
	if (env != NULL && env[0] != '\0') {
		snprintf(db_url, sizeof(db_url), "%s", env);
	} else {
		snprintf(sqlite_path, sizeof(sqlite_path), "/tmp/tandem-test-sql-%d.sqlite",
		         (int)getpid());
		remove_sqlite_files();
		snprintf(db_url, sizeof(db_url), "sqlite://%s", sqlite_path);
	}
	{
		char shown[600];

		sql_url_redact(db_url, shown, sizeof(shown));
		printf("# database %s\n", shown);
	}
	ret = test_run(cases);
	if (sqlite_path[0] != '\0')
		remove_sqlite_files();
	return ret;
}
