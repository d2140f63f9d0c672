/* SPDX-License-Identifier: MIT */
/* Password hashing: argon2id strings from libsodium, with bounds on what a stored hash may
   make the server spend, on how many hashings run at once, and with the same cost for a
   login whose user does not exist (docs/internals/sessions.md "Password hashing"). */
#ifndef TANDEM_PASSWORD_H
#define TANDEM_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Big enough for any crypto_pwhash_STRBYTES string. */
#define PASSWORD_HASH_MAX 128

/* The argon2id parameters a hash given from outside (the admin API's password_hash) may
   have: memory m in KiB, passes t, lanes p. What password_hash() makes (m=19456, t=2, p=1)
   lies inside; so do libsodium's INTERACTIVE (64 MiB, t=2) and PHP's default (64 MiB, t=4). */
#define PASSWORD_M_MIN_KIB 8192u
#define PASSWORD_M_MAX_KIB 65536u
#define PASSWORD_T_MIN     1u
#define PASSWORD_T_MAX     4u
#define PASSWORD_P         1u
#define PASSWORD_BOUNDS    "argon2id v=19 with m=8192-65536 (KiB: 8-64 MiB), t=1-4 and p=1"

enum password_status {
	PASSWORD_OK,
	PASSWORD_WRONG,   /* no such user, or the wrong password */
	PASSWORD_REFUSED, /* the stored hash is not one this server runs (parameters out of
	                     bounds, not argon2id): like a wrong password; the caller logs it */
	PASSWORD_BUSY,    /* too many hashings in progress (password_set_limits()) */
	PASSWORD_FAILED,  /* password_hash() only: libsodium could not allocate its memory */
};

/* Process-wide, before the threads that hash start: at most max hashings at once (0 = no
   bound, the default); a caller waits at most wait_ms for a turn, at most 4 × max callers
   wait, and the others get PASSWORD_BUSY at once. */
void password_set_limits(unsigned max, uint64_t wait_ms);
/* Makes the dummy hash that password_check() uses when there is no hash to check, so the
   first unknown login costs what the others do. Thread-safe; password_check() calls it. */
void password_init(void);
struct gate_stats;
/* The bound's counters; false (nothing filled in) without a bound. */
bool password_get_stats(struct gate_stats *stats_r);

/* Hashes password (argon2id, t=2, m=19 MiB, p=1: OWASP's minimum for argon2id) into out:
   PASSWORD_OK, PASSWORD_BUSY or PASSWORD_FAILED. */
enum password_status password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* Checks password against hash with exactly one argon2id verification of the server's cost
   or the hash's, whatever the outcome: when hash is NULL (no such user) or refused, against
   the dummy hash, so the time does not tell which. Constant-time comparison. */
enum password_status password_check(const char *hash, const char *password);
/* NULL when s is an argon2id string "$argon2id$v=19$m=M,t=T,p=P$salt$hash" with parameters
   inside PASSWORD_BOUNDS, else a static message saying what is wrong and what is allowed. */
const char *password_hash_problem(const char *s);

#endif
