/* SPDX-License-Identifier: MIT */
/* Session store interface (docs/internals/sessions.md; docs/security.md): memory for a single node,
   Redis for clusters. Stores never see a session's secret, only its keyed digest. */
#ifndef TANDEM_SESSION_STORE_H
#define TANDEM_SESSION_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_ID_LEN 32 /* hex of 128 random bits */

struct session {
	char id[SESSION_ID_LEN + 1];
	/* hex of a keyed BLAKE2b-128 of the secret (sessions.c): whoever reads the store cannot
	   present the secret, and without the key cannot make a digest for a secret of theirs */
	char digest[SESSION_ID_LEN + 1];
	int64_t cid;
	int64_t uid;
	char login[130];
	char client[64];
	char cookie_hash[33]; /* names the secret cookie: tandem-secret-<cookie_hash> */
	char ip[64];
	char route[64];
	uint64_t created_ms;
	uint64_t last_ms;     /* last use, refreshed on access (throttled) */
	uint64_t lifetime_ms; /* idle lifetime */
	bool stay_signed_in;
	/* The modules the user may use (lib-provision's access.h bits), fixed at login: a
	   change of the user's access combination ends their sessions. 0 = not known (a session
	   from before access combinations): every module. */
	uint32_t modules;
	/* The context's revocation generation read before the password was checked (put
	   refuses the session when it has moved since); not stored. */
	uint64_t gen;
};

struct session_store;

struct session_store_ops {
	/* Stores s (new id) unless a revocation in s->cid came after s->gen was read: 0 stored,
	   1 revoked meanwhile (nothing stored), -1 store error. */
	int (*put)(struct session_store *store, const struct session *s);
	/* The revocation generation of cid (0 before the first revocation): read it before
	   checking credentials and hand it to put in s->gen. 0 or -1. */
	int (*generation)(struct session_store *store, int64_t cid, uint64_t *gen_r);
	/* Ends every session of user uid in cid, or of the whole context when uid is 0, and
	   moves cid's generation on, atomically: a login that checked credentials before
	   cannot store its session after. Returns the sessions ended, or -1 (store error). */
	int (*revoke)(struct session_store *store, int64_t cid, int64_t uid);
	/* 1 found and not expired (copied to *s_r), 0 unknown or expired, -1 store error. */
	int (*get)(struct session_store *store, const char *id, uint64_t now_ms,
	           struct session *s_r);
	/* Marks the session s (as returned by get) used at now_ms. */
	int (*touch)(struct session_store *store, const struct session *s, uint64_t now_ms);
	/* Removes one session: 1 removed, 0 unknown, -1 store error. */
	int (*remove)(struct session_store *store, const char *id);
	/* The ids of a user's live sessions, oldest first, into ids (up to max); returns count,
	   or -1 on a store error. */
	int (*list_user)(struct session_store *store, int64_t cid, int64_t uid, uint64_t now_ms,
	                 char (*ids)[SESSION_ID_LEN + 1], size_t max);
	/* Live sessions created on this node (metrics, membership). */
	size_t (*count)(struct session_store *store);
	void (*destroy)(struct session_store *store);
};

struct session_store {
	const struct session_store_ops *ops;
};

/* Every op returning -1 leaves the reason here (per thread, until the next failure). */
const char *session_store_error(void);
void session_store_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Memory store: a hash table guarded by one mutex; expired sessions are dropped lazily. */
struct session_store *session_store_memory_create(void);
void session_store_destroy(struct session_store **store);

#endif
