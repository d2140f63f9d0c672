/* SPDX-License-Identifier: MIT */
/* Redis access for the cluster layer (docs/internals/sessions.md; docs/internals/cluster.md):
   connections over TCP or TLS with AUTH (password or ACL user), Sentinel master resolution with a
   ROLE check on every connect, bounded timeouts, a connection pool that fails fast with backoff
   while Redis is down, and pipelines. Replies are hiredis's redisReply (its reader and command
   formatter); the I/O is redis-transport.c's. TLS writes go through OpenSSL's write(): the process
   must ignore SIGPIPE (the daemons do). */
#ifndef TANDEM_REDIS_H
#define TANDEM_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "redis-url.h"

struct redis_settings {
	unsigned connect_timeout_ms; /* per connect attempt (default 500) */
	unsigned timeout_ms;         /* per command (default 1000) */
	unsigned max_connections;    /* pool size (default 16) */
	unsigned backoff_min_ms;     /* after a failed connect: fail fast for this long, doubling */
	unsigned backoff_max_ms;     /* up to this (defaults 100 and 2000) */
	char client_name[80];        /* CLIENT SETNAME on every connection ("" = none) */
};

void redis_settings_default(struct redis_settings *set);

/* One connection. Not thread-safe: a thread owns it while it holds it. */
struct redis_conn;

/* Connects (through the sentinels when the URL says so; over TLS for rediss), sends AUTH when
   the URL has credentials (to the sentinels too when sentinel_password is set), selects the
   db and checks with ROLE that the server is a master. Returns NULL with a message in err (at
   least 256 bytes) naming the server and the step that failed ("Redis h:p: AUTH failed:
   WRONGPASS …"). */
struct redis_conn *redis_conn_open(const struct redis_url *url, const struct redis_settings *set,
                                   char *err, size_t err_size);
void redis_conn_close(struct redis_conn **conn);
/* Changes the command timeout of this connection (a blocking XREAD needs a longer one). */
void redis_conn_set_timeout(struct redis_conn *conn, unsigned timeout_ms);
/* Makes a command blocked on conn in another thread fail at once (shutdown of the socket);
   the owner then sees a broken connection. The caller must make sure conn is not closed
   meanwhile. */
void redis_conn_interrupt(struct redis_conn *conn);
/* "host:port" of the server this connection talks to. */
const char *redis_conn_address(const struct redis_conn *conn);

/* Runs one command given as argv (binary safe: lens may be NULL for C strings). Returns the
   reply (free with freeReplyObject) or NULL when the connection failed; a failed connection is
   broken for good (check redis_conn_ok) and err says why. An error reply (REDIS_REPLY_ERROR)
   is returned as a reply, not NULL. */
redisReply *redis_command(struct redis_conn *conn, int argc, const char **argv, const size_t *lens);
/* printf-like, hiredis's format (%s, %b with pointer and size_t, %lld …). */
redisReply *redis_commandf(struct redis_conn *conn, const char *fmt, ...);

/* Pipelining: append any number of commands, then read exactly that many replies in order. */
void redis_append(struct redis_conn *conn, int argc, const char **argv, const size_t *lens);
void redis_appendf(struct redis_conn *conn, const char *fmt, ...);
/* The next reply of the pipeline, or NULL when the connection failed (then every later call
   returns NULL too). */
redisReply *redis_get_reply(struct redis_conn *conn);

bool redis_conn_ok(const struct redis_conn *conn);
/* Why the connection failed ("" while it is fine). */
const char *redis_conn_error(const struct redis_conn *conn);

/* A pool of connections for many threads. get() hands out an idle connection, opens a new
   one (up to max_connections, else waits), and while Redis is unreachable fails fast for a
   backoff period instead of letting every request wait for a connect timeout. */
struct redis_pool;

struct redis_pool *redis_pool_create(const struct redis_url *url, const struct redis_settings *set);
void redis_pool_destroy(struct redis_pool **pool);
/* Returns a connection, or NULL with err set (Redis unreachable, or in backoff). */
struct redis_conn *redis_pool_get(struct redis_pool *pool, char *err, size_t err_size);
/* Gives it back; a broken connection is closed (and the next get reconnects, resolving the
   master again). Sets *conn to NULL. */
void redis_pool_put(struct redis_pool *pool, struct redis_conn **conn);
const struct redis_url *redis_pool_url(const struct redis_pool *pool);
const struct redis_settings *redis_pool_settings(const struct redis_pool *pool);

/* Counters for /metrics. */
struct redis_pool_stats {
	uint64_t connects;      /* successful connects */
	uint64_t connect_fails; /* failed connects (incl. ROLE not master) */
	uint64_t fast_fails;    /* gets refused during backoff */
	uint64_t broken;        /* connections closed after an I/O error */
};
void redis_pool_stats(struct redis_pool *pool, struct redis_pool_stats *stats_r);

/* Reply helpers. */
/* Integer reply value, or def when the reply is not an integer. */
long long redis_reply_int(const redisReply *r, long long def);
/* True for an error reply or NULL. */
bool redis_reply_failed(const redisReply *r);

#endif
