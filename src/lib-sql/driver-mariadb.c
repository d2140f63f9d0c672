/* SPDX-License-Identifier: MIT */
/* MariaDB driver: libmariadb prepared statements, every value bound, every result fetched as
   text. */
#include <assert.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "mem.h"
#include "sql-private.h"

/* MariaDB/MySQL server error numbers (mysqld_error.h) and client ones (errmsg.h); spelled out
   because the headers differ between client library versions. */
#define ER_DUP_ENTRY                  1062
#define ER_BAD_NULL_ERROR             1048
#define ER_NO_DEFAULT_FOR_FIELD       1364
#define ER_ROW_IS_REFERENCED_2        1451
#define ER_NO_REFERENCED_ROW_2        1452
#define ER_LOCK_WAIT_TIMEOUT          1205
#define ER_LOCK_DEADLOCK              1213
#define ER_CONNECTION_KILLED          1927
#define ER_CLIENT_INTERACTION_TIMEOUT 4031
#define ER_UNKNOWN_COM_ERROR          1047 /* Galera: "WSREP has not yet prepared node" */
#define ER_OPTION_PREVENTS_STATEMENT  1290 /* --read-only: the URL now leads to a replica */
#define CR_CONNECTION_ERROR           2002
#define CR_CONN_HOST_ERROR            2003
#define CR_UNKNOWN_HOST               2005
#define CR_SERVER_GONE_ERROR          2006
#define CR_SERVER_LOST                2013
#define CR_SERVER_LOST_EXTENDED       2055

#define DEFAULT_PORT      3306
#define INITIAL_COL_SPACE 128

struct mdb_conn {
	struct sql_conn conn;
	MYSQL *mysql;
	char last_gtid[sizeof(((struct sql_conn *)0)->commit_pos)];
};

/* The server reports @@last_gtid in the OK packet whenever it changes (session tracking set
   up at connect): a change is a commit, whose position the replication monitor records. */
static void track_commit(struct mdb_conn *mc)
{
	const char *data;
	size_t len;
	if (mysql_session_track_get_first(mc->mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data, &len) !=
	    0)
		return;
	do {
		bool is_gtid = len == 9 && memcmp(data, "last_gtid", 9) == 0;
		if (mysql_session_track_get_next(mc->mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data,
		                                 &len) != 0)
			return;
		if (is_gtid && len > 0 && len < sizeof(mc->last_gtid) &&
		    (strlen(mc->last_gtid) != len || memcmp(mc->last_gtid, data, len) != 0)) {
			memcpy(mc->last_gtid, data, len);
			mc->last_gtid[len] = '\0';
			memcpy(mc->conn.commit_pos, mc->last_gtid, len + 1);
			mc->conn.commit_pending = true;
		}
	} while (mysql_session_track_get_next(mc->mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data,
	                                      &len) == 0);
}

enum param_type { PARAM_NULL, PARAM_INT64, PARAM_TEXT };

struct param {
	enum param_type type;
	long long ival;
	char *text; /* owned copy */
	unsigned long len;
};

struct column {
	char *buf;         /* always NUL-terminated after a fetch */
	unsigned long cap; /* bytes allocated, one more than MariaDB may fill */
	unsigned long len;
	my_bool is_null;
	my_bool error; /* set by libmariadb when the value did not fit */
};

struct mdb_stmt {
	struct sql_stmt stmt;
	MYSQL_STMT *ms;

	/* Values as bound by the caller; idx 1 is params[0]. Turned into MYSQL_BIND at execute
	   time so that growing the array never leaves libmariadb with stale pointers. */
	struct param *params;
	unsigned params_count, params_cap;
	MYSQL_BIND *param_binds; /* mysql_stmt_param_count() entries */
	unsigned server_params;

	MYSQL_BIND *result_binds;
	struct column *cols;
	unsigned col_count, cols_cap;

	bool executed, done, has_row, stored, rebind;
	uint64_t changes;
	int64_t last_insert_id;
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_ret;

static void library_init(void)
{
	/* Not thread-safe itself (it sets up the client's global charset tables), hence once. */
	library_ret = mysql_library_init(0, NULL, NULL);
}

static enum sql_error_kind error_kind(unsigned code)
{
	switch (code) {
	case ER_DUP_ENTRY:
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW_2:
	case ER_BAD_NULL_ERROR:
	case ER_NO_DEFAULT_FOR_FIELD:
		return SQL_ERR_CONSTRAINT;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return SQL_ERR_BUSY;
	case ER_OPTION_PREVENTS_STATEMENT:
		return SQL_ERR_READ_ONLY;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case ER_CONNECTION_KILLED:
	case ER_CLIENT_INTERACTION_TIMEOUT:
	case ER_UNKNOWN_COM_ERROR:
		return SQL_ERR_CONNECTION;
	default:
		return SQL_ERR_OTHER;
	}
}

/* Fills err from an error code and text; a lost connection marks conn broken so the pool
   closes it instead of handing it out again. */
static void set_error(struct sql_conn *conn, struct sql_error *err, unsigned code, const char *text)
{
	enum sql_error_kind kind = error_kind(code);

	if (kind == SQL_ERR_CONNECTION && conn != NULL)
		conn->broken = true;
	if (err != NULL)
		sql_error_set(err, kind, (int)code, "mariadb: %s (%u)", text, code);
}

static void conn_error(struct mdb_conn *mc, struct sql_error *err)
{
	set_error(&mc->conn, err, mysql_errno(mc->mysql), mysql_error(mc->mysql));
}

static void stmt_error(struct mdb_stmt *st, struct sql_error *err)
{
	set_error(st->stmt.conn, err, mysql_stmt_errno(st->ms), mysql_stmt_error(st->ms));
}

static unsigned ms_to_seconds(unsigned ms, unsigned fallback_ms)
{
	if (ms == 0)
		ms = fallback_ms;
	return ms / 1000 + (ms % 1000 != 0 ? 1 : 0);
}

static int mdb_connect(const struct sql_url *url, const struct sql_settings *set, bool create,
                       struct sql_conn **conn_r, struct sql_error *err)
{
	struct mdb_conn *mc;
	unsigned protocol = MYSQL_PROTOCOL_TCP;
	unsigned connect_s = ms_to_seconds(set->connect_timeout_ms, 5000);
	unsigned rw_s = ms_to_seconds(set->rw_timeout_ms, 30000);
	unsigned lock_s = ms_to_seconds(set->busy_timeout_ms, 5000);
	char init_cmd[128];
	const char *host = url->host;
	my_bool off = 0, on = 1;
	int ret = -1;

	/* create is ignored: databases are created by callers with CREATE DATABASE. */
	(void)create;
	*conn_r = NULL;
	pthread_once(&library_once, library_init);
	if (library_ret != 0) {
		sql_error_set(err, SQL_ERR_CONNECTION, 0, "mariadb: mysql_library_init failed");
		return -1;
	}
	mc = mem_calloc(1, sizeof(*mc));
	mc->mysql = mysql_init(NULL);
	if (mc->mysql == NULL) {
		mem_free(&mc);
		sql_error_set(err, SQL_ERR_CONNECTION, 0, "mariadb: mysql_init failed");
		return -1;
	}
	/* "localhost" would make libmariadb pick the Unix socket (or ::1); the URL contract
	   promises TCP to 127.0.0.1. */
	if (host[0] == '\0' || strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	/* The lock wait is a session setting; re-applied by the server on every new session. */
	snprintf(init_cmd, sizeof(init_cmd),
	         "SET SESSION innodb_lock_wait_timeout=%u, "
	         "session_track_system_variables='last_gtid'",
	         lock_s);
	mysql_options(mc->mysql, MYSQL_OPT_PROTOCOL, &protocol);
	mysql_options(mc->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
	mysql_options(mc->mysql, MYSQL_OPT_READ_TIMEOUT, &rw_s);
	mysql_options(mc->mysql, MYSQL_OPT_WRITE_TIMEOUT, &rw_s);
	mysql_options(mc->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(mc->mysql, MYSQL_INIT_COMMAND, init_cmd);
	/* A silent reconnect would lose the transaction and the prepared statements; the pool
	   replaces broken connections instead. */
	mysql_options(mc->mysql, MYSQL_OPT_RECONNECT, &off);
	mysql_options(mc->mysql, MYSQL_REPORT_DATA_TRUNCATION, &on);
	/* CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, as SQLite does, so "0 changed"
	   means "no such row" with both drivers rather than "already had that value". */
	if (mysql_real_connect(mc->mysql, host, url->user, url->password,
	                       url->database[0] != '\0' ? url->database : NULL,
	                       url->port != 0 ? url->port : DEFAULT_PORT, NULL,
	                       CLIENT_FOUND_ROWS) == NULL ||
	    mysql_autocommit(mc->mysql, 1) != 0) {
		unsigned code = mysql_errno(mc->mysql);

		/* Whatever the cause (refused, access denied, unknown database), the database named
		   by the URL cannot be used. */
		sql_error_set(err, SQL_ERR_CONNECTION, (int)code, "mariadb: %s (%u)",
		              mysql_error(mc->mysql), code);
		goto out;
	}
	*conn_r = &mc->conn;
	ret = 0;
out:
	if (ret < 0) {
		mysql_close(mc->mysql);
		mem_free(&mc);
	}
	return ret;
}

static void mdb_finalize(struct sql_stmt *stmt);

static void mdb_disconnect(struct sql_conn *conn)
{
	struct mdb_conn *mc = (struct mdb_conn *)conn;
	struct sql_stmt *stmt, *next;

	for (stmt = conn->stmt_cache; stmt != NULL; stmt = next) {
		next = stmt->next_cached;
		mdb_finalize(stmt);
	}
	conn->stmt_cache = NULL;
	mysql_close(mc->mysql);
	mem_free(&mc);
}

static int mdb_ping(struct sql_conn *conn)
{
	struct mdb_conn *mc = (struct mdb_conn *)conn;

	if (mysql_ping(mc->mysql) != 0) {
		conn->broken = true;
		return -1;
	}
	return 0;
}

/* Whether the server closed the socket (restart, kill) while the connection sat idle: an
   idle connection has nothing to read, so anything readable is EOF or an error packet. */
static int mdb_peek(struct sql_conn *conn)
{
	struct mdb_conn *mc = (struct mdb_conn *)conn;
	struct pollfd pfd = {.fd = (int)mysql_get_socket(mc->mysql), .events = POLLIN};
	if (pfd.fd < 0 || poll(&pfd, 1, 0) != 0) {
		conn->broken = true;
		return -1;
	}
	return 0;
}

static int mdb_exec(struct sql_conn *conn, const char *sql, struct sql_error *err)
{
	struct mdb_conn *mc = (struct mdb_conn *)conn;
	MYSQL_RES *res;
	int status;

	if (mysql_real_query(mc->mysql, sql, strlen(sql)) != 0) {
		conn_error(mc, err);
		return -1;
	}
	track_commit(mc);
	/* Drain anything the statement returned so the connection is ready for the next one. */
	do {
		res = mysql_store_result(mc->mysql);
		if (res != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(mc->mysql) != 0) {
			conn_error(mc, err);
			return -1;
		}
		status = mysql_next_result(mc->mysql);
	} while (status == 0);
	if (status > 0) {
		conn_error(mc, err);
		return -1;
	}
	return 0;
}

static int mdb_query_value(struct sql_conn *conn, const char *sql, char *out, size_t size,
                           struct sql_error *err)
{
	struct mdb_conn *mc = (struct mdb_conn *)conn;
	if (mysql_real_query(mc->mysql, sql, strlen(sql)) != 0) {
		conn_error(mc, err);
		return -1;
	}
	MYSQL_RES *res = mysql_store_result(mc->mysql);
	if (res == NULL) {
		if (mysql_field_count(mc->mysql) != 0) {
			conn_error(mc, err);
			return -1;
		}
		return 0;
	}
	MYSQL_ROW row = mysql_fetch_row(res);
	int ret = 0;
	if (row != NULL && mysql_num_fields(res) > 0) {
		snprintf(out, size, "%s", row[0] != NULL ? row[0] : "");
		ret = 1;
	}
	mysql_free_result(res);
	return ret;
}

static int mdb_begin(struct sql_conn *conn, bool write, struct sql_error *err)
{
	/* InnoDB takes row locks as it goes: there is nothing like BEGIN IMMEDIATE to ask for. */
	(void)write;
	return mdb_exec(conn, "START TRANSACTION", err);
}

static struct sql_stmt *mdb_prepare(struct sql_conn *conn, const char *sql, struct sql_error *err)
{
	struct mdb_conn *mc = (struct mdb_conn *)conn;
	struct mdb_stmt *st;
	MYSQL_STMT *ms;

	ms = mysql_stmt_init(mc->mysql);
	if (ms == NULL) {
		conn_error(mc, err);
		return NULL;
	}
	if (mysql_stmt_prepare(ms, sql, strlen(sql)) != 0) {
		set_error(conn, err, mysql_stmt_errno(ms), mysql_stmt_error(ms));
		mysql_stmt_close(ms);
		return NULL;
	}
	st = mem_calloc(1, sizeof(*st));
	/* sql.c fills in stmt.sql (freed in mdb_finalize) and links it into the cache. */
	st->stmt.conn = conn;
	st->ms = ms;
	st->server_params = mysql_stmt_param_count(ms);
	if (st->server_params > 0)
		st->param_binds = mem_calloc(st->server_params, sizeof(MYSQL_BIND));
	return &st->stmt;
}

static void clear_params(struct mdb_stmt *st)
{
	for (unsigned i = 0; i < st->params_count; i++) {
		mem_free(&st->params[i].text);
		st->params[i].type = PARAM_NULL;
	}
	st->params_count = 0;
}

static void mdb_reset(struct sql_stmt *stmt)
{
	struct mdb_stmt *st = (struct mdb_stmt *)stmt;

	/* The result is buffered client side, so freeing it is all the server needs from us;
	   mysql_stmt_reset() would cost a round trip per statement. */
	if (st->stored)
		mysql_stmt_free_result(st->ms);
	st->stored = false;
	st->executed = false;
	st->done = false;
	st->has_row = false;
	st->changes = 0;
	st->last_insert_id = 0;
	clear_params(st);
}

static void mdb_finalize(struct sql_stmt *stmt)
{
	struct mdb_stmt *st = (struct mdb_stmt *)stmt;

	if (st->stored)
		mysql_stmt_free_result(st->ms);
	mysql_stmt_close(st->ms);
	clear_params(st);
	mem_free(&st->params);
	mem_free(&st->param_binds);
	for (unsigned i = 0; i < st->cols_cap; i++)
		mem_free(&st->cols[i].buf);
	mem_free(&st->cols);
	mem_free(&st->result_binds);
	mem_free(&st->stmt.sql);
	mem_free(&st);
}

static struct param *param_slot(struct mdb_stmt *st, unsigned idx)
{
	struct param *p;

	assert(idx >= 1);
	if (idx > st->params_cap) {
		unsigned cap = st->params_cap == 0 ? 8 : st->params_cap;

		while (cap < idx)
			cap *= 2;
		st->params = mem_realloc(st->params, cap * sizeof(*st->params));
		memset(st->params + st->params_cap, 0,
		       (cap - st->params_cap) * sizeof(*st->params));
		st->params_cap = cap;
	}
	if (idx > st->params_count)
		st->params_count = idx;
	p = &st->params[idx - 1];
	mem_free(&p->text);
	return p;
}

static void mdb_bind_int64(struct sql_stmt *stmt, unsigned idx, int64_t value)
{
	struct param *p = param_slot((struct mdb_stmt *)stmt, idx);

	p->type = PARAM_INT64;
	p->ival = value;
}

static void mdb_bind_text(struct sql_stmt *stmt, unsigned idx, const char *value)
{
	struct param *p = param_slot((struct mdb_stmt *)stmt, idx);

	if (value == NULL) {
		p->type = PARAM_NULL;
		return;
	}
	p->type = PARAM_TEXT;
	p->len = strlen(value);
	p->text = mem_strndup(value, p->len);
}

static void mdb_bind_null(struct sql_stmt *stmt, unsigned idx)
{
	struct param *p = param_slot((struct mdb_stmt *)stmt, idx);

	p->type = PARAM_NULL;
}

static int bind_params(struct mdb_stmt *st, struct sql_error *err)
{
	if (st->server_params == 0)
		return 0;
	memset(st->param_binds, 0, st->server_params * sizeof(MYSQL_BIND));
	for (unsigned i = 0; i < st->server_params; i++) {
		MYSQL_BIND *b = &st->param_binds[i];
		struct param *p = i < st->params_count ? &st->params[i] : NULL;

		/* A placeholder never bound is NULL, as in SQLite. */
		if (p == NULL || p->type == PARAM_NULL) {
			b->buffer_type = MYSQL_TYPE_NULL;
		} else if (p->type == PARAM_INT64) {
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &p->ival;
		} else {
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = p->text;
			b->buffer_length = p->len;
			b->length = &p->len;
		}
	}
	if (mysql_stmt_bind_param(st->ms, st->param_binds) != 0) {
		stmt_error(st, err);
		return -1;
	}
	return 0;
}

static void column_grow(struct column *c, unsigned long need)
{
	unsigned long cap = c->cap == 0 ? INITIAL_COL_SPACE : c->cap;

	while (cap < need)
		cap *= 2;
	if (cap != c->cap) {
		c->buf = mem_realloc(c->buf, cap);
		c->cap = cap;
	}
}

static void result_bind_column(struct mdb_stmt *st, unsigned i)
{
	MYSQL_BIND *b = &st->result_binds[i];
	struct column *c = &st->cols[i];

	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = c->buf;
	/* One byte kept back for the NUL that makes col_text a C string. */
	b->buffer_length = c->cap - 1;
	b->length = &c->len;
	b->is_null = &c->is_null;
	b->error = &c->error;
}

static int bind_results(struct mdb_stmt *st, struct sql_error *err)
{
	unsigned n = mysql_stmt_field_count(st->ms);

	if (n > st->cols_cap) {
		st->cols = mem_realloc(st->cols, n * sizeof(*st->cols));
		memset(st->cols + st->cols_cap, 0, (n - st->cols_cap) * sizeof(*st->cols));
		st->result_binds = mem_realloc(st->result_binds, n * sizeof(MYSQL_BIND));
		st->cols_cap = n;
	}
	st->col_count = n;
	for (unsigned i = 0; i < n; i++) {
		column_grow(&st->cols[i], INITIAL_COL_SPACE);
		result_bind_column(st, i);
	}
	st->rebind = false;
	if (mysql_stmt_bind_result(st->ms, st->result_binds) != 0) {
		stmt_error(st, err);
		return -1;
	}
	return 0;
}

static int execute(struct mdb_stmt *st, struct sql_error *err)
{
	if (bind_params(st, err) < 0)
		return -1;
	if (mysql_stmt_execute(st->ms) != 0) {
		stmt_error(st, err);
		return -1;
	}
	track_commit((struct mdb_conn *)st->stmt.conn);
	st->executed = true;
	if (mysql_stmt_field_count(st->ms) == 0) {
		st->changes = mysql_stmt_affected_rows(st->ms);
		st->last_insert_id = (int64_t)mysql_stmt_insert_id(st->ms);
		st->done = true;
		return 0;
	}
	/* Buffering the (small) result frees the connection for other statements while the
	   caller walks the rows. Whatever happens next, reset must free the result. */
	st->stored = true;
	if (bind_results(st, err) < 0)
		return -1;
	if (mysql_stmt_store_result(st->ms) != 0) {
		stmt_error(st, err);
		return -1;
	}
	return 0;
}

/* Re-reads the columns that did not fit into buffers grown to their full length. The length
   is checked rather than the error flags alone, so a missed truncation report cannot hand
   out a cut value. */
static int refetch_truncated(struct mdb_stmt *st, struct sql_error *err)
{
	for (unsigned i = 0; i < st->col_count; i++) {
		struct column *c = &st->cols[i];

		if (c->is_null || c->len < c->cap) {
			c->error = 0;
			continue;
		}
		column_grow(c, c->len + 1);
		result_bind_column(st, i);
		if (mysql_stmt_fetch_column(st->ms, &st->result_binds[i], i, 0) != 0) {
			stmt_error(st, err);
			return -1;
		}
		c->error = 0;
		/* libmariadb keeps its own copy of the result binds: hand it the new buffer before
		   the next row. */
		st->rebind = true;
	}
	return 0;
}

static int mdb_step(struct sql_stmt *stmt, struct sql_error *err)
{
	struct mdb_stmt *st = (struct mdb_stmt *)stmt;
	int rc;

	st->has_row = false;
	if (st->done)
		return 0;
	if (!st->executed) {
		if (execute(st, err) < 0) {
			st->done = true;
			return -1;
		}
		if (st->done)
			return 0;
	}
	if (st->rebind && mysql_stmt_bind_result(st->ms, st->result_binds) != 0) {
		stmt_error(st, err);
		st->done = true;
		return -1;
	}
	st->rebind = false;
	rc = mysql_stmt_fetch(st->ms);
	if (rc == MYSQL_NO_DATA) {
		st->done = true;
		return 0;
	}
	if (rc != 0 && rc != MYSQL_DATA_TRUNCATED) {
		stmt_error(st, err);
		st->done = true;
		return -1;
	}
	if (refetch_truncated(st, err) < 0) {
		st->done = true;
		return -1;
	}
	for (unsigned i = 0; i < st->col_count; i++) {
		struct column *c = &st->cols[i];

		c->buf[c->is_null ? 0 : c->len] = '\0';
	}
	st->has_row = true;
	return 1;
}

static struct column *row_column(struct sql_stmt *stmt, unsigned col)
{
	struct mdb_stmt *st = (struct mdb_stmt *)stmt;

	assert(st->has_row);
	assert(col < st->col_count);
	return &st->cols[col];
}

static const char *mdb_col_text(struct sql_stmt *stmt, unsigned col)
{
	struct column *c = row_column(stmt, col);

	return c->is_null ? NULL : c->buf;
}

static int64_t mdb_col_int64(struct sql_stmt *stmt, unsigned col)
{
	const char *text = mdb_col_text(stmt, col);

	return text == NULL ? 0 : (int64_t)strtoll(text, NULL, 10);
}

static bool mdb_col_is_null(struct sql_stmt *stmt, unsigned col)
{
	return row_column(stmt, col)->is_null != 0;
}

static uint64_t mdb_changes(struct sql_stmt *stmt)
{
	return ((struct mdb_stmt *)stmt)->changes;
}

static int64_t mdb_last_insert_id(struct sql_stmt *stmt)
{
	return ((struct mdb_stmt *)stmt)->last_insert_id;
}

const struct sql_driver sql_driver_mariadb = {
    .kind = SQL_DRIVER_MARIADB,
    .connect = mdb_connect,
    .disconnect = mdb_disconnect,
    .ping = mdb_ping,
    .peek = mdb_peek,
    .query_value = mdb_query_value,
    .exec = mdb_exec,
    .begin = mdb_begin,
    .prepare = mdb_prepare,
    .reset = mdb_reset,
    .finalize = mdb_finalize,
    .bind_int64 = mdb_bind_int64,
    .bind_text = mdb_bind_text,
    .bind_null = mdb_bind_null,
    .step = mdb_step,
    .col_int64 = mdb_col_int64,
    .col_text = mdb_col_text,
    .col_is_null = mdb_col_is_null,
    .changes = mdb_changes,
    .last_insert_id = mdb_last_insert_id,
};
