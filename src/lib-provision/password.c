/* SPDX-License-Identifier: MIT */
/* argon2id via libsodium's crypto_pwhash_str family. A verification costs what the hash's
   parameters say (memory m KiB, t passes), and hashes may come from tenants, so those are
   checked before libsodium sees them; the checks and the dummy hash keep every login at one
   verification, so its time tells nothing about whether the user exists. */
#include "password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "strv.h"

#define OPSLIMIT 2
#define MEMLIMIT (19u * 1024 * 1024)

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static _Atomic(struct gate *) gate;
static uint64_t gate_wait_ms;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy[PASSWORD_HASH_MAX];

void password_set_limits(unsigned max, uint64_t wait_ms)
{
	struct gate *old = atomic_exchange(&gate, max > 0 ? gate_create(max, 4 * max) : NULL);
	gate_wait_ms = wait_ms;
	gate_destroy(&old);
}

static void make_dummy(void)
{
	char secret[33];
	unsigned char raw[16];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(secret, sizeof(secret), raw, sizeof(raw));
	/* Without the memory for it no login can be checked either: what matters is that the
	   dummy has the parameters of a real hash. */
	if (crypto_pwhash_str_alg(dummy, secret, strlen(secret), OPSLIMIT, MEMLIMIT,
	                          crypto_pwhash_ALG_ARGON2ID13) != 0)
		dummy[0] = '\0';
	sodium_memzero(secret, sizeof(secret));
}

void password_init(void)
{
	pthread_once(&dummy_once, make_dummy);
}

bool password_get_stats(struct gate_stats *stats_r)
{
	struct gate *g = atomic_load(&gate);
	if (g != NULL)
		gate_get_stats(g, stats_r);
	return g != NULL;
}

static bool enter(void)
{
	struct gate *g = atomic_load(&gate);
	return g == NULL || gate_enter(g, gate_wait_ms);
}

static void leave(void)
{
	struct gate *g = atomic_load(&gate);
	if (g != NULL)
		gate_leave(g);
}

enum password_status password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	_Static_assert(crypto_pwhash_STRBYTES <= PASSWORD_HASH_MAX, "hash buffer too small");
	if (!enter())
		return PASSWORD_BUSY;
	int r = crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT, MEMLIMIT,
	                              crypto_pwhash_ALG_ARGON2ID13);
	leave();
	return r == 0 ? PASSWORD_OK : PASSWORD_FAILED;
}

enum password_status password_check(const char *hash, const char *password)
{
	bool usable = hash != NULL && password_hash_problem(hash) == NULL;
	password_init();
	if (!enter())
		return PASSWORD_BUSY;
	int r = crypto_pwhash_str_verify(usable ? hash : dummy, password, strlen(password));
	leave();
	if (!usable)
		return hash != NULL ? PASSWORD_REFUSED : PASSWORD_WRONG;
	return r == 0 ? PASSWORD_OK : PASSWORD_WRONG;
}

/* A decimal of 1-10 digits without a leading zero at *p; advances *p past it. */
static bool number(const char **p, uint64_t *value_r)
{
	size_t n = strspn(*p, "0123456789");
	if (n == 0 || n > 10 || (n > 1 && (*p)[0] == '0') ||
	    strv_to_u64(strv_make(*p, n), value_r) < 0)
		return false;
	*p += n;
	return true;
}

/* Base64 without padding of at least min_bytes bytes at *p, up to end or a '$'. */
static bool b64(const char **p, size_t min_bytes)
{
	size_t n = strspn(*p, b64_chars);
	if (n < (min_bytes * 4 + 2) / 3 || n % 4 == 1)
		return false;
	*p += n;
	return true;
}

/* Takes lit at *p; advances *p past it. */
static bool expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

const char *password_hash_problem(const char *s)
{
	static __thread char msg[240];
	uint64_t m, t, p;
	const char *at = s;
	/* libsodium refuses salts under 8 bytes and hashes under 16 (ARGON2_MIN_*) */
	if (strlen(s) >= PASSWORD_HASH_MAX || !expect(&at, "$argon2id$v=19$m=") ||
	    !number(&at, &m) || !expect(&at, ",t=") || !number(&at, &t) || !expect(&at, ",p=") ||
	    !number(&at, &p) || !expect(&at, "$") || !b64(&at, 8) || !expect(&at, "$") ||
	    !b64(&at, 16) || *at != '\0')
		return "password_hash must be an argon2id string "
		       "($argon2id$v=19$m=M,t=T,p=P$salt$hash, at most 127 characters)";
	if (m < PASSWORD_M_MIN_KIB || m > PASSWORD_M_MAX_KIB || t < PASSWORD_T_MIN ||
	    t > PASSWORD_T_MAX || p != PASSWORD_P) {
		snprintf(msg, sizeof(msg),
		         "password_hash parameters m=%llu,t=%llu,p=%llu are outside the allowed "
		         "range: " PASSWORD_BOUNDS,
		         (unsigned long long)m, (unsigned long long)t, (unsigned long long)p);
		return msg;
	}
	return NULL;
}
