/* SPDX-License-Identifier: MIT */
/* Unit tests for the member table: picks, states, health, counters, threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "balancer.h"
#include "mem.h"
#include "test.h"

static struct balancer *make(enum balancer_method method)
{
	struct balancer_settings set = {method, 5000, 2, 3};
	return balancer_create(&set);
}

static void add(struct balancer *b, const char *route, unsigned lf, enum balancer_state state)
{
	struct balancer_member_settings set = {route, "127.0.0.1:8009", lf, state, false, false};
	const char *error = NULL;
	if (balancer_add(b, &set, NULL, &error) < 0)
		test__fail(__FILE__, __LINE__, error);
}

/* Picks and ends at once; returns the route ("-" for none) and the kind. */
static const char *pick_kind(struct balancer *b, const char *route,
                             const struct balancer_exclude *ex, uint64_t now,
                             enum balancer_pick_kind *kind_r)
{
	struct balancer_member *m = balancer_pick(b, strv_from_cstr(route), ex, now, kind_r);
	if (m == NULL)
		return "-";
	const char *r = balancer_member_route(m); /* the table keeps the member alive */
	balancer_end(&m, 0, 0, false);
	return r;
}

static const char *pick(struct balancer *b, const char *route, uint64_t now)
{
	return pick_kind(b, route, NULL, now, NULL);
}

/* n new-session picks; returns how many went to route. */
static unsigned count_new(struct balancer *b, const char *route, unsigned n)
{
	unsigned hits = 0;
	for (unsigned i = 0; i < n; i++)
		hits += strcmp(pick(b, "", 1000), route) == 0;
	return hits;
}

static struct balancer_member_info info_of(struct balancer *b, const char *route, uint64_t now)
{
	struct balancer_member_info info;
	struct balancer_member *m = balancer_find(b, strv_from_cstr(route));
	memset(&info, 0, sizeof(info));
	test_assert(m != NULL);
	if (m != NULL) {
		balancer_member_get_info(m, now, &info);
		balancer_member_unref(&m);
	}
	return info;
}

static void health(struct balancer *b, const char *route, bool ok, bool draining, bool changes)
{
	struct balancer_member *m = balancer_find(b, strv_from_cstr(route));
	test_assert(m != NULL);
	test_assert_int_eq(balancer_health_result(m, ok, draining, 1000), changes);
	balancer_member_unref(&m);
}

static void test_equal_split(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	unsigned a = count_new(b, "A", 1000);
	test_assert(a >= 450 && a <= 550);
	balancer_destroy(&b);
}

static void test_weighted_split(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	add(b, "A", 75, BALANCER_READY);
	add(b, "B", 25, BALANCER_READY);
	unsigned a = count_new(b, "A", 1000);
	test_assert(a >= 675 && a <= 825);
	/* Smooth: never more than three in a row for 3:1. */
	unsigned run = 0, longest = 0;
	for (unsigned i = 0; i < 100; i++) {
		run = strcmp(pick(b, "", 1000), "A") == 0 ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	test_assert(longest <= 3);
	balancer_destroy(&b);
}

static void test_sticky_does_not_skew(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	enum balancer_pick_kind kind;
	unsigned a = 0;
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	for (unsigned i = 0; i < 1000; i++) {
		a += strcmp(pick(b, "", 1000), "A") == 0;
		/* Heavy sticky traffic on A between new sessions. */
		for (unsigned j = 0; j < 3; j++) {
			test_assert_str_eq(pick_kind(b, "A", NULL, 1000, &kind), "A");
			test_assert(kind == BALANCER_PICK_STICKY);
		}
	}
	test_assert(a >= 450 && a <= 550);
	balancer_destroy(&b);
}

static void test_states(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	enum balancer_pick_kind kind;
	add(b, "A", 50, BALANCER_DRAIN);
	add(b, "B", 50, BALANCER_READY);
	add(b, "M", 50, BALANCER_MAINT);
	add(b, "D", 50, BALANCER_DISABLED);
	/* New sessions only on the ready member. */
	test_assert_int_eq(count_new(b, "B", 100), 100);
	/* Drain keeps its sticky traffic. */
	test_assert_str_eq(pick_kind(b, "A", NULL, 1000, &kind), "A");
	test_assert(kind == BALANCER_PICK_STICKY);
	/* Maint and disabled take none: their sticky requests fail over. */
	test_assert_str_eq(pick_kind(b, "M", NULL, 1000, &kind), "B");
	test_assert(kind == BALANCER_PICK_FAILOVER);
	test_assert_str_eq(pick_kind(b, "D", NULL, 1000, &kind), "B");
	test_assert(kind == BALANCER_PICK_FAILOVER);
	/* Unknown route: a new session. */
	test_assert_str_eq(pick_kind(b, "Z", NULL, 1000, &kind), "B");
	test_assert(kind == BALANCER_PICK_NEW);
	/* With B gone too, only drain's sticky traffic is served. */
	test_assert(balancer_set_state(b, STRV_LIT("B"), BALANCER_MAINT) == 0);
	test_assert_str_eq(pick(b, "", 1000), "-");
	test_assert_str_eq(pick(b, "M", 1000), "-");
	test_assert_str_eq(pick(b, "A", 1000), "A");
	test_assert(balancer_set_state(b, STRV_LIT("nope"), BALANCER_READY) < 0);
	balancer_destroy(&b);
}

static void test_standby(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	struct balancer_exclude ex = {{NULL}, 0};
	enum balancer_pick_kind kind;
	add(b, "A", 50, BALANCER_READY);
	add(b, "S", 50, BALANCER_STANDBY);
	test_assert_int_eq(count_new(b, "A", 50), 50);
	test_assert_str_eq(pick_kind(b, "S", NULL, 1000, &kind), "A");
	test_assert(kind == BALANCER_PICK_FAILOVER);
	/* A in error: the standby takes over, sticky included. */
	struct balancer_member *a = balancer_find(b, STRV_LIT("A"));
	balancer_member_failed(a, 1000);
	test_assert_int_eq(count_new(b, "S", 50), 50);
	test_assert_str_eq(pick_kind(b, "S", NULL, 1000, &kind), "S");
	test_assert(kind == BALANCER_PICK_STICKY);
	test_assert_str_eq(pick(b, "S", 6000), "A"); /* retry is over */
	/* A excluded by this request: standby. */
	balancer_exclude_add(&ex, a);
	test_assert_str_eq(pick_kind(b, "", &ex, 6000, NULL), "S");
	/* A down by health checks, then a drain member as the only ready-ish one. */
	for (int i = 0; i < 3; i++)
		balancer_health_result(a, false, false, 7000);
	test_assert_str_eq(pick(b, "", 7000), "S");
	balancer_member_unref(&a);
	add(b, "N", 50, BALANCER_DRAIN);
	test_assert_str_eq(pick(b, "", 7000), "S");
	test_assert_str_eq(pick(b, "N", 7000), "N");
	balancer_destroy(&b);
}

static void test_failover_and_retry(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	enum balancer_pick_kind kind;
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	struct balancer_member *a = balancer_find(b, STRV_LIT("A"));
	balancer_member_failed(a, 10000); /* retry 5 s */
	test_assert_int_eq(info_of(b, "A", 10000).in_error, 1);
	test_assert_int_eq(info_of(b, "A", 10000).errors, 1);
	for (uint64_t t = 10000; t < 15000; t += 500) {
		test_assert_str_eq(pick_kind(b, "A", NULL, t, &kind), "B");
		test_assert(kind == BALANCER_PICK_FAILOVER);
	}
	test_assert_str_eq(pick_kind(b, "A", NULL, 14999, NULL), "B");
	test_assert_str_eq(pick_kind(b, "A", NULL, 15000, &kind), "A");
	test_assert(kind == BALANCER_PICK_STICKY);
	test_assert_int_eq(info_of(b, "A", 15000).in_error, 0);
	/* Both in error: nothing usable. */
	balancer_member_failed(a, 20000);
	struct balancer_member *bb = balancer_find(b, STRV_LIT("B"));
	balancer_member_failed(bb, 20000);
	test_assert_str_eq(pick(b, "A", 20000), "-");
	balancer_member_unref(&bb);
	balancer_member_unref(&a);
	/* A retry of 0 fails nothing over for long. */
	struct balancer_settings set = {BALANCER_BYREQUESTS, 0, 2, 3};
	balancer_set_settings(b, &set);
	a = balancer_find(b, STRV_LIT("A"));
	balancer_member_failed(a, 30000);
	test_assert_str_eq(pick(b, "A", 30000), "A");
	balancer_member_unref(&a);
	balancer_destroy(&b);
}

static void test_health_rise_fall(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS); /* rise 2, fall 3 */
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	health(b, "A", false, false, false);
	health(b, "A", false, false, false);
	health(b, "A", true, false, false); /* a good one resets the run */
	health(b, "A", false, false, false);
	health(b, "A", false, false, false);
	test_assert_int_eq(info_of(b, "A", 1000).healthy, 1);
	health(b, "A", false, false, true); /* third bad in a row: down */
	struct balancer_member_info info = info_of(b, "A", 1000);
	test_assert(!info.healthy && !info.last_check_ok && info.last_check_ms == 1000);
	test_assert_str_eq(pick(b, "A", 1000), "B");
	test_assert_int_eq(count_new(b, "B", 20), 20);
	health(b, "A", false, false, false);
	health(b, "A", true, false, false);
	health(b, "A", false, false, false); /* a bad one resets the rise */
	health(b, "A", true, false, false);
	test_assert_int_eq(info_of(b, "A", 1000).healthy, 0);
	health(b, "A", true, false, true); /* second good in a row: up */
	test_assert_str_eq(pick(b, "A", 1000), "A");
	/* 503 draining: alive, takes only its sticky traffic. */
	health(b, "A", true, true, false);
	info = info_of(b, "A", 1000);
	test_assert(info.healthy && info.draining && info.effective == BALANCER_DRAIN &&
	            info.state == BALANCER_READY);
	test_assert_int_eq(count_new(b, "B", 20), 20);
	test_assert_str_eq(pick(b, "A", 1000), "A");
	health(b, "A", false, false, false); /* a failed check keeps the flag */
	test_assert_int_eq(info_of(b, "A", 1000).draining, 1);
	health(b, "A", true, false, false);
	test_assert_int_eq(info_of(b, "A", 1000).effective, BALANCER_READY);
	/* Maint wins over the node's draining flag. */
	health(b, "A", true, true, false);
	balancer_set_state(b, STRV_LIT("A"), BALANCER_MAINT);
	test_assert_int_eq(info_of(b, "A", 1000).effective, BALANCER_MAINT);
	balancer_destroy(&b);
}

static void test_bybusyness(void)
{
	struct balancer *b = make(BALANCER_BYBUSYNESS);
	struct balancer_member *held[4];
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	/* Idle: ties spread evenly. */
	unsigned a = count_new(b, "A", 1000);
	test_assert(a >= 450 && a <= 550);
	/* Two long requests on A: new ones go to B until it is as busy. */
	held[0] = balancer_pick(b, STRV_LIT("A"), NULL, 1000, NULL);
	held[1] = balancer_pick(b, STRV_LIT("A"), NULL, 1000, NULL);
	test_assert_int_eq(info_of(b, "A", 1000).in_flight, 2);
	held[2] = balancer_pick(b, STRV_LIT(""), NULL, 1000, NULL);
	held[3] = balancer_pick(b, STRV_LIT(""), NULL, 1000, NULL);
	test_assert_str_eq(balancer_member_route(held[2]), "B");
	test_assert_str_eq(balancer_member_route(held[3]), "B");
	/* Relative to loadfactor: A at 100 with 2 in flight is as busy as B at 50 with 1. */
	balancer_end(&held[3], 0, 0, false);
	balancer_set_loadfactor(b, STRV_LIT("A"), 100);
	a = 0;
	for (int i = 0; i < 300; i++)
		a += strcmp(pick(b, "", 1000), "A") == 0;
	test_assert(a >= 180 && a <= 220); /* tie: 2:1 by loadfactor */
	balancer_end(&held[1], 0, 0, false);
	test_assert_int_eq(count_new(b, "A", 10), 10);
	balancer_end(&held[0], 0, 0, false);
	balancer_end(&held[2], 0, 0, false);
	test_assert(held[0] == NULL && held[2] == NULL);
	balancer_destroy(&b);
}

static void test_exclude(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	struct balancer_exclude ex = {{NULL}, 0};
	enum balancer_pick_kind kind;
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	add(b, "C", 50, BALANCER_READY);
	for (int round = 0; round < 3; round++) {
		struct balancer_member *m = balancer_pick(b, STRV_LIT(""), &ex, 1000, NULL);
		test_assert(m != NULL);
		for (size_t i = 0; m != NULL && i < ex.count; i++)
			test_assert(ex.members[i] != m);
		balancer_exclude_add(&ex, m);
		balancer_end(&m, 0, 0, true);
	}
	test_assert(balancer_pick(b, STRV_LIT(""), &ex, 1000, NULL) == NULL);
	ex.count = 1;
	const char *first = balancer_member_route(ex.members[0]);
	test_assert(strcmp(pick_kind(b, first, &ex, 1000, &kind), first) != 0);
	test_assert(kind == BALANCER_PICK_FAILOVER);
	struct balancer_exclude full = {{NULL}, 0};
	for (int i = 0; i < BALANCER_EXCLUDE_MAX; i++)
		test_assert(balancer_exclude_add(&full, ex.members[0]));
	test_assert(!balancer_exclude_add(&full, ex.members[0]));
	balancer_destroy(&b);
}

static void test_table_changes(void)
{
	struct balancer *b = make(BALANCER_BYREQUESTS);
	struct balancer_member_settings bad = {"A.B", "h:1", 50, BALANCER_READY, false, false};
	struct balancer_member_info *infos;
	const char *error;
	test_assert(balancer_pick(b, STRV_LIT("A"), NULL, 1000, NULL) == NULL);
	add(b, "A", 50, BALANCER_READY);
	test_assert(balancer_add(b, &bad, NULL, &error) < 0);
	bad.route = "A";
	test_assert(balancer_add(b, &bad, NULL, &error) < 0);
	test_assert_str_eq(error, "a member with this route exists");
	bad.route = "C";
	bad.loadfactor = 101;
	test_assert(balancer_add(b, &bad, NULL, &error) < 0);
	bad.loadfactor = 0;
	test_assert(balancer_add(b, &bad, NULL, &error) < 0);
	test_assert(balancer_set_loadfactor(b, STRV_LIT("A"), 0) < 0);
	test_assert(balancer_set_loadfactor(b, STRV_LIT("A"), 100) == 0);
	test_assert(balancer_set_loadfactor(b, STRV_LIT("X"), 10) < 0);
	/* Removed while a request holds it: the request ends normally. */
	struct balancer_member *m = balancer_pick(b, STRV_LIT("A"), NULL, 1000, NULL);
	balancer_begin(m);
	test_assert(balancer_remove(b, STRV_LIT("A")) == 0);
	test_assert(balancer_remove(b, STRV_LIT("A")) < 0);
	test_assert(balancer_remove_member(b, m) < 0);
	test_assert_int_eq(balancer_count(b), 0);
	test_assert(balancer_pick(b, STRV_LIT("A"), NULL, 1000, NULL) == NULL);
	balancer_end(&m, 10, 20, false);
	/* Counters. */
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 40, BALANCER_STANDBY);
	m = balancer_pick(b, STRV_LIT("A"), NULL, 1000, NULL);
	balancer_begin(m);
	test_assert_int_eq(info_of(b, "A", 1000).in_flight, 1);
	balancer_end(&m, 100, 2000, true);
	size_t n = balancer_snapshot(b, 1000, &infos);
	test_assert_int_eq(n, 2);
	test_assert_str_eq(infos[0].route, "A");
	test_assert_str_eq(infos[0].address, "127.0.0.1:8009");
	test_assert(infos[0].requests == 1 && infos[0].in_flight == 0 && infos[0].bytes_in == 100 &&
	            infos[0].bytes_out == 2000 && infos[0].errors == 1 && infos[0].healthy);
	test_assert(infos[1].loadfactor == 40 && infos[1].state == BALANCER_STANDBY);
	mem_free(&infos);
	test_assert_str_eq(balancer_state_name(BALANCER_DISABLED), "disabled");
	enum balancer_state st;
	test_assert(balancer_state_parse("standby", &st) == 0 && st == BALANCER_STANDBY);
	test_assert(balancer_state_parse("Ready", &st) < 0);
	balancer_destroy(&b);
	balancer_destroy(&b); /* NULL: no-op */
}

struct worker {
	struct balancer *b;
	unsigned seed;
	uint64_t requests;
};

static void *worker_run(void *arg)
{
	static const char *const routes[] = {"", "A", "B", "C", "Z"};
	struct worker *w = arg;
	for (int i = 0; i < 20000; i++) {
		w->seed = w->seed * 1103515245 + 12345;
		const char *route = routes[(w->seed >> 16) % 5];
		struct balancer_member *m =
		    balancer_pick(w->b, strv_from_cstr(route), NULL, 1000, NULL);
		if (m == NULL)
			continue;
		balancer_begin(m);
		balancer_end(&m, 10, 20, false);
		w->requests++;
	}
	return NULL;
}

static void *changer_run(void *arg)
{
	struct balancer *b = arg;
	for (int i = 0; i < 2000; i++) {
		balancer_set_state(b, STRV_LIT("C"), i % 3 == 0 ? BALANCER_DRAIN : BALANCER_READY);
		balancer_set_loadfactor(b, STRV_LIT("B"), 1 + i % 100);
		struct balancer_member *m = balancer_find(b, STRV_LIT("A"));
		balancer_health_result(m, i % 7 != 0, false, 1000);
		balancer_member_unref(&m);
		balancer_remove(b, STRV_LIT("D"));
		add(b, "D", 10, BALANCER_READY);
	}
	return NULL;
}

static void test_threads(void)
{
	struct balancer *b = make(BALANCER_BYBUSYNESS);
	struct worker w[6];
	pthread_t t[7];
	struct balancer_member_info *infos;
	uint64_t total = 0, requests = 0, bytes = 0;
	add(b, "A", 50, BALANCER_READY);
	add(b, "B", 50, BALANCER_READY);
	add(b, "C", 50, BALANCER_READY);
	add(b, "D", 10, BALANCER_READY);
	for (int i = 0; i < 6; i++) {
		w[i] = (struct worker){b, (unsigned)i + 1, 0};
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	pthread_create(&t[6], NULL, changer_run, b);
	for (int i = 0; i < 7; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 6; i++)
		total += w[i].requests;
	size_t n = balancer_snapshot(b, 1000, &infos);
	test_assert_int_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		test_assert_int_eq(infos[i].in_flight, 0);
		if (strcmp(infos[i].route, "D") != 0) { /* D's counters restart with each re-add */
			requests += infos[i].requests;
			bytes += infos[i].bytes_out;
		}
	}
	test_assert(total == 120000);
	test_assert(requests <= total && bytes == requests * 20);
	mem_free(&infos);
	balancer_destroy(&b);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"equal_split", test_equal_split},
	    {"weighted_split", test_weighted_split},
	    {"sticky_does_not_skew", test_sticky_does_not_skew},
	    {"states", test_states},
	    {"standby", test_standby},
	    {"failover_and_retry", test_failover_and_retry},
	    {"health_rise_fall", test_health_rise_fall},
	    {"bybusyness", test_bybusyness},
	    {"exclude", test_exclude},
	    {"table_changes", test_table_changes},
	    {"threads", test_threads},
	    {NULL, NULL},
	};
	return test_run(cases);
}
