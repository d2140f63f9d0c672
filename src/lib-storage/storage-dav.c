/* SPDX-License-Identifier: MIT */
/* WebDAV's reads of a storage user: paged members, lookups, ETags, quota. */
#include "storage-dav.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "mem.h"
#include "pool.h"
#include "storage-private.h"

/* One call: its input, and what the transaction produced. */
struct op {
	struct storage_user *user;
	struct storage_error *err;
	const char *what;
	int64_t id;
	const char *name;
	struct storage_dav_entry *entry;
	struct storage_dav_cursor *cursor;
	size_t max, count;
	struct infostore_file *files; /* a page's rows (max of them) */
	bool props;                   /* children: read the members' dead properties */
	const struct dav_prop *names; /* those of them (NULL: all) */
	size_t n;
	int64_t used, available;
};

static int run(struct op *op, bool write, storage_txn_fn *fn, const char *what)
{
	op->what = what;
	return storage__run(op->user, write, fn, op, &op->what, op->err);
}

/* A folder error inside a transaction: the SQL error is the transaction's, a refusal is ours. */
static int folder_failed(struct op *op, const struct folder_error *fe, struct sql_error *err)
{
	if (fe->status == FOLDER_SQL) {
		*err = fe->sql;
		return -1;
	}
	static const enum storage_refusal map[] = {
	    [FOLDER_INVALID] = STORAGE_INVALID,     [FOLDER_FORBIDDEN] = STORAGE_FORBIDDEN,
	    [FOLDER_NOT_FOUND] = STORAGE_NOT_FOUND, [FOLDER_CONFLICT] = STORAGE_INVALID,
	    [FOLDER_LIMIT] = STORAGE_OVER_LIMIT,
	};
	enum storage_refusal why =
	    fe->status < sizeof(map) / sizeof(map[0]) ? map[fe->status] : STORAGE_INVALID;
	storage__refuse(op->err, why, "%s", fe->message);
	if (fe->status == FOLDER_CONFLICT)
		op->err->detail = STORAGE_DETAIL_EXISTS;
	return -1;
}

static void folder_entry(const struct folder *f, int64_t uid, struct storage_dav_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->collection = true;
	e->id = f->id;
	e->parent = f->view_parent;
	snprintf(e->name, sizeof(e->name), "%s", f->title);
	e->created = f->created;
	e->modified = f->modified;
	e->rights = f->rights;
	e->own = f->owner == uid;
	/* static, as the folder's strings go with its pool */
	static const char *const modules[] = {"infostore", "contacts", "calendar", "tasks"};
	e->module = "system";
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		if (strcmp(f->module, modules[i]) == 0)
			e->module = modules[i];
	}
}

void storage_dav_etag(const struct infostore_file *f, char etag_r[STORAGE_DAV_ETAG_SIZE])
{
	snprintf(etag_r, STORAGE_DAV_ETAG_SIZE, "\"%lld-%lld-%s\"", (long long)f->id,
	         (long long)f->version, f->md5);
}

static void file_entry(const struct infostore_file *f, const struct folder_perm *rights,
                       int64_t uid, struct storage_dav_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = f->id;
	e->parent = f->folder;
	snprintf(e->name, sizeof(e->name), "%s", f->name);
	e->created = f->created;
	e->modified = f->modified;
	e->size = f->size;
	e->version = f->version;
	snprintf(e->content_type, sizeof(e->content_type), "%s", f->content_type);
	snprintf(e->md5, sizeof(e->md5), "%s", f->md5);
	e->created_by = f->created_by;
	storage_dav_etag(f, e->etag);
	e->rights = *rights;
	e->own = f->created_by == uid;
}

/* --- paged members --- */

static int by_title(const void *a, const void *b)
{
	const struct folder *const *x = a, *const *y = b;
	return strcmp((*x)->title, (*y)->title);
}

/* The subfolders whose titles sort after the cursor, up to the page's room. */
static int folders_page(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	struct storage_user *u = op->user;
	struct folder_error fe;
	struct folder **folders;
	size_t count;
	/* a pool of its own, so a page's folders do not stay in the request's pool */
	struct pool *pool = pool_create(0);
	int ret = -1;
	if (folder_list(conn, pool, u->cid, u->uid, op->id, &folders, &count, &fe) < 0) {
		ret = folder_failed(op, &fe, err);
		goto out;
	}
	qsort(folders, count, sizeof(*folders), by_title);
	struct storage_dav_cursor *c = op->cursor;
	size_t i = 0;
	while (i < count && strcmp(folders[i]->title, c->after) <= 0)
		i++;
	for (; i < count && op->count < op->max; i++) {
		folder_entry(folders[i], u->uid, &op->entry[op->count++]);
		snprintf(c->after, sizeof(c->after), "%s", folders[i]->title);
	}
	if (i == count) {
		c->phase = 1;
		c->after[0] = '\0';
	}
	ret = 0;
out:
	pool_destroy(&pool);
	return ret;
}

static int files_page(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	struct storage_user *u = op->user;
	struct storage_dav_cursor *c = op->cursor;
	struct folder_perm perm;
	char module[FOLDER_MODULE_MAX];
	op->what = "folder lookup";
	int r = folder_access(conn, u->cid, u->uid, op->id, &perm, err);
	if (r > 0)
		r = folder_module(conn, u->cid, op->id, module, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return storage__refuse(op->err, STORAGE_NOT_FOUND, "folder %lld not found",
		                       (long long)op->id);
	size_t room = op->max - op->count, got = 0;
	if (strcmp(module, "infostore") == 0 && folder_perm_may_read(&perm, true)) {
		op->what = "listing";
		/* "read own" lists only what the user created */
		int64_t creator = folder_perm_may_read(&perm, false) ? 0 : u->uid;
		if (infostore_list_page(conn, u->cid, op->id, creator, c->after, room, op->files,
		                        &got, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < got; i++)
		file_entry(&op->files[i], &perm, u->uid, &op->entry[op->count++]);
	if (got > 0)
		snprintf(c->after, sizeof(c->after), "%s", op->files[got - 1].name);
	if (got < room)
		c->phase = 2;
	return 0;
}

/* The dead properties of the page's members of one kind, one statement for them all. */
static int page_props(struct sql_conn *conn, struct op *op, bool folders, struct sql_error *err)
{
	struct storage_user *u = op->user;
	int64_t *ids = mem_calloc(op->count, sizeof(*ids));
	size_t *at = mem_calloc(op->count, sizeof(*at)), k = 0;
	for (size_t i = 0; i < op->count; i++) {
		if (op->entry[i].collection == folders) {
			at[k] = i;
			ids[k++] = op->entry[i].id;
		}
	}
	struct dav_prop **props = mem_calloc(k + 1, sizeof(*props));
	size_t *counts = mem_calloc(k + 1, sizeof(*counts));
	op->what = "properties";
	int r =
	    dav_props_get_many(conn, u->pool, u->cid, folders ? DAV_PROPS_FOLDER : DAV_PROPS_FILE,
	                       ids, k, op->names, op->n, props, counts, err);
	for (size_t i = 0; r == 0 && i < k; i++) {
		op->entry[at[i]].dead = props[i];
		op->entry[at[i]].dead_count = counts[i];
	}
	mem_free(&ids);
	mem_free(&at);
	mem_free(&props);
	mem_free(&counts);
	return r;
}

static int children_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_dav_cursor saved = *op->cursor;
	op->count = 0;
	int r = 0;
	if (op->cursor->phase == 0)
		r = folders_page(conn, op, err);
	if (r == 0 && op->cursor->phase == 1 && op->count < op->max)
		r = files_page(conn, op, err);
	if (r == 0 && op->props)
		r = page_props(conn, op, true, err);
	if (r == 0 && op->props)
		r = page_props(conn, op, false, err);
	if (r < 0)
		*op->cursor = saved; /* a retried attempt starts where this one did */
	return r;
}

static int children(struct op *op, size_t *count_r)
{
	struct storage_dav_cursor *cursor = op->cursor;
	*count_r = 0;
	if (cursor->phase >= 2 || op->max == 0) {
		cursor->done = cursor->phase >= 2;
		memset(op->err, 0, sizeof(*op->err));
		return 0;
	}
	/* the page's rows are freed with the page: the request's pool must not grow with it */
	op->files = mem_calloc(op->max, sizeof(*op->files));
	int r = run(op, false, children_txn, "listing");
	mem_free(&op->files);
	if (r < 0)
		return -1;
	*count_r = op->count;
	cursor->done = cursor->phase >= 2;
	return 0;
}

int storage_dav_children(struct storage_user *user, int64_t folder,
                         struct storage_dav_cursor *cursor, struct storage_dav_entry *entries,
                         size_t max, size_t *count_r, struct storage_error *err)
{
	struct op op = {
	    .user = user, .err = err, .id = folder, .entry = entries, .cursor = cursor, .max = max};
	return children(&op, count_r);
}

int storage_dav_children_props(struct storage_user *user, int64_t folder,
                               struct storage_dav_cursor *cursor, struct storage_dav_entry *entries,
                               size_t max, const struct dav_prop *names, size_t n, size_t *count_r,
                               struct storage_error *err)
{
	struct op op = {.user = user,
	                .err = err,
	                .id = folder,
	                .entry = entries,
	                .cursor = cursor,
	                .max = max,
	                .props = true,
	                .names = names,
	                .n = n};
	return children(&op, count_r);
}

/* --- single objects --- */

static int folder_get_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	struct folder_error fe;
	struct folder *f = NULL, **folders;
	size_t count;
	struct pool *pool = pool_create(0);
	int ret = -1;
	op->what = "folder lookup";
	if (op->name == NULL) {
		if (folder_get(conn, pool, u->cid, u->uid, op->id, &f, &fe) < 0) {
			ret = folder_failed(op, &fe, err);
			goto out;
		}
	} else {
		if (folder_list(conn, pool, u->cid, u->uid, op->id, &folders, &count, &fe) < 0) {
			ret = folder_failed(op, &fe, err);
			goto out;
		}
		for (size_t i = 0; i < count && f == NULL; i++) {
			if (strcmp(folders[i]->title, op->name) == 0)
				f = folders[i];
		}
		if (f == NULL) {
			ret = storage__refuse(op->err, STORAGE_NOT_FOUND,
			                      "no folder \"%s\" in folder %lld", op->name,
			                      (long long)op->id);
			goto out;
		}
	}
	folder_entry(f, u->uid, op->entry);
	ret = 0;
out:
	pool_destroy(&pool);
	return ret;
}

int storage_dav_folder_get(struct storage_user *user, int64_t id, struct storage_dav_entry *entry_r,
                           struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .id = id, .entry = entry_r};
	return run(&op, false, folder_get_txn, "folder lookup");
}

int storage_dav_folder_find(struct storage_user *user, int64_t parent, const char *title,
                            struct storage_dav_entry *entry_r, struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .id = parent, .name = title, .entry = entry_r};
	return run(&op, false, folder_get_txn, "folder lookup");
}

static int file_get_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	struct infostore_file f;
	struct folder_perm perm;
	op->what = "file lookup";
	int r = 1;
	if (op->name != NULL) {
		r = infostore_find(conn, u->cid, op->id, op->name, &f, err);
		if (r > 0)
			op->id = f.id;
	}
	if (r > 0)
		r = storage__file_visible(conn, u, op->id, &f, &perm, &op->what, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return op->name != NULL ? storage__refuse(op->err, STORAGE_NOT_FOUND,
		                                          "no file \"%s\" in folder %lld", op->name,
		                                          (long long)op->id)
		                        : storage__refuse(op->err, STORAGE_NOT_FOUND,
		                                          "file %lld not found", (long long)op->id);
	file_entry(&f, &perm, u->uid, op->entry);
	return 0;
}

int storage_dav_file_get(struct storage_user *user, int64_t id, struct storage_dav_entry *entry_r,
                         struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .id = id, .entry = entry_r};
	return run(&op, false, file_get_txn, "file lookup");
}

int storage_dav_file_find(struct storage_user *user, int64_t folder, const char *name,
                          struct storage_dav_entry *entry_r, struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .id = folder, .name = name, .entry = entry_r};
	int r = run(&op, false, file_get_txn, "file lookup");
	if (r < 0 && err->status == STORAGE_REFUSED)
		snprintf(err->message, sizeof(err->message), "no file \"%s\" in folder %lld", name,
		         (long long)folder);
	return r;
}

/* The user's "My files", remembered in the folder cache under (cid, -uid) (folder ids are
   positive): a default folder neither moves nor goes while its user exists, and a change of
   the user drops it (storage_on_event). Every path below home/ starts here. */
static int home_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	struct cache *fc = u->storage->folder_cache;
	int64_t home; /* nothing but these ids is ever put under negative keys */
	size_t size;
	if (fc != NULL && cache_get(fc, u->cid, -u->uid, &home, &size) > 0 &&
	    size == sizeof(home)) {
		op->id = home;
		return 0;
	}
	uint64_t gen = fc != NULL ? cache_generation(fc) : 0;
	int r = folder_default(conn, u->cid, u->uid, "infostore", &op->id, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return storage__refuse(op->err, STORAGE_NOT_FOUND, "user %lld has no \"My files\"",
		                       (long long)u->uid);
	if (fc != NULL)
		cache_put(fc, u->cid, -u->uid, &op->id, sizeof(op->id), gen);
	return 0;
}

/* --- paths --- */

/* One lookup inside the walk: 1 found (into op->entry), 0 not there, -1 failed. */
static int walk_step(struct sql_conn *conn, struct op *op, storage_txn_fn *fn, int64_t id,
                     const char *name, struct sql_error *err)
{
	op->id = id;
	op->name = name;
	if (fn(conn, op, err) == 0)
		return 1;
	if (op->err->status != STORAGE_REFUSED || op->err->refusal != STORAGE_NOT_FOUND)
		return -1;
	memset(op->err, 0, sizeof(*op->err));
	return 0;
}

struct walk {
	struct op op;
	int64_t root;
	const char *const *segs;
	size_t n;
	bool slash;
	struct storage_dav_walk *w;
	struct infostore_version *v; /* storage_dav_walk_open: a file's current version */
};

/* The found file's current version into wk->v, in the walk's transaction. */
static int version_of(struct sql_conn *conn, struct walk *wk, struct sql_error *err)
{
	const struct storage_dav_entry *e = &wk->w->entry;
	int r = infostore_get_version(conn, wk->op.user->cid, e->id, e->version, wk->v, err);
	if (r == 0)
		return storage__refuse(wk->op.err, STORAGE_NOT_FOUND,
		                       "file %lld has no version %lld", (long long)e->id,
		                       (long long)e->version);
	return r < 0 ? -1 : 0;
}

static int walk_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct walk *wk = ctx;
	struct op *op = &wk->op;
	struct storage_dav_walk *w = wk->w;
	memset(w, 0, sizeof(*w));
	op->entry = &w->entry;
	int64_t root = wk->root;
	if (root == STORAGE_DAV_HOME) {
		if (home_txn(conn, op, err) < 0)
			return -1;
		root = op->id;
	}
	if (wk->n == 0) {
		op->id = root;
		op->name = NULL;
		if (folder_get_txn(conn, op, err) < 0)
			return -1;
		w->found = STORAGE_DAV_FOLDER;
		return 0;
	}
	int64_t cur = root;
	for (size_t i = 0; i < wk->n; i++) {
		bool last = i + 1 == wk->n;
		const char *seg = wk->segs[i];
		w->parent = cur;
		/* a GET or PUT of a file is one lookup fewer */
		int r = last && !wk->slash ? walk_step(conn, op, file_get_txn, cur, seg, err) : 0;
		if (r == 0 && (r = walk_step(conn, op, folder_get_txn, cur, seg, err)) > 0) {
			w->found = STORAGE_DAV_FOLDER;
			cur = w->entry.id;
			continue;
		}
		if (r == 0 && last && wk->slash)
			r = walk_step(conn, op, file_get_txn, cur, seg, err);
		if (r != 0) {
			w->found = STORAGE_DAV_FILE;
			if (r < 0)
				return -1;
			return wk->v != NULL ? version_of(conn, wk, err) : 0;
		}
		memset(&w->entry, 0, sizeof(w->entry));
		w->found = STORAGE_DAV_NONE;
		w->parent = last ? cur : 0;
		w->parent_missing = !last;
		return 0;
	}
	return 0;
}

/* One walk; v: also the found file's current version. */
static int walk_run(struct storage_user *user, int64_t root, const char *const *segs, size_t n,
                    bool slash, struct storage_dav_walk *walk_r, struct infostore_version *v,
                    struct storage_error *err)
{
	struct walk wk = {.op = {.user = user, .err = err},
	                  .root = root,
	                  .segs = segs,
	                  .n = n,
	                  .slash = slash,
	                  .w = walk_r,
	                  .v = v};
	wk.op.what = "folder lookup";
	return storage__run(user, false, walk_txn, &wk, &wk.op.what, err);
}

int storage_dav_walk(struct storage_user *user, int64_t root, const char *const *segs, size_t n,
                     bool slash, struct storage_dav_walk *walk_r, struct storage_error *err)
{
	return walk_run(user, root, segs, n, slash, walk_r, NULL, err);
}

int storage_dav_walk_open(struct storage_user *user, int64_t root, const char *const *segs,
                          size_t n, bool slash, struct storage_dav_walk *walk_r,
                          struct infostore_version *version_r, int *fd_r, struct storage_error *err)
{
	*fd_r = -1;
	if (walk_run(user, root, segs, n, slash, walk_r, version_r, err) < 0)
		return -1;
	if (walk_r->found != STORAGE_DAV_FILE)
		return 0;
	return storage__file_content(user, walk_r->entry.id, version_r, fd_r, err);
}

/* --- lock anchors --- */

struct anchor {
	struct op op;
	struct pool *pool;
	const char *path;
};

/* Up the stored parents of op.id, whoever may see them: the titles on the way, until the
   owner's "My files", the public root or a system root. */
static int anchor_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct anchor *an = ctx;
	const char *titles[FOLDER_DEPTH_MAX + 2];
	size_t n = 0;
	int64_t id = an->op.id;
	const char *top = NULL;
	while (top == NULL) {
		if (id == FOLDER_ID_PUBLIC) {
			top = "/dav/files/public";
			break;
		}
		struct sql_stmt *st =
		    sql_prepare(conn,
		                "SELECT parent, owner, title, default_for FROM folder WHERE cid=? "
		                "AND id=?",
		                err);
		if (st == NULL)
			return -1;
		sql_bind_int64(st, 1, an->op.user->cid);
		sql_bind_int64(st, 2, id);
		int r = sql_step(st, err);
		if (r <= 0) {
			sql_stmt_done(&st);
			if (r == 0)
				return storage__refuse(an->op.err, STORAGE_NOT_FOUND,
				                       "no folder %lld", (long long)id);
			return -1;
		}
		int64_t parent = sql_col_int64(st, 0), owner = sql_col_int64(st, 1);
		const char *def = sql_col_text(st, 3);
		if (def != NULL && strcmp(def, "infostore") == 0)
			top = pool_printf(an->pool, "/dav/files/home/%lld", (long long)owner);
		else if (parent == 0 || id <= FOLDER_ID_MAX_SYSTEM || n == FOLDER_DEPTH_MAX + 1)
			top = pool_printf(an->pool, "/dav/o/%lld", (long long)id);
		else
			titles[n++] = pool_strdup(an->pool, sql_col_text(st, 2));
		sql_stmt_done(&st);
		id = parent;
	}
	struct buf path;
	buf_init(&path, 65536); /* 66 titles of at most 256 bytes */
	buf_append_str(&path, top);
	while (n > 0) {
		buf_append_str(&path, "/");
		buf_append_str(&path, titles[--n]);
	}
	an->path = pool_strndup(an->pool, path.data, path.len);
	buf_free(&path);
	return 0;
}

int storage_dav_lock_anchor(struct storage_user *user, int64_t folder, struct pool *pool,
                            const char **path_r, struct storage_error *err)
{
	struct anchor an = {.op = {.user = user, .err = err, .id = folder}, .pool = pool};
	if (run(&an.op, false, anchor_txn, "folder lookup") < 0)
		return -1;
	*path_r = an.path;
	return 0;
}

/* --- quota --- */

static int quota_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	int64_t objects, held = 0;
	int r = infostore_usage(conn, u->cid, &op->used, &objects, err);
	if (r < 0)
		return -1;
	if (r == 0)
		op->used = 0;
	op->available = -1;
	if (u->ctx.quota_bytes > 0) {
		if (infostore_held(conn, u->cid, (int64_t)time(NULL), &held, err) < 0)
			return -1;
		int64_t left = u->ctx.quota_bytes - op->used - held;
		op->available = left > 0 ? left : 0;
	}
	return 0;
}

int storage_dav_quota(struct storage_user *user, int64_t *used_r, int64_t *available_r,
                      struct storage_error *err)
{
	struct op op = {.user = user, .err = err};
	if (run(&op, false, quota_txn, "quota") < 0)
		return -1;
	*used_r = op.used;
	*available_r = op.available;
	return 0;
}
