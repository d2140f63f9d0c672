/* SPDX-License-Identifier: MIT */
/* The replication monitor (docs/internals/replication.md): the position of each key's last write,
   kept in a position store shared by the nodes, and the replica checks that make reads see it. */
#include "sql-route.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

/* The in-process store: a fixed table where keys that hash alike share a slot holding the
   greater position of them all. Sharing can only make a read wait for a newer position than
   it needs, never let it see older data, so the table stays small and never grows. */
#define LOCAL_SLOTS 1024

struct sql_positions {
	pthread_mutex_t lock;
	bool floor_set;
	struct sql_gtid_pos floor;
	struct sql_gtid_pos slots[LOCAL_SLOTS];
};

static unsigned slot_of(int64_t key)
{
	uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
	return (unsigned)(h >> 54) % LOCAL_SLOTS;
}

static int local_get(void *ctx, const char *scope, int64_t key, char *pos_r, size_t size)
{
	struct sql_positions *p = ctx;
	(void)scope;
	pthread_mutex_lock(&p->lock);
	struct sql_gtid_pos pos = p->floor;
	bool known = p->floor_set;
	(void)sql_gtid_merge(&pos, &p->slots[slot_of(key)]);
	pthread_mutex_unlock(&p->lock);
	if (!known)
		return 0;
	return sql_gtid_format(&pos, pos_r, size) < 0 ? -1 : 1;
}

static int local_put(void *ctx, const char *scope, int64_t key, const char *text)
{
	struct sql_positions *p = ctx;
	struct sql_gtid_pos pos;
	(void)scope;
	if (sql_gtid_parse(text, &pos) < 0)
		return -1;
	pthread_mutex_lock(&p->lock);
	int ret = sql_gtid_merge(&p->slots[slot_of(key)], &pos);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static int local_put_floor(void *ctx, const char *scope, const char *text)
{
	struct sql_positions *p = ctx;
	struct sql_gtid_pos pos;
	(void)scope;
	if (sql_gtid_parse(text, &pos) < 0)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (!p->floor_set) {
		p->floor = pos;
		p->floor_set = true;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* The store db uses; the in-process one is made on first use. */
static struct sql_position_store store_of(struct sql_db *db)
{
	if (db->set.positions != NULL)
		return *db->set.positions;
	pthread_mutex_lock(&db->lock);
	if (db->local == NULL) {
		db->local = mem_calloc(1, sizeof(*db->local));
		pthread_mutex_init(&db->local->lock, NULL);
	}
	pthread_mutex_unlock(&db->lock);
	return (struct sql_position_store){local_get, local_put, local_put_floor, db->local};
}

void route_positions_free(struct sql_db *db)
{
	if (db->local == NULL)
		return;
	pthread_mutex_destroy(&db->local->lock);
	mem_free(&db->local);
}

static void position_error(struct sql_db *db, const char *what)
{
	uint64_t n = __atomic_fetch_add(&db->stats.position_errors, 1, __ATOMIC_RELAXED);
	/* One line per 1000 failures: the store being down is also seen in its own logs. */
	if (n % 1000 == 0)
		log_warn("sql", "%s: position store %s failed (%llu failures so far)",
		         db->servers[0].redacted, what, (unsigned long long)n + 1);
}

/* ---------------------------------------------------------------- writes */

void sql_route_committed(struct sql_conn *conn)
{
	if (!conn->commit_pending)
		return;
	conn->commit_pending = false;
	struct sql_db *db = conn->db;
	/* Only replicas need positions; Galera's reads wait for causality themselves. */
	if (db->server_count < 2 || db->galera || conn->server->replica)
		return;
	struct sql_position_store store = store_of(db);
	if (store.put(store.ctx, db->set.scope, conn->key, conn->commit_pos) < 0)
		position_error(db, "put");
}

/* ---------------------------------------------------------------- reads */

void route_detect_galera(struct sql_db *db, struct sql_conn *conn)
{
	char value[16];
	struct sql_error err;
	if (db->driver->query_value == NULL)
		return;
	if (db->driver->query_value(conn, "SELECT @@wsrep_on AND @@wsrep_provider<>'none'", value,
	                            sizeof(value), &err) > 0 &&
	    strcmp(value, "1") == 0)
		db->galera = true;
}

/* The primary's current position: every write committed so far. 0, or -1 (primary down). */
static int primary_position(struct sql_db *db, struct sql_gtid_pos *pos_r)
{
	struct sql_conn *conn;
	struct sql_error err;
	char value[SQL_GTID_POS_MAX];
	if (route_pool_get(&db->servers[0], &conn, &err) < 0)
		return -1;
	conn->intent = SQL_READ;
	int r =
	    db->driver->query_value(conn, "SELECT @@gtid_binlog_pos", value, sizeof(value), &err);
	sql_conn_put(&conn);
	return r > 0 && sql_gtid_parse(value, pos_r) == 0 ? 0 : -1;
}

int route_position_wanted(struct sql_db *db, int64_t key, struct sql_gtid_pos *want_r)
{
	struct sql_position_store store = store_of(db);
	char text[SQL_GTID_POS_MAX];
	want_r->count = 0;
	int r = store.get(store.ctx, db->set.scope, key, text, sizeof(text));
	if (r < 0 || (r > 0 && sql_gtid_parse(text, want_r) < 0)) {
		position_error(db, "get");
		return -1;
	}
	if (r > 0)
		return 0;
	/* The store knows nothing (first use, or it lost its data): everything committed so
	   far becomes the floor every key must see. Without the primary nothing newer than a
	   replica's data can be had anyway. */
	if (primary_position(db, want_r) < 0)
		return 0;
	if (sql_gtid_format(want_r, text, sizeof(text)) == 0 &&
	    store.put_floor(store.ctx, db->set.scope, text) < 0)
		position_error(db, "put_floor");
	return 0;
}

void route_replica_applied(struct sql_server *srv, const char *text)
{
	struct sql_gtid_pos pos;
	if (sql_gtid_parse(text, &pos) < 0)
		return;
	pthread_mutex_lock(&srv->db->lock);
	srv->applied = pos;
	pthread_mutex_unlock(&srv->db->lock);
}

int route_wait_position(struct sql_conn *conn, const struct sql_gtid_pos *want, unsigned ms,
                        struct sql_error *err)
{
	struct sql_db *db = conn->db;
	char pos[SQL_GTID_POS_MAX], sql[SQL_GTID_POS_MAX + 128], value[SQL_GTID_POS_MAX + 8];
	if (sql_gtid_format(want, pos, sizeof(pos)) < 0) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "GTID position too long");
		return -1;
	}
	/* The position is digits, '-' and ',' only (it was parsed), so it can be quoted as is. */
	snprintf(sql, sizeof(sql),
	         "SELECT CONCAT(MASTER_GTID_WAIT('%s', %u.%03u), ' ', @@gtid_slave_pos)", pos,
	         ms / 1000, ms % 1000);
	uint64_t start = clock_mono_us();
	int r = db->driver->query_value(conn, sql, value, sizeof(value), err);
	__atomic_fetch_add(&db->stats.gtid_waits, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&db->stats.gtid_wait_us, clock_mono_us() - start, __ATOMIC_RELAXED);
	if (r <= 0) {
		if (r == 0)
			sql_error_set(err, SQL_ERR_OTHER, 0, "MASTER_GTID_WAIT returned no row");
		return -1;
	}
	const char *space = strchr(value, ' ');
	if (space != NULL)
		route_replica_applied(conn->server, space + 1);
	if (strncmp(value, "0 ", 2) != 0)
		return 0;
	pthread_mutex_lock(&db->lock);
	conn->server->lagging_until_ms = 0;
	pthread_mutex_unlock(&db->lock);
	return 1;
}
