/* SPDX-License-Identifier: MIT */
/* What the session table (sessions.c) shares with the session API's handlers (api-session.c). */
#ifndef TANDEMD_SESSIONS_PRIVATE_H
#define TANDEMD_SESSIONS_PRIVATE_H

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>

#include "sessions.h"
#include "strv.h"

#define TOUCH_INTERVAL_MS       60000
#define MAX_PER_USER_CAP        1000 /* sessions one user may hold at most, whatever the settings */
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

/* The salt agreed (configured, or through the store); 0, or -1 with error_r while the store
   cannot be asked. */
int sessions__salt_settle(struct sessions *s, const char **error_r);
/* hex(BLAKE2b-128(User-Agent \0 client \0 salt)): names the secret cookie. */
void sessions__cookie_hash(const struct sessions *s, struct strv ua, const char *client,
                           char out[33]);
/* hex(keyed BLAKE2b-128(secret)): what the store keeps instead of the secret. */
void sessions__secret_digest(const struct sessions *s, const char *secret, size_t len,
                             char out[33]);

#endif
