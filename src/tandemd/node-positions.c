/* SPDX-License-Identifier: MIT */
/* Positions of the last write per (database, key) in Redis: one hash per key, a field per
   GTID domain, raised only (a Lua script), and a floor hash per database. */
#include "node-positions.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "redis.h"
#include "sql-gtid.h"

/* KEYS[1] the hash; ARGV pairs of domain, "server-seq". A field is replaced only by a
   greater sequence number: two nodes committing at once may record out of order. */
static const char raise_script[] = "for i = 1, #ARGV, 2 do "
                                   "local cur = redis.call('HGET', KEYS[1], ARGV[i]) "
                                   "if not cur or tonumber(string.match(cur, '%d+$')) < "
                                   "tonumber(string.match(ARGV[i + 1], '%d+$')) then "
                                   "redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end end "
                                   "return 1";

/* KEYS[1] a floor hash; ARGV[1] the time, then pairs as above. Only the first floor counts:
   "at" marks it as set even when the position is empty. */
static const char floor_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then "
    "redis.call('HSET', KEYS[1], 'at', ARGV[1]) "
    "for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end end "
    "return 1";

static void key_name(const struct node_positions *np, const char *scope, int64_t key, char *out,
                     size_t size)
{
	snprintf(out, size, "%s%s:%lld", np->prefix, scope, (long long)key);
}

static void floor_name(const struct node_positions *np, const char *scope, char *out, size_t size)
{
	snprintf(out, size, "%s%s:floor", np->prefix, scope);
}

/* A hash of domain -> "server-seq" back into a position ("" for an empty hash). */
static int hash_to_pos(const redisReply *r, struct sql_gtid_pos *pos_r)
{
	pos_r->count = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		if (strcmp(r->element[i]->str, "at") == 0)
			continue;
		char text[64];
		struct sql_gtid_pos one;
		snprintf(text, sizeof(text), "%s-%s", r->element[i]->str, r->element[i + 1]->str);
		if (sql_gtid_parse(text, &one) < 0 || sql_gtid_merge(pos_r, &one) < 0)
			return -1;
	}
	return 0;
}

static int positions_get(void *ctx, const char *scope, int64_t key, char *pos_r, size_t size)
{
	struct node_positions *np = ctx;
	char k[200], f[200], err[256];
	key_name(np, scope, key, k, sizeof(k));
	floor_name(np, scope, f, sizeof(f));
	struct redis_conn *conn = redis_pool_get(np->redis, err, sizeof(err));
	if (conn == NULL)
		return -1;
	redis_appendf(conn, "HGETALL %s", k);
	redis_appendf(conn, "HGETALL %s", f);
	redisReply *kr = redis_get_reply(conn);
	redisReply *fr = redis_get_reply(conn);
	struct sql_gtid_pos pos, floor;
	int ret = -1;
	if (hash_to_pos(kr, &pos) == 0 && hash_to_pos(fr, &floor) == 0) {
		/* Without a floor the store has lost its data (or never had any): then even a
		   key's own entry may be missing a newer write, so nothing is known. */
		if (fr->elements == 0)
			ret = 0;
		else if (sql_gtid_merge(&pos, &floor) == 0 &&
		         sql_gtid_format(&pos, pos_r, size) == 0)
			ret = 1;
	}
	if (kr != NULL)
		freeReplyObject(kr);
	if (fr != NULL)
		freeReplyObject(fr);
	redis_pool_put(np->redis, &conn);
	return ret;
}

/* Runs script on hash name with pos as domain, "server-seq" pairs (after the floor's time). */
static int run_script(struct node_positions *np, const char *script, const char *name,
                      const char *text, bool floor)
{
	struct sql_gtid_pos pos;
	char err[256], now[32];
	if (sql_gtid_parse(text, &pos) < 0 || (!floor && pos.count == 0))
		return -1;
	struct redis_conn *conn = redis_pool_get(np->redis, err, sizeof(err));
	if (conn == NULL)
		return -1;
	const char *argv[5 + 2 * SQL_GTID_MAX_DOMAINS];
	char fields[SQL_GTID_MAX_DOMAINS][2][32];
	int argc = 0;
	argv[argc++] = "EVAL";
	argv[argc++] = script;
	argv[argc++] = "1";
	argv[argc++] = name;
	if (floor) {
		snprintf(now, sizeof(now), "%llu", (unsigned long long)clock_wall_ms());
		argv[argc++] = now;
	}
	for (unsigned i = 0; i < pos.count; i++) {
		snprintf(fields[i][0], sizeof(fields[i][0]), "%u", pos.gtids[i].domain);
		snprintf(fields[i][1], sizeof(fields[i][1]), "%u-%llu", pos.gtids[i].server,
		         (unsigned long long)pos.gtids[i].seq);
		argv[argc++] = fields[i][0];
		argv[argc++] = fields[i][1];
	}
	redisReply *r = redis_command(conn, argc, argv, NULL);
	int ret = r == NULL || redis_reply_failed(r) ? -1 : 0;
	if (r != NULL)
		freeReplyObject(r);
	redis_pool_put(np->redis, &conn);
	return ret;
}

static int positions_put(void *ctx, const char *scope, int64_t key, const char *pos)
{
	struct node_positions *np = ctx;
	char k[200];
	key_name(np, scope, key, k, sizeof(k));
	return run_script(np, raise_script, k, pos, false);
}

static int positions_put_floor(void *ctx, const char *scope, const char *pos)
{
	struct node_positions *np = ctx;
	char f[200];
	floor_name(np, scope, f, sizeof(f));
	return run_script(np, floor_script, f, pos, true);
}

void node_positions_init(struct node_positions *np, struct redis_pool *redis,
                         const char *cluster_prefix)
{
	np->redis = redis;
	snprintf(np->prefix, sizeof(np->prefix), "%spos:", cluster_prefix);
	np->store =
	    (struct sql_position_store){positions_get, positions_put, positions_put_floor, np};
}
