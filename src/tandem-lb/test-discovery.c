/* SPDX-License-Identifier: MIT */
/* Unit tests for discovery: members learned from announcements, refreshed and aged out. */
#include <stdio.h>
#include <string.h>

#include "balancer.h"
#include "discovery.h"
#include "mem.h"
#include "test.h"

static struct balancer *b;
static struct discovery *d;

static void setup(void)
{
	struct balancer_settings set = {BALANCER_BYREQUESTS, 5000, 2, 3};
	struct discovery_settings dset = {"alpha", 3000, 0};
	b = balancer_create(&set);
	d = discovery_create(b, &dset);
}

static void teardown(void)
{
	discovery_destroy(&d);
	balancer_destroy(&b);
}

static struct announce_msg msg(const char *route, const char *address, bool draining,
                               uint64_t started, uint64_t seq)
{
	struct announce_msg m;
	memset(&m, 0, sizeof(m));
	announce_field_set(m.cluster, sizeof(m.cluster), "alpha");
	announce_field_set(m.route, sizeof(m.route), route);
	announce_field_set(m.address, sizeof(m.address), address);
	announce_field_set(m.version, sizeof(m.version), "0.1.0");
	m.state = draining ? ANNOUNCE_DRAINING : ANNOUNCE_READY;
	m.started_ms = started;
	m.seq = seq;
	return m;
}

static enum discovery_result feed(const char *route, const char *address, bool draining,
                                  uint64_t started, uint64_t seq, uint64_t now)
{
	struct announce_msg m = msg(route, address, draining, started, seq);
	return discovery_feed(d, &m, NULL, now);
}

/* The member's snapshot entry; found_r false if the route is not in the table. */
static struct balancer_member_info info(const char *route, bool *found_r)
{
	struct balancer_member_info *infos, out;
	size_t n = balancer_snapshot(b, 0, &infos);
	memset(&out, 0, sizeof(out));
	*found_r = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(infos[i].route, route) == 0) {
			out = infos[i];
			*found_r = true;
		}
	}
	mem_free(&infos);
	return out;
}

static void add_static(const char *route, const char *address)
{
	struct balancer_member_settings set = {route, address, 80, BALANCER_READY, false, false};
	const char *error;
	test_assert(balancer_add(b, &set, NULL, &error) == 0);
}

static void test_add_refresh_expire(void)
{
	bool found;
	setup();
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 100, 1, 1000) == DISCOVERY_ADDED);
	struct balancer_member_info i = info("OX-1", &found);
	test_assert(found && i.discovered && i.loadfactor == DISCOVERY_DEFAULT_LOADFACTOR &&
	            i.state == BALANCER_READY && i.effective == BALANCER_READY);
	test_assert_str_eq(i.address, "10.0.0.1:8009");
	test_assert_int_eq(discovery_count(d), 1);
	/* Refreshed by every newer datagram; aged out member_ttl after the last one. */
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 100, 2, 2000) == DISCOVERY_REFRESHED);
	test_assert_int_eq(discovery_expire(d, 4999), 0);
	test_assert(info("OX-1", &found).route[0] != '\0' && found);
	test_assert_int_eq(discovery_expire(d, 5000), 1);
	info("OX-1", &found);
	test_assert(!found);
	test_assert_int_eq(discovery_count(d), 0);
	/* It comes back with its next datagram. */
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 100, 9, 6000) == DISCOVERY_ADDED);
	test_assert_str_eq(discovery_result_name(DISCOVERY_ADDED), "added");
	teardown();
}

static void test_other_cluster_and_order(void)
{
	bool found;
	setup();
	struct announce_msg m = msg("OX-1", "10.0.0.1:8009", false, 100, 1);
	announce_field_set(m.cluster, sizeof(m.cluster), "beta");
	test_assert(discovery_feed(d, &m, NULL, 1000) == DISCOVERY_IGNORED);
	test_assert_int_eq(balancer_count(b), 0);

	test_assert(feed("OX-1", "10.0.0.1:8009", false, 100, 5, 1000) == DISCOVERY_ADDED);
	test_assert(feed("OX-1", "10.0.0.1:8009", true, 100, 6, 1100) == DISCOVERY_REFRESHED);
	test_assert_int_eq(info("OX-1", &found).effective, BALANCER_DRAIN);
	/* A reordered older "ready" (same run, lower or equal seq) does not undo the drain. */
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 100, 4, 1200) == DISCOVERY_IGNORED);
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 100, 6, 1200) == DISCOVERY_IGNORED);
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 99, 50, 1200) == DISCOVERY_IGNORED);
	test_assert_int_eq(info("OX-1", &found).draining, 1);
	/* Ignored datagrams do not keep a member alive. */
	test_assert_int_eq(discovery_expire(d, 4100), 1);
	/* A restart (newer started) begins again at seq 1 and is ready. */
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 200, 1, 5000) == DISCOVERY_ADDED);
	test_assert(feed("OX-1", "10.0.0.1:8009", true, 200, 2, 5100) == DISCOVERY_REFRESHED);
	test_assert(feed("OX-1", "10.0.0.1:8009", false, 300, 1, 5200) == DISCOVERY_REFRESHED);
	test_assert_int_eq(info("OX-1", &found).effective, BALANCER_READY);
	teardown();
}

static void test_draining_on_add(void)
{
	bool found;
	setup();
	test_assert(feed("OX-2", "10.0.0.2:8009", true, 1, 1, 1000) == DISCOVERY_ADDED);
	struct balancer_member_info i = info("OX-2", &found);
	test_assert(found && i.draining && i.effective == BALANCER_DRAIN);
	/* Takes only sticky traffic. */
	test_assert(balancer_pick(b, STRV_LIT(""), NULL, 1000, NULL) == NULL);
	struct balancer_member *m = balancer_pick(b, STRV_LIT("OX-2"), NULL, 1000, NULL);
	test_assert(m != NULL);
	balancer_end(&m, 0, 0, false);
	teardown();
}

static void test_static_members(void)
{
	bool found;
	setup();
	add_static("OX-1", "node1:8009");
	/* Only the draining flag of a configured member follows the datagrams. */
	test_assert(feed("OX-1", "10.9.9.9:1234", true, 1, 1, 1000) == DISCOVERY_STATIC);
	struct balancer_member_info i = info("OX-1", &found);
	test_assert(found && !i.discovered && i.draining && i.loadfactor == 80);
	test_assert_str_eq(i.address, "node1:8009");
	test_assert(feed("OX-1", "10.9.9.9:1234", false, 1, 2, 1100) == DISCOVERY_STATIC);
	test_assert_int_eq(info("OX-1", &found).draining, 0);
	/* Never aged out, not counted as learned. */
	test_assert_int_eq(discovery_count(d), 0);
	test_assert_int_eq(discovery_expire(d, 100000), 0);
	info("OX-1", &found);
	test_assert(found);
	/* Destroying the discovery keeps configured members. */
	discovery_destroy(&d);
	test_assert_int_eq(balancer_count(b), 1);
	balancer_destroy(&b);
}

static void test_moved_and_operator(void)
{
	bool found;
	setup();
	test_assert(feed("OX-3", "10.0.0.3:8009", false, 1, 1, 1000) == DISCOVERY_ADDED);
	test_assert(balancer_set_state(b, STRV_LIT("OX-3"), BALANCER_MAINT) == 0);
	test_assert(balancer_set_loadfactor(b, STRV_LIT("OX-3"), 7) == 0);
	/* A new address replaces the member but keeps what the operator set. */
	test_assert(feed("OX-3", "10.0.0.4:8009", false, 2, 1, 1100) == DISCOVERY_MOVED);
	struct balancer_member_info i = info("OX-3", &found);
	test_assert(found && i.discovered && i.state == BALANCER_MAINT && i.loadfactor == 7);
	test_assert_str_eq(i.address, "10.0.0.4:8009");
	test_assert_int_eq(discovery_count(d), 1);
	/* The effective address given by the receiver wins over the datagram's. */
	struct announce_msg m = msg("OX-3", "0.0.0.0:8009", false, 2, 2);
	test_assert(discovery_feed(d, &m, "10.0.0.4:8009", 1200) == DISCOVERY_REFRESHED);
	/* Removed by the operator: the still-announcing node comes back. */
	test_assert(balancer_remove(b, STRV_LIT("OX-3")) == 0);
	test_assert(feed("OX-3", "10.0.0.4:8009", false, 2, 3, 1300) == DISCOVERY_ADDED);
	test_assert_int_eq(discovery_count(d), 1);
	/* Replaced by the operator with a member of their own: never touched beyond drain. */
	test_assert(balancer_remove(b, STRV_LIT("OX-3")) == 0);
	add_static("OX-3", "node3:8009");
	test_assert(feed("OX-3", "10.0.0.4:8009", false, 2, 4, 1400) == DISCOVERY_STATIC);
	test_assert_int_eq(discovery_count(d), 0);
	test_assert_int_eq(discovery_expire(d, 100000), 0);
	test_assert_str_eq(info("OX-3", &found).address, "node3:8009");
	teardown();
}

static void test_limits_and_destroy(void)
{
	char route[16];
	setup();
	for (int i = 0; i < DISCOVERY_MEMBERS_MAX; i++) {
		snprintf(route, sizeof(route), "N%d", i);
		test_assert(feed(route, "10.0.0.1:8009", false, 1, 1, 1000) == DISCOVERY_ADDED);
	}
	test_assert(feed("one-more", "10.0.0.1:8009", false, 1, 1, 1000) == DISCOVERY_IGNORED);
	test_assert_int_eq(discovery_count(d), DISCOVERY_MEMBERS_MAX);
	add_static("S", "s:1");
	/* Destroy removes the learned members only. */
	discovery_destroy(&d);
	test_assert_int_eq(balancer_count(b), 1);
	balancer_destroy(&b);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"add_refresh_expire", test_add_refresh_expire},
	    {"other_cluster_and_order", test_other_cluster_and_order},
	    {"draining_on_add", test_draining_on_add},
	    {"static_members", test_static_members},
	    {"moved_and_operator", test_moved_and_operator},
	    {"limits_and_destroy", test_limits_and_destroy},
	    {NULL, NULL},
	};
	return test_run(cases);
}
