/* SPDX-License-Identifier: MIT */
/* Three counts. The address count stops one client trying many users; the user-and-address
   count stops one client guessing one user's password, without touching that user's logins
   from anywhere else; the user count, well above what one address can reach, answers many
   addresses guessing one user: past it each address gets one failure for that user, not
   several, and an address without a failure for the user (the user at home) still gets in. */
#include "login-throttle.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "throttle.h"

#define USER_MAX 300

struct login_throttle {
	struct login_throttle_limits limits;
	struct throttle *by_address;
	struct throttle *by_user_address;
	struct throttle *by_user;
};

struct login_throttle *login_throttle_create(const struct login_throttle_limits *limits)
{
	struct login_throttle *lt = mem_calloc(1, sizeof(*lt));
	lt->limits = *limits;
	lt->by_address = throttle_create(limits->window_s, limits->capacity);
	lt->by_user_address = throttle_create(limits->window_s, limits->capacity);
	lt->by_user = throttle_create(limits->window_s, limits->capacity);
	return lt;
}

void login_throttle_destroy(struct login_throttle **ltp)
{
	struct login_throttle *lt = *ltp;
	if (lt == NULL)
		return;
	throttle_destroy(&lt->by_address);
	throttle_destroy(&lt->by_user_address);
	throttle_destroy(&lt->by_user);
	mem_free(ltp);
}

struct keys {
	struct cidr_addr address;
	/* user, NUL, address: a user name cannot reach into the address part */
	uint8_t user_address[USER_MAX + 1 + sizeof(struct cidr_addr)];
	size_t user_address_len;
	size_t user_len;
};

static void make_keys(const struct cidr_addr *addr, const char *user, struct keys *k)
{
	k->address = cidr_addr_is_v4(addr) ? *addr : cidr_addr_mask(addr, 64);
	k->user_len = strnlen(user, USER_MAX);
	memcpy(k->user_address, user, k->user_len);
	k->user_address[k->user_len] = '\0';
	memcpy(k->user_address + k->user_len + 1, k->address.b, sizeof(k->address.b));
	k->user_address_len = k->user_len + 1 + sizeof(k->address.b);
}

static time_t max_time(time_t a, time_t b)
{
	return a > b ? a : b;
}

time_t login_throttle_check(struct login_throttle *lt, const struct cidr_addr *addr,
                            const char *user, time_t now)
{
	const struct login_throttle_limits *l = &lt->limits;
	struct keys k;
	time_t wait = 0, address_left, pair_left, user_left;
	make_keys(addr, user, &k);
	unsigned address =
	    throttle_count(lt->by_address, k.address.b, sizeof(k.address.b), now, &address_left);
	unsigned pair = throttle_count(lt->by_user_address, k.user_address, k.user_address_len, now,
	                               &pair_left);
	unsigned all = throttle_count(lt->by_user, user, k.user_len, now, &user_left);
	if (address >= l->per_address)
		wait = max_time(wait, address_left);
	if (pair >= l->per_user_address)
		wait = max_time(wait, pair_left);
	else if (pair > 0 && all >= l->per_user)
		/* free again when either count's window ends */
		wait = max_time(wait, pair_left < user_left ? pair_left : user_left);
	return wait;
}

void login_throttle_fail(struct login_throttle *lt, const struct cidr_addr *addr, const char *user,
                         time_t now)
{
	struct keys k;
	make_keys(addr, user, &k);
	throttle_fail(lt->by_address, k.address.b, sizeof(k.address.b), now);
	throttle_fail(lt->by_user_address, k.user_address, k.user_address_len, now);
	throttle_fail(lt->by_user, user, k.user_len, now);
}

static void append_lower(char *out, size_t size, size_t *at, const char *s)
{
	for (; *s != '\0' && *at + 1 < size; s++)
		out[(*at)++] = (char)tolower((unsigned char)*s);
	out[*at] = '\0';
}

static void append_user(char *out, size_t size, size_t *at, const char *scope, const char *user)
{
	append_lower(out, size, at, scope);
	append_lower(out, size, at, "/");
	append_lower(out, size, at, user);
}

void login_throttle_user_in(char *out, size_t size, const char *scope, const char *user)
{
	size_t at = 0;
	out[0] = '\0';
	append_user(out, size, &at, scope, user);
}

void login_throttle_user(char *out, size_t size, int64_t cid, const char *mapping, const char *user)
{
	char scope[32];
	size_t at = 0;
	if (cid > 0) {
		snprintf(scope, sizeof(scope), "%lld", (long long)cid);
		login_throttle_user_in(out, size, scope, user);
		return;
	}
	out[0] = '\0';
	append_lower(out, size, &at, "?");
	append_user(out, size, &at, mapping, user);
}
