/* SPDX-License-Identifier: MIT */
/* Session store interface (DESIGN §4): memory for a single node; Redis for clusters later. */
#ifndef TANDEM_SESSION_STORE_H
#define TANDEM_SESSION_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_ID_LEN 32 /* hex of 128 random bits */

struct session {
	char id[SESSION_ID_LEN + 1];
	char secret[SESSION_ID_LEN + 1];
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
};

struct session_store;

struct session_store_ops {
	/* Stores s (new id). Returns 0 or -1. */
	int (*put)(struct session_store *store, const struct session *s);
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
