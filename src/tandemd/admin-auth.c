/* SPDX-License-Identifier: MIT */
/* argon2id verification is deliberately slow (~tens of ms, 19 MiB), so a verified credential
   is remembered for a minute under a keyed hash. Failures are counted by the shared login
   per client address and user, the address being the one behind the trusted proxies (a
   balancer's own address would make every client one). */
#include "admin-auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http-admin-login.h"
#include "http-server.h"
#include "mem.h"
#include "provision.h"

#define CACHE_SLOTS 64
#define CACHE_TTL_S 60

struct cached {
	unsigned char digest[32];
	enum admin_identity identity;
	int64_t cid;
	time_t expires;
};

struct admin_auth {
	pthread_mutex_t lock;
	unsigned char key[crypto_generichash_KEYBYTES]; /* per process: digests never leak */
	struct cached cache[CACHE_SLOTS];
	unsigned next_slot;
	struct http_admin_login *login;
};

struct admin_auth *admin_auth_create(const struct cidr *trusted, size_t trusted_count)
{
	const struct http_admin_login_settings set = {
	    .www_authenticate = "Basic realm=\"tandem-admin\"",
	    .code_401 = "ADM-0401",
	    .code_429 = "ADM-0429",
	    .missing_message = "admin credentials required (HTTP Basic)",
	    .throttled_message = "too many failed admin logins from this address; try later",
	    .trusted = trusted,
	    .trusted_count = trusted_count,
	};
	struct admin_auth *auth = mem_calloc(1, sizeof(*auth));
	pthread_mutex_init(&auth->lock, NULL);
	randombytes_buf(auth->key, sizeof(auth->key));
	auth->login = http_admin_login_create(&set);
	return auth;
}

void admin_auth_destroy(struct admin_auth **authp)
{
	struct admin_auth *auth = *authp;
	if (auth == NULL)
		return;
	sodium_memzero(auth->cache, sizeof(auth->cache));
	http_admin_login_destroy(&auth->login);
	pthread_mutex_destroy(&auth->lock);
	mem_free(authp);
}

void admin_auth_forget_context(struct admin_auth *auth, int64_t cid)
{
	pthread_mutex_lock(&auth->lock);
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		if (auth->cache[i].cid == cid)
			sodium_memzero(&auth->cache[i], sizeof(auth->cache[i]));
	}
	pthread_mutex_unlock(&auth->lock);
}

/* One admin_auth_check() call. */
struct attempt {
	struct admin_auth *auth;
	struct provision *prov;
	int64_t cid;
	enum admin_identity identity; /* out */
};

static enum admin_identity cache_find(struct admin_auth *auth, const unsigned char *digest,
                                      int64_t cid, time_t now)
{
	enum admin_identity id = ADMIN_NONE;
	pthread_mutex_lock(&auth->lock);
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		struct cached *c = &auth->cache[i];
		if (c->expires > now && sodium_memcmp(c->digest, digest, sizeof(c->digest)) == 0 &&
		    (c->identity == ADMIN_MASTER || c->cid == cid))
			id = c->identity;
	}
	pthread_mutex_unlock(&auth->lock);
	return id;
}

static void cache_add(struct admin_auth *auth, const unsigned char *digest, enum admin_identity id,
                      int64_t cid, time_t now)
{
	pthread_mutex_lock(&auth->lock);
	struct cached *c = &auth->cache[auth->next_slot++ % CACHE_SLOTS];
	memcpy(c->digest, digest, sizeof(c->digest));
	c->identity = id;
	c->cid = cid;
	c->expires = now + CACHE_TTL_S;
	pthread_mutex_unlock(&auth->lock);
}

static enum http_admin_verdict verify(struct http_request *req, const char *user, const char *pass,
                                      void *ctx)
{
	struct attempt *a = ctx;
	time_t now = time(NULL);
	unsigned char digest[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, a->auth->key, sizeof(a->auth->key), sizeof(digest));
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)pass, strlen(pass) + 1);
	crypto_generichash_final(&st, digest, sizeof(digest));

	a->identity = cache_find(a->auth, digest, a->cid, now);
	if (a->identity != ADMIN_NONE)
		return HTTP_ADMIN_OK;
	struct prov_error err;
	int r = provision_auth_master(a->prov, user, pass, &err);
	if (r == 0 && a->cid > 0) {
		r = provision_auth_context_admin(a->prov, a->cid, user, pass, &err);
		if (r > 0)
			a->identity = ADMIN_CONTEXT;
		else if (r < 0 && err.status == PROV_NOT_FOUND)
			r = 0; /* an unknown context is no reason to reveal anything */
	} else if (r > 0) {
		a->identity = ADMIN_MASTER;
	}
	if (r < 0) {
		if (err.status == PROV_FORBIDDEN)
			http_response_error(req, 403, "ADM-0403", err.message);
		else
			http_response_error(req, 503, "ADM-0503", err.message);
		return HTTP_ADMIN_ANSWERED;
	}
	if (a->identity == ADMIN_NONE)
		return HTTP_ADMIN_WRONG;
	cache_add(a->auth, digest, a->identity, a->cid, now);
	return HTTP_ADMIN_OK;
}

enum admin_identity admin_auth_check(struct admin_auth *auth, struct provision *prov,
                                     struct http_request *req, int64_t cid, const char *needs)
{
	char scope[32], wrong[200];
	struct attempt a = {.auth = auth, .prov = prov, .cid = cid, .identity = ADMIN_NONE};

	/* the master is asked for on every call; a context admin only where cid is theirs */
	if (cid > 0)
		snprintf(scope, sizeof(scope), "%lld", (long long)cid);
	else
		snprintf(scope, sizeof(scope), "?master");
	snprintf(wrong, sizeof(wrong), "wrong admin credentials: %s", needs);
	const struct http_admin_login_call call = {
	    .scope = scope,
	    .wrong_message = wrong,
	    .verify = verify,
	    .ctx = &a,
	};
	if (http_admin_login_check(auth->login, req, &call) == NULL)
		return ADMIN_NONE;
	return a.identity;
}
