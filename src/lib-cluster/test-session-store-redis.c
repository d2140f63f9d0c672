/* SPDX-License-Identifier: MIT */
/* Redis session store against a real redis-server started by the test: fields, expiry,
   indexes, counts, WAIT, stream head, bad replies, memory per session, Redis down and back. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "redis.h"
#include "session-store-redis.h"
#include "test-redis-server.h"
#include "test.h"

static struct redis_pool *pool;

#define admin_cmd test_redis_cmd
#define sleep_ms  test_sleep_ms

static long long admin_int(const char *fmt, const char *arg1, const char *arg2)
{
	redisReply *r = admin_cmd(fmt, arg1, arg2);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	freeReplyObject(r);
	return v;
}

/* ZSCORE as a number, or -1 when the member is absent. */
static long long admin_zscore(const char *key, const char *member)
{
	redisReply *r = admin_cmd("ZSCORE %s %s", key, member);
	long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
	freeReplyObject(r);
	return v;
}

static unsigned long long used_memory(void)
{
	redisReply *r = admin_cmd("INFO memory");
	const char *p = r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
	unsigned long long v = p != NULL ? strtoull(p + 12, NULL, 10) : 0;
	freeReplyObject(r);
	return v;
}

/* ---------------------------------------------------------------- helpers */

static struct session make(const char *route, int64_t cid, int64_t uid, uint64_t created,
                           uint64_t lifetime)
{
	struct session s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%08x%08x%08x%08x", test_rand(), test_rand(), test_rand(),
	         test_rand());
	snprintf(s.digest, sizeof(s.digest), "%08x%08x%08x%08x", test_rand(), test_rand(),
	         test_rand(), test_rand());
	s.cid = cid;
	s.uid = uid;
	snprintf(s.login, sizeof(s.login), "user%lld@ctx%lld", (long long)uid, (long long)cid);
	snprintf(s.client, sizeof(s.client), "open-xchange-appsuite");
	snprintf(s.cookie_hash, sizeof(s.cookie_hash), "%08x%08x%08x%08x", test_rand(), test_rand(),
	         test_rand(), test_rand());
	snprintf(s.ip, sizeof(s.ip), "192.168.100.%u", test_rand() % 250);
	snprintf(s.route, sizeof(s.route), "%s", route);
	s.created_ms = s.last_ms = created;
	s.lifetime_ms = lifetime;
	return s;
}

static struct session_store *store_new(const char *prefix, const char *route)
{
	struct session_store_redis_settings set = {.pool = pool, .prefix = prefix, .route = route};
	struct session_store *st = session_store_redis_create(&set);
	test_assert(st != NULL);
	return st;
}

static void key(char *out, size_t size, const char *prefix, const char *kind, const char *rest)
{
	snprintf(out, size, "%s%s%s", prefix, kind, rest);
}

/* ---------------------------------------------------------------- cases */

static void test_round_trip(void)
{
	const char *prefix = "tandem:rt:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t now = clock_wall_ms();
	struct session s = make("OX-1", 42, 1234567890123LL, now - 5, 3600000), got;
	snprintf(s.login, sizeof(s.login), "alice.o'hara@example.com");
	snprintf(s.client, sizeof(s.client), "Tandem Web 1.0 (with spaces, %%s and \"quotes\")");
	snprintf(s.ip, sizeof(s.ip), "2001:db8::1");
	s.last_ms = now;
	s.stay_signed_in = true;
	test_assert_int_eq(st->ops->put(st, &s), 0);
	memset(&got, 0xa5, sizeof(got));
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), 1);
	test_assert_str_eq(got.id, s.id);
	test_assert_str_eq(got.digest, s.digest);
	test_assert_int_eq(got.cid, 42);
	test_assert_int_eq(got.uid, 1234567890123LL);
	test_assert_str_eq(got.login, s.login);
	test_assert_str_eq(got.client, s.client);
	test_assert_str_eq(got.cookie_hash, s.cookie_hash);
	test_assert_str_eq(got.ip, s.ip);
	test_assert_str_eq(got.route, "OX-1");
	test_assert_int_eq(got.created_ms, now - 5);
	test_assert_int_eq(got.last_ms, now);
	test_assert_int_eq(got.lifetime_ms, 3600000);
	test_assert(got.stay_signed_in);

	/* empty strings, a negative id, not staying signed in */
	struct session e = make("OX-1", -3, 0, now, 1000);
	e.client[0] = e.ip[0] = e.login[0] = '\0';
	test_assert_int_eq(st->ops->put(st, &e), 0);
	test_assert_int_eq(st->ops->get(st, e.id, now, &got), 1);
	test_assert_int_eq(got.cid, -3);
	test_assert_int_eq(got.uid, 0);
	test_assert_str_eq(got.client, "");
	test_assert_str_eq(got.ip, "");
	test_assert(!got.stay_signed_in);

	/* small hashes stay compact */
	char k[256];
	key(k, sizeof(k), prefix, "s:", s.id);
	redisReply *r = admin_cmd("OBJECT ENCODING %s", k);
	test_assert(r->type == REDIS_REPLY_STRING && strcmp(r->str, "listpack") == 0);
	freeReplyObject(r);

	/* logins past 64 bytes are split so that the hash stays a listpack */
	static const size_t login_lens[] = {63, 64, 65, 127, 128, 129};
	for (size_t i = 0; i < sizeof(login_lens) / sizeof(login_lens[0]); i++) {
		struct session l = make("OX-1", 1, 2, now, 60000);
		for (size_t j = 0; j < login_lens[i]; j++)
			l.login[j] = (char)('a' + (j * 7 + i) % 26);
		l.login[login_lens[i]] = '\0';
		test_assert_int_eq(st->ops->put(st, &l), 0);
		test_assert_int_eq(st->ops->get(st, l.id, now, &got), 1);
		test_assert_str_eq(got.login, l.login);
		key(k, sizeof(k), prefix, "s:", l.id);
		r = admin_cmd("OBJECT ENCODING %s", k);
		test_assert(r->type == REDIS_REPLY_STRING && strcmp(r->str, "listpack") == 0);
		freeReplyObject(r);
	}

	test_assert_int_eq(st->ops->get(st, "00000000000000000000000000000000", now, &got), 0);
	test_assert_int_eq(st->ops->get(st, "", now, &got), 0);
	test_assert_int_eq(
	    st->ops->get(st, "0123456789abcdef0123456789abcdef0123456789abcdef", now, &got), 0);
	session_store_destroy(&st);
	test_assert(st == NULL);
}

static void test_expiry(void)
{
	const char *prefix = "tandem:exp:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t now = clock_wall_ms();
	struct session s = make("OX-1", 1, 1, now, 1500), got;
	char k[256];
	key(k, sizeof(k), prefix, "s:", s.id);
	test_assert_int_eq(st->ops->put(st, &s), 0);
	long long pttl = admin_int("PTTL %s", k, NULL);
	test_assert(pttl > 1000 && pttl <= 1500);
	/* the memory store's rule: alive up to last use + lifetime inclusive */
	test_assert_int_eq(st->ops->get(st, s.id, now + 1500, &got), 1);
	test_assert_int_eq(st->ops->get(st, s.id, now + 1501, &got), 0);
	sleep_ms(1700);
	test_assert_int_eq(st->ops->get(st, s.id, clock_wall_ms(), &got), 0);
	test_assert_int_eq(admin_int("EXISTS %s", k, NULL), 0);
	session_store_destroy(&st);
}

static void test_touch(void)
{
	const char *prefix = "tandem:touch:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t t0 = clock_wall_ms();
	struct session s = make("OX-1", 1, 2, t0, 2000), got;
	char sk[256], nk[256], uk[256];
	key(sk, sizeof(sk), prefix, "s:", s.id);
	key(nk, sizeof(nk), prefix, "n:", "OX-1");
	key(uk, sizeof(uk), prefix, "u:", "1:2");
	test_assert_int_eq(st->ops->put(st, &s), 0);
	test_assert_int_eq(admin_zscore(nk, s.id), (long long)(t0 + 2000));
	test_assert_int_eq(admin_zscore(uk, s.id), (long long)t0);
	sleep_ms(1200);
	uint64_t t1 = clock_wall_ms();
	test_assert_int_eq(st->ops->get(st, s.id, t1, &got), 1);
	test_assert_int_eq(st->ops->touch(st, &got, t1), 0);
	test_assert_int_eq(admin_zscore(nk, s.id), (long long)(t1 + 2000));
	/* the indexes' TTLs first: a TTL read later can only be smaller */
	long long u_ttl = admin_int("PTTL %s", uk, NULL), n_ttl = admin_int("PTTL %s", nk, NULL);
	long long s_ttl = admin_int("PTTL %s", sk, NULL);
	test_assert(s_ttl > 1500);
	test_assert(u_ttl >= s_ttl);
	test_assert(n_ttl >= s_ttl);
	sleep_ms(1100); /* past creation + lifetime, within last use + lifetime */
	test_assert_int_eq(st->ops->get(st, s.id, clock_wall_ms(), &got), 1);
	test_assert_int_eq(got.last_ms, t1);
	test_assert_int_eq(got.created_ms, t0);

	/* a touch that comes after a removal must not bring a fragment back */
	test_assert_int_eq(st->ops->remove(st, s.id), 1);
	test_assert_int_eq(st->ops->touch(st, &got, clock_wall_ms()), 0);
	test_assert_int_eq(admin_int("EXISTS %s", sk, NULL), 0);
	test_assert_int_eq(admin_zscore(nk, s.id), -1);
	test_assert_int_eq(st->ops->get(st, s.id, clock_wall_ms(), &got), 0);
	session_store_destroy(&st);
}

static void test_remove(void)
{
	const char *prefix = "tandem:rm:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t now = clock_wall_ms();
	struct session a = make("OX-1", 5, 6, now, 60000), b = make("OX-1", 5, 6, now + 1, 60000);
	struct session got;
	test_assert_int_eq(st->ops->put(st, &a), 0);
	test_assert_int_eq(st->ops->put(st, &b), 0);
	char sk[256], nk[256], uk[256];
	key(sk, sizeof(sk), prefix, "s:", a.id);
	key(nk, sizeof(nk), prefix, "n:", "OX-1");
	key(uk, sizeof(uk), prefix, "u:", "5:6");
	test_assert_int_eq(st->ops->remove(st, a.id), 1);
	test_assert_int_eq(admin_int("EXISTS %s", sk, NULL), 0);
	test_assert_int_eq(admin_zscore(uk, a.id), -1);
	test_assert_int_eq(admin_zscore(nk, a.id), -1);
	test_assert_int_eq(st->ops->get(st, a.id, now, &got), 0);
	test_assert_int_eq(st->ops->remove(st, a.id), 0);
	test_assert_int_eq(st->ops->remove(st, "ffffffffffffffffffffffffffffffff"), 0);
	test_assert_int_eq(st->ops->remove(st, ""), 0);
	/* the other session is untouched */
	test_assert_int_eq(st->ops->get(st, b.id, now, &got), 1);
	test_assert(admin_zscore(uk, b.id) >= 0);
	test_assert_int_eq(st->ops->count(st), 1);
	session_store_destroy(&st);
}

static void test_list_user(void)
{
	const char *prefix = "tandem:lu:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t now = clock_wall_ms();
	static const unsigned order[] = {3, 0, 4, 1, 2};
	struct session s[5];
	for (unsigned i = 0; i < 5; i++) {
		/* created in shuffled order: s[k] is the k-th oldest */
		unsigned k = order[i];
		s[k] = make("OX-1", 1, 7, now - 10000 + k * 100, 60000);
		s[k].last_ms = now;
		test_assert_int_eq(st->ops->put(st, &s[k]), 0);
	}
	struct session other = make("OX-1", 1, 8, now - 20000, 60000);
	struct session other_ctx = make("OX-1", 2, 7, now - 20000, 60000);
	test_assert_int_eq(st->ops->put(st, &other), 0);
	test_assert_int_eq(st->ops->put(st, &other_ctx), 0);
	/* oldest of all, but gone from Redis soon */
	struct session brief = make("OX-1", 1, 7, now - 50000, 300);
	brief.last_ms = now;
	test_assert_int_eq(st->ops->put(st, &brief), 0);
	/* present in Redis, expired by the caller's clock: not listed */
	struct session stale = make("OX-1", 1, 7, now - 40000, 20000);
	stale.last_ms = now - 30000;
	test_assert_int_eq(st->ops->put(st, &stale), 0);

	char uk[256];
	key(uk, sizeof(uk), prefix, "u:", "1:7");
	test_assert_int_eq(admin_int("ZCARD %s", uk, NULL), 7);
	sleep_ms(400);
	char ids[10][SESSION_ID_LEN + 1];
	int n = st->ops->list_user(st, 1, 7, clock_wall_ms(), ids, 10);
	test_assert_int_eq(n, 5);
	for (int i = 0; i < n && i < 5; i++)
		test_assert_str_eq(ids[i], s[i].id);
	/* the expired id was pruned from the index, the stale one is left to its TTL */
	test_assert_int_eq(admin_int("ZCARD %s", uk, NULL), 6);
	test_assert_int_eq(admin_zscore(uk, brief.id), -1);
	n = st->ops->list_user(st, 1, 7, clock_wall_ms(), ids, 2);
	test_assert_int_eq(n, 2);
	test_assert_str_eq(ids[0], s[0].id);
	test_assert_str_eq(ids[1], s[1].id);
	test_assert_int_eq(st->ops->list_user(st, 1, 99, clock_wall_ms(), ids, 10), 0);
	n = st->ops->list_user(st, 2, 7, clock_wall_ms(), ids, 10);
	test_assert_int_eq(n, 1);
	test_assert_str_eq(ids[0], other_ctx.id);
	session_store_destroy(&st);
}

static void test_counts(void)
{
	const char *pa = "tandem:a:v1:", *pb = "tandem:b:v1:";
	struct session_store *a1 = store_new(pa, "OX-1"), *a2 = store_new(pa, "OX-2"),
	                     *b1 = store_new(pb, "OX-1");
	uint64_t now = clock_wall_ms();
	for (int i = 0; i < 3; i++) {
		struct session s = make("OX-1", 1, i, now, 60000);
		test_assert_int_eq(a1->ops->put(a1, &s), 0);
	}
	for (int i = 0; i < 2; i++) {
		struct session s = make("OX-2", 1, i, now, 60000);
		test_assert_int_eq(a2->ops->put(a2, &s), 0);
	}
	for (int i = 0; i < 4; i++) {
		struct session s = make("OX-1", 1, i, now, 60000);
		test_assert_int_eq(b1->ops->put(b1, &s), 0);
	}
	/* still in Redis (TTL 5 s from now) but expired by the clock: pruned by the counts */
	struct session old = make("OX-1", 1, 9, now - 10000, 5000);
	test_assert_int_eq(a1->ops->put(a1, &old), 0);
	test_assert_int_eq(a1->ops->count(a1), 3);
	test_assert_int_eq(a2->ops->count(a2), 2);
	test_assert_int_eq(b1->ops->count(b1), 4);

	/* a session made on OX-2 but used on any node counts for OX-2 */
	struct session s = make("OX-2", 1, 5, now, 60000);
	test_assert_int_eq(a1->ops->put(a1, &s), 0);
	test_assert_int_eq(a1->ops->count(a1), 3);
	test_assert_int_eq(a2->ops->count(a2), 3);
	test_assert_int_eq(a1->ops->remove(a1, s.id), 1);
	test_assert_int_eq(a2->ops->count(a2), 2);

	struct session_route_count rc[4];
	uint64_t total = 0;
	int n = session_store_redis_count_all(pool, pa, clock_wall_ms(), rc, 4, &total);
	test_assert_int_eq(n, 2);
	test_assert_str_eq(rc[0].route, "OX-1");
	test_assert_int_eq(rc[0].sessions, 3);
	test_assert_str_eq(rc[1].route, "OX-2");
	test_assert_int_eq(rc[1].sessions, 2);
	test_assert_int_eq(total, 5);
	n = session_store_redis_count_all(pool, pa, clock_wall_ms(), rc, 1, &total);
	test_assert_int_eq(n, 1);
	test_assert_int_eq(total, 5);
	n = session_store_redis_count_all(pool, pb, clock_wall_ms(), rc, 4, &total);
	test_assert_int_eq(n, 1);
	test_assert_str_eq(rc[0].route, "OX-1");
	test_assert_int_eq(total, 4);
	n = session_store_redis_count_all(pool, "tandem:none:v1:", clock_wall_ms(), rc, 4, &total);
	test_assert_int_eq(n, 0);
	test_assert_int_eq(total, 0);
	/* far in the future every session has expired: pruned, the routes remain */
	n = session_store_redis_count_all(pool, pb, clock_wall_ms() + 120000, rc, 4, &total);
	test_assert_int_eq(n, 1);
	test_assert_int_eq(rc[0].sessions, 0);
	test_assert_int_eq(total, 0);
	session_store_destroy(&a1);
	session_store_destroy(&a2);
	session_store_destroy(&b1);
}

static void test_wait(void)
{
	const char *prefix = "tandem:wait:v1:";
	struct session_store_redis_settings set = {
	    .pool = pool,
	    .prefix = prefix,
	    .route = "OX-1",
	    .backup_count = 1,
	    .backup_timeout_ms = 100,
	};
	struct session_store *lax = session_store_redis_create(&set);
	set.strict = true;
	struct session_store *strict = session_store_redis_create(&set);
	struct session_store_redis_stats stats;
	uint64_t now = clock_wall_ms();
	struct session a = make("OX-1", 1, 1, now, 60000), b = make("OX-1", 1, 1, now + 1, 60000);
	struct session got;

	uint64_t t0 = clock_mono_ms();
	test_assert_int_eq(lax->ops->put(lax, &a), 0);
	uint64_t took = clock_mono_ms() - t0;
	test_assert(took >= 90 && took < 1000);
	session_store_redis_stats(lax, &stats);
	test_assert_int_eq(stats.wait_shortfalls, 1);
	test_assert_int_eq(stats.errors, 0);
	test_assert_int_eq(lax->ops->get(lax, a.id, now, &got), 1);

	test_assert_int_eq(strict->ops->put(strict, &b), -1);
	test_assert(strstr(session_store_error(), "0 of 1") != NULL);
	printf("# strict shortfall: %s\n", session_store_error());
	session_store_redis_stats(strict, &stats);
	test_assert_int_eq(stats.wait_shortfalls, 1);
	test_assert_int_eq(stats.errors, 1);
	test_assert_int_eq(strict->ops->get(strict, b.id, now, &got), 0);
	char sk[256], uk[256];
	key(sk, sizeof(sk), prefix, "s:", b.id);
	key(uk, sizeof(uk), prefix, "u:", "1:1");
	test_assert_int_eq(admin_int("EXISTS %s", sk, NULL), 0);
	test_assert_int_eq(admin_zscore(uk, b.id), -1);
	test_assert_int_eq(strict->ops->count(strict), 1);
	session_store_destroy(&lax);
	session_store_destroy(&strict);
}

struct head_seen {
	char id[64];
	int calls;
};

static void on_head(void *ctx, const char *id)
{
	struct head_seen *h = ctx;
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->calls++;
}

static void test_stream_head(void)
{
	const char *prefix = "tandem:sh:v1:";
	struct head_seen seen = {"", 0};
	struct session_store_redis_settings set = {
	    .pool = pool,
	    .prefix = prefix,
	    .route = "OX-1",
	    .stream_key = "tandem:sh:v1:inval",
	    .on_stream_head = on_head,
	    .ctx = &seen,
	};
	struct session_store *st = session_store_redis_create(&set);
	uint64_t now = clock_wall_ms();
	struct session s = make("OX-1", 1, 1, now, 60000), got;
	test_assert_int_eq(st->ops->put(st, &s), 0);
	test_assert_int_eq(st->ops->get(st, "ffffffffffffffffffffffffffffffff", now, &got), 0);
	test_assert_int_eq(seen.calls, 1);
	test_assert_str_eq(seen.id, "0-0");
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), 1);
	test_assert_int_eq(seen.calls, 2);
	test_assert_str_eq(seen.id, "0-0");

	char newest[64] = "";
	for (int i = 0; i < 3; i++) {
		redisReply *r = admin_cmd("XADD tandem:sh:v1:inval * k v%d", i);
		test_assert(r->type == REDIS_REPLY_STRING);
		if (r->type == REDIS_REPLY_STRING)
			snprintf(newest, sizeof(newest), "%s", r->str);
		freeReplyObject(r);
	}
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), 1);
	test_assert_int_eq(seen.calls, 3);
	test_assert_str_eq(seen.id, newest);
	/* an over-long id is not looked up, but the head still comes */
	test_assert_int_eq(
	    st->ops->get(st, "0123456789abcdef0123456789abcdef0123456789abcdef", now, &got), 0);
	test_assert_int_eq(seen.calls, 4);
	/* emptied stream */
	freeReplyObject(admin_cmd("XTRIM tandem:sh:v1:inval MAXLEN 0"));
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), 1);
	test_assert_str_eq(seen.id, "0-0");
	/* not a stream: an error, no callback */
	freeReplyObject(admin_cmd("DEL tandem:sh:v1:inval"));
	freeReplyObject(admin_cmd("SET tandem:sh:v1:inval x"));
	seen.calls = 0;
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), -1);
	test_assert(strstr(session_store_error(), "WRONGTYPE") != NULL);
	test_assert_int_eq(seen.calls, 0);
	session_store_destroy(&st);
}

/* Keys of the wrong type or records with bad fields: errors, never a crash. */
static void test_bad_data(void)
{
	const char *prefix = "tandem:bad:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t now = clock_wall_ms();
	struct session s = make("OX-1", 3, 4, now, 60000), got;
	char sk[256], uk[256], nk[256];
	key(sk, sizeof(sk), prefix, "s:", s.id);
	key(uk, sizeof(uk), prefix, "u:", "3:4");
	key(nk, sizeof(nk), prefix, "n:", "OX-1");

	freeReplyObject(admin_cmd("SET %s x", sk));
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), -1);
	test_assert(strstr(session_store_error(), "WRONGTYPE") != NULL);
	test_assert_int_eq(st->ops->remove(st, s.id), -1);
	test_assert_int_eq(st->ops->touch(st, &s, now), -1);
	test_assert_int_eq(st->ops->put(st, &s), -1);
	freeReplyObject(admin_cmd("DEL %s", sk));

	/* a complete record with a field that is not a number */
	test_assert_int_eq(st->ops->put(st, &s), 0);
	freeReplyObject(admin_cmd("HSET %s c abc", sk));
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), -1);
	test_assert(strstr(session_store_error(), "malformed (field cid)") != NULL);
	freeReplyObject(admin_cmd("HSET %s c 3 d %b", sk, "0123456789abcdef0123456789abcdef0", 33));
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), -1);
	test_assert(strstr(session_store_error(), "digest") != NULL);
	/* a fragment (some fields only) is an unknown session; so is a record of the layout
	   before digests, which held the secret itself in k */
	freeReplyObject(admin_cmd("HDEL %s d", sk));
	freeReplyObject(admin_cmd("HSET %s k %s", sk, "0123456789abcdef0123456789abcdef"));
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), 0);

	freeReplyObject(admin_cmd("DEL %s", uk));
	freeReplyObject(admin_cmd("SET %s x", uk));
	char ids[4][SESSION_ID_LEN + 1];
	test_assert_int_eq(st->ops->list_user(st, 3, 4, now, ids, 4), -1);
	test_assert(strstr(session_store_error(), "WRONGTYPE") != NULL);

	size_t before = st->ops->count(st);
	freeReplyObject(admin_cmd("DEL %s", nk));
	freeReplyObject(admin_cmd("SET %s x", nk));
	test_assert_int_eq(st->ops->count(st), before);
	struct session_route_count rc[2];
	uint64_t total;
	test_assert_int_eq(session_store_redis_count_all(pool, prefix, now, rc, 2, &total), -1);
	struct session_store_redis_stats stats;
	session_store_redis_stats(st, &stats);
	test_assert(stats.errors >= 8);
	session_store_destroy(&st);
}

static void test_memory(void)
{
	const char *prefix = "tandem:mem:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	const unsigned count = 20000;
	uint64_t now = clock_wall_ms();
	unsigned long long before = used_memory();
	uint64_t t0 = clock_mono_ms();
	for (unsigned i = 0; i < count; i++) {
		/* 4 sessions per user; login, client and address of realistic length */
		struct session s = make("OX-1", 1, i / 4, now + i, 3600000);
		snprintf(s.login, sizeof(s.login), "firstname.lastname%u@example.com", i / 4);
		if (st->ops->put(st, &s) < 0) {
			test_assert(!"put failed");
			break;
		}
	}
	uint64_t took = clock_mono_ms() - t0;
	unsigned long long after = used_memory();
	unsigned long long per = (after - before) / count;
	printf("# Redis memory: %llu bytes per session (%u sessions, used_memory %llu -> %llu); "
	       "%u puts in %llu ms\n",
	       per, count, before, after, count, (unsigned long long)took);
	test_assert(after > before);
	test_assert(per < 1024);
	test_assert_int_eq(st->ops->count(st), count);
	session_store_destroy(&st);
}

#define WORKER_OPS 300

struct worker {
	struct session_store *st;
	int64_t uid;
	int failures;
	struct session s[WORKER_OPS]; /* made beforehand: test_rand() is not thread-safe */
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct session_store *st = w->st;
	for (int i = 0; i < WORKER_OPS; i++) {
		uint64_t now = clock_wall_ms();
		struct session s = w->s[i], got;
		s.created_ms = s.last_ms = now;
		char ids[8][SESSION_ID_LEN + 1];
		if (st->ops->put(st, &s) != 0 || st->ops->get(st, s.id, now, &got) != 1 ||
		    strcmp(got.digest, s.digest) != 0 || st->ops->touch(st, &got, now + 1) != 0 ||
		    st->ops->list_user(st, 1, w->uid, now, ids, 8) != 1 ||
		    st->ops->remove(st, s.id) != 1)
			w->failures++;
	}
	return NULL;
}

/* Many threads share one store and one pool. */
static void test_threads(void)
{
	struct session_store *st = store_new("tandem:thr:v1:", "OX-1");
	static struct worker w[8];
	pthread_t th[8];
	for (int i = 0; i < 8; i++) {
		w[i].st = st;
		w[i].uid = 100 + i;
		w[i].failures = 0;
		for (int j = 0; j < WORKER_OPS; j++)
			w[i].s[j] = make("OX-1", 1, w[i].uid, 0, 60000);
	}
	for (int i = 0; i < 8; i++)
		test_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		test_assert_int_eq(w[i].failures, 0);
	}
	test_assert_int_eq(st->ops->count(st), 0);
	struct session_store_redis_stats stats;
	session_store_redis_stats(st, &stats);
	test_assert_int_eq(stats.errors, 0);
	session_store_destroy(&st);
}

/* A frozen Redis: every op gives up within the pool's timeouts. */
static void test_redis_frozen(void)
{
	struct session_store *st = store_new("tandem:frozen:v1:", "OX-1");
	uint64_t now = clock_wall_ms();
	struct session s = make("OX-1", 1, 1, now, 60000), got;
	test_assert_int_eq(st->ops->put(st, &s), 0);
	test_redis_signal(SIGSTOP);
	uint64_t t0 = clock_mono_ms();
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), -1);
	uint64_t took = clock_mono_ms() - t0;
	printf("# frozen Redis: get failed after %llu ms: %s\n", (unsigned long long)took,
	       session_store_error());
	test_assert(took < 2000);
	t0 = clock_mono_ms();
	test_assert_int_eq(st->ops->put(st, &s), -1);
	test_assert(clock_mono_ms() - t0 < 2000);
	test_redis_signal(SIGCONT);
	uint64_t deadline = clock_mono_ms() + 6000;
	int r;
	while ((r = st->ops->get(st, s.id, now, &got)) < 0 && clock_mono_ms() < deadline)
		sleep_ms(50);
	test_assert_int_eq(r, 1);
	session_store_destroy(&st);
}

static void test_redis_down(void)
{
	const char *prefix = "tandem:down:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	uint64_t now = clock_wall_ms();
	struct session s = make("OX-1", 1, 1, now, 60000), got;
	char ids[4][SESSION_ID_LEN + 1];
	struct session_route_count rc[2];
	uint64_t total;
	test_assert_int_eq(st->ops->put(st, &s), 0);
	test_assert_int_eq(st->ops->count(st), 1);
	test_redis_signal(SIGKILL);
	uint64_t start = clock_mono_ms();
	for (int round = 0; round < 3; round++) {
		struct {
			const char *name;
			int r;
			uint64_t ms;
			char error[256];
		} ops[6];
		unsigned n = 0;
#define RUN_OP(label, expr)                                                                        \
	do {                                                                                       \
		uint64_t t = clock_mono_ms();                                                      \
		session_store_set_error("%s", "");                                                 \
		ops[n].name = label;                                                               \
		ops[n].r = (expr);                                                                 \
		ops[n].ms = clock_mono_ms() - t;                                                   \
		snprintf(ops[n].error, sizeof(ops[n].error), "%s", session_store_error());         \
		n++;                                                                               \
	} while (0)
		RUN_OP("get", st->ops->get(st, s.id, now, &got));
		RUN_OP("put", st->ops->put(st, &s));
		RUN_OP("touch", st->ops->touch(st, &s, now));
		RUN_OP("remove", st->ops->remove(st, s.id));
		RUN_OP("list_user", st->ops->list_user(st, 1, 1, now, ids, 4));
		RUN_OP("count_all",
		       session_store_redis_count_all(pool, prefix, now, rc, 2, &total));
#undef RUN_OP
		for (unsigned i = 0; i < n; i++) {
			test_set_context(ops[i].name);
			test_assert_int_eq(ops[i].r, -1);
			test_assert(ops[i].ms < 2000);
			test_assert(strstr(ops[i].error, "127.0.0.1") != NULL);
			if (round == 0)
				printf("# Redis down: %s -> %d in %llu ms: %s\n", ops[i].name,
				       ops[i].r, (unsigned long long)ops[i].ms, ops[i].error);
		}
		test_set_context(NULL);
		uint64_t t = clock_mono_ms();
		test_assert_int_eq(st->ops->count(st), 1); /* the last count it knew */
		test_assert(clock_mono_ms() - t < 2000);
	}
	test_assert(clock_mono_ms() - start < 10000);
	struct redis_pool_stats pst;
	redis_pool_stats(pool, &pst);
	test_assert(pst.fast_fails > 0);

	/* back on the same port (empty): the same store works again by itself */
	test_redis_start();
	uint64_t deadline = clock_mono_ms() + 6000;
	int r;
	while ((r = st->ops->put(st, &s)) < 0 && clock_mono_ms() < deadline)
		sleep_ms(50);
	test_assert_int_eq(r, 0);
	test_assert_int_eq(st->ops->get(st, s.id, now, &got), 1);
	test_assert_int_eq(st->ops->touch(st, &got, now + 1), 0);
	test_assert_int_eq(st->ops->list_user(st, 1, 1, now, ids, 4), 1);
	test_assert_int_eq(st->ops->count(st), 1);
	test_assert_int_eq(session_store_redis_count_all(pool, prefix, now, rc, 2, &total), 1);
	test_assert_int_eq(st->ops->remove(st, s.id), 1);
	session_store_destroy(&st);
}

static void test_revoke(void)
{
	const char *prefix = "tandem:rv:v1:";
	struct session_store *st = store_new(prefix, "OX-1");
	struct session_store *st2 = store_new(prefix, "OX-2");
	uint64_t now = clock_wall_ms(), gen = 99;
	struct session got;
	test_assert_int_eq(st->ops->generation(st, 5, &gen), 0);
	test_assert_int_eq(gen, 0);
	struct session a = make("OX-1", 5, 6, now, 60000), b = make("OX-2", 5, 6, now, 60000);
	struct session c = make("OX-1", 5, 7, now, 60000), d = make("OX-1", 9, 6, now, 60000);
	test_assert_int_eq(st->ops->put(st, &a), 0);
	test_assert_int_eq(st2->ops->put(st2, &b), 0);
	test_assert_int_eq(st->ops->put(st, &c), 0);
	test_assert_int_eq(st->ops->put(st, &d), 0);
	char ck[256], uk[256], nk[256];
	key(ck, sizeof(ck), prefix, "c:", "5");
	key(uk, sizeof(uk), prefix, "u:", "5:6");
	key(nk, sizeof(nk), prefix, "n:", "OX-2");
	test_assert_int_eq(admin_int("SCARD %s", ck, NULL), 2);
	/* one user, sessions made on two nodes; the indexes lose them too */
	test_assert_int_eq(st->ops->revoke(st, 5, 6), 2);
	test_assert_int_eq(st2->ops->get(st2, a.id, now, &got), 0);
	test_assert_int_eq(st->ops->get(st, b.id, now, &got), 0);
	test_assert_int_eq(admin_int("EXISTS %s", uk, NULL), 0);
	test_assert_int_eq(admin_zscore(nk, b.id), -1);
	test_assert_int_eq(st->ops->get(st, c.id, now, &got), 1);
	/* a put with the generation from before the revocation is taken back */
	struct session late = make("OX-1", 5, 6, now, 60000);
	test_assert_int_eq(st->ops->put(st, &late), 1);
	test_assert_int_eq(st->ops->get(st, late.id, now, &got), 0);
	test_assert_int_eq(admin_int("EXISTS %s", uk, NULL), 0);
	test_assert_int_eq(st->ops->generation(st, 5, &gen), 0);
	test_assert_int_eq(gen, 1);
	late.gen = 1;
	test_assert_int_eq(st->ops->put(st, &late), 0);
	/* the context: every user, the other context untouched */
	test_assert_int_eq(st2->ops->revoke(st2, 5, 0), 2);
	test_assert_int_eq(st->ops->get(st, c.id, now, &got), 0);
	test_assert_int_eq(st->ops->get(st, late.id, now, &got), 0);
	test_assert_int_eq(st->ops->get(st, d.id, now, &got), 1);
	test_assert_int_eq(admin_int("EXISTS %s", ck, NULL), 0);
	test_assert_int_eq(st->ops->generation(st, 5, &gen), 0);
	test_assert_int_eq(gen, 2);
	test_assert_int_eq(st->ops->revoke(st, 77, 0), 0);
	/* nothing in the store holds a secret's clear value: the record has a digest only */
	char sk[256];
	key(sk, sizeof(sk), prefix, "s:", d.id);
	test_assert_int_eq(admin_int("HEXISTS %s %s", sk, "k"), 0);
	test_assert_int_eq(admin_int("HEXISTS %s %s", sk, "d"), 1);
	session_store_destroy(&st);
	session_store_destroy(&st2);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"round trip", test_round_trip},
	    {"expiry", test_expiry},
	    {"touch", test_touch},
	    {"remove", test_remove},
	    {"list user", test_list_user},
	    {"counts", test_counts},
	    {"wait", test_wait},
	    {"stream head", test_stream_head},
	    {"bad data", test_bad_data},
	    {"memory", test_memory},
	    {"threads", test_threads},
	    {"redis frozen", test_redis_frozen},
	    {"redis down", test_redis_down},
	    {"revoke", test_revoke},
	    {NULL, NULL},
	};
	test_redis_start();
	pool = test_redis_pool(500);
	int ret = test_run(cases);
	redis_pool_destroy(&pool);
	test_redis_stop();
	return ret;
}
