/* SPDX-License-Identifier: MIT */
/* The storage object: caches, the context's database, transactions, change announcements. */
#include "storage-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "folder.h"
#include "infostore.h"
#include "invalidation.h"
#include "mem.h"
#include "pool.h"
#include "storage-objects.h"
#include "storage-gab.h"

/* --- invalidation: drop, never update (the next reader loads from SQL) --- */

void storage_on_event(struct storage *s, const struct inval_event *ev)
{
	switch (ev->region) {
	case INVAL_CONTEXT:
		/* a deleted context's ids come back if the cid is used again */
		cache_drop_context(s->folder_cache, ev->cid);
		cache_drop_context(s->group_cache, ev->cid);
		storage_gab__drop(s->gab, ev->cid);
		break;
	case INVAL_USER:
		cache_drop(s->group_cache, ev->cid, ev->key);
		storage_gab__drop(s->gab, ev->cid);
		cache_drop(s->folder_cache, ev->cid, -ev->key); /* the user's "My files" */
		break;
	case INVAL_GROUP:
		/* which users' lists hold the group (or should) is not known here */
		cache_drop_context(s->group_cache, ev->cid);
		break;
	case INVAL_FOLDER:
		if (ev->key == 0)
			cache_drop_context(s->folder_cache, ev->cid);
		else
			cache_drop(s->folder_cache, ev->cid, ev->key);
		break;
	case INVAL_SESSION:
	case INVAL_REGION_COUNT:
		break;
	}
}

void storage_flush(struct storage *s)
{
	cache_clear(s->folder_cache);
	cache_clear(s->group_cache);
	storage_gab__drop(s->gab, 0);
}

static void on_event(const struct inval_event *ev, void *ctx)
{
	storage_on_event(ctx, ev);
}

static void on_flush(void *ctx)
{
	storage_flush(ctx);
}

/* folder.c calls this after a commit, for every folder the change touched. */
static void folder_changed(int64_t cid, int64_t folder_id, void *ctx)
{
	struct storage *s = ctx;
	inval_publish(s->set.inval, INVAL_FOLDER, cid, folder_id);
}

size_t storage_caches(struct storage *s, struct cache **caches_r, size_t max)
{
	size_t n = 0;
	if (s->folder_cache != NULL && n < max)
		caches_r[n++] = s->folder_cache;
	if (s->group_cache != NULL && n < max)
		caches_r[n++] = s->group_cache;
	return n;
}

struct storage *storage_create(const struct storage_settings *set)
{
	struct storage *s = mem_calloc(1, sizeof(*s));
	s->set = *set;
	s->gab = storage_gab__cache_create();
	if (set->folder_cache_max > 0)
		s->folder_cache = cache_create("folder", set->folder_cache_max,
		                               folder_cache_folder_size(), set->cache_ttl_ms);
	if (set->group_cache_max > 0)
		s->group_cache = cache_create("group", set->group_cache_max,
		                              folder_cache_groups_size(), set->cache_ttl_ms);
	/* lib-storage's folder settings are process-wide: one storage per process */
	folder_set_caches(s->folder_cache, s->group_cache);
	storage_obj_set_tombstone_keep(set->tombstone_keep_s);
	if (set->inval != NULL) {
		for (int r = INVAL_CONTEXT; r <= INVAL_FOLDER; r++)
			inval_subscribe(set->inval, (enum inval_region)r, on_event, s);
		inval_subscribe_flush(set->inval, on_flush, s);
		folder_set_change_hook(folder_changed, s);
	}
	return s;
}

void storage_destroy(struct storage **storage)
{
	struct storage *s = *storage;
	if (s == NULL)
		return;
	folder_set_change_hook(NULL, NULL);
	folder_set_caches(NULL, NULL);
	cache_destroy(&s->folder_cache);
	cache_destroy(&s->group_cache);
	storage_gab__cache_destroy(&s->gab);
	mem_free(storage);
}

/* --- errors --- */

void storage__sql_error(struct storage_error *err, const char *what, const struct sql_error *sql)
{
	err->what = what;
	err->refusal = STORAGE_REFUSAL_NONE;
	err->detail = STORAGE_DETAIL_NONE;
	err->kind = sql_error_kind_name(sql->kind);
	switch (sql->kind) {
	case SQL_ERR_NONE:
		err->status = STORAGE_REFUSED;
		break;
	case SQL_ERR_READ_ONLY:
		err->status = STORAGE_READ_ONLY;
		break;
	case SQL_ERR_CONNECTION:
	case SQL_ERR_BUSY:
		err->status = STORAGE_UNAVAILABLE;
		break;
	default:
		err->status = STORAGE_FAILED;
		break;
	}
	snprintf(err->message, sizeof(err->message), "%s", sql->message);
}

int storage__refuse(struct storage_error *err, enum storage_refusal why, const char *fmt, ...)
{
	va_list args;
	err->status = STORAGE_REFUSED;
	err->refusal = why;
	err->detail = STORAGE_DETAIL_NONE;
	err->what = NULL;
	err->kind = NULL;
	va_start(args, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, args);
	va_end(args);
	return -1;
}

int storage__run(struct storage_user *user, bool write, storage_txn_fn *fn, void *ctx,
                 const char *const *what, struct storage_error *err)
{
	struct storage_error tx;
	memset(err, 0, sizeof(*err));
	if (storage_transaction(user, write, fn, ctx, &tx) == 0)
		return 0;
	if (tx.status != STORAGE_REFUSED || err->status != STORAGE_REFUSED) {
		/* a database error, or finding the context failed: the transaction's own */
		*err = tx;
		err->what = *what;
	}
	return -1;
}

/* --- users and transactions --- */

struct storage_user *storage_user_create(struct storage *storage, struct pool *pool, int64_t cid,
                                         int64_t uid)
{
	struct storage_user *u = pool_calloc(pool, 1, sizeof(*u));
	u->storage = storage;
	u->pool = pool;
	u->cid = cid;
	u->uid = uid;
	return u;
}

int64_t storage_user_cid(const struct storage_user *user)
{
	return user->cid;
}

int64_t storage_user_uid(const struct storage_user *user)
{
	return user->uid;
}

struct sql_db *storage__db(struct storage_user *u, struct storage_error *err)
{
	if (u->db == NULL) {
		memset(err, 0, sizeof(*err));
		u->db = u->storage->set.locate(u->storage->set.locate_ctx, u->cid, &u->ctx, err);
	}
	return u->db;
}

int storage_context_find(struct storage *storage, int64_t cid, struct storage_context *ctx_r,
                         struct storage_error *err)
{
	struct storage_user u = {.storage = storage, .cid = cid};
	if (storage__db(&u, err) == NULL)
		return -1;
	*ctx_r = u.ctx;
	return 0;
}

const struct storage_context *storage_user_context(struct storage_user *u,
                                                   struct storage_error *err)
{
	return storage__db(u, err) != NULL ? &u->ctx : NULL;
}

int storage_transaction(struct storage_user *u, bool write, storage_txn_fn *fn, void *ctx,
                        struct storage_error *err)
{
	struct sql_error sql;
	struct sql_db *db = storage__db(u, err);
	if (db == NULL)
		return -1;
	memset(err, 0, sizeof(*err));
	if (sql_transaction(db, write ? SQL_WRITE : SQL_READ, u->cid, fn, ctx, &sql) == 0)
		return 0;
	storage__sql_error(err, NULL, &sql);
	return -1;
}

/* --- consistency --- */

int storage_consistency_check(struct storage *storage, int64_t cid, bool repair, json_t **report_r,
                              struct storage_error *err)
{
	struct storage_user u = {.storage = storage, .cid = cid};
	struct sql_conn *conn;
	struct sql_error sql = {0};
	struct sql_db *db = storage__db(&u, err);
	if (db == NULL)
		return -1;
	if (sql_conn_get(db, repair ? SQL_WRITE : SQL_READ, cid, &conn, &sql) < 0) {
		/* no connection: unavailable, whatever the reason, unless the primary is down */
		storage__sql_error(err, NULL, &sql);
		if (err->status != STORAGE_READ_ONLY)
			err->status = STORAGE_UNAVAILABLE;
		return -1;
	}
	int r =
	    infostore_check_consistency(conn, cid, u.ctx.filestore_root, repair, report_r, &sql);
	sql_conn_put(&conn);
	if (r < 0) {
		storage__sql_error(err, NULL, &sql);
		/* only a lost or busy database is worth trying again */
		if (err->status != STORAGE_UNAVAILABLE)
			err->status = STORAGE_FAILED;
		return -1;
	}
	return 0;
}
