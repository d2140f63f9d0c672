/* SPDX-License-Identifier: MIT */
/* Measures Redis memory per session: puts N realistic sessions through the Redis store and
   compares INFO memory before and after. Usage: bench-session-memory PORT [N]. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "random.h"
#include "redis.h"
#include "session-store-redis.h"

static long long used_memory(struct redis_pool *pool)
{
	char err[256];
	struct redis_conn *c = redis_pool_get(pool, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "bench-session-memory: %s\n", err);
		exit(1);
	}
	redisReply *r = redis_commandf(c, "INFO memory");
	long long used = -1;
	const char *p =
	    r != NULL && r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
	if (p != NULL)
		used = strtoll(p + strlen("used_memory:"), NULL, 10);
	if (r != NULL)
		freeReplyObject(r);
	redis_pool_put(pool, &c);
	return used;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench-session-memory PORT [SESSIONS]\n");
		return 2;
	}
	char url_text[64];
	snprintf(url_text, sizeof(url_text), "redis://127.0.0.1:%s/0", argv[1]);
	long n = argc == 3 ? strtol(argv[2], NULL, 10) : 100000;
	struct redis_url url;
	const char *error;
	if (n <= 0 || redis_url_parse(url_text, &url, &error) < 0) {
		fprintf(stderr, "bench-session-memory: bad port or count\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	random_init();
	struct redis_settings set;
	redis_settings_default(&set);
	set.timeout_ms = 5000;
	struct redis_pool *pool = redis_pool_create(&url, &set);
	struct session_store_redis_settings sset = {
	    .pool = pool,
	    .prefix = "tandem:bench-memory:v1:",
	    .route = "OX-1",
	};
	struct session_store *store = session_store_redis_create(&sset);
	long long before = used_memory(pool);
	uint64_t now = clock_wall_ms();
	for (long i = 0; i < n; i++) {
		/* what a web client's session looks like: a user of a big context, a browser */
		struct session s;
		memset(&s, 0, sizeof(s));
		random_hex(s.id, 16);
		random_hex(s.digest, 16);
		random_hex(s.cookie_hash, 16);
		s.cid = 1 + i % 1000;
		s.uid = 3 + i;
		snprintf(s.login, sizeof(s.login), "user%ld", i);
		snprintf(s.client, sizeof(s.client), "open-xchange-appsuite");
		snprintf(s.ip, sizeof(s.ip), "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255,
		         i & 255);
		snprintf(s.route, sizeof(s.route), "OX-1");
		s.created_ms = s.last_ms = now;
		s.lifetime_ms = 3600 * 1000;
		if (store->ops->put(store, &s) < 0) {
			fprintf(stderr, "bench-session-memory: put: %s\n", session_store_error());
			return 1;
		}
	}
	long long after = used_memory(pool);
	printf(
	    "Redis memory per session: %.0f bytes over %ld sessions (used_memory %lld -> %lld)\n",
	    (double)(after - before) / (double)n, n, before, after);
	session_store_destroy(&store);
	redis_pool_destroy(&pool);
	return 0;
}
