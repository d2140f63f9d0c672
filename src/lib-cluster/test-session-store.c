/* SPDX-License-Identifier: MIT */
/* Memory session store: put/get/touch/remove, expiry, per-user listing oldest first,
   revocation by user and by context with generations that refuse a late put. */
#include <stdio.h>
#include <string.h>

#include "session-store.h"
#include "test.h"

static struct session make(const char *id, int64_t uid, uint64_t created)
{
	struct session s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%.32s", id);
	s.cid = 1;
	s.uid = uid;
	s.created_ms = s.last_ms = created;
	s.lifetime_ms = 1000;
	return s;
}

static void test_basic(void)
{
	struct session_store *st = session_store_memory_create();
	struct session s = make("aa", 1, 100), got;
	test_assert_int_eq(st->ops->put(st, &s), 0);
	test_assert_int_eq(st->ops->get(st, "aa", 500, &got), 1);
	test_assert(got.uid == 1);
	test_assert_int_eq(st->ops->get(st, "bb", 500, &got), 0);
	/* idle lifetime: expired after last use + lifetime, extended by touch */
	test_assert_int_eq(st->ops->get(st, "aa", 1101, &got), 0);
	s = make("cc", 1, 100);
	st->ops->put(st, &s);
	st->ops->touch(st, &s, 1000);
	test_assert_int_eq(st->ops->get(st, "cc", 1900, &got), 1);
	test_assert_int_eq(st->ops->remove(st, "cc"), 1);
	test_assert_int_eq(st->ops->remove(st, "cc"), 0);
	test_assert_int_eq(st->ops->get(st, "cc", 1000, &got), 0);
	session_store_destroy(&st);
	test_assert(st == NULL);
}

static void test_list_user_and_growth(void)
{
	struct session_store *st = session_store_memory_create();
	char id[40];
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		struct session s = make(id, i % 2 == 0 ? 7 : 8, 1000 + (uint64_t)(5000 - i));
		s.lifetime_ms = 100000;
		st->ops->put(st, &s);
	}
	test_assert_int_eq(st->ops->count(st), 5000);
	char ids[3][SESSION_ID_LEN + 1];
	int n = st->ops->list_user(st, 1, 7, 2000, ids, 3);
	test_assert_int_eq(n, 3);
	/* oldest first: the highest even i has the smallest creation time */
	test_assert_str_eq(ids[0], "s4998");
	test_assert_str_eq(ids[1], "s4996");
	session_store_destroy(&st);
}

static void test_revoke(void)
{
	struct session_store *st = session_store_memory_create();
	struct session got;
	uint64_t gen = 99;
	test_assert_int_eq(st->ops->generation(st, 1, &gen), 0);
	test_assert_int_eq(gen, 0);
	struct session a = make("a", 7, 100), b = make("b", 7, 100), c = make("c", 8, 100);
	struct session other = make("d", 7, 100);
	other.cid = 2;
	test_assert_int_eq(st->ops->put(st, &a), 0);
	test_assert_int_eq(st->ops->put(st, &b), 0);
	test_assert_int_eq(st->ops->put(st, &c), 0);
	test_assert_int_eq(st->ops->put(st, &other), 0);
	/* one user: both of its sessions, nobody else's */
	test_assert_int_eq(st->ops->revoke(st, 1, 7), 2);
	test_assert_int_eq(st->ops->get(st, "a", 500, &got), 0);
	test_assert_int_eq(st->ops->get(st, "b", 500, &got), 0);
	test_assert_int_eq(st->ops->get(st, "c", 500, &got), 1);
	test_assert_int_eq(st->ops->get(st, "d", 500, &got), 1);
	/* a login that read generation 0 before the revocation cannot store its session */
	test_assert_int_eq(st->ops->put(st, &a), 1);
	test_assert_int_eq(st->ops->get(st, "a", 500, &got), 0);
	test_assert_int_eq(st->ops->generation(st, 1, &gen), 0);
	test_assert_int_eq(gen, 1);
	a.gen = gen;
	test_assert_int_eq(st->ops->put(st, &a), 0);
	/* the whole context: every user, and the other context keeps its session */
	test_assert_int_eq(st->ops->revoke(st, 1, 0), 2);
	test_assert_int_eq(st->ops->get(st, "c", 500, &got), 0);
	test_assert_int_eq(st->ops->get(st, "d", 500, &got), 1);
	test_assert_int_eq(st->ops->generation(st, 1, &gen), 0);
	test_assert_int_eq(gen, 2);
	test_assert_int_eq(st->ops->generation(st, 2, &gen), 0);
	test_assert_int_eq(gen, 0);
	test_assert_int_eq(st->ops->revoke(st, 3, 0), 0);
	session_store_destroy(&st);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"basic", test_basic},
	    {"list user and growth", test_list_user_and_growth},
	    {"revoke", test_revoke},
	    {NULL, NULL},
	};
	return test_run(cases);
}
