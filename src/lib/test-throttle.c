/* SPDX-License-Identifier: MIT */
/* Unit tests for the failure counters and the login throttle built on them. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "login-throttle.h"
#include "test.h"
#include "throttle.h"

static unsigned count(struct throttle *t, const char *key, time_t now)
{
	return throttle_count(t, key, strlen(key), now, NULL);
}

static void fail(struct throttle *t, const char *key, time_t now)
{
	throttle_fail(t, key, strlen(key), now);
}

static void test_window(void)
{
	struct throttle *t = throttle_create(300, 16);
	time_t left = 7;
	test_assert(throttle_count(t, "a", 1, 1000, &left) == 0 && left == 0);
	fail(t, "a", 1000);
	fail(t, "a", 1100);
	fail(t, "a", 1299);
	test_assert(throttle_count(t, "a", 1, 1299, &left) == 3 && left == 1);
	test_assert(count(t, "a", 1300) == 0); /* 300 s after the first failure */
	fail(t, "a", 1300);
	test_assert(throttle_count(t, "a", 1, 1300, &left) == 1 && left == 300);
	/* keys are bytes: a prefix or a NUL in them is another key */
	test_assert(count(t, "", 1300) == 0);
	test_assert(throttle_count(t, "a\0", 2, 1300, NULL) == 0);
	throttle_destroy(&t);
	test_assert(t == NULL);
}

/* The old table hashed into 4096 slots and let keys that met in one reset each other. */
static void test_no_sharing(void)
{
	enum { N = 3000 };
	struct throttle *t = throttle_create(300, N);
	char key[32];
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "user%u", i);
		for (unsigned j = 0; j < i % 7 + 1; j++)
			fail(t, key, 10);
	}
	unsigned wrong = 0;
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "user%u", i);
		wrong += count(t, key, 11) != i % 7 + 1;
	}
	test_assert_int_eq(wrong, 0);
	struct throttle_stats st;
	throttle_get_stats(t, &st);
	test_assert(st.keys == N && st.capacity == N && st.evicted == 0);
	throttle_destroy(&t);
}

static void test_full_table(void)
{
	struct throttle *t = throttle_create(100, 4);
	struct throttle_stats st;
	fail(t, "a", 0);
	fail(t, "b", 1);
	fail(t, "b", 2);
	fail(t, "c", 2);
	fail(t, "d", 3);
	fail(t, "a", 4); /* a still ends first: its window began first */
	fail(t, "e", 5);
	test_assert(count(t, "a", 5) == 0);
	test_assert(count(t, "b", 5) == 2 && count(t, "c", 5) == 1);
	test_assert(count(t, "d", 5) == 1 && count(t, "e", 5) == 1);
	throttle_get_stats(t, &st);
	test_assert(st.keys == 4 && st.evicted == 1);
	/* ended windows make room without evicting anything running */
	fail(t, "f", 101);
	fail(t, "g", 102);
	throttle_get_stats(t, &st);
	test_assert(st.evicted == 1 && st.keys == 4);
	test_assert(count(t, "b", 102) == 0 && count(t, "d", 102) == 1);
	test_assert(count(t, "f", 102) == 1 && count(t, "g", 102) == 1);
	/* a key failing again after its window ended starts a new one */
	fail(t, "e", 105);
	test_assert(count(t, "e", 105) == 1);
	throttle_destroy(&t);
}

static struct throttle *shared;

static void *hammer(void *arg)
{
	(void)arg;
	char key[16];
	for (unsigned i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%u", i % 50);
		fail(shared, "same", 1);
		fail(shared, key, 1);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[4];
	shared = throttle_create(300, 64);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	test_assert_int_eq(count(shared, "same", 2), 8000);
	test_assert_int_eq(count(shared, "k7", 2), 160);
	throttle_destroy(&shared);
}

static struct cidr_addr addr(const char *s)
{
	struct cidr_addr a;
	if (cidr_addr_parse(strv_from_cstr(s), &a) < 0)
		test__fail(__FILE__, __LINE__, s);
	return a;
}

static time_t check(struct login_throttle *lt, const char *ip, const char *user, time_t now)
{
	struct cidr_addr a = addr(ip);
	return login_throttle_check(lt, &a, user, now);
}

static void fail_login(struct login_throttle *lt, const char *ip, const char *user, time_t now)
{
	struct cidr_addr a = addr(ip);
	login_throttle_fail(lt, &a, user, now);
}

static const struct login_throttle_limits limits = {
    .per_address = 20, .per_user_address = 5, .per_user = 12, .window_s = 300, .capacity = 1000};

static void test_one_attacker_one_user(void)
{
	struct login_throttle *lt = login_throttle_create(&limits);
	for (int i = 0; i < 5; i++) {
		test_assert(check(lt, "203.0.113.66", "1/bob", 100) == 0);
		fail_login(lt, "203.0.113.66", "1/bob", 100);
	}
	test_assert(check(lt, "203.0.113.66", "1/bob", 160) == 240);
	test_assert(check(lt, "203.0.113.66", "1/alice", 160) == 0);
	/* bob elsewhere is not the attacker */
	test_assert(check(lt, "198.51.100.7", "1/bob", 160) == 0);
	test_assert(check(lt, "203.0.113.66", "1/bob", 400) == 0);
	login_throttle_destroy(&lt);
}

static void test_one_attacker_many_users(void)
{
	struct login_throttle *lt = login_throttle_create(&limits);
	char user[32];
	for (int i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "1/user%d", i);
		fail_login(lt, "203.0.113.66", user, 100);
	}
	test_assert(check(lt, "203.0.113.66", "1/someone", 100) == 300);
	test_assert(check(lt, "198.51.100.7", "1/someone", 100) == 0);
	test_assert(check(lt, "198.51.100.7", "1/user3", 100) == 0);
	login_throttle_destroy(&lt);
}

static void test_many_attackers_one_user(void)
{
	struct login_throttle *lt = login_throttle_create(&limits);
	char ip[32];
	/* 4 addresses, 3 failures each: 12 for bob, none of them at its own limit of 5 */
	for (int i = 0; i < 12; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i % 4);
		fail_login(lt, ip, "1/bob", 100 + i);
	}
	test_assert(check(lt, "203.0.113.1", "1/bob", 150) > 0);
	test_assert(check(lt, "203.0.113.1", "1/alice", 150) == 0);
	/* bob at home, without a failure, still gets in */
	test_assert(check(lt, "198.51.100.7", "1/bob", 150) == 0);
	fail_login(lt, "198.51.100.7", "1/bob", 150);
	test_assert(check(lt, "198.51.100.7", "1/bob", 150) > 0);
	/* free again when the user's window ends (300 s after its first failure) */
	test_assert(check(lt, "203.0.113.1", "1/bob", 400) == 0);
	login_throttle_destroy(&lt);
}

static void test_ipv6_by_64(void)
{
	struct login_throttle *lt = login_throttle_create(&limits);
	for (int i = 0; i < 5; i++)
		fail_login(lt, i % 2 ? "2001:db8:1:2::1" : "2001:db8:1:2:ffff::9", "1/bob", 100);
	test_assert(check(lt, "2001:db8:1:2:abcd::1", "1/bob", 100) > 0);
	test_assert(check(lt, "2001:db8:1:3::1", "1/bob", 100) == 0);
	login_throttle_destroy(&lt);
}

static void test_canonical_user(void)
{
	char out[64];
	login_throttle_user(out, sizeof(out), 1, "defaultcontext", "Bob");
	test_assert_str_eq(out, "1/bob");
	login_throttle_user(out, sizeof(out), 42, "whatever", "bob");
	test_assert_str_eq(out, "42/bob");
	login_throttle_user(out, sizeof(out), 0, "NoSuch.Example", "BoB");
	test_assert_str_eq(out, "?nosuch.example/bob");
	login_throttle_user(out, 8, 0, "longmapping", "bob");
	test_assert_str_eq(out, "?longma");
	login_throttle_user_in(out, sizeof(out), "?Master", "Admin");
	test_assert_str_eq(out, "?master/admin");
	login_throttle_user_in(out, 8, "manager", "bob");
	test_assert_str_eq(out, "manager");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"window", test_window},
	    {"no sharing", test_no_sharing},
	    {"full table", test_full_table},
	    {"threads", test_threads},
	    {"one attacker, one user", test_one_attacker_one_user},
	    {"one attacker, many users", test_one_attacker_many_users},
	    {"many attackers, one user", test_many_attackers_one_user},
	    {"IPv6 by /64", test_ipv6_by_64},
	    {"canonical user", test_canonical_user},
	    {NULL, NULL},
	};
	if (sodium_init() < 0)
		return 1;
	return test_run(cases);
}
