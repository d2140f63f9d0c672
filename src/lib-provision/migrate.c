/* SPDX-License-Identifier: MIT */
/* Schema migrations: a version row per component, steps applied in order under a lock. */
#include "migrate.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

int migrate_latest(const struct migration *steps, size_t count)
{
	return count == 0 ? 0 : steps[count - 1].version;
}

static bool is_sqlite(struct sql_conn *conn);

int migrate_current(struct sql_conn *conn, const char *component, int *version_r,
                    struct sql_error *err)
{
	int64_t v = 0;
	const char *probe = is_sqlite(conn)
	                        ? "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND "
	                          "name='schema_version'"
	                        : "SELECT COUNT(*) FROM information_schema.tables WHERE "
	                          "table_schema=DATABASE() AND table_name='schema_version'";
	if (sql_query_int64(conn, err, &v, probe, "") < 0)
		return -1;
	if (v == 0) {
		*version_r = 0;
		return 0;
	}
	int r = sql_query_int64(
	    conn, err, &v, "SELECT version FROM schema_version WHERE component=?", "s", component);
	if (r < 0)
		return -1;
	*version_r = r == 0 ? 0 : (int)v;
	return 0;
}

/* Runs each ';'-separated statement of a step. */
static int run_script(struct sql_conn *conn, const char *script, struct sql_error *err)
{
	const char *p = script;
	while (*p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		struct buf stmt;
		buf_init(&stmt, 64 * 1024);
		buf_append(&stmt, p, len);
		bool blank = strspn(stmt.data, " \t\r\n") == stmt.len;
		int ret = blank ? 0 : sql_exec(conn, stmt.data, err);
		buf_free(&stmt);
		if (ret < 0)
			return -1;
		p += len;
		if (*p == ';')
			p++;
	}
	return 0;
}

static bool is_sqlite(struct sql_conn *conn)
{
	return sql_conn_driver(conn) == SQL_DRIVER_SQLITE;
}

static int apply_locked(struct sql_conn *conn, const char *component, const struct migration *steps,
                        size_t count, struct sql_error *err)
{
	int current;
	if (migrate_current(conn, component, &current, err) < 0)
		return -1;
	if (current == 0 &&
	    sql_exec(conn,
	             "CREATE TABLE IF NOT EXISTS schema_version (component VARCHAR(32) NOT NULL "
	             "PRIMARY KEY, version INT NOT NULL)",
	             err) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (steps[i].version <= current)
			continue;
		if (run_script(conn, is_sqlite(conn) ? steps[i].sqlite : steps[i].mariadb, err) < 0)
			return -1;
		int64_t changed = sql_run_changes(
		    conn, err, "UPDATE schema_version SET version=? WHERE component=?", "is",
		    (int64_t)steps[i].version, component);
		if (changed < 0)
			return -1;
		if (changed == 0 &&
		    sql_run(conn, err,
		            "INSERT INTO schema_version (component, version) VALUES (?, ?)", "si",
		            component, (int64_t)steps[i].version) < 0)
			return -1;
	}
	return 0;
}

int migrate_apply(struct sql_conn *conn, const char *component, const struct migration *steps,
                  size_t count, struct sql_error *err)
{
	if (is_sqlite(conn)) {
		if (sql_begin(conn, true, err) < 0)
			return -1;
		if (apply_locked(conn, component, steps, count, err) < 0) {
			sql_rollback(conn);
			return -1;
		}
		return sql_commit(conn, err);
	}
	/* MariaDB commits DDL implicitly, so a transaction cannot make a step atomic; a named lock
	   at least keeps two provisioning processes from running the same steps at once. */
	char lock[96];
	snprintf(lock, sizeof(lock), "tandem-migrate-%s", component);
	int64_t got = 0;
	if (sql_query_int64(conn, err, &got, "SELECT GET_LOCK(CONCAT(DATABASE(), ?), 60)", "s",
	                    lock) < 0)
		return -1;
	if (got != 1) {
		sql_error_set(err, SQL_ERR_BUSY, 0, "timed out waiting for the migration lock");
		return -1;
	}
	int ret = apply_locked(conn, component, steps, count, err);
	struct sql_error ignored;
	int64_t dummy;
	sql_query_int64(conn, &ignored, &dummy, "SELECT RELEASE_LOCK(CONCAT(DATABASE(), ?))", "s",
	                lock);
	return ret;
}
