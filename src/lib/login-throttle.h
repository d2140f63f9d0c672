/* SPDX-License-Identifier: MIT */
/* Failed-login throttling by client address and by canonical user, shaped so that locking
   out an attacker does not lock out anyone else (docs/security.md; docs/internals/sessions.md
   "Throttles"). Used by tandemd's API login and the admin logins of tandemd and the balancer
   manager (http-admin-login.h). */
#ifndef TANDEM_LOGIN_THROTTLE_H
#define TANDEM_LOGIN_THROTTLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cidr.h"

struct login_throttle;

struct login_throttle_limits {
	unsigned per_address;      /* failures from one address, whichever users */
	unsigned per_user_address; /* failures for one user from one address */
	/* failures for one user from all addresses together; past it, an address that has
	   failed for the user in its window gets no further try (others still do) */
	unsigned per_user;
	unsigned window_s; /* each count lasts this long from its first failure */
	unsigned capacity; /* keys held per count (memory: about 48 bytes each, three counts) */
};

struct login_throttle *login_throttle_create(const struct login_throttle_limits *limits);
void login_throttle_destroy(struct login_throttle **lt);

/* 0 when user (a canonical user, see login_throttle_user()) may try to log in from addr now,
   else the seconds until it may. IPv6 addresses count by their /64 (one site; a client has
   many addresses in it). now: clock_mono_ms() / 1000. Thread-safe. */
time_t login_throttle_check(struct login_throttle *lt, const struct cidr_addr *addr,
                            const char *user, time_t now);
/* Counts a failed login of user from addr. Thread-safe. */
void login_throttle_fail(struct login_throttle *lt, const struct cidr_addr *addr, const char *user,
                         time_t now);

/* The canonical user: one name whatever way the login was spelt. cid > 0 (a known context):
   "<cid>/<user lowercased>"; else "?<mapping lowercased>/<user lowercased>". */
void login_throttle_user(char *out, size_t size, int64_t cid, const char *mapping,
                         const char *user);
/* The same from a scope of the caller's: "<scope>/<user>", lowercased (login_throttle_user()
   is "<cid>" or "?<mapping>" as scope). */
void login_throttle_user_in(char *out, size_t size, const char *scope, const char *user);

#endif
