/* SPDX-License-Identifier: MIT */
/* Sessions of the /api/v1 users (docs/internals/sessions.md): login, validation, logout, routing
 * cookie. */
#ifndef TANDEMD_SESSIONS_H
#define TANDEMD_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "session-store.h"

struct cidr;

struct http_request;
struct node;
struct sessions;

enum ip_check { IP_CHECK_NONE, IP_CHECK_STRICT, IP_CHECK_SUBNET };

/* Failed logins within SESSIONS_FAILURES_WINDOW_S (login-throttle.h; docs/internals/sessions.md
   "Throttles" explains the numbers): from one client address, for one canonical user from one
   address, for one user from all addresses together. */
#define SESSIONS_FAILURES_PER_ADDRESS      20
#define SESSIONS_FAILURES_PER_USER_ADDRESS 5
#define SESSIONS_FAILURES_PER_USER         100
#define SESSIONS_FAILURES_WINDOW_S         300

struct sessions_settings {
	uint64_t lifetime_ms;
	uint64_t long_lifetime_ms;
	unsigned max_per_user;
	enum ip_check ip_check;
	const char *cookie_salt; /* NULL = agree_salt's, or without it random per process */
	/* Without cookie_salt: agrees on one salt for all nodes sharing the store (the first
	   node's proposal), asked until it succeeds; sessions answer "store unavailable" until
	   then. NULL = a random salt of this process. */
	int (*agree_salt)(void *ctx, const char *proposal, char *salt_r, size_t size,
	                  const char **error_r);
	void *agree_ctx;
	const char *route;
	struct session_store *store; /* taken over; NULL = a memory store */
	/* [server] trusted_proxies (not copied: must outlive the sessions): the client address
	   for ip_check and throttles, and whether the client used HTTPS (the cookie's Secure),
	   come through these */
	const struct cidr *trusted_proxies;
	size_t trusted_proxy_count;
};

struct sessions *sessions_create(const struct sessions_settings *set);
void sessions_destroy(struct sessions **s);
size_t sessions_count(struct sessions *s);
/* The store the sessions live in (for its own statistics); owned by s. */
struct session_store *sessions_store(struct sessions *s);

/* Finds and checks req's session (id, secret cookie, IP); refreshes its idle time (at most
   once a minute). 1 valid, 0 missing/expired/mismatched (*why_r says which), -1 the store
   failed (*why_r says why; answer 503). */
int sessions_validate(struct sessions *s, struct http_request *req, struct session *s_r,
                      const char **why_r);
/* The revocation generation of cid (it moves whenever sessions of the context or one of its
   users are ended), after the revocations still pending on this node have run: what a
   credential checked earlier is compared with. 0, or -1 with *why_r when the store fails. */
int sessions_generation(struct sessions *s, int64_t cid, uint64_t *gen_r, const char **why_r);

/* Ends every session of user uid in cid (uid 0: of every user of the context) on every node
   sharing the store, and makes logins that checked credentials before fail. Called after
   a password change, a user or context disabled or deleted, and before a context id is
   created again. A store that fails keeps the revocation pending on this node: it is
   retried before this node honours any session again. Thread-safe. */
void sessions_revoke(struct sessions *s, int64_t cid, int64_t uid);

#endif
