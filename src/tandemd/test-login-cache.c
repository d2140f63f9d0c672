/* SPDX-License-Identifier: MIT */
/* Login cache: hits only for the same login and revocation generation, the ticket guard, the
   drops by user, context and all, logins too long to keep. */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "login-cache.h"
#include "provision.h"
#include "test.h"

static struct prov_login row(int64_t uid, const char *hash)
{
	struct prov_login u;
	memset(&u, 0, sizeof(u));
	u.uid = uid;
	u.enabled = true;
	snprintf(u.password_hash, sizeof(u.password_hash), "%s", hash);
	return u;
}

static void put(struct login_cache *lc, int64_t cid, const char *login, uint64_t gen, int64_t uid)
{
	struct prov_login u = row(uid, login);
	login_cache_put(lc, login_cache_ticket(lc), cid, login, gen, &u);
}

/* The uid cached for login, or 0 on a miss. */
static int64_t get(struct login_cache *lc, int64_t cid, const char *login, uint64_t gen)
{
	struct prov_login u = row(-1, "untouched");
	if (!login_cache_get(lc, cid, login, gen, &u)) {
		test_assert_int_eq(u.uid, -1); /* a miss leaves user_r alone */
		return 0;
	}
	/* the row put() stored for this login (its hash field holds the login, cut to fit) */
	test_assert(strncmp(u.password_hash, login, sizeof(u.password_hash) - 1) == 0);
	test_assert(u.enabled);
	return u.uid;
}

static void test_hit_needs_login_and_generation(void)
{
	struct login_cache *lc = login_cache_create(16, 60000);
	test_assert_str_eq(cache_name(login_cache_cache(lc)), "login");
	test_assert_int_eq(get(lc, 1, "alice", 0), 0);
	put(lc, 1, "alice", 3, 5);
	test_assert_int_eq(get(lc, 1, "alice", 3), 5);
	test_assert_int_eq(get(lc, 1, "alice", 4), 0); /* revoked since it was read */
	test_assert_int_eq(get(lc, 2, "alice", 3), 0); /* another context */
	test_assert_int_eq(get(lc, 1, "alicf", 3), 0);
	put(lc, 1, "alice", 4, 5); /* read again after the revocation */
	test_assert_int_eq(get(lc, 1, "alice", 4), 5);
	struct cache_stats st;
	cache_get_stats(login_cache_cache(lc), &st);
	test_assert_int_eq(st.entries, 1);
	login_cache_destroy(&lc);
	test_assert(lc == NULL);
	login_cache_destroy(&lc);
}

static void test_ticket_guards_against_a_drop_meanwhile(void)
{
	struct login_cache *lc = login_cache_create(16, 60000);
	uint64_t ticket = login_cache_ticket(lc);
	/* the row is read from SQL here, then its user changes and the drop goes by */
	login_cache_forget_user(lc, 1, 5);
	struct prov_login u = row(5, "alice");
	login_cache_put(lc, ticket, 1, "alice", 0, &u);
	test_assert_int_eq(get(lc, 1, "alice", 0), 0);
	login_cache_put(lc, login_cache_ticket(lc), 1, "alice", 0, &u);
	test_assert_int_eq(get(lc, 1, "alice", 0), 5);
	login_cache_destroy(&lc);
}

static void test_drops(void)
{
	struct login_cache *lc = login_cache_create(16, 60000);
	put(lc, 1, "alice", 0, 5);
	put(lc, 1, "al", 0, 5); /* a second login of the same user */
	put(lc, 1, "bob", 0, 6);
	put(lc, 2, "carol", 0, 5); /* uid 5 of another context */
	login_cache_forget_user(lc, 1, 5);
	test_assert_int_eq(get(lc, 1, "alice", 0), 0);
	test_assert_int_eq(get(lc, 1, "al", 0), 0);
	test_assert_int_eq(get(lc, 1, "bob", 0), 6);
	test_assert_int_eq(get(lc, 2, "carol", 0), 5);
	login_cache_drop_context(lc, 1);
	test_assert_int_eq(get(lc, 1, "bob", 0), 0);
	test_assert_int_eq(get(lc, 2, "carol", 0), 5);
	put(lc, 1, "bob", 0, 6);
	login_cache_clear(lc);
	test_assert_int_eq(get(lc, 1, "bob", 0), 0);
	test_assert_int_eq(get(lc, 2, "carol", 0), 0);
	login_cache_destroy(&lc);
}

static void test_long_login_is_not_kept(void)
{
	struct login_cache *lc = login_cache_create(16, 60000);
	char login[200];
	memset(login, 'x', sizeof(login) - 1);
	login[sizeof(login) - 1] = '\0';
	put(lc, 1, login, 0, 5);
	test_assert_int_eq(get(lc, 1, login, 0), 0);
	login[129] = '\0'; /* the longest that fits */
	put(lc, 1, login, 0, 5);
	test_assert_int_eq(get(lc, 1, login, 0), 5);
	login_cache_destroy(&lc);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"hit_needs_login_and_generation", test_hit_needs_login_and_generation},
	    {"ticket_guards_against_a_drop_meanwhile", test_ticket_guards_against_a_drop_meanwhile},
	    {"drops", test_drops},
	    {"long_login_is_not_kept", test_long_login_is_not_kept},
	    {NULL, NULL},
	};
	return test_run(cases);
}
