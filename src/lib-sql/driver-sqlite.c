/* SPDX-License-Identifier: MIT */
/* SQLite driver: WAL, busy timeout, BEGIN IMMEDIATE for writes, prepared statements. */
#include "sql-private.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"

/* Every transaction runs two or three of these: prepared once per connection, not parsed by
   sqlite3_exec() each time (that was ~8 % of a WebDAV GET's CPU). */
static const char *const control_sql[] = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
#define CONTROL_COUNT (sizeof(control_sql) / sizeof(control_sql[0]))

struct sqlite_conn {
	struct sql_conn conn;
	sqlite3 *db;
	sqlite3_stmt *control[CONTROL_COUNT];
};

struct sqlite_stmt {
	struct sql_stmt stmt;
	sqlite3_stmt *st;
	bool done; /* stepped to SQLITE_DONE */
	uint64_t changes;
	int64_t last_id;
};

static sqlite3 *handle(struct sql_conn *conn)
{
	return ((struct sqlite_conn *)conn)->db;
}

static void set_error(struct sql_error *err, sqlite3 *db, int rc, const char *what)
{
	int primary = rc & 0xff;
	enum sql_error_kind kind = SQL_ERR_OTHER;
	if (primary == SQLITE_CONSTRAINT)
		kind = SQL_ERR_CONSTRAINT;
	else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		kind = SQL_ERR_BUSY;
	else if (primary == SQLITE_CANTOPEN || primary == SQLITE_NOTADB || primary == SQLITE_IOERR)
		kind = SQL_ERR_CONNECTION;
	sql_error_set(err, kind, rc, "sqlite: %s: %s", what,
	              db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int exec_simple(sqlite3 *db, const char *sql, struct sql_error *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	sqlite3_free(msg);
	if (rc != SQLITE_OK) {
		set_error(err, db, rc, sql);
		return -1;
	}
	return 0;
}

/* Before the library's first use: no memory statistics, whose global mutex every worker took
   on every sqlite3_malloc (contended with many workers on few cores). Fails harmlessly
   (SQLITE_MISUSE) when something in the process initialised SQLite first. */
static void configure_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlite_connect(const struct sql_url *url, const struct sql_settings *set, bool create,
                          struct sql_conn **conn_r, struct sql_error *err)
{
	size_t len = strlen(url->path);
	if (len > 0 && url->path[len - 1] == '/') {
		sql_error_set(err, SQL_ERR_OTHER, 0,
		              "sqlite: %s is a directory URL, not a database file", url->path);
		return -1;
	}
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, configure_once);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(url->path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		sql_error_set(err, SQL_ERR_CONNECTION, rc, "sqlite: cannot open %s: %s", url->path,
		              db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)set->busy_timeout_ms);
	/* WAL lets readers run beside the one writer; NORMAL sync is durable across process
	   crashes and loses at most the last commits on power loss, as WAL intends. */
	if (exec_simple(db, "PRAGMA journal_mode=WAL", err) < 0 ||
	    exec_simple(db, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    exec_simple(db, "PRAGMA foreign_keys=ON", err) < 0) {
		sqlite3_close(db);
		return -1;
	}
	struct sqlite_conn *c = mem_calloc(1, sizeof(*c));
	c->db = db;
	*conn_r = &c->conn;
	return 0;
}

static void sqlite_finalize(struct sql_stmt *stmt)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)stmt;
	sqlite3_finalize(s->st);
	mem_free(&s->stmt.sql);
	mem_free(&s);
}

static void sqlite_disconnect(struct sql_conn *conn)
{
	struct sqlite_conn *c = (struct sqlite_conn *)conn;
	while (conn->stmt_cache != NULL) {
		struct sql_stmt *s = conn->stmt_cache;
		conn->stmt_cache = s->next_cached;
		sqlite_finalize(s);
	}
	for (size_t i = 0; i < CONTROL_COUNT; i++)
		sqlite3_finalize(c->control[i]);
	sqlite3_close(c->db);
	mem_free(&c);
}

static int sqlite_ping(struct sql_conn *conn)
{
	(void)conn;
	return 0;
}

static int sqlite_exec(struct sql_conn *conn, const char *sql, struct sql_error *err)
{
	struct sqlite_conn *c = (struct sqlite_conn *)conn;
	size_t i = 0;
	while (i < CONTROL_COUNT && strcmp(sql, control_sql[i]) != 0)
		i++;
	if (i == CONTROL_COUNT)
		return exec_simple(c->db, sql, err);
	int rc = SQLITE_OK;
	if (c->control[i] == NULL)
		rc = sqlite3_prepare_v2(c->db, sql, -1, &c->control[i], NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(c->control[i]);
		/* reset at once: the statement holds nothing between transactions */
		int reset = sqlite3_reset(c->control[i]);
		rc = rc == SQLITE_DONE ? reset : rc;
	}
	if (rc != SQLITE_OK) {
		set_error(err, c->db, rc, sql);
		return -1;
	}
	return 0;
}

static int sqlite_begin(struct sql_conn *conn, bool write, struct sql_error *err)
{
	/* A deferred transaction that reads and then writes can fail with SQLITE_BUSY without
	   ever calling the busy handler; taking the write lock up front avoids that. */
	return sqlite_exec(conn, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static struct sql_stmt *sqlite_prepare(struct sql_conn *conn, const char *sql,
                                       struct sql_error *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(handle(conn), sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		set_error(err, handle(conn), rc, "prepare");
		return NULL;
	}
	struct sqlite_stmt *s = mem_calloc(1, sizeof(*s));
	s->st = st;
	return &s->stmt;
}

static void sqlite_reset(struct sql_stmt *stmt)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)stmt;
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->done = false;
	s->changes = 0;
	s->last_id = 0;
}

static void sqlite_bind_int64(struct sql_stmt *stmt, unsigned idx, int64_t value)
{
	sqlite3_bind_int64(((struct sqlite_stmt *)stmt)->st, (int)idx, value);
}

static void sqlite_bind_text(struct sql_stmt *stmt, unsigned idx, const char *value)
{
	sqlite3_bind_text(((struct sqlite_stmt *)stmt)->st, (int)idx, value, -1, SQLITE_TRANSIENT);
}

static void sqlite_bind_null(struct sql_stmt *stmt, unsigned idx)
{
	sqlite3_bind_null(((struct sqlite_stmt *)stmt)->st, (int)idx);
}

static int sqlite_step(struct sql_stmt *stmt, struct sql_error *err)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)stmt;
	if (s->done)
		return 0;
	sqlite3 *db = handle(stmt->conn);
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		s->done = true;
		s->changes = (uint64_t)sqlite3_changes64(db);
		s->last_id = sqlite3_last_insert_rowid(db);
		return 0;
	}
	set_error(err, db, rc, "step");
	sqlite3_reset(s->st);
	return -1;
}

static int64_t sqlite_col_int64(struct sql_stmt *stmt, unsigned col)
{
	return sqlite3_column_int64(((struct sqlite_stmt *)stmt)->st, (int)col);
}

static const char *sqlite_col_text(struct sql_stmt *stmt, unsigned col)
{
	return (const char *)sqlite3_column_text(((struct sqlite_stmt *)stmt)->st, (int)col);
}

static bool sqlite_col_is_null(struct sql_stmt *stmt, unsigned col)
{
	return sqlite3_column_type(((struct sqlite_stmt *)stmt)->st, (int)col) == SQLITE_NULL;
}

static uint64_t sqlite_changes(struct sql_stmt *stmt)
{
	return ((struct sqlite_stmt *)stmt)->changes;
}

static int64_t sqlite_last_insert_id(struct sql_stmt *stmt)
{
	return ((struct sqlite_stmt *)stmt)->last_id;
}

const struct sql_driver sql_driver_sqlite = {
    .kind = SQL_DRIVER_SQLITE,
    .connect = sqlite_connect,
    .disconnect = sqlite_disconnect,
    .ping = sqlite_ping,
    .peek = sqlite_ping,
    .exec = sqlite_exec,
    .begin = sqlite_begin,
    .prepare = sqlite_prepare,
    .reset = sqlite_reset,
    .finalize = sqlite_finalize,
    .bind_int64 = sqlite_bind_int64,
    .bind_text = sqlite_bind_text,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .col_int64 = sqlite_col_int64,
    .col_text = sqlite_col_text,
    .col_is_null = sqlite_col_is_null,
    .changes = sqlite_changes,
    .last_insert_id = sqlite_last_insert_id,
};
