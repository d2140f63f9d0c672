/* SPDX-License-Identifier: MIT */
/* Sharing the manager state: lb_state_follow() over a running table, and two shares against a
   real redis-server (start-up, a change reaching the peer, Redis down and back, a state this
   build cannot read). */
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "balancer.h"
#include "buf.h"
#include "clock.h"
#include "lb-config.h"
#include "lb-share.h"
#include "lb-state.h"
#include "log.h"
#include "test-redis-server.h"
#include "test.h"

#define KEY "tandem:t:v1:lb:state"

static char dir[64];

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* ---------------------------------------------------------------- lb_state_follow */

static bool info(struct balancer *b, const char *route, struct balancer_member_info *info_r)
{
	struct balancer_member *m = balancer_find(b, strv_from_cstr(route));
	if (m == NULL)
		return false;
	balancer_member_get_info(m, clock_mono_ms(), info_r);
	balancer_member_unref(&m);
	return true;
}

static int follow(struct lb_state *s, struct balancer *b, const struct lb_member_config *cfg,
                  size_t n, const char *text)
{
	const char *error = NULL;
	int ret = lb_state_follow(s, strv_from_cstr(text), "peer", b, cfg, n, &error);
	if (ret < 0)
		test_set_context(error);
	return ret;
}

static void follow_runtime(void)
{
	struct lb_member_config cfg[2] = {
	    {.route = "OX-1",
	     .address = "127.0.0.1:8001",
	     .loadfactor = 40,
	     .state = BALANCER_READY},
	    {.route = "OX-2",
	     .address = "127.0.0.1:8002",
	     .loadfactor = 60,
	     .state = BALANCER_READY},
	};
	struct balancer_settings bs = {.method = BALANCER_BYREQUESTS};
	struct balancer *b = balancer_create(&bs);
	struct balancer_member_info mi;
	char path[128];
	const char *error;

	for (size_t i = 0; i < 2; i++) {
		struct balancer_member_settings ms = {.route = cfg[i].route,
		                                      .address = cfg[i].address,
		                                      .loadfactor = cfg[i].loadfactor,
		                                      .state = cfg[i].state};
		test_assert(balancer_add(b, &ms, NULL, &error) == 0);
	}
	/* a discovered member: its values are its own unless an override says otherwise */
	struct balancer_member_settings dm = {
	    .route = "D-1", .address = "127.0.0.1:8100", .loadfactor = 30, .discovered = true};
	test_assert(balancer_add(b, &dm, NULL, &error) == 0);
	snprintf(path, sizeof(path), "%s/follow.state", dir);
	struct lb_state *s = lb_state_create(path);

	test_assert_int_eq(follow(s, b, cfg, 2,
	                          "{\"version\":1,\"members\":{\"OX-1\":{\"state\":\"maint\"},"
	                          "\"D-1\":{\"loadfactor\":5}}}"),
	                   1);
	test_assert(info(b, "OX-1", &mi) && mi.state == BALANCER_MAINT && mi.loadfactor == 40);
	test_assert(info(b, "D-1", &mi) && mi.loadfactor == 5);
	struct lb_state *file;
	test_assert(lb_state_load(path, &file, &error) == 0);
	test_assert(file != NULL && lb_state_get(file, "OX-1") != NULL &&
	            lb_state_get(file, "OX-1")->state == BALANCER_MAINT);
	lb_state_free(&file);
	/* the same content again: nothing to do */
	test_assert_int_eq(follow(s, b, cfg, 2,
	                          "{\"version\":1,\"members\":{\"D-1\":{\"loadfactor\":5},"
	                          "\"OX-1\":{\"state\":\"maint\"}}}"),
	                   0);

	/* the override goes (a peer won with a state without it): back to the configuration;
	   the discovered member keeps what it has */
	test_assert_int_eq(follow(s, b, cfg, 2, "{\"version\":1}"), 1);
	test_assert(info(b, "OX-1", &mi) && mi.state == BALANCER_READY && mi.loadfactor == 40);
	test_assert(info(b, "D-1", &mi) && mi.loadfactor == 5);
	test_assert_int_eq(lb_state_count(s), 0);

	/* a tombstone removes; when it goes, the configured member comes back */
	test_assert_int_eq(follow(s, b, cfg, 2, "{\"version\":1,\"removed\":[\"OX-2\"]}"), 1);
	test_assert(!info(b, "OX-2", &mi));
	test_assert_int_eq(
	    follow(s, b, cfg, 2, "{\"version\":1,\"members\":{\"OX-2\":{\"loadfactor\":7}}}"), 1);
	test_assert(info(b, "OX-2", &mi) && mi.loadfactor == 7 && mi.state == BALANCER_READY);
	test_assert_str_eq(mi.address, "127.0.0.1:8002");

	/* a member added on a peer: added, moved with its URL, removed with its record */
	test_assert_int_eq(follow(s, b, cfg, 2,
	                          "{\"version\":1,\"members\":{\"OX-3\":{\"url\":"
	                          "\"http://127.0.0.1:8003\",\"state\":\"drain\","
	                          "\"loadfactor\":9}}}"),
	                   1);
	test_assert(info(b, "OX-3", &mi) && mi.state == BALANCER_DRAIN && mi.loadfactor == 9);
	test_assert_str_eq(mi.address, "127.0.0.1:8003");
	test_assert(info(b, "OX-2", &mi) && mi.loadfactor == 60); /* its record went */
	test_assert_int_eq(follow(s, b, cfg, 2,
	                          "{\"version\":1,\"members\":{\"OX-3\":{\"url\":"
	                          "\"http://127.0.0.1:8013\",\"state\":\"drain\","
	                          "\"loadfactor\":9}}}"),
	                   1);
	test_assert(info(b, "OX-3", &mi));
	test_assert_str_eq(mi.address, "127.0.0.1:8013");
	test_assert_int_eq(follow(s, b, cfg, 2, "{\"version\":1}"), 1);
	test_assert(!info(b, "OX-3", &mi));
	/* a configured route added "through the manager" keeps its configured address */
	test_assert_int_eq(follow(s, b, cfg, 2,
	                          "{\"version\":1,\"members\":{\"OX-1\":{\"url\":"
	                          "\"http://127.0.0.1:9999\",\"state\":\"standby\","
	                          "\"loadfactor\":3}}}"),
	                   1);
	test_assert(info(b, "OX-1", &mi) && mi.state == BALANCER_STANDBY && mi.loadfactor == 3);
	test_assert_str_eq(mi.address, "127.0.0.1:8001");

	/* a text that cannot be read changes nothing */
	size_t before = balancer_count(b);
	test_assert_int_eq(follow(s, b, cfg, 2, "{\"version\":2,\"removed\":[\"OX-1\"]}"), -1);
	test_assert(
	    lb_state_follow(s, strv_from_cstr("{\"version\":2}"), "peer", b, cfg, 2, &error) < 0 &&
	    strstr(error, "version 2") != NULL);
	test_assert(balancer_count(b) == before && info(b, "OX-1", &mi));
	test_assert(lb_state_get(s, "OX-1") != NULL);

	lb_state_free(&s);
	balancer_destroy(&b);
}

/* ---------------------------------------------------------------- shares on Redis */

struct peer {
	struct lb_share *sh;
	pthread_mutex_t lock;
	char text[4096];
	uint64_t changes;
	_Atomic int applied;
};

static void on_apply(struct strv text, uint64_t changes, void *ctx)
{
	struct peer *p = ctx;
	pthread_mutex_lock(&p->lock);
	snprintf(p->text, sizeof(p->text), "%.*s", (int)text.len, text.ptr);
	p->changes = changes;
	pthread_mutex_unlock(&p->lock);
	atomic_fetch_add(&p->applied, 1);
}

static void peer_init(struct peer *p, const char *id)
{
	char url[64];
	const char *error = NULL;
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%u/0", test_redis_port());
	struct lb_share_settings set = {
	    .store = url,
	    .cluster = "t",
	    .id = id,
	    .poll_ms = 200,
	    .timeout_ms = 500,
	    .apply = on_apply,
	    .ctx = p,
	};
	p->sh = lb_share_create(&set, &error);
	test_assert(p->sh != NULL);
}

static void peer_free(struct peer *p)
{
	lb_share_destroy(&p->sh);
	pthread_mutex_destroy(&p->lock);
}

/* Waits until p applied more than `after` states; returns the ms it took, or -1. */
static long wait_applied(struct peer *p, int after, unsigned timeout_ms)
{
	uint64_t start = clock_mono_ms();
	while (atomic_load(&p->applied) <= after) {
		if (clock_mono_ms() - start > timeout_ms)
			return -1;
		test_sleep_ms(5);
	}
	return (long)(clock_mono_ms() - start);
}

static bool text_has(struct peer *p, const char *needle)
{
	pthread_mutex_lock(&p->lock);
	bool has = strstr(p->text, needle) != NULL;
	pthread_mutex_unlock(&p->lock);
	return has;
}

static long long shared_version(void)
{
	redisReply *r = test_redis_cmd("HGET %s version", KEY);
	long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
	freeReplyObject(r);
	return v;
}

static void load_publishes_or_takes(void)
{
	struct peer a, b;
	char path[128];
	const char *error;

	freeReplyObject(test_redis_cmd("FLUSHALL"));
	peer_init(&a, "lb-a");
	peer_init(&b, "lb-b");
	struct lb_state *sa = lb_state_create(NULL);
	lb_state_set_state(sa, "OX-1", BALANCER_MAINT);
	test_assert_int_eq(lb_share_load(a.sh, sa), 0); /* Redis had none: a's is published */
	test_assert_int_eq(shared_version(), 1);

	snprintf(path, sizeof(path), "%s/b.state", dir);
	struct lb_state *sb = lb_state_create(path);
	lb_state_set_loadfactor(sb, "OX-2", 10);
	test_assert_int_eq(lb_share_load(b.sh, sb), 1); /* the shared one wins over b's file */
	test_assert(lb_state_get(sb, "OX-1") != NULL && lb_state_get(sb, "OX-2") == NULL);
	struct lb_state *file;
	test_assert(lb_state_load(path, &file, &error) == 0);
	test_assert(file != NULL && lb_state_get(file, "OX-1") != NULL);
	lb_state_free(&file);
	test_assert_int_eq(shared_version(), 1);

	lb_state_free(&sa);
	lb_state_free(&sb);
	peer_free(&a);
	peer_free(&b);
}

static void changes_reach_the_peer(void)
{
	struct peer a, b;
	const char *error;

	freeReplyObject(test_redis_cmd("FLUSHALL"));
	peer_init(&a, "lb-a");
	peer_init(&b, "lb-b");
	struct lb_state *sa = lb_state_create(NULL), *sb = lb_state_create(NULL);
	lb_share_load(a.sh, sa);
	lb_share_load(b.sh, sb);
	test_assert(lb_share_start(a.sh, &error) == 0 && lb_share_start(b.sh, &error) == 0);
	test_sleep_ms(100); /* both wait in XREAD now */

	long worst = 0;
	for (int i = 1; i <= 5; i++) {
		int before = atomic_load(&b.applied);
		lb_state_set_loadfactor(sa, "OX-1", (unsigned)(10 + i));
		lb_share_changed(a.sh, sa, (uint64_t)i);
		long ms = wait_applied(&b, before, 3000);
		char want[32];
		snprintf(want, sizeof(want), "\"loadfactor\": %d", 10 + i);
		test_assert(ms >= 0 && text_has(&b, want));
		if (ms > worst)
			worst = ms;
	}
	/* a wake-up by the stream, not the poll: well below one poll on a quiet machine, and
	   far below a second on a busy one */
	test_assert(worst >= 0 && worst < 1000);
	test_assert_int_eq(atomic_load(&a.applied), 0); /* its own versions are not applied */
	test_assert_int_eq(shared_version(), 6);        /* 1 at start + 5; b published none */

	/* the other way round; b's apply saw none of its own changes */
	int before = atomic_load(&a.applied);
	lb_state_copy(sb, sa);
	lb_state_set_state(sb, "OX-2", BALANCER_DRAIN);
	lb_share_changed(b.sh, sb, 1);
	test_assert(wait_applied(&a, before, 3000) >= 0 && text_has(&a, "drain"));
	pthread_mutex_lock(&a.lock);
	test_assert_int_eq(a.changes, 5); /* a had shared its 5 changes before reading b's */
	pthread_mutex_unlock(&a.lock);
	test_sleep_ms(300);
	test_assert_int_eq(shared_version(), 7);

	peer_free(&a);
	peer_free(&b);
	lb_state_free(&sa);
	lb_state_free(&sb);
}

static void redis_down_and_back(void)
{
	struct peer a, b;
	const char *error;

	freeReplyObject(test_redis_cmd("FLUSHALL"));
	peer_init(&a, "lb-a");
	peer_init(&b, "lb-b");
	struct lb_state *sa = lb_state_create(NULL), *sb = lb_state_create(NULL);
	lb_share_load(a.sh, sa);
	lb_share_load(b.sh, sb);
	test_assert(lb_share_start(a.sh, &error) == 0 && lb_share_start(b.sh, &error) == 0);
	test_sleep_ms(100);

	test_redis_signal(SIGKILL);
	lb_state_set_state(sa, "OX-1", BALANCER_DISABLED);
	lb_share_changed(a.sh, sa, 1);
	test_sleep_ms(500);
	int before = atomic_load(&b.applied);
	test_redis_start(); /* empty, as after a restart without persistence */
	/* a publishes its change as soon as it reconnects; b follows (backoff is at most 2 s) */
	test_assert(wait_applied(&b, before, 8000) >= 0 && text_has(&b, "disabled"));
	test_assert(shared_version() >= 1);

	peer_free(&a);
	peer_free(&b);
	lb_state_free(&sa);
	lb_state_free(&sb);
}

static void unreadable_shared_state_is_kept(void)
{
	struct peer a;
	const char *error;

	freeReplyObject(test_redis_cmd("FLUSHALL"));
	freeReplyObject(
	    test_redis_cmd("HSET %s version 7 state {\"version\":2} origin future", KEY));
	peer_init(&a, "lb-a");
	struct lb_state *s = lb_state_create(NULL);
	lb_state_set_state(s, "OX-1", BALANCER_MAINT);
	test_assert_int_eq(lb_share_load(a.sh, s), 0);
	test_assert(lb_state_get(s, "OX-1") != NULL);
	test_assert(lb_share_start(a.sh, &error) == 0);
	test_sleep_ms(400);
	/* neither applied nor written over */
	test_assert_int_eq(atomic_load(&a.applied), 0);
	test_assert_int_eq(shared_version(), 7);
	peer_free(&a);
	lb_state_free(&s);
}

static void redis_down_at_start(void)
{
	struct peer a;
	const char *error;

	test_redis_signal(SIGKILL);
	peer_init(&a, "lb-a");
	struct lb_state *s = lb_state_create(NULL);
	lb_state_set_state(s, "OX-1", BALANCER_MAINT);
	uint64_t t0 = clock_mono_ms();
	test_assert_int_eq(lb_share_load(a.sh, s), 0); /* keeps the local state, at once */
	test_assert(clock_mono_ms() - t0 < 3000);
	test_assert(lb_state_get(s, "OX-1") != NULL);
	test_assert(lb_share_start(a.sh, &error) == 0);
	test_redis_start();
	/* Redis came back empty: the local state becomes the shared one */
	uint64_t deadline = clock_mono_ms() + 8000;
	while (shared_version() < 1 && clock_mono_ms() < deadline)
		test_sleep_ms(20);
	test_assert_int_eq(shared_version(), 1);
	redisReply *r = test_redis_cmd("HGET %s state", KEY);
	test_assert(r->type == REDIS_REPLY_STRING && strstr(r->str, "maint") != NULL);
	freeReplyObject(r);
	peer_free(&a);
	lb_state_free(&s);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"follow_runtime", follow_runtime},
	    {"load_publishes_or_takes", load_publishes_or_takes},
	    {"changes_reach_the_peer", changes_reach_the_peer},
	    {"redis_down_and_back", redis_down_and_back},
	    {"unreadable_shared_state_is_kept", unreadable_shared_state_is_kept},
	    {"redis_down_at_start", redis_down_at_start},
	    {NULL, NULL},
	};

	log_set_level(LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/test-lb-share-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_redis_start();
	int code = test_run(cases);
	test_redis_stop();
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return code;
}
