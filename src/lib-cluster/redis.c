/* SPDX-License-Identifier: MIT */
/* Redis connections for the cluster layer: Sentinel resolution, ROLE check, pool with backoff. */
#include "redis.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>

#include "clock.h"
#include "mem.h"
#include "strv.h"

#define DEFAULT_REDIS_PORT    6379
#define DEFAULT_SENTINEL_PORT 26379

/* ---------------------------------------------------------------- URLs */

static struct strv skip(struct strv s, size_t n)
{
	return strv_make(s.ptr + n, s.len - n);
}

static int parse_port(struct strv s, uint16_t *port_r)
{
	uint64_t v;
	if (strv_to_u64(s, &v) < 0 || v == 0 || v > 65535)
		return -1;
	*port_r = (uint16_t)v;
	return 0;
}

/* host[:port]; IPv6 as [addr]:port. */
static int parse_host(struct strv s, uint16_t def_port, char host_r[256], uint16_t *port_r)
{
	struct strv host = s, port = STRV_NULL;
	if (s.len > 0 && s.ptr[0] == '[') {
		const char *close = memchr(s.ptr, ']', s.len);
		if (close == NULL)
			return -1;
		host = strv_make(s.ptr + 1, (size_t)(close - s.ptr) - 1);
		size_t rest = s.len - (size_t)(close - s.ptr) - 1;
		if (rest > 0) {
			if (close[1] != ':')
				return -1;
			port = strv_make(close + 2, rest - 1);
		}
	} else {
		const char *colon = memchr(s.ptr, ':', s.len);
		if (colon != NULL) {
			host = strv_make(s.ptr, (size_t)(colon - s.ptr));
			port = strv_make(colon + 1, s.len - host.len - 1);
		}
	}
	if (host.len == 0 || host.len >= 256)
		return -1;
	for (size_t i = 0; i < host.len; i++) {
		unsigned char c = (unsigned char)host.ptr[i];
		if (c <= ' ' || c == '/' || c == '@' || c == ',' || c >= 0x7f)
			return -1;
	}
	memcpy(host_r, host.ptr, host.len);
	host_r[host.len] = '\0';
	*port_r = def_port;
	if (port.ptr != NULL && parse_port(port, port_r) < 0)
		return -1;
	return 0;
}

static int parse_db(struct strv s, unsigned *db_r)
{
	uint64_t v;
	if (strv_to_u64(s, &v) < 0 || v > 99)
		return -1;
	*db_r = (unsigned)v;
	return 0;
}

int redis_url_parse(const char *url, struct redis_url *url_r, const char **error_r)
{
	struct strv s = strv_from_cstr(url);
	memset(url_r, 0, sizeof(*url_r));
	if (strv_starts_with(s, strv_from_cstr("redis://"))) {
		s = skip(s, 8);
	} else if (strv_starts_with(s, strv_from_cstr("redis-sentinel://"))) {
		url_r->sentinel = true;
		s = skip(s, 17);
	} else {
		*error_r = "Redis URL must start with redis:// or redis-sentinel://";
		return -1;
	}
	/* [:password@] */
	const char *at = memchr(s.ptr, '@', s.len);
	if (at != NULL) {
		struct strv auth = strv_make(s.ptr, (size_t)(at - s.ptr));
		if (auth.len < 2 || auth.ptr[0] != ':' || auth.len - 1 >= sizeof(url_r->password)) {
			*error_r = "Redis URL credentials must be ':password@'";
			return -1;
		}
		memcpy(url_r->password, auth.ptr + 1, auth.len - 1);
		s = skip(s, auth.len + 1);
	}
	const char *slash = memchr(s.ptr, '/', s.len);
	struct strv hosts = slash != NULL ? strv_make(s.ptr, (size_t)(slash - s.ptr)) : s;
	struct strv path = slash != NULL ? skip(s, hosts.len + 1) : STRV_NULL;
	uint16_t def_port = url_r->sentinel ? DEFAULT_SENTINEL_PORT : DEFAULT_REDIS_PORT;
	while (hosts.len > 0 || url_r->host_count == 0) {
		const char *comma = memchr(hosts.ptr, ',', hosts.len);
		struct strv one =
		    comma != NULL ? strv_make(hosts.ptr, (size_t)(comma - hosts.ptr)) : hosts;
		if (url_r->host_count == REDIS_MAX_HOSTS) {
			*error_r = "Redis URL names more than 8 hosts";
			return -1;
		}
		if (parse_host(one, def_port, url_r->hosts[url_r->host_count],
		               &url_r->ports[url_r->host_count]) < 0) {
			*error_r = "Redis URL has a bad host:port";
			return -1;
		}
		url_r->host_count++;
		if (comma == NULL)
			break;
		hosts = skip(hosts, one.len + 1);
		if (hosts.len == 0) {
			*error_r = "Redis URL has a bad host:port";
			return -1;
		}
	}
	if (!url_r->sentinel) {
		if (url_r->host_count != 1) {
			*error_r = "redis:// names one host; use redis-sentinel:// for several";
			return -1;
		}
		if (path.ptr != NULL && path.len > 0 && parse_db(path, &url_r->db) < 0) {
			*error_r = "Redis URL database must be a number (0-99)";
			return -1;
		}
		return 0;
	}
	/* sentinel: /mastername[/db] */
	if (path.ptr == NULL || path.len == 0) {
		*error_r = "redis-sentinel:// URL needs the master name: .../mymaster";
		return -1;
	}
	const char *slash2 = memchr(path.ptr, '/', path.len);
	struct strv name = slash2 != NULL ? strv_make(path.ptr, (size_t)(slash2 - path.ptr)) : path;
	if (name.len == 0 || name.len >= sizeof(url_r->master_name)) {
		*error_r = "redis-sentinel:// URL has a bad master name";
		return -1;
	}
	for (size_t i = 0; i < name.len; i++) {
		unsigned char c = (unsigned char)name.ptr[i];
		if (c <= ' ' || c >= 0x7f) {
			*error_r = "redis-sentinel:// URL has a bad master name";
			return -1;
		}
	}
	memcpy(url_r->master_name, name.ptr, name.len);
	if (slash2 != NULL && parse_db(skip(path, name.len + 1), &url_r->db) < 0) {
		*error_r = "Redis URL database must be a number (0-99)";
		return -1;
	}
	return 0;
}

void redis_url_redact(const char *url, char *out, size_t out_size)
{
	const char *scheme_end = strstr(url, "://");
	const char *at = scheme_end != NULL ? strchr(scheme_end + 3, '@') : NULL;
	if (at == NULL)
		snprintf(out, out_size, "%s", url);
	else
		snprintf(out, out_size, "%.*s:***%s", (int)(scheme_end + 3 - url), url, at);
}

void redis_settings_default(struct redis_settings *set)
{
	set->connect_timeout_ms = 500;
	set->timeout_ms = 1000;
	set->max_connections = 16;
	set->backoff_min_ms = 100;
	set->backoff_max_ms = 2000;
	set->client_name[0] = '\0';
}

/* ---------------------------------------------------------------- connections */

struct redis_conn {
	redisContext *ctx;
	char address[300];
	char error[256];
	unsigned timeout_ms;
	unsigned pending;        /* pipelined replies not read yet */
	bool demoted;            /* a READONLY reply: the server is a replica now */
	struct redis_conn *next; /* pool's idle list */
};

static struct timeval tv_of(unsigned ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

static redisContext *connect_to(const char *host, uint16_t port, const struct redis_settings *set,
                                char *err, size_t err_size)
{
	redisContext *c = redisConnectWithTimeout(host, port, tv_of(set->connect_timeout_ms));
	if (c == NULL) {
		snprintf(err, err_size, "%s:%u: out of memory", host, port);
		return NULL;
	}
	if (c->err != 0) {
		snprintf(err, err_size, "Redis %s:%u: %s", host, port, c->errstr);
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv_of(set->timeout_ms)) != REDIS_OK) {
		snprintf(err, err_size, "%s:%u: cannot set timeout", host, port);
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Asks the sentinels in turn for the master's address. */
static int resolve_master(const struct redis_url *url, const struct redis_settings *set,
                          char host_r[256], uint16_t *port_r, char *err, size_t err_size)
{
	char last[256] = "no sentinel answered";
	for (unsigned i = 0; i < url->host_count; i++) {
		redisContext *c = connect_to(url->hosts[i], url->ports[i], set, last, sizeof(last));
		if (c == NULL)
			continue;
		redisReply *r =
		    redisCommand(c, "SENTINEL get-master-addr-by-name %s", url->master_name);
		if (r == NULL) {
			snprintf(last, sizeof(last), "sentinel %.100s:%u: %.100s", url->hosts[i],
			         url->ports[i], c->errstr);
		} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		           r->element[0]->type == REDIS_REPLY_STRING &&
		           r->element[1]->type == REDIS_REPLY_STRING && r->element[0]->len < 256 &&
		           parse_port(strv_make(r->element[1]->str, r->element[1]->len), port_r) ==
		               0) {
			memcpy(host_r, r->element[0]->str, r->element[0]->len);
			host_r[r->element[0]->len] = '\0';
			freeReplyObject(r);
			redisFree(c);
			return 0;
		} else {
			snprintf(last, sizeof(last),
			         "sentinel %.100s:%u does not know master '%.100s'", url->hosts[i],
			         url->ports[i], url->master_name);
		}
		if (r != NULL)
			freeReplyObject(r);
		redisFree(c);
	}
	snprintf(err, err_size, "cannot resolve Redis master '%s': %s", url->master_name, last);
	return -1;
}

/* AUTH, SELECT and ROLE: a restarted old primary stays writable for a while until Sentinel
   demotes it, so a connection is only used when the server says it is the master. */
static int prepare(redisContext *c, const struct redis_url *url, const struct redis_settings *set,
                   const char *address, char *err, size_t err_size)
{
	redisReply *r;
	if (url->password[0] != '\0') {
		r = redisCommand(c, "AUTH %s", url->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, err_size, "Redis %s: AUTH failed: %s", address,
			         r != NULL ? r->str : c->errstr);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (url->db != 0) {
		r = redisCommand(c, "SELECT %u", url->db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, err_size, "Redis %s: SELECT %u failed: %s", address, url->db,
			         r != NULL ? r->str : c->errstr);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (set->client_name[0] != '\0') {
		/* operators see which node a connection belongs to in CLIENT LIST */
		r = redisCommand(c, "CLIENT SETNAME %s", set->client_name);
		if (r == NULL) {
			snprintf(err, err_size, "Redis %s: %s", address, c->errstr);
			goto fail;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "ROLE");
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		snprintf(err, err_size, "Redis %s: ROLE failed: %s", address,
		         r == NULL                      ? c->errstr
		         : r->type == REDIS_REPLY_ERROR ? r->str
		                                        : "bad reply");
		goto fail;
	}
	if (strcmp(r->element[0]->str, "master") != 0) {
		snprintf(err, err_size, "Redis %s is a %s, not the master", address,
		         r->element[0]->str);
		goto fail;
	}
	freeReplyObject(r);
	return 0;
fail:
	if (r != NULL)
		freeReplyObject(r);
	return -1;
}

struct redis_conn *redis_conn_open(const struct redis_url *url, const struct redis_settings *set,
                                   char *err, size_t err_size)
{
	char host[256];
	uint16_t port;
	if (url->sentinel) {
		if (resolve_master(url, set, host, &port, err, err_size) < 0)
			return NULL;
	} else {
		snprintf(host, sizeof(host), "%s", url->hosts[0]);
		port = url->ports[0];
	}
	redisContext *c = connect_to(host, port, set, err, err_size);
	if (c == NULL)
		return NULL;
	struct redis_conn *conn = mem_calloc(1, sizeof(*conn));
	conn->ctx = c;
	conn->timeout_ms = set->timeout_ms;
	snprintf(conn->address, sizeof(conn->address), "%s:%u", host, port);
	if (prepare(c, url, set, conn->address, err, err_size) < 0) {
		redis_conn_close(&conn);
		return NULL;
	}
	return conn;
}

void redis_conn_close(struct redis_conn **connp)
{
	struct redis_conn *conn = *connp;
	if (conn == NULL)
		return;
	if (conn->ctx != NULL)
		redisFree(conn->ctx);
	mem_free(connp);
}

void redis_conn_set_timeout(struct redis_conn *conn, unsigned timeout_ms)
{
	if (conn->timeout_ms == timeout_ms || conn->ctx->err != 0)
		return;
	if (redisSetTimeout(conn->ctx, tv_of(timeout_ms)) == REDIS_OK)
		conn->timeout_ms = timeout_ms;
}

void redis_conn_interrupt(struct redis_conn *conn)
{
	if (conn->ctx->fd >= 0)
		shutdown(conn->ctx->fd, SHUT_RDWR);
}

const char *redis_conn_address(const struct redis_conn *conn)
{
	return conn->address;
}

bool redis_conn_ok(const struct redis_conn *conn)
{
	return conn->ctx->err == 0 && !conn->demoted;
}

const char *redis_conn_error(const struct redis_conn *conn)
{
	return conn->error;
}

static void note_error(struct redis_conn *conn)
{
	if (conn->error[0] != '\0')
		return;
	/* hiredis reports a socket timeout as EAGAIN's text */
	if (conn->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
		snprintf(conn->error, sizeof(conn->error), "Redis %.120s: no answer within %u ms",
		         conn->address, conn->timeout_ms);
	else
		snprintf(conn->error, sizeof(conn->error), "Redis %.120s: %.120s", conn->address,
		         conn->ctx->err == REDIS_ERR_IO && conn->ctx->errstr[0] == '\0'
		             ? strerror(errno)
		             : conn->ctx->errstr);
}

/* A failover demoted the server under this connection: writes answer READONLY. The
   connection must not go back to the pool (the next one re-resolves the master). */
static redisReply *check_reply(struct redis_conn *conn, redisReply *r)
{
	if (r == NULL) {
		note_error(conn);
	} else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0) {
		conn->demoted = true;
		snprintf(conn->error, sizeof(conn->error), "Redis %.120s is no longer the master",
		         conn->address);
	}
	return r;
}

redisReply *redis_command(struct redis_conn *conn, int argc, const char **argv, const size_t *lens)
{
	assert(conn->pending == 0);
	if (conn->ctx->err != 0)
		return NULL;
	return check_reply(conn, redisCommandArgv(conn->ctx, argc, argv, lens));
}

redisReply *redis_commandf(struct redis_conn *conn, const char *fmt, ...)
{
	assert(conn->pending == 0);
	if (conn->ctx->err != 0)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(conn->ctx, fmt, ap);
	va_end(ap);
	return check_reply(conn, r);
}

void redis_append(struct redis_conn *conn, int argc, const char **argv, const size_t *lens)
{
	if (redisAppendCommandArgv(conn->ctx, argc, argv, lens) == REDIS_OK)
		conn->pending++;
	else
		note_error(conn);
}

void redis_appendf(struct redis_conn *conn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redisvAppendCommand(conn->ctx, fmt, ap);
	va_end(ap);
	if (r == REDIS_OK)
		conn->pending++;
	else
		note_error(conn);
}

redisReply *redis_get_reply(struct redis_conn *conn)
{
	assert(conn->pending > 0);
	conn->pending--;
	if (conn->ctx->err != 0)
		return NULL;
	void *reply = NULL;
	if (redisGetReply(conn->ctx, &reply) != REDIS_OK)
		reply = NULL;
	return check_reply(conn, reply);
}

long long redis_reply_int(const redisReply *r, long long def)
{
	return r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : def;
}

bool redis_reply_failed(const redisReply *r)
{
	return r == NULL || r->type == REDIS_REPLY_ERROR;
}

/* ---------------------------------------------------------------- pool */

struct redis_pool {
	struct redis_url url;
	struct redis_settings set;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct redis_conn *idle;
	unsigned open;        /* connections in existence (idle or handed out) */
	uint64_t retry_at_ms; /* no connect attempts before this (backoff) */
	unsigned backoff_ms;
	char last_error[256];
	struct redis_pool_stats stats;
};

/* An idle connection has nothing to read: anything readable is the server closing it (EOF,
   reset) or an error, so it is not handed out. One poll() without waiting. */
static bool idle_conn_alive(const struct redis_conn *c)
{
	struct pollfd pfd = {.fd = c->ctx->fd, .events = POLLIN};
	return c->ctx->err == 0 && poll(&pfd, 1, 0) == 0;
}

struct redis_pool *redis_pool_create(const struct redis_url *url, const struct redis_settings *set)
{
	struct redis_pool *pool = mem_calloc(1, sizeof(*pool));
	pool->url = *url;
	pool->set = *set;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	return pool;
}

void redis_pool_destroy(struct redis_pool **poolp)
{
	struct redis_pool *pool = *poolp;
	if (pool == NULL)
		return;
	while (pool->idle != NULL) {
		struct redis_conn *c = pool->idle;
		pool->idle = c->next;
		redis_conn_close(&c);
	}
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->cond);
	mem_free(poolp);
}

const struct redis_url *redis_pool_url(const struct redis_pool *pool)
{
	return &pool->url;
}

const struct redis_settings *redis_pool_settings(const struct redis_pool *pool)
{
	return &pool->set;
}

struct redis_conn *redis_pool_get(struct redis_pool *pool, char *err, size_t err_size)
{
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		if (pool->idle != NULL) {
			struct redis_conn *c = pool->idle;
			pool->idle = c->next;
			c->next = NULL;
			if (!idle_conn_alive(c)) {
				/* Redis restarted, failed over or killed the connection: open a new
				   one (resolving the master again) instead of failing a request. */
				pool->open--;
				pool->stats.broken++;
				pthread_mutex_unlock(&pool->lock);
				redis_conn_close(&c);
				pthread_mutex_lock(&pool->lock);
				continue;
			}
			pthread_mutex_unlock(&pool->lock);
			return c;
		}
		if (pool->open < pool->set.max_connections)
			break;
		/* All handed out: wait a bounded time for one to come back. */
		struct timespec until = clock_realtime_deadline(pool->set.timeout_ms);
		if (pthread_cond_timedwait(&pool->cond, &pool->lock, &until) == ETIMEDOUT &&
		    pool->idle == NULL) {
			pthread_mutex_unlock(&pool->lock);
			snprintf(err, err_size, "all %u Redis connections are busy",
			         pool->set.max_connections);
			return NULL;
		}
	}
	uint64_t now = clock_mono_ms();
	if (now < pool->retry_at_ms) {
		pool->stats.fast_fails++;
		snprintf(err, err_size, "%s (retrying in %llu ms)", pool->last_error,
		         (unsigned long long)(pool->retry_at_ms - now));
		pthread_mutex_unlock(&pool->lock);
		return NULL;
	}
	pool->open++;
	pthread_mutex_unlock(&pool->lock);

	/* Connect outside the lock: other threads keep using idle connections meanwhile. */
	char why[256];
	struct redis_conn *c = redis_conn_open(&pool->url, &pool->set, why, sizeof(why));

	pthread_mutex_lock(&pool->lock);
	if (c != NULL) {
		pool->stats.connects++;
		pool->backoff_ms = 0;
		pool->retry_at_ms = 0;
	} else {
		pool->open--;
		pool->stats.connect_fails++;
		pool->backoff_ms =
		    pool->backoff_ms == 0 ? pool->set.backoff_min_ms : pool->backoff_ms * 2;
		if (pool->backoff_ms > pool->set.backoff_max_ms)
			pool->backoff_ms = pool->set.backoff_max_ms;
		pool->retry_at_ms = clock_mono_ms() + pool->backoff_ms;
		snprintf(pool->last_error, sizeof(pool->last_error), "%s", why);
		snprintf(err, err_size, "%s", why);
		pthread_cond_signal(&pool->cond);
	}
	pthread_mutex_unlock(&pool->lock);
	return c;
}

void redis_pool_put(struct redis_pool *pool, struct redis_conn **connp)
{
	struct redis_conn *c = *connp;
	if (c == NULL)
		return;
	*connp = NULL;
	/* A connection with unread pipeline replies is out of step: drop it like a broken one. */
	bool broken = !redis_conn_ok(c) || c->pending != 0;
	pthread_mutex_lock(&pool->lock);
	if (broken) {
		pool->open--;
		pool->stats.broken++;
		/* The next get reconnects (and re-resolves the master) at once: an I/O error is
		   usually a failover or a restart, not a reason to wait. */
	} else {
		c->error[0] = '\0';
		c->next = pool->idle;
		pool->idle = c;
	}
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	if (broken)
		redis_conn_close(&c);
}

void redis_pool_stats(struct redis_pool *pool, struct redis_pool_stats *stats_r)
{
	pthread_mutex_lock(&pool->lock);
	*stats_r = pool->stats;
	pthread_mutex_unlock(&pool->lock);
}
