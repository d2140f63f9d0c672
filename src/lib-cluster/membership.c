/* SPDX-License-Identifier: MIT */
/* Member records in Redis: a hash per node with a TTL, indexed by a sorted set of ids. */
#include "membership.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "redis.h"

#define MAX_MEMBERS 256

struct membership {
	struct membership_settings set;
	char prefix[128];
	member_info_fn *fn;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, beat_now;
	char id[64];
	_Atomic int replicas;
	bool failing;
	bool replicas_warned;
};

static void key_of(const char *prefix, const char *id, char *out, size_t size)
{
	snprintf(out, size, "%sm:%s", prefix, id);
}

/* Counts the replicas in ROLE's reply: ["master", offset, [[ip, port, offset], …]]. */
static int replicas_of(const redisReply *role)
{
	if (role == NULL || role->type != REDIS_REPLY_ARRAY || role->elements < 3 ||
	    role->element[2]->type != REDIS_REPLY_ARRAY)
		return -1;
	return (int)role->element[2]->elements;
}

static int beat(struct membership *m)
{
	struct member_info info;
	memset(&info, 0, sizeof(info));
	m->fn(&info, m->ctx);
	info.heartbeat_ms = clock_wall_ms();
	snprintf(m->id, sizeof(m->id), "%s", info.id);
	char key[256], index[160], err[256];
	key_of(m->prefix, info.id, key, sizeof(key));
	snprintf(index, sizeof(index), "%smembers", m->prefix);

	struct redis_conn *conn = redis_pool_get(m->set.pool, err, sizeof(err));
	if (conn == NULL)
		goto fail;
	redis_appendf(conn,
	              "HSET %s id %s route %s address %s version %s cluster %s state %s "
	              "started %llu load %llu sessions %llu stream %s heartbeat %llu",
	              key, info.id, info.route, info.address, info.version, info.cluster,
	              info.state, (unsigned long long)info.started_ms,
	              (unsigned long long)info.load, (unsigned long long)info.sessions,
	              info.stream_id, (unsigned long long)info.heartbeat_ms);
	redis_appendf(conn, "PEXPIRE %s %llu", key, (unsigned long long)m->set.ttl_ms);
	redis_appendf(conn, "ZADD %s %llu %s", index, (unsigned long long)info.heartbeat_ms,
	              info.id);
	redis_appendf(conn, "ROLE");
	bool ok = true;
	int replicas = -1;
	for (int i = 0; i < 4; i++) {
		redisReply *r = redis_get_reply(conn);
		ok = ok && !redis_reply_failed(r);
		if (i == 3)
			replicas = replicas_of(r);
		if (r != NULL)
			freeReplyObject(r);
	}
	if (!ok)
		snprintf(err, sizeof(err), "%s",
		         redis_conn_error(conn)[0] != '\0' ? redis_conn_error(conn)
		                                           : "error reply");
	redis_pool_put(m->set.pool, &conn);
	if (!ok)
		goto fail;
	atomic_store(&m->replicas, replicas);
	if (replicas >= 0 && (unsigned)replicas < m->set.want_replicas && !m->replicas_warned) {
		log_warn("cluster",
		         "Redis master has %d replica(s) connected; backup_count + "
		         "async_backup_count want %u",
		         replicas, m->set.want_replicas);
		m->replicas_warned = true;
	} else if (replicas >= 0 && (unsigned)replicas >= m->set.want_replicas) {
		m->replicas_warned = false;
	}
	if (m->failing)
		log_info("cluster", "membership heartbeat works again");
	m->failing = false;
	return 0;
fail:
	if (!m->failing)
		log_warn("cluster", "membership heartbeat failed: %s", err);
	m->failing = true;
	return -1;
}

static void *heartbeat(void *arg)
{
	struct membership *m = arg;
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		pthread_mutex_unlock(&m->lock);
		beat(m);
		pthread_mutex_lock(&m->lock);
		struct timespec until = clock_realtime_deadline(m->set.heartbeat_ms);
		while (!m->stop && !m->beat_now &&
		       pthread_cond_timedwait(&m->cond, &m->lock, &until) != ETIMEDOUT)
			;
		m->beat_now = false;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

struct membership *membership_start(const struct membership_settings *set, member_info_fn *fn,
                                    void *ctx)
{
	struct membership *m = mem_calloc(1, sizeof(*m));
	m->set = *set;
	snprintf(m->prefix, sizeof(m->prefix), "%s", set->prefix);
	m->set.prefix = m->prefix;
	m->fn = fn;
	m->ctx = ctx;
	atomic_store(&m->replicas, -1);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	/* The first record before the node reports itself started. */
	beat(m);
	if (pthread_create(&m->thread, NULL, heartbeat, m) != 0)
		abort();
	return m;
}

void membership_beat_now(struct membership *m)
{
	pthread_mutex_lock(&m->lock);
	m->beat_now = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void membership_stop(struct membership **mp)
{
	struct membership *m = *mp;
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	char key[256], index[160], err[256];
	key_of(m->prefix, m->id, key, sizeof(key));
	snprintf(index, sizeof(index), "%smembers", m->prefix);
	struct redis_conn *conn = redis_pool_get(m->set.pool, err, sizeof(err));
	if (conn != NULL) {
		redis_appendf(conn, "DEL %s", key);
		redis_appendf(conn, "ZREM %s %s", index, m->id);
		for (int i = 0; i < 2; i++) {
			redisReply *r = redis_get_reply(conn);
			if (r != NULL)
				freeReplyObject(r);
		}
		redis_pool_put(m->set.pool, &conn);
	}
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	mem_free(mp);
}

int membership_redis_replicas(struct membership *m)
{
	return atomic_load(&m->replicas);
}

/* ---------------------------------------------------------------- listing */

static void copy_field(const redisReply *v, char *out, size_t size)
{
	if (v->type == REDIS_REPLY_STRING)
		snprintf(out, size, "%.*s", (int)v->len, v->str);
}

static uint64_t number_field(const redisReply *v)
{
	if (v->type != REDIS_REPLY_STRING)
		return 0;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v->str, &end, 10);
	return errno == 0 && *end == '\0' ? n : 0;
}

static void fill(struct member_info *mi, const redisReply *h)
{
	memset(mi, 0, sizeof(*mi));
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (k->type != REDIS_REPLY_STRING)
			continue;
		const char *name = k->str;
		if (strcmp(name, "id") == 0)
			copy_field(v, mi->id, sizeof(mi->id));
		else if (strcmp(name, "route") == 0)
			copy_field(v, mi->route, sizeof(mi->route));
		else if (strcmp(name, "address") == 0)
			copy_field(v, mi->address, sizeof(mi->address));
		else if (strcmp(name, "version") == 0)
			copy_field(v, mi->version, sizeof(mi->version));
		else if (strcmp(name, "cluster") == 0)
			copy_field(v, mi->cluster, sizeof(mi->cluster));
		else if (strcmp(name, "state") == 0)
			copy_field(v, mi->state, sizeof(mi->state));
		else if (strcmp(name, "stream") == 0)
			copy_field(v, mi->stream_id, sizeof(mi->stream_id));
		else if (strcmp(name, "started") == 0)
			mi->started_ms = number_field(v);
		else if (strcmp(name, "load") == 0)
			mi->load = number_field(v);
		else if (strcmp(name, "sessions") == 0)
			mi->sessions = number_field(v);
		else if (strcmp(name, "heartbeat") == 0)
			mi->heartbeat_ms = number_field(v);
	}
}

/* How far back the oldest live heartbeat is (at least a minute, to stay clear of clock skew
   between nodes). */
static uint64_t oldest_live_ms(const struct member_info *live, size_t n)
{
	uint64_t now = clock_wall_ms(), age = 60000;
	for (size_t i = 0; i < n; i++) {
		if (live[i].heartbeat_ms < now && now - live[i].heartbeat_ms > age)
			age = now - live[i].heartbeat_ms;
	}
	return age;
}

static int by_route(const void *a, const void *b)
{
	const struct member_info *x = a, *y = b;
	int c = strcmp(x->route, y->route);
	return c != 0 ? c : strcmp(x->id, y->id);
}

int membership_list(struct redis_pool *pool, const char *prefix, struct member_info *out,
                    size_t max, char *err, size_t err_size)
{
	char index[160];
	snprintf(index, sizeof(index), "%smembers", prefix);
	struct redis_conn *conn = redis_pool_get(pool, err, err_size);
	if (conn == NULL)
		return -1;
	int ret = -1;
	/* newest heartbeats first: records of dead nodes cannot crowd out live ones */
	redisReply *ids = redis_commandf(conn, "ZREVRANGE %s 0 %d", index, MAX_MEMBERS - 1);
	if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
		snprintf(err, err_size, "%s",
		         ids == NULL ? redis_conn_error(conn) : "ZRANGE: unexpected reply");
		goto out;
	}
	for (size_t i = 0; i < ids->elements; i++) {
		char key[256];
		snprintf(key, sizeof(key), "%sm:%.*s", prefix, (int)ids->element[i]->len,
		         ids->element[i]->str);
		redis_appendf(conn, "HGETALL %s", key);
	}
	size_t n = 0, gone = 0;
	bool ok = true;
	for (size_t i = 0; i < ids->elements; i++) {
		redisReply *h = redis_get_reply(conn);
		if (h == NULL || h->type != REDIS_REPLY_ARRAY)
			ok = false;
		else if (h->elements == 0)
			gone++; /* the node died without leaving: its record expired */
		else if (n < max)
			fill(&out[n++], h);
		if (h != NULL)
			freeReplyObject(h);
	}
	if (!ok) {
		snprintf(err, err_size, "%s",
		         redis_conn_error(conn)[0] != '\0' ? redis_conn_error(conn)
		                                           : "HGETALL: unexpected reply");
		goto out;
	}
	/* Tidy the index: a member whose heartbeat is older than any live record could be. */
	if (gone > 0) {
		redisReply *z =
		    redis_commandf(conn, "ZREMRANGEBYSCORE %s -inf %llu", index,
		                   (unsigned long long)(clock_wall_ms() - oldest_live_ms(out, n)));
		if (z != NULL)
			freeReplyObject(z);
	}
	qsort(out, n, sizeof(*out), by_route);
	ret = (int)n;
out:
	if (ids != NULL)
		freeReplyObject(ids);
	redis_pool_put(pool, &conn);
	return ret;
}
