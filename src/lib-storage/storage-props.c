/* SPDX-License-Identifier: MIT */
/* Dead properties of a storage user: rights on the object, then dav-props.c's rows. */
#include "storage-props.h"

#include <string.h>

#include "folder.h"
#include "infostore.h"
#include "mem.h"
#include "storage-private.h"

struct op {
	struct storage_user *user;
	struct storage_error *err;
	const char *what;
	enum dav_props_kind kind;
	int64_t id;
	const struct dav_prop *props; /* names or ops */
	size_t n;
	struct dav_prop *got;
	size_t count;
};

/* The user's rights on the object: 1 visible (and *write_r whether they may patch it), or a
   refusal as for an object that does not exist, or -1 with the SQL error. */
static int object_rights(struct sql_conn *conn, struct op *op, bool *write_r, struct sql_error *err)
{
	struct storage_user *u = op->user;
	struct folder_perm perm;
	int r;
	op->what = "lookup";
	if (op->kind == DAV_PROPS_FILE) {
		struct infostore_file f;
		r = storage__file_visible(conn, u, op->id, &f, &perm, &op->what, err);
		*write_r = r > 0 && folder_perm_may_write(&perm, f.created_by == u->uid);
	} else {
		r = folder_access(conn, u->cid, u->uid, op->id, &perm, err);
		*write_r = r > 0 && perm.admin && op->id > FOLDER_ID_MAX_SYSTEM;
	}
	if (r < 0)
		return -1;
	if (r == 0)
		return storage__refuse(op->err, STORAGE_NOT_FOUND, "%s %lld not found",
		                       DAV_PROPS_KIND_NAME(op->kind), (long long)op->id);
	return 1;
}

static int get_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	bool write;
	if (object_rights(conn, op, &write, err) < 0)
		return -1;
	op->what = "properties";
	return dav_props_get(conn, op->user->pool, op->user->cid, op->kind, op->id, op->props,
	                     op->n, &op->got, &op->count, err);
}

int storage_props_get(struct storage_user *user, enum dav_props_kind kind, int64_t id,
                      const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                      size_t *count_r, struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .kind = kind, .id = id, .props = names, .n = n};
	op.what = "properties";
	if (storage__run(user, false, get_txn, &op, &op.what, err) < 0)
		return -1;
	*props_r = op.got;
	*count_r = op.count;
	return 0;
}

struct many {
	struct storage_user *user;
	const int64_t *ids;
	size_t count;
	const struct dav_prop *names;
	size_t n;
	struct dav_prop **props;
	size_t *counts;
};

static int get_folders_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct many *m = ctx;
	struct storage_user *u = m->user;
	int64_t *visible = mem_calloc(m->count + 1, sizeof(*visible));
	size_t *at = mem_calloc(m->count + 1, sizeof(*at));
	struct dav_prop **props = mem_calloc(m->count + 1, sizeof(*props));
	size_t *counts = mem_calloc(m->count + 1, sizeof(*counts)), k = 0;
	int r = 0;
	memset(m->props, 0, m->count * sizeof(*m->props));
	memset(m->counts, 0, m->count * sizeof(*m->counts));
	for (size_t i = 0; r >= 0 && i < m->count; i++) {
		struct folder_perm perm;
		r = folder_access(conn, u->cid, u->uid, m->ids[i], &perm, err);
		if (r > 0) {
			at[k] = i;
			visible[k++] = m->ids[i];
		}
	}
	if (r >= 0)
		r = dav_props_get_many(conn, u->pool, u->cid, DAV_PROPS_FOLDER, visible, k,
		                       m->names, m->n, props, counts, err);
	for (size_t i = 0; r == 0 && i < k; i++) {
		m->props[at[i]] = props[i];
		m->counts[at[i]] = counts[i];
	}
	mem_free(&visible);
	mem_free(&at);
	mem_free(&props);
	mem_free(&counts);
	return r < 0 ? -1 : 0;
}

int storage_props_get_folders(struct storage_user *user, const int64_t *ids, size_t count,
                              const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                              size_t *counts_r, struct storage_error *err)
{
	struct many m = {user, ids, count, names, n, props_r, counts_r};
	const char *what = "properties";
	return storage__run(user, false, get_folders_txn, &m, &what, err);
}

static int patch_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	bool write;
	if (object_rights(conn, op, &write, err) < 0)
		return -1;
	if (!write)
		return storage__refuse(op->err, STORAGE_FORBIDDEN,
		                       "no permission to change the properties of %s %lld",
		                       DAV_PROPS_KIND_NAME(op->kind), (long long)op->id);
	op->what = "properties";
	for (size_t i = 0; i < op->n; i++) {
		if (dav_props_put(conn, u->cid, op->kind, op->id, &op->props[i], err) < 0)
			return -1;
	}
	int64_t count;
	if (dav_props_count(conn, u->cid, op->kind, op->id, &count, err) < 0)
		return -1;
	if (count > DAV_PROPS_MAX) {
		storage__refuse(op->err, STORAGE_INVALID,
		                "%s %lld would have %lld properties, at most %d are allowed",
		                DAV_PROPS_KIND_NAME(op->kind), (long long)op->id, (long long)count,
		                DAV_PROPS_MAX);
		op->err->detail = STORAGE_DETAIL_PROP_BOUND;
		return -1;
	}
	return 0;
}

int storage_props_patch(struct storage_user *user, enum dav_props_kind kind, int64_t id,
                        const struct dav_prop *ops, size_t n, size_t *failed_r,
                        struct storage_error *err)
{
	if (failed_r != NULL)
		*failed_r = n;
	/* the bounds of each op before any SQL */
	for (size_t i = 0; i < n; i++) {
		const char *why = dav_props_check(&ops[i]);
		if (why != NULL) {
			if (failed_r != NULL)
				*failed_r = i;
			storage__refuse(err, STORAGE_INVALID, "%s", why);
			err->detail = STORAGE_DETAIL_PROP_BOUND;
			return -1;
		}
	}
	struct op op = {.user = user, .err = err, .kind = kind, .id = id, .props = ops, .n = n};
	op.what = "properties";
	return storage__run(user, true, patch_txn, &op, &op.what, err);
}
