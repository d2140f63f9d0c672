/* SPDX-License-Identifier: MIT */
/* The login cache over lib-cluster's cache: keys are hashes of the login, so the value keeps
   the login and a hit compares it. */
#include "login-cache.h"

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "mem.h"
#include "provision.h"

struct login_cache {
	struct cache *cache;
};

struct cached_login {
	char login[130];
	uint64_t gen; /* the context's revocation generation the row was read under */
	struct prov_login user;
};

struct login_cache *login_cache_create(size_t entries, uint64_t ttl_ms)
{
	struct login_cache *lc = mem_calloc(1, sizeof(*lc));
	lc->cache = cache_create("login", entries, sizeof(struct cached_login), ttl_ms);
	return lc;
}

void login_cache_destroy(struct login_cache **lc)
{
	if (*lc == NULL)
		return;
	cache_destroy(&(*lc)->cache);
	mem_free(lc);
}

bool login_cache_get(struct login_cache *lc, int64_t cid, const char *login, uint64_t gen,
                     struct prov_login *user_r)
{
	struct cached_login cl;
	size_t size;
	if (cache_get(lc->cache, cid, cache_key_str(login), &cl, &size) == 0 ||
	    size != sizeof(cl) || strcmp(cl.login, login) != 0 || cl.gen != gen)
		return false;
	*user_r = cl.user;
	return true;
}

uint64_t login_cache_ticket(struct login_cache *lc)
{
	return cache_generation(lc->cache);
}

void login_cache_put(struct login_cache *lc, uint64_t ticket, int64_t cid, const char *login,
                     uint64_t gen, const struct prov_login *user)
{
	struct cached_login cl;
	memset(&cl, 0, sizeof(cl));
	if (strlen(login) >= sizeof(cl.login))
		return;
	snprintf(cl.login, sizeof(cl.login), "%s", login);
	cl.gen = gen;
	cl.user = *user;
	cache_put(lc->cache, cid, cache_key_str(login), &cl, sizeof(cl), ticket);
}

static bool login_of_user(const void *value, size_t size, void *ctx)
{
	const struct cached_login *cl = value;
	return size == sizeof(*cl) && cl->user.uid == *(const int64_t *)ctx;
}

void login_cache_forget_user(struct login_cache *lc, int64_t cid, int64_t uid)
{
	cache_drop_if(lc->cache, cid, login_of_user, &uid);
}

void login_cache_drop_context(struct login_cache *lc, int64_t cid)
{
	cache_drop_context(lc->cache, cid);
}

void login_cache_clear(struct login_cache *lc)
{
	cache_clear(lc->cache);
}

struct cache *login_cache_cache(struct login_cache *lc)
{
	return lc->cache;
}
