/* SPDX-License-Identifier: MIT */
/* The manager runs its own one-thread HTTP server: every field of struct manager that is not
   const after manager_create() (credential cache, the state and its backup) is only touched
   on that thread, so nothing here takes a lock; the balancer and the login's failure counts
   (http-admin-login.h) are thread-safe.
   A change is written to the state file before it reaches the balancer, so an answer of 200
   always means "persisted", and a failed write changes nothing. */
#include "manager.h"

#include <arpa/inet.h>
#include <assert.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "balancer.h"
#include "clock.h"
#include "http-params.h"
#include "http-admin-login.h"
#include "http-json.h"
#include "http-router.h"
#include "http-server.h"
#include "ioloop.h"
#include "lb-state.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "random.h"

#define STOP_TIMEOUT_MS    5000
#define REQUEST_BODY_MAX   (64 * 1024)
#define CSRF_DEFAULT_TTL_S 3600
#define AUTH_CACHE_SLOTS   16
#define AUTH_CACHE_TTL_MS  60000
#define FORM_FIELD_MAX     512
#define DIGEST_BYTES       32
#define CSRF_MAC_HEX       (crypto_auth_BYTES * 2)
#define DEFAULT_LOADFACTOR 50
#define CONTENT_SECURITY_POLICY                                                                    \
	"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "                      \
	"frame-ancestors 'none'; base-uri 'none'"

struct auth_cached {
	unsigned char digest[DIGEST_BYTES]; /* keyed hash of user NUL password NUL */
	uint64_t expires_ms;
};

struct manager {
	struct balancer *b;
	struct lb_state *state;
	struct lb_state *backup; /* memory-only copy of state before the change in progress */
	char *user;
	char *password_hash; /* NULL: plain password, known only by its digest */
	struct lb_cidr *allow;
	size_t allow_count;
	uint64_t csrf_ttl_s;
	manager_change_fn *on_change;
	manager_metrics_fn *metrics;
	void *ctx;

	/* per process: digests and tokens mean nothing elsewhere or after a restart */
	unsigned char hash_key[crypto_generichash_KEYBYTES];
	unsigned char csrf_key[crypto_auth_KEYBYTES];
	unsigned char user_digest[DIGEST_BYTES];
	unsigned char password_digest[DIGEST_BYTES];

	struct auth_cached cache[AUTH_CACHE_SLOTS];
	unsigned next_slot;
	struct http_admin_login *login; /* Basic credentials and the failed-login throttle */

	struct http_server *server;
	struct http_router *router; /* over manager_routes */
	uint64_t changes;           /* successful changes so far */

	/* A peer's state on its way to the manager's thread (manager_apply_shared()). */
	pthread_mutex_t shared_lock;
	struct ioloop *loop; /* the manager's loop while it runs, else NULL */
	struct buf shared;   /* the text */
	uint64_t shared_changes;
	bool shared_pending; /* shared holds a text not applied yet */
	bool shared_posted;  /* a post to loop is on its way */
	const struct lb_member_config *configured;
	size_t configured_count;
};

/* Outcome of one operation, rendered as JSON for the API and as HTML for the form. */
struct op_result {
	int status;
	const char *code; /* error code; NULL on success */
	char message[400];
};

static __thread char error_msg[512];

static void op_fail(struct op_result *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void op_fail(struct op_result *r, int status, const char *code, const char *fmt, ...)
{
	va_list args;
	r->status = status;
	r->code = code;
	va_start(args, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, args);
	va_end(args);
}

static void digest(const struct manager *m, const char *a, const char *b,
                   unsigned char out[DIGEST_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, m->hash_key, sizeof(m->hash_key), DIGEST_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)a, strlen(a) + 1);
	if (b != NULL)
		crypto_generichash_update(&st, (const unsigned char *)b, strlen(b) + 1);
	crypto_generichash_final(&st, out, DIGEST_BYTES);
}

/* ---------------------------------------------------------------- lifetime */

struct manager *manager_create(const struct manager_settings *set, struct balancer *b,
                               struct lb_state *state)
{
	assert(set->user != NULL && set->user[0] != '\0');
	assert((set->password == NULL) != (set->password_hash == NULL));
	random_init();

	struct manager *m = mem_calloc(1, sizeof(*m));
	m->b = b;
	m->state = state;
	m->backup = lb_state_create(NULL);
	m->user = mem_strdup(set->user);
	m->csrf_ttl_s = set->csrf_ttl_s != 0 ? set->csrf_ttl_s : CSRF_DEFAULT_TTL_S;
	m->on_change = set->on_change;
	m->metrics = set->metrics;
	m->ctx = set->ctx;
	m->configured = set->configured;
	m->configured_count = set->configured_count;
	pthread_mutex_init(&m->shared_lock, NULL);
	buf_init(&m->shared, LB_STATE_FILE_MAX);
	randombytes_buf(m->hash_key, sizeof(m->hash_key));
	crypto_auth_keygen(m->csrf_key);
	digest(m, m->user, NULL, m->user_digest);
	if (set->password != NULL)
		digest(m, set->password, NULL, m->password_digest);
	else
		m->password_hash = mem_strdup(set->password_hash);

	const struct http_admin_login_settings login = {
	    .www_authenticate = "Basic realm=\"tandem-lb manager\", charset=\"UTF-8\"",
	    .code_401 = "LB-0401",
	    .code_429 = "LB-0429",
	    .missing_message = "manager credentials required (HTTP Basic)",
	    .throttled_message = "too many failed logins from this address; try again later",
	};
	m->login = http_admin_login_create(&login);

	if (set->allow_count > 0) {
		m->allow = mem_calloc(set->allow_count, sizeof(*m->allow));
		memcpy(m->allow, set->allow, set->allow_count * sizeof(*m->allow));
		m->allow_count = set->allow_count;
	} else {
		const char *error;
		int ret =
		    lb_cidr_parse_list("127.0.0.0/8, ::1/128", &m->allow, &m->allow_count, &error);
		assert(ret == 0);
		(void)ret;
	}
	return m;
}

void manager_destroy(struct manager **mp)
{
	struct manager *m = *mp;
	if (m == NULL)
		return;
	manager_stop(m);
	lb_state_free(&m->backup);
	buf_free(&m->shared);
	pthread_mutex_destroy(&m->shared_lock);
	sodium_memzero(m->hash_key, sizeof(m->hash_key));
	sodium_memzero(m->csrf_key, sizeof(m->csrf_key));
	sodium_memzero(m->password_digest, sizeof(m->password_digest));
	sodium_memzero(m->cache, sizeof(m->cache));
	http_admin_login_destroy(&m->login);
	mem_free(&m->user);
	mem_free(&m->password_hash);
	mem_free(&m->allow);
	mem_free(mp);
}

/* ---------------------------------------------------------------- access */

static void common_headers(struct http_request *req)
{
	http_response_header(req, "Cache-Control", "no-store");
	http_response_header(req, "X-Content-Type-Options", "nosniff");
	http_response_header(req, "X-Frame-Options", "DENY");
	http_response_header(req, "Referrer-Policy", "no-referrer");
	http_response_header(req, "Content-Security-Policy", CONTENT_SECURITY_POLICY);
}

static bool peer_allowed(const struct manager *m, const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return false;
	return lb_cidr_match(m->allow, m->allow_count, (const struct sockaddr *)&ss);
}

/* argon2id costs tens of milliseconds and 19 MiB on this one thread: a verified pair is
   remembered for a minute under its keyed digest. */
static bool password_ok(struct manager *m, const char *user, const char *pass, uint64_t now)
{
	unsigned char d[DIGEST_BYTES];

	if (m->password_hash == NULL) {
		digest(m, pass, NULL, d);
		return sodium_memcmp(d, m->password_digest, sizeof(d)) == 0;
	}
	digest(m, user, pass, d);
	for (unsigned i = 0; i < AUTH_CACHE_SLOTS; i++) {
		const struct auth_cached *c = &m->cache[i];
		if (c->expires_ms > now && sodium_memcmp(c->digest, d, sizeof(d)) == 0)
			return true;
	}
	if (crypto_pwhash_str_verify(m->password_hash, pass, strlen(pass)) != 0)
		return false;
	struct auth_cached *c = &m->cache[m->next_slot++ % AUTH_CACHE_SLOTS];
	memcpy(c->digest, d, sizeof(d));
	c->expires_ms = now + AUTH_CACHE_TTL_MS;
	return true;
}

static enum http_admin_verdict verify(struct http_request *req, const char *user, const char *pass,
                                      void *ctx)
{
	struct manager *m = ctx;
	unsigned char d[DIGEST_BYTES];
	digest(m, user, NULL, d);
	/* both checks always run, so the answer's timing does not tell which one failed */
	bool user_ok = sodium_memcmp(d, m->user_digest, sizeof(d)) == 0;
	bool pass_ok = password_ok(m, user, pass, clock_mono_ms());
	if (user_ok && pass_ok)
		return HTTP_ADMIN_OK;
	log_warn("manager", "peer=%s: wrong manager credentials for user \"%.64s\"",
	         http_request_peer_ip(req), user);
	return HTTP_ADMIN_WRONG;
}

/* Returns the authenticated user (request memory), or NULL after answering 401 or 429. */
static const char *authenticate(struct manager *m, struct http_request *req)
{
	const struct http_admin_login_call call = {
	    .scope = "manager",
	    .wrong_message = "wrong manager credentials",
	    .verify = verify,
	    .ctx = m,
	};
	return http_admin_login_check(m->login, req, &call);
}

/* Networks and credentials, before any body is read. */
static void on_head(struct http_request *req, void *ctx)
{
	struct manager *m = ctx;

	log_set_request_id(http_request_id(req));
	common_headers(req);
	if (!peer_allowed(m, http_request_peer_ip(req))) {
		log_warn("manager", "peer=%s: refused: not in [admin] allow",
		         http_request_peer_ip(req));
		http_response_error(req, 403, "LB-0403",
		                    "the manager is not available from this address");
	} else if (m->metrics != NULL && strv_eq_cstr(http_request_head(req)->path, "/metrics")) {
		/* Scrapers are let in by network, as Prometheus targets usually are. */
		m->metrics(http_response_body(req), m->ctx);
		http_response_header(req, "Content-Type",
		                     "text/plain; version=0.0.4; charset=utf-8");
		http_response_send(req);
	} else {
		const char *user = authenticate(m, req);
		if (user != NULL)
			http_request_set_context(req, (void *)user);
	}
	log_set_request_id(NULL);
}

/* ---------------------------------------------------------------- CSRF */

/* A token is "<expiry unix seconds>.<hex HMAC over user and expiry>": stateless, tied to the
   user, and worthless after a restart (the key is per process). */
static void csrf_mac(const struct manager *m, const char *user, uint64_t expires,
                     unsigned char mac[crypto_auth_BYTES])
{
	char msg[300];
	int len = snprintf(msg, sizeof(msg), "tandem-lb-csrf\n%s\n%llu", user,
	                   (unsigned long long)expires);
	assert(len > 0 && (size_t)len < sizeof(msg));
	crypto_auth(mac, (const unsigned char *)msg, (size_t)len, m->csrf_key);
}

/* out: at least MANAGER_CSRF_TOKEN_MAX bytes. */
static void csrf_token(const struct manager *m, const char *user, char *out)
{
	unsigned char mac[crypto_auth_BYTES];
	uint64_t expires = clock_wall_ms() / 1000 + m->csrf_ttl_s;
	csrf_mac(m, user, expires, mac);
	int len = snprintf(out, MANAGER_CSRF_TOKEN_MAX, "%llu.", (unsigned long long)expires);
	sodium_bin2hex(out + len, MANAGER_CSRF_TOKEN_MAX - (size_t)len, mac, sizeof(mac));
}

static bool csrf_valid(const struct manager *m, const char *user, struct strv token)
{
	struct strv when, hex;
	uint64_t expires, now = clock_wall_ms() / 1000;
	unsigned char mac[crypto_auth_BYTES], want[crypto_auth_BYTES];
	size_t len;

	if (!strv_split(token, '.', &when, &hex) || strv_to_u64(when, &expires) < 0 ||
	    hex.len != CSRF_MAC_HEX)
		return false;
	if (expires <= now || expires > now + m->csrf_ttl_s)
		return false;
	if (sodium_hex2bin(mac, sizeof(mac), hex.ptr, hex.len, NULL, &len, NULL) != 0 ||
	    len != sizeof(mac))
		return false;
	csrf_mac(m, user, expires, want);
	return sodium_memcmp(mac, want, sizeof(mac)) == 0;
}

/* ---------------------------------------------------------------- operations */

static void changed(struct manager *m)
{
	m->changes++;
	if (m->on_change != NULL)
		m->on_change(m->ctx);
}

static bool member_exists(struct manager *m, const char *route, struct balancer_member_info *info_r)
{
	struct balancer_member *bm = balancer_find(m->b, strv_from_cstr(route));
	if (bm == NULL)
		return false;
	if (info_r != NULL)
		balancer_member_get_info(bm, clock_mono_ms(), info_r);
	balancer_member_unref(&bm);
	return true;
}

/* Writes the state the caller changed; on failure puts the backup back. */
static bool persist(struct manager *m, struct op_result *r)
{
	const char *error;
	if (lb_state_save(m->state, &error) == 0)
		return true;
	log_error("manager", "%s", error);
	lb_state_copy(m->state, m->backup);
	op_fail(r, 500, "LB-0500", "%s; nothing was changed", error);
	return false;
}

/* The balancer refused a change already written (the member went away or came meanwhile,
   through discovery): the file goes back to what it was. */
static void unpersist(struct manager *m)
{
	const char *error;
	lb_state_copy(m->state, m->backup);
	if (lb_state_save(m->state, &error) < 0)
		log_error("manager", "restoring after a refused change: %s", error);
}

struct update {
	bool has_state;
	enum balancer_state state;
	bool has_loadfactor;
	unsigned loadfactor;
};

static void op_update(struct manager *m, const char *user, const char *route,
                      const struct update *u, struct op_result *r)
{
	struct strv rv = strv_from_cstr(route);

	if (!member_exists(m, route, NULL)) {
		op_fail(r, 404, "LB-0404", "no member %s", route);
		return;
	}
	lb_state_copy(m->backup, m->state);
	if (u->has_state)
		lb_state_set_state(m->state, route, u->state);
	if (u->has_loadfactor)
		lb_state_set_loadfactor(m->state, route, u->loadfactor);
	if (!persist(m, r))
		return;
	if ((u->has_state && balancer_set_state(m->b, rv, u->state) < 0) ||
	    (u->has_loadfactor && balancer_set_loadfactor(m->b, rv, u->loadfactor) < 0)) {
		unpersist(m);
		op_fail(r, 404, "LB-0404", "member %s was removed meanwhile", route);
		return;
	}
	char what[64] = "";
	if (u->has_state)
		snprintf(what, sizeof(what), "state %s%s", balancer_state_name(u->state),
		         u->has_loadfactor ? ", " : "");
	if (u->has_loadfactor)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "loadfactor %u",
		         u->loadfactor);
	log_info("manager", "user=%s: member %s: %s", user, route, what);
	r->status = 200;
	changed(m);
}

static void op_add(struct manager *m, const char *user, const char *route, const char *url,
                   unsigned loadfactor, enum balancer_state state, struct op_result *r)
{
	char address[BALANCER_ADDRESS_MAX + 1];
	const char *error;

	if (!balancer_route_valid(strv_from_cstr(route))) {
		op_fail(r, 400, "LB-0400", "route must be 1-%d of A-Z a-z 0-9 - _",
		        BALANCER_ROUTE_MAX);
		return;
	}
	if (strlen(url) > LB_STATE_URL_MAX) {
		op_fail(r, 400, "LB-0400", "url longer than %d bytes", LB_STATE_URL_MAX);
		return;
	}
	if (lb_member_url_parse(url, address, sizeof(address), &error) < 0) {
		op_fail(r, 400, "LB-0400", "url: %s", error);
		return;
	}
	if (member_exists(m, route, NULL)) {
		op_fail(r, 409, "LB-0409", "member %s exists", route);
		return;
	}
	lb_state_copy(m->backup, m->state);
	lb_state_add(m->state, route, url, loadfactor, state);
	if (!persist(m, r))
		return;
	struct balancer_member_settings ms = {
	    .route = route,
	    .address = address,
	    .loadfactor = loadfactor,
	    .state = state,
	};
	if (balancer_add(m->b, &ms, NULL, &error) < 0) {
		unpersist(m);
		op_fail(r, 409, "LB-0409", "cannot add member %s: %s", route, error);
		return;
	}
	log_info("manager", "user=%s: member %s: added %s, state %s, loadfactor %u", user, route,
	         url, balancer_state_name(state), loadfactor);
	r->status = 201;
	changed(m);
}

static void op_remove(struct manager *m, const char *user, const char *route, struct op_result *r)
{
	struct balancer_member_info info;

	if (!member_exists(m, route, &info)) {
		op_fail(r, 404, "LB-0404", "no member %s", route);
		return;
	}
	const struct lb_state_member *e = lb_state_get(m->state, route);
	bool added = e != NULL && e->url[0] != '\0';
	lb_state_copy(m->backup, m->state);
	/* a configured member would come back with the next start: remember its removal */
	lb_state_remove(m->state, route, !added && !info.discovered);
	if (!persist(m, r))
		return;
	if (balancer_remove(m->b, strv_from_cstr(route)) < 0) {
		unpersist(m);
		op_fail(r, 404, "LB-0404", "member %s was removed meanwhile", route);
		return;
	}
	log_info("manager", "user=%s: member %s: removed", user, route);
	r->status = 204;
	changed(m);
}

/* ---------------------------------------------------------------- JSON API */

const char *manager__origin(const struct balancer_member_info *info, const struct lb_state *state)
{
	if (info->discovered)
		return "discovery";
	const struct lb_state_member *e = lb_state_get(state, info->route);
	return e != NULL && e->url[0] != '\0' ? "manager" : "config";
}

static json_t *member_json(const struct manager *m, const struct balancer_member_info *info,
                           uint64_t now)
{
	json_t *o = json_object();
	char url[BALANCER_ADDRESS_MAX + 16];

	snprintf(url, sizeof(url), "http://%s", info->address);
	json_object_set_new(o, "route", json_string(info->route));
	json_object_set_new(o, "url", json_string(url));
	json_object_set_new(o, "address", json_string(info->address));
	json_object_set_new(o, "loadfactor", json_integer(info->loadfactor));
	json_object_set_new(o, "state", json_string(balancer_state_name(info->state)));
	json_object_set_new(o, "effective", json_string(balancer_state_name(info->effective)));
	json_object_set_new(o, "origin", json_string(manager__origin(info, m->state)));
	json_object_set_new(o, "discovered", json_boolean(info->discovered));
	json_object_set_new(o, "healthy", json_boolean(info->healthy));
	json_object_set_new(o, "draining", json_boolean(info->draining));
	json_object_set_new(o, "in_error", json_boolean(info->in_error));
	json_object_set_new(o, "error_remaining_ms",
	                    json_integer(info->in_error && info->error_until_ms > now
	                                     ? (json_int_t)(info->error_until_ms - now)
	                                     : 0));
	if (info->last_check_ms == 0) {
		json_object_set_new(o, "last_check_age_ms", json_null());
		json_object_set_new(o, "last_check_ok", json_null());
	} else {
		uint64_t age = now > info->last_check_ms ? now - info->last_check_ms : 0;
		json_object_set_new(o, "last_check_age_ms", json_integer((json_int_t)age));
		json_object_set_new(o, "last_check_ok", json_boolean(info->last_check_ok));
	}
	json_object_set_new(o, "requests", json_integer((json_int_t)info->requests));
	json_object_set_new(o, "in_flight", json_integer((json_int_t)info->in_flight));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)info->bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)info->bytes_out));
	json_object_set_new(o, "errors", json_integer((json_int_t)info->errors));
	return o;
}

static void reply_member(struct manager *m, struct http_request *req, int status, const char *route)
{
	struct balancer_member_info info;
	if (!member_exists(m, route, &info)) {
		http_response_error(req, 404, "LB-0404", "the member was removed meanwhile");
		return;
	}
	http_response_json(req, status, member_json(m, &info, clock_mono_ms()));
}

static void reply_op_error(struct http_request *req, const struct op_result *r)
{
	http_response_error(req, r->status, r->code, r->message);
}

static void api_members(struct manager *m, struct http_request *req)
{
	struct balancer_member_info *infos;
	uint64_t now = clock_mono_ms();
	size_t count = balancer_snapshot(m->b, now, &infos);
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, member_json(m, &infos[i], now));
	mem_free(&infos);
	http_response_json(req, 200, json_pack("{so}", "members", list));
}

static void api_csrf(struct manager *m, struct http_request *req, const char *user)
{
	char token[MANAGER_CSRF_TOKEN_MAX];
	csrf_token(m, user, token);
	http_response_json(req, 200,
	                   json_pack("{sssssI}", "token", token, "header", "X-CSRF-Token",
	                             "expires_in_s", (json_int_t)m->csrf_ttl_s));
}

/* The body as a JSON object; NULL after answering 400. */
static json_t *body_object(struct http_request *req)
{
	struct strv body = http_request_body(req);
	json_error_t jerr;
	char msg[300];

	if (body.len == 0) {
		http_response_error(req, 400, "LB-0400", "a JSON object body is required");
		return NULL;
	}
	json_t *v = json_loadb(body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL || !json_is_object(v)) {
		snprintf(msg, sizeof(msg), "the body is not a JSON object: %s",
		         v == NULL ? jerr.text : "another type");
		json_decref(v);
		http_response_error(req, 400, "LB-0400", msg);
		return NULL;
	}
	return v;
}

/* Reads state and loadfactor from o (either may be absent); other keys are refused, except
   route and url when adding. Returns NULL or a message for 400. */
static const char *json_fields(json_t *o, bool add, struct update *u)
{
	const char *key;
	json_t *v;

	memset(u, 0, sizeof(*u));
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "state") == 0) {
			if (!json_is_string(v) ||
			    balancer_state_parse(json_string_value(v), &u->state) < 0)
				return "state must be ready, drain, maint, disabled or standby";
			u->has_state = true;
		} else if (strcmp(key, "loadfactor") == 0) {
			json_int_t lf = json_is_integer(v) ? json_integer_value(v) : 0;
			if (lf < 1 || lf > BALANCER_LOADFACTOR_MAX)
				return "loadfactor must be an integer from 1 to 100";
			u->has_loadfactor = true;
			u->loadfactor = (unsigned)lf;
		} else if (!add || (strcmp(key, "route") != 0 && strcmp(key, "url") != 0)) {
			snprintf(error_msg, sizeof(error_msg),
			         "unknown field \"%.40s\" (expected %s)", key,
			         add ? "route, url, state, loadfactor" : "state, loadfactor");
			return error_msg;
		}
	}
	return NULL;
}

static bool csrf_header_ok(struct manager *m, struct http_request *req, const char *user)
{
	struct strv token = http_request_header(req, "X-CSRF-Token");
	if (token.ptr == NULL) {
		http_response_error(req, 403, "LB-0419",
		                    "X-CSRF-Token header missing (GET /manager/v1/csrf gives one)");
		return false;
	}
	if (!csrf_valid(m, user, token)) {
		http_response_error(req, 403, "LB-0419",
		                    "X-CSRF-Token invalid or expired (GET /manager/v1/csrf gives a "
		                    "new one)");
		return false;
	}
	return true;
}

static void api_patch(struct manager *m, struct http_request *req, const char *user,
                      const char *route)
{
	struct update u;
	struct op_result r;

	json_t *o = body_object(req);
	if (o == NULL)
		return;
	const char *error = json_fields(o, false, &u);
	json_decref(o);
	if (error == NULL && !u.has_state && !u.has_loadfactor)
		error = "nothing to change (give state and/or loadfactor)";
	if (error != NULL) {
		http_response_error(req, 400, "LB-0400", error);
		return;
	}
	op_update(m, user, route, &u, &r);
	if (r.status != 200)
		reply_op_error(req, &r);
	else
		reply_member(m, req, 200, route);
}

static void api_add(struct manager *m, struct http_request *req, const char *user)
{
	struct update u;
	struct op_result r;
	char route[BALANCER_ROUTE_MAX + 1], url[LB_STATE_URL_MAX + 2];

	json_t *o = body_object(req);
	if (o == NULL)
		return;
	const char *error = json_fields(o, true, &u);
	json_t *jr = json_object_get(o, "route"), *ju = json_object_get(o, "url");
	if (error == NULL && (!json_is_string(jr) || !json_is_string(ju)))
		error = "route and url (strings) are required";
	if (error == NULL && (json_string_length(jr) >= sizeof(route) ||
	                      strlen(json_string_value(jr)) != json_string_length(jr)))
		error = "route must be 1-64 of A-Z a-z 0-9 - _";
	if (error == NULL && (json_string_length(ju) >= sizeof(url) ||
	                      strlen(json_string_value(ju)) != json_string_length(ju)))
		error = "url must be http://host:port";
	if (error == NULL) {
		snprintf(route, sizeof(route), "%s", json_string_value(jr));
		snprintf(url, sizeof(url), "%s", json_string_value(ju));
	}
	json_decref(o);
	if (error != NULL) {
		http_response_error(req, 400, "LB-0400", error);
		return;
	}
	op_add(m, user, route, url, u.has_loadfactor ? u.loadfactor : DEFAULT_LOADFACTOR,
	       u.has_state ? u.state : BALANCER_READY, &r);
	if (r.status != 201) {
		reply_op_error(req, &r);
		return;
	}
	http_response_headerf(req, "Location", "/manager/v1/members/%s", route);
	reply_member(m, req, 201, route);
}

static void api_delete(struct manager *m, struct http_request *req, const char *user,
                       const char *route)
{
	struct op_result r;
	op_remove(m, user, route, &r);
	if (r.status != 204) {
		reply_op_error(req, &r);
		return;
	}
	http_response_status(req, 204);
	http_response_send(req);
}

/* ---------------------------------------------------------------- HTML */

static void reply_html(struct http_request *req, int status, const struct buf *html)
{
	http_response_simple(req, status, "text/html; charset=utf-8", html->data, html->len);
}

static void html_error(struct http_request *req, int status, const char *code, const char *message)
{
	struct buf html;
	buf_init(&html, 64 * 1024);
	manager__html_error(&html, status, code, message);
	reply_html(req, status, &html);
	buf_free(&html);
}

static const char *const form_actions[] = {"state", "loadfactor", "add", "remove"};

/* The page's ?done=ACTION&route=ROUTE (set by the redirect after a form's change): the
   action as one of form_actions and the route, both only when valid. */
static void page_done(struct http_request *req, struct manager_page *p)
{
	struct strv query = http_request_head(req)->query, action, route;
	p->done = p->done_route = NULL;
	if (!http_query_get(query, "done", &action) || !http_query_get(query, "route", &route) ||
	    !balancer_route_valid(route))
		return;
	for (size_t i = 0; i < sizeof(form_actions) / sizeof(form_actions[0]); i++) {
		if (strv_eq_cstr(action, form_actions[i]))
			p->done = form_actions[i];
	}
	p->done_route = pool_strndup(http_request_pool(req), route.ptr, route.len);
}

static void page(struct manager *m, struct http_request *req, const char *user)
{
	struct manager_page p;
	struct buf html;
	char token[MANAGER_CSRF_TOKEN_MAX];
	struct balancer_member_info *infos;

	csrf_token(m, user, token);
	page_done(req, &p);
	p.now_ms = clock_mono_ms();
	p.count = balancer_snapshot(m->b, p.now_ms, &infos);
	p.members = infos;
	p.state = m->state;
	p.user = user;
	p.csrf = token;
	buf_init(&html, 8 * 1024 * 1024);
	manager__html_page(&html, &p);
	mem_free(&infos);
	if (buf_overflowed(&html))
		http_response_error(req, 500, "LB-0500", "the page is too large");
	else
		reply_html(req, 200, &html);
	buf_free(&html);
}

/* A form field, decoded into request memory; NULL when absent or too long. */
static const char *form_field(struct http_request *req, struct strv body, const char *name)
{
	struct strv raw;
	if (!http_query_get(body, name, &raw) || raw.len > FORM_FIELD_MAX)
		return NULL;
	char *out = pool_alloc(http_request_pool(req), raw.len + 1);
	size_t len = http_url_decode(raw, out);
	return strlen(out) == len ? out : NULL; /* a raw NUL byte in the body */
}

static bool parse_loadfactor(const char *s, unsigned *lf_r)
{
	uint64_t v;
	if (s == NULL || strv_to_u64(strv_from_cstr(s), &v) < 0 || v < 1 ||
	    v > BALANCER_LOADFACTOR_MAX)
		return false;
	*lf_r = (unsigned)v;
	return true;
}

/* Remove without confirm=yes: a page that asks, since the page runs no script (CSP). */
static void confirm_remove(struct manager *m, struct http_request *req, const char *user,
                           const char *route)
{
	struct balancer_member_info info;
	char token[MANAGER_CSRF_TOKEN_MAX];
	if (!member_exists(m, route, &info)) {
		char msg[100];
		snprintf(msg, sizeof(msg), "no member %s", route);
		html_error(req, 404, "LB-0404", msg);
		return;
	}
	csrf_token(m, user, token);
	struct buf html;
	buf_init(&html, 64 * 1024);
	manager__html_confirm_remove(&html, token, &info);
	reply_html(req, 200, &html);
	buf_free(&html);
}

static void form(struct manager *m, struct http_request *req, const char *user)
{
	struct strv ct = http_request_header(req, "Content-Type");
	struct strv body = http_request_body(req);
	struct op_result r;

	if (!strv_starts_with(ct, STRV_LIT("application/x-www-form-urlencoded"))) {
		html_error(req, 415, "LB-0415",
		           "the form must be sent as application/x-www-form-urlencoded");
		return;
	}
	const char *csrf = form_field(req, body, "csrf");
	if (csrf == NULL || !csrf_valid(m, user, strv_from_cstr(csrf))) {
		html_error(
		    req, 403, "LB-0419",
		    "the form's token is missing or expired: reload the manager page and try "
		    "again");
		return;
	}
	const char *action = form_field(req, body, "action");
	const char *route = form_field(req, body, "route");
	const char *value = form_field(req, body, "value");
	if (action == NULL || route == NULL) {
		html_error(req, 400, "LB-0400", "the form lacks action or route");
		return;
	}
	if (!balancer_route_valid(strv_from_cstr(route))) {
		html_error(req, 400, "LB-0400", "route must be 1-64 of A-Z a-z 0-9 - _");
		return;
	}
	memset(&r, 0, sizeof(r));
	if (strcmp(action, "state") == 0) {
		struct update u = {.has_state = true};
		if (value == NULL || balancer_state_parse(value, &u.state) < 0)
			op_fail(&r, 400, "LB-0400",
			        "state must be ready, drain, maint, disabled or standby");
		else
			op_update(m, user, route, &u, &r);
	} else if (strcmp(action, "loadfactor") == 0) {
		struct update u = {.has_loadfactor = true};
		if (!parse_loadfactor(value, &u.loadfactor))
			op_fail(&r, 400, "LB-0400", "loadfactor must be a number from 1 to 100");
		else
			op_update(m, user, route, &u, &r);
	} else if (strcmp(action, "add") == 0) {
		const char *lf_s = form_field(req, body, "loadfactor");
		const char *state_s = form_field(req, body, "state");
		unsigned lf = DEFAULT_LOADFACTOR;
		enum balancer_state state = BALANCER_READY;
		if (value == NULL || value[0] == '\0')
			op_fail(&r, 400, "LB-0400", "the member's URL (value) is required");
		else if (lf_s != NULL && lf_s[0] != '\0' && !parse_loadfactor(lf_s, &lf))
			op_fail(&r, 400, "LB-0400", "loadfactor must be a number from 1 to 100");
		else if (state_s != NULL && state_s[0] != '\0' &&
		         balancer_state_parse(state_s, &state) < 0)
			op_fail(&r, 400, "LB-0400",
			        "state must be ready, drain, maint, disabled or standby");
		else
			op_add(m, user, route, value, lf, state, &r);
	} else if (strcmp(action, "remove") == 0) {
		const char *confirm = form_field(req, body, "confirm");
		if (confirm != NULL && strcmp(confirm, "yes") == 0) {
			op_remove(m, user, route, &r);
		} else {
			confirm_remove(m, req, user, route);
			return;
		}
	} else {
		op_fail(&r, 400, "LB-0400", "action must be state, loadfactor, add or remove");
	}
	if (r.code != NULL) {
		html_error(req, r.status, r.code, r.message);
		return;
	}
	/* action and route are checked above: nothing in them needs escaping */
	http_response_headerf(req, "Location", "/manager/?done=%s&route=%s", action, route);
	http_response_simple(req, 303, "text/plain; charset=utf-8", "See /manager/\n", 14);
}

/* ---------------------------------------------------------------- routes */

/* The user on_head authenticated. */
static const char *caller(struct http_request *req)
{
	const char *user = http_request_get_context(req);
	assert(user != NULL); /* on_head answered everything else */
	return user;
}

/* the admin listener serves only the manager: its root leads to the page */
static void route_root(void *ctx, struct http_request *req)
{
	(void)ctx;
	http_response_header(req, "Location", "/manager/");
	http_response_simple(req, 302, "text/plain; charset=utf-8", "See /manager/\n", 14);
}

static void route_page(void *ctx, struct http_request *req)
{
	page(ctx, req, caller(req));
}

static void route_form(void *ctx, struct http_request *req)
{
	form(ctx, req, caller(req));
}

static void route_csrf(void *ctx, struct http_request *req)
{
	api_csrf(ctx, req, caller(req));
}

static void route_members(void *ctx, struct http_request *req)
{
	api_members(ctx, req);
}

static void route_member_add(void *ctx, struct http_request *req)
{
	if (csrf_header_ok(ctx, req, caller(req)))
		api_add(ctx, req, caller(req));
}

/* {route} of /manager/v1/members/{route}; NULL after answering 404. */
static const char *member_route(struct http_request *req)
{
	const char *route = http_request_param(req, "route");
	if (!balancer_route_valid(strv_from_cstr(route))) {
		http_response_error(req, 404, "LB-0404", "no such member");
		return NULL;
	}
	return route;
}

static void route_member(void *ctx, struct http_request *req)
{
	const char *route = member_route(req);
	if (route != NULL)
		reply_member(ctx, req, 200, route);
}

static void route_member_patch(void *ctx, struct http_request *req)
{
	const char *route = member_route(req);
	if (route != NULL && csrf_header_ok(ctx, req, caller(req)))
		api_patch(ctx, req, caller(req), route);
}

static void route_member_delete(void *ctx, struct http_request *req)
{
	const char *route = member_route(req);
	if (route != NULL && csrf_header_ok(ctx, req, caller(req)))
		api_delete(ctx, req, caller(req), route);
}

/* Handlers take the manager as ctx; on_head has authenticated the caller. */
static const struct http_route manager_routes[] = {
    {"GET", "/", route_root, 0, NULL},
    {"GET", "/manager", route_page, 0, NULL},
    {"GET", "/manager/", route_page, 0, NULL},
    {"POST", "/manager/form", route_form, 0, NULL},
    {"GET", "/manager/v1/csrf", route_csrf, 0, NULL},
    {"GET", "/manager/v1/members", route_members, 0, NULL},
    {"POST", "/manager/v1/members", route_member_add, 0, NULL},
    {"GET", "/manager/v1/members/{route}", route_member, 0, NULL},
    {"PATCH", "/manager/v1/members/{route}", route_member_patch, 0, NULL},
    {"DELETE", "/manager/v1/members/{route}", route_member_delete, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static const struct http_route *const manager_route_tables[] = {manager_routes, NULL};

static const struct http_router_settings manager_router_settings = {
    .code_prefix = "LB",
    .not_found = "no such manager resource (see /manager/ and /manager/v1/members)",
    .not_allowed = "method not allowed here",
};

static void on_request(struct http_request *req, void *ctx)
{
	struct manager *m = ctx;
	log_set_request_id(http_request_id(req));
	const struct http_route *route = http_router_match(m->router, req);
	if (route != NULL)
		route->handler(m, req);
	log_set_request_id(NULL);
}

/* ---------------------------------------------------------------- shared state */

uint64_t manager_changes(const struct manager *m)
{
	return m->changes;
}

/* On the manager's thread: applies the latest text handed over, if any. */
static void apply_shared(void *ctx)
{
	struct manager *m = ctx;
	struct buf text;
	uint64_t changes;
	const char *error;

	buf_init(&text, LB_STATE_FILE_MAX);
	pthread_mutex_lock(&m->shared_lock);
	m->shared_posted = false;
	bool pending = m->shared_pending;
	if (pending) {
		buf_append(&text, m->shared.data, m->shared.len);
		changes = m->shared_changes;
		m->shared_pending = false;
		buf_reset(&m->shared);
	}
	pthread_mutex_unlock(&m->shared_lock);
	if (!pending) {
		buf_free(&text);
		return;
	}
	if (changes != m->changes) {
		/* a change made here since is not shared yet; once it is, it wins (it is newer) */
		log_debug("manager",
		          "a peer's state is dropped: this manager's change %llu is "
		          "newer",
		          (unsigned long long)m->changes);
	} else if (lb_state_follow(m->state, buf_strv(&text), "shared state", m->b, m->configured,
	                           m->configured_count, &error) < 0) {
		log_error("manager", "%s", error);
	}
	buf_free(&text);
}

/* Under shared_lock: has loop run apply_shared() unless it is on its way already. */
static void post_shared(struct manager *m)
{
	if (m->loop != NULL && m->shared_pending && !m->shared_posted) {
		m->shared_posted = true;
		ioloop_post(m->loop, apply_shared, m);
	}
}

void manager_apply_shared(struct manager *m, struct strv text, uint64_t changes)
{
	pthread_mutex_lock(&m->shared_lock);
	buf_reset(&m->shared);
	buf_append(&m->shared, text.ptr, text.len);
	m->shared_changes = changes;
	m->shared_pending = true;
	post_shared(m);
	pthread_mutex_unlock(&m->shared_lock);
}

static void on_thread_start(struct ioloop *loop, void *ctx)
{
	struct manager *m = ctx;
	pthread_mutex_lock(&m->shared_lock);
	m->loop = loop;
	post_shared(m);
	pthread_mutex_unlock(&m->shared_lock);
}

/* Posts still queued die with the loop (they hold no memory of their own). */
static void on_thread_stop(struct ioloop *loop, void *ctx)
{
	struct manager *m = ctx;
	(void)loop;
	pthread_mutex_lock(&m->shared_lock);
	m->loop = NULL;
	m->shared_posted = false;
	pthread_mutex_unlock(&m->shared_lock);
}

/* ---------------------------------------------------------------- server */

int manager_start(struct manager *m, const char *listen, const char **error_r)
{
	struct http_server_settings hs;
	const char *error;

	assert(m->server == NULL);
	memset(&hs, 0, sizeof(hs));
	http_limits_default(&hs.limits);
	hs.limits.max_body = REQUEST_BODY_MAX;
	hs.limits.max_buffered_body = REQUEST_BODY_MAX * 4; /* responses may be 16 times that */
	hs.threads = 1;
	hs.server_name = "tandem-lb";
	hs.on_head = on_head;
	hs.on_request = on_request;
	hs.on_thread_start = on_thread_start;
	hs.on_thread_stop = on_thread_stop;
	hs.ctx = m;
	m->router = http_router_create(manager_route_tables, &manager_router_settings, &error);
	assert(m->router != NULL); /* the table is ours: only a bad pattern fails */
	m->server = http_server_create(&hs);
	if (http_server_listen(m->server, listen, &error) < 0 ||
	    http_server_start(m->server, &error) < 0) {
		snprintf(error_msg, sizeof(error_msg), "manager listener %s: %s", listen, error);
		*error_r = error_msg;
		http_server_destroy(&m->server);
		http_router_destroy(&m->router);
		return -1;
	}
	log_info("manager", "balancer manager on http://%s/manager/ (state file %s)",
	         http_server_address(m->server, 0),
	         lb_state_path(m->state) != NULL ? lb_state_path(m->state) : "none");
	return 0;
}

const char *manager_address(struct manager *m)
{
	return m->server != NULL ? http_server_address(m->server, 0) : NULL;
}

void manager_stop(struct manager *m)
{
	if (m->server == NULL)
		return;
	unsigned cut = http_server_shutdown(m->server, STOP_TIMEOUT_MS);
	if (cut > 0)
		log_warn("manager", "%u manager connection(s) cut at shutdown", cut);
	http_server_destroy(&m->server);
	http_router_destroy(&m->router);
}
