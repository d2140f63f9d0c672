/* SPDX-License-Identifier: MIT */
/* Session store on Redis: one small hash per session plus per-user, per-context and per-node
   indexes, and a revocation generation per context. */
#include "session-store-redis.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "strv.h"

#define PREFIX_MAX 256
#define KEY_MAX    (PREFIX_MAX + 128)
/* Bounds on what one call reads back: a user's index is kept near max_per_user by logins,
   and routes are nodes; anything beyond is left for the next call. */
#define USER_LIST_CAP 1024
#define ROUTES_CAP    1024

/* Hash fields, in HMGET order. Names are one letter and values stay at most 64 bytes (Redis's
   hash-max-listpack-value) so that a session's hash stays a small listpack: a login longer
   than 64 bytes is split over l, m and o (docs/internals/sessions.md, "Redis store"). */
enum field {
	F_DIGEST,              /* d: the secret's keyed digest (never the secret) */
	F_CID,                 /* c */
	F_UID,                 /* u */
	F_LOGIN,               /* l: the login's first 64 bytes */
	F_CLIENT,              /* a */
	F_COOKIE,              /* h */
	F_IP,                  /* i */
	F_ROUTE,               /* r */
	F_CREATED,             /* t */
	F_LAST,                /* s */
	F_LIFETIME,            /* x */
	F_STAY,                /* y */
	F_REQUIRED,            /* the fields above are in every record */
	F_LOGIN2 = F_REQUIRED, /* m: login bytes 64-127, only when longer */
	F_LOGIN3,              /* o: login bytes 128-191, only when longer */
	F_MODULES,             /* g: module access bits; absent in sessions from before */
	F_COUNT
};
#define HMGET_ALL   "HMGET %s d c u l a h i r t s x y m o g"
#define LOGIN_CHUNK 64
static const char login_fields[] = {'l', 'm', 'o'};

struct redis_store {
	struct session_store store;
	struct redis_pool *pool;
	char prefix[PREFIX_MAX];
	char route[64];
	unsigned backup_count;
	unsigned wait_ms;
	bool strict;
	char *stream_key;
	void (*on_stream_head)(void *ctx, const char *id);
	void *ctx;
	/* updated with __atomic builtins: ops run on many threads */
	uint64_t wait_shortfalls;
	uint64_t errors;
	uint64_t last_count;
};

static void count_error(struct redis_store *rs)
{
	__atomic_add_fetch(&rs->errors, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- keys */

static void key_session(const char *prefix, const char *id, char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, "%ss:%s", prefix, id);
}

static void key_user(const char *prefix, int64_t cid, int64_t uid, char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, "%su:%lld:%lld", prefix, (long long)cid, (long long)uid);
}

static void key_node(const char *prefix, const char *route, size_t route_len, char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, "%sn:%.*s", prefix, (int)route_len, route);
}

static void key_context(const char *prefix, int64_t cid, char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, "%sc:%lld", prefix, (long long)cid);
}

static void key_generation(const char *prefix, int64_t cid, char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, "%sg:%lld", prefix, (long long)cid);
}

static void key_routes(const char *prefix, char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, "%sroutes", prefix);
}

/* ---------------------------------------------------------------- replies */

static struct redis_conn *conn_get(struct redis_pool *pool)
{
	char err[256];
	struct redis_conn *c = redis_pool_get(pool, err, sizeof(err));
	if (c == NULL)
		session_store_set_error("%s", err);
	return c;
}

/* Reads the n replies of a pipeline. All n are always read so the connection stays in step;
   when it failed, the error names the cause and the caller puts the connection back, which
   closes it. */
static int read_replies(struct redis_conn *c, redisReply **r, unsigned n)
{
	int ret = 0;
	for (unsigned i = 0; i < n; i++) {
		r[i] = redis_get_reply(c);
		if (r[i] == NULL)
			ret = -1;
	}
	if (ret < 0)
		session_store_set_error("%s", redis_conn_error(c));
	return ret;
}

static void free_replies(redisReply **r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (r[i] != NULL)
			freeReplyObject(r[i]);
		r[i] = NULL;
	}
}

static void reply_error(struct redis_conn *c, const char *what, const redisReply *r)
{
	if (r->type == REDIS_REPLY_ERROR)
		session_store_set_error("Redis %s: %s: %.160s", redis_conn_address(c), what,
		                        r->str);
	else
		session_store_set_error("Redis %s: %s: unexpected reply type %d",
		                        redis_conn_address(c), what, r->type);
}

static bool is_status(const redisReply *r, const char *text)
{
	return r->type == REDIS_REPLY_STATUS && strcmp(r->str, text) == 0;
}

/* r holds MULTI's reply, one reply per queued command, then EXEC's. Returns 0 when every
   command ran without error, else -1 with the first problem as the error. */
static int check_exec(struct redis_conn *c, const char *what, redisReply **r, unsigned queued)
{
	if (!is_status(r[0], "OK")) {
		reply_error(c, "MULTI", r[0]);
		return -1;
	}
	for (unsigned i = 1; i <= queued; i++) {
		if (!is_status(r[i], "QUEUED")) {
			reply_error(c, what, r[i]);
			return -1;
		}
	}
	const redisReply *ex = r[queued + 1];
	if (ex->type != REDIS_REPLY_ARRAY || ex->elements != queued) {
		reply_error(c, what, ex);
		return -1;
	}
	for (unsigned i = 0; i < queued; i++) {
		if (ex->element[i]->type == REDIS_REPLY_ERROR) {
			reply_error(c, what, ex->element[i]);
			return -1;
		}
	}
	return 0;
}

static bool reply_u64(const redisReply *r, uint64_t *v_r)
{
	return r->type == REDIS_REPLY_STRING && strv_to_u64(strv_make(r->str, r->len), v_r) == 0;
}

static bool reply_i64(const redisReply *r, int64_t *v_r)
{
	if (r->type != REDIS_REPLY_STRING)
		return false;
	struct strv s = strv_make(r->str, r->len);
	bool neg = s.len > 0 && s.ptr[0] == '-';
	uint64_t v;
	if (strv_to_u64(neg ? strv_make(s.ptr + 1, s.len - 1) : s, &v) < 0 ||
	    v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	*v_r = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static bool reply_str(const redisReply *r, char *out, size_t size)
{
	if (r->type != REDIS_REPLY_STRING || r->len >= size || memchr(r->str, '\0', r->len) != NULL)
		return false;
	memcpy(out, r->str, r->len);
	out[r->len] = '\0';
	return true;
}

static bool expired(uint64_t last, uint64_t lifetime, uint64_t now)
{
	/* the memory store's rule: alive up to and including last use + lifetime */
	return now > last + lifetime;
}

/* ---------------------------------------------------------------- put */

/* A command's arguments for redis_append (binary safe, no formatting). */
struct args {
	unsigned n;
	const char *v[40];
	size_t len[40];
};

static void arg(struct args *a, const char *ptr, size_t len)
{
	assert(a->n < sizeof(a->v) / sizeof(a->v[0]));
	a->v[a->n] = ptr;
	a->len[a->n] = len;
	a->n++;
}

static void arg_str(struct args *a, const char *s)
{
	arg(a, s, strlen(s));
}

static void field(struct args *a, const char *name, const char *value)
{
	arg_str(a, name);
	arg_str(a, value);
}

/* Deletes a session and its index entries in one transaction (remove, strict WAIT, touch
   racing a removal). Returns DEL's result (1 or 0), or -1 with the error set. */
static int drop_session(struct redis_conn *c, const char *skey, const char *ukey, const char *nkey,
                        const char *id)
{
	redisReply *r[5] = {NULL};
	int ret = -1;
	redis_appendf(c, "MULTI");
	redis_appendf(c, "DEL %s", skey);
	redis_appendf(c, "ZREM %s %s", ukey, id);
	redis_appendf(c, "ZREM %s %s", nkey, id);
	redis_appendf(c, "EXEC");
	if (read_replies(c, r, 5) < 0 || check_exec(c, "removing a session", r, 3) < 0)
		goto out;
	ret = r[4]->element[0]->type == REDIS_REPLY_INTEGER && r[4]->element[0]->integer > 0;
out:
	free_replies(r, 5);
	return ret;
}

#define PUT_QUEUED 12

/* A generation from GET's reply: nil is 0 (no revocation yet). */
static bool reply_gen(const redisReply *r, uint64_t *gen_r)
{
	if (r->type == REDIS_REPLY_NIL) {
		*gen_r = 0;
		return true;
	}
	return reply_u64(r, gen_r);
}

static int redis_put(struct session_store *store, const struct session *s)
{
	struct redis_store *rs = (struct redis_store *)store;
	char skey[KEY_MAX], ukey[KEY_MAX], ckey[KEY_MAX], gkey[KEY_MAX], nkey[KEY_MAX],
	    rkey[KEY_MAX];
	redisReply *r[PUT_QUEUED + 4] = {NULL};
	unsigned n = PUT_QUEUED + 3;
	int ret = -1;

	key_session(rs->prefix, s->id, skey);
	key_user(rs->prefix, s->cid, s->uid, ukey);
	key_context(rs->prefix, s->cid, ckey);
	key_generation(rs->prefix, s->cid, gkey);
	key_node(rs->prefix, s->route, strlen(s->route), nkey);
	key_routes(rs->prefix, rkey);
	unsigned long long lifetime = s->lifetime_ms;
	unsigned long long expiry = s->last_ms + s->lifetime_ms;

	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto out;
	/* One round trip: the transaction, the context's generation, then WAIT on the same
	   connection (WAIT counts only this connection's writes). The index keys get a TTL when
	   created (NX) and keep the longest one (GT), so an index never outlives its sessions
	   for long and never dies before them. The generation is read after the transaction:
	   a revocation that moved it before has to be answered by taking the session back, one
	   that moves it after finds the session in the indexes and ends it. */
	redis_appendf(c, "MULTI");
	struct args hset = {0};
	char num[6][24];
	arg_str(&hset, "HSET");
	arg_str(&hset, skey);
	field(&hset, "d", s->digest);
	snprintf(num[0], sizeof(num[0]), "%lld", (long long)s->cid);
	field(&hset, "c", num[0]);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)s->uid);
	field(&hset, "u", num[1]);
	size_t login_len = strnlen(s->login, sizeof(s->login) - 1);
	for (size_t i = 0, off = 0; i == 0 || off < login_len; i++, off += LOGIN_CHUNK) {
		arg(&hset, &login_fields[i], 1);
		arg(&hset, s->login + off,
		    login_len - off < LOGIN_CHUNK ? login_len - off : LOGIN_CHUNK);
	}
	field(&hset, "a", s->client);
	field(&hset, "h", s->cookie_hash);
	field(&hset, "i", s->ip);
	field(&hset, "r", s->route);
	snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)s->created_ms);
	field(&hset, "t", num[2]);
	snprintf(num[3], sizeof(num[3]), "%llu", (unsigned long long)s->last_ms);
	field(&hset, "s", num[3]);
	snprintf(num[4], sizeof(num[4]), "%llu", lifetime);
	field(&hset, "x", num[4]);
	field(&hset, "y", s->stay_signed_in ? "1" : "0");
	if (s->modules != 0) {
		snprintf(num[5], sizeof(num[5]), "%u", (unsigned)s->modules);
		field(&hset, "g", num[5]);
	}
	redis_append(c, (int)hset.n, hset.v, hset.len);
	redis_appendf(c, "PEXPIRE %s %llu", skey, lifetime);
	redis_appendf(c, "ZADD %s %llu %s", ukey, (unsigned long long)s->created_ms, s->id);
	redis_appendf(c, "PEXPIRE %s %llu NX", ukey, lifetime);
	redis_appendf(c, "PEXPIRE %s %llu GT", ukey, lifetime);
	redis_appendf(c, "ZADD %s %llu %s", nkey, expiry, s->id);
	redis_appendf(c, "PEXPIRE %s %llu NX", nkey, lifetime);
	redis_appendf(c, "PEXPIRE %s %llu GT", nkey, lifetime);
	redis_appendf(c, "SADD %s %s", ckey, num[1]);
	redis_appendf(c, "PEXPIRE %s %llu NX", ckey, lifetime);
	redis_appendf(c, "PEXPIRE %s %llu GT", ckey, lifetime);
	redis_appendf(c, "SADD %s %s", rkey, s->route);
	redis_appendf(c, "EXEC");
	redis_appendf(c, "GET %s", gkey);
	if (rs->backup_count > 0) {
		redis_appendf(c, "WAIT %u %u", rs->backup_count, rs->wait_ms);
		n++;
	}
	if (read_replies(c, r, n) < 0)
		goto out;
	if (check_exec(c, "storing a session", r, PUT_QUEUED) < 0) {
		/* Without MULTI's rollback some writes may have landed: take them back. */
		char why[256];
		snprintf(why, sizeof(why), "%s", session_store_error());
		(void)drop_session(c, skey, ukey, nkey, s->id);
		session_store_set_error("%s", why);
		goto out;
	}
	uint64_t gen;
	if (!reply_gen(r[PUT_QUEUED + 2], &gen)) {
		reply_error(c, "GET generation", r[PUT_QUEUED + 2]);
		(void)drop_session(c, skey, ukey, nkey, s->id);
		goto out;
	}
	if (gen != s->gen) {
		ret = drop_session(c, skey, ukey, nkey, s->id) < 0 ? -1 : 1;
		goto out;
	}
	if (rs->backup_count > 0) {
		const redisReply *w = r[n - 1];
		long long got = redis_reply_int(w, 0);
		if (got < (long long)rs->backup_count) {
			__atomic_add_fetch(&rs->wait_shortfalls, 1, __ATOMIC_RELAXED);
			log_warn("session",
			         "session write reached %lld of %u replicas within %u ms (Redis "
			         "%s)%s%s%s",
			         got, rs->backup_count, rs->wait_ms, redis_conn_address(c),
			         w->type == REDIS_REPLY_ERROR ? ": " : "",
			         w->type == REDIS_REPLY_ERROR ? w->str : "",
			         rs->strict ? "; strict: login refused" : "");
			if (rs->strict) {
				(void)drop_session(c, skey, ukey, nkey, s->id);
				session_store_set_error("session not stored: %lld of %u replicas "
				                        "confirmed within %u ms "
				                        "(backup_count, strict)",
				                        got, rs->backup_count, rs->wait_ms);
				goto out;
			}
		}
	}
	ret = 0;
out:
	free_replies(r, n);
	if (ret < 0)
		count_error(rs);
	redis_pool_put(rs->pool, &c);
	return ret;
}

/* ---------------------------------------------------------------- get */

/* The login from its chunks: l, then m and o when present (every chunk but the last full). */
static bool reply_login(const redisReply *const *e, char *out, size_t size)
{
	static const enum field chunks[] = {F_LOGIN, F_LOGIN2, F_LOGIN3};
	size_t len = 0;
	for (unsigned i = 0; i < 3; i++) {
		const redisReply *c = e[chunks[i]];
		if (i > 0 && c->type == REDIS_REPLY_NIL)
			break;
		if (i > 0 && len != i * LOGIN_CHUNK)
			return false;
		if (!reply_str(c, out + len, size - len))
			return false;
		len += c->len;
	}
	return true;
}

/* Fills s_r from HMGET's reply: 1 complete, 0 absent (or a fragment left by a touch racing a
   removal, which touch deletes again), -1 malformed. */
static int parse_session(const redisReply *r, const char *id, struct session *s_r,
                         const char **bad_r)
{
	unsigned present = 0;
	for (unsigned i = 0; i < F_REQUIRED; i++)
		present += r->element[i]->type != REDIS_REPLY_NIL;
	if (present < F_REQUIRED)
		return 0;
	memset(s_r, 0, sizeof(*s_r));
	snprintf(s_r->id, sizeof(s_r->id), "%s", id);
	uint64_t stay = 0, modules = 0;
	const redisReply *const *e = (const redisReply *const *)r->element;
	if (!reply_str(e[F_DIGEST], s_r->digest, sizeof(s_r->digest)))
		*bad_r = "digest";
	else if (!reply_i64(e[F_CID], &s_r->cid))
		*bad_r = "cid";
	else if (!reply_i64(e[F_UID], &s_r->uid))
		*bad_r = "uid";
	else if (!reply_login(e, s_r->login, sizeof(s_r->login)))
		*bad_r = "login";
	else if (!reply_str(e[F_CLIENT], s_r->client, sizeof(s_r->client)))
		*bad_r = "client";
	else if (!reply_str(e[F_COOKIE], s_r->cookie_hash, sizeof(s_r->cookie_hash)))
		*bad_r = "cookie hash";
	else if (!reply_str(e[F_IP], s_r->ip, sizeof(s_r->ip)))
		*bad_r = "ip";
	else if (!reply_str(e[F_ROUTE], s_r->route, sizeof(s_r->route)))
		*bad_r = "route";
	else if (!reply_u64(e[F_CREATED], &s_r->created_ms))
		*bad_r = "created";
	else if (!reply_u64(e[F_LAST], &s_r->last_ms))
		*bad_r = "last";
	else if (!reply_u64(e[F_LIFETIME], &s_r->lifetime_ms) || s_r->lifetime_ms > UINT32_MAX)
		*bad_r = "lifetime";
	else if (!reply_u64(e[F_STAY], &stay) || stay > 1)
		*bad_r = "stay";
	else if (e[F_MODULES]->type != REDIS_REPLY_NIL &&
	         (!reply_u64(e[F_MODULES], &modules) || modules > UINT32_MAX))
		*bad_r = "modules";
	else {
		s_r->stay_signed_in = stay == 1;
		s_r->modules = (uint32_t)modules;
		return 1;
	}
	return -1;
}

/* The newest id from XREVRANGE … COUNT 1: "0-0" for an empty or missing stream. */
static bool parse_stream_head(const redisReply *r, char *id, size_t size)
{
	if (r->type != REDIS_REPLY_ARRAY)
		return false;
	if (r->elements == 0) {
		snprintf(id, size, "0-0");
		return true;
	}
	const redisReply *entry = r->element[0];
	return entry->type == REDIS_REPLY_ARRAY && entry->elements >= 1 &&
	       reply_str(entry->element[0], id, size);
}

static int redis_get(struct session_store *store, const char *id, uint64_t now, struct session *s_r)
{
	struct redis_store *rs = (struct redis_store *)store;
	char skey[KEY_MAX], head[64];
	struct session s;
	redisReply *r[2] = {NULL};
	unsigned n = 0;
	int ret = -1, found = 0;
	/* An id that cannot have been issued is not looked up (ids come from clients). */
	bool lookup = strlen(id) <= SESSION_ID_LEN;

	if (!lookup && rs->stream_key == NULL)
		return 0;
	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto out;
	if (lookup) {
		key_session(rs->prefix, id, skey);
		redis_appendf(c, HMGET_ALL, skey);
		n++;
	}
	if (rs->stream_key != NULL) {
		redis_appendf(c, "XREVRANGE %s + - COUNT 1", rs->stream_key);
		n++;
	}
	if (read_replies(c, r, n) < 0)
		goto out;
	if (lookup) {
		const char *bad = NULL;
		if (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements != F_COUNT) {
			reply_error(c, "HMGET", r[0]);
			goto out;
		}
		found = parse_session(r[0], id, &s, &bad);
		if (found < 0) {
			session_store_set_error("Redis %s: session record is malformed (field %s)",
			                        redis_conn_address(c), bad);
			goto out;
		}
		if (found > 0 && expired(s.last_ms, s.lifetime_ms, now))
			found = 0; /* Redis's own TTL removes it shortly */
	}
	if (rs->stream_key != NULL) {
		if (!parse_stream_head(r[n - 1], head, sizeof(head))) {
			reply_error(c, "XREVRANGE", r[n - 1]);
			goto out;
		}
	}
	if (found > 0)
		*s_r = s;
	ret = found;
out:
	free_replies(r, n);
	if (ret < 0)
		count_error(rs);
	redis_pool_put(rs->pool, &c);
	/* After the connection is back: the callback may wait (for this node's stream reader
	   to catch up), and must not hold a connection others need meanwhile. */
	if (ret >= 0 && rs->stream_key != NULL && rs->on_stream_head != NULL)
		rs->on_stream_head(rs->ctx, head);
	return ret;
}

/* ---------------------------------------------------------------- touch */

#define TOUCH_QUEUED 5

static int redis_touch(struct session_store *store, const struct session *s, uint64_t now)
{
	struct redis_store *rs = (struct redis_store *)store;
	char skey[KEY_MAX], ukey[KEY_MAX], nkey[KEY_MAX];
	redisReply *r[TOUCH_QUEUED + 2] = {NULL};
	int ret = -1;

	key_session(rs->prefix, s->id, skey);
	key_user(rs->prefix, s->cid, s->uid, ukey);
	key_node(rs->prefix, s->route, strlen(s->route), nkey);
	unsigned long long lifetime = s->lifetime_ms;

	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto out;
	/* A transaction, so that a removal on another node comes either before (then HSET
	   creates a fragment, which we delete below) or after (and cleans up everything). */
	redis_appendf(c, "MULTI");
	redis_appendf(c, "HSET %s s %llu", skey, (unsigned long long)now);
	redis_appendf(c, "PEXPIRE %s %llu", skey, lifetime);
	redis_appendf(c, "ZADD %s %llu %s", nkey, (unsigned long long)now + lifetime, s->id);
	redis_appendf(c, "PEXPIRE %s %llu GT", nkey, lifetime);
	redis_appendf(c, "PEXPIRE %s %llu GT", ukey, lifetime);
	redis_appendf(c, "EXEC");
	if (read_replies(c, r, TOUCH_QUEUED + 2) < 0 ||
	    check_exec(c, "touching a session", r, TOUCH_QUEUED) < 0)
		goto out;
	/* HSET added a field: the hash was gone (removed or expired meanwhile). */
	if (redis_reply_int(r[TOUCH_QUEUED + 1]->element[0], 0) > 0 &&
	    drop_session(c, skey, ukey, nkey, s->id) < 0)
		goto out;
	ret = 0;
out:
	free_replies(r, TOUCH_QUEUED + 2);
	if (ret < 0)
		count_error(rs);
	redis_pool_put(rs->pool, &c);
	return ret;
}

/* ---------------------------------------------------------------- remove */

static int redis_remove(struct session_store *store, const char *id)
{
	struct redis_store *rs = (struct redis_store *)store;
	char skey[KEY_MAX], ukey[KEY_MAX], nkey[KEY_MAX];
	redisReply *r = NULL;
	int ret = -1;
	int64_t cid, uid;
	char route[64];

	if (strlen(id) > SESSION_ID_LEN)
		return 0;
	key_session(rs->prefix, id, skey);
	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto out;
	/* The index keys are named by fields of the session: read them first. */
	r = redis_commandf(c, "HMGET %s c u r", skey);
	if (r == NULL) {
		session_store_set_error("%s", redis_conn_error(c));
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		reply_error(c, "HMGET", r);
		goto out;
	}
	if (r->element[0]->type == REDIS_REPLY_NIL && r->element[1]->type == REDIS_REPLY_NIL &&
	    r->element[2]->type == REDIS_REPLY_NIL) {
		ret = 0; /* unknown (a fragment left by touch is deleted by touch itself) */
		goto out;
	}
	if (!reply_i64(r->element[0], &cid) || !reply_i64(r->element[1], &uid) ||
	    !reply_str(r->element[2], route, sizeof(route))) {
		/* Not a record we wrote: without the index keys, delete what there is. */
		freeReplyObject(r);
		r = redis_commandf(c, "DEL %s", skey);
		if (r == NULL) {
			session_store_set_error("%s", redis_conn_error(c));
			goto out;
		}
		ret = 0;
		goto out;
	}
	key_user(rs->prefix, cid, uid, ukey);
	key_node(rs->prefix, route, strlen(route), nkey);
	ret = drop_session(c, skey, ukey, nkey, id);
out:
	if (r != NULL)
		freeReplyObject(r);
	if (ret < 0)
		count_error(rs);
	redis_pool_put(rs->pool, &c);
	return ret;
}

/* ---------------------------------------------------------------- revocation */

/* Runs one command on a pooled connection and checks its reply with ok(reply, ctx). 0, or
   -1 with the error set (what names the command) and counted. */
static int run_one(struct redis_store *rs, const char *what, int argc, const char **argv,
                   bool (*ok)(const redisReply *r, void *ctx), void *ctx)
{
	redisReply *r = NULL;
	int ret = -1;
	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto out;
	r = redis_command(c, argc, argv, NULL);
	if (r == NULL)
		session_store_set_error("%s", redis_conn_error(c));
	else if (!ok(r, ctx))
		reply_error(c, what, r);
	else
		ret = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	if (ret < 0)
		count_error(rs);
	redis_pool_put(rs->pool, &c);
	return ret;
}

static bool generation_ok(const redisReply *r, void *ctx)
{
	return reply_gen(r, ctx);
}

static int redis_generation(struct session_store *store, int64_t cid, uint64_t *gen_r)
{
	struct redis_store *rs = (struct redis_store *)store;
	char gkey[KEY_MAX];
	key_generation(rs->prefix, cid, gkey);
	const char *argv[] = {"GET", gkey};
	return run_one(rs, "GET generation", 2, argv, generation_ok, gen_r);
}

/* One script, so that the generation moves and the sessions go in one step no put can come
   between (a put reads the generation after its own transaction). ARGV: prefix, cid, uid
   (0 = every user of the context, from the c: index). Keys are built in the script: they
   all live under the prefix on the one Redis the store uses. */
static const char revoke_script[] =
    "local p, cid, uid = ARGV[1], ARGV[2], ARGV[3]\n"
    "redis.call('INCR', p .. 'g:' .. cid)\n"
    "local users = {uid}\n"
    "if uid == '0' then\n"
    "  users = redis.call('SMEMBERS', p .. 'c:' .. cid)\n"
    "  redis.call('DEL', p .. 'c:' .. cid)\n"
    "else\n"
    "  redis.call('SREM', p .. 'c:' .. cid, uid)\n"
    "end\n"
    "local ended = 0\n"
    "for _, u in ipairs(users) do\n"
    "  local ukey = p .. 'u:' .. cid .. ':' .. u\n"
    "  for _, id in ipairs(redis.call('ZRANGE', ukey, 0, -1)) do\n"
    "    local route = redis.call('HGET', p .. 's:' .. id, 'r')\n"
    "    ended = ended + redis.call('DEL', p .. 's:' .. id)\n"
    "    if route then redis.call('ZREM', p .. 'n:' .. route, id) end\n"
    "  end\n"
    "  redis.call('DEL', ukey)\n"
    "end\n"
    "return ended\n";

static bool revoke_ok(const redisReply *r, void *ctx)
{
	if (r->type != REDIS_REPLY_INTEGER)
		return false;
	*(int *)ctx = r->integer > INT32_MAX ? INT32_MAX : (int)r->integer;
	return true;
}

static int redis_revoke(struct session_store *store, int64_t cid, int64_t uid)
{
	struct redis_store *rs = (struct redis_store *)store;
	char cids[24], uids[24];
	snprintf(cids, sizeof(cids), "%lld", (long long)cid);
	snprintf(uids, sizeof(uids), "%lld", (long long)uid);
	const char *argv[] = {"EVAL", revoke_script, "0", rs->prefix, cids, uids};
	int ended = 0;
	if (run_one(rs, "revoking sessions", 6, argv, revoke_ok, &ended) < 0)
		return -1;
	return ended;
}

/* ---------------------------------------------------------------- list_user */

static int redis_list_user(struct session_store *store, int64_t cid, int64_t uid, uint64_t now,
                           char (*ids)[SESSION_ID_LEN + 1], size_t max)
{
	struct redis_store *rs = (struct redis_store *)store;
	char ukey[KEY_MAX];
	redisReply *list = NULL, **r = NULL, *prune = NULL;
	const char **gone = NULL;
	size_t *gone_lens = NULL;
	unsigned n = 0;
	int ret = -1;

	key_user(rs->prefix, cid, uid, ukey);
	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto out;
	list = redis_commandf(c, "ZRANGE %s 0 %d", ukey, USER_LIST_CAP - 1);
	if (list == NULL) {
		session_store_set_error("%s", redis_conn_error(c));
		goto out;
	}
	if (list->type != REDIS_REPLY_ARRAY) {
		reply_error(c, "ZRANGE", list);
		goto out;
	}
	n = (unsigned)list->elements;
	for (unsigned i = 0; i < n; i++) {
		if (list->element[i]->type != REDIS_REPLY_STRING) {
			reply_error(c, "ZRANGE", list->element[i]);
			n = 0;
			goto out;
		}
	}
	/* Second round trip: which of them are still alive. */
	r = mem_calloc(n + 1, sizeof(*r));
	for (unsigned i = 0; i < n; i++)
		redis_appendf(c, "HMGET %ss:%b s x", rs->prefix, list->element[i]->str,
		              list->element[i]->len);
	if (read_replies(c, r, n) < 0)
		goto out;
	gone = mem_calloc(n + 2, sizeof(*gone));
	gone_lens = mem_calloc(n + 2, sizeof(*gone_lens));
	unsigned ngone = 0;
	size_t found = 0;
	for (unsigned i = 0; i < n; i++) {
		const redisReply *e = list->element[i];
		uint64_t last, lifetime;
		if (r[i]->type != REDIS_REPLY_ARRAY || r[i]->elements != 2) {
			reply_error(c, "HMGET", r[i]);
			goto out;
		}
		if (!reply_u64(r[i]->element[0], &last) ||
		    !reply_u64(r[i]->element[1], &lifetime) || e->len > SESSION_ID_LEN) {
			gone[2 + ngone] = e->str;
			gone_lens[2 + ngone] = e->len;
			ngone++;
			continue;
		}
		/* Expired by our clock but not yet by Redis's: not listed, left to the TTL. */
		if (expired(last, lifetime, now) || found == max)
			continue;
		memcpy(ids[found], e->str, e->len);
		ids[found][e->len] = '\0';
		found++;
	}
	if (ngone > 0) {
		/* One extra round trip; its failure does not change the answer. */
		gone[0] = "ZREM";
		gone_lens[0] = 4;
		gone[1] = ukey;
		gone_lens[1] = strlen(ukey);
		prune = redis_command(c, (int)ngone + 2, gone, gone_lens);
		if (prune == NULL || prune->type != REDIS_REPLY_INTEGER)
			count_error(rs);
	}
	ret = (int)found;
out:
	if (r != NULL)
		free_replies(r, n);
	mem_free(&r);
	mem_free(&gone);
	mem_free(&gone_lens);
	if (prune != NULL)
		freeReplyObject(prune);
	if (list != NULL)
		freeReplyObject(list);
	if (ret < 0)
		count_error(rs);
	redis_pool_put(rs->pool, &c);
	return ret;
}

/* ---------------------------------------------------------------- counts */

/* Appends the prune and the count of one route's index: two replies. */
static void append_route_count(struct redis_conn *c, const char *prefix, const char *route,
                               size_t route_len, uint64_t now)
{
	char nkey[KEY_MAX];
	key_node(prefix, route, route_len, nkey);
	redis_appendf(c, "ZREMRANGEBYSCORE %s -inf (%llu", nkey, (unsigned long long)now);
	redis_appendf(c, "ZCARD %s", nkey);
}

static bool route_count_ok(const redisReply *const *r)
{
	return r[0]->type == REDIS_REPLY_INTEGER && r[1]->type == REDIS_REPLY_INTEGER &&
	       r[1]->integer >= 0;
}

static size_t redis_count(struct session_store *store)
{
	struct redis_store *rs = (struct redis_store *)store;
	redisReply *r[2] = {NULL};
	struct redis_conn *c = conn_get(rs->pool);
	if (c == NULL)
		goto fail;
	append_route_count(c, rs->prefix, rs->route, strlen(rs->route), clock_wall_ms());
	if (read_replies(c, r, 2) < 0)
		goto fail;
	if (!route_count_ok((const redisReply *const *)r)) {
		reply_error(c, "ZCARD", r[0]->type != REDIS_REPLY_INTEGER ? r[0] : r[1]);
		goto fail;
	}
	uint64_t count = (uint64_t)r[1]->integer;
	__atomic_store_n(&rs->last_count, count, __ATOMIC_RELAXED);
	free_replies(r, 2);
	redis_pool_put(rs->pool, &c);
	return (size_t)count;
fail:
	free_replies(r, 2);
	count_error(rs);
	redis_pool_put(rs->pool, &c);
	return (size_t)__atomic_load_n(&rs->last_count, __ATOMIC_RELAXED);
}

struct route_entry {
	const char *name;
	size_t len;
	uint64_t sessions;
};

static int by_name(const void *a, const void *b)
{
	const struct route_entry *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int cmp = memcmp(x->name, y->name, n);
	return cmp != 0 ? cmp : (x->len > y->len) - (x->len < y->len);
}

int session_store_redis_count_all(struct redis_pool *pool, const char *prefix, uint64_t now_ms,
                                  struct session_route_count *out, size_t max, uint64_t *total_r)
{
	char rkey[KEY_MAX];
	redisReply *members = NULL, **r = NULL;
	struct route_entry *routes = NULL;
	unsigned n = 0;
	int ret = -1;

	*total_r = 0;
	if (strlen(prefix) >= PREFIX_MAX) {
		session_store_set_error("session key prefix is too long");
		return -1;
	}
	key_routes(prefix, rkey);
	struct redis_conn *c = conn_get(pool);
	if (c == NULL)
		goto out;
	/* SMEMBERS with a cap: a positive count returns distinct members, all when fewer. */
	members = redis_commandf(c, "SRANDMEMBER %s %d", rkey, ROUTES_CAP);
	if (members == NULL) {
		session_store_set_error("%s", redis_conn_error(c));
		goto out;
	}
	if (members->type != REDIS_REPLY_ARRAY) {
		reply_error(c, "SRANDMEMBER", members);
		goto out;
	}
	n = (unsigned)members->elements;
	routes = mem_calloc(n + 1, sizeof(*routes));
	for (unsigned i = 0; i < n; i++) {
		const redisReply *m = members->element[i];
		if (m->type != REDIS_REPLY_STRING) {
			reply_error(c, "SRANDMEMBER", m);
			n = 0;
			goto out;
		}
		routes[i].name = m->str;
		routes[i].len = m->len;
	}
	r = mem_calloc(2 * (size_t)n + 1, sizeof(*r));
	for (unsigned i = 0; i < n; i++)
		append_route_count(c, prefix, routes[i].name, routes[i].len, now_ms);
	if (read_replies(c, r, 2 * n) < 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		if (!route_count_ok((const redisReply *const *)&r[2 * i])) {
			reply_error(c, "ZCARD",
			            r[2 * i]->type != REDIS_REPLY_INTEGER ? r[2 * i]
			                                                  : r[2 * i + 1]);
			goto out;
		}
		routes[i].sessions = (uint64_t)r[2 * i + 1]->integer;
		*total_r += routes[i].sessions;
	}
	if (n > 0)
		qsort(routes, n, sizeof(*routes), by_name);
	size_t filled = n < max ? n : max;
	for (size_t i = 0; i < filled; i++) {
		snprintf(out[i].route, sizeof(out[i].route), "%.*s", (int)routes[i].len,
		         routes[i].name);
		out[i].sessions = routes[i].sessions;
	}
	ret = (int)filled;
out:
	if (r != NULL)
		free_replies(r, 2 * n);
	mem_free(&r);
	mem_free(&routes);
	if (members != NULL)
		freeReplyObject(members);
	redis_pool_put(pool, &c);
	return ret;
}

/* ---------------------------------------------------------------- store */

static void redis_destroy(struct session_store *store)
{
	struct redis_store *rs = (struct redis_store *)store;
	mem_free(&rs->stream_key);
	mem_free(&rs);
}

static const struct session_store_ops redis_ops = {
    .put = redis_put,
    .generation = redis_generation,
    .revoke = redis_revoke,
    .get = redis_get,
    .touch = redis_touch,
    .remove = redis_remove,
    .list_user = redis_list_user,
    .count = redis_count,
    .destroy = redis_destroy,
};

struct session_store *session_store_redis_create(const struct session_store_redis_settings *set)
{
	if (set->pool == NULL || set->prefix == NULL || set->route == NULL) {
		session_store_set_error("Redis session store needs a pool, a prefix and a route");
		return NULL;
	}
	if (strlen(set->prefix) >= PREFIX_MAX) {
		session_store_set_error("session key prefix is too long (max %d bytes)",
		                        PREFIX_MAX - 1);
		return NULL;
	}
	struct redis_store *rs = mem_calloc(1, sizeof(*rs));
	if (strlen(set->route) >= sizeof(rs->route)) {
		mem_free(&rs);
		session_store_set_error("route is too long (max %zu bytes)", sizeof(rs->route) - 1);
		return NULL;
	}
	rs->store.ops = &redis_ops;
	rs->pool = set->pool;
	snprintf(rs->prefix, sizeof(rs->prefix), "%s", set->prefix);
	snprintf(rs->route, sizeof(rs->route), "%s", set->route);
	rs->backup_count = set->backup_count;
	rs->strict = set->strict;
	rs->wait_ms = set->backup_timeout_ms;
	unsigned timeout = redis_pool_settings(set->pool)->timeout_ms;
	if (rs->backup_count > 0 && (rs->wait_ms == 0 || rs->wait_ms > timeout / 10 * 9)) {
		rs->wait_ms = timeout / 2 > 0 ? timeout / 2 : 1;
		log_warn("session",
		         "backup_timeout %u ms must be between 1 ms and 90%% of the Redis command "
		         "timeout (%u ms): using %u ms",
		         set->backup_timeout_ms, timeout, rs->wait_ms);
	}
	if (set->stream_key != NULL)
		rs->stream_key = mem_strdup(set->stream_key);
	rs->on_stream_head = set->on_stream_head;
	rs->ctx = set->ctx;
	return &rs->store;
}

void session_store_redis_stats(struct session_store *store, struct session_store_redis_stats *st)
{
	assert(store->ops == &redis_ops);
	struct redis_store *rs = (struct redis_store *)store;
	st->wait_shortfalls = __atomic_load_n(&rs->wait_shortfalls, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&rs->errors, __ATOMIC_RELAXED);
}
