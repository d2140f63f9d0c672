/* SPDX-License-Identifier: MIT */
/* Cache: copies in and out, drops, the generation guard, eviction, expiry, threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "test.h"

struct val {
	int64_t uid;
	char text[24];
};

static int get_val(struct cache *c, int64_t cid, int64_t key, struct val *v)
{
	size_t size = 0;
	memset(v, 0, sizeof(*v));
	int r = cache_get(c, cid, key, v, &size);
	if (r > 0)
		test_assert_int_eq(size, sizeof(*v));
	return r;
}

static void put_val(struct cache *c, int64_t cid, int64_t key, int64_t uid, const char *text)
{
	struct val v = {.uid = uid};
	snprintf(v.text, sizeof(v.text), "%s", text);
	test_assert_int_eq(cache_put(c, cid, key, &v, sizeof(v), cache_generation(c)), 1);
}

static void test_get_put(void)
{
	struct cache *c = cache_create("t", 8, sizeof(struct val), 60000);
	struct val v;
	struct cache_stats st;
	test_assert_str_eq(cache_name(c), "t");
	test_assert_int_eq(get_val(c, 1, 10, &v), 0);
	put_val(c, 1, 10, 5, "five");
	put_val(c, 2, 10, 6, "six"); /* same key, other context */
	test_assert_int_eq(get_val(c, 1, 10, &v), 1);
	test_assert_int_eq(v.uid, 5);
	test_assert_str_eq(v.text, "five");
	test_assert_int_eq(get_val(c, 2, 10, &v), 1);
	test_assert_str_eq(v.text, "six");
	put_val(c, 1, 10, 7, "seven"); /* replaces */
	test_assert_int_eq(get_val(c, 1, 10, &v), 1);
	test_assert_int_eq(v.uid, 7);
	/* shorter values come back with their own size; too large ones are not stored */
	char small[3] = "ab", big[sizeof(struct val) + 1] = {0}, out[sizeof(struct val)];
	size_t size;
	test_assert_int_eq(cache_put(c, 3, 1, small, sizeof(small), cache_generation(c)), 1);
	test_assert_int_eq(cache_get(c, 3, 1, out, &size), 1);
	test_assert_int_eq(size, 3);
	test_assert_str_eq(out, "ab");
	test_assert_int_eq(cache_put(c, 3, 2, big, sizeof(big), cache_generation(c)), 0);
	test_assert_int_eq(cache_get(c, 3, 2, out, &size), 0);
	cache_get_stats(c, &st);
	test_assert_int_eq(st.hits, 4);
	test_assert_int_eq(st.misses, 2);
	test_assert_int_eq(st.entries, 3);
	cache_destroy(&c);
	test_assert(c == NULL);
}

static bool uid_is(const void *value, size_t size, void *ctx)
{
	const struct val *v = value;
	return size == sizeof(*v) && v->uid == *(int64_t *)ctx;
}

static void test_drops(void)
{
	struct cache *c = cache_create("t", 16, sizeof(struct val), 60000);
	struct val v;
	struct cache_stats st;
	for (int64_t k = 1; k <= 4; k++) {
		put_val(c, 1, k, k % 2, "c1");
		put_val(c, 2, k, k % 2, "c2");
	}
	cache_drop(c, 1, 1);
	cache_drop(c, 1, 99); /* absent: nothing happens */
	test_assert_int_eq(get_val(c, 1, 1, &v), 0);
	test_assert_int_eq(get_val(c, 1, 2, &v), 1);
	int64_t odd = 1;
	cache_drop_if(c, 2, uid_is, &odd); /* keys 1 and 3 of context 2 */
	test_assert_int_eq(get_val(c, 2, 1, &v), 0);
	test_assert_int_eq(get_val(c, 2, 3, &v), 0);
	test_assert_int_eq(get_val(c, 2, 2, &v), 1);
	test_assert_int_eq(get_val(c, 1, 3, &v), 1); /* the other context keeps its own */
	cache_drop_context(c, 1);
	for (int64_t k = 1; k <= 4; k++)
		test_assert_int_eq(get_val(c, 1, k, &v), 0);
	test_assert_int_eq(get_val(c, 2, 4, &v), 1);
	cache_clear(c);
	test_assert_int_eq(get_val(c, 2, 4, &v), 0);
	cache_get_stats(c, &st);
	test_assert_int_eq(st.entries, 0);
	/* slots come back after drops: fill it again */
	for (int64_t k = 1; k <= 16; k++)
		put_val(c, 3, k, k, "again");
	for (int64_t k = 1; k <= 16; k++)
		test_assert_int_eq(get_val(c, 3, k, &v), 1);
	cache_get_stats(c, &st);
	test_assert_int_eq(st.evictions, 0);
	cache_destroy(&c);
}

/* A value read before a drop is not stored after it. */
static void test_generation(void)
{
	struct cache *c = cache_create("t", 4, sizeof(struct val), 60000);
	struct val v = {.uid = 1}, out;
	uint64_t gen = cache_generation(c);
	cache_drop(c, 1, 42); /* a change committed meanwhile, even for another key */
	test_assert_int_eq(cache_put(c, 1, 1, &v, sizeof(v), gen), 0);
	test_assert_int_eq(get_val(c, 1, 1, &out), 0);
	gen = cache_generation(c);
	test_assert_int_eq(cache_put(c, 1, 1, &v, sizeof(v), gen), 1);
	test_assert_int_eq(get_val(c, 1, 1, &out), 1);
	cache_destroy(&c);
}

/* Full: a new key evicts one not read since the hand passed, never a just-read one. */
static void test_eviction(void)
{
	struct cache *c = cache_create("t", 4, sizeof(struct val), 60000);
	struct val v;
	struct cache_stats st;
	for (int64_t k = 1; k <= 4; k++)
		put_val(c, 1, k, k, "x");
	test_assert_int_eq(get_val(c, 1, 1, &v), 1); /* referenced: survives one pass */
	put_val(c, 1, 5, 5, "x");
	test_assert_int_eq(get_val(c, 1, 1, &v), 1);
	test_assert_int_eq(get_val(c, 1, 2, &v), 0); /* the first unreferenced one went */
	test_assert_int_eq(get_val(c, 1, 5, &v), 1);
	for (int64_t k = 6; k <= 100; k++)
		put_val(c, 1, k, k, "x");
	cache_get_stats(c, &st);
	test_assert_int_eq(st.entries, 4);
	test_assert_int_eq(st.evictions, 96);
	test_assert_int_eq(get_val(c, 1, 100, &v), 1);
	test_assert_int_eq(v.uid, 100);
	cache_destroy(&c);
}

static void test_ttl(void)
{
	struct cache *c = cache_create("t", 4, sizeof(struct val), 30);
	struct val v;
	struct cache_stats st;
	put_val(c, 1, 1, 1, "x");
	test_assert_int_eq(get_val(c, 1, 1, &v), 1);
	usleep(60 * 1000);
	test_assert_int_eq(get_val(c, 1, 1, &v), 0);
	cache_get_stats(c, &st);
	test_assert_int_eq(st.entries, 0);
	test_assert_int_eq(st.misses, 1);
	cache_destroy(&c);
}

static void test_key_str(void)
{
	test_assert(cache_key_str("alice") == cache_key_str("alice"));
	test_assert(cache_key_str("alice") != cache_key_str("alicf"));
	test_assert(cache_key_str("") != cache_key_str("a"));
}

#define THREADS 4
#define ROUNDS  20000

static struct cache *shared;

/* Each thread reads, fills and drops keys that overlap with the others'; a hit must always
   carry the value stored for its key. */
static void *hammer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < ROUNDS; i++) {
		seed = seed * 1103515245u + 12345u;
		int64_t key = (seed >> 8) % 64, cid = 1 + (seed >> 20) % 2;
		struct val v;
		size_t size;
		if (cache_get(shared, cid, key, &v, &size) > 0) {
			if (v.uid != cid * 1000 + key)
				test_assert(!"a hit returned another key's value");
		} else {
			uint64_t gen = cache_generation(shared);
			struct val nv = {.uid = cid * 1000 + key};
			cache_put(shared, cid, key, &nv, sizeof(nv), gen);
		}
		if (seed % 97 == 0)
			cache_drop(shared, cid, key);
		if (seed % 4001 == 0)
			cache_drop_context(shared, cid);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	struct cache_stats st;
	shared = cache_create("t", 32, sizeof(struct val), 60000);
	for (uintptr_t i = 0; i < THREADS; i++)
		test_assert(pthread_create(&t[i], NULL, hammer, (void *)(i + 1)) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	cache_get_stats(shared, &st);
	test_assert_int_eq(st.hits + st.misses, THREADS * ROUNDS);
	test_assert(st.entries <= 32);
	cache_destroy(&shared);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"get_put", test_get_put},   {"drops", test_drops}, {"generation", test_generation},
	    {"eviction", test_eviction}, {"ttl", test_ttl},     {"key_str", test_key_str},
	    {"threads", test_threads},   {NULL, NULL},
	};
	return test_run(cases);
}
