/* SPDX-License-Identifier: MIT */
/* Unit tests for the per-source connection count: the cap, keys, and the table against a
   plain model through growth and backward-shift deletion. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "http-source-cap.h"
#include "random.h"
#include "test.h"

static struct http_source_key v4(const char *ip)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct http_source_key k;
	inet_pton(AF_INET, ip, &sin.sin_addr);
	test_assert(http_source_key((struct sockaddr *)&sin, &k));
	return k;
}

static struct http_source_key v6(const char *ip)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct http_source_key k;
	inet_pton(AF_INET6, ip, &sin6.sin6_addr);
	test_assert(http_source_key((struct sockaddr *)&sin6, &k));
	return k;
}

static void test_cap_refuses_beyond_max_per_source(void)
{
	struct http_source_cap *cap = http_source_cap_create(3);
	struct http_source_key a = v4("192.0.2.1"), b = v4("192.0.2.2");
	for (int i = 0; i < 3; i++)
		test_assert(http_source_cap_take(cap, &a));
	test_assert(!http_source_cap_take(cap, &a));
	test_assert_int_eq(http_source_cap_count(cap, &a), 3);
	test_assert(http_source_cap_take(cap, &b)); /* another source is not affected */
	http_source_cap_release(cap, &a);
	test_assert(http_source_cap_take(cap, &a));
	for (int i = 0; i < 3; i++)
		http_source_cap_release(cap, &a);
	http_source_cap_release(cap, &b);
	test_assert_int_eq(http_source_cap_sources(cap), 0);
	test_assert_int_eq(http_source_cap_count(cap, &a), 0);
	http_source_cap_destroy(&cap);
	test_assert(cap == NULL);
}

static void test_keys(void)
{
	/* IPv6 counts per /64; an IPv4-mapped address is its IPv4 address. */
	struct http_source_key a = v6("2001:db8:1:2::1"), b = v6("2001:db8:1:2:ffff::9"),
	                       c = v6("2001:db8:1:3::1");
	test_assert(memcmp(&a, &b, sizeof(a)) == 0);
	test_assert(memcmp(&a, &c, sizeof(a)) != 0);
	struct http_source_key m = v6("::ffff:192.0.2.7"), p = v4("192.0.2.7"),
	                       q = v6("::ffff:192.0.2.8");
	test_assert(memcmp(&m, &p, sizeof(m)) == 0);
	test_assert(memcmp(&m, &q, sizeof(m)) != 0);
	struct sockaddr other = {.sa_family = AF_UNIX};
	struct http_source_key k;
	test_assert(!http_source_key(&other, &k));
}

/* Many sources taken and released in a scrambled order: the counts always match a plain
   array, which exercises growth and every shape of deletion from a probe run. */
static void test_table_matches_a_model(void)
{
	enum { N = 3000 };
	static unsigned model[N];
	struct http_source_cap *cap = http_source_cap_create(4);
	memset(model, 0, sizeof(model));
	for (int round = 0; round < 60000; round++) {
		unsigned i = test_rand() % N;
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(0x0a000000u + i)};
		struct http_source_key k;
		http_source_key((struct sockaddr *)&sin, &k);
		if (test_rand() % 3 != 0) {
			bool ok = http_source_cap_take(cap, &k);
			test_assert(ok == (model[i] < 4));
			if (ok)
				model[i]++;
		} else if (model[i] > 0) {
			http_source_cap_release(cap, &k);
			model[i]--;
		}
	}
	size_t sources = 0;
	for (unsigned i = 0; i < N; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(0x0a000000u + i)};
		struct http_source_key k;
		http_source_key((struct sockaddr *)&sin, &k);
		test_assert_int_eq(http_source_cap_count(cap, &k), model[i]);
		sources += model[i] > 0;
	}
	test_assert_int_eq(http_source_cap_sources(cap), sources);
	http_source_cap_destroy(&cap);
}

struct worker {
	struct http_source_cap *cap;
	unsigned base;
};

static void *churn(void *arg)
{
	struct worker *w = arg;
	for (unsigned n = 0; n < 20000; n++) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(w->base + n % 97)};
		struct http_source_key k;
		http_source_key((struct sockaddr *)&sin, &k);
		if (http_source_cap_take(w->cap, &k))
			http_source_cap_release(w->cap, &k);
	}
	return NULL;
}

/* Loop threads take and release concurrently (ASan/TSan builds see the locking). */
static void test_threads_share_the_table(void)
{
	struct http_source_cap *cap = http_source_cap_create(1000);
	struct worker w[4];
	pthread_t t[4];
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){cap, 0x0a000000u + (i % 2) * 50};
		pthread_create(&t[i], NULL, churn, &w[i]);
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	test_assert_int_eq(http_source_cap_sources(cap), 0);
	http_source_cap_destroy(&cap);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"cap_refuses_beyond_max_per_source", test_cap_refuses_beyond_max_per_source},
	    {"keys", test_keys},
	    {"table_matches_a_model", test_table_matches_a_model},
	    {"threads_share_the_table", test_threads_share_the_table},
	    {NULL, NULL},
	};
	random_init();
	return test_run(cases);
}
