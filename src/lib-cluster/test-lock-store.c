/* SPDX-License-Identifier: MIT */
/* WebDAV lock store, the same cases against the memory store and the Redis store (a real
   redis-server started by the test): conflicts, refresh, unlock, expiry, listing, removal,
   limits; then Redis only: two nodes, the key's lifetime, bad records, the ACL user's
   commands, racing nodes, Redis frozen, Redis down and back. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "lock-store-redis.h"
#include "pool.h"
#include "redis.h"
#include "test-redis-server.h"
#include "test.h"

#define PREFIX    "tandem:lt:v1:"
#define MAX_LOCKS 8

static struct redis_pool *pool;
static int64_t next_cid = 100;
static struct pool *mp;

static struct lock_store *store_new(bool redis, struct redis_pool *p)
{
	if (!redis)
		return lock_store_memory_create(MAX_LOCKS);
	struct lock_store_redis_settings set = {
	    .pool = p, .prefix = PREFIX, .max_locks = MAX_LOCKS};
	const char *error = NULL;
	struct lock_store *st = lock_store_redis_create(&set, &error);
	test_assert(st != NULL);
	return st;
}

static struct lock_request req(int64_t cid, const char *path, enum lock_depth depth,
                               enum lock_scope scope)
{
	return (struct lock_request){.cid = cid,
	                             .path = path,
	                             .depth = depth,
	                             .scope = scope,
	                             .principal = 7,
	                             .timeout_s = 600};
}

/* Takes a lock and checks the answer; the new (or conflicting) lock in *l_r. */
static enum lock_status take(struct lock_store *st, struct lock_request r, struct lock *l_r)
{
	const char *error = NULL;
	enum lock_status s = lock_store_lock(st, mp, &r, l_r, &error);
	test_assert((s == LOCK_OK) == (error == NULL));
	return s;
}

static size_t covering(struct lock_store *st, int64_t cid, const char *path, struct lock **locks_r)
{
	const char *error;
	size_t n = 99;
	test_assert_int_eq(lock_store_covering(st, mp, cid, path, locks_r, &n, &error), LOCK_OK);
	return n;
}

static size_t below(struct lock_store *st, int64_t cid, const char *path)
{
	const char *error;
	struct lock *locks;
	size_t n = 99;
	test_assert_int_eq(lock_store_below(st, mp, cid, path, &locks, &n, &error), LOCK_OK);
	return n;
}

#define X    LOCK_SCOPE_EXCLUSIVE
#define S    LOCK_SCOPE_SHARED
#define D0   LOCK_DEPTH_0
#define DINF LOCK_DEPTH_INFINITY

/* ---------------------------------------------------------------- both stores */

static void case_basic(struct lock_store *st, int64_t cid)
{
	struct lock l, c, *locks;
	const char *error;
	struct lock_request r = req(cid, "/dav/files/home/42/a/b.txt", D0, X);
	r.owner = "<D:href>mailto:alice@example.com</D:href>";
	r.owner_len = strlen(r.owner);
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert(strncmp(l.token, "urn:uuid:", 9) == 0 && strlen(l.token) == 45);
	test_assert(l.token[23] == '4'); /* version 4 */
	test_assert_int_eq(l.cid, cid);
	test_assert_str_eq(l.path, r.path);
	test_assert_int_eq(l.depth, D0);
	test_assert_int_eq(l.scope, X);
	test_assert_int_eq(l.principal, 7);
	test_assert(l.owner_len == r.owner_len && memcmp(l.owner, r.owner, r.owner_len) == 0);
	test_assert_int_eq(l.timeout_s, 600);
	test_assert(l.remaining_s >= 599 && l.remaining_s <= 600);
	test_assert(!l.lock_null);
	test_assert_int_eq(covering(st, cid, r.path, &locks), 1);
	test_assert_str_eq(locks[0].token, l.token);
	test_assert_int_eq(locks[0].expires_ms, l.expires_ms);
	/* exclusive: a second lock of either scope conflicts, even for the same principal */
	test_assert_int_eq(take(st, r, &c), LOCK_CONFLICT);
	test_assert_str_eq(c.token, l.token);
	test_assert_str_eq(c.path, r.path);
	r.scope = S;
	test_assert_int_eq(take(st, r, &c), LOCK_CONFLICT);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, r.path, 7, &error), LOCK_OK);
	test_assert(error == NULL);
	test_assert_int_eq(covering(st, cid, r.path, &locks), 0);
	test_assert(locks == NULL);
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	/* another context does not see it */
	r.cid = cid + 1;
	r.scope = X;
	test_assert_int_eq(take(st, r, &c), LOCK_OK);
	test_assert(strcmp(c.token, l.token) != 0);
}

static void case_shared(struct lock_store *st, int64_t cid)
{
	struct lock a, b, c, *locks;
	const char *error;
	test_assert_int_eq(take(st, req(cid, "/f", D0, S), &a), LOCK_OK);
	struct lock_request r = req(cid, "/f", D0, S);
	r.principal = 8;
	test_assert_int_eq(take(st, r, &b), LOCK_OK);
	test_assert_int_eq(covering(st, cid, "/f", &locks), 2);
	test_assert_int_eq(take(st, req(cid, "/f", D0, X), &c), LOCK_CONFLICT);
	test_assert(strcmp(c.token, a.token) == 0 || strcmp(c.token, b.token) == 0);
	/* an exclusive depth-infinity lock on the parent conflicts with them too */
	test_assert_int_eq(take(st, req(cid, "/", DINF, X), &c), LOCK_CONFLICT);
	test_assert_str_eq(c.path, "/f");
	test_assert_int_eq(lock_store_unlock(st, cid, a.token, "/f", 7, &error), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/f", D0, X), &c), LOCK_CONFLICT);
	test_assert_int_eq(lock_store_unlock(st, cid, b.token, "/f", 8, &error), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/f", D0, X), &c), LOCK_OK);
}

static void case_ancestors(struct lock_store *st, int64_t cid)
{
	struct lock l, c, *locks;
	test_assert_int_eq(take(st, req(cid, "/d", DINF, X), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/d/e/f", D0, S), &c), LOCK_CONFLICT);
	test_assert_str_eq(c.path, "/d");
	test_assert_str_eq(c.token, l.token);
	test_assert_int_eq(covering(st, cid, "/d/e/f", &locks), 1);
	test_assert_str_eq(locks[0].path, "/d");
	/* a name that merely starts alike is no member */
	test_assert_int_eq(take(st, req(cid, "/dd", D0, X), &c), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/d.txt", D0, X), &c), LOCK_OK);
	test_assert_int_eq(covering(st, cid, "/dd", &locks), 1);
	/* depth 0 on a collection leaves its members free */
	test_assert_int_eq(take(st, req(cid, "/x", D0, X), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/x/y", DINF, X), &c), LOCK_OK);
	test_assert_int_eq(covering(st, cid, "/x/y/z", &locks), 1);
	test_assert_str_eq(locks[0].path, "/x/y");
	/* shared depth infinity: shared members fine, exclusive ones not */
	test_assert_int_eq(take(st, req(cid, "/s", DINF, S), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/s/t", D0, S), &c), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/s/t/u", D0, X), &c), LOCK_CONFLICT);
	test_assert_str_eq(c.path, "/s");
	test_assert_int_eq(covering(st, cid, "/s/t", &locks), 2);
	/* "/" with depth infinity covers every path of the context */
	int64_t other = cid + 1;
	test_assert_int_eq(take(st, req(other, "/", DINF, X), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(other, "/any/where", D0, S), &c), LOCK_CONFLICT);
	test_assert_str_eq(c.path, "/");
	test_assert_int_eq(covering(st, other, "/any/where", &locks), 1);
	test_assert_int_eq(covering(st, other, "/", &locks), 1);
}

static void case_descendants(struct lock_store *st, int64_t cid)
{
	struct lock l, c;
	test_assert_int_eq(take(st, req(cid, "/c/d/e", D0, X), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/c", DINF, S), &c), LOCK_CONFLICT);
	test_assert_str_eq(c.path, "/c/d/e");
	test_assert_int_eq(take(st, req(cid, "/", DINF, X), &c), LOCK_CONFLICT);
	test_assert_str_eq(c.path, "/c/d/e");
	test_assert_int_eq(take(st, req(cid, "/c", D0, X), &c), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/c/d/ee", DINF, X), &c), LOCK_OK);
	/* shared below, shared depth infinity above: compatible */
	test_assert_int_eq(take(st, req(cid, "/p/q", D0, S), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/p", DINF, S), &c), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/p", DINF, X), &c), LOCK_CONFLICT);
}

static void case_refresh(struct lock_store *st, int64_t cid)
{
	struct lock l, got;
	const char *error;
	struct lock_request r = req(cid, "/r", DINF, X);
	r.timeout_s = 100;
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(l.timeout_s, 100);
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/r", 7, 200, &got, &error),
	                   LOCK_OK);
	test_assert_int_eq(got.timeout_s, 200);
	test_assert(got.remaining_s > 150 && got.remaining_s <= 200);
	test_assert(got.expires_ms > l.expires_ms);
	test_assert_str_eq(got.path, "/r");
	test_assert_int_eq(got.depth, DINF);
	/* through a member of the depth-infinity lock, by anyone when principal is 0 */
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/r/s/t", 0, 300, &got, &error),
	                   LOCK_OK);
	test_assert_int_eq(got.timeout_s, 300);
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/rr", 7, 300, &got, &error),
	                   LOCK_NOT_COVERED);
	test_assert(error != NULL && strstr(error, "does not apply") != NULL);
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/r", 9, 300, &got, &error),
	                   LOCK_NOT_OWNER);
	test_assert_int_eq(lock_store_refresh(st, mp, cid + 1, l.token, "/r", 7, 300, &got, &error),
	                   LOCK_NOT_FOUND);
	char other[LOCK_TOKEN_SIZE];
	memcpy(other, l.token, sizeof(other));
	other[10] = other[10] == '0' ? '1' : '0';
	test_assert_int_eq(lock_store_refresh(st, mp, cid, other, "/r", 7, 300, &got, &error),
	                   LOCK_NOT_FOUND);
	test_assert_int_eq(lock_store_refresh(st, mp, cid,
	                                      "opaquelocktoken:e71d4fae-5dec-22d6-fea5", "/r", 7,
	                                      300, &got, &error),
	                   LOCK_NOT_FOUND);
	/* timeouts: 0 and "Infinite" (anything past the maximum) get the maximum */
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/r", 7, 0, &got, &error),
	                   LOCK_OK);
	test_assert_int_eq(got.timeout_s, LOCK_TIMEOUT_MAX);
	test_assert_int_eq(
	    lock_store_refresh(st, mp, cid, l.token, "/r", 7, 4100000000u, &got, &error), LOCK_OK);
	test_assert_int_eq(got.timeout_s, LOCK_TIMEOUT_MAX);
}

static void case_unlock(struct lock_store *st, int64_t cid)
{
	struct lock l, d;
	const char *error;
	test_assert_int_eq(take(st, req(cid, "/u", D0, X), &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/v", DINF, X), &d), LOCK_OK);
	/* depth 0 does not cover a member; a token of another resource does not either */
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/u/x", 7, &error),
	                   LOCK_NOT_COVERED);
	test_assert_int_eq(lock_store_unlock(st, cid, d.token, "/u", 7, &error), LOCK_NOT_COVERED);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/u", 8, &error), LOCK_NOT_OWNER);
	test_assert(error != NULL && strstr(error, "another user") != NULL);
	test_assert_int_eq(lock_store_unlock(st, cid, "urn:uuid:nonsense", "/u", 7, &error),
	                   LOCK_NOT_FOUND);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/u/", 7, &error), LOCK_INVALID);
	struct lock *locks;
	test_assert_int_eq(covering(st, cid, "/u", &locks), 1);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/u", 7, &error), LOCK_OK);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/u", 7, &error), LOCK_NOT_FOUND);
	/* a depth-infinity lock is unlocked through a member, by principal 0 too */
	test_assert_int_eq(lock_store_unlock(st, cid, d.token, "/v/w", 0, &error), LOCK_OK);
	test_assert_int_eq(covering(st, cid, "/v", &locks), 0);
}

/* Polls until path has n covering locks or the deadline passes. */
static bool wait_covering(struct lock_store *st, int64_t cid, const char *path, size_t n,
                          unsigned ms)
{
	uint64_t deadline = clock_mono_ms() + ms;
	struct lock *locks;
	for (;;) {
		if (covering(st, cid, path, &locks) == n)
			return true;
		if (clock_mono_ms() > deadline)
			return false;
		test_sleep_ms(50);
	}
}

static void case_expiry(struct lock_store *st, int64_t cid)
{
	struct lock l, got, *locks;
	const char *error;
	struct lock_request r = req(cid, "/e", DINF, X);
	r.timeout_s = 1;
	uint64_t t0 = clock_mono_ms();
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(l.remaining_s, 1);
	test_assert_int_eq(covering(st, cid, "/e/f", &locks), 1);
	test_assert(wait_covering(st, cid, "/e/f", 0, 5000));
	test_assert(clock_mono_ms() - t0 >=
	            900); /* not before its time (clocks may differ a bit) */
	/* expired: invisible, the path free again, the token unknown */
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/e", 7, 60, &got, &error),
	                   LOCK_NOT_FOUND);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/e", 7, &error), LOCK_NOT_FOUND);
	test_assert_int_eq(take(st, req(cid, "/e/f", D0, X), &got), LOCK_OK);
	/* a refresh restarts the timeout */
	test_assert_int_eq(take(st, r, &l), LOCK_CONFLICT);
	r.path = "/g";
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	t0 = clock_mono_ms();
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/g", 7, 3, &got, &error),
	                   LOCK_OK);
	test_sleep_ms(1500);
	if (clock_mono_ms() - t0 < 2500) /* a stalled machine proves nothing here */
		test_assert_int_eq(covering(st, cid, "/g", &locks), 1);
	test_assert(wait_covering(st, cid, "/g", 0, 6000));
}

static void case_below_remove(struct lock_store *st, int64_t cid)
{
	struct lock l, *locks;
	const char *error;
	size_t removed = 99;
	static const char *const paths[] = {"/t", "/t/a", "/t/a/b", "/t2", "/u/t"};
	for (size_t i = 0; i < 5; i++)
		test_assert_int_eq(take(st, req(cid, paths[i], D0, X), &l), LOCK_OK);
	test_assert_int_eq(below(st, cid, "/t"), 3);
	test_assert_int_eq(below(st, cid, "/t/a/b"), 1);
	test_assert_int_eq(below(st, cid, "/t/a/b/c"), 0);
	test_assert_int_eq(below(st, cid, "/"), 5);
	test_assert_int_eq(below(st, cid + 1, "/"), 0);
	test_assert_int_eq(lock_store_remove_tree(st, cid, "/t/a", &removed, &error), LOCK_OK);
	test_assert_int_eq(removed, 2);
	test_assert_int_eq(below(st, cid, "/t"), 1);
	test_assert_int_eq(covering(st, cid, "/t2", &locks), 1);
	test_assert_int_eq(lock_store_remove_tree(st, cid, "/t/a", &removed, &error), LOCK_OK);
	test_assert_int_eq(removed, 0);
	/* the source's locks go with a MOVE; the path is free for a new lock */
	test_assert_int_eq(take(st, req(cid, "/t/a/b", D0, X), &l), LOCK_OK);
	test_assert_int_eq(lock_store_remove_tree(st, cid, "/", &removed, &error), LOCK_OK);
	test_assert_int_eq(removed, 4);
	test_assert_int_eq(below(st, cid, "/"), 0);
}

static void case_fields(struct lock_store *st, int64_t cid)
{
	struct lock l, *locks;
	/* the owner is bytes: NULs, non-ASCII, spaces and the record's own separators */
	static const char owner[] = "<D:owner>\0 1 99 i x 1 \xc3\xa4 </D:owner>";
	struct lock_request r = req(cid, "/lock null/ä b.txt", D0, S);
	r.owner = owner;
	r.owner_len = sizeof(owner) - 1;
	r.lock_null = true;
	r.principal = -5;
	r.timeout_s = 0;
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(l.timeout_s, LOCK_TIMEOUT_MAX);
	test_assert_int_eq(below(st, cid, "/lock null"), 1);
	test_assert_int_eq(covering(st, cid, r.path, &locks), 1);
	test_assert(locks[0].lock_null);
	test_assert_int_eq(locks[0].principal, -5);
	test_assert_int_eq(locks[0].scope, S);
	test_assert_int_eq(locks[0].owner_len, sizeof(owner) - 1);
	test_assert(memcmp(locks[0].owner, owner, sizeof(owner) - 1) == 0);
	/* a PUT made the resource: no longer lock-null, the rest of the lock unchanged */
	size_t changed = 99;
	const char *error;
	test_assert_int_eq(lock_store_mapped(st, cid, "/lock null", &changed, &error), LOCK_OK);
	test_assert_int_eq(changed, 0);
	test_assert_int_eq(lock_store_mapped(st, cid, r.path, &changed, &error), LOCK_OK);
	test_assert_int_eq(changed, 1);
	test_assert_int_eq(lock_store_mapped(st, cid, r.path, &changed, &error), LOCK_OK);
	test_assert_int_eq(changed, 0);
	test_assert_int_eq(covering(st, cid, r.path, &locks), 1);
	test_assert(!locks[0].lock_null);
	test_assert_str_eq(locks[0].token, l.token);
	test_assert_str_eq(locks[0].path, r.path);
	test_assert_int_eq(locks[0].principal, -5);
	test_assert_int_eq(locks[0].scope, S);
	test_assert_int_eq(locks[0].expires_ms, l.expires_ms);
	test_assert(locks[0].owner_len == sizeof(owner) - 1 &&
	            memcmp(locks[0].owner, owner, sizeof(owner) - 1) == 0);
	/* no owner: NULL and 0; a mapped resource: not lock-null */
	test_assert_int_eq(take(st, req(cid, "/plain", DINF, X), &l), LOCK_OK);
	test_assert_int_eq(covering(st, cid, "/plain/x", &locks), 1);
	test_assert(locks[0].owner == NULL && locks[0].owner_len == 0);
	test_assert(!locks[0].lock_null);
	/* a path at the limit and an owner at the limit are fine */
	static char long_path[LOCK_PATH_MAX + 1], big_owner[LOCK_OWNER_MAX];
	memset(long_path, 'p', LOCK_PATH_MAX);
	long_path[0] = '/';
	memset(big_owner, 'o', sizeof(big_owner));
	r = req(cid, long_path, D0, X);
	r.owner = big_owner;
	r.owner_len = sizeof(big_owner);
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(strlen(l.path), LOCK_PATH_MAX);
	test_assert_int_eq(l.owner_len, LOCK_OWNER_MAX);
}

static void case_limits(struct lock_store *st, int64_t cid)
{
	struct lock l, first;
	const char *error = NULL;
	char path[32];
	for (int i = 0; i < MAX_LOCKS; i++) {
		snprintf(path, sizeof(path), "/m%d", i);
		test_assert_int_eq(take(st, req(cid, path, D0, X), i == 0 ? &first : &l), LOCK_OK);
	}
	struct lock_request r = req(cid, "/one-more", D0, X);
	test_assert_int_eq(lock_store_lock(st, mp, &r, &l, &error), LOCK_LIMIT);
	test_assert(error != NULL && strstr(error, "maximum") != NULL);
	printf("# limit: %s\n", error);
	/* another context has its own budget; an unlock makes room */
	test_assert_int_eq(take(st, req(cid + 1, "/one-more", D0, X), &l), LOCK_OK);
	test_assert_int_eq(lock_store_unlock(st, cid, first.token, "/m0", 7, &error), LOCK_OK);
	test_assert_int_eq(take(st, r, &l), LOCK_OK);

	/* bad arguments: clear messages, nothing stored */
	static const char *const bad[] = {"", "a", "/a/", "//", "/a//b", "/./a", "/a/..", "/a/./b"};
	size_t removed;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		r = req(cid + 2, bad[i], D0, X);
		test_assert_int_eq(lock_store_lock(st, mp, &r, &l, &error), LOCK_INVALID);
		test_assert(error != NULL && strstr(error, "normalised") != NULL);
		test_assert_int_eq(lock_store_remove_tree(st, cid + 2, bad[i], &removed, &error),
		                   LOCK_INVALID);
	}
	test_set_context(NULL);
	static char too_long[LOCK_PATH_MAX + 2];
	memset(too_long, 'p', LOCK_PATH_MAX + 1);
	too_long[0] = '/';
	r = req(cid + 2, too_long, D0, X);
	test_assert_int_eq(lock_store_lock(st, mp, &r, &l, &error), LOCK_INVALID);
	static char big_owner[LOCK_OWNER_MAX + 1];
	r = req(cid + 2, "/o", D0, X);
	r.owner = big_owner;
	r.owner_len = sizeof(big_owner);
	test_assert_int_eq(lock_store_lock(st, mp, &r, &l, &error), LOCK_INVALID);
	test_assert(strstr(error, "owner") != NULL);
	r = req(cid + 2, "/o", (enum lock_depth)7, X);
	test_assert_int_eq(lock_store_lock(st, mp, &r, &l, &error), LOCK_INVALID);
	test_assert_int_eq(below(st, cid + 2, "/"), 0);
}

/* ---------------------------------------------------------------- runner */

static void run_case(void (*fn)(struct lock_store *st, int64_t cid), bool redis)
{
	struct lock_store *st = store_new(redis, pool);
	mp = pool_create(0);
	int64_t cid = next_cid;
	next_cid += 10;
	fn(st, cid);
	pool_destroy(&mp);
	lock_store_destroy(&st);
	test_assert(st == NULL);
}

#define BOTH(name)                                                                                 \
	static void name##_memory(void)                                                            \
	{                                                                                          \
		run_case(case_##name, false);                                                      \
	}                                                                                          \
	static void name##_redis(void)                                                             \
	{                                                                                          \
		run_case(case_##name, true);                                                       \
	}
BOTH(basic)
BOTH(shared)
BOTH(ancestors)
BOTH(descendants)
BOTH(refresh)
BOTH(unlock)
BOTH(expiry)
BOTH(below_remove)
BOTH(fields)
BOTH(limits)

static void test_paths(void)
{
	test_assert(lock_store_path_valid("/"));
	test_assert(lock_store_path_valid("/a"));
	test_assert(lock_store_path_valid("/a/b c/.d/..e"));
	test_assert(!lock_store_path_valid("a/b"));
	test_assert(!lock_store_path_valid("/a/b/"));
	test_assert(lock_store_is_below("/a/b", "/a"));
	test_assert(lock_store_is_below("/a", "/"));
	test_assert(!lock_store_is_below("/", "/"));
	test_assert(!lock_store_is_below("/a", "/a"));
	test_assert(!lock_store_is_below("/ab", "/a"));
	test_assert(lock_store_covers("/a", LOCK_DEPTH_0, "/a"));
	test_assert(!lock_store_covers("/a", LOCK_DEPTH_0, "/a/b"));
	test_assert(lock_store_covers("/a", LOCK_DEPTH_INFINITY, "/a/b"));
	test_assert(!lock_store_covers("/a/b", LOCK_DEPTH_INFINITY, "/a"));
}

/* ---------------------------------------------------------------- Redis only */

static long long admin_int(const char *fmt, const char *arg)
{
	redisReply *r = test_redis_cmd(fmt, arg);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	freeReplyObject(r);
	return v;
}

static void ctx_key(char *out, size_t size, const char *kind, int64_t cid)
{
	snprintf(out, size, PREFIX "%s:%lld", kind, (long long)cid);
}

/* Two nodes: two pools, two stores, the same Redis. */
static void test_two_nodes(void)
{
	struct redis_pool *pool2 = test_redis_pool(500);
	struct lock_store *a = store_new(true, pool), *b = store_new(true, pool2);
	mp = pool_create(0);
	int64_t cid = next_cid++;
	struct lock l, c, *locks;
	const char *error;
	test_assert_int_eq(take(a, req(cid, "/dav/files/home/1", DINF, X), &l), LOCK_OK);
	test_assert_int_eq(take(b, req(cid, "/dav/files/home/1/doc.odt", D0, S), &c),
	                   LOCK_CONFLICT);
	test_assert_str_eq(c.token, l.token);
	test_assert_int_eq(c.expires_ms, l.expires_ms);
	test_assert_int_eq(covering(b, cid, "/dav/files/home/1/doc.odt", &locks), 1);
	test_assert_str_eq(locks[0].token, l.token);
	test_assert_int_eq(
	    lock_store_refresh(b, mp, cid, l.token, "/dav/files/home/1", 7, 60, &c, &error),
	    LOCK_OK);
	test_assert_int_eq(covering(a, cid, "/dav/files/home/1", &locks), 1);
	test_assert_int_eq(locks[0].timeout_s, 60);
	test_assert_int_eq(lock_store_unlock(b, cid, l.token, "/dav/files/home/1", 7, &error),
	                   LOCK_OK);
	test_assert_int_eq(covering(a, cid, "/dav/files/home/1", &locks), 0);
	test_assert_int_eq(take(a, req(cid, "/dav/files/home/1/doc.odt", D0, S), &c), LOCK_OK);
	pool_destroy(&mp);
	lock_store_destroy(&a);
	lock_store_destroy(&b);
	redis_pool_destroy(&pool2);
}

/* The hash and its index live a minute past the longest timeout and go with the last lock;
   records nobody can read are dropped, at the latest when the context reaches its limit. */
static void test_key_lifetime(void)
{
	struct lock_store *st = store_new(true, pool);
	mp = pool_create(0);
	int64_t cid = next_cid++;
	char hkey[128], xkey[128];
	ctx_key(hkey, sizeof(hkey), "lk", cid);
	ctx_key(xkey, sizeof(xkey), "lx", cid);
	struct lock l, *locks;
	const char *error;
	struct lock_request r = req(cid, "/k", D0, X);
	r.timeout_s = 100;
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	for (int i = 0; i < 2; i++) {
		long long pttl = admin_int("PTTL %s", i == 0 ? hkey : xkey);
		test_assert(pttl > 100000 && pttl <= 160000);
	}
	r.path = "/k2";
	r.timeout_s = 1000;
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert(admin_int("PTTL %s", xkey) > 1000000);
	test_assert_int_eq(admin_int("ZCARD %s", xkey), 2);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/k2", 7, &error), LOCK_OK);
	test_assert_int_eq(admin_int("ZCARD %s", xkey), 1);
	test_assert(admin_int("PTTL %s", hkey) > 1000000); /* never shortened */

	/* garbage: records that do not decode, an index entry without a record */
	for (int i = 0; i < MAX_LOCKS - 1; i++)
		freeReplyObject(test_redis_cmd("HSET %s urn:uuid:bad%d garbage", hkey, i));
	freeReplyObject(test_redis_cmd("ZADD %s 0 %b", xkey, "/k\0urn:uuid:gone", (size_t)17));
	test_assert_int_eq(covering(st, cid, "/k", &locks), 1);
	test_assert_int_eq(admin_int("ZCARD %s", xkey), 1); /* the stale entry went */
	test_assert_int_eq(admin_int("HLEN %s", hkey), MAX_LOCKS);
	/* at the limit the whole hash is checked: the garbage goes, the lock is granted */
	r.path = "/k3";
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(admin_int("HLEN %s", hkey), 2);
	size_t n;
	test_assert_int_eq(lock_store_remove_tree(st, cid, "/", &n, &error), LOCK_OK);
	test_assert_int_eq(n, 2);
	test_assert_int_eq(admin_int("EXISTS %s", hkey), 0);
	test_assert_int_eq(admin_int("EXISTS %s", xkey), 0);

	/* a record that decodes in the script but not in C (a foreign token): an error */
	freeReplyObject(test_redis_cmd("HSET %s %s %s", hkey, "not-a-token",
	                               "1 99999999999999 5 0 x 0 7 2 /z"));
	freeReplyObject(test_redis_cmd("ZADD %s 0 %b", xkey, "/z\0not-a-token", (size_t)14));
	test_assert_int_eq(lock_store_covering(st, mp, cid, "/z", &locks, &n, &error), LOCK_ERROR);
	test_assert(strstr(error, "malformed lock record (token)") != NULL);
	printf("# bad record: %s\n", error);
	freeReplyObject(test_redis_cmd("DEL %s %s", hkey, xkey));
	pool_destroy(&mp);
	lock_store_destroy(&st);
}

/* As the ACL user docs/cluster.md describes, limited to the commands the script needs. */
static void test_acl_user(void)
{
	freeReplyObject(test_redis_cmd("ACL SETUSER locks on >pw resetkeys ~tandem:* "
	                               "resetchannels -@all +role +eval +time +hget +hset +hdel "
	                               "+hlen +hgetall +zadd +zrem +zrangebylex +pexpire +del"));
	char url[96];
	snprintf(url, sizeof(url), "redis://locks:pw@127.0.0.1:%u", test_redis_port());
	struct redis_url u;
	const char *error;
	test_assert(redis_url_parse(url, &u, &error) == 0);
	struct redis_settings set;
	redis_settings_default(&set);
	struct redis_pool *p = redis_pool_create(&u, &set);
	struct lock_store *st = store_new(true, p);
	mp = pool_create(0);
	int64_t cid = next_cid++;
	struct lock l, c;
	size_t removed;
	struct lock_request r = req(cid, "/acl", DINF, X);
	r.timeout_s = 1;
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(take(st, req(cid, "/acl/x", D0, X), &c), LOCK_CONFLICT);
	test_assert_int_eq(lock_store_refresh(st, mp, cid, l.token, "/acl", 7, 60, &c, &error),
	                   LOCK_OK);
	test_assert_int_eq(lock_store_unlock(st, cid, l.token, "/acl", 7, &error), LOCK_OK);
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert(wait_covering(st, cid, "/acl", 0, 5000)); /* expired records pruned */
	test_assert_int_eq(take(st, r, &l), LOCK_OK);
	test_assert_int_eq(lock_store_remove_tree(st, cid, "/", &removed, &error), LOCK_OK);
	test_assert_int_eq(removed, 1);
	/* without TIME the script fails: a store error naming the cause */
	freeReplyObject(test_redis_cmd("ACL SETUSER locks -time"));
	test_assert_int_eq(lock_store_lock(st, mp, &r, &l, &error), LOCK_ERROR);
	test_assert(error != NULL && strstr(error, "127.0.0.1") != NULL);
	printf("# without +time: %s\n", error);
	pool_destroy(&mp);
	lock_store_destroy(&st);
	redis_pool_destroy(&p);
	freeReplyObject(test_redis_cmd("ACL DELUSER locks"));
}

/* Nodes racing for the same exclusive lock: exactly one wins each round. */
struct racer {
	struct lock_store *st;
	int64_t cid;
	const char *path;
	enum lock_depth depth;
	pthread_barrier_t *go;
	enum lock_status result;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct pool *p = pool_create(0);
	struct lock l;
	const char *error;
	struct lock_request rq = req(r->cid, r->path, r->depth, X);
	pthread_barrier_wait(r->go);
	r->result = lock_store_lock(r->st, p, &rq, &l, &error);
	pool_destroy(&p);
	return NULL;
}

/* Redis: two stores on two pools (two nodes); memory: one store, four threads. */
static void race_rounds(bool redis)
{
	enum { THREADS = 4, ROUNDS = 20 };
	struct redis_pool *pool2 = redis ? test_redis_pool(2000) : NULL;
	struct lock_store *stores[2] = {store_new(redis, pool), NULL};
	stores[1] = redis ? store_new(true, pool2) : stores[0];
	for (int round = 0; round < ROUNDS; round++) {
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, THREADS);
		struct racer racers[THREADS];
		pthread_t th[THREADS];
		int64_t cid = next_cid++;
		for (int i = 0; i < THREADS; i++) {
			/* odd rounds: all on one file; even rounds: half of them on its parent with
			   depth infinity */
			bool parent = round % 2 == 0 && i % 2 == 0;
			racers[i] = (struct racer){.st = stores[i % 2],
			                           .cid = cid,
			                           .path = parent ? "/race" : "/race/file",
			                           .depth = parent ? DINF : D0,
			                           .go = &go};
			pthread_create(&th[i], NULL, race, &racers[i]);
		}
		int won = 0, lost = 0;
		for (int i = 0; i < THREADS; i++) {
			pthread_join(th[i], NULL);
			won += racers[i].result == LOCK_OK;
			lost += racers[i].result == LOCK_CONFLICT;
		}
		pthread_barrier_destroy(&go);
		test_assert_int_eq(won, 1);
		test_assert_int_eq(lost, THREADS - 1);
	}
	if (redis)
		lock_store_destroy(&stores[1]);
	lock_store_destroy(&stores[0]);
	if (pool2 != NULL)
		redis_pool_destroy(&pool2);
}

static void test_race_memory(void)
{
	race_rounds(false);
}

static void test_race_redis(void)
{
	race_rounds(true);
}

/* A frozen Redis: an operation gives up within the pool's command timeout, and the store
   works again once Redis does. (A write that timed out may still be applied when Redis
   wakes up: the command was sent; see lock-store.h.) */
static void test_redis_frozen(void)
{
	struct lock_store *st = store_new(true, pool);
	mp = pool_create(0);
	int64_t cid = next_cid++;
	struct lock l, *locks;
	const char *error;
	size_t n = 0;
	test_assert_int_eq(take(st, req(cid, "/frozen", D0, X), &l), LOCK_OK);
	test_redis_signal(SIGSTOP);
	uint64_t t0 = clock_mono_ms();
	test_assert_int_eq(lock_store_covering(st, mp, cid, "/frozen", &locks, &n, &error),
	                   LOCK_ERROR);
	uint64_t took = clock_mono_ms() - t0;
	printf("# frozen Redis: covering failed after %llu ms: %s\n", (unsigned long long)took,
	       error);
	test_assert(took < 3000);
	test_assert(strstr(error, "127.0.0.1") != NULL);
	test_redis_signal(SIGCONT);
	uint64_t deadline = clock_mono_ms() + 6000;
	enum lock_status s;
	while ((s = lock_store_covering(st, mp, cid, "/frozen", &locks, &n, &error)) ==
	           LOCK_ERROR &&
	       clock_mono_ms() < deadline)
		test_sleep_ms(50);
	test_assert_int_eq(s, LOCK_OK);
	test_assert_int_eq(n, 1);
	test_assert_str_eq(locks[0].token, l.token);
	pool_destroy(&mp);
	lock_store_destroy(&st);
}

static void test_redis_down(void)
{
	struct lock_store *st = store_new(true, pool);
	mp = pool_create(0);
	int64_t cid = next_cid++;
	struct lock l, *locks;
	const char *error;
	size_t n;
	test_assert_int_eq(take(st, req(cid, "/down", D0, X), &l), LOCK_OK);
	test_redis_signal(SIGKILL);
	for (int round = 0; round < 3; round++) {
		enum lock_status got[5];
		const char *errors[5];
		uint64_t t0 = clock_mono_ms();
		struct lock_request r = req(cid, "/other", D0, X);
		got[0] = lock_store_lock(st, mp, &r, &l, &errors[0]);
		got[1] = lock_store_refresh(st, mp, cid, l.token, "/down", 7, 60, &l, &errors[1]);
		got[2] = lock_store_unlock(st, cid, l.token, "/down", 7, &errors[2]);
		got[3] = lock_store_covering(st, mp, cid, "/down", &locks, &n, &errors[3]);
		got[4] = lock_store_remove_tree(st, cid, "/down", &n, &errors[4]);
		for (int i = 0; i < 5; i++) {
			test_assert_int_eq(got[i], LOCK_ERROR);
			test_assert(errors[i] != NULL && strstr(errors[i], "127.0.0.1") != NULL);
		}
		if (round == 0)
			printf("# Redis down: %s\n", errors[4]);
		test_assert(clock_mono_ms() - t0 < 5000);
	}
	/* back (empty): the same store works again by itself */
	test_redis_start();
	uint64_t deadline = clock_mono_ms() + 6000;
	struct lock_request r = req(cid, "/down", D0, X);
	enum lock_status s;
	while ((s = lock_store_lock(st, mp, &r, &l, &error)) == LOCK_ERROR &&
	       clock_mono_ms() < deadline)
		test_sleep_ms(50);
	test_assert_int_eq(s, LOCK_OK);
	test_assert_int_eq(covering(st, cid, "/down", &locks), 1);
	pool_destroy(&mp);
	lock_store_destroy(&st);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"paths", test_paths},
	    {"basic (memory)", basic_memory},
	    {"basic (redis)", basic_redis},
	    {"shared (memory)", shared_memory},
	    {"shared (redis)", shared_redis},
	    {"ancestors (memory)", ancestors_memory},
	    {"ancestors (redis)", ancestors_redis},
	    {"descendants (memory)", descendants_memory},
	    {"descendants (redis)", descendants_redis},
	    {"refresh (memory)", refresh_memory},
	    {"refresh (redis)", refresh_redis},
	    {"unlock (memory)", unlock_memory},
	    {"unlock (redis)", unlock_redis},
	    {"expiry (memory)", expiry_memory},
	    {"expiry (redis)", expiry_redis},
	    {"below and remove (memory)", below_remove_memory},
	    {"below and remove (redis)", below_remove_redis},
	    {"fields (memory)", fields_memory},
	    {"fields (redis)", fields_redis},
	    {"limits (memory)", limits_memory},
	    {"limits (redis)", limits_redis},
	    {"two nodes", test_two_nodes},
	    {"key lifetime and bad records", test_key_lifetime},
	    {"acl user", test_acl_user},
	    {"race (memory)", test_race_memory},
	    {"race (redis)", test_race_redis},
	    {"redis frozen", test_redis_frozen},
	    {"redis down", test_redis_down},
	    {NULL, NULL},
	};
	test_redis_start();
	pool = test_redis_pool(1000);
	int ret = test_run(cases);
	redis_pool_destroy(&pool);
	test_redis_stop();
	return ret;
}
