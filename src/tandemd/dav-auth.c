/* SPDX-License-Identifier: MIT */
/* HTTP Basic for WebDAV over the JSON API's password check (api-session.c). */
#include "dav-auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api-common.h"
#include "api-session.h"
#include "cache.h"
#include "http-basic.h"
#include "http-forwarded.h"
#include "http-server.h"
#include "mem.h"
#include "node.h"
#include "sessions.h"

#define DAV_AUTH_CACHE_ENTRIES 4096

struct dav_auth {
	struct cache *cache; /* NULL: no caching */
	/* keys the digest of credentials; random per process, so the cache keys say nothing */
	unsigned char key[crypto_generichash_KEYBYTES];
};

/* A cache entry, under (0, the first 8 bytes of digest): the full digest is compared on a
   hit, and gen with the context's generation now. */
struct checked {
	unsigned char digest[crypto_generichash_BYTES];
	int64_t cid, uid;
	uint64_t gen;
	char user[130];
};

struct dav_auth *dav_auth_create(uint64_t ttl_ms)
{
	struct dav_auth *a = mem_calloc(1, sizeof(*a));
	if (ttl_ms > 0)
		a->cache = cache_create("dav-auth", DAV_AUTH_CACHE_ENTRIES, sizeof(struct checked),
		                        ttl_ms);
	randombytes_buf(a->key, sizeof(a->key));
	return a;
}

void dav_auth_destroy(struct dav_auth **auth)
{
	struct dav_auth *a = *auth;
	if (a == NULL)
		return;
	if (a->cache != NULL)
		cache_destroy(&a->cache);
	sodium_memzero(a->key, sizeof(a->key));
	mem_free(auth);
}

struct cache *dav_auth_cache(struct dav_auth *auth)
{
	return auth->cache;
}

/* Basic sends the password in clear: only over HTTPS (to us or to the trusted proxy in front),
   from loopback, or where the operator said so. */
static bool transport_ok(struct node *node, struct http_request *req)
{
	if (node->cfg.dav_basic_over_http)
		return true;
	const struct cidr *trusted = node->cfg.trusted_proxies;
	size_t n = node->cfg.trusted_proxy_count;
	if (http_request_forwarded_https(req, trusted, n))
		return true;
	struct http_client_ip from;
	http_request_client_ip(req, trusted, n, &from);
	return cidr_addr_is_loopback(&from.addr);
}

/* 1 a hit into *user_r, 0 a miss, -1 the session store failed (*why_r). */
static int from_cache(struct node *node, const struct checked *want, int64_t key,
                      struct api_user *user_r, const char **why_r)
{
	struct dav_auth *a = node->dav_auth;
	struct checked c;
	size_t size;
	if (a->cache == NULL || cache_get(a->cache, 0, key, &c, &size) == 0 || size != sizeof(c) ||
	    sodium_memcmp(c.digest, want->digest, sizeof(c.digest)) != 0)
		return 0;
	uint64_t gen;
	if (sessions_generation(node->sessions, c.cid, &gen, why_r) < 0)
		return -1;
	if (gen != c.gen)
		return 0; /* something changed in the context: check the password again */
	user_r->cid = c.cid;
	user_r->uid = c.uid;
	snprintf(user_r->login, sizeof(user_r->login), "%s", c.user);
	return 1;
}

/* The access log's user=, as for sessions: "<cid>/<uid>". */
void dav_auth_log_user(struct http_request *req, const struct api_user *user)
{
	char who[48];
	snprintf(who, sizeof(who), "%lld/%lld", (long long)user->cid, (long long)user->uid);
	http_request_set_user(req, who);
}

/* The cache key of login and password; their keyed digest into c. */
static int64_t digest(const struct dav_auth *a, const char *login, const char *password,
                      struct checked *c)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, a->key, sizeof(a->key), sizeof(c->digest));
	crypto_generichash_update(&st, (const unsigned char *)login, strlen(login) + 1);
	crypto_generichash_update(&st, (const unsigned char *)password, strlen(password));
	crypto_generichash_final(&st, c->digest, sizeof(c->digest));
	int64_t key;
	memcpy(&key, c->digest, sizeof(key));
	return key;
}

void dav_auth_input(struct node *node, struct http_request *req, struct dav_auth_input *in_r)
{
	memset(in_r, 0, sizeof(*in_r));
	in_r->transport_ok = transport_ok(node, req);
	http_request_client_ip(req, node->cfg.trusted_proxies, node->cfg.trusted_proxy_count,
	                       &in_r->from);
	struct strv h = http_request_header(req, "Authorization");
	in_r->has_authorization = h.ptr != NULL;
	if (h.ptr != NULL && h.len < sizeof(in_r->authorization))
		memcpy(in_r->authorization, h.ptr, h.len);
}

bool dav_auth_cached(struct node *node, struct http_request *req, struct api_user *user_r)
{
	memset(user_r, 0, sizeof(*user_r));
	if (node->dav_auth->cache == NULL || !transport_ok(node, req))
		return false;
	char buf[600];
	char *login, *password;
	if (!http_basic_parse(http_request_header(req, "Authorization"), buf, sizeof(buf), &login,
	                      &password))
		return false;
	struct checked c;
	memset(&c, 0, sizeof(c));
	int64_t key = digest(node->dav_auth, login, password, &c);
	const char *why;
	bool ok = from_cache(node, &c, key, user_r, &why) > 0;
	if (ok)
		dav_auth_log_user(req, user_r);
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&c, sizeof(c));
	return ok;
}

bool dav_auth_verify(struct node *node, const struct dav_auth_input *in, struct api_user *user_r,
                     struct api_refusal *why)
{
	struct dav_auth *a = node->dav_auth;
	memset(user_r, 0, sizeof(*user_r));
	if (!in->transport_ok) {
		api_refusal_set(why, 403, "DAV-0403",
		                "WebDAV needs HTTPS: the password would travel in clear (connect "
		                "through the balancer's https:// address; [dav] basic_over_http "
		                "allows it)");
		return false;
	}
	char buf[600];
	char *login, *password;
	/* a header too long for the input is no Basic credentials either */
	struct strv h = in->has_authorization ? strv_from_cstr(in->authorization) : STRV_NULL;
	if (!http_basic_parse(h, buf, sizeof(buf), &login, &password)) {
		api_refusal_set(why, 401, "DAV-0401",
		                "log in with HTTP Basic: your login (user or user@context) and "
		                "password");
		return false;
	}
	struct checked c;
	memset(&c, 0, sizeof(c));
	int64_t key = digest(a, login, password, &c);
	const char *problem;
	bool ok = false;
	int hit = from_cache(node, &c, key, user_r, &problem);
	if (hit != 0) {
		if (hit < 0)
			api_refusal_set(why, 503, "SES-0503", "session store unavailable: %s",
			                problem);
		ok = hit > 0;
		goto out;
	}
	/* Taken before the check: a drop meanwhile keeps its result out of the cache. */
	uint64_t generation = a->cache != NULL ? cache_generation(a->cache) : 0;
	struct api_login who;
	if (!api_session_check_login(node, &in->from, login, password, &who, why))
		goto out;
	c.cid = who.cid;
	c.uid = who.uid;
	c.gen = who.gen;
	snprintf(c.user, sizeof(c.user), "%s", who.user);
	if (a->cache != NULL)
		cache_put(a->cache, 0, key, &c, sizeof(c), generation);
	user_r->cid = who.cid;
	user_r->uid = who.uid;
	snprintf(user_r->login, sizeof(user_r->login), "%s", who.user);
	ok = true;
out:
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&c, sizeof(c));
	return ok;
}

bool dav_auth_check(struct node *node, struct http_request *req, struct api_user *user_r)
{
	struct dav_auth_input in;
	struct api_refusal why;
	dav_auth_input(node, req, &in);
	bool ok = dav_auth_verify(node, &in, user_r, &why);
	sodium_memzero(&in, sizeof(in));
	if (!ok) {
		api_refusal_send(req, &why, DAV_AUTH_CHALLENGE);
		return false;
	}
	dav_auth_log_user(req, user_r);
	return true;
}
