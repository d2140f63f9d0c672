/* SPDX-License-Identifier: MIT */
/* The inside of a database (cluster): its servers and their pools, shared by sql-route.c
   (pools, routing) and sql-positions.c (the replication monitor). */
#ifndef TANDEM_SQL_ROUTE_H
#define TANDEM_SQL_ROUTE_H

#include <pthread.h>

#include "sql-private.h"

#define ROUTE_MAX_SERVERS 32

/* One server: its pool and what is known about its health. Fields below `db` are under
   db->lock except the counters (atomic). */
struct sql_server {
	struct sql_db *db;
	struct sql_url url;
	char redacted[600];
	bool replica; /* registered as a replica (in Galera: a read node) */
	struct sql_conn *free_list;
	unsigned open_count; /* connections open, in use or idle */
	unsigned in_use;
	bool ever_up; /* has been reached once (only then is a failure news worth a log line) */
	bool down;    /* failed: not tried again before retry_at_ms */
	uint64_t retry_at_ms;
	unsigned backoff_ms;
	char last_error[200];
	struct sql_gtid_pos applied; /* replica: last known gtid_slave_pos */
	uint64_t lagging_until_ms;   /* replica: a read gave up waiting for it */
	uint64_t reads, writes;
};

struct sql_positions; /* sql-positions.c: the in-process store */

struct sql_db {
	const struct sql_driver *driver;
	struct sql_settings set;
	bool create;
	bool galera;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* a connection came back or a slot became free */
	struct sql_server *servers; /* [0] is the primary */
	unsigned server_count;
	unsigned next_read;          /* read_candidates' xorshift32 state: where ties start */
	struct sql_positions *local; /* used when set.positions is NULL */
	struct sql_db_stats stats;   /* atomic */
	bool retired;                /* under lock: writes refused (sql_db_retire) */
	char retired_why[200];
};

/* A connection from srv's pool: reuses an idle one (checked if it idled long), else connects.
   Fails at once while srv is down. */
int route_pool_get(struct sql_server *srv, struct sql_conn **conn_r, struct sql_error *err);
/* Where writes go now: the primary, or in Galera the first fit node. */
struct sql_server *route_writer(struct sql_db *db);

/* sql-positions.c */
/* Sets db->galera from what the server conn is on says. */
void route_detect_galera(struct sql_db *db, struct sql_conn *conn);
/* The position a read under key must see: 0 (want_r set, maybe empty) or -1 when the
   position store is unavailable. */
int route_position_wanted(struct sql_db *db, int64_t key, struct sql_gtid_pos *want_r);
/* Waits up to ms for the replica conn is on to apply want: 1 applied (the replica is no
   longer lagging), 0 timed out, -1 error (err set). Refreshes the replica's known position. */
int route_wait_position(struct sql_conn *conn, const struct sql_gtid_pos *want, unsigned ms,
                        struct sql_error *err);
/* Records a replica's gtid_slave_pos as read from the server. */
void route_replica_applied(struct sql_server *srv, const char *pos);
void route_positions_free(struct sql_db *db);

#endif
