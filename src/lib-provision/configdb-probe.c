/* SPDX-License-Identifier: MIT */
/* The probe opens its own one-connection pool per round instead of using the configdb's: a
   pool whose connections are all busy (or stuck on a dead server) must not hold /health's
   answer back, and a fresh connection proves the server takes new ones. */
#include "configdb-probe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "sql.h"

/* How much later than its timeout a probe in flight is declared stuck. */
#define PROBE_GRACE_MS 500

struct configdb_probe {
	char *url;
	uint64_t interval_ms, timeout_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	/* under lock */
	bool down;
	const char *reason;
	uint64_t probe_started_ms; /* monotonic; 0 while no probe is in flight */
};

/* An SQLite configdb that does not exist yet is a node before initconfigdb, not a failure. */
static bool sqlite_missing(const char *url)
{
	struct sql_url u;
	const char *error;
	struct stat st;
	return sql_url_parse(url, &u, &error) == 0 && u.driver == SQL_DRIVER_SQLITE &&
	       stat(u.path, &st) < 0;
}

/* One round: 0 when the configdb answered, else -1 with err set. */
static int probe_once(struct configdb_probe *p, struct sql_error *err)
{
	struct sql_settings set;
	struct sql_db *db = NULL;
	struct sql_conn *conn = NULL;
	int ret = -1;

	if (sqlite_missing(p->url))
		return 0;
	sql_settings_default(&set);
	set.max_connections = 1;
	set.connect_timeout_ms = (unsigned)p->timeout_ms;
	set.rw_timeout_ms = (unsigned)p->timeout_ms;
	set.busy_timeout_ms = (unsigned)p->timeout_ms;
	if (sql_db_open(p->url, &set, false, &db, err) < 0)
		goto out;
	if (sql_conn_get(db, SQL_WRITE, 0, &conn, err) < 0)
		goto out;
	int64_t one;
	if (sql_query_int64(conn, err, &one, "SELECT 1", "") < 0)
		goto out;
	ret = 0;
out:
	sql_conn_put(&conn);
	sql_db_close(&db);
	return ret;
}

static void *probe_thread(void *ctx)
{
	struct configdb_probe *p = ctx;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct sql_error err;
		memset(&err, 0, sizeof(err));
		p->probe_started_ms = clock_mono_ms();
		pthread_mutex_unlock(&p->lock);
		int r = probe_once(p, &err);
		pthread_mutex_lock(&p->lock);
		p->probe_started_ms = 0;
		bool down = r < 0;
		if (down && !p->down)
			log_warn("health", "configdb is down: %s", err.message);
		else if (!down && p->down)
			log_info("health", "configdb answers again");
		p->down = down;
		p->reason = !down                            ? NULL
		            : err.kind == SQL_ERR_CONNECTION ? "configdb unreachable"
		                                             : "configdb failing";
		if (p->stop)
			break;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(p->interval_ms / 1000);
		until.tv_nsec += (long)(p->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct configdb_probe *configdb_probe_start(const char *url, uint64_t interval_ms,
                                            uint64_t timeout_ms)
{
	struct configdb_probe *p = mem_calloc(1, sizeof(*p));
	pthread_condattr_t attr;

	p->url = mem_strdup(url);
	p->interval_ms = interval_ms;
	p->timeout_ms = timeout_ms;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&p->thread, NULL, probe_thread, p) != 0)
		abort(); /* at startup: nothing sensible to go on with */
	return p;
}

bool configdb_probe_ok(struct configdb_probe *p, const char **reason_r)
{
	if (p == NULL)
		return true;
	uint64_t now = clock_mono_ms();
	pthread_mutex_lock(&p->lock);
	bool down = p->down;
	const char *reason = p->reason;
	if (p->probe_started_ms != 0 &&
	    now - p->probe_started_ms > p->timeout_ms + PROBE_GRACE_MS) {
		down = true;
		reason = "configdb not answering";
	}
	pthread_mutex_unlock(&p->lock);
	*reason_r = reason;
	return !down;
}

void configdb_probe_stop(struct configdb_probe **probe)
{
	struct configdb_probe *p = *probe;

	if (p == NULL)
		return;
	*probe = NULL;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	mem_free(&p->url);
	mem_free(&p);
}
