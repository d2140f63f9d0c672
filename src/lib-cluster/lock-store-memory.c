/* SPDX-License-Identifier: MIT */
/* In-process lock store: per context a list of locks under one mutex, scanned whole by every
   operation (a context holds at most max_locks), expired locks dropped on the way. */
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "lock-store-private.h"
#include "mem.h"
#include "pool.h"
#include "random.h"

#define CONTEXT_BUCKETS 256

struct mem_lock {
	struct lock l; /* path and owner point into this allocation's own copies */
	struct mem_lock *next;
};

struct mem_context {
	int64_t cid;
	struct mem_lock *locks;
	unsigned count;
	struct mem_context *next;
};

struct memory_store {
	struct lock_store store;
	pthread_mutex_t mutex;
	struct mem_context *buckets[CONTEXT_BUCKETS];
};

static void lock_free(struct mem_lock *m)
{
	mem_free(&m->l.path);
	mem_free(&m->l.owner);
	mem_free(&m);
}

/* The context's entry with its expired locks dropped; NULL when it holds none (and create
   is false). */
static struct mem_context *context(struct memory_store *ms, int64_t cid, uint64_t now, bool create)
{
	struct mem_context **pp = &ms->buckets[(uint64_t)cid % CONTEXT_BUCKETS];
	while (*pp != NULL && (*pp)->cid != cid)
		pp = &(*pp)->next;
	struct mem_context *c = *pp;
	if (c != NULL) {
		for (struct mem_lock **lp = &c->locks; *lp != NULL;) {
			struct mem_lock *m = *lp;
			if (m->l.expires_ms > now) {
				lp = &m->next;
				continue;
			}
			*lp = m->next;
			lock_free(m);
			c->count--;
		}
		if (c->count > 0 || create)
			return c;
		*pp = c->next;
		mem_free(&c);
		return NULL;
	}
	if (!create)
		return NULL;
	c = mem_calloc(1, sizeof(*c));
	c->cid = cid;
	c->next = ms->buckets[(uint64_t)cid % CONTEXT_BUCKETS];
	ms->buckets[(uint64_t)cid % CONTEXT_BUCKETS] = c;
	return c;
}

/* Drops the context's entry when its last lock went. */
static void context_settle(struct memory_store *ms, struct mem_context *c)
{
	if (c->count > 0)
		return;
	struct mem_context **pp = &ms->buckets[(uint64_t)c->cid % CONTEXT_BUCKETS];
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	mem_free(&c);
}

static void copy_out(struct pool *pool, const struct lock *l, uint64_t now, struct lock *out)
{
	*out = *l;
	out->path = pool_strdup(pool, l->path);
	if (l->owner_len > 0) {
		char *owner = pool_alloc(pool, l->owner_len);
		memcpy(owner, l->owner, l->owner_len);
		out->owner = owner;
	}
	out->remaining_s = lock_store__remaining(l->expires_ms, now);
}

static struct mem_lock *find(struct mem_context *c, const char *token)
{
	for (struct mem_lock *m = c != NULL ? c->locks : NULL; m != NULL; m = m->next) {
		if (strcmp(m->l.token, token) == 0)
			return m;
	}
	return NULL;
}

static enum lock_status mem_lock(struct lock_store *store, struct pool *pool,
                                 const struct lock_request *req, const char *token,
                                 uint32_t timeout_s, struct lock *lock_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	enum lock_status ret = LOCK_OK;
	pthread_mutex_lock(&ms->mutex);
	uint64_t now = clock_wall_ms();
	struct mem_context *c = context(ms, req->cid, now, true);
	for (struct mem_lock *m = c->locks; m != NULL; m = m->next) {
		if (lock_store__conflicts(m->l.path, m->l.depth, m->l.scope, req->path, req->depth,
		                          req->scope)) {
			copy_out(pool, &m->l, now, lock_r);
			lock_store__set_status_error(LOCK_CONFLICT, lock_r);
			ret = LOCK_CONFLICT;
			goto out;
		}
	}
	if (c->count >= store->max_locks) {
		lock_store__set_error("context %lld holds %u locks already (the maximum)",
		                      (long long)req->cid, c->count);
		ret = LOCK_LIMIT;
		goto out;
	}
	struct mem_lock *m = mem_calloc(1, sizeof(*m));
	memcpy(m->l.token, token, LOCK_TOKEN_SIZE);
	m->l.cid = req->cid;
	m->l.path = mem_strdup(req->path);
	m->l.depth = req->depth;
	m->l.scope = req->scope;
	m->l.principal = req->principal;
	if (req->owner_len > 0) {
		char *owner = mem_alloc(req->owner_len);
		memcpy(owner, req->owner, req->owner_len);
		m->l.owner = owner;
		m->l.owner_len = req->owner_len;
	}
	m->l.timeout_s = timeout_s;
	m->l.expires_ms = now + (uint64_t)timeout_s * 1000;
	m->l.lock_null = req->lock_null;
	m->next = c->locks;
	c->locks = m;
	c->count++;
	copy_out(pool, &m->l, now, lock_r);
out:
	context_settle(ms, c);
	pthread_mutex_unlock(&ms->mutex);
	return ret;
}

/* The lock token under refresh's and unlock's conditions, or NULL with *status_r set. */
static struct mem_lock *usable(struct mem_context *c, const char *token, const char *path,
                               int64_t principal, enum lock_status *status_r)
{
	struct mem_lock *m = find(c, token);
	if (m == NULL)
		*status_r = LOCK_NOT_FOUND;
	else if (!lock_store_covers(m->l.path, m->l.depth, path))
		*status_r = LOCK_NOT_COVERED;
	else if (principal != 0 && m->l.principal != principal)
		*status_r = LOCK_NOT_OWNER;
	else
		return m;
	lock_store__set_status_error(*status_r, NULL);
	return NULL;
}

static enum lock_status mem_refresh(struct lock_store *store, struct pool *pool, int64_t cid,
                                    const char *token, const char *path, int64_t principal,
                                    uint32_t timeout_s, struct lock *lock_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	enum lock_status ret = LOCK_OK;
	pthread_mutex_lock(&ms->mutex);
	uint64_t now = clock_wall_ms();
	struct mem_lock *m = usable(context(ms, cid, now, false), token, path, principal, &ret);
	if (m != NULL) {
		m->l.timeout_s = timeout_s;
		m->l.expires_ms = now + (uint64_t)timeout_s * 1000;
		copy_out(pool, &m->l, now, lock_r);
	}
	pthread_mutex_unlock(&ms->mutex);
	return ret;
}

static enum lock_status mem_unlock(struct lock_store *store, int64_t cid, const char *token,
                                   const char *path, int64_t principal)
{
	struct memory_store *ms = (struct memory_store *)store;
	enum lock_status ret = LOCK_OK;
	pthread_mutex_lock(&ms->mutex);
	struct mem_context *c = context(ms, cid, clock_wall_ms(), false);
	struct mem_lock *m = usable(c, token, path, principal, &ret);
	if (m != NULL) {
		struct mem_lock **lp = &c->locks;
		while (*lp != m)
			lp = &(*lp)->next;
		*lp = m->next;
		lock_free(m);
		c->count--;
		context_settle(ms, c);
	}
	pthread_mutex_unlock(&ms->mutex);
	return ret;
}

static enum lock_status mem_list(struct lock_store *store, struct pool *pool, int64_t cid,
                                 const char *path, enum lock_list_mode mode, struct lock **locks_r,
                                 size_t *count_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->mutex);
	uint64_t now = clock_wall_ms();
	struct mem_context *c = context(ms, cid, now, false);
	size_t n = 0;
	for (struct mem_lock *m = c != NULL ? c->locks : NULL; m != NULL; m = m->next)
		n += lock_store__listed(m->l.path, m->l.depth, path, mode);
	if (n > 0) {
		*locks_r = pool_calloc(pool, n, sizeof(**locks_r));
		for (struct mem_lock *m = c->locks; m != NULL; m = m->next) {
			if (lock_store__listed(m->l.path, m->l.depth, path, mode))
				copy_out(pool, &m->l, now, &(*locks_r)[(*count_r)++]);
		}
	}
	pthread_mutex_unlock(&ms->mutex);
	return LOCK_OK;
}

static enum lock_status mem_remove_tree(struct lock_store *store, int64_t cid, const char *path,
                                        size_t *removed_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->mutex);
	struct mem_context *c = context(ms, cid, clock_wall_ms(), false);
	for (struct mem_lock **lp = c != NULL ? &c->locks : NULL; lp != NULL && *lp != NULL;) {
		struct mem_lock *m = *lp;
		if (!lock_store__listed(m->l.path, m->l.depth, path, LOCK_LIST_BELOW)) {
			lp = &m->next;
			continue;
		}
		*lp = m->next;
		lock_free(m);
		c->count--;
		(*removed_r)++;
	}
	if (c != NULL)
		context_settle(ms, c);
	pthread_mutex_unlock(&ms->mutex);
	return LOCK_OK;
}

static enum lock_status mem_mapped(struct lock_store *store, int64_t cid, const char *path,
                                   size_t *changed_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->mutex);
	struct mem_context *c = context(ms, cid, clock_wall_ms(), false);
	for (struct mem_lock *m = c != NULL ? c->locks : NULL; m != NULL; m = m->next) {
		if (m->l.lock_null && strcmp(m->l.path, path) == 0) {
			m->l.lock_null = false;
			(*changed_r)++;
		}
	}
	pthread_mutex_unlock(&ms->mutex);
	return LOCK_OK;
}

static void mem_destroy(struct lock_store *store)
{
	struct memory_store *ms = (struct memory_store *)store;
	for (size_t i = 0; i < CONTEXT_BUCKETS; i++) {
		while (ms->buckets[i] != NULL) {
			struct mem_context *c = ms->buckets[i];
			ms->buckets[i] = c->next;
			while (c->locks != NULL) {
				struct mem_lock *m = c->locks;
				c->locks = m->next;
				lock_free(m);
			}
			mem_free(&c);
		}
	}
	pthread_mutex_destroy(&ms->mutex);
	mem_free(&ms);
}

static const struct lock_store_ops memory_ops = {
    .lock = mem_lock,
    .refresh = mem_refresh,
    .unlock = mem_unlock,
    .list = mem_list,
    .remove_tree = mem_remove_tree,
    .mapped = mem_mapped,
    .destroy = mem_destroy,
};

struct lock_store *lock_store_memory_create(unsigned max_locks)
{
	random_init();
	struct memory_store *ms = mem_calloc(1, sizeof(*ms));
	ms->store.ops = &memory_ops;
	ms->store.max_locks = max_locks > 0 ? max_locks : LOCK_MAX_LOCKS_DEFAULT;
	pthread_mutex_init(&ms->mutex, NULL);
	return &ms->store;
}
