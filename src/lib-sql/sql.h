/* SPDX-License-Identifier: MIT */
/* SQL access behind one interface: sqlite and mariadb drivers, connection pools, prepared
   statements with bound parameters, explicit transactions, a small error taxonomy. */
#ifndef TANDEM_SQL_H
#define TANDEM_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sql_db;
struct sql_conn;
struct sql_stmt;

enum sql_driver_kind {
	SQL_DRIVER_SQLITE,
	SQL_DRIVER_MARIADB,
};

/* Errors are mapped to a few kinds callers can act on. */
enum sql_error_kind {
	SQL_ERR_NONE = 0,
	SQL_ERR_CONSTRAINT, /* unique/foreign key/not null violated */
	SQL_ERR_BUSY,       /* lock wait, deadlock, SQLITE_BUSY: safe to retry the transaction */
	SQL_ERR_CONNECTION, /* server unreachable or connection lost */
	SQL_ERR_READ_ONLY,  /* a write while the primary is down (or read-only): reads still work */
	SQL_ERR_OTHER,      /* syntax, permissions, anything else */
};

struct sql_error {
	enum sql_error_kind kind;
	int native;        /* driver error code (sqlite extended code, MariaDB errno) */
	char message[256]; /* human readable, includes the driver's text */
};

/* Parsed database URL:
   sqlite:///abs/path/file.sqlite   (or sqlite://relative/path)
   mariadb://user:password@host:port/database   (port default 3306; user/password optional;
   the database may be empty, "mariadb://u:p@h/", for a server where schemas get created;
   host "localhost" uses TCP to 127.0.0.1, never a socket; percent-escapes allowed in user,
   password). A directory URL for SQLite ends in '/'. */
struct sql_url {
	enum sql_driver_kind driver;
	char path[512]; /* sqlite */
	char host[256]; /* mariadb */
	uint16_t port;
	char user[128];
	char password[128];
	char database[128];
};

/* Returns 0, or -1 with a static message naming what is wrong. */
int sql_url_parse(const char *url, struct sql_url *url_r, const char **error_r);
/* The URL with the password replaced by "***", for logs and listings. */
void sql_url_redact(const char *url, char *out, size_t out_size);

/* The replication monitor's memory (docs/internals/replication.md): the position of the last write
   made under each key, shared by every node through the cluster store. Positions are MariaDB GTID
   lists. */
struct sql_position_store {
	/* The position of key's last write in scope, else the scope's floor (a position taken
	   from the primary once the store had nothing for it). 1 = found (pos_r set), 0 = the
	   store knows nothing for scope (no floor either), -1 = the store is unavailable. */
	int (*get)(void *ctx, const char *scope, int64_t key, char *pos_r, size_t size);
	/* Records pos for key, keeping the greater sequence number per domain. 0 or -1. */
	int (*put)(void *ctx, const char *scope, int64_t key, const char *pos);
	/* Sets scope's floor unless it has one. 0 or -1. */
	int (*put_floor)(void *ctx, const char *scope, const char *pos);
	void *ctx;
};

struct sql_settings {
	unsigned max_connections;    /* pool size per server (default 8) */
	unsigned connect_timeout_ms; /* default 5000 */
	unsigned busy_timeout_ms;    /* sqlite busy handler / mariadb lock wait (default 5000) */
	unsigned rw_timeout_ms;      /* mariadb read/write timeout (default 30000) */
	/* Database clusters (sql_db_open_cluster) only: */
	unsigned replica_wait_ms; /* MASTER_GTID_WAIT before a read goes to the primary (50) */
	unsigned idle_check_ms;   /* a connection idle this long is checked before reuse (1000) */
	unsigned
	    down_backoff_ms; /* a failed server is left alone this long, doubling to 8x (1000) */
	bool primary_reads;  /* every read on the primary: replicas only stand in for a
	                        primary that is down (default false) */
	/* Where positions are kept (NULL: in this process only, right for a single node). */
	const struct sql_position_store *positions;
	char scope[64]; /* this database's name in the position store */
};

void sql_settings_default(struct sql_settings *set);

/* Opens a pool for url. Connects once to check the database is reachable (so a wrong URL
   fails here with SQL_ERR_CONNECTION). For sqlite, create = true creates a missing file;
   otherwise a missing file is an error. Thread-safe afterwards. */
int sql_db_open(const char *url, const struct sql_settings *set, bool create, struct sql_db **db_r,
                struct sql_error *err);
/* Opens a MariaDB database cluster: a primary and its replicas, or the nodes of a Galera
   cluster (detected: the primary then is the preferred write node and the others are read
   nodes). Succeeds while at least one server answers, so that reads keep working with the
   primary down. */
int sql_db_open_cluster(const char *primary_url, const char *const *replica_urls,
                        size_t replica_count, const struct sql_settings *set, struct sql_db **db_r,
                        struct sql_error *err);
void sql_db_close(struct sql_db **db);
enum sql_driver_kind sql_db_driver(const struct sql_db *db);
enum sql_driver_kind sql_conn_driver(const struct sql_conn *conn);
const char *sql_db_url(const struct sql_db *db); /* the primary's, redacted */
/* Its primary has been replaced (tandemctl promotedatabase): every write through db is refused
   from now on (SQL_ERR_READ_ONLY naming why), so that a pool still held somewhere never writes
   to the old primary, even if that comes back writable. Reads still work. Thread-safe. */
void sql_db_retire(struct sql_db *db, const char *why);

/* What a connection is for. Writes go to the primary; a read goes to a replica that has
   applied the last write made under the same key (on any node), else to the primary. Keys
   are the application's consistency units (a context id; 0 for a whole database). */
enum sql_intent {
	SQL_READ,
	SQL_WRITE,
};

/* Checks out a connection (waits while all are in use; replaces a dead one). A server that
   failed is not tried again for a backoff period: a write then fails at once with
   SQL_ERR_CONNECTION naming the primary. */
int sql_conn_get(struct sql_db *db, enum sql_intent intent, int64_t key, struct sql_conn **conn_r,
                 struct sql_error *err);
/* Returns it to the pool; an open transaction is rolled back. Sets *conn to NULL. */
void sql_conn_put(struct sql_conn **conn);
/* True when conn is on a replica (or a Galera read node). */
bool sql_conn_on_replica(const struct sql_conn *conn);

/* Replication counters of one database (cluster). */
struct sql_db_stats {
	uint64_t reads_replica;         /* reads served by a replica or Galera read node */
	uint64_t reads_primary;         /* reads on the primary, for any reason */
	uint64_t reads_primary_lag;     /* ... as no replica had the key's last write in time */
	uint64_t reads_primary_error;   /* ... as the replicas were down or failed */
	uint64_t reads_primary_unknown; /* ... as the position store was unavailable */
	uint64_t gtid_waits;            /* MASTER_GTID_WAIT calls */
	uint64_t gtid_wait_us;          /* their total time */
	uint64_t writes;                /* write connections handed out */
	uint64_t write_fail_down;       /* writes refused: primary down or unreachable */
	uint64_t write_fail_lost;       /* connection lost during a write */
	uint64_t write_fail_busy;       /* deadlock or lock wait timeout, after retries */
	uint64_t write_fail_other;      /* any other error on a write connection */
	uint64_t position_errors;       /* position store failures */
};
void sql_db_stats(struct sql_db *db, struct sql_db_stats *stats_r);

/* One server of a database, for status listings. */
struct sql_server_info {
	const char *url;        /* redacted */
	const char *role;       /* "primary", "replica", "galera" */
	bool up;                /* not in backoff after a failure (and, in Galera, Synced) */
	bool writer;            /* writes go here now */
	bool lagging;           /* a read gave up waiting for it within the last second */
	const char *position;   /* replica: last known applied GTID position ("" unknown) */
	const char *last_error; /* "" when none */
	unsigned connections, in_use;
	uint64_t reads, writes;
};
typedef void sql_server_info_fn(const struct sql_server_info *info, void *ctx);
/* Calls fn for each server, primary first; "galera" is true for a Galera cluster. */
void sql_db_servers(struct sql_db *db, bool *galera_r, sql_server_info_fn *fn, void *ctx);

/* Runs one statement without parameters or results (DDL, BEGIN …). */
int sql_exec(struct sql_conn *conn, const char *sql, struct sql_error *err);

/* write = true takes the write lock at once (sqlite BEGIN IMMEDIATE). */
int sql_begin(struct sql_conn *conn, bool write, struct sql_error *err);
int sql_commit(struct sql_conn *conn, struct sql_error *err);
void sql_rollback(struct sql_conn *conn);

/* Prepares sql (placeholders '?'), cached per connection by its text; the statement is reset
   and its bindings cleared. Valid until sql_stmt_done() or the connection is returned. */
struct sql_stmt *sql_prepare(struct sql_conn *conn, const char *sql, struct sql_error *err);
/* Parameters are numbered from 1. Text is copied. */
void sql_bind_int64(struct sql_stmt *stmt, unsigned idx, int64_t value);
void sql_bind_text(struct sql_stmt *stmt, unsigned idx, const char *value); /* NULL -> NULL */
void sql_bind_null(struct sql_stmt *stmt, unsigned idx);
/* Executes on first call; returns 1 when a row is available, 0 when done, -1 on error. */
int sql_step(struct sql_stmt *stmt, struct sql_error *err);
/* Columns are numbered from 0 and valid until the next sql_step. */
int64_t sql_col_int64(struct sql_stmt *stmt, unsigned col);
const char *sql_col_text(struct sql_stmt *stmt, unsigned col); /* NULL for SQL NULL */
bool sql_col_is_null(struct sql_stmt *stmt, unsigned col);
/* Rows changed by the last INSERT/UPDATE/DELETE and its generated id. */
uint64_t sql_stmt_changes(struct sql_stmt *stmt);
int64_t sql_stmt_last_insert_id(struct sql_stmt *stmt);
/* Releases the statement back to the connection's cache. */
void sql_stmt_done(struct sql_stmt **stmt);

/* One-shot helpers for the common shapes, all with sql_prepare semantics. "fmt" lists the
   parameter types: 'i' int64, 's' text (NULL allowed), e.g. sql_run(c, err, "INSERT …", "is",
   cid, name). Return -1 on error. */
int sql_run(struct sql_conn *conn, struct sql_error *err, const char *sql, const char *fmt, ...);
/* Like sql_run, returns the number of rows changed. */
int64_t sql_run_changes(struct sql_conn *conn, struct sql_error *err, const char *sql,
                        const char *fmt, ...);
/* First column of the first row as int64: 1 found (*value_r set), 0 no row, -1 error. */
int sql_query_int64(struct sql_conn *conn, struct sql_error *err, int64_t *value_r, const char *sql,
                    const char *fmt, ...);

/* Runs fn inside a transaction, retrying up to 5 times on SQL_ERR_BUSY (with backoff). fn
   returns 0 to commit or -1 to roll back (setting err if it is an SQL error; leaving
   err->kind NONE means a logical failure reported by fn itself). A SQL_WRITE transaction
   takes the write lock at once (sql_begin). */
typedef int sql_txn_fn(struct sql_conn *conn, void *ctx, struct sql_error *err);
int sql_transaction(struct sql_db *db, enum sql_intent intent, int64_t key, sql_txn_fn *fn,
                    void *ctx, struct sql_error *err);
/* The same on a connection the caller already holds (it stays the caller's). */
int sql_conn_transaction(struct sql_conn *conn, bool write, sql_txn_fn *fn, void *ctx,
                         struct sql_error *err);

/* Sets err from a format (kind SQL_ERR_OTHER unless given). */
void sql_error_set(struct sql_error *err, enum sql_error_kind kind, int native, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
const char *sql_error_kind_name(enum sql_error_kind kind);

#endif
