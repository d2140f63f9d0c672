/* SPDX-License-Identifier: MIT */
/* What every lock store shares: argument checks, tokens, timeouts, the conflict and coverage
   rules (the Redis store's script repeats them in Lua), the per-thread reason. */
#include "lock-store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lock-store-private.h"
#include "random.h"

static __thread char last_error[LOCK_PATH_MAX + 256];

void lock_store__set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *lock_store__error(void)
{
	return last_error[0] != '\0' ? last_error : "lock store error";
}

void lock_store__set_status_error(enum lock_status status, const struct lock *conflict)
{
	switch (status) {
	case LOCK_CONFLICT:
		lock_store__set_error(
		    "locked: %s lock of depth %s on %s",
		    conflict->scope == LOCK_SCOPE_EXCLUSIVE ? "an exclusive" : "a shared",
		    conflict->depth == LOCK_DEPTH_0 ? "0" : "infinity", conflict->path);
		break;
	case LOCK_NOT_FOUND:
		lock_store__set_error("no such lock (unknown token, or the lock expired)");
		break;
	case LOCK_NOT_COVERED:
		lock_store__set_error("the lock token does not apply to this resource");
		break;
	case LOCK_NOT_OWNER:
		lock_store__set_error("the lock belongs to another user");
		break;
	default:
		break;
	}
}

bool lock_store_path_valid(const char *path)
{
	size_t len = strnlen(path, LOCK_PATH_MAX + 1);
	if (len == 0 || len > LOCK_PATH_MAX || path[0] != '/')
		return false;
	if (len == 1)
		return true;
	/* every segment between two '/' (or after the last) is non-empty and not "." or ".." */
	const char *seg = path + 1;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end != NULL ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (end == NULL)
			return true;
		seg = end + 1;
	}
}

bool lock_store_is_below(const char *path, const char *ancestor)
{
	size_t n = strlen(ancestor);
	if (n == 1) /* "/" */
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, ancestor, n) == 0 && path[n] == '/';
}

bool lock_store_covers(const char *root, enum lock_depth depth, const char *path)
{
	return strcmp(root, path) == 0 ||
	       (depth == LOCK_DEPTH_INFINITY && lock_store_is_below(path, root));
}

bool lock_store__conflicts(const char *held_path, enum lock_depth held_depth,
                           enum lock_scope held_scope, const char *path, enum lock_depth depth,
                           enum lock_scope scope)
{
	if (scope == LOCK_SCOPE_SHARED && held_scope == LOCK_SCOPE_SHARED)
		return false;
	return lock_store_covers(held_path, held_depth, path) ||
	       (depth == LOCK_DEPTH_INFINITY && lock_store_is_below(held_path, path));
}

bool lock_store__listed(const char *root, enum lock_depth depth, const char *path,
                        enum lock_list_mode mode)
{
	if (mode == LOCK_LIST_COVERING)
		return lock_store_covers(root, depth, path);
	return strcmp(root, path) == 0 || lock_store_is_below(root, path);
}

uint32_t lock_store__remaining(uint64_t expires_ms, uint64_t now_ms)
{
	if (expires_ms <= now_ms)
		return 1;
	uint64_t s = (expires_ms - now_ms + 999) / 1000;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static void make_token(char token[LOCK_TOKEN_SIZE])
{
	unsigned char b[16];
	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(token, LOCK_TOKEN_SIZE,
	         "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

bool lock_store__token_valid(const char *token, size_t len)
{
	if (len != LOCK_TOKEN_SIZE - 1 || strncmp(token, "urn:uuid:", 9) != 0)
		return false;
	for (size_t i = 9; i < LOCK_TOKEN_SIZE - 1; i++) {
		bool dash = i == 17 || i == 22 || i == 27 || i == 32;
		char c = token[i];
		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static uint32_t clamp_timeout(uint32_t timeout_s)
{
	return timeout_s == 0 || timeout_s > LOCK_TIMEOUT_MAX ? LOCK_TIMEOUT_MAX : timeout_s;
}

static enum lock_status invalid(const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum lock_status invalid(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	*error_r = last_error;
	return LOCK_INVALID;
}

static enum lock_status check_path(const char *path, const char **error_r)
{
	if (lock_store_path_valid(path))
		return LOCK_OK;
	return invalid(error_r,
	               "lock path is not a normalised path of at most %d bytes "
	               "(\"/\", then segments without \"\", \".\" or \"..\", no final \"/\"): "
	               "%.200s",
	               LOCK_PATH_MAX, path);
}

static enum lock_status check_token_path(const char *token, const char *path, const char **error_r)
{
	if (check_path(path, error_r) != LOCK_OK)
		return LOCK_INVALID;
	if (!lock_store__token_valid(token, strnlen(token, LOCK_TOKEN_SIZE))) {
		/* not one this server made: no lock has it (the If header may carry others) */
		lock_store__set_error("no such lock: %.80s is not a lock token of this server",
		                      token);
		*error_r = last_error;
		return LOCK_NOT_FOUND;
	}
	return LOCK_OK;
}

static enum lock_status done(enum lock_status status, const char **error_r)
{
	*error_r = status == LOCK_OK ? NULL : lock_store__error();
	return status;
}

enum lock_status lock_store_lock(struct lock_store *store, struct pool *pool,
                                 const struct lock_request *req, struct lock *lock_r,
                                 const char **error_r)
{
	char token[LOCK_TOKEN_SIZE];
	if (check_path(req->path, error_r) != LOCK_OK)
		return LOCK_INVALID;
	if (req->owner_len > LOCK_OWNER_MAX)
		return invalid(error_r, "the lock owner is longer than %d bytes", LOCK_OWNER_MAX);
	if (req->depth != LOCK_DEPTH_0 && req->depth != LOCK_DEPTH_INFINITY)
		return invalid(error_r, "lock depth must be 0 or infinity");
	if (req->scope != LOCK_SCOPE_EXCLUSIVE && req->scope != LOCK_SCOPE_SHARED)
		return invalid(error_r, "lock scope must be exclusive or shared");
	make_token(token);
	return done(
	    store->ops->lock(store, pool, req, token, clamp_timeout(req->timeout_s), lock_r),
	    error_r);
}

enum lock_status lock_store_refresh(struct lock_store *store, struct pool *pool, int64_t cid,
                                    const char *token, const char *path, int64_t principal,
                                    uint32_t timeout_s, struct lock *lock_r, const char **error_r)
{
	enum lock_status st = check_token_path(token, path, error_r);
	if (st != LOCK_OK)
		return st;
	return done(store->ops->refresh(store, pool, cid, token, path, principal,
	                                clamp_timeout(timeout_s), lock_r),
	            error_r);
}

enum lock_status lock_store_unlock(struct lock_store *store, int64_t cid, const char *token,
                                   const char *path, int64_t principal, const char **error_r)
{
	enum lock_status st = check_token_path(token, path, error_r);
	if (st != LOCK_OK)
		return st;
	return done(store->ops->unlock(store, cid, token, path, principal), error_r);
}

static enum lock_status list(struct lock_store *store, struct pool *pool, int64_t cid,
                             const char *path, enum lock_list_mode mode, struct lock **locks_r,
                             size_t *count_r, const char **error_r)
{
	*locks_r = NULL;
	*count_r = 0;
	if (check_path(path, error_r) != LOCK_OK)
		return LOCK_INVALID;
	return done(store->ops->list(store, pool, cid, path, mode, locks_r, count_r), error_r);
}

enum lock_status lock_store_covering(struct lock_store *store, struct pool *pool, int64_t cid,
                                     const char *path, struct lock **locks_r, size_t *count_r,
                                     const char **error_r)
{
	return list(store, pool, cid, path, LOCK_LIST_COVERING, locks_r, count_r, error_r);
}

enum lock_status lock_store_below(struct lock_store *store, struct pool *pool, int64_t cid,
                                  const char *path, struct lock **locks_r, size_t *count_r,
                                  const char **error_r)
{
	return list(store, pool, cid, path, LOCK_LIST_BELOW, locks_r, count_r, error_r);
}

enum lock_status lock_store_remove_tree(struct lock_store *store, int64_t cid, const char *path,
                                        size_t *removed_r, const char **error_r)
{
	*removed_r = 0;
	if (check_path(path, error_r) != LOCK_OK)
		return LOCK_INVALID;
	return done(store->ops->remove_tree(store, cid, path, removed_r), error_r);
}

enum lock_status lock_store_mapped(struct lock_store *store, int64_t cid, const char *path,
                                   size_t *changed_r, const char **error_r)
{
	*changed_r = 0;
	if (check_path(path, error_r) != LOCK_OK)
		return LOCK_INVALID;
	return done(store->ops->mapped(store, cid, path, changed_r), error_r);
}

void lock_store_destroy(struct lock_store **store)
{
	if (*store == NULL)
		return;
	(*store)->ops->destroy(*store);
	*store = NULL;
}
