/* SPDX-License-Identifier: MIT */
/* Connection pools, URL parsing, statement cache and helpers shared by the SQL drivers. */
#include "sql-route.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostport.h"
#include "mem.h"
#include "strv.h"

void sql_error_set(struct sql_error *err, enum sql_error_kind kind, int native, const char *fmt,
                   ...)
{
	va_list args;
	err->kind = kind;
	err->native = native;
	va_start(args, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, args);
	va_end(args);
}

const char *sql_error_kind_name(enum sql_error_kind kind)
{
	switch (kind) {
	case SQL_ERR_NONE:
		return "none";
	case SQL_ERR_CONSTRAINT:
		return "constraint";
	case SQL_ERR_BUSY:
		return "busy";
	case SQL_ERR_CONNECTION:
		return "connection";
	case SQL_ERR_READ_ONLY:
		return "read_only";
	case SQL_ERR_OTHER:
		return "other";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- URLs */

/* Copies s[0..len) into out decoding %XX; fails on bad escapes or overflow. */
static int unescape(const char *s, size_t len, char *out, size_t out_size)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = strv_hex_digit(s[i + 1]);
			int lo = strv_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
			if (c == '\0')
				return -1;
		}
		if (o + 1 >= out_size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int sql_url_parse(const char *url, struct sql_url *u, const char **error_r)
{
	memset(u, 0, sizeof(*u));
	if (strncmp(url, "sqlite://", 9) == 0) {
		u->driver = SQL_DRIVER_SQLITE;
		const char *path = url + 9;
		if (path[0] == '\0') {
			*error_r = "sqlite URL has no path (expected sqlite:///path/file.sqlite)";
			return -1;
		}
		if (unescape(path, strlen(path), u->path, sizeof(u->path)) < 0) {
			*error_r = "sqlite URL path is too long or badly escaped";
			return -1;
		}
		return 0;
	}
	if (strncmp(url, "mariadb://", 10) != 0 && strncmp(url, "mysql://", 8) != 0) {
		*error_r = "unknown database URL scheme (expected sqlite:// or mariadb://)";
		return -1;
	}
	u->driver = SQL_DRIVER_MARIADB;
	u->port = 3306;
	const char *p = strchr(url, '/') + 2;
	const char *slash = strchr(p, '/');
	if (slash == NULL) {
		*error_r = "mariadb URL has no database (expected mariadb://user:pw@host:port/db)";
		return -1;
	}
	const char *at = memrchr(p, '@', (size_t)(slash - p));
	const char *hostpart = p;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ulen = colon != NULL ? (size_t)(colon - p) : (size_t)(at - p);
		if (unescape(p, ulen, u->user, sizeof(u->user)) < 0 ||
		    (colon != NULL && unescape(colon + 1, (size_t)(at - colon - 1), u->password,
		                               sizeof(u->password)) < 0)) {
			*error_r = "mariadb URL user or password is too long or badly escaped";
			return -1;
		}
		hostpart = at + 1;
	}
	struct hostport hp;
	const char *why;
	enum hostport_result hr = hostport_parse(strv_make(hostpart, (size_t)(slash - hostpart)),
	                                         HOSTPORT_PORT_OPTIONAL, 3306, &hp, &why);
	if (hr == HOSTPORT_BAD_PORT) {
		*error_r = hp.port_text.len == 0
		               ? "mariadb URL has an empty port"
		               : "mariadb URL port must be a number from 1 to 65535";
		return -1;
	}
	if (hr != HOSTPORT_OK) {
		static __thread char msg[128];
		snprintf(msg, sizeof(msg), "mariadb URL host: %s", why);
		*error_r = msg;
		return -1;
	}
	memcpy(u->host, hp.host, strlen(hp.host) + 1);
	u->port = hp.port;
	const char *db = slash + 1;
	if (strlen(db) >= sizeof(u->database)) {
		*error_r = "mariadb URL database name is too long";
		return -1;
	}
	for (const char *q = db; *q != '\0'; q++) {
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_' || *q == '-')) {
			*error_r =
			    "mariadb URL database name may only use letters, digits, '_' and '-'";
			return -1;
		}
	}
	memcpy(u->database, db, strlen(db) + 1);
	if (strcmp(u->host, "localhost") == 0)
		memcpy(u->host, "127.0.0.1", sizeof("127.0.0.1"));
	return 0;
}

void sql_url_redact(const char *url, char *out, size_t out_size)
{
	const char *scheme_end = strstr(url, "://");
	const char *slash = scheme_end != NULL ? strchr(scheme_end + 3, '/') : NULL;
	const char *at = NULL;
	if (slash != NULL)
		at = memrchr(scheme_end + 3, '@', (size_t)(slash - scheme_end - 3));
	const char *colon =
	    at != NULL ? memchr(scheme_end + 3, ':', (size_t)(at - scheme_end - 3)) : NULL;
	if (colon == NULL) {
		snprintf(out, out_size, "%s", url);
		return;
	}
	snprintf(out, out_size, "%.*s:***%s", (int)(colon - url), url, at);
}

/* ---------------------------------------------------------------- statements */

int sql_exec(struct sql_conn *conn, const char *sql, struct sql_error *err)
{
	if (conn->db->driver->exec(conn, sql, err) < 0)
		return sql_conn_failed(conn, err);
	if (!conn->in_transaction)
		sql_route_committed(conn);
	return 0;
}

int sql_begin(struct sql_conn *conn, bool write, struct sql_error *err)
{
	if (conn->db->driver->begin(conn, write, err) < 0)
		return sql_conn_failed(conn, err);
	conn->in_transaction = true;
	return 0;
}

int sql_commit(struct sql_conn *conn, struct sql_error *err)
{
	int ret = conn->db->driver->exec(conn, "COMMIT", err);
	if (ret < 0) {
		/* A failed COMMIT leaves the transaction rolled back (or the link dead). */
		sql_rollback(conn);
		return sql_conn_failed(conn, err);
	}
	conn->in_transaction = false;
	sql_route_committed(conn);
	return 0;
}

void sql_rollback(struct sql_conn *conn)
{
	struct sql_error ignored;
	if (!conn->broken)
		conn->db->driver->exec(conn, "ROLLBACK", &ignored);
	conn->in_transaction = false;
}

struct sql_stmt *sql_prepare(struct sql_conn *conn, const char *sql, struct sql_error *err)
{
	const struct sql_driver *d = conn->db->driver;
	for (struct sql_stmt *s = conn->stmt_cache; s != NULL; s = s->next_cached) {
		if (!s->in_use && strcmp(s->sql, sql) == 0) {
			d->reset(s);
			s->in_use = true;
			return s;
		}
	}
	struct sql_stmt *s = d->prepare(conn, sql, err);
	if (s == NULL) {
		sql_conn_failed(conn, err);
		return NULL;
	}
	s->conn = conn;
	s->sql = mem_strdup(sql);
	s->in_use = true;
	s->next_cached = conn->stmt_cache;
	conn->stmt_cache = s;
	return s;
}

void sql_bind_int64(struct sql_stmt *stmt, unsigned idx, int64_t value)
{
	stmt->conn->db->driver->bind_int64(stmt, idx, value);
}

void sql_bind_text(struct sql_stmt *stmt, unsigned idx, const char *value)
{
	if (value == NULL)
		stmt->conn->db->driver->bind_null(stmt, idx);
	else
		stmt->conn->db->driver->bind_text(stmt, idx, value);
}

void sql_bind_null(struct sql_stmt *stmt, unsigned idx)
{
	stmt->conn->db->driver->bind_null(stmt, idx);
}

int sql_step(struct sql_stmt *stmt, struct sql_error *err)
{
	struct sql_conn *conn = stmt->conn;
	int r = conn->db->driver->step(stmt, err);
	if (r < 0)
		return sql_conn_failed(conn, err);
	if (!conn->in_transaction)
		sql_route_committed(conn);
	return r;
}

int64_t sql_col_int64(struct sql_stmt *stmt, unsigned col)
{
	return stmt->conn->db->driver->col_int64(stmt, col);
}

const char *sql_col_text(struct sql_stmt *stmt, unsigned col)
{
	return stmt->conn->db->driver->col_text(stmt, col);
}

bool sql_col_is_null(struct sql_stmt *stmt, unsigned col)
{
	return stmt->conn->db->driver->col_is_null(stmt, col);
}

uint64_t sql_stmt_changes(struct sql_stmt *stmt)
{
	return stmt->conn->db->driver->changes(stmt);
}

int64_t sql_stmt_last_insert_id(struct sql_stmt *stmt)
{
	return stmt->conn->db->driver->last_insert_id(stmt);
}

void sql_stmt_done(struct sql_stmt **stmtp)
{
	struct sql_stmt *s = *stmtp;
	if (s == NULL)
		return;
	*stmtp = NULL;
	s->conn->db->driver->reset(s);
	s->in_use = false;
}

/* ---------------------------------------------------------------- helpers */

static struct sql_stmt *prepare_bound(struct sql_conn *conn, struct sql_error *err, const char *sql,
                                      const char *fmt, va_list args)
{
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return NULL;
	for (unsigned i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] == 'i')
			sql_bind_int64(s, i + 1, va_arg(args, int64_t));
		else
			sql_bind_text(s, i + 1, va_arg(args, const char *));
	}
	return s;
}

int64_t sql_run_changes(struct sql_conn *conn, struct sql_error *err, const char *sql,
                        const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	struct sql_stmt *s = prepare_bound(conn, err, sql, fmt, args);
	va_end(args);
	if (s == NULL)
		return -1;
	int r;
	while ((r = sql_step(s, err)) > 0)
		;
	int64_t ret = r < 0 ? -1 : (int64_t)sql_stmt_changes(s);
	sql_stmt_done(&s);
	return ret;
}

int sql_run(struct sql_conn *conn, struct sql_error *err, const char *sql, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	struct sql_stmt *s = prepare_bound(conn, err, sql, fmt, args);
	va_end(args);
	if (s == NULL)
		return -1;
	int r;
	while ((r = sql_step(s, err)) > 0)
		;
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

int sql_query_int64(struct sql_conn *conn, struct sql_error *err, int64_t *value_r, const char *sql,
                    const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	struct sql_stmt *s = prepare_bound(conn, err, sql, fmt, args);
	va_end(args);
	if (s == NULL)
		return -1;
	int r = sql_step(s, err);
	if (r > 0)
		*value_r = sql_col_int64(s, 0);
	sql_stmt_done(&s);
	return r;
}

int sql_conn_transaction(struct sql_conn *conn, bool write, sql_txn_fn *fn, void *ctx,
                         struct sql_error *err)
{
	for (unsigned attempt = 0;; attempt++) {
		memset(err, 0, sizeof(*err));
		int ret = sql_begin(conn, write, err);
		if (ret == 0) {
			ret = fn(conn, ctx, err);
			if (ret == 0)
				ret = sql_commit(conn, err);
			else
				sql_rollback(conn);
		}
		if (ret == 0)
			return 0;
		if (err->kind != SQL_ERR_BUSY || attempt >= 5 || conn->broken)
			return -1;
		/* Back off a little, growing, so that contending writers spread out. */
		usleep((useconds_t)(5000u << attempt));
	}
}

int sql_transaction(struct sql_db *db, enum sql_intent intent, int64_t key, sql_txn_fn *fn,
                    void *ctx, struct sql_error *err)
{
	/* A read on a replica that turns out to be gone is run again elsewhere (the pool
	   then knows the server is down), so a replica failing costs no request. */
	for (unsigned attempt = 0;; attempt++) {
		struct sql_conn *conn;
		memset(err, 0, sizeof(*err));
		if (sql_conn_get(db, intent, key, &conn, err) < 0)
			return -1;
		bool replica = sql_conn_on_replica(conn);
		int ret = sql_conn_transaction(conn, intent == SQL_WRITE, fn, ctx, err);
		sql_conn_put(&conn);
		if (ret == 0 || !replica || err->kind != SQL_ERR_CONNECTION || attempt >= 2)
			return ret;
	}
}
