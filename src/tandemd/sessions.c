/* SPDX-License-Identifier: MIT */
/* Login checks the password once (argon2id) and creates a session: a random id the client
   sends with every call and a random secret that only travels in an HttpOnly cookie named
   after the client (User-Agent, client name, salt), so a stolen id alone is useless. The
   store keeps a keyed digest of the secret, never the secret; revocations (password
   changed, user or context disabled or deleted) end sessions in the store itself. */
#include "sessions.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api-common.h"
#include "cache.h"
#include "clock.h"
#include "http-forwarded.h"
#include "http-params.h"
#include "http-server.h"
#include "log.h"
#include "login-throttle.h"
#include "mem.h"
#include "node.h"
#include "password.h"
#include "pool.h"
#include "provision.h"
#include "random.h"

#define TOUCH_INTERVAL_MS       60000
#define MAX_PER_USER_CAP        1000
#define PENDING_REVOCATIONS_MAX 4096

/* A revocation the store could not take yet (it was down): retried before any session is
   answered again, so none of those sessions is honoured on this node meanwhile. */
struct pending_revocation {
	int64_t cid, uid;
};

struct sessions {
	struct sessions_settings set;
	/* salt and digest_key are written once, before salt_ready is set (under salt_lock) */
	_Atomic bool salt_ready;
	pthread_mutex_t salt_lock;
	char salt[65];
	char route[64];
	/* keys the digest of secrets in the store; derived from the cluster-wide salt, which
	   goes to the store only when the nodes agree on it there (no cookie_salt set) */
	unsigned char digest_key[crypto_generichash_KEYBYTES];
	struct session_store *store;
	struct login_throttle *throttle;
	pthread_mutex_t pending_lock;
	struct pending_revocation pending[PENDING_REVOCATIONS_MAX];
	_Atomic unsigned pending_count;
};

static void use_salt(struct sessions *s, const char *salt)
{
	snprintf(s->salt, sizeof(s->salt), "%s", salt);
	static const char label[] = "tandem session secret digest v1";
	crypto_generichash(s->digest_key, sizeof(s->digest_key), (const unsigned char *)label,
	                   sizeof(label) - 1, (const unsigned char *)s->salt, strlen(s->salt));
	atomic_store_explicit(&s->salt_ready, true, memory_order_release);
}

/* 0 once the salt is known; -1 with error_r while the nodes cannot agree on one yet. */
static int salt_settle(struct sessions *s, const char **error_r)
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
		if (salt_settle(s, &error) < 0)
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

/* hex(BLAKE2b-128(User-Agent \0 client \0 salt)): names the secret cookie. */
static void cookie_hash(const struct sessions *s, struct strv ua, const char *client, char out[33])
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

/* hex(keyed BLAKE2b-128(secret)): what the store keeps instead of the secret. */
static void secret_digest(const struct sessions *s, const char *secret, size_t len, char out[33])
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
	if (salt_settle(s, why_r) < 0)
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
	cookie_hash(s, http_request_header(req, "User-Agent"), s_r->client, hash);
	snprintf(name, sizeof(name), "tandem-secret-%s", hash);
	struct strv secret = http_cookie_get(http_request_head(req), name);
	char digest[33];
	if (secret.len == SESSION_ID_LEN)
		secret_digest(s, secret.ptr, secret.len, digest);
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
static bool session_check(struct sessions *s, struct http_request *req, struct session *sess_r)
{
	const char *why;
	int r = sessions_validate(s, req, sess_r, &why);
	if (r < 0)
		api_error(req, 503, "SES-0503", "session store unavailable: %s", why);
	else if (r == 0)
		api_error(req, 401, "SES-0203", "%s: log in again", why);
	return r > 0;
}

bool api_auth(struct node *node, struct http_request *req, struct api_user *user_r)
{
	struct session sess;
	if (!session_check(node->sessions, req, &sess))
		return false;
	user_r->cid = sess.cid;
	user_r->uid = sess.uid;
	snprintf(user_r->login, sizeof(user_r->login), "%s", sess.login);
	memcpy(user_r->session, sess.id, sizeof(user_r->session));
	return true;
}

/* --- login --- */

static void set_cookies(struct sessions *s, struct http_request *req, const struct session *sess,
                        const char *secret)
{
	char cookie[200];
	/* Over HTTPS the secret must never travel in clear afterwards. */
	const char *secure =
	    http_request_forwarded_https(req, s->set.trusted_proxies, s->set.trusted_proxy_count)
	        ? "; Secure"
	        : "";
	if (sess->stay_signed_in)
		snprintf(cookie, sizeof(cookie),
		         "tandem-secret-%s=%s; Path=/; HttpOnly; SameSite=Lax%s; Max-Age=%llu",
		         sess->cookie_hash, secret, secure,
		         (unsigned long long)(sess->lifetime_ms / 1000));
	else
		snprintf(cookie, sizeof(cookie),
		         "tandem-secret-%s=%s; Path=/; HttpOnly; SameSite=Lax%s", sess->cookie_hash,
		         secret, secure);
	http_response_header(req, "Set-Cookie", cookie);
	/* The routing cookie only steers balancers (route after the first '.'): not auth. */
	char jsid[20];
	random_hex(jsid, 8);
	snprintf(cookie, sizeof(cookie), "JSESSIONID=%s.%s; Path=/; HttpOnly", jsid, s->route);
	http_response_header(req, "Set-Cookie", cookie);
}

/* The login cache's value: keys are hashes of the login, so the login itself is kept and
   compared on a hit. gen is the context's revocation generation read before the row was:
   a row cached before a revocation is not used after it, even on a node whose drop of it
   (through the invalidation stream) is still on its way. */
struct cached_login {
	char login[130];
	uint64_t gen;
	struct prov_login user;
};

size_t sessions_login_entry_size(void)
{
	return sizeof(struct cached_login);
}

static bool login_of_user(const void *value, size_t size, void *ctx)
{
	const struct cached_login *cl = value;
	return size == sizeof(*cl) && cl->user.uid == *(const int64_t *)ctx;
}

void sessions_forget_user(struct cache *logins, int64_t cid, int64_t uid)
{
	cache_drop_if(logins, cid, login_of_user, &uid);
}

static bool cached_user(struct cache *logins, int64_t cid, const char *login, uint64_t gen,
                        struct prov_login *u)
{
	struct cached_login cl;
	size_t size;
	if (cache_get(logins, cid, cache_key_str(login), &cl, &size) == 0 || size != sizeof(cl) ||
	    strcmp(cl.login, login) != 0 || cl.gen != gen)
		return false;
	*u = cl.user;
	return true;
}

static void cache_user(struct cache *logins, int64_t cid, const char *login, uint64_t gen,
                       const struct prov_login *u, uint64_t generation)
{
	struct cached_login cl;
	memset(&cl, 0, sizeof(cl));
	if (strlen(login) >= sizeof(cl.login))
		return;
	snprintf(cl.login, sizeof(cl.login), "%s", login);
	cl.gen = gen;
	cl.user = *u;
	cache_put(logins, cid, cache_key_str(login), &cl, sizeof(cl), generation);
}

/* 1 found, 0 no such login, -1 database error (answered). Only found rows are cached: a
   login that does not exist yet must work the moment it is created. gen: the context's
   revocation generation, read before. The context's location (enabled or not) is read
   afresh, not from the few seconds' cache, for the same reason as gen. */
static int load_user(struct node *node, struct provision *prov, struct http_request *req,
                     int64_t cid, const char *login, uint64_t gen, struct prov_login *u,
                     struct prov_location *loc)
{
	struct prov_error perr;
	if (provision_context_db_fresh(prov, cid, loc, &perr) == NULL) {
		if (perr.status == PROV_NOT_FOUND)
			return 0; /* deleted since the mapping was looked up */
		api_error(req, 503, "SES-0503", "%s", perr.message);
		return -1;
	}
	if (cached_user(node->login_cache, cid, login, gen, u))
		return 1;
	/* Taken before the read: a change that commits after it drops after this, and then
	   cache_put() refuses the row read here. */
	uint64_t cache_gen = cache_generation(node->login_cache);
	int r = provision_login_lookup(prov, cid, login, u, &perr);
	if (r < 0 && perr.status == PROV_NOT_FOUND)
		return 0; /* deleted meanwhile */
	if (r < 0)
		api_error(req, 503, "SES-0503", "%s", perr.message);
	if (r > 0)
		cache_user(node->login_cache, cid, login, gen, u, cache_gen);
	return r;
}

/* Enforces max_per_user by ending the oldest sessions. 0, or -1 when the store failed. */
static int make_room(struct sessions *s, int64_t cid, int64_t uid, uint64_t now)
{
	unsigned max = s->set.max_per_user;
	if (max == 0)
		return 0;
	char(*ids)[SESSION_ID_LEN + 1] = mem_calloc(MAX_PER_USER_CAP + 1, sizeof(*ids));
	int n = s->store->ops->list_user(s->store, cid, uid, now, ids, MAX_PER_USER_CAP);
	int ret = n < 0 ? -1 : 0;
	for (int i = 0; i + (int)max <= n && ret == 0; i++) {
		if (s->store->ops->remove(s->store, ids[i]) < 0)
			ret = -1;
	}
	mem_free(&ids);
	return ret;
}

void sessions_login(struct node *node, struct http_request *req)
{
	struct sessions *s = node->sessions;
	/* A draining node is on its way out: new sessions belong on another node, the ones it
	   has keep working until it stops. */
	if (atomic_load(&node->state) == NODE_DRAINING) {
		/* Tells a balancer that nothing was done, so it may send the login elsewhere
		   (docs/internals/proxy.md). */
		http_response_header(req, "X-Tandem-Refused", "draining");
		api_error(req, 503, "SRV-0503", "this node is draining; log in on another node");
		return;
	}
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	const char *login = json_string_value(json_object_get(body, "login"));
	const char *password = json_string_value(json_object_get(body, "password"));
	const char *client = json_string_value(json_object_get(body, "client"));
	json_t *stay = json_object_get(body, "staySignedIn");
	if (login == NULL || password == NULL) {
		api_error(req, 400, "SES-0400",
		          "fields \"login\" and \"password\" are required strings");
		goto out;
	}
	if (client == NULL)
		client = "default";
	if (stay != NULL && !json_is_boolean(stay)) {
		api_error(req, 400, "SES-0400", "field \"staySignedIn\" must be true or false");
		goto out;
	}
	if (strlen(login) > 257 || strlen(password) > 256 || strlen(client) > 63) {
		api_error(req, 400, "SES-0400", "login, password or client too long");
		goto out;
	}

	struct http_client_ip from; /* behind the trusted proxies */
	http_request_client_ip(req, s->set.trusted_proxies, s->set.trusted_proxy_count, &from);

	/* user@mapping; without '@' the mapping is defaultcontext. */
	/* Logins are at most 128 characters (provisioning enforces it): a longer one cannot exist
	   and is refused like any unknown login below. */
	char user[130], mapping[260];
	const char *at = strrchr(login, '@');
	size_t user_len = at != NULL ? (size_t)(at - login) : strlen(login);
	if (user_len > 128)
		user_len = 129;
	memcpy(user, login, user_len);
	user[user_len] = '\0';
	snprintf(mapping, sizeof(mapping), "%s", at != NULL ? at + 1 : "defaultcontext");
	struct prov_error perr;
	struct provision *prov = node_provision(node, &perr);
	if (prov == NULL) {
		api_error(req, 503, "SES-0503", "%s", perr.message);
		goto out;
	}
	int64_t cid = 0;
	uint64_t gen = 0;
	struct prov_login u = {0};
	struct prov_location loc;
	int found = 0;
	if (user_len > 128) {
		/* fall through to the refusal */
	} else if (provision_lookup_mapping(prov, mapping, &cid, &perr) < 0) {
		if (perr.status != PROV_NOT_FOUND) {
			api_error(req, 503, "SES-0503", "%s", perr.message);
			goto out;
		}
		cid = 0;
	}
	/* bob, bob@defaultcontext and bob@1 are one user to the throttle */
	char who[300];
	time_t now_s = (time_t)(clock_mono_ms() / 1000);
	login_throttle_user(who, sizeof(who), cid, mapping, user);
	time_t wait = login_throttle_check(s->throttle, &from.addr, who, now_s);
	if (wait > 0) {
		http_response_headerf(req, "Retry-After", "%lld", (long long)wait);
		api_error(req, 429, "SES-0429", "too many failed logins; try again in %lld s",
		          (long long)wait);
		goto out;
	}
	const char *salt_error;
	if (salt_settle(s, &salt_error) < 0) {
		api_error(req, 503, "SES-0503", "session store unavailable: %s", salt_error);
		goto out;
	}
	if (cid > 0) {
		if (s->store->ops->generation(s->store, cid, &gen) < 0) {
			api_error(req, 503, "SES-0503", "session store unavailable: %s",
			          session_store_error());
			goto out;
		}
		found = load_user(node, prov, req, cid, user, gen, &u, &loc);
		if (found < 0)
			goto out;
	}
	/* Unknown context, unknown user and wrong password look the same from outside, and
	   take the same time: password_check() verifies against a dummy hash without a user. */
	enum password_status pw = password_check(found > 0 ? u.password_hash : NULL, password);
	if (pw == PASSWORD_BUSY) {
		http_response_header(req, "Retry-After", "1");
		api_error(req, 503, "SES-0503", "too many logins in progress; try again");
		goto out;
	}
	if (pw == PASSWORD_REFUSED)
		log_warn("session", "login of %s@%lld (user %lld) refused: its stored %s", user,
		         (long long)cid, (long long)u.uid, password_hash_problem(u.password_hash));
	if (pw != PASSWORD_OK) {
		login_throttle_fail(s->throttle, &from.addr, who, now_s);
		log_info("session", "login failed for %s from %s", login, from.text);
		api_error(req, 401, "SES-0401", "wrong login or password");
		goto out;
	}
	if (!loc.enabled) {
		api_error(req, 403, "SES-0403", "context disabled: %s", loc.disabled_reason);
		goto out;
	}
	if (!u.enabled) {
		api_error(req, 403, "SES-0403", "account disabled: %s",
		          u.disabled_reason[0] != '\0' ? u.disabled_reason : "no reason given");
		goto out;
	}

	struct session sess;
	char secret[SESSION_ID_LEN + 1];
	memset(&sess, 0, sizeof(sess));
	random_hex(sess.id, 16);
	random_hex(secret, 16);
	secret_digest(s, secret, SESSION_ID_LEN, sess.digest);
	sess.gen = gen;
	sess.cid = cid;
	sess.uid = u.uid;
	memcpy(sess.login, user, sizeof(sess.login));
	snprintf(sess.client, sizeof(sess.client), "%s", client);
	cookie_hash(s, http_request_header(req, "User-Agent"), client, sess.cookie_hash);
	snprintf(sess.ip, sizeof(sess.ip), "%s", from.text);
	snprintf(sess.route, sizeof(sess.route), "%s", s->route);
	sess.stay_signed_in = json_is_true(stay);
	sess.lifetime_ms = sess.stay_signed_in ? s->set.long_lifetime_ms : s->set.lifetime_ms;
	sess.created_ms = sess.last_ms = clock_wall_ms();
	int put = make_room(s, cid, u.uid, sess.created_ms);
	if (put == 0)
		put = s->store->ops->put(s->store, &sess);
	if (put < 0) {
		api_error(req, 503, "SES-0503", "session store unavailable: %s",
		          session_store_error());
		goto out;
	}
	if (put > 0) {
		/* An administrator changed the context or one of its users meanwhile. */
		http_response_header(req, "Retry-After", "1");
		api_error(req, 503, "SES-0503",
		          "the account changed while logging in; log in again");
		goto out;
	}
	log_info("session", "login %s@%lld (user %lld) from %s", user, (long long)cid,
	         (long long)u.uid, from.text);
	set_cookies(s, req, &sess, secret);
	sodium_memzero(secret, sizeof(secret));
	api_reply_json(req, 200,
	               json_pack("{sssIsIss}", "session", sess.id, "context_id", (json_int_t)cid,
	                         "user_id", (json_int_t)u.uid, "route", s->route));
out:
	json_decref(body);
}

void sessions_logout(struct node *node, struct http_request *req)
{
	struct sessions *s = node->sessions;
	struct session sess;
	if (!session_check(s, req, &sess))
		return;
	const char *all = api_query(req, "all");
	int ended = 0;
	if (all != NULL && (strcmp(all, "1") == 0 || strcmp(all, "true") == 0)) {
		/* log out everywhere: a revocation, so a login of the user under way ends too */
		ended = s->store->ops->revoke(s->store, sess.cid, sess.uid);
	} else {
		ended = s->store->ops->remove(s->store, sess.id);
	}
	if (ended < 0) {
		api_error(req, 503, "SES-0503", "session store unavailable: %s",
		          session_store_error());
		return;
	}
	char cookie[120];
	snprintf(cookie, sizeof(cookie), "tandem-secret-%s=; Path=/; HttpOnly; Max-Age=0",
	         sess.cookie_hash);
	http_response_header(req, "Set-Cookie", cookie);
	api_reply_json(req, 200, json_pack("{si}", "ended", ended));
}

void sessions_whoami(struct node *node, struct http_request *req)
{
	struct session sess;
	if (!session_check(node->sessions, req, &sess))
		return;
	uint64_t now = clock_wall_ms();
	uint64_t left =
	    sess.last_ms + sess.lifetime_ms > now ? sess.last_ms + sess.lifetime_ms - now : 0;
	api_reply_json(req, 200,
	               json_pack("{sssIsIsssssssbsI}", "session", sess.id, "context_id",
	                         (json_int_t)sess.cid, "user_id", (json_int_t)sess.uid, "login",
	                         sess.login, "client", sess.client, "route", node->sessions->route,
	                         "staySignedIn", sess.stay_signed_in, "expires_in",
	                         (json_int_t)(left / 1000)));
}
