/* SPDX-License-Identifier: MIT */
/* The session API: POST /api/v1/login (check the password once, make the session and its
   cookies), POST /api/v1/logout, GET /api/v1/session, and api_auth() for every other API.
   The sessions themselves (store, validation, revocation) are sessions.c's. */
#include "api-session.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "api-common.h"
#include "api-mail-account.h"
#include "clock.h"
#include "http-forwarded.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "login-cache.h"
#include "login-throttle.h"
#include "mem.h"
#include "node-access.h"
#include "node.h"
#include "password.h"
#include "provision.h"
#include "random.h"
#include "routes.h"
#include "sessions-private.h"

/* The access log's user=: "<cid>/<uid>". */
static void log_user(struct http_request *req, const struct session *sess)
{
	char who[48];
	snprintf(who, sizeof(who), "%lld/%lld", (long long)sess->cid, (long long)sess->uid);
	http_request_set_user(req, who);
}

static bool session_check(struct sessions *s, struct http_request *req, struct session *sess_r)
{
	const char *why;
	int r = sessions_validate(s, req, sess_r, &why);
	if (r < 0)
		api_error(req, 503, "SES-0503", "session store unavailable: %s", why);
	else if (r == 0)
		api_error(req, 401, "SES-0203", "%s: log in again", why);
	else
		log_user(req, sess_r);
	return r > 0;
}

bool api_auth(struct node *node, struct http_request *req, struct api_user *user_r)
{
	struct session sess;
	if (!session_check(node->sessions, req, &sess))
		return false;
	if (!api_access_path(req, sess.modules, sess.login))
		return false;
	user_r->cid = sess.cid;
	user_r->uid = sess.uid;
	snprintf(user_r->login, sizeof(user_r->login), "%s", sess.login);
	memcpy(user_r->session, sess.id, sizeof(user_r->session));
	return true;
}

/* --- login --- */

/* The client name the web UI logs in with: such a login needs the "webui" module. */
#define WEBUI_CLIENT "tandem-webui"

/* The modules a session may use, by name (every module when no combination applies), for
   clients to show only what the user may use. */
static json_t *modules_json(uint32_t modules)
{
	json_t *list = json_array();
	for (int m = 0; m < MODULE_COUNT; m++)
		if (access_allows(modules, (enum access_module)m))
			json_array_append_new(list, json_string(access_module_name(m)));
	return list;
}

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

/* 1 found, 0 no such login, -1 database error (in why). Only found rows are cached: a
   login that does not exist yet must work the moment it is created. gen: the context's
   revocation generation, read before. The context's location (enabled or not) is read
   afresh, not from the few seconds' cache, for the same reason as gen. */
static int load_user(struct node *node, struct provision *prov, struct api_refusal *why,
                     int64_t cid, const char *login, uint64_t gen, struct prov_login *u,
                     struct prov_location *loc)
{
	struct prov_error perr;
	if (provision_context_db_fresh(prov, cid, loc, &perr) == NULL) {
		if (perr.status == PROV_NOT_FOUND)
			return 0; /* deleted since the mapping was looked up */
		api_refusal_set(why, 503, "SES-0503", "%s", perr.message);
		return -1;
	}
	if (login_cache_get(node->login_cache, cid, login, gen, u))
		return 1;
	/* Taken before the read: a change that commits after it drops after this, and then
	   login_cache_put() refuses the row read here. */
	uint64_t ticket = login_cache_ticket(node->login_cache);
	int r = provision_login_lookup(prov, cid, login, u, &perr);
	if (r < 0 && perr.status == PROV_NOT_FOUND)
		return 0; /* deleted meanwhile */
	if (r < 0)
		api_refusal_set(why, 503, "SES-0503", "%s", perr.message);
	if (r > 0)
		login_cache_put(node->login_cache, ticket, cid, login, gen, u);
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

void api_refusal_set(struct api_refusal *why, int status, const char *code, const char *fmt, ...)
{
	va_list args;
	memset(why, 0, sizeof(*why));
	why->status = status;
	why->code = code;
	va_start(args, fmt);
	vsnprintf(why->message, sizeof(why->message), fmt, args);
	va_end(args);
}

void api_refusal_send(struct http_request *req, const struct api_refusal *why,
                      const char *challenge)
{
	if (why->status == 401 && challenge != NULL)
		http_response_header(req, "WWW-Authenticate", challenge);
	if (why->retry_after > 0)
		http_response_headerf(req, "Retry-After", "%lld", (long long)why->retry_after);
	api_error(req, why->status, why->code, "%s", why->message);
}

/* 401 wrong login or password. */
static void refuse(struct api_refusal *why)
{
	api_refusal_set(why, 401, "SES-0401", "wrong login or password");
}

bool api_session_check_password(struct node *node, struct http_request *req, const char *login,
                                const char *password, const char *challenge, struct api_login *r)
{
	struct sessions *s = node->sessions;
	struct http_client_ip from;
	struct api_refusal why;
	http_request_client_ip(req, s->set.trusted_proxies, s->set.trusted_proxy_count, &from);
	if (api_session_check_login(node, &from, login, password, r, &why))
		return true;
	api_refusal_send(req, &why, challenge);
	return false;
}

bool api_session_check_login(struct node *node, const struct http_client_ip *from,
                             const char *login, const char *password, struct api_login *r,
                             struct api_refusal *why)
{
	struct sessions *s = node->sessions;
	memset(r, 0, sizeof(*r));
	r->from = *from;
	if (strlen(login) > 257 || strlen(password) > 256) {
		refuse(why); /* longer than any that can exist */
		return false;
	}

	/* user@mapping; without '@' the mapping is defaultcontext. */
	/* Logins are at most 128 characters (provisioning enforces it): a longer one cannot exist
	   and is refused like any unknown login below. */
	char mapping[260];
	const char *at = strrchr(login, '@');
	size_t user_len = at != NULL ? (size_t)(at - login) : strlen(login);
	if (user_len > 128)
		user_len = 129;
	memcpy(r->user, login, user_len);
	r->user[user_len] = '\0';
	snprintf(mapping, sizeof(mapping), "%s", at != NULL ? at + 1 : "defaultcontext");
	struct prov_error perr;
	struct provision *prov = node_provision(node, &perr);
	if (prov == NULL) {
		api_refusal_set(why, 503, "SES-0503", "%s", perr.message);
		return false;
	}
	struct prov_login u = {0};
	struct prov_location loc;
	int found = 0;
	if (user_len > 128) {
		/* fall through to the refusal */
	} else if (provision_lookup_mapping(prov, mapping, &r->cid, &perr) < 0) {
		if (perr.status != PROV_NOT_FOUND) {
			api_refusal_set(why, 503, "SES-0503", "%s", perr.message);
			return false;
		}
		r->cid = 0;
	}
	/* bob, bob@defaultcontext and bob@1 are one user to the throttle */
	char who[300];
	time_t now_s = (time_t)(clock_mono_ms() / 1000);
	login_throttle_user(who, sizeof(who), r->cid, mapping, r->user);
	time_t wait = login_throttle_check(s->throttle, &r->from.addr, who, now_s);
	if (wait > 0) {
		api_refusal_set(why, 429, "SES-0429", "too many failed logins; try again in %lld s",
		                (long long)wait);
		why->retry_after = (int64_t)wait;
		return false;
	}
	const char *problem;
	if (sessions__salt_settle(s, &problem) < 0) {
		api_refusal_set(why, 503, "SES-0503", "session store unavailable: %s", problem);
		return false;
	}
	if (r->cid > 0) {
		if (sessions_generation(s, r->cid, &r->gen, &problem) < 0) {
			api_refusal_set(why, 503, "SES-0503", "session store unavailable: %s",
			                problem);
			return false;
		}
		found = load_user(node, prov, why, r->cid, r->user, r->gen, &u, &loc);
		if (found < 0)
			return false;
	}
	/* Unknown context, unknown user and wrong password look the same from outside, and
	   take the same time: password_check() verifies against a dummy hash without a user.
	   With [auth] method = imap the mail system holds the password (an unknown user is not
	   asked about). */
	enum password_status pw;
	if (node->cfg.auth_imap) {
		char reason[256];
		int ok = found > 0 ? api_mail_check_password(&node->cfg.mail, r->cid, r->user, &u,
		                                             password, reason, sizeof(reason))
		                   : 0;
		if (ok < 0) {
			log_warn("session", "login of %s@%lld not checked: %s", r->user,
			         (long long)r->cid, reason);
			api_refusal_set(why, 503, "SES-0503",
			                "the mail system cannot check the password now: %s",
			                reason);
			return false;
		}
		pw = ok > 0 ? PASSWORD_OK : PASSWORD_WRONG;
	} else {
		pw = password_check(found > 0 ? u.password_hash : NULL, password);
	}
	if (pw == PASSWORD_BUSY) {
		api_refusal_set(why, 503, "SES-0503", "too many logins in progress; try again");
		why->retry_after = 1;
		return false;
	}
	if (pw == PASSWORD_REFUSED)
		log_warn("session", "login of %s@%lld (user %lld) refused: its stored %s", r->user,
		         (long long)r->cid, (long long)u.uid,
		         password_hash_problem(u.password_hash));
	if (pw != PASSWORD_OK) {
		login_throttle_fail(s->throttle, &r->from.addr, who, now_s);
		log_info("session", "login failed for %s from %s", login, r->from.text);
		refuse(why);
		return false;
	}
	if (!loc.enabled) {
		api_refusal_set(why, 403, "SES-0403", "context disabled: %s", loc.disabled_reason);
		return false;
	}
	if (!u.enabled) {
		api_refusal_set(why, 403, "SES-0403", "account disabled: %s",
		                u.disabled_reason[0] != '\0' ? u.disabled_reason
		                                             : "no reason given");
		return false;
	}
	r->uid = u.uid;
	memcpy(r->access, u.access, sizeof(r->access));
	return true;
}

static void login(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
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
	struct api_login who;
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
	if (!api_session_check_password(node, req, login, password, NULL, &who))
		goto out;

	struct session sess;
	char secret[SESSION_ID_LEN + 1];
	memset(&sess, 0, sizeof(sess));
	random_hex(sess.id, 16);
	random_hex(secret, 16);
	sessions__secret_digest(s, secret, SESSION_ID_LEN, sess.digest);
	sess.gen = who.gen;
	sess.cid = who.cid;
	sess.uid = who.uid;
	memcpy(sess.login, who.user, sizeof(sess.login));
	snprintf(sess.client, sizeof(sess.client), "%s", client);
	sessions__cookie_hash(s, http_request_header(req, "User-Agent"), client, sess.cookie_hash);
	snprintf(sess.ip, sizeof(sess.ip), "%s", who.from.text);
	snprintf(sess.route, sizeof(sess.route), "%s", s->route);
	sess.stay_signed_in = json_is_true(stay);
	sess.modules = node_access_modules(node, who.access);
	if (strcmp(client, WEBUI_CLIENT) == 0 && !access_allows(sess.modules, MODULE_WEBUI)) {
		/* refused before a session exists: the web UI says why in words */
		api_module_refuse(req, who.user, MODULE_WEBUI);
		goto out;
	}
	sess.lifetime_ms = sess.stay_signed_in ? s->set.long_lifetime_ms : s->set.lifetime_ms;
	sess.created_ms = sess.last_ms = clock_wall_ms();
	int put = make_room(s, who.cid, who.uid, sess.created_ms);
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
	log_info("session", "login %s@%lld (user %lld) from %s", who.user, (long long)who.cid,
	         (long long)who.uid, who.from.text);
	log_user(req, &sess);
	set_cookies(s, req, &sess, secret);
	sodium_memzero(secret, sizeof(secret));
	http_response_json(req, 200,
	                   json_pack("{sssIsIssso}", "session", sess.id, "context_id",
	                             (json_int_t)who.cid, "user_id", (json_int_t)who.uid, "route",
	                             s->route, "modules", modules_json(sess.modules)));
out:
	json_decref(body);
}

static void logout(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
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
	http_response_json(req, 200, json_pack("{si}", "ended", ended));
}

static void whoami(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct session sess;
	if (!session_check(node->sessions, req, &sess))
		return;
	uint64_t now = clock_wall_ms();
	uint64_t left =
	    sess.last_ms + sess.lifetime_ms > now ? sess.last_ms + sess.lifetime_ms - now : 0;
	http_response_json(req, 200,
	                   json_pack("{sssIsIsssssssbsIso}", "session", sess.id, "context_id",
	                             (json_int_t)sess.cid, "user_id", (json_int_t)sess.uid, "login",
	                             sess.login, "client", sess.client, "route",
	                             node->sessions->route, "staySignedIn", sess.stay_signed_in,
	                             "expires_in", (json_int_t)(left / 1000), "modules",
	                             modules_json(sess.modules)));
}

/* GET /api/v1/sessions: my live sessions, oldest first, without their ids (which only their
   holders should have): where and when each was made and last used, and which is this one. */
static void sessions_list(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct sessions *s = node->sessions;
	struct session me, other;
	if (!session_check(s, req, &me))
		return;
	uint64_t now = clock_wall_ms();
	char(*ids)[SESSION_ID_LEN + 1] = mem_calloc(MAX_PER_USER_CAP, sizeof(*ids));
	int n = s->store->ops->list_user(s->store, me.cid, me.uid, now, ids, MAX_PER_USER_CAP);
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		int r = s->store->ops->get(s->store, ids[i], now, &other);
		if (r < 0) {
			n = -1;
			break;
		}
		if (r == 0 || other.cid != me.cid || other.uid != me.uid)
			continue; /* ended meanwhile */
		json_array_append_new(
		    list,
		    json_pack("{sssssssIsIsbsb}", "client", other.client, "ip", other.ip, "route",
		              other.route, "created", (json_int_t)(other.created_ms / 1000),
		              "last_used", (json_int_t)(other.last_ms / 1000), "staySignedIn",
		              other.stay_signed_in, "current", strcmp(other.id, me.id) == 0));
	}
	mem_free(&ids);
	if (n < 0) {
		json_decref(list);
		api_error(req, 503, "SES-0503", "session store unavailable: %s",
		          session_store_error());
		return;
	}
	http_response_json(req, 200, json_pack("{so}", "sessions", list));
}

const struct http_route api_session_routes[] = {
    {"POST", "/api/v1/login", login, 0, NULL},
    {"POST", "/api/v1/logout", logout, 0, NULL},
    {"GET", "/api/v1/session", whoami, 0, NULL},
    {"GET", "/api/v1/sessions", sessions_list, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
