/* SPDX-License-Identifier: MIT */
/* In-process session store: open hashing by id, one mutex, lazy expiry plus a small sweep on
   every insert so that abandoned sessions do not accumulate; revocation generations per
   context beside it, under the same mutex so that put and revoke are ordered. */
#include "session-store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "mem.h"

#define INITIAL_BUCKETS 1024
#define SWEEP_PER_PUT   8
#define GEN_BUCKETS     256

/* A context's revocation generation: only contexts that had a revocation have one (a few
   bytes each, kept for the life of the process like Redis keeps its counters). */
struct gen_entry {
	int64_t cid;
	uint64_t gen;
	struct gen_entry *next;
};

struct entry {
	struct session s;
	struct entry *next;
};

struct memory_store {
	struct session_store store;
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets;
	size_t count;
	size_t sweep_pos;
	uint64_t last_now;
	struct gen_entry *gens[GEN_BUCKETS];
};

static size_t hash_id(const char *id, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (size_t)(h % n);
}

static bool expired(const struct session *s, uint64_t now)
{
	return now > s->last_ms + s->lifetime_ms;
}

static void unlink_entry(struct memory_store *ms, struct entry **pp)
{
	struct entry *e = *pp;
	*pp = e->next;
	mem_free(&e);
	ms->count--;
}

static void grow(struct memory_store *ms)
{
	size_t n = ms->nbuckets * 2;
	struct entry **b = mem_calloc(n, sizeof(*b));
	for (size_t i = 0; i < ms->nbuckets; i++) {
		struct entry *e = ms->buckets[i];
		while (e != NULL) {
			struct entry *next = e->next;
			size_t h = hash_id(e->s.id, n);
			e->next = b[h];
			b[h] = e;
			e = next;
		}
	}
	mem_free(&ms->buckets);
	ms->buckets = b;
	ms->nbuckets = n;
}

static void sweep(struct memory_store *ms, uint64_t now)
{
	for (int i = 0; i < SWEEP_PER_PUT; i++) {
		struct entry **pp = &ms->buckets[ms->sweep_pos];
		while (*pp != NULL) {
			if (expired(&(*pp)->s, now))
				unlink_entry(ms, pp);
			else
				pp = &(*pp)->next;
		}
		ms->sweep_pos = (ms->sweep_pos + 1) % ms->nbuckets;
	}
}

static struct gen_entry **gen_find(struct memory_store *ms, int64_t cid)
{
	struct gen_entry **pp = &ms->gens[(uint64_t)cid % GEN_BUCKETS];
	while (*pp != NULL && (*pp)->cid != cid)
		pp = &(*pp)->next;
	return pp;
}

static uint64_t gen_of(struct memory_store *ms, int64_t cid)
{
	struct gen_entry *g = *gen_find(ms, cid);
	return g != NULL ? g->gen : 0;
}

static int mem_put(struct session_store *store, const struct session *s)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->lock);
	if (gen_of(ms, s->cid) != s->gen) {
		pthread_mutex_unlock(&ms->lock);
		return 1;
	}
	struct entry *e = mem_calloc(1, sizeof(*e));
	e->s = *s;
	sweep(ms, s->created_ms);
	if (ms->count >= ms->nbuckets)
		grow(ms);
	size_t h = hash_id(s->id, ms->nbuckets);
	e->next = ms->buckets[h];
	ms->buckets[h] = e;
	ms->count++;
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

static struct entry **find(struct memory_store *ms, const char *id)
{
	struct entry **pp = &ms->buckets[hash_id(id, ms->nbuckets)];
	while (*pp != NULL && strcmp((*pp)->s.id, id) != 0)
		pp = &(*pp)->next;
	return pp;
}

static int mem_get(struct session_store *store, const char *id, uint64_t now, struct session *s_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	int ret = 0;
	pthread_mutex_lock(&ms->lock);
	struct entry **pp = find(ms, id);
	if (*pp != NULL) {
		if (expired(&(*pp)->s, now)) {
			unlink_entry(ms, pp);
		} else {
			*s_r = (*pp)->s;
			ret = 1;
		}
	}
	pthread_mutex_unlock(&ms->lock);
	return ret;
}

static int mem_touch(struct session_store *store, const struct session *sess, uint64_t now)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->lock);
	struct entry **pp = find(ms, sess->id);
	if (*pp != NULL)
		(*pp)->s.last_ms = now;
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

static int mem_generation(struct session_store *store, int64_t cid, uint64_t *gen_r)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->lock);
	*gen_r = gen_of(ms, cid);
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

static int mem_revoke(struct session_store *store, int64_t cid, int64_t uid)
{
	struct memory_store *ms = (struct memory_store *)store;
	int ended = 0;
	pthread_mutex_lock(&ms->lock);
	struct gen_entry **gp = gen_find(ms, cid);
	if (*gp == NULL) {
		*gp = mem_calloc(1, sizeof(**gp));
		(*gp)->cid = cid;
	}
	(*gp)->gen++;
	/* A full scan, like list_user: revocations are rare administrative acts. */
	for (size_t b = 0; b < ms->nbuckets; b++) {
		struct entry **pp = &ms->buckets[b];
		while (*pp != NULL) {
			if ((*pp)->s.cid == cid && (uid == 0 || (*pp)->s.uid == uid)) {
				unlink_entry(ms, pp);
				ended++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	pthread_mutex_unlock(&ms->lock);
	return ended;
}

static int mem_remove(struct session_store *store, const char *id)
{
	struct memory_store *ms = (struct memory_store *)store;
	int ret = 0;
	pthread_mutex_lock(&ms->lock);
	struct entry **pp = find(ms, id);
	if (*pp != NULL) {
		unlink_entry(ms, pp);
		ret = 1;
	}
	pthread_mutex_unlock(&ms->lock);
	return ret;
}

struct user_session {
	uint64_t created;
	char id[SESSION_ID_LEN + 1];
};

static int by_created(const void *a, const void *b)
{
	const struct user_session *x = a, *y = b;
	return x->created < y->created ? -1 : x->created > y->created;
}

static int mem_list_user(struct session_store *store, int64_t cid, int64_t uid, uint64_t now,
                         char (*ids)[SESSION_ID_LEN + 1], size_t max)
{
	struct memory_store *ms = (struct memory_store *)store;
	struct array found = ARRAY_INIT(struct user_session);
	/* A full scan: only logins and "log out everywhere" call this, never the request path.
	   The Redis store keeps a per-user index instead. */
	pthread_mutex_lock(&ms->lock);
	for (size_t b = 0; b < ms->nbuckets; b++) {
		for (struct entry *e = ms->buckets[b]; e != NULL; e = e->next) {
			if (e->s.cid != cid || e->s.uid != uid || expired(&e->s, now))
				continue;
			struct user_session *u = array_push(&found);
			u->created = e->s.created_ms;
			memcpy(u->id, e->s.id, sizeof(u->id));
		}
	}
	pthread_mutex_unlock(&ms->lock);
	if (found.count > 0)
		qsort(found.data, found.count, sizeof(struct user_session), by_created);
	size_t n = found.count < max ? found.count : max;
	for (size_t i = 0; i < n; i++)
		memcpy(ids[i], ARRAY_IDX(&found, struct user_session, i)->id, SESSION_ID_LEN + 1);
	array_free(&found);
	return (int)n;
}

static size_t mem_count(struct session_store *store)
{
	struct memory_store *ms = (struct memory_store *)store;
	pthread_mutex_lock(&ms->lock);
	size_t n = ms->count;
	pthread_mutex_unlock(&ms->lock);
	return n;
}

static void mem_destroy(struct session_store *store)
{
	struct memory_store *ms = (struct memory_store *)store;
	for (size_t b = 0; b < ms->nbuckets; b++) {
		while (ms->buckets[b] != NULL)
			unlink_entry(ms, &ms->buckets[b]);
	}
	mem_free(&ms->buckets);
	for (size_t b = 0; b < GEN_BUCKETS; b++) {
		while (ms->gens[b] != NULL) {
			struct gen_entry *g = ms->gens[b];
			ms->gens[b] = g->next;
			mem_free(&g);
		}
	}
	pthread_mutex_destroy(&ms->lock);
	mem_free(&ms);
}

static const struct session_store_ops memory_ops = {
    .put = mem_put,
    .generation = mem_generation,
    .revoke = mem_revoke,
    .get = mem_get,
    .touch = mem_touch,
    .remove = mem_remove,
    .list_user = mem_list_user,
    .count = mem_count,
    .destroy = mem_destroy,
};

struct session_store *session_store_memory_create(void)
{
	struct memory_store *ms = mem_calloc(1, sizeof(*ms));
	ms->store.ops = &memory_ops;
	pthread_mutex_init(&ms->lock, NULL);
	ms->nbuckets = INITIAL_BUCKETS;
	ms->buckets = mem_calloc(ms->nbuckets, sizeof(*ms->buckets));
	return &ms->store;
}
