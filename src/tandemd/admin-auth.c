/* SPDX-License-Identifier: MIT */
/* argon2id verification is deliberately slow (~tens of ms, 19 MiB), so a verified credential
   is remembered for a minute under a keyed hash; failures are counted per client address
   and user, the address being the one behind the trusted proxies (a balancer's own address
   would make every client one). */
#include "admin-auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http-basic.h"
#include "http-forwarded.h"
#include "http-server.h"
#include "login-throttle.h"
#include "mem.h"
#include "provision.h"

#define CACHE_SLOTS       64
#define CACHE_TTL_S       60
#define THROTTLE_CAPACITY 4096

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
	struct login_throttle *failures;
	const struct cidr *trusted;
	size_t trusted_count;
};

struct admin_auth *admin_auth_create(const struct cidr *trusted, size_t trusted_count)
{
	static const struct login_throttle_limits limits = {
	    .per_address = ADMIN_THROTTLE_PER_ADDRESS,
	    .per_user_address = ADMIN_THROTTLE_PER_USER_ADDRESS,
	    .per_user = ADMIN_THROTTLE_PER_USER,
	    .window_s = ADMIN_THROTTLE_WINDOW_S,
	    .capacity = THROTTLE_CAPACITY,
	};
	struct admin_auth *auth = mem_calloc(1, sizeof(*auth));
	pthread_mutex_init(&auth->lock, NULL);
	randombytes_buf(auth->key, sizeof(auth->key));
	auth->failures = login_throttle_create(&limits);
	auth->trusted = trusted;
	auth->trusted_count = trusted_count;
	return auth;
}

void admin_auth_destroy(struct admin_auth **authp)
{
	struct admin_auth *auth = *authp;
	if (auth == NULL)
		return;
	sodium_memzero(auth->cache, sizeof(auth->cache));
	login_throttle_destroy(&auth->failures);
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
                                     struct http_request *req, int64_t cid, const char *needs)
{
	char creds[600], who[300];
	char *user, *pass;
	time_t now = time(NULL), mono_s = (time_t)(clock_mono_ms() / 1000);
	struct http_client_ip ip;

	http_request_client_ip(req, auth->trusted, auth->trusted_count, &ip);
	bool have_creds = http_basic_parse(http_request_header(req, "Authorization"), creds,
	                                   sizeof(creds), &user, &pass);
	/* the master is asked for on every call; a context admin only where cid is theirs */
	login_throttle_user(who, sizeof(who), cid, "master", have_creds ? user : "");
	time_t retry = login_throttle_check(auth->failures, &ip.addr, who, mono_s);
	if (retry > 0) {
		sodium_memzero(creds, sizeof(creds));
		http_response_headerf(req, "Retry-After", "%lld", (long long)retry);
		http_response_error(req, 429, "ADM-0429",
		                    "too many failed admin logins from this address; try later");
		return ADMIN_NONE;
	}
	if (!have_creds) {
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
			login_throttle_fail(auth->failures, &ip.addr, who, mono_s);
		}
	}
	sodium_memzero(creds, sizeof(creds));
	if (id == ADMIN_NONE) {
		char msg[200];
		snprintf(msg, sizeof(msg), "wrong admin credentials: %s", needs);
		unauthorized(req, msg);
	}
	return id;
}
