/* SPDX-License-Identifier: MIT */
/* Redis URL parsing and the pool's fast failure while Redis is unreachable. */
#include <string.h>

#include "clock.h"
#include "redis.h"
#include "test.h"

static void test_url_plain(void)
{
	struct redis_url u;
	const char *error;
	test_assert_int_eq(redis_url_parse("redis://127.0.0.1:6380/3", &u, &error), 0);
	test_assert(!u.sentinel);
	test_assert_int_eq(u.host_count, 1);
	test_assert_str_eq(u.hosts[0], "127.0.0.1");
	test_assert_int_eq(u.ports[0], 6380);
	test_assert_int_eq(u.db, 3);
	test_assert_int_eq(redis_url_parse("redis://localhost", &u, &error), 0);
	test_assert_int_eq(u.ports[0], 6379);
	test_assert_int_eq(u.db, 0);
	test_assert_int_eq(redis_url_parse("redis://:s3cret@[::1]:7000/", &u, &error), 0);
	test_assert_str_eq(u.hosts[0], "::1");
	test_assert_int_eq(u.ports[0], 7000);
	test_assert_str_eq(u.password, "s3cret");
	test_assert_str_eq(u.user, "");
	test_assert(!u.tls);
}

/* ACL users, passwords with URL punctuation (taken verbatim up to the last '@'), TLS. */
static void test_url_credentials_and_tls(void)
{
	struct redis_url u;
	const char *error;
	test_assert_int_eq(redis_url_parse("rediss://tandem:p@ss:w/rd@10.0.0.5:6380/1", &u, &error),
	                   0);
	test_assert(u.tls && !u.sentinel);
	test_assert_str_eq(u.user, "tandem");
	test_assert_str_eq(u.password, "p@ss:w/rd");
	test_assert_str_eq(u.hosts[0], "10.0.0.5");
	test_assert_int_eq(u.ports[0], 6380);
	test_assert_int_eq(u.db, 1);
	/* a user alone: the password comes from store_password_file */
	test_assert_int_eq(redis_url_parse("redis://tandem@h", &u, &error), 0);
	test_assert_str_eq(u.user, "tandem");
	test_assert_str_eq(u.password, "");
	test_assert_int_eq(redis_url_parse("rediss-sentinel://:pw@s1,s2:5000/mymaster", &u, &error),
	                   0);
	test_assert(u.tls && u.sentinel);
	test_assert_str_eq(u.password, "pw");
	test_assert_int_eq(u.ports[0], 26379);
	test_assert_str_eq(u.master_name, "mymaster");

	static const char *const redact[][2] = {
	    {"redis://u:secret@h:1/2", "redis://u:***@h:1/2"},
	    {"rediss://:a@b:c@h", "rediss://:***@h"},
	    {"redis-sentinel://:pw@s1,s2/m", "redis-sentinel://:***@s1,s2/m"},
	    {"redis://tandem@h", "redis://tandem@h"},
	    {"redis://h:1", "redis://h:1"},
	};
	for (size_t i = 0; i < sizeof(redact) / sizeof(redact[0]); i++) {
		char out[128];
		redis_url_redact(redact[i][0], out, sizeof(out));
		test_assert_str_eq(out, redact[i][1]);
	}
}

static void test_url_sentinel(void)
{
	struct redis_url u;
	const char *error;
	test_assert_int_eq(
	    redis_url_parse("redis-sentinel://10.0.0.1:5000,10.0.0.2,h3:5002/mymaster/2", &u,
	                    &error),
	    0);
	test_assert(u.sentinel);
	test_assert_int_eq(u.host_count, 3);
	test_assert_int_eq(u.ports[0], 5000);
	test_assert_int_eq(u.ports[1], 26379);
	test_assert_str_eq(u.hosts[2], "h3");
	test_assert_str_eq(u.master_name, "mymaster");
	test_assert_int_eq(u.db, 2);
}

static void test_url_bad(void)
{
	static const char *const bad[] = {
	    "",
	    "http://x",
	    "redis://",
	    "redis://h:0",
	    "redis://h:65536",
	    "redis://h:12x",
	    "redis://h/abc",
	    "redis://h/100",
	    "redis://a,b",
	    "redis://:@h",
	    "redis://@h",
	    "redis://user:@h",
	    "redis://:p\tw@h",
	    "redis://us er:pw@h",
	    "rediss://",
	    "rediss-sentinel://h1",
	    "redis+tls://h",
	    "redis://[::1",
	    "redis://[::1]x",
	    "redis-sentinel://h1,h2",
	    "redis-sentinel://h1,h2/",
	    "redis-sentinel://h1,/m",
	    "redis-sentinel://h1/m/x",
	    "redis-sentinel://h1,h2,h3,h4,h5,h6,h7,h8,h9/m",
	    "redis://h o:1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct redis_url u;
		const char *error = NULL;
		error = NULL;
		test_set_context(bad[i]);
		test_assert(redis_url_parse(bad[i], &u, &error) == -1 && error != NULL);
	}
}

/* Nothing listens on port 1: the first get fails with the reason, the next ones fail at once
   (backoff) instead of each waiting for a connect. */
static void test_pool_backoff(void)
{
	struct redis_url u;
	const char *error;
	test_assert_int_eq(redis_url_parse("redis://127.0.0.1:1", &u, &error), 0);
	struct redis_settings set;
	redis_settings_default(&set);
	set.backoff_min_ms = 300;
	struct redis_pool *pool = redis_pool_create(&u, &set);
	char err[256];
	test_assert(redis_pool_get(pool, err, sizeof(err)) == NULL);
	test_assert(strstr(err, "127.0.0.1:1") != NULL);
	uint64_t t0 = clock_mono_ms();
	for (int i = 0; i < 100; i++)
		test_assert(redis_pool_get(pool, err, sizeof(err)) == NULL);
	test_assert(clock_mono_ms() - t0 < 250);
	test_assert(strstr(err, "retrying in") != NULL);
	struct redis_pool_stats st;
	redis_pool_stats(pool, &st);
	test_assert_int_eq(st.connect_fails, 1);
	test_assert_int_eq(st.fast_fails, 100);
	redis_pool_destroy(&pool);
	test_assert(pool == NULL);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"url plain", test_url_plain},
	    {"url sentinel", test_url_sentinel},
	    {"url credentials and tls", test_url_credentials_and_tls},
	    {"url bad", test_url_bad},
	    {"pool backoff", test_pool_backoff},
	    {NULL, NULL},
	};
	return test_run(cases);
}
