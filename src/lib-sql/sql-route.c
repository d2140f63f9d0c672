/* SPDX-License-Identifier: MIT */
/* Database clusters: a pool per server, writes to the primary (or the Galera write node), reads
   to a replica that has applied the key's last write, fast failure while a server is down. */
#include "sql-route.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

#define LAG_MEMORY_MS      1000 /* a replica that made a read give up is skipped this long */
#define BACKOFF_MAX_FACTOR 8

static void count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void sql_settings_default(struct sql_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->max_connections = 8;
	set->connect_timeout_ms = 5000;
	set->busy_timeout_ms = 5000;
	set->rw_timeout_ms = 30000;
	set->replica_wait_ms = 50;
	set->idle_check_ms = 1000;
	set->down_backoff_ms = 1000;
}

/* ---------------------------------------------------------------- opening */

static const struct sql_driver *driver_for(enum sql_driver_kind kind)
{
	return kind == SQL_DRIVER_SQLITE ? &sql_driver_sqlite : &sql_driver_mariadb;
}

static struct sql_db *db_new(const struct sql_settings *set, unsigned server_count)
{
	struct sql_db *db = mem_calloc(1, sizeof(*db));
	if (set != NULL)
		db->set = *set;
	else
		sql_settings_default(&db->set);
	if (db->set.max_connections == 0)
		db->set.max_connections = 1;
	if (db->set.down_backoff_ms == 0)
		db->set.down_backoff_ms = 1000;
	db->servers = mem_calloc(server_count, sizeof(*db->servers));
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->cond, NULL);
	return db;
}

static int server_init(struct sql_db *db, const char *url, bool replica, struct sql_error *err)
{
	struct sql_server *srv = &db->servers[db->server_count];
	const char *error;
	if (sql_url_parse(url, &srv->url, &error) < 0) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "%s", error);
		return -1;
	}
	sql_url_redact(url, srv->redacted, sizeof(srv->redacted));
	if (db->server_count > 0 && srv->url.driver != db->driver->kind) {
		sql_error_set(err, SQL_ERR_OTHER, 0,
		              "replica %s: not the primary's kind of database", srv->redacted);
		return -1;
	}
	srv->db = db;
	srv->replica = replica;
	db->server_count++;
	return 0;
}

int sql_db_open(const char *url, const struct sql_settings *set, bool create, struct sql_db **db_r,
                struct sql_error *err)
{
	struct sql_url u;
	const char *error;
	if (sql_url_parse(url, &u, &error) < 0) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "%s", error);
		return -1;
	}
	struct sql_db *db = db_new(set, 1);
	db->driver = driver_for(u.driver);
	db->create = create;
	(void)server_init(db, url, false, err);

	/* Connect once now so that a wrong URL or a missing database fails at open. */
	struct sql_conn *conn;
	if (route_pool_get(&db->servers[0], &conn, err) < 0) {
		sql_db_close(&db);
		return -1;
	}
	sql_conn_put(&conn);
	*db_r = db;
	return 0;
}

int sql_db_open_cluster(const char *primary_url, const char *const *replica_urls,
                        size_t replica_count, const struct sql_settings *set, struct sql_db **db_r,
                        struct sql_error *err)
{
	struct sql_url u;
	const char *error;
	if (sql_url_parse(primary_url, &u, &error) < 0) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "%s", error);
		return -1;
	}
	if (replica_count > 0 && u.driver != SQL_DRIVER_MARIADB) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "replicas need a mariadb:// primary");
		return -1;
	}
	struct sql_db *db = db_new(set, 1 + (unsigned)replica_count);
	db->driver = driver_for(u.driver);
	if (server_init(db, primary_url, false, err) < 0)
		goto fail;
	for (size_t i = 0; i < replica_count; i++) {
		if (server_init(db, replica_urls[i], true, err) < 0)
			goto fail;
	}
	/* One server must answer; the first that does tells whether this is Galera. */
	struct sql_error first_err = {0};
	bool reached = false;
	for (unsigned i = 0; i < db->server_count && !reached; i++) {
		struct sql_conn *conn;
		struct sql_error e;
		if (route_pool_get(&db->servers[i], &conn, &e) < 0) {
			if (first_err.kind == SQL_ERR_NONE)
				first_err = e;
			continue;
		}
		reached = true;
		if (db->server_count > 1)
			route_detect_galera(db, conn);
		sql_conn_put(&conn);
	}
	if (!reached) {
		*err = first_err;
		goto fail;
	}
	*db_r = db;
	return 0;
fail:
	sql_db_close(&db);
	return -1;
}

void sql_db_close(struct sql_db **dbp)
{
	struct sql_db *db = *dbp;
	if (db == NULL)
		return;
	for (unsigned i = 0; i < db->server_count; i++) {
		struct sql_server *srv = &db->servers[i];
		while (srv->free_list != NULL) {
			struct sql_conn *c = srv->free_list;
			srv->free_list = c->next_free;
			db->driver->disconnect(c);
		}
	}
	route_positions_free(db);
	mem_free(&db->servers);
	pthread_cond_destroy(&db->cond);
	pthread_mutex_destroy(&db->lock);
	mem_free(dbp);
}

enum sql_driver_kind sql_db_driver(const struct sql_db *db)
{
	return db->driver->kind;
}

enum sql_driver_kind sql_conn_driver(const struct sql_conn *conn)
{
	return conn->db->driver->kind;
}

const char *sql_db_url(const struct sql_db *db)
{
	return db->servers[0].redacted;
}

void sql_db_retire(struct sql_db *db, const char *why)
{
	pthread_mutex_lock(&db->lock);
	if (!db->retired)
		log_info("sql", "%s: writes refused from now on: %s", db->servers[0].redacted, why);
	db->retired = true;
	snprintf(db->retired_why, sizeof(db->retired_why), "%s", why);
	pthread_mutex_unlock(&db->lock);
}

/* A write through a retired pool: refused with why. */
static int refuse_retired(struct sql_db *db, struct sql_error *err)
{
	pthread_mutex_lock(&db->lock);
	bool retired = db->retired;
	if (retired)
		sql_error_set(err, SQL_ERR_READ_ONLY, 0, "writes refused, primary %s replaced: %s",
		              db->servers[0].redacted, db->retired_why);
	pthread_mutex_unlock(&db->lock);
	if (retired)
		count(&db->stats.write_fail_down, 1);
	return retired ? -1 : 0;
}

bool sql_conn_on_replica(const struct sql_conn *conn)
{
	return conn->server != route_writer(conn->db);
}

/* ---------------------------------------------------------------- server health */

/* Under db->lock. */
static void mark_down(struct sql_server *srv, const char *why)
{
	struct sql_db *db = srv->db;
	uint64_t now = clock_mono_ms();
	if (!srv->down) {
		srv->backoff_ms = db->set.down_backoff_ms;
		if (srv->ever_up)
			log_warn("sql", "%s is down: %s", srv->redacted, why);
	} else if (srv->backoff_ms < db->set.down_backoff_ms * BACKOFF_MAX_FACTOR) {
		srv->backoff_ms *= 2;
	}
	srv->down = true;
	srv->retry_at_ms = now + srv->backoff_ms;
	snprintf(srv->last_error, sizeof(srv->last_error), "%s", why);
}

static void mark_up(struct sql_server *srv)
{
	if (srv->down)
		log_info("sql", "%s is back", srv->redacted);
	srv->down = false;
	srv->ever_up = true;
	srv->backoff_ms = 0;
}

/* Under db->lock: may this server be tried now? */
static bool usable(const struct sql_server *srv, uint64_t now)
{
	return !srv->down || now >= srv->retry_at_ms;
}

/* A new or long-idle connection: is its server fit for use? (Galera: Synced; a replica's
   applied position is refreshed on the way.) 0 fit; -1 the connection failed (err set);
   -2 the server answered but is unfit (err says why). */
static int check_server(struct sql_conn *conn, bool fresh, struct sql_error *err)
{
	struct sql_db *db = conn->db;
	struct sql_server *srv = conn->server;
	char value[SQL_GTID_POS_MAX];

	if (db->galera) {
		if (fresh && db->driver->exec(conn, "SET SESSION wsrep_sync_wait=1", err) < 0)
			return -1;
		int r = db->driver->query_value(conn,
		                                "SELECT VARIABLE_VALUE FROM "
		                                "information_schema.GLOBAL_STATUS WHERE "
		                                "VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT'",
		                                value, sizeof(value), err);
		if (r < 0)
			return -1;
		if (r == 0 || strcmp(value, "Synced") != 0) {
			sql_error_set(err, SQL_ERR_CONNECTION, 0,
			              "galera node %s is %s, not Synced", srv->redacted,
			              r == 0 ? "not in a cluster" : value);
			return -2;
		}
		return 0;
	}
	if (srv->replica) {
		if (db->driver->query_value(conn, "SELECT @@gtid_slave_pos", value, sizeof(value),
		                            err) < 0)
			return -1;
		route_replica_applied(srv, value);
		return 0;
	}
	return fresh ? 0 : db->driver->ping(conn);
}

/* ---------------------------------------------------------------- pools */

int route_pool_get(struct sql_server *srv, struct sql_conn **conn_r, struct sql_error *err)
{
	struct sql_db *db = srv->db;
	bool checks = db->server_count > 1;

	pthread_mutex_lock(&db->lock);
	for (;;) {
		uint64_t now = clock_mono_ms();
		if (!usable(srv, now)) {
			sql_error_set(err, SQL_ERR_CONNECTION, 0,
			              "%s is down (%s); next attempt in %llu ms", srv->redacted,
			              srv->last_error,
			              (unsigned long long)(srv->retry_at_ms - now));
			pthread_mutex_unlock(&db->lock);
			return -1;
		}
		struct sql_conn *c = srv->free_list;
		if (c != NULL) {
			srv->free_list = c->next_free;
			srv->in_use++;
			pthread_mutex_unlock(&db->lock);
			/* An idle connection may have been closed by its server (restart, kill):
			   the socket tells at no cost. One idle for long is checked properly: its
			   server may also have fallen out of a Galera cluster. */
			int ok = db->driver->peek(c);
			if (ok == 0 && now - c->idle_since_ms >= db->set.idle_check_ms)
				ok = checks ? check_server(c, false, err) : db->driver->ping(c);
			if (ok == 0) {
				*conn_r = c;
				return 0;
			}
			db->driver->disconnect(c);
			pthread_mutex_lock(&db->lock);
			srv->open_count--;
			srv->in_use--;
			if (ok == -2)
				mark_down(srv, err->message);
			continue;
		}
		if (srv->open_count < db->set.max_connections) {
			srv->open_count++;
			srv->in_use++;
			pthread_mutex_unlock(&db->lock);
			int r = db->driver->connect(&srv->url, &db->set, db->create, &c, err);
			if (r == 0) {
				c->db = db;
				c->server = srv;
				if (checks && check_server(c, true, err) < 0) {
					db->driver->disconnect(c);
					if (err->kind == SQL_ERR_NONE)
						err->kind = SQL_ERR_CONNECTION;
					r = -1;
				}
			}
			pthread_mutex_lock(&db->lock);
			if (r < 0) {
				srv->open_count--;
				srv->in_use--;
				if (err->kind == SQL_ERR_CONNECTION)
					mark_down(srv, err->message);
				pthread_cond_broadcast(&db->cond);
				pthread_mutex_unlock(&db->lock);
				return -1;
			}
			mark_up(srv);
			pthread_mutex_unlock(&db->lock);
			*conn_r = c;
			return 0;
		}
		pthread_cond_wait(&db->cond, &db->lock);
	}
}

static void count_write_failure(struct sql_db *db, enum sql_error_kind kind)
{
	switch (kind) {
	case SQL_ERR_CONNECTION:
		count(&db->stats.write_fail_lost, 1);
		break;
	case SQL_ERR_BUSY:
		count(&db->stats.write_fail_busy, 1);
		break;
	case SQL_ERR_READ_ONLY:
		count(&db->stats.write_fail_down, 1);
		break;
	case SQL_ERR_OTHER:
		count(&db->stats.write_fail_other, 1);
		break;
	case SQL_ERR_NONE:
	case SQL_ERR_CONSTRAINT: /* the application's conflict, not the database's failure */
		break;
	}
}

void sql_conn_put(struct sql_conn **connp)
{
	struct sql_conn *c = *connp;
	if (c == NULL)
		return;
	*connp = NULL;
	struct sql_db *db = c->db;
	struct sql_server *srv = c->server;
	if (c->in_transaction && !c->broken)
		sql_rollback(c);
	/* A statement left half-read would keep its read snapshot (SQLite) into the next user's
	   transactions: reset every one still in use. */
	for (struct sql_stmt *s = c->stmt_cache; s != NULL; s = s->next_cached) {
		if (s->in_use && !c->broken)
			db->driver->reset(s);
		s->in_use = false;
	}
	if (c->intent == SQL_WRITE)
		count_write_failure(db, c->failed);
	c->idle_since_ms = clock_mono_ms();
	pthread_mutex_lock(&db->lock);
	srv->in_use--;
	if (c->broken) {
		srv->open_count--;
		/* Lost mid-use: the next user reconnects, and if that fails the server is down. */
		pthread_mutex_unlock(&db->lock);
		db->driver->disconnect(c);
		pthread_mutex_lock(&db->lock);
	} else {
		c->next_free = srv->free_list;
		srv->free_list = c;
	}
	pthread_cond_broadcast(&db->cond);
	pthread_mutex_unlock(&db->lock);
}

int sql_conn_failed(struct sql_conn *conn, const struct sql_error *err)
{
	if (err != NULL && err->kind != SQL_ERR_NONE)
		conn->failed = err->kind;
	return -1;
}

/* ---------------------------------------------------------------- routing */

struct sql_server *route_writer(struct sql_db *db)
{
	if (!db->galera)
		return &db->servers[0];
	/* Galera: the registered primary while it is fit, else the first fit node, so that
	   certification conflicts between writers stay rare. */
	uint64_t now = clock_mono_ms();
	struct sql_server *writer = &db->servers[0];
	pthread_mutex_lock(&db->lock);
	for (unsigned i = 0; i < db->server_count; i++) {
		if (usable(&db->servers[i], now)) {
			writer = &db->servers[i];
			break;
		}
	}
	pthread_mutex_unlock(&db->lock);
	return writer;
}

static void take(struct sql_conn *c, enum sql_intent intent, int64_t key)
{
	c->intent = intent;
	c->key = key;
	c->failed = SQL_ERR_NONE;
	c->commit_pending = false;
}

/* A write that cannot reach the primary: a kind of its own, so that callers can say that
   reads still work. */
static void refuse_write(struct sql_error *err)
{
	if (err->kind != SQL_ERR_CONNECTION)
		return;
	char why[sizeof(err->message)];
	snprintf(why, sizeof(why), "%s", err->message);
	sql_error_set(err, SQL_ERR_READ_ONLY, err->native, "writes refused, primary down: %s", why);
}

static int get_write(struct sql_db *db, int64_t key, struct sql_conn **conn_r,
                     struct sql_error *err)
{
	/* In Galera a failed write node hands over to the next fit one at once. */
	for (unsigned attempt = 0; attempt < db->server_count; attempt++) {
		struct sql_server *srv = route_writer(db);
		if (route_pool_get(srv, conn_r, err) == 0) {
			take(*conn_r, SQL_WRITE, key);
			count(&db->stats.writes, 1);
			count(&srv->writes, 1);
			return 0;
		}
		if (!db->galera)
			break;
	}
	count(&db->stats.write_fail_down, 1);
	refuse_write(err);
	return -1;
}

/* c, from replica srv, is the one for a read. */
static void replica_read(struct sql_db *db, struct sql_server *srv, struct sql_conn *c, int64_t key)
{
	take(c, SQL_READ, key);
	count(&db->stats.reads_replica, 1);
	count(&srv->reads, 1);
}

/* A read on the primary (or Galera writer), counted under why. */
static int read_primary(struct sql_db *db, int64_t key, uint64_t *why, struct sql_conn **conn_r,
                        struct sql_error *err)
{
	struct sql_server *srv = route_writer(db);
	if (route_pool_get(srv, conn_r, err) < 0)
		return -1;
	take(*conn_r, SQL_READ, key);
	count(&db->stats.reads_primary, 1);
	if (why != NULL)
		count(why, 1);
	count(&srv->reads, 1);
	return 0;
}

/* Read servers that may be tried now, least busy first (ties rotate). */
static unsigned read_candidates(struct sql_db *db, struct sql_server **out, unsigned max)
{
	struct sql_server *writer = route_writer(db);
	uint64_t now = clock_mono_ms();
	unsigned n = 0;
	pthread_mutex_lock(&db->lock);
	/* Ties start at a pseudo-random server, not the next one in turn: a request pattern
	   whose reads per write are a multiple of the server count would otherwise always ask
	   the same replica to wait after a write, and only that one would ever cover the
	   position (xorshift32: cheap, and never 0 from a non-zero seed). */
	unsigned x = db->next_read != 0 ? db->next_read : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	db->next_read = x;
	unsigned start = x;
	for (unsigned i = 0; i < db->server_count && n < max; i++) {
		struct sql_server *srv = &db->servers[(start + i) % db->server_count];
		if (srv == writer || !usable(srv, now))
			continue;
		unsigned j = n++;
		while (j > 0 && out[j - 1]->in_use > srv->in_use) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = srv;
	}
	pthread_mutex_unlock(&db->lock);
	return n;
}

static int read_galera(struct sql_db *db, int64_t key, struct sql_conn **conn_r,
                       struct sql_error *err)
{
	struct sql_server *cand[ROUTE_MAX_SERVERS];
	unsigned n = read_candidates(db, cand, ROUTE_MAX_SERVERS);
	for (unsigned i = 0; i < n; i++) {
		struct sql_error e;
		if (route_pool_get(cand[i], conn_r, &e) == 0) {
			replica_read(db, cand[i], *conn_r, key);
			return 0;
		}
	}
	return read_primary(db, key, n > 0 ? &db->stats.reads_primary_error : NULL, conn_r, err);
}

static int read_replicated(struct sql_db *db, int64_t key, struct sql_conn **conn_r,
                           struct sql_error *err)
{
	struct sql_server *cand[ROUTE_MAX_SERVERS];
	unsigned n = read_candidates(db, cand, ROUTE_MAX_SERVERS);
	if (n == 0) /* every replica is down */
		return read_primary(db, key, &db->stats.reads_primary_error, conn_r, err);
	struct sql_gtid_pos want;
	int r = route_position_wanted(db, key, &want);
	if (r < 0)
		return read_primary(db, key, &db->stats.reads_primary_unknown, conn_r, err);

	/* A replica already known to have the position needs no check. Otherwise the least
	   busy one is asked to wait; one that made a read give up lately is only asked whether
	   it has caught up (no wait), so a stopped replica costs reads no time. */
	uint64_t now = clock_mono_ms();
	int ready = -1;
	pthread_mutex_lock(&db->lock);
	for (unsigned i = 0; i < n && ready < 0; i++) {
		if (sql_gtid_covers(&cand[i]->applied, &want))
			ready = (int)i;
	}
	bool lagging = now < cand[0]->lagging_until_ms;
	pthread_mutex_unlock(&db->lock);

	bool failed = false;
	if (ready >= 0) {
		if (route_pool_get(cand[ready], conn_r, err) == 0) {
			replica_read(db, cand[ready], *conn_r, key);
			return 0;
		}
		failed = true;
	} else {
		struct sql_server *srv = cand[0];
		struct sql_conn *c;
		if (route_pool_get(srv, &c, err) == 0) {
			int w = route_wait_position(c, &want, lagging ? 0 : db->set.replica_wait_ms,
			                            err);
			if (w > 0) {
				replica_read(db, srv, c, key);
				*conn_r = c;
				return 0;
			}
			sql_conn_put(&c);
			if (w < 0)
				failed = true;
			else {
				pthread_mutex_lock(&db->lock);
				srv->lagging_until_ms = clock_mono_ms() + LAG_MEMORY_MS;
				pthread_mutex_unlock(&db->lock);
			}
		} else {
			failed = true;
		}
	}
	return read_primary(db, key,
	                    failed ? &db->stats.reads_primary_error : &db->stats.reads_primary_lag,
	                    conn_r, err);
}

int sql_conn_get(struct sql_db *db, enum sql_intent intent, int64_t key, struct sql_conn **conn_r,
                 struct sql_error *err)
{
	if (intent == SQL_WRITE && refuse_retired(db, err) < 0)
		return -1;
	if (db->server_count == 1) {
		if (route_pool_get(&db->servers[0], conn_r, err) < 0) {
			if (intent == SQL_WRITE)
				count(&db->stats.write_fail_down, 1);
			return -1;
		}
		take(*conn_r, intent, key);
		if (intent == SQL_WRITE) {
			count(&db->stats.writes, 1);
			count(&db->servers[0].writes, 1);
		} else {
			count(&db->stats.reads_primary, 1);
			count(&db->servers[0].reads, 1);
		}
		return 0;
	}
	if (intent == SQL_WRITE)
		return get_write(db, key, conn_r, err);
	if (db->set.primary_reads) {
		if (read_primary(db, key, NULL, conn_r, err) == 0)
			return 0;
		/* fall through: the primary is down, and a replica is better than nothing */
	}
	if (db->galera)
		return read_galera(db, key, conn_r, err);
	return read_replicated(db, key, conn_r, err);
}

/* ---------------------------------------------------------------- status */

void sql_db_stats(struct sql_db *db, struct sql_db_stats *stats_r)
{
	uint64_t *dst = (uint64_t *)stats_r;
	const uint64_t *src = (const uint64_t *)&db->stats;
	for (size_t i = 0; i < sizeof(*stats_r) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void sql_db_servers(struct sql_db *db, bool *galera_r, sql_server_info_fn *fn, void *ctx)
{
	struct sql_server *writer = route_writer(db);
	uint64_t now = clock_mono_ms();
	/* In Galera a failed node whose backoff is over would be tried first, but writes go to
	   the next node as long as it keeps failing: show that one. */
	pthread_mutex_lock(&db->lock);
	for (unsigned i = 0; db->galera && writer->down && i < db->server_count; i++) {
		if (!db->servers[i].down)
			writer = &db->servers[i];
	}
	pthread_mutex_unlock(&db->lock);
	*galera_r = db->galera;
	for (unsigned i = 0; i < db->server_count; i++) {
		struct sql_server *srv = &db->servers[i];
		char position[SQL_GTID_POS_MAX] = "", last_error[sizeof(srv->last_error)];
		pthread_mutex_lock(&db->lock);
		struct sql_server_info info = {
		    .url = srv->redacted,
		    .role = db->galera     ? "galera"
		            : srv->replica ? "replica"
		                           : "primary",
		    .up = !srv->down,
		    .writer = srv == writer,
		    .lagging = now < srv->lagging_until_ms,
		    .position = position,
		    .last_error = last_error,
		    .connections = srv->open_count,
		    .in_use = srv->in_use,
		    .reads = __atomic_load_n(&srv->reads, __ATOMIC_RELAXED),
		    .writes = __atomic_load_n(&srv->writes, __ATOMIC_RELAXED),
		};
		if (srv->replica && !db->galera)
			(void)sql_gtid_format(&srv->applied, position, sizeof(position));
		snprintf(last_error, sizeof(last_error), "%s", srv->last_error);
		pthread_mutex_unlock(&db->lock);
		fn(&info, ctx);
	}
}
