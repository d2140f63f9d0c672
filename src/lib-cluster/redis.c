/* SPDX-License-Identifier: MIT */
/* Redis connections for the cluster layer: RESP over redis-transport.c, AUTH, Sentinel
   resolution, ROLE check, pool with backoff. */
#include "redis.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "hostport.h"
#include "mem.h"
#include "redis-transport.h"
#include "strv.h"

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

#define READ_CHUNK  16384
#define REPLY_MAX   ((size_t)64 << 20)  /* unparsed bytes from the server */
#define COMMAND_MAX ((size_t)256 << 20) /* commands not sent yet */

struct redis_conn {
	struct redis_transport *t;
	redisReader *reader;
	struct buf out;   /* commands not sent yet */
	const char *kind; /* "Redis" or "sentinel", for messages */
	char address[300];
	char error[360]; /* "<kind> <address>: <why>" */
	char why[200];
	unsigned timeout_ms;
	unsigned pending; /* pipelined replies not read yet */
	bool tls;
	bool client_cert;        /* TLS with a client certificate */
	bool broken;             /* an I/O or protocol error: every later call fails */
	bool demoted;            /* a READONLY reply: the server is a replica now */
	bool answered;           /* the server has sent a reply on this connection */
	struct redis_conn *next; /* pool's idle list */
};

static void fail(struct redis_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first failure names the cause; what follows from it is not news. */
static void fail(struct redis_conn *conn, const char *fmt, ...)
{
	if (conn->broken)
		return;
	conn->broken = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(conn->why, sizeof(conn->why), fmt, ap);
	va_end(ap);
	snprintf(conn->error, sizeof(conn->error), "%s %.120s: %s", conn->kind, conn->address,
	         conn->why);
}

static struct redis_conn *conn_connect(const char *kind, const char *host, uint16_t port,
                                       const struct redis_url *url,
                                       const struct redis_settings *set, char *err, size_t err_size)
{
	char why[256];
	struct redis_transport *t =
	    redis_transport_connect(host, port, url->tls ? &url->tls_config : NULL,
	                            set->connect_timeout_ms, why, sizeof(why));
	if (t == NULL) {
		snprintf(err, err_size, "%s %.100s:%u: %s", kind, host, port, why);
		return NULL;
	}
	struct redis_conn *conn = mem_calloc(1, sizeof(*conn));
	conn->t = t;
	conn->reader = redisReaderCreate();
	buf_init(&conn->out, COMMAND_MAX);
	conn->kind = kind;
	conn->tls = url->tls;
	conn->client_cert = url->tls && url->tls_config.cert_file[0] != '\0';
	conn->timeout_ms = set->timeout_ms;
	snprintf(conn->address, sizeof(conn->address), "%s:%u", host, port);
	return conn;
}

/* A connection that breaks before the server ever answered was most likely refused for
   how it was set up: say what to check. */
static void io_failed(struct redis_conn *conn, const char *why)
{
	if (conn->answered)
		fail(conn, "%s", why);
	else if (!conn->tls) /* what a TLS-only port does with a plain command */
		fail(conn, "%s before any answer (a TLS port? then use rediss://)", why);
	else if (!conn->client_cert)
		/* TLS 1.3: a server that wants a client certificate says so after the handshake,
		   and its alert may be lost to the reset of the connection */
		fail(conn,
		     "%s before any answer (does the server want a client certificate? "
		     "store_tls_cert and store_tls_key give one)",
		     why);
	else
		fail(conn, "%s before any answer", why);
}

/* Sends what is queued, then reads until the reader has a whole reply; both within the
   command timeout. NULL once the connection is broken. */
static redisReply *read_reply(struct redis_conn *conn)
{
	char why[200];
	uint64_t deadline = clock_mono_ms() + conn->timeout_ms;
	if (conn->out.len > 0) {
		int w = redis_transport_write(conn->t, conn->out.data, conn->out.len, deadline, why,
		                              sizeof(why));
		buf_reset(&conn->out);
		if (w == REDIS_TRANSPORT_TIMEOUT)
			fail(conn, "cannot send within %u ms", conn->timeout_ms);
		else if (w < 0)
			io_failed(conn, why);
	}
	while (!conn->broken) {
		void *reply = NULL;
		if (redisReaderGetReply(conn->reader, &reply) != REDIS_OK) {
			fail(conn, "protocol error: %s", conn->reader->errstr);
			break;
		}
		if (reply != NULL) {
			conn->answered = true;
			return reply;
		}
		if (conn->reader->len > REPLY_MAX) {
			fail(conn, "a reply larger than %zu MiB", REPLY_MAX >> 20);
			break;
		}
		char chunk[READ_CHUNK];
		ssize_t n =
		    redis_transport_read(conn->t, chunk, sizeof(chunk), deadline, why, sizeof(why));
		if (n == REDIS_TRANSPORT_TIMEOUT)
			fail(conn, "no answer within %u ms", conn->timeout_ms);
		else if (n < 0)
			io_failed(conn, why);
		else if (redisReaderFeed(conn->reader, chunk, (size_t)n) != REDIS_OK)
			fail(conn, "protocol error: %s", conn->reader->errstr);
	}
	return NULL;
}

/* A command formatted by hiredis joins the queue. It counts as pending even when it could
   not be queued, so that the caller's reads stay in step (and return NULL). */
static void queue(struct redis_conn *conn, char *cmd, int len)
{
	conn->pending++;
	if (len < 0) {
		fail(conn, "cannot format a command");
		return;
	}
	buf_append(&conn->out, cmd, (size_t)len);
	redisFreeCommand(cmd);
	if (buf_overflowed(&conn->out))
		fail(conn, "commands larger than %zu MiB queued", COMMAND_MAX >> 20);
}

/* A failover demoted the server under this connection: writes answer READONLY. The
   connection must not go back to the pool (the next one re-resolves the master). */
static redisReply *check_reply(struct redis_conn *conn, redisReply *r)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0) {
		conn->demoted = true;
		snprintf(conn->error, sizeof(conn->error), "Redis %.120s is no longer the master",
		         conn->address);
	}
	return r;
}

void redis_append(struct redis_conn *conn, int argc, const char **argv, const size_t *lens)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	queue(conn, cmd, len);
}

/* hiredis's format (%b takes a pointer and a size_t): not printf's, so no format attribute. */
static void appendv(struct redis_conn *conn, const char *fmt, va_list ap)
{
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, fmt, ap);
	queue(conn, cmd, len);
}

void redis_appendf(struct redis_conn *conn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	appendv(conn, fmt, ap);
	va_end(ap);
}

redisReply *redis_get_reply(struct redis_conn *conn)
{
	assert(conn->pending > 0);
	conn->pending--;
	if (conn->broken)
		return NULL;
	return check_reply(conn, read_reply(conn));
}

redisReply *redis_command(struct redis_conn *conn, int argc, const char **argv, const size_t *lens)
{
	assert(conn->pending == 0);
	redis_append(conn, argc, argv, lens);
	return redis_get_reply(conn);
}

redisReply *redis_commandf(struct redis_conn *conn, const char *fmt, ...)
{
	assert(conn->pending == 0);
	va_list ap;
	va_start(ap, fmt);
	appendv(conn, fmt, ap);
	va_end(ap);
	return redis_get_reply(conn);
}

/* Why a step of the set-up failed: the error reply, or the broken connection's reason. An
   AUTH the server wants but did not get is named with the setting that gives it. */
static void step_failed(struct redis_conn *conn, const redisReply *r, const char *step,
                        const char *hint, char *err, size_t err_size)
{
	const char *why = r == NULL                      ? conn->why
	                  : r->type == REDIS_REPLY_ERROR ? r->str
	                                                 : "unexpected reply";
	bool noauth = strncmp(why, "NOAUTH", 6) == 0;
	snprintf(err, err_size, "%s %.120s: %s failed: %.200s%s", conn->kind, conn->address, step,
	         why, noauth ? hint : "");
}

static int auth(struct redis_conn *conn, const char *user, const char *password, char *err,
                size_t err_size)
{
	const char *argv[3] = {"AUTH", user, password};
	int argc = 3;
	if (user[0] == '\0') {
		argv[1] = password;
		argc = 2;
	}
	redisReply *r = redis_command(conn, argc, argv, NULL);
	int ret = 0;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		step_failed(conn, r, "AUTH", "", err, err_size);
		ret = -1;
	}
	if (r != NULL)
		freeReplyObject(r);
	return ret;
}

/* Asks the sentinels in turn for the master's address. */
static int resolve_master(const struct redis_url *url, const struct redis_settings *set,
                          char host_r[256], uint16_t *port_r, char *err, size_t err_size)
{
	char last[256] = "no sentinel answered";
	const char *why;
	for (unsigned i = 0; i < url->host_count; i++) {
		struct redis_conn *c = conn_connect("sentinel", url->hosts[i], url->ports[i], url,
		                                    set, last, sizeof(last));
		if (c == NULL)
			continue;
		if (url->sentinel_password[0] != '\0' &&
		    auth(c, url->sentinel_user, url->sentinel_password, last, sizeof(last)) < 0) {
			redis_conn_close(&c);
			continue;
		}
		const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", url->master_name};
		redisReply *r = redis_command(c, 3, argv, NULL);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING && r->element[0]->len < 256 &&
		    hostport_parse_port(strv_from_cstr(r->element[1]->str), 0, port_r, &why) ==
		        HOSTPORT_OK) {
			memcpy(host_r, r->element[0]->str, r->element[0]->len);
			host_r[r->element[0]->len] = '\0';
			freeReplyObject(r);
			redis_conn_close(&c);
			return 0;
		}
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			step_failed(c, r, "SENTINEL", " (set [cluster] store_sentinel_password)",
			            last, sizeof(last));
		else
			snprintf(last, sizeof(last),
			         "sentinel %.100s does not know master '%.100s'", c->address,
			         url->master_name);
		if (r != NULL)
			freeReplyObject(r);
		redis_conn_close(&c);
	}
	snprintf(err, err_size, "cannot resolve Redis master '%s': %s", url->master_name, last);
	return -1;
}

/* AUTH, SELECT and ROLE: a restarted old primary stays writable for a while until Sentinel
   demotes it, so a connection is only used when the server says it is the master. */
static int prepare(struct redis_conn *c, const struct redis_url *url,
                   const struct redis_settings *set, char *err, size_t err_size)
{
	static const char noauth_hint[] =
	    " (the server wants a password: give it in [cluster] store or store_password_file)";
	redisReply *r = NULL;
	if (url->password[0] != '\0' && auth(c, url->user, url->password, err, err_size) < 0)
		return -1;
	if (url->db != 0) {
		r = redis_commandf(c, "SELECT %u", url->db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			step_failed(c, r, "SELECT", noauth_hint, err, err_size);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (set->client_name[0] != '\0') {
		/* operators see which node a connection belongs to in CLIENT LIST */
		r = redis_commandf(c, "CLIENT SETNAME %s", set->client_name);
		if (r == NULL) {
			step_failed(c, r, "CLIENT SETNAME", "", err, err_size);
			goto fail;
		}
		freeReplyObject(r);
	}
	r = redis_commandf(c, "ROLE");
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		step_failed(c, r, "ROLE", noauth_hint, err, err_size);
		goto fail;
	}
	if (strcmp(r->element[0]->str, "master") != 0) {
		snprintf(err, err_size, "Redis %s is a %s, not the master", c->address,
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
	struct redis_conn *conn = conn_connect("Redis", host, port, url, set, err, err_size);
	if (conn != NULL && prepare(conn, url, set, err, err_size) < 0)
		redis_conn_close(&conn);
	return conn;
}

void redis_conn_close(struct redis_conn **connp)
{
	struct redis_conn *conn = *connp;
	if (conn == NULL)
		return;
	redis_transport_close(&conn->t);
	redisReaderFree(conn->reader);
	buf_free(&conn->out);
	mem_free(connp);
}

void redis_conn_set_timeout(struct redis_conn *conn, unsigned timeout_ms)
{
	conn->timeout_ms = timeout_ms;
}

void redis_conn_interrupt(struct redis_conn *conn)
{
	redis_transport_interrupt(conn->t);
}

const char *redis_conn_address(const struct redis_conn *conn)
{
	return conn->address;
}

bool redis_conn_ok(const struct redis_conn *conn)
{
	return !conn->broken && !conn->demoted;
}

const char *redis_conn_error(const struct redis_conn *conn)
{
	return conn->error;
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
static bool idle_conn_alive(struct redis_conn *c)
{
	return redis_conn_ok(c) && redis_transport_idle_ok(c->t);
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
