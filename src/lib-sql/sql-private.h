/* SPDX-License-Identifier: MIT */
/* The contract between sql.c (pools, helpers) and its drivers. */
#ifndef TANDEM_SQL_PRIVATE_H
#define TANDEM_SQL_PRIVATE_H

#include "sql.h"

#include "sql-gtid.h"

struct sql_server;

/* A driver connection: the driver allocates its own struct with this as the first member. */
struct sql_conn {
	struct sql_db *db;
	struct sql_server *server; /* the pool it belongs to */
	struct sql_conn *next_free;
	struct sql_stmt *stmt_cache; /* driver statements, by SQL text */
	bool in_transaction;
	bool broken; /* connection lost: closed instead of returned to the pool */
	/* Set by the router at checkout. */
	enum sql_intent intent;
	int64_t key;
	uint64_t idle_since_ms;
	enum sql_error_kind failed; /* kind of the last failed call, for the write counters */
	/* Set by the driver when the server reports a new commit (MariaDB last_gtid). */
	bool commit_pending;
	char commit_pos[64];
};

/* A driver statement: also embedded as the first member of the driver's struct. */
struct sql_stmt {
	struct sql_conn *conn;
	struct sql_stmt *next_cached;
	char *sql;
	bool in_use;
};

struct sql_driver {
	enum sql_driver_kind kind;
	/* Open one connection for url; fill err on failure (kind CONNECTION when unreachable). */
	int (*connect)(const struct sql_url *url, const struct sql_settings *set, bool create,
	               struct sql_conn **conn_r, struct sql_error *err);
	void (*disconnect)(struct sql_conn *conn); /* frees conn and its cached statements */
	/* Cheap liveness check before reuse of an idle connection (0 ok). */
	int (*ping)(struct sql_conn *conn);
	/* Free check of an idle connection: -1 if its server has closed it. */
	int (*peek)(struct sql_conn *conn);
	/* Runs a query and copies the first column of its first row (SQL NULL as ""): 1 row,
	   0 no row, -1 error. NULL for drivers without replication (SQLite). */
	int (*query_value)(struct sql_conn *conn, const char *sql, char *out, size_t size,
	                   struct sql_error *err);
	int (*exec)(struct sql_conn *conn, const char *sql, struct sql_error *err);
	int (*begin)(struct sql_conn *conn, bool write, struct sql_error *err);
	/* Prepare a new statement (sql.c does the caching). */
	struct sql_stmt *(*prepare)(struct sql_conn *conn, const char *sql, struct sql_error *err);
	void (*reset)(struct sql_stmt *stmt);    /* clear bindings and results, ready to execute */
	void (*finalize)(struct sql_stmt *stmt); /* free it */
	void (*bind_int64)(struct sql_stmt *stmt, unsigned idx, int64_t value);
	void (*bind_text)(struct sql_stmt *stmt, unsigned idx, const char *value);
	void (*bind_null)(struct sql_stmt *stmt, unsigned idx);
	int (*step)(struct sql_stmt *stmt, struct sql_error *err);
	int64_t (*col_int64)(struct sql_stmt *stmt, unsigned col);
	const char *(*col_text)(struct sql_stmt *stmt, unsigned col);
	bool (*col_is_null)(struct sql_stmt *stmt, unsigned col);
	uint64_t (*changes)(struct sql_stmt *stmt);
	int64_t (*last_insert_id)(struct sql_stmt *stmt);
};

extern const struct sql_driver sql_driver_sqlite;
/* Called by sql.c after a statement or COMMIT that may have committed (sql-route.c). */
void sql_route_committed(struct sql_conn *conn);
/* Records a failed call's error kind on its connection. Returns -1 for "return ...". */
int sql_conn_failed(struct sql_conn *conn, const struct sql_error *err);

extern const struct sql_driver sql_driver_mariadb;

#endif
