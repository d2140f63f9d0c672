/* SPDX-License-Identifier: MIT */
/* WebDAV lock store (RFC 4918 §6-7, §9.10-9.11; docs/internals/dav-locks.md): exclusive and
   shared write locks of depth 0 or infinity, kept in memory for a single node or in Redis so
   that a lock taken through one node is honoured by every node. */
#ifndef TANDEM_LOCK_STORE_H
#define TANDEM_LOCK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* "urn:uuid:" and a random (version 4) UUID: 45 characters and the NUL. */
#define LOCK_TOKEN_SIZE 46
/* Limits: a path (bytes), the owner XML fragment (bytes), a lock's timeout (seconds; a
   longer or "Infinite" request is granted this), the default locks per context. */
#define LOCK_PATH_MAX          2048
#define LOCK_OWNER_MAX         4096
#define LOCK_TIMEOUT_MAX       604800
#define LOCK_MAX_LOCKS_DEFAULT 1024

enum lock_depth {
	LOCK_DEPTH_0,
	LOCK_DEPTH_INFINITY,
};

enum lock_scope {
	LOCK_SCOPE_EXCLUSIVE,
	LOCK_SCOPE_SHARED,
};

/* What every operation answers. LOCK_ERROR means the store could not be asked or did not
   answer in time (Redis down, frozen, refused the script): the handler answers 503. For a
   change (lock, refresh, unlock, remove_tree, mapped) whose request reached Redis before
   the command timeout, the outcome is unknown: Redis may still apply it. A lock taken that
   way shows in lockdiscovery with its principal (who may UNLOCK it) and ends at its timeout.
   The other statuses are answers. */
enum lock_status {
	LOCK_ERROR = -1,
	LOCK_OK = 0,
	LOCK_CONFLICT = 1,    /* lock: a lock that conflicts exists (423; its root for the body) */
	LOCK_LIMIT = 2,       /* lock: the context already holds its maximum of locks */
	LOCK_NOT_FOUND = 3,   /* refresh, unlock: no live lock has that token (or it is not a
	                         token this server makes: If headers may carry any URI) */
	LOCK_NOT_COVERED = 4, /* refresh, unlock: the token's lock does not cover the path (409) */
	LOCK_NOT_OWNER = 5,   /* refresh, unlock: another principal holds the lock (403) */
	LOCK_INVALID = 6,     /* a bad argument: path not normalised, owner too long, bad token */
};

/* Paths are normalised URL paths: they start with '/', have no empty, "." or ".." segment
   and do not end in '/' (a collection is "/dav/files/home/42/a", not ".../a/"), except "/"
   itself. Bytes are compared as they are: the caller decodes or encodes consistently. */
struct lock {
	char token[LOCK_TOKEN_SIZE];
	int64_t cid;
	const char *path; /* the lock's root, NUL-terminated */
	enum lock_depth depth;
	enum lock_scope scope;
	int64_t principal;    /* user id of the lock's creator */
	const char *owner;    /* the owner XML fragment as given (not NUL-terminated), or NULL */
	size_t owner_len;     /* 0 when none */
	uint32_t timeout_s;   /* as granted */
	uint64_t expires_ms;  /* on the store's clock (Redis: its TIME), ms since the epoch */
	uint32_t remaining_s; /* seconds left when read, rounded up (>= 1) */
	bool lock_null;       /* taken on an unmapped URL (the caller said so) */
};

struct lock_request {
	int64_t cid;
	const char *path;
	enum lock_depth depth;
	enum lock_scope scope;
	int64_t principal;
	const void *owner; /* may be NULL */
	size_t owner_len;  /* at most LOCK_OWNER_MAX */
	/* Seconds asked for: 0 or more than LOCK_TIMEOUT_MAX grants LOCK_TIMEOUT_MAX. */
	uint32_t timeout_s;
	bool lock_null;
};

struct lock_store;

/* Memory store for a single node: one mutex, expired locks pruned when a context is next
   used. max_locks per context (0: LOCK_MAX_LOCKS_DEFAULT). Never fails. */
struct lock_store *lock_store_memory_create(unsigned max_locks);
/* The Redis store is in lock-store-redis.h. */
void lock_store_destroy(struct lock_store **store);

/* Every operation may block for the store's time limits (Redis: the pool's connect and
   command timeouts). Strings and locks handed back (lock_r, *locks_r and what they point to)
   come from pool and live as long as it. *error_r is set for every status but LOCK_OK: a
   message naming the cause, valid on this thread until its next call into any lock store. */

/* Takes a new lock unless a live lock conflicts with it: a lock on the path itself or on an
   ancestor with depth infinity, and for a depth-infinity request a lock on a descendant; an
   exclusive lock conflicts with every lock, a shared one with exclusive locks. LOCK_OK: the
   new lock in *lock_r (a fresh token; expiry computed by the store). LOCK_CONFLICT: one
   conflicting lock in *lock_r (its path is the root to report). LOCK_LIMIT, LOCK_INVALID,
   LOCK_ERROR. */
enum lock_status lock_store_lock(struct lock_store *store, struct pool *pool,
                                 const struct lock_request *req, struct lock *lock_r,
                                 const char **error_r);
/* Restarts the timeout of the lock token, which must cover path (be rooted at it, or at an
   ancestor with depth infinity), with timeout_s (as in lock_request). principal 0 skips the
   owner check; else it must be the lock's principal. LOCK_OK with the lock in *lock_r,
   LOCK_NOT_FOUND, LOCK_NOT_COVERED, LOCK_NOT_OWNER, LOCK_INVALID, LOCK_ERROR. */
enum lock_status lock_store_refresh(struct lock_store *store, struct pool *pool, int64_t cid,
                                    const char *token, const char *path, int64_t principal,
                                    uint32_t timeout_s, struct lock *lock_r, const char **error_r);
/* Removes the lock token, under the same conditions as refresh. */
enum lock_status lock_store_unlock(struct lock_store *store, int64_t cid, const char *token,
                                   const char *path, int64_t principal, const char **error_r);
/* Every live lock that applies to path: rooted at it or at an ancestor with depth infinity
   (lockdiscovery; the tokens a write to path must submit one of). LOCK_OK with *count_r
   locks in *locks_r (NULL when none), LOCK_INVALID, LOCK_ERROR. */
enum lock_status lock_store_covering(struct lock_store *store, struct pool *pool, int64_t cid,
                                     const char *path, struct lock **locks_r, size_t *count_r,
                                     const char **error_r);
/* Every live lock rooted at path or below it (DELETE or MOVE of a collection; listing
   lock-null members). As covering. */
enum lock_status lock_store_below(struct lock_store *store, struct pool *pool, int64_t cid,
                                  const char *path, struct lock **locks_r, size_t *count_r,
                                  const char **error_r);
/* Drops every lock rooted at path or below it: after DELETE, and for the source of a MOVE
   (RFC 4918 §7.5: locks do not move; the destination's own locks apply). LOCK_OK with the
   number removed in *removed_r, LOCK_INVALID, LOCK_ERROR. */
enum lock_status lock_store_remove_tree(struct lock_store *store, int64_t cid, const char *path,
                                        size_t *removed_r, const char **error_r);

/* The resource at path now exists (a PUT or MKCOL on a URL locked while unmapped): clears
   the lock-null flag of the locks rooted at path. LOCK_OK with the number changed in
   *changed_r, LOCK_INVALID, LOCK_ERROR. */
enum lock_status lock_store_mapped(struct lock_store *store, int64_t cid, const char *path,
                                   size_t *changed_r, const char **error_r);

/* Whether path is normalised as described above (and at most LOCK_PATH_MAX bytes). */
bool lock_store_path_valid(const char *path);
/* Whether the lock rooted at root with depth covers path. */
bool lock_store_covers(const char *root, enum lock_depth depth, const char *path);
/* Whether path lies strictly below ancestor. */
bool lock_store_is_below(const char *path, const char *ancestor);

#endif
