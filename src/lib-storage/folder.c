/* SPDX-License-Identifier: MIT */
/* Folders (docs/internals/folders.md): the API glue of folder.h, reading and changing folders;
   the tree is in folder-tree.c, permissions in folder-perm.c. */
#include "folder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "array.h"
#include "cache.h"
#include "dav-props.h"
#include "filestore.h"
#include "folder-private.h"
#include "infostore.h"
#include "pool.h"

/* Set once before threads start (folder_set_caches, folder_set_change_hook). */
struct cache *folder__folder_cache, *folder__group_cache;
static folder_change_fn *change_hook;
static void *change_hook_ctx;

static const struct {
	int64_t id;
	const char *module;
	const char *title;
	uint32_t all_users_bits;
} system_roots[] = {
    {FOLDER_ID_PRIVATE, "system", "Private", FOLDER_BITS(4, 0, 0, 0, 0)},
    {FOLDER_ID_PUBLIC, "system", "Public", FOLDER_BITS(4, 0, 0, 0, 0)},
    {FOLDER_ID_SHARED, "system", "Shared", FOLDER_BITS(1, 0, 0, 0, 0)},
    {FOLDER_ID_FILES, "infostore", "Files", FOLDER_BITS(4, 0, 0, 0, 0)},
};

static const struct {
	int64_t parent;
	const char *module;
	const char *title;
} user_defaults[] = {
    {FOLDER_ID_PRIVATE, "calendar", "Calendar"},
    {FOLDER_ID_PRIVATE, "contacts", "Contacts"},
    {FOLDER_ID_PRIVATE, "tasks", "Tasks"},
    {FOLDER_ID_FILES, "infostore", "My files"},
};

/* --- names --- */

const char *folder_type_name(enum folder_type type)
{
	switch (type) {
	case FOLDER_TYPE_SYSTEM:
		return "system";
	case FOLDER_TYPE_PRIVATE:
		return "private";
	case FOLDER_TYPE_PUBLIC:
		return "public";
	case FOLDER_TYPE_SHARED:
		return "shared";
	}
	return "private";
}

bool folder_module_valid(const char *module)
{
	return module != NULL &&
	       (strcmp(module, "infostore") == 0 || strcmp(module, "contacts") == 0 ||
	        strcmp(module, "calendar") == 0 || strcmp(module, "tasks") == 0);
}

int folder_default(struct sql_conn *conn, int64_t cid, int64_t uid, const char *module,
                   int64_t *id_r, struct sql_error *err)
{
	return sql_query_int64(conn, err, id_r,
	                       "SELECT id FROM folder WHERE cid=? AND owner=? AND default_for=?",
	                       "iis", cid, uid, module);
}

/* --- caches and announcements --- */

void folder_set_caches(struct cache *folders, struct cache *groups)
{
	folder__folder_cache = folders;
	folder__group_cache = groups;
}

size_t folder_cache_folder_size(void)
{
	return sizeof(struct cached_folder);
}

size_t folder_cache_groups_size(void)
{
	return sizeof(struct cached_groups);
}

void folder_set_change_hook(folder_change_fn *fn, void *ctx)
{
	change_hook = fn;
	change_hook_ctx = ctx;
}

static void announce(int64_t cid, int64_t folder_id)
{
	if (change_hook != NULL)
		change_hook(cid, folder_id, change_hook_ctx);
	else if (folder__folder_cache != NULL && folder_id == 0)
		cache_drop_context(folder__folder_cache, cid);
	else if (folder__folder_cache != NULL)
		cache_drop(folder__folder_cache, cid, folder_id);
}

void folder_changes_announce(struct folder_changes *ch)
{
	if (ch->whole_context)
		announce(ch->cid, 0);
	else
		for (size_t i = 0; i < ch->count; i++)
			announce(ch->cid, ch->ids[i]);
	ch->count = 0;
	ch->whole_context = false;
}

/* --- errors and small helpers --- */

int folder__fail(struct op *op, enum folder_status status, const char *field, const char *fmt, ...)
{
	va_list args;
	op->err->status = status;
	op->err->field = field;
	va_start(args, fmt);
	vsnprintf(op->err->message, sizeof(op->err->message), fmt, args);
	va_end(args);
	return -1;
}

/* The SQL error is already in op->err->sql. */
int folder__sql_failed(struct op *op)
{
	op->err->status = FOLDER_SQL;
	op->err->field = NULL;
	snprintf(op->err->message, sizeof(op->err->message), "%s", op->err->sql.message);
	return -1;
}

static void op_init(struct op *op, struct sql_conn *conn, struct pool *pool, int64_t cid,
                    int64_t uid, struct folder_error *err)
{
	memset(op, 0, sizeof(*op));
	memset(err, 0, sizeof(*err));
	op->conn = conn;
	op->pool = pool;
	op->cid = cid;
	op->uid = uid;
	op->err = err;
}

/* After a change: rows must be read again. */
static void op_forget(struct op *op)
{
	memset(op->buckets, 0, sizeof(op->buckets));
	op->cand = NULL;
	op->cand_count = 0;
	op->cand_loaded = false;
}

void *folder__grow(struct pool *pool, void *old, size_t count, size_t *cap, size_t elem)
{
	if (count < *cap)
		return old;
	size_t ncap = *cap == 0 ? 16 : *cap * 2;
	void *n = pool_alloc(pool, ncap * elem);
	if (count > 0)
		memcpy(n, old, count * elem);
	*cap = ncap;
	return n;
}

/* Records that folder id changed (its row, its permissions or its children). */
static void changed(struct op *op, int64_t id)
{
	struct folder_changes *ch = op->changes;
	ch->cid = op->cid;
	if (ch->whole_context)
		return;
	for (size_t i = 0; i < ch->count; i++) {
		if (ch->ids[i] == id)
			return;
	}
	if (ch->count == FOLDER_CHANGES_MAX) {
		ch->whole_context = true;
		return;
	}
	ch->ids = folder__grow(op->pool, ch->ids, ch->count, &ch->cap, sizeof(*ch->ids));
	ch->ids[ch->count++] = id;
}

char *folder__col_text(struct pool *pool, struct sql_stmt *st, unsigned col)
{
	const char *s = sql_col_text(st, col);
	return s == NULL ? NULL : pool_strdup(pool, s);
}

/* First columns of every row of sql (params: nparams int64 values) as ids. */
int folder__select_ids(struct op *op, const char *sql, const int64_t *params, unsigned nparams,
                       int64_t **ids_r, size_t *count_r)
{
	struct sql_stmt *st = sql_prepare(op->conn, sql, &op->err->sql);
	int64_t *ids = NULL;
	size_t count = 0, cap = 0;
	int r;
	if (st == NULL)
		return folder__sql_failed(op);
	for (unsigned i = 0; i < nparams; i++)
		sql_bind_int64(st, i + 1, params[i]);
	while ((r = sql_step(st, &op->err->sql)) > 0) {
		ids = folder__grow(op->pool, ids, count, &cap, sizeof(*ids));
		ids[count++] = sql_col_int64(st, 0);
	}
	sql_stmt_done(&st);
	if (r < 0)
		return folder__sql_failed(op);
	*ids_r = ids;
	*count_r = count;
	return 0;
}

/* --- reading --- */

int folder_access(struct sql_conn *conn, int64_t cid, int64_t uid, int64_t folder_id,
                  struct folder_perm *perm_r, struct sql_error *err)
{
	struct folder_error ferr;
	struct op op;
	struct node *n;
	struct pool *pool = pool_create(0);
	op_init(&op, conn, pool, cid, uid, &ferr);
	op.cached = true;
	memset(perm_r, 0, sizeof(*perm_r));
	int r = folder_tree__load_node(&op, folder_id, &n);
	if (r > 0 && folder_perm__visible(n))
		*perm_r = n->rights;
	else if (r > 0)
		r = 0;
	if (r < 0)
		*err = ferr.sql;
	pool_destroy(&pool);
	return r;
}

int folder_module(struct sql_conn *conn, int64_t cid, int64_t folder_id,
                  char module_r[FOLDER_MODULE_MAX], struct sql_error *err)
{
	struct cached_folder cf;
	size_t size;
	if (folder__folder_cache != NULL &&
	    cache_get(folder__folder_cache, cid, folder_id, &cf, &size) > 0) {
		snprintf(module_r, FOLDER_MODULE_MAX, "%s", cf.module);
		return 1;
	}
	struct sql_stmt *st =
	    sql_prepare(conn, "SELECT module FROM folder WHERE cid=? AND id=?", err);
	if (st == NULL)
		return -1;
	sql_bind_int64(st, 1, cid);
	sql_bind_int64(st, 2, folder_id);
	int r = sql_step(st, err);
	module_r[0] = '\0';
	if (r > 0) {
		const char *m = sql_col_text(st, 0);
		snprintf(module_r, FOLDER_MODULE_MAX, "%s", m == NULL ? "" : m);
	}
	sql_stmt_done(&st);
	return r;
}

int folder_get(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t id,
               struct folder **folder_r, struct folder_error *err)
{
	struct op op;
	struct node *n;
	op_init(&op, conn, pool, cid, uid, err);
	if (folder_tree__load_node(&op, id, &n) < 0)
		return -1;
	if (!folder_perm__visible(n))
		return folder__fail(&op, FOLDER_NOT_FOUND, NULL, "folder %lld not found",
		                    (long long)id);
	return folder_tree__build(&op, n, folder_r);
}

int folder_list(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t parent,
                struct folder ***folders_r, size_t *count_r, struct folder_error *err)
{
	struct op op;
	struct node *p, **nodes = NULL;
	size_t count = 0;
	op_init(&op, conn, pool, cid, uid, err);
	if (parent == 0) {
		struct node *roots[FOLDER_ID_MAX_SYSTEM];
		for (int64_t id = 1; id <= FOLDER_ID_MAX_SYSTEM; id++) {
			if (folder_tree__load_node(&op, id, &p) < 0)
				return -1;
			if (folder_perm__visible(p))
				roots[count++] = p;
		}
		return folder_tree__build_list(&op, roots, count, false, folders_r, count_r);
	}
	if (folder_tree__load_node(&op, parent, &p) < 0)
		return -1;
	if (!folder_perm__visible(p))
		return folder__fail(&op, FOLDER_NOT_FOUND, "parent", "folder %lld not found",
		                    (long long)parent);
	int r;
	if (parent == FOLDER_ID_SHARED) {
		r = 0; /* its children are the sharer nodes: folder_list_sharers */
	} else if (parent <= FOLDER_ID_MAX_SYSTEM) {
		r = folder_tree__tops_at(&op, parent, 0, false, &nodes, &count);
	} else {
		int64_t root;
		r = folder_tree__known_root(&op, p, &root) < 0
		        ? -1
		        : folder_tree__visible_children(&op, p, false, &nodes, &count);
	}
	if (r < 0)
		return -1;
	return folder_tree__build_list(&op, nodes, count, true, folders_r, count_r);
}

static int sharer_name(struct op *op, int64_t uid, const char **name_r)
{
	struct sql_stmt *st = sql_prepare(
	    op->conn, "SELECT display_name FROM users WHERE cid=? AND id=?", &op->err->sql);
	if (st == NULL)
		return folder__sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, uid);
	int r = sql_step(st, &op->err->sql);
	*name_r = r > 0 ? folder__col_text(op->pool, st, 0) : NULL;
	sql_stmt_done(&st);
	if (r < 0)
		return folder__sql_failed(op);
	if (*name_r == NULL)
		*name_r = pool_printf(op->pool, "User %lld", (long long)uid);
	return 0;
}

static int cmp_sharer(const void *a, const void *b)
{
	const struct folder_sharer *x = a, *y = b;
	int c = strcasecmp(x->display_name, y->display_name);
	return c != 0 ? c : (x->uid > y->uid) - (x->uid < y->uid);
}

int folder_list_sharers(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid,
                        struct folder_sharer **sharers_r, size_t *count_r, struct folder_error *err)
{
	struct op op;
	int64_t *uids;
	size_t count;
	op_init(&op, conn, pool, cid, uid, err);
	if (folder_tree__sharer_ids(&op, &uids, &count) < 0)
		return -1;
	struct folder_sharer *out = pool_calloc(pool, count + 1, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		out[i].uid = uids[i];
		if (sharer_name(&op, uids[i], &out[i].display_name) < 0)
			return -1;
	}
	if (count > 1)
		qsort(out, count, sizeof(*out), cmp_sharer);
	*sharers_r = out;
	*count_r = count;
	return 0;
}

int folder_list_shared_by(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid,
                          int64_t owner, struct folder_sharer *sharer_r, struct folder ***folders_r,
                          size_t *count_r, struct folder_error *err)
{
	struct op op;
	struct node **nodes;
	size_t count = 0;
	op_init(&op, conn, pool, cid, uid, err);
	if (owner != uid && owner > 0 &&
	    folder_tree__tops_at(&op, 0, owner, false, &nodes, &count) < 0)
		return -1;
	if (count == 0)
		return folder__fail(&op, FOLDER_NOT_FOUND, NULL, "folder u:%lld not found",
		                    (long long)owner);
	if (sharer_r != NULL) {
		sharer_r->uid = owner;
		if (sharer_name(&op, owner, &sharer_r->display_name) < 0)
			return -1;
	}
	return folder_tree__build_list(&op, nodes, count, true, folders_r, count_r);
}

/* --- changing --- */

/* Strict UTF-8: no overlong forms, surrogates or code points above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t extra;
		unsigned char lo = 0x80, hi = 0xbf;
		if (c < 0x80)
			extra = 0;
		else if (c >= 0xc2 && c <= 0xdf)
			extra = 1;
		else if (c >= 0xe0 && c <= 0xef)
			extra = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			extra = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i <= extra)
			return false;
		for (size_t k = 1; k <= extra; k++) {
			unsigned char b = s[i + k];
			if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
				return false;
		}
		i += extra + 1;
	}
	return true;
}

/* NULL if title is acceptable, else why not. */
static const char *title_problem(const char *title)
{
	size_t len = strlen(title);
	if (len == 0)
		return "title must not be empty";
	if (len > FOLDER_TITLE_MAX)
		return "title must be at most 255 bytes";
	if (strcmp(title, ".") == 0 || strcmp(title, "..") == 0)
		return "title must not be \".\" or \"..\"";
	if (title[0] == ' ' || title[len - 1] == ' ')
		return "title must not start or end with a space";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)title[i];
		if (c < 0x20 || c == 0x7f)
			return "title must not contain control characters";
		if (c == '/')
			return "title must not contain '/'";
	}
	if (!utf8_valid((const unsigned char *)title, len))
		return "title must be valid UTF-8";
	return NULL;
}

/* The module a folder below parent gets (requested may be NULL); NULL if not allowed. */
static const char *module_below(const struct node *parent, const char *requested)
{
	switch (parent->id) {
	case FOLDER_ID_PRIVATE:
		return requested != NULL && folder_module_valid(requested) &&
		               strcmp(requested, "infostore") != 0
		           ? requested
		           : NULL;
	case FOLDER_ID_PUBLIC:
		return folder_module_valid(requested) ? requested : NULL;
	case FOLDER_ID_SHARED:
		return NULL;
	default:
		if (requested == NULL)
			return parent->module;
		return strcmp(requested, parent->module) == 0 ? requested : NULL;
	}
}

static int module_refused(struct op *op, const struct node *parent, const char *module)
{
	const char *why = parent->id == FOLDER_ID_PRIVATE
	                      ? "must be calendar, contacts or tasks below the private root"
	                  : parent->id == FOLDER_ID_PUBLIC
	                      ? "must be infostore, contacts, calendar or tasks"
	                  : parent->id == FOLDER_ID_FILES ? "must be infostore below the files root"
	                                                  : "must be the parent folder's module";
	if (module == NULL && parent->id <= FOLDER_ID_MAX_SYSTEM && parent->id != FOLDER_ID_FILES)
		return folder__fail(op, FOLDER_INVALID, "module",
		                    "module is required below folder %lld", (long long)parent->id);
	return folder__fail(op, FOLDER_INVALID, "module", "module %s (parent folder %lld is %s)",
	                    why, (long long)parent->id, parent->module);
}

/* FOLDER_CONFLICT if another folder below parent already has title (ASCII case ignored).
   Below the private and files roots titles are unique per owner, elsewhere per parent. Also
   bumps the parent's modified time first, which on MariaDB locks the parent row so that two
   transactions cannot add the same title at once (and the read below is a locking read). */
static int check_title_free(struct op *op, int64_t parent, int64_t owner, const char *title,
                            int64_t except_id, int64_t now)
{
	bool per_owner = parent == FOLDER_ID_PRIVATE || parent == FOLDER_ID_FILES;
	bool mariadb = sql_conn_driver(op->conn) == SQL_DRIVER_MARIADB;
	int r;
	if (sql_run(op->conn, &op->err->sql, "UPDATE folder SET modified=? WHERE cid=? AND id=?",
	            "iii", now, op->cid, parent) < 0)
		return folder__sql_failed(op);
	struct sql_stmt *st = sql_prepare(
	    op->conn,
	    mariadb ? "SELECT id, owner, title FROM folder WHERE cid=? AND parent=? FOR UPDATE"
	            : "SELECT id, owner, title FROM folder WHERE cid=? AND parent=?",
	    &op->err->sql);
	if (st == NULL)
		return folder__sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, parent);
	bool taken = false;
	while (!taken && (r = sql_step(st, &op->err->sql)) > 0) {
		const char *t = sql_col_text(st, 2);
		taken = sql_col_int64(st, 0) != except_id &&
		        (!per_owner || sql_col_int64(st, 1) == owner) && t != NULL &&
		        strcasecmp(t, title) == 0;
	}
	sql_stmt_done(&st);
	if (taken)
		return folder__fail(op, FOLDER_CONFLICT, "title",
		                    "a folder titled \"%s\" already exists in folder %lld", title,
		                    (long long)parent);
	return r < 0 ? folder__sql_failed(op) : 0;
}

/* A fresh id from the context's sequence (shared with users), never one of the root ids. */
static int next_id(struct sql_conn *conn, int64_t cid, int64_t *id_r, struct sql_error *err)
{
	int64_t next;
	int64_t changed = sql_run_changes(
	    conn, err,
	    "UPDATE ctx_sequence SET next_id=CASE WHEN next_id<=? THEN ? ELSE next_id+1 END "
	    "WHERE cid=?",
	    "iii", (int64_t)FOLDER_ID_MAX_SYSTEM, (int64_t)FOLDER_ID_MAX_SYSTEM + 2, cid);
	if (changed < 0)
		return -1;
	if (changed == 0) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "context %lld has no ctx_sequence row",
		              (long long)cid);
		return -1;
	}
	if (sql_query_int64(conn, err, &next, "SELECT next_id FROM ctx_sequence WHERE cid=?", "i",
	                    cid) <= 0)
		return -1;
	*id_r = next - 1;
	return 0;
}

static int insert_folder(struct sql_conn *conn, int64_t cid, int64_t id, int64_t parent,
                         int64_t owner, const char *module, const char *title, bool is_system,
                         const char *default_for, int64_t now, struct sql_error *err)
{
	return sql_run(conn, err,
	               "INSERT INTO folder (cid, id, parent, owner, module, title, is_system, "
	               "default_for, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	               "iiiissisii", cid, id, parent, owner, module, title,
	               (int64_t)(is_system ? 1 : 0), default_for, now, now);
}

int folder_create_context_roots(struct sql_conn *conn, int64_t cid, struct sql_error *err)
{
	int64_t now = (int64_t)time(NULL), one;
	for (size_t i = 0; i < sizeof(system_roots) / sizeof(system_roots[0]); i++) {
		int r =
		    sql_query_int64(conn, err, &one, "SELECT 1 FROM folder WHERE cid=? AND id=?",
		                    "ii", cid, system_roots[i].id);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		struct folder_permission all = {FOLDER_GROUP_ALL_USERS, true,
		                                system_roots[i].all_users_bits};
		if (insert_folder(conn, cid, system_roots[i].id, 0, 0, system_roots[i].module,
		                  system_roots[i].title, true, NULL, now, err) < 0 ||
		    folder_perm__insert_permission(conn, cid, system_roots[i].id, &all, err) < 0)
			return -1;
	}
	return 0;
}

int folder_create_user_defaults(struct sql_conn *conn, int64_t cid, int64_t uid,
                                struct sql_error *err)
{
	int64_t now = (int64_t)time(NULL), id;
	struct folder_permission owner = {uid, false, FOLDER_BITS_OWNER};
	for (size_t i = 0; i < sizeof(user_defaults) / sizeof(user_defaults[0]); i++) {
		int r = sql_query_int64(
		    conn, err, &id,
		    "SELECT id FROM folder WHERE cid=? AND owner=? AND default_for=?", "iis", cid,
		    uid, user_defaults[i].module);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (next_id(conn, cid, &id, err) < 0 ||
		    insert_folder(conn, cid, id, user_defaults[i].parent, uid,
		                  user_defaults[i].module, user_defaults[i].title, false,
		                  user_defaults[i].module, now, err) < 0 ||
		    folder_perm__insert_permission(conn, cid, id, &owner, err) < 0)
			return -1;
	}
	return 0;
}

int folder_create(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid,
                  int64_t parent, const char *title, const char *module, int64_t max_objects,
                  struct folder **folder_r, struct folder_changes *changes,
                  struct folder_error *err)
{
	struct op op;
	struct node *p, *n;
	const char *why;
	int64_t root, id, now = (int64_t)time(NULL);
	int depth;
	op_init(&op, conn, pool, cid, uid, err);
	op.changes = changes;
	/* the usage row first, before any read (the lock order of uploads and folder_delete);
	   bad input is named before the limit */
	struct infostore_charge one = {
	    .cid = cid, .objects = 1, .max_objects = max_objects, .now = now};
	int over = infostore_charge(conn, &one, &err->sql);
	if (over < 0)
		return folder__sql_failed(&op);
	if (folder_tree__load_node(&op, parent, &p) < 0)
		return -1;
	if (!folder_perm__visible(p))
		return folder__fail(&op, FOLDER_NOT_FOUND, "parent", "folder %lld not found",
		                    (long long)parent);
	if (p->rights.folder < FOLDER_LEVEL_CREATE_SUBFOLDERS)
		return folder__fail(&op, FOLDER_FORBIDDEN, NULL,
		                    "you may not create subfolders in folder %lld",
		                    (long long)parent);
	if ((why = title_problem(title)) != NULL)
		return folder__fail(&op, FOLDER_INVALID, "title", "%s", why);
	if (module != NULL && !folder_module_valid(module))
		return folder__fail(&op, FOLDER_INVALID, "module",
		                    "module must be infostore, contacts, calendar or tasks");
	const char *m = module_below(p, module);
	if (m == NULL)
		return module_refused(&op, p, module);
	if (folder_tree__root(&op, p, &root, &depth) < 0)
		return -1;
	if (depth + 1 > FOLDER_DEPTH_MAX)
		return folder__fail(&op, FOLDER_INVALID, "parent", "folders nest at most %d deep",
		                    FOLDER_DEPTH_MAX);
	if (check_title_free(&op, parent, uid, title, 0, now) < 0)
		return -1;
	if (over == INFOSTORE_OVER_OBJECTS)
		return folder__fail(
		    &op, FOLDER_LIMIT, NULL,
		    "the context holds its limit of %lld objects (file versions and "
		    "folders)",
		    (long long)max_objects);
	if (next_id(conn, cid, &id, &err->sql) < 0 ||
	    insert_folder(conn, cid, id, parent, uid, m, title, false, NULL, now, &err->sql) < 0)
		return folder__sql_failed(&op);
	changed(&op, id);
	changed(&op, parent);
	struct folder_permission owner = {uid, false, FOLDER_BITS_OWNER};
	if (folder_perm__insert_permission(conn, cid, id, &owner, &err->sql) < 0)
		return folder__sql_failed(&op);
	/* Below a user folder the new folder is shared like its parent. */
	for (size_t i = 0; !p->is_system && i < p->acl_count; i++) {
		if (!p->acl[i].group && p->acl[i].entity == uid)
			continue;
		if (folder_perm__insert_permission(conn, cid, id, &p->acl[i], &err->sql) < 0)
			return folder__sql_failed(&op);
	}
	op_forget(&op);
	if (folder_tree__load_node(&op, id, &n) < 0)
		return -1;
	return folder_tree__build(&op, n, folder_r);
}

static int check_move(struct op *op, struct node *n, int64_t parent)
{
	struct node *target;
	int64_t root, *ids;
	size_t nids;
	int depth, height;
	if (n->default_for != NULL)
		return folder__fail(op, FOLDER_FORBIDDEN, NULL, "default folders cannot be moved");
	if (folder_tree__load_node(op, parent, &target) < 0)
		return -1;
	if (!folder_perm__visible(target))
		return folder__fail(op, FOLDER_NOT_FOUND, "parent", "folder %lld not found",
		                    (long long)parent);
	if (target->rights.folder < FOLDER_LEVEL_CREATE_SUBFOLDERS)
		return folder__fail(op, FOLDER_FORBIDDEN, NULL,
		                    "you may not create subfolders in folder %lld",
		                    (long long)parent);
	/* No cycles: the target must not be n or lie below it. */
	for (struct node *cur = target; cur != NULL && cur->id > FOLDER_ID_MAX_SYSTEM;) {
		if (cur->id == n->id) {
			op->err->loop = true;
			return folder__fail(
			    op, FOLDER_INVALID, "parent",
			    "a folder cannot be moved into itself or its own subfolder");
		}
		if (folder_tree__load_node(op, cur->parent, &cur) < 0)
			return -1;
	}
	if (module_below(target, n->module) == NULL)
		return module_refused(op, target, n->module);
	if (folder_tree__root(op, target, &root, &depth) < 0 ||
	    folder_tree__subtree(op, n, &ids, &nids, &height) < 0)
		return -1;
	if (depth + height > FOLDER_DEPTH_MAX)
		return folder__fail(op, FOLDER_INVALID, "parent", "folders nest at most %d deep",
		                    FOLDER_DEPTH_MAX);
	return 0;
}

int folder_update(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t id,
                  const struct folder_change *change, struct folder **folder_r,
                  struct folder_changes *changes, struct folder_error *err)
{
	struct op op;
	struct node *n;
	const char *why;
	int64_t now = (int64_t)time(NULL);
	op_init(&op, conn, pool, cid, uid, err);
	op.changes = changes;
	if (folder_tree__load_node(&op, id, &n) < 0)
		return -1;
	if (!folder_perm__visible(n))
		return folder__fail(&op, FOLDER_NOT_FOUND, NULL, "folder %lld not found",
		                    (long long)id);
	bool rename = change->title != NULL && strcmp(change->title, n->title) != 0;
	bool move = change->parent != 0 && change->parent != n->parent;
	if (rename || move || change->set_permissions) {
		if (n->is_system)
			return folder__fail(&op, FOLDER_FORBIDDEN, NULL,
			                    "system folders cannot be changed");
		if (!n->rights.admin)
			return folder__fail(&op, FOLDER_FORBIDDEN, NULL,
			                    "you need the admin flag to change folder %lld",
			                    (long long)id);
	}
	if (change->title != NULL && (why = title_problem(change->title)) != NULL)
		return folder__fail(&op, FOLDER_INVALID, "title", "%s", why);
	if (move && check_move(&op, n, change->parent) < 0)
		return -1;
	if (change->set_permissions && folder_perm__check_permissions(&op, n, change->permissions,
	                                                              change->permission_count) < 0)
		return -1;

	int64_t parent = move ? change->parent : n->parent;
	const char *title = rename ? change->title : n->title;
	if ((rename || move) && check_title_free(&op, parent, n->owner, title, n->id, now) < 0)
		return -1;
	/* Checks passed: from here on rows change. */
	if (rename || move || change->set_permissions)
		changed(&op, id);
	if (move) {
		changed(&op, n->parent);
		changed(&op, parent);
	}
	if (move && sql_run(conn, &err->sql, "UPDATE folder SET modified=? WHERE cid=? AND id=?",
	                    "iii", now, cid, n->parent) < 0)
		return folder__sql_failed(&op);
	if (change->set_permissions &&
	    folder_perm__replace_permissions(&op, n, change->permissions,
	                                     change->permission_count) < 0)
		return -1;
	if ((rename || move || change->set_permissions) &&
	    sql_run(conn, &err->sql,
	            "UPDATE folder SET title=?, parent=?, modified=? WHERE cid=? AND id=?", "siiii",
	            title, parent, now, cid, id) < 0)
		return folder__sql_failed(&op);
	if (folder_r == NULL)
		return 0;
	op_forget(&op);
	if (folder_tree__load_node(&op, id, &n) < 0)
		return -1;
	*folder_r = NULL;
	if (!folder_perm__visible(n))
		return 0; /* the caller took away their own right to see it */
	return folder_tree__build(&op, n, folder_r);
}

/* Whether uid may delete every file in folder f (own files with level 1, all with 2). */
static int files_deletable(struct op *op, struct node *f, bool *ok_r)
{
	int64_t others = 0, mine = 0;
	/* files, calendar objects and contacts alike */
#define CREATORS                                                                                   \
	"SELECT COUNT(*) FROM (SELECT created_by FROM infostore WHERE cid=? AND folder=? UNION "   \
	"ALL SELECT created_by FROM cal_object WHERE cid=? AND folder=? UNION ALL SELECT "         \
	"created_by FROM contact_object WHERE cid=? AND folder=?) t WHERE "
	if (sql_query_int64(op->conn, &op->err->sql, &others, CREATORS "created_by<>?", "iiiiiii",
	                    op->cid, f->id, op->cid, f->id, op->cid, f->id, op->uid) < 0 ||
	    sql_query_int64(op->conn, &op->err->sql, &mine, CREATORS "created_by=?", "iiiiiii",
	                    op->cid, f->id, op->cid, f->id, op->cid, f->id, op->uid) < 0)
		return folder__sql_failed(op);
	*ok_r = (others == 0 || folder_perm_may_delete(&f->rights, false)) &&
	        (mine == 0 || folder_perm_may_delete(&f->rights, true));
	return 0;
}

/* Deletes folder's files through the infostore (usage, versions, tombstones), collecting
   their locations. */
static int delete_files(struct op *op, int64_t folder, int64_t now, struct array *locations)
{
	int64_t *files, params[] = {op->cid, folder};
	size_t nfiles;
	if (folder__select_ids(op, "SELECT id FROM infostore WHERE cid=? AND folder=?", params, 2,
	                       &files, &nfiles) < 0)
		return -1;
	for (size_t i = 0; i < nfiles; i++) {
		if (infostore_delete(op->conn, op->cid, files[i], now, locations, &op->err->sql) <
		    0)
			return folder__sql_failed(op);
	}
	return 0;
}

/* Deletes folder's calendar objects and contacts, giving their objects back, and its revision
   and tombstones (sync state goes with the folder). */
static int delete_objects(struct op *op, int64_t folder)
{
	static const char *const sql[] = {
	    "DELETE FROM cal_object WHERE cid=? AND folder=?",
	    "DELETE FROM contact_object WHERE cid=? AND folder=?",
	    "DELETE FROM cal_folder_revision WHERE cid=? AND folder=?",
	    "DELETE FROM cal_tombstone WHERE cid=? AND folder=?",
	};
	int64_t objects = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		int64_t n = sql_run_changes(op->conn, &op->err->sql, sql[i], "ii", op->cid, folder);
		if (n < 0)
			return folder__sql_failed(op);
		objects += i < 2 ? n : 0;
	}
	if (objects > 0 && sql_run(op->conn, &op->err->sql,
	                           "UPDATE filestore_usage SET objects=objects-? WHERE cid=?", "ii",
	                           objects, op->cid) < 0)
		return folder__sql_failed(op);
	return 0;
}

int folder_delete(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t id,
                  const char ***locations_r, size_t *count_r, struct folder_changes *changes,
                  struct folder_error *err)
{
	struct op op;
	struct node *n;
	struct array locations;
	int64_t *ids, now = (int64_t)time(NULL);
	size_t nids;
	int height, ret = -1;
	op_init(&op, conn, pool, cid, uid, err);
	op.changes = changes;
	array_init(&locations, FILESTORE_LOCATION_SIZE);
	*locations_r = NULL;
	*count_r = 0;
	/* The usage row first, before any read: uploads take it first too, so an upload into a
	   folder of this subtree either committed before (and its file is deleted here) or waits
	   and then finds the folder gone; on MariaDB this also fixes the read snapshot after it. */
	if (sql_run(conn, &err->sql, "UPDATE filestore_usage SET used_bytes=used_bytes WHERE cid=?",
	            "i", cid) < 0) {
		folder__sql_failed(&op);
		goto out;
	}
	if (folder_tree__load_node(&op, id, &n) < 0)
		goto out;
	if (!folder_perm__visible(n)) {
		folder__fail(&op, FOLDER_NOT_FOUND, NULL, "folder %lld not found", (long long)id);
		goto out;
	}
	if (n->is_system || n->default_for != NULL || !n->rights.admin) {
		folder__fail(&op, FOLDER_FORBIDDEN, NULL,
		             n->is_system ? "system folders cannot be deleted"
		             : n->default_for != NULL
		                 ? "default folders cannot be deleted"
		                 : "you need the admin flag to delete this folder");
		goto out;
	}
	if (folder_tree__subtree(&op, n, &ids, &nids, &height) < 0)
		goto out;
	/* All or nothing: check the whole subtree before deleting anything. */
	for (size_t i = 0; i < nids; i++) {
		struct node *f;
		bool ok = false;
		if (folder_tree__load_node(&op, ids[i], &f) < 0)
			goto out;
		if (f != NULL && f->rights.admin && f->default_for == NULL &&
		    files_deletable(&op, f, &ok) < 0)
			goto out;
		if (!ok) {
			folder__fail(&op, FOLDER_FORBIDDEN, NULL,
			             "folder %lld holds subfolders or files you may not delete",
			             (long long)id);
			goto out;
		}
	}
	for (size_t i = 0; i < nids; i++)
		changed(&op, ids[i]);
	changed(&op, n->parent);
	for (size_t i = nids; i-- > 0;) {
		if (delete_files(&op, ids[i], now, &locations) < 0 ||
		    delete_objects(&op, ids[i]) < 0)
			goto out;
		if (sql_run(conn, &err->sql,
		            "DELETE FROM folder_permission WHERE cid=? AND folder=?", "ii", cid,
		            ids[i]) < 0 ||
		    sql_run(conn, &err->sql, "DELETE FROM folder WHERE cid=? AND id=?", "ii", cid,
		            ids[i]) < 0 ||
		    dav_props_delete(conn, cid, DAV_PROPS_FOLDER, ids[i], &err->sql) < 0 ||
		    sql_run(conn, &err->sql,
		            "INSERT INTO tombstone (cid, module, id, deleted) VALUES (?, ?, ?, ?)",
		            "isii", cid, FOLDER_TOMBSTONE_MODULE, ids[i], now) < 0) {
			folder__sql_failed(&op);
			goto out;
		}
	}
	if (sql_run(conn, &err->sql, "UPDATE folder SET modified=? WHERE cid=? AND id=?", "iii",
	            now, cid, n->parent) < 0 ||
	    sql_run(conn, &err->sql, "UPDATE filestore_usage SET objects=objects-? WHERE cid=?",
	            "ii", (int64_t)nids, cid) < 0) {
		folder__sql_failed(&op);
		goto out;
	}
	const char **locs = pool_calloc(pool, locations.count + 1, sizeof(*locs));
	for (size_t i = 0; i < locations.count; i++)
		locs[i] = pool_strdup(pool, array_idx(&locations, i));
	*locations_r = locs;
	*count_r = locations.count;
	ret = 0;
out:
	array_free(&locations);
	return ret;
}
