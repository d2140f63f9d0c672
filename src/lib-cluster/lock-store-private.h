/* SPDX-License-Identifier: MIT */
/* What the lock store backends implement; lock-store.c checks the arguments, makes tokens and
   clamps timeouts before calling them. */
#ifndef TANDEM_LOCK_STORE_PRIVATE_H
#define TANDEM_LOCK_STORE_PRIVATE_H

#include "lock-store.h"

enum lock_list_mode {
	LOCK_LIST_COVERING,
	LOCK_LIST_BELOW,
};

/* Arguments are valid (paths normalised, token well formed, timeout in 1..LOCK_TIMEOUT_MAX).
   A status other than LOCK_OK sets the reason with lock_store__set_error. */
struct lock_store_ops {
	enum lock_status (*lock)(struct lock_store *store, struct pool *pool,
	                         const struct lock_request *req, const char *token,
	                         uint32_t timeout_s, struct lock *lock_r);
	enum lock_status (*refresh)(struct lock_store *store, struct pool *pool, int64_t cid,
	                            const char *token, const char *path, int64_t principal,
	                            uint32_t timeout_s, struct lock *lock_r);
	enum lock_status (*unlock)(struct lock_store *store, int64_t cid, const char *token,
	                           const char *path, int64_t principal);
	enum lock_status (*list)(struct lock_store *store, struct pool *pool, int64_t cid,
	                         const char *path, enum lock_list_mode mode, struct lock **locks_r,
	                         size_t *count_r);
	enum lock_status (*remove_tree)(struct lock_store *store, int64_t cid, const char *path,
	                                size_t *removed_r);
	enum lock_status (*mapped)(struct lock_store *store, int64_t cid, const char *path,
	                           size_t *changed_r);
	void (*destroy)(struct lock_store *store);
};

struct lock_store {
	const struct lock_store_ops *ops;
	unsigned max_locks;
};

void lock_store__set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The reason set last on this thread. */
const char *lock_store__error(void);
/* Whether token[0..len) is a token as this server makes them ("urn:uuid:" and a lowercase
   UUID): anything else cannot be a lock of ours. */
bool lock_store__token_valid(const char *token, size_t len);
/* Whether an existing lock conflicts with a request for path/depth/scope. */
bool lock_store__conflicts(const char *held_path, enum lock_depth held_depth,
                           enum lock_scope held_scope, const char *path, enum lock_depth depth,
                           enum lock_scope scope);
/* Whether a lock rooted at root is listed by mode for path. */
bool lock_store__listed(const char *root, enum lock_depth depth, const char *path,
                        enum lock_list_mode mode);
/* Seconds left from now to expires, rounded up, at least 1. */
uint32_t lock_store__remaining(uint64_t expires_ms, uint64_t now_ms);
/* The message every status but LOCK_OK and LOCK_ERROR sets. */
void lock_store__set_status_error(enum lock_status status, const struct lock *conflict);

#endif
