/* SPDX-License-Identifier: MIT */
/* argon2id verification is deliberately slow (~tens of ms, 19 MiB), so a verified credential
   is remembered for a minute under a keyed hash; failures are counted per address. */
#include "admin-auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http-server.h"
#include "mem.h"
#include "provision.h"

#define CACHE_SLOTS    64
#define CACHE_TTL_S    60
#define THROTTLE_SLOTS 1024

struct cached {
	unsigned char digest[32];
	enum admin_identity identity;
	int64_t cid;
	time_t expires;
};

struct failures {
	char addr[64];
	unsigned count;
	time_t window_start;
};

struct admin_auth {
	pthread_mutex_t lock;
	unsigned char key[crypto_generichash_KEYBYTES]; /* per process: digests never leak */
	struct cached cache[CACHE_SLOTS];
	unsigned next_slot;
	struct failures failures[THROTTLE_SLOTS];
};

struct admin_auth *admin_auth_create(void)
{
	struct admin_auth *auth = mem_calloc(1, sizeof(*auth));
	pthread_mutex_init(&auth->lock, NULL);
	randombytes_buf(auth->key, sizeof(auth->key));
	return auth;
}

void admin_auth_destroy(struct admin_auth **authp)
{
	struct admin_auth *auth = *authp;
	if (auth == NULL)
		return;
	sodium_memzero(auth->cache, sizeof(auth->cache));
	pthread_mutex_destroy(&auth->lock);
	mem_free(authp);
}

/* Address without the port: "127.0.0.1:5678" -> "127.0.0.1". */
static void peer_addr(struct http_request *req, char *out, size_t size)
{
	const char *peer = http_request_peer(req);
	const char *colon = strrchr(peer, ':');
	size_t len = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
	snprintf(out, size, "%.*s", (int)len, peer);
}

static struct failures *failure_slot(struct admin_auth *auth, const char *addr, bool create)
{
	unsigned h = 2166136261u;
	for (const char *p = addr; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct failures *f = &auth->failures[h % THROTTLE_SLOTS];
	if (strcmp(f->addr, addr) == 0)
		return f;
	if (!create)
		return NULL;
	/* A collision evicts the older address: throttling is best effort, never a lock-out
	   of someone else. */
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	f->count = 0;
	f->window_start = time(NULL);
	return f;
}

static void unauthorized(struct http_request *req, const char *message)
{
	http_response_header(req, "WWW-Authenticate", "Basic realm=\"tandem-admin\"");
	http_response_error(req, 401, "ADM-0401", message);
}

/* Splits "Basic base64(user:pass)" into user and pass (both NUL-terminated in buf). */
static bool parse_basic(struct strv header, char *buf, size_t size, char **user_r, char **pass_r)
{
	if (header.len < 7 || !strv_eq_ci(strv_make(header.ptr, 6), STRV_LIT("Basic ")))
		return false;
	size_t len;
	if (sodium_base642bin((unsigned char *)buf, size - 1, header.ptr + 6, header.len - 6, NULL,
	                      &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	buf[len] = '\0';
	if (strlen(buf) != len)
		return false; /* NUL inside */
	char *colon = strchr(buf, ':');
	if (colon == NULL)
		return false;
	*colon = '\0';
	*user_r = buf;
	*pass_r = colon + 1;
	return true;
}

enum admin_identity admin_auth_check(struct admin_auth *auth, struct provision *prov,
                                     struct http_request *req, int64_t cid)
{
	char addr[64], creds[600];
	char *user, *pass;
	time_t now = time(NULL);

	peer_addr(req, addr, sizeof(addr));
	pthread_mutex_lock(&auth->lock);
	struct failures *f = failure_slot(auth, addr, false);
	if (f != NULL && now - f->window_start >= ADMIN_THROTTLE_WINDOW_S) {
		f->count = 0;
		f->window_start = now;
	}
	bool throttled = f != NULL && f->count >= ADMIN_THROTTLE_FAILURES;
	time_t retry = f != NULL ? f->window_start + ADMIN_THROTTLE_WINDOW_S - now : 0;
	pthread_mutex_unlock(&auth->lock);
	if (throttled) {
		http_response_headerf(req, "Retry-After", "%lld", (long long)retry);
		http_response_error(req, 429, "ADM-0429",
		                    "too many failed admin logins from this address; try later");
		return ADMIN_NONE;
	}
	if (!parse_basic(http_request_header(req, "Authorization"), creds, sizeof(creds), &user,
	                 &pass)) {
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
			http_response_error(req, 503, "ADM-0503", err.message);
			return ADMIN_NONE;
		}
		pthread_mutex_lock(&auth->lock);
		if (id != ADMIN_NONE) {
			struct cached *c = &auth->cache[auth->next_slot++ % CACHE_SLOTS];
			memcpy(c->digest, digest, sizeof(digest));
			c->identity = id;
			c->cid = cid;
			c->expires = now + CACHE_TTL_S;
		} else {
			f = failure_slot(auth, addr, true);
			f->count++;
		}
		pthread_mutex_unlock(&auth->lock);
	}
	sodium_memzero(creds, sizeof(creds));
	if (id == ADMIN_NONE)
		unauthorized(req, "wrong admin credentials");
	return id;
}
