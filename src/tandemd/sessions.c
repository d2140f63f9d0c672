/* SPDX-License-Identifier: MIT */
/* The session table: a session is a random id the client sends with every call and a random
   secret that only travels in an HttpOnly cookie named after the client (User-Agent, client
   name, salt), so a stolen id alone is useless. The store keeps a keyed digest of the secret,
   never the secret; revocations (password changed, user or context disabled or deleted) end
   sessions in the store itself. The HTTP handlers that make them are in api-session.c. */
#include "sessions.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http-forwarded.h"
#include "http-params.h"
#include "http-server.h"
#include "log.h"
#include "login-throttle.h"
#include "mem.h"
#include "random.h"

#include "sessions-private.h"

static void use_salt(struct sessions *s, const char *salt)
{
	snprintf(s->salt, sizeof(s->salt), "%s", salt);
	static const char label[] = "tandem session secret digest v1";
	crypto_generichash(s->digest_key, sizeof(s->digest_key), (const unsigned char *)label,
	                   sizeof(label) - 1, (const unsigned char *)s->salt, strlen(s->salt));
	atomic_store_explicit(&s->salt_ready, true, memory_order_release);
}

/* 0 once the salt is known; -1 with error_r while the nodes cannot agree on one yet. */
int sessions__salt_settle(struct sessions *s, const char **error_r)
{
	if (atomic_load_explicit(&s->salt_ready, memory_order_acquire))
		return 0;
	int ret = 0;
	pthread_mutex_lock(&s->salt_lock);
	if (!atomic_load_explicit(&s->salt_ready, memory_order_acquire)) {
		char proposal[33], agreed[sizeof(s->salt)];
		random_hex(proposal, 16);
		ret =
		    s->set.agree_salt(s->set.agree_ctx, proposal, agreed, sizeof(agreed), error_r);
		if (ret == 0) {
			use_salt(s, agreed);
			log_info("session",
			         "cookie salt %s the cluster store (no [session] cookie_salt set)",
			         strcmp(agreed, proposal) == 0 ? "stored in" : "read from");
		}
		sodium_memzero(agreed, sizeof(agreed));
	}
	pthread_mutex_unlock(&s->salt_lock);
	return ret;
}

struct sessions *sessions_create(const struct sessions_settings *set)
{
	struct sessions *s = mem_calloc(1, sizeof(*s));
	s->set = *set;
	pthread_mutex_init(&s->salt_lock, NULL);
	if (set->cookie_salt != NULL && set->cookie_salt[0] != '\0') {
		use_salt(s, set->cookie_salt);
	} else if (set->agree_salt == NULL) {
		char salt[33];
		random_hex(salt, 16);
		use_salt(s, salt);
	} else {
		const char *error;
		if (sessions__salt_settle(s, &error) < 0)
			log_warn("session", "%s: asked again at the next login or session check",
			         error);
	}
	snprintf(s->route, sizeof(s->route), "%s", set->route);
	s->set.cookie_salt = s->salt;
	s->set.route = s->route;
	pthread_mutex_init(&s->pending_lock, NULL);
	s->store = set->store != NULL ? set->store : session_store_memory_create();
	s->set.store = NULL;
	static const struct login_throttle_limits limits = {
	    .per_address = SESSIONS_FAILURES_PER_ADDRESS,
	    .per_user_address = SESSIONS_FAILURES_PER_USER_ADDRESS,
	    .per_user = SESSIONS_FAILURES_PER_USER,
	    .window_s = SESSIONS_FAILURES_WINDOW_S,
	    .capacity = 32768,
	};
	s->throttle = login_throttle_create(&limits);
	return s;
}

void sessions_destroy(struct sessions **sp)
{
	struct sessions *s = *sp;
	if (s == NULL)
		return;
	session_store_destroy(&s->store);
	login_throttle_destroy(&s->throttle);
	pthread_mutex_destroy(&s->pending_lock);
	pthread_mutex_destroy(&s->salt_lock);
	sodium_memzero(s->salt, sizeof(s->salt));
	sodium_memzero(s->digest_key, sizeof(s->digest_key));
	mem_free(sp);
}

size_t sessions_count(struct sessions *s)
{
	return s->store->ops->count(s->store);
}

struct session_store *sessions_store(struct sessions *s)
{
	return s->store;
}

void sessions__cookie_hash(const struct sessions *s, struct strv ua, const char *client,
                           char out[33])
{
	unsigned char h[16];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)ua.ptr, ua.len);
	crypto_generichash_update(&st, (const unsigned char *)"", 1);
	crypto_generichash_update(&st, (const unsigned char *)client, strlen(client) + 1);
	crypto_generichash_update(&st, (const unsigned char *)s->salt, strlen(s->salt));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

void sessions__secret_digest(const struct sessions *s, const char *secret, size_t len, char out[33])
{
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)secret, len, s->digest_key,
	                   sizeof(s->digest_key));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

/* --- revocation --- */

/* Runs the revocations the store could not take before. 0 when none are left, -1 when the
   store still fails (session_store_error() says why). */
static int flush_pending(struct sessions *s)
{
	int ret = 0;
	pthread_mutex_lock(&s->pending_lock);
	unsigned n = atomic_load(&s->pending_count);
	unsigned done = 0;
	while (done < n &&
	       s->store->ops->revoke(s->store, s->pending[done].cid, s->pending[done].uid) >= 0)
		done++;
	if (done < n)
		ret = -1;
	memmove(s->pending, s->pending + done, (n - done) * sizeof(s->pending[0]));
	atomic_store(&s->pending_count, n - done);
	pthread_mutex_unlock(&s->pending_lock);
	if (done > 0)
		log_info("session", "%u delayed revocation(s) done, %u left", done, n - done);
	return ret;
}

void sessions_revoke(struct sessions *s, int64_t cid, int64_t uid)
{
	int ended = s->store->ops->revoke(s->store, cid, uid);
	if (ended >= 0) {
		log_info("session", "ended %d session(s) of %s %lld in context %lld", ended,
		         uid != 0 ? "user" : "every user", (long long)uid, (long long)cid);
		return;
	}
	log_warn("session",
	         "ending the sessions of %s %lld in context %lld failed (%s): retried before "
	         "any session is honoured again",
	         uid != 0 ? "user" : "every user", (long long)uid, (long long)cid,
	         session_store_error());
	pthread_mutex_lock(&s->pending_lock);
	unsigned n = atomic_load(&s->pending_count);
	if (n == PENDING_REVOCATIONS_MAX) {
		/* Widen the oldest to its whole context rather than forget one. */
		s->pending[0].uid = 0;
		n--;
	}
	s->pending[n] = (struct pending_revocation){.cid = cid, .uid = uid};
	atomic_store(&s->pending_count, n + 1);
	pthread_mutex_unlock(&s->pending_lock);
}

int sessions_generation(struct sessions *s, int64_t cid, uint64_t *gen_r, const char **why_r)
{
	if ((atomic_load(&s->pending_count) > 0 && flush_pending(s) < 0) ||
	    s->store->ops->generation(s->store, cid, gen_r) < 0) {
		*why_r = session_store_error();
		return -1;
	}
	return 0;
}

static bool same_subnet(const char *a, const char *b)
{
	/* IPv4: the /24; IPv6: the /64 (first four groups). */
	bool v6 = strchr(a, ':') != NULL;
	int want = v6 ? 4 : 3, seen = 0;
	char sep = v6 ? ':' : '.';
	for (size_t i = 0;; i++) {
		if (a[i] != b[i])
			return false;
		if (a[i] == '\0')
			return true;
		if (a[i] == sep && ++seen == want)
			return true;
	}
}

static bool ip_ok(const struct sessions *s, const struct session *sess, const char *ip)
{
	switch (s->set.ip_check) {
	case IP_CHECK_NONE:
		return true;
	case IP_CHECK_STRICT:
		return strcmp(sess->ip, ip) == 0;
	case IP_CHECK_SUBNET:
		return same_subnet(sess->ip, ip);
	}
	return false;
}

static struct strv session_id_of(struct http_request *req)
{
	struct strv v = http_request_header(req, "X-Session");
	if (v.ptr == NULL && !http_query_get(http_request_head(req)->query, "session", &v))
		return STRV_NULL;
	return v;
}

int sessions_validate(struct sessions *s, struct http_request *req, struct session *s_r,
                      const char **why_r)
{
	struct strv idv = session_id_of(req);
	char id[SESSION_ID_LEN + 1];
	if (idv.len != SESSION_ID_LEN) {
		*why_r = idv.ptr == NULL ? "no session given" : "malformed session id";
		return 0;
	}
	memcpy(id, idv.ptr, SESSION_ID_LEN);
	id[SESSION_ID_LEN] = '\0';
	/* No secret cookie at all says nothing about the session (the client knows it sent none)
	   and is answered before the store is asked; a wrong or foreign one below looks expired. */
	if (!http_cookie_any(http_request_head(req), "tandem-secret-")) {
		*why_r = "the secret cookie is missing (tandem-secret-…, set by the login; send "
		         "it with every call)";
		return 0;
	}
	if (sessions__salt_settle(s, why_r) < 0)
		return -1;
	if (atomic_load(&s->pending_count) > 0 && flush_pending(s) < 0) {
		*why_r = session_store_error();
		return -1;
	}
	uint64_t now = clock_wall_ms();
	int r = s->store->ops->get(s->store, id, now, s_r);
	if (r < 0) {
		*why_r = session_store_error();
		return -1;
	}
	if (r == 0) {
		*why_r = "session expired or unknown";
		return 0;
	}
	/* The secret must come back in the cookie named for this client: a mismatch is treated
	   as an expired session, never as a different error an attacker could probe. */
	char name[64], hash[33];
	sessions__cookie_hash(s, http_request_header(req, "User-Agent"), s_r->client, hash);
	snprintf(name, sizeof(name), "tandem-secret-%s", hash);
	struct strv secret = http_cookie_get(http_request_head(req), name);
	char digest[33];
	if (secret.len == SESSION_ID_LEN)
		sessions__secret_digest(s, secret.ptr, secret.len, digest);
	if (secret.len != SESSION_ID_LEN ||
	    sodium_memcmp(digest, s_r->digest, SESSION_ID_LEN) != 0) {
		*why_r = "session expired or unknown";
		return 0;
	}
	struct http_client_ip from;
	if (s->set.ip_check != IP_CHECK_NONE)
		http_request_client_ip(req, s->set.trusted_proxies, s->set.trusted_proxy_count,
		                       &from);
	if (s->set.ip_check != IP_CHECK_NONE && !ip_ok(s, s_r, from.text)) {
		*why_r = "session expired or unknown";
		return 0;
	}
	if (now - s_r->last_ms > TOUCH_INTERVAL_MS)
		s->store->ops->touch(s->store, s_r, now);
	return 1;
}

/* Validates req's session and answers the refusal itself: 401 for a session that does not
   exist (any kind of mismatch) or without any secret cookie, 503 when the store could not be
   asked. */
