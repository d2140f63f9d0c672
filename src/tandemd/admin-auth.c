/* SPDX-License-Identifier: MIT */
/* argon2id verification is deliberately slow (~tens of ms, 19 MiB), so a verified credential
   is remembered for a minute under a keyed hash; failures are counted per address. */
#include "admin-auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http-basic.h"
#include "http-server.h"
#include "mem.h"
#include "provision.h"
#include "throttle.h"

#define CACHE_SLOTS    64
#define CACHE_TTL_S    60
#define THROTTLE_SLOTS 1024

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
	struct throttle *failures; /* per source address */
};

struct admin_auth *admin_auth_create(void)
{
	struct admin_auth *auth = mem_calloc(1, sizeof(*auth));
	pthread_mutex_init(&auth->lock, NULL);
	randombytes_buf(auth->key, sizeof(auth->key));
	auth->failures =
	    throttle_create(ADMIN_THROTTLE_FAILURES, ADMIN_THROTTLE_WINDOW_S, THROTTLE_SLOTS);
	return auth;
}

void admin_auth_destroy(struct admin_auth **authp)
{
	struct admin_auth *auth = *authp;
	if (auth == NULL)
		return;
	sodium_memzero(auth->cache, sizeof(auth->cache));
	throttle_destroy(&auth->failures);
	pthread_mutex_destroy(&auth->lock);
	mem_free(authp);
}

static void unauthorized(struct http_request *req, const char *message)
{
	http_response_header(req, "WWW-Authenticate", "Basic realm=\"tandem-admin\"");
	http_response_error(req, 401, "ADM-0401", message);
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

enum admin_identity admin_auth_check(struct admin_auth *auth, struct provision *prov,
                                     struct http_request *req, int64_t cid)
{
	char creds[600];
	char *user, *pass;
	time_t now = time(NULL);

	const char *addr = http_request_peer_ip(req);
	time_t retry = throttle_check(auth->failures, addr, now);
	bool throttled = retry > 0;
	if (throttled) {
		http_response_headerf(req, "Retry-After", "%lld", (long long)retry);
		http_response_error(req, 429, "ADM-0429",
		                    "too many failed admin logins from this address; try later");
		return ADMIN_NONE;
	}
	if (!http_basic_parse(http_request_header(req, "Authorization"), creds, sizeof(creds),
	                      &user, &pass)) {
		unauthorized(req, "admin credentials required (HTTP Basic)");
		return ADMIN_NONE;
	}

	unsigned char digest[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, auth->key, sizeof(auth->key), sizeof(digest));
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)pass, strlen(pass) + 1);
	crypto_generichash_final(&st, digest, sizeof(digest));

	enum admin_identity id = ADMIN_NONE;
	pthread_mutex_lock(&auth->lock);
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		struct cached *c = &auth->cache[i];
		if (c->expires > now && sodium_memcmp(c->digest, digest, sizeof(digest)) == 0 &&
		    (c->identity == ADMIN_MASTER || c->cid == cid))
			id = c->identity;
	}
	pthread_mutex_unlock(&auth->lock);

	if (id == ADMIN_NONE) {
		struct prov_error err;
		int r = provision_auth_master(prov, user, pass, &err);
		if (r == 0 && cid > 0) {
			r = provision_auth_context_admin(prov, cid, user, pass, &err);
			if (r > 0)
				id = ADMIN_CONTEXT;
			else if (r < 0 && err.status == PROV_NOT_FOUND)
				r = 0; /* an unknown context is no reason to reveal anything */
		} else if (r > 0) {
			id = ADMIN_MASTER;
		}
		if (r < 0) {
			sodium_memzero(creds, sizeof(creds));
			if (err.status == PROV_FORBIDDEN)
				http_response_error(req, 403, "ADM-0403", err.message);
			else
				http_response_error(req, 503, "ADM-0503", err.message);
			return ADMIN_NONE;
		}
		if (id != ADMIN_NONE) {
			pthread_mutex_lock(&auth->lock);
			struct cached *c = &auth->cache[auth->next_slot++ % CACHE_SLOTS];
			memcpy(c->digest, digest, sizeof(digest));
			c->identity = id;
			c->cid = cid;
			c->expires = now + CACHE_TTL_S;
			pthread_mutex_unlock(&auth->lock);
		} else {
			throttle_fail(auth->failures, addr, now);
		}
	}
	sodium_memzero(creds, sizeof(creds));
	if (id == ADMIN_NONE)
		unauthorized(req, "wrong admin credentials");
	return id;
}
