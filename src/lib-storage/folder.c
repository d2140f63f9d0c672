/* SPDX-License-Identifier: MIT */
/* Folder tree, OX permission resolution and folder changes (docs/internals/folders.md). */
#include "folder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "array.h"
#include "cache.h"
#include "filestore.h"
#include "infostore.h"
#include "pool.h"

#define LEVEL_MASK   0x7fu
#define NODE_BUCKETS 64

/* A folder row with the viewer's rights, loaded at most once per call. */
struct node {
	struct node *next; /* hash chain */
	bool exists;
	int64_t id, parent, owner;
	const char *module, *title, *default_for;
	bool is_system;
	int64_t created, modified;
	struct folder_permission *acl;
	size_t acl_count;
	struct folder_perm rights;
	int64_t tree_root; /* 0 = not known yet, -1 = the chain to a root is broken */
	unsigned mark;
};

/* One library call: the viewer, the folders it has loaded, where errors go. */
struct op {
	struct sql_conn *conn;
	struct pool *pool;
	int64_t cid, uid;
	/* Read through the caches (folder_access, folder_module only): nodes then hold just
	   what rights need, no title, dates or default_for. */
	bool cached;
	struct folder_changes *changes;
	int64_t *groups;
	size_t group_count;
	bool groups_loaded;
	struct node *buckets[NODE_BUCKETS];
	/* Folders owned by or granted to the viewer (loaded on demand). */
	struct node **cand;
	size_t cand_count;
	bool cand_loaded;
	unsigned mark_serial;
	struct folder_error *err;
};

/* The folder cache's value: what compute_rights() and folder_module() need. Stored up to the
   last used acl entry. */
struct cached_folder {
	int64_t owner;
	bool is_system;
	char module[FOLDER_MODULE_MAX];
	uint32_t acl_count;
	struct folder_permission acl[FOLDER_CACHE_ACL_MAX];
};

/* The group cache's value: one user's groups. */
struct cached_groups {
	uint32_t count;
	int64_t ids[FOLDER_CACHE_GROUPS_MAX];
};

/* Set once before threads start (folder_set_caches, folder_set_change_hook). */
static struct cache *folder_cache, *group_cache;
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

/* --- permission bits --- */

uint32_t folder_perm_pack(const struct folder_perm *perm)
{
	return FOLDER_BITS(perm->folder & LEVEL_MASK, perm->read & LEVEL_MASK,
	                   perm->write & LEVEL_MASK, perm->del & LEVEL_MASK, perm->admin);
}

void folder_perm_unpack(uint32_t bits, struct folder_perm *perm_r)
{
	perm_r->folder = bits & LEVEL_MASK;
	perm_r->read = (bits >> 7) & LEVEL_MASK;
	perm_r->write = (bits >> 14) & LEVEL_MASK;
	perm_r->del = (bits >> 21) & LEVEL_MASK;
	perm_r->admin = (bits & FOLDER_BITS_ADMIN) != 0;
}

static bool folder_level_known(unsigned v)
{
	return v == 0 || v == 1 || v == 2 || v == 4 || v == 64;
}

static bool object_level_known(unsigned v)
{
	return v == 0 || v == 1 || v == 2 || v == 64;
}

int folder_bits_check(int64_t bits, const char **error_r)
{
	struct folder_perm p;
	if (bits < 0 || bits > (int64_t)(FOLDER_BITS_ADMIN | (FOLDER_BITS_ADMIN - 1))) {
		*error_r = "bits must be between 0 and 536870911 (nothing above bit 28)";
		return -1;
	}
	folder_perm_unpack((uint32_t)bits, &p);
	if (!folder_level_known(p.folder)) {
		*error_r = "the folder level (bits 0-6) must be 0, 1, 2, 4 or 64";
		return -1;
	}
	if (!object_level_known(p.read) || !object_level_known(p.write) ||
	    !object_level_known(p.del)) {
		*error_r = "the read, write and delete levels must each be 0, 1, 2 or 64";
		return -1;
	}
	return 0;
}

bool folder_perm_may_create(const struct folder_perm *perm)
{
	return perm->folder >= FOLDER_LEVEL_CREATE_OBJECTS;
}

static bool object_level_allows(unsigned level, bool own)
{
	return level >= FOLDER_LEVEL_ALL || (own && level >= FOLDER_LEVEL_OWN);
}

bool folder_perm_may_read(const struct folder_perm *perm, bool own)
{
	return object_level_allows(perm->read, own);
}

bool folder_perm_may_write(const struct folder_perm *perm, bool own)
{
	return object_level_allows(perm->write, own);
}

bool folder_perm_may_delete(const struct folder_perm *perm, bool own)
{
	return object_level_allows(perm->del, own);
}

static void perm_max(struct folder_perm *acc, const struct folder_perm *p)
{
	if (p->folder > acc->folder)
		acc->folder = p->folder;
	if (p->read > acc->read)
		acc->read = p->read;
	if (p->write > acc->write)
		acc->write = p->write;
	if (p->del > acc->del)
		acc->del = p->del;
	acc->admin = acc->admin || p->admin;
}

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

/* --- caches and announcements --- */

void folder_set_caches(struct cache *folders, struct cache *groups)
{
	folder_cache = folders;
	group_cache = groups;
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
	else if (folder_cache != NULL && folder_id == 0)
		cache_drop_context(folder_cache, cid);
	else if (folder_cache != NULL)
		cache_drop(folder_cache, cid, folder_id);
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

static int fail(struct op *op, enum folder_status status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct op *op, enum folder_status status, const char *field, const char *fmt, ...)
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
static int sql_failed(struct op *op)
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

static void *grow(struct pool *pool, void *old, size_t count, size_t *cap, size_t elem)
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
	ch->ids = grow(op->pool, ch->ids, ch->count, &ch->cap, sizeof(*ch->ids));
	ch->ids[ch->count++] = id;
}

static char *col_text(struct pool *pool, struct sql_stmt *st, unsigned col)
{
	const char *s = sql_col_text(st, col);
	return s == NULL ? NULL : pool_strdup(pool, s);
}

/* First columns of every row of sql (params: nparams int64 values) as ids. */
static int select_ids(struct op *op, const char *sql, const int64_t *params, unsigned nparams,
                      int64_t **ids_r, size_t *count_r)
{
	struct sql_stmt *st = sql_prepare(op->conn, sql, &op->err->sql);
	int64_t *ids = NULL;
	size_t count = 0, cap = 0;
	int r;
	if (st == NULL)
		return sql_failed(op);
	for (unsigned i = 0; i < nparams; i++)
		sql_bind_int64(st, i + 1, params[i]);
	while ((r = sql_step(st, &op->err->sql)) > 0) {
		ids = grow(op->pool, ids, count, &cap, sizeof(*ids));
		ids[count++] = sql_col_int64(st, 0);
	}
	sql_stmt_done(&st);
	if (r < 0)
		return sql_failed(op);
	*ids_r = ids;
	*count_r = count;
	return 0;
}

/* --- loading folders and computing rights --- */

static bool cached_groups(struct op *op)
{
	struct cached_groups g;
	size_t size;
	if (cache_get(group_cache, op->cid, op->uid, &g, &size) == 0)
		return false;
	op->group_count = g.count;
	op->groups = pool_alloc(op->pool, (g.count + 1) * sizeof(*op->groups));
	memcpy(op->groups, g.ids, g.count * sizeof(*op->groups));
	return true;
}

static int load_groups(struct op *op)
{
	if (op->groups_loaded)
		return 0;
	bool use_cache = op->cached && group_cache != NULL;
	if (use_cache && cached_groups(op)) {
		op->groups_loaded = true;
		return 0;
	}
	uint64_t gen = use_cache ? cache_generation(group_cache) : 0;
	int64_t params[] = {op->cid, op->uid};
	if (select_ids(op, "SELECT group_id FROM group_member WHERE cid=? AND user_id=?", params, 2,
	               &op->groups, &op->group_count) < 0)
		return -1;
	op->groups_loaded = true;
	if (use_cache && op->group_count <= FOLDER_CACHE_GROUPS_MAX) {
		struct cached_groups g = {.count = (uint32_t)op->group_count};
		if (op->group_count > 0)
			memcpy(g.ids, op->groups, op->group_count * sizeof(*g.ids));
		cache_put(group_cache, op->cid, op->uid, &g,
		          offsetof(struct cached_groups, ids) + g.count * sizeof(*g.ids), gen);
	}
	return 0;
}

static bool entry_applies(const struct op *op, const struct folder_permission *p)
{
	if (!p->group)
		return p->entity == op->uid;
	if (p->entity == FOLDER_GROUP_ALL_USERS)
		return true;
	for (size_t i = 0; i < op->group_count; i++) {
		if (op->groups[i] == p->entity)
			return true;
	}
	return false;
}

/* The one place where effective rights are decided. */
static void compute_rights(const struct op *op, struct node *n)
{
	struct folder_perm acc = {0}, p;
	if (!n->is_system && n->owner == op->uid)
		folder_perm_unpack(FOLDER_BITS_OWNER, &acc);
	for (size_t i = 0; i < n->acl_count; i++) {
		if (!entry_applies(op, &n->acl[i]))
			continue;
		folder_perm_unpack(n->acl[i].bits, &p);
		perm_max(&acc, &p);
	}
	n->rights = acc;
}

static bool visible(const struct node *n)
{
	return n != NULL && n->exists && n->rights.folder >= FOLDER_LEVEL_SEE;
}

static int load_acl(struct op *op, struct node *n)
{
	struct sql_stmt *st = sql_prepare(op->conn,
	                                  "SELECT entity, is_group, bits FROM folder_permission "
	                                  "WHERE cid=? AND folder=? ORDER BY is_group, entity",
	                                  &op->err->sql);
	size_t cap = 0;
	int r;
	if (st == NULL)
		return sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, n->id);
	while ((r = sql_step(st, &op->err->sql)) > 0) {
		n->acl = grow(op->pool, n->acl, n->acl_count, &cap, sizeof(*n->acl));
		struct folder_permission *p = &n->acl[n->acl_count++];
		p->entity = sql_col_int64(st, 0);
		p->group = sql_col_int64(st, 1) != 0;
		p->bits = (uint32_t)sql_col_int64(st, 2);
	}
	sql_stmt_done(&st);
	return r < 0 ? sql_failed(op) : 0;
}

/* Fills n from the folder cache; false on a miss. */
static bool cached_node(struct op *op, struct node *n)
{
	struct cached_folder cf;
	size_t size;
	if (cache_get(folder_cache, op->cid, n->id, &cf, &size) == 0)
		return false;
	n->exists = true;
	n->owner = cf.owner;
	n->is_system = cf.is_system;
	n->module = pool_strdup(op->pool, cf.module);
	n->title = "";
	n->acl_count = cf.acl_count;
	n->acl = pool_alloc(op->pool, (cf.acl_count + 1) * sizeof(*n->acl));
	memcpy(n->acl, cf.acl, cf.acl_count * sizeof(*n->acl));
	return true;
}

static void cache_node(const struct node *n, int64_t cid, uint64_t gen)
{
	struct cached_folder cf;
	if (n->acl_count > FOLDER_CACHE_ACL_MAX || strlen(n->module) >= sizeof(cf.module))
		return;
	memset(&cf, 0, sizeof(cf));
	cf.owner = n->owner;
	cf.is_system = n->is_system;
	snprintf(cf.module, sizeof(cf.module), "%s", n->module);
	cf.acl_count = (uint32_t)n->acl_count;
	if (n->acl_count > 0)
		memcpy(cf.acl, n->acl, n->acl_count * sizeof(*cf.acl));
	cache_put(folder_cache, cid, n->id, &cf,
	          offsetof(struct cached_folder, acl) + n->acl_count * sizeof(*cf.acl), gen);
}

/* Reads n's row and permissions from SQL; n->exists tells whether there is one. */
static int read_node(struct op *op, struct node *n)
{
	struct sql_stmt *st = sql_prepare(op->conn,
	                                  "SELECT parent, owner, module, title, is_system, "
	                                  "default_for, created, modified FROM folder WHERE cid=? "
	                                  "AND id=?",
	                                  &op->err->sql);
	if (st == NULL)
		return sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, n->id);
	int r = sql_step(st, &op->err->sql);
	if (r > 0) {
		n->exists = true;
		n->parent = sql_col_int64(st, 0);
		n->owner = sql_col_int64(st, 1);
		n->module = col_text(op->pool, st, 2);
		n->title = col_text(op->pool, st, 3);
		n->is_system = sql_col_int64(st, 4) != 0;
		n->default_for = col_text(op->pool, st, 5);
		n->created = sql_col_int64(st, 6);
		n->modified = sql_col_int64(st, 7);
	}
	sql_stmt_done(&st);
	if (r < 0)
		return sql_failed(op);
	if (!n->exists)
		return 0;
	if (n->module == NULL)
		n->module = "";
	if (n->title == NULL)
		n->title = "";
	return load_acl(op, n);
}

/* 1 and *node_r set, 0 no such folder (*node_r NULL), -1 error. */
static int load_node(struct op *op, int64_t id, struct node **node_r)
{
	size_t b = (size_t)((uint64_t)id % NODE_BUCKETS);
	*node_r = NULL;
	for (struct node *n = op->buckets[b]; n != NULL; n = n->next) {
		if (n->id == id) {
			*node_r = n->exists ? n : NULL;
			return n->exists ? 1 : 0;
		}
	}
	if (load_groups(op) < 0)
		return -1;
	struct node *n = pool_calloc(op->pool, 1, sizeof(*n));
	n->id = id;
	bool use_cache = op->cached && folder_cache != NULL;
	if (!use_cache || !cached_node(op, n)) {
		/* Taken before the reads: a change that commits after them drops after this, so
		   cache_put() refuses what they return. Unknown folders are not cached. */
		uint64_t gen = use_cache ? cache_generation(folder_cache) : 0;
		if (read_node(op, n) < 0)
			return -1;
		if (use_cache && n->exists)
			cache_node(n, op->cid, gen);
	}
	if (n->exists)
		compute_rights(op, n);
	n->next = op->buckets[b];
	op->buckets[b] = n;
	*node_r = n->exists ? n : NULL;
	return n->exists ? 1 : 0;
}

/* The system root at the top of n's chain (n itself for a root); -1 if the chain is broken
   (a missing parent or a loop, which only damaged data can have). depth_r (may be NULL) gets
   how many folders lie between the root and n, n included. */
static int tree_root(struct op *op, struct node *n, int64_t *root_r, int *depth_r)
{
	struct node *cur = n;
	int depth = 0;
	while (cur->id > FOLDER_ID_MAX_SYSTEM) {
		struct node *p;
		if (++depth > FOLDER_DEPTH_MAX + 1) {
			cur = NULL;
			break;
		}
		int r = load_node(op, cur->parent, &p);
		if (r < 0)
			return -1;
		cur = p;
		if (cur == NULL)
			break;
	}
	*root_r = cur == NULL ? -1 : cur->id;
	if (depth_r != NULL)
		*depth_r = depth;
	n->tree_root = *root_r;
	return 0;
}

static int known_root(struct op *op, struct node *n, int64_t *root_r)
{
	if (n->tree_root != 0) {
		*root_r = n->tree_root;
		return 0;
	}
	return tree_root(op, n, root_r, NULL);
}

/* Where the viewer's tree shows n: below its stored parent when the viewer sees that parent,
   otherwise at the top of the tree it belongs to (another user's private folders hang below
   that user's node of the shared root). */
static int place(struct op *op, struct node *n, int64_t *view_parent_r, int64_t *view_user_r)
{
	int64_t root;
	*view_parent_r = 0;
	*view_user_r = 0;
	if (n->is_system)
		return 0;
	if (known_root(op, n, &root) < 0)
		return -1;
	if (n->parent > FOLDER_ID_MAX_SYSTEM) {
		struct node *p;
		if (load_node(op, n->parent, &p) < 0)
			return -1;
		if (visible(p)) {
			*view_parent_r = p->id;
			return 0;
		}
	}
	if (root == FOLDER_ID_PUBLIC)
		*view_parent_r = FOLDER_ID_PUBLIC;
	else if (n->owner == op->uid)
		*view_parent_r = root == FOLDER_ID_FILES ? FOLDER_ID_FILES : FOLDER_ID_PRIVATE;
	else
		*view_user_r = n->owner;
	return 0;
}

static int type_of(struct op *op, struct node *n, enum folder_type *type_r)
{
	int64_t root;
	if (n->is_system) {
		*type_r = FOLDER_TYPE_SYSTEM;
		return 0;
	}
	if (known_root(op, n, &root) < 0)
		return -1;
	*type_r = root == FOLDER_ID_PUBLIC ? FOLDER_TYPE_PUBLIC
	          : n->owner == op->uid    ? FOLDER_TYPE_PRIVATE
	                                   : FOLDER_TYPE_SHARED;
	return 0;
}

/* Every folder the viewer owns or holds a visible grant on, except the roots: the only
   folders that can sit at the top of the viewer's tree. */
static int load_candidates(struct op *op)
{
	if (op->cand_loaded)
		return 0;
	int64_t *owned, *granted;
	size_t nowned, ngranted, cap = 0;
	int64_t p1[] = {op->cid, op->uid};
	int64_t p2[] = {op->cid, op->uid, op->cid, op->uid};
	if (select_ids(op, "SELECT id FROM folder WHERE cid=? AND owner=? AND is_system=0", p1, 2,
	               &owned, &nowned) < 0 ||
	    select_ids(op,
	               "SELECT DISTINCT folder FROM folder_permission WHERE cid=? AND (bits & 127) "
	               "> 0 AND ((is_group=0 AND entity=?) OR (is_group=1 AND (entity=0 OR entity "
	               "IN (SELECT group_id FROM group_member WHERE cid=? AND user_id=?))))",
	               p2, 4, &granted, &ngranted) < 0)
		return -1;
	unsigned mark = ++op->mark_serial;
	for (size_t i = 0; i < nowned + ngranted; i++) {
		int64_t id = i < nowned ? owned[i] : granted[i - nowned];
		struct node *n;
		if (id <= FOLDER_ID_MAX_SYSTEM)
			continue;
		if (load_node(op, id, &n) < 0)
			return -1;
		if (!visible(n) || n->is_system || n->mark == mark)
			continue;
		n->mark = mark;
		op->cand = grow(op->pool, op->cand, op->cand_count, &cap, sizeof(*op->cand));
		op->cand[op->cand_count++] = n;
	}
	op->cand_loaded = true;
	return 0;
}

/* Candidates placed at (view_parent, view_user); only_count stops at the first. */
static int tops_at(struct op *op, int64_t view_parent, int64_t view_user, bool only_count,
                   struct node ***nodes_r, size_t *count_r)
{
	struct node **out = NULL;
	size_t count = 0, cap = 0;
	if (load_candidates(op) < 0)
		return -1;
	for (size_t i = 0; i < op->cand_count; i++) {
		int64_t vp, vu;
		if (place(op, op->cand[i], &vp, &vu) < 0)
			return -1;
		if (vp != view_parent || vu != view_user)
			continue;
		if (only_count) {
			count = 1;
			break;
		}
		out = grow(op->pool, out, count, &cap, sizeof(*out));
		out[count++] = op->cand[i];
	}
	if (nodes_r != NULL)
		*nodes_r = out;
	*count_r = count;
	return 0;
}

/* Visible stored children of a user folder. */
static int visible_children(struct op *op, struct node *parent, bool only_count,
                            struct node ***nodes_r, size_t *count_r)
{
	int64_t *ids;
	size_t nids, count = 0, cap = 0;
	struct node **out = NULL;
	int64_t params[] = {op->cid, parent->id};
	if (select_ids(op, "SELECT id FROM folder WHERE cid=? AND parent=?", params, 2, &ids,
	               &nids) < 0)
		return -1;
	for (size_t i = 0; i < nids; i++) {
		struct node *n;
		if (load_node(op, ids[i], &n) < 0)
			return -1;
		if (!visible(n))
			continue;
		if (n->tree_root == 0 && parent->tree_root != 0)
			n->tree_root = parent->tree_root;
		if (only_count) {
			count = 1;
			break;
		}
		out = grow(op->pool, out, count, &cap, sizeof(*out));
		out[count++] = n;
	}
	if (nodes_r != NULL)
		*nodes_r = out;
	*count_r = count;
	return 0;
}

/* Distinct owners of the candidates placed below the shared root. */
static int sharer_ids(struct op *op, int64_t **uids_r, size_t *count_r)
{
	int64_t *uids = NULL;
	size_t count = 0, cap = 0;
	if (load_candidates(op) < 0)
		return -1;
	for (size_t i = 0; i < op->cand_count; i++) {
		int64_t vp, vu;
		if (place(op, op->cand[i], &vp, &vu) < 0)
			return -1;
		if (vu == 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < count && !seen; j++)
			seen = uids[j] == vu;
		if (seen)
			continue;
		uids = grow(op->pool, uids, count, &cap, sizeof(*uids));
		uids[count++] = vu;
	}
	*uids_r = uids;
	*count_r = count;
	return 0;
}

static int has_subfolders(struct op *op, struct node *n, bool *has_r)
{
	size_t count = 0;
	int r;
	if (n->id == FOLDER_ID_SHARED) {
		int64_t *uids;
		r = sharer_ids(op, &uids, &count);
	} else if (n->id <= FOLDER_ID_MAX_SYSTEM) {
		r = tops_at(op, n->id, 0, true, NULL, &count);
	} else {
		r = visible_children(op, n, true, NULL, &count);
	}
	*has_r = count > 0;
	return r;
}

static int build(struct op *op, struct node *n, struct folder **folder_r)
{
	struct folder *f = pool_calloc(op->pool, 1, sizeof(*f));
	f->id = n->id;
	f->parent = n->parent;
	f->owner = n->owner;
	f->module = n->module;
	f->title = n->title;
	f->default_for = n->default_for;
	f->is_system = n->is_system;
	f->created = n->created;
	f->modified = n->modified;
	f->rights = n->rights;
	f->permissions = n->acl;
	f->permission_count = n->acl_count;
	if (place(op, n, &f->view_parent, &f->view_parent_user) < 0 ||
	    type_of(op, n, &f->type) < 0 || has_subfolders(op, n, &f->has_subfolders) < 0)
		return -1;
	*folder_r = f;
	return 0;
}

static int cmp_folder(const void *a, const void *b)
{
	const struct folder *x = *(struct folder *const *)a, *y = *(struct folder *const *)b;
	int c = strcasecmp(x->title, y->title);
	if (c == 0)
		c = strcmp(x->title, y->title);
	return c != 0 ? c : (x->id > y->id) - (x->id < y->id);
}

static int build_list(struct op *op, struct node **nodes, size_t count, bool sort,
                      struct folder ***folders_r, size_t *count_r)
{
	struct folder **out = pool_calloc(op->pool, count + 1, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		if (build(op, nodes[i], &out[i]) < 0)
			return -1;
	}
	if (sort && count > 1)
		qsort(out, count, sizeof(*out), cmp_folder);
	*folders_r = out;
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
	int r = load_node(&op, folder_id, &n);
	if (r > 0 && visible(n))
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
	if (folder_cache != NULL && cache_get(folder_cache, cid, folder_id, &cf, &size) > 0) {
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
	if (load_node(&op, id, &n) < 0)
		return -1;
	if (!visible(n))
		return fail(&op, FOLDER_NOT_FOUND, NULL, "folder %lld not found", (long long)id);
	return build(&op, n, folder_r);
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
			if (load_node(&op, id, &p) < 0)
				return -1;
			if (visible(p))
				roots[count++] = p;
		}
		return build_list(&op, roots, count, false, folders_r, count_r);
	}
	if (load_node(&op, parent, &p) < 0)
		return -1;
	if (!visible(p))
		return fail(&op, FOLDER_NOT_FOUND, "parent", "folder %lld not found",
		            (long long)parent);
	int r;
	if (parent == FOLDER_ID_SHARED) {
		r = 0; /* its children are the sharer nodes: folder_list_sharers */
	} else if (parent <= FOLDER_ID_MAX_SYSTEM) {
		r = tops_at(&op, parent, 0, false, &nodes, &count);
	} else {
		int64_t root;
		r = known_root(&op, p, &root) < 0 ? -1
		                                  : visible_children(&op, p, false, &nodes, &count);
	}
	if (r < 0)
		return -1;
	return build_list(&op, nodes, count, true, folders_r, count_r);
}

static int sharer_name(struct op *op, int64_t uid, const char **name_r)
{
	struct sql_stmt *st = sql_prepare(
	    op->conn, "SELECT display_name FROM users WHERE cid=? AND id=?", &op->err->sql);
	if (st == NULL)
		return sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, uid);
	int r = sql_step(st, &op->err->sql);
	*name_r = r > 0 ? col_text(op->pool, st, 0) : NULL;
	sql_stmt_done(&st);
	if (r < 0)
		return sql_failed(op);
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
	if (sharer_ids(&op, &uids, &count) < 0)
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
	if (owner != uid && owner > 0 && tops_at(&op, 0, owner, false, &nodes, &count) < 0)
		return -1;
	if (count == 0)
		return fail(&op, FOLDER_NOT_FOUND, NULL, "folder u:%lld not found",
		            (long long)owner);
	if (sharer_r != NULL) {
		sharer_r->uid = owner;
		if (sharer_name(&op, owner, &sharer_r->display_name) < 0)
			return -1;
	}
	return build_list(&op, nodes, count, true, folders_r, count_r);
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
		return fail(op, FOLDER_INVALID, "module", "module is required below folder %lld",
		            (long long)parent->id);
	return fail(op, FOLDER_INVALID, "module", "module %s (parent folder %lld is %s)", why,
	            (long long)parent->id, parent->module);
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
		return sql_failed(op);
	struct sql_stmt *st = sql_prepare(
	    op->conn,
	    mariadb ? "SELECT id, owner, title FROM folder WHERE cid=? AND parent=? FOR UPDATE"
	            : "SELECT id, owner, title FROM folder WHERE cid=? AND parent=?",
	    &op->err->sql);
	if (st == NULL)
		return sql_failed(op);
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
		return fail(op, FOLDER_CONFLICT, "title",
		            "a folder titled \"%s\" already exists in folder %lld", title,
		            (long long)parent);
	return r < 0 ? sql_failed(op) : 0;
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

static int insert_permission(struct sql_conn *conn, int64_t cid, int64_t folder,
                             const struct folder_permission *p, struct sql_error *err)
{
	return sql_run(conn, err,
	               "INSERT INTO folder_permission (cid, folder, entity, is_group, bits) VALUES "
	               "(?, ?, ?, ?, ?)",
	               "iiiii", cid, folder, p->entity, (int64_t)(p->group ? 1 : 0),
	               (int64_t)p->bits);
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
		    insert_permission(conn, cid, system_roots[i].id, &all, err) < 0)
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
		    insert_permission(conn, cid, id, &owner, err) < 0)
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
		return sql_failed(&op);
	if (load_node(&op, parent, &p) < 0)
		return -1;
	if (!visible(p))
		return fail(&op, FOLDER_NOT_FOUND, "parent", "folder %lld not found",
		            (long long)parent);
	if (p->rights.folder < FOLDER_LEVEL_CREATE_SUBFOLDERS)
		return fail(&op, FOLDER_FORBIDDEN, NULL,
		            "you may not create subfolders in folder %lld", (long long)parent);
	if ((why = title_problem(title)) != NULL)
		return fail(&op, FOLDER_INVALID, "title", "%s", why);
	if (module != NULL && !folder_module_valid(module))
		return fail(&op, FOLDER_INVALID, "module",
		            "module must be infostore, contacts, calendar or tasks");
	const char *m = module_below(p, module);
	if (m == NULL)
		return module_refused(&op, p, module);
	if (tree_root(&op, p, &root, &depth) < 0)
		return -1;
	if (depth + 1 > FOLDER_DEPTH_MAX)
		return fail(&op, FOLDER_INVALID, "parent", "folders nest at most %d deep",
		            FOLDER_DEPTH_MAX);
	if (check_title_free(&op, parent, uid, title, 0, now) < 0)
		return -1;
	if (over == INFOSTORE_OVER_OBJECTS)
		return fail(&op, FOLDER_LIMIT, NULL,
		            "the context holds its limit of %lld objects (file versions and "
		            "folders)",
		            (long long)max_objects);
	if (next_id(conn, cid, &id, &err->sql) < 0 ||
	    insert_folder(conn, cid, id, parent, uid, m, title, false, NULL, now, &err->sql) < 0)
		return sql_failed(&op);
	changed(&op, id);
	changed(&op, parent);
	struct folder_permission owner = {uid, false, FOLDER_BITS_OWNER};
	if (insert_permission(conn, cid, id, &owner, &err->sql) < 0)
		return sql_failed(&op);
	/* Below a user folder the new folder is shared like its parent. */
	for (size_t i = 0; !p->is_system && i < p->acl_count; i++) {
		if (!p->acl[i].group && p->acl[i].entity == uid)
			continue;
		if (insert_permission(conn, cid, id, &p->acl[i], &err->sql) < 0)
			return sql_failed(&op);
	}
	op_forget(&op);
	if (load_node(&op, id, &n) < 0)
		return -1;
	return build(&op, n, folder_r);
}

static int entity_exists(struct op *op, const struct folder_permission *p, bool *exists_r)
{
	int64_t one;
	if (p->group && p->entity == FOLDER_GROUP_ALL_USERS) {
		*exists_r = true;
		return 0;
	}
	int r = sql_query_int64(op->conn, &op->err->sql, &one,
	                        p->group ? "SELECT 1 FROM user_group WHERE cid=? AND id=?"
	                                 : "SELECT 1 FROM users WHERE cid=? AND id=?",
	                        "ii", op->cid, p->entity);
	if (r < 0)
		return sql_failed(op);
	*exists_r = r > 0;
	return 0;
}

/* Checks a new permission list for n; all entries valid, known and unique. */
static int check_permissions(struct op *op, const struct node *n,
                             const struct folder_permission *list, size_t count)
{
	const char *why;
	if (count > FOLDER_PERMISSIONS_MAX)
		return fail(op, FOLDER_INVALID, "permissions", "at most %d permission entries",
		            FOLDER_PERMISSIONS_MAX);
	for (size_t i = 0; i < count; i++) {
		const struct folder_permission *p = &list[i];
		bool exists;
		if (folder_bits_check(p->bits, &why) < 0)
			return fail(op, FOLDER_INVALID, "permissions", "permissions[%zu]: %s", i,
			            why);
		if (p->entity < 0 || (!p->group && p->entity == 0))
			return fail(op, FOLDER_INVALID, "permissions",
			            "permissions[%zu]: entity must be a user or group id", i);
		for (size_t j = 0; j < i; j++) {
			if (list[j].entity == p->entity && list[j].group == p->group)
				return fail(op, FOLDER_INVALID, "permissions",
				            "permissions[%zu]: %s %lld is listed twice", i,
				            p->group ? "group" : "user", (long long)p->entity);
		}
		if (!p->group && p->entity == n->owner && p->bits != FOLDER_BITS_OWNER)
			return fail(
			    op, FOLDER_INVALID, "permissions",
			    "permissions[%zu]: the owner (user %lld) always keeps full rights "
			    "(bits %lu)",
			    i, (long long)n->owner, (unsigned long)FOLDER_BITS_OWNER);
		if (entity_exists(op, p, &exists) < 0)
			return -1;
		if (!exists)
			return fail(op, FOLDER_INVALID, "permissions",
			            "permissions[%zu]: %s %lld does not exist in this context", i,
			            p->group ? "group" : "user", (long long)p->entity);
	}
	return 0;
}

static int replace_permissions(struct op *op, const struct node *n,
                               const struct folder_permission *list, size_t count)
{
	struct sql_error *se = &op->err->sql;
	bool owner_listed = false;
	if (sql_run(op->conn, se, "DELETE FROM folder_permission WHERE cid=? AND folder=?", "ii",
	            op->cid, n->id) < 0)
		return sql_failed(op);
	for (size_t i = 0; i < count; i++) {
		owner_listed = owner_listed || (!list[i].group && list[i].entity == n->owner);
		if (insert_permission(op->conn, op->cid, n->id, &list[i], se) < 0)
			return sql_failed(op);
	}
	struct folder_permission owner = {n->owner, false, FOLDER_BITS_OWNER};
	if (!owner_listed && insert_permission(op->conn, op->cid, n->id, &owner, se) < 0)
		return sql_failed(op);
	return 0;
}

/* Every folder of the subtree below n (n first, parents before children); height_r gets the
   subtree's height (1 = n has no subfolders). */
static int subtree(struct op *op, struct node *n, int64_t **ids_r, size_t *count_r, int *height_r)
{
	int64_t *ids = NULL;
	size_t count = 0, cap = 0, level_start = 0;
	int height = 1;
	ids = grow(op->pool, ids, count, &cap, sizeof(*ids));
	ids[count++] = n->id;
	while (level_start < count) {
		size_t level_end = count;
		for (size_t i = level_start; i < level_end; i++) {
			int64_t *kids, params[] = {op->cid, ids[i]};
			size_t nkids;
			if (select_ids(op, "SELECT id FROM folder WHERE cid=? AND parent=?", params,
			               2, &kids, &nkids) < 0)
				return -1;
			for (size_t k = 0; k < nkids; k++) {
				ids = grow(op->pool, ids, count, &cap, sizeof(*ids));
				ids[count++] = kids[k];
			}
		}
		if (count > level_end)
			height++;
		level_start = level_end;
		if (height > FOLDER_DEPTH_MAX + 1)
			return fail(op, FOLDER_SQL, NULL, "folder %lld: subtree deeper than %d",
			            (long long)n->id, FOLDER_DEPTH_MAX);
	}
	*ids_r = ids;
	*count_r = count;
	*height_r = height;
	return 0;
}

static int check_move(struct op *op, struct node *n, int64_t parent)
{
	struct node *target;
	int64_t root, *ids;
	size_t nids;
	int depth, height;
	if (n->default_for != NULL)
		return fail(op, FOLDER_FORBIDDEN, NULL, "default folders cannot be moved");
	if (load_node(op, parent, &target) < 0)
		return -1;
	if (!visible(target))
		return fail(op, FOLDER_NOT_FOUND, "parent", "folder %lld not found",
		            (long long)parent);
	if (target->rights.folder < FOLDER_LEVEL_CREATE_SUBFOLDERS)
		return fail(op, FOLDER_FORBIDDEN, NULL,
		            "you may not create subfolders in folder %lld", (long long)parent);
	/* No cycles: the target must not be n or lie below it. */
	for (struct node *cur = target; cur != NULL && cur->id > FOLDER_ID_MAX_SYSTEM;) {
		if (cur->id == n->id)
			return fail(op, FOLDER_INVALID, "parent",
			            "a folder cannot be moved into itself or its own subfolder");
		if (load_node(op, cur->parent, &cur) < 0)
			return -1;
	}
	if (module_below(target, n->module) == NULL)
		return module_refused(op, target, n->module);
	if (tree_root(op, target, &root, &depth) < 0 || subtree(op, n, &ids, &nids, &height) < 0)
		return -1;
	if (depth + height > FOLDER_DEPTH_MAX)
		return fail(op, FOLDER_INVALID, "parent", "folders nest at most %d deep",
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
	if (load_node(&op, id, &n) < 0)
		return -1;
	if (!visible(n))
		return fail(&op, FOLDER_NOT_FOUND, NULL, "folder %lld not found", (long long)id);
	bool rename = change->title != NULL && strcmp(change->title, n->title) != 0;
	bool move = change->parent != 0 && change->parent != n->parent;
	if (rename || move || change->set_permissions) {
		if (n->is_system)
			return fail(&op, FOLDER_FORBIDDEN, NULL,
			            "system folders cannot be changed");
		if (!n->rights.admin)
			return fail(&op, FOLDER_FORBIDDEN, NULL,
			            "you need the admin flag to change folder %lld", (long long)id);
	}
	if (change->title != NULL && (why = title_problem(change->title)) != NULL)
		return fail(&op, FOLDER_INVALID, "title", "%s", why);
	if (move && check_move(&op, n, change->parent) < 0)
		return -1;
	if (change->set_permissions &&
	    check_permissions(&op, n, change->permissions, change->permission_count) < 0)
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
		return sql_failed(&op);
	if (change->set_permissions &&
	    replace_permissions(&op, n, change->permissions, change->permission_count) < 0)
		return -1;
	if ((rename || move || change->set_permissions) &&
	    sql_run(conn, &err->sql,
	            "UPDATE folder SET title=?, parent=?, modified=? WHERE cid=? AND id=?", "siiii",
	            title, parent, now, cid, id) < 0)
		return sql_failed(&op);
	if (folder_r == NULL)
		return 0;
	op_forget(&op);
	if (load_node(&op, id, &n) < 0)
		return -1;
	*folder_r = NULL;
	if (!visible(n))
		return 0; /* the caller took away their own right to see it */
	return build(&op, n, folder_r);
}

/* Whether uid may delete every file in folder f (own files with level 1, all with 2). */
static int files_deletable(struct op *op, struct node *f, bool *ok_r)
{
	int64_t others = 0, mine = 0;
	if (sql_query_int64(op->conn, &op->err->sql, &others,
	                    "SELECT COUNT(*) FROM infostore WHERE cid=? AND folder=? AND "
	                    "created_by<>?",
	                    "iii", op->cid, f->id, op->uid) < 0 ||
	    sql_query_int64(op->conn, &op->err->sql, &mine,
	                    "SELECT COUNT(*) FROM infostore WHERE cid=? AND folder=? AND "
	                    "created_by=?",
	                    "iii", op->cid, f->id, op->uid) < 0)
		return sql_failed(op);
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
	if (select_ids(op, "SELECT id FROM infostore WHERE cid=? AND folder=?", params, 2, &files,
	               &nfiles) < 0)
		return -1;
	for (size_t i = 0; i < nfiles; i++) {
		if (infostore_delete(op->conn, op->cid, files[i], now, locations, &op->err->sql) <
		    0)
			return sql_failed(op);
	}
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
		sql_failed(&op);
		goto out;
	}
	if (load_node(&op, id, &n) < 0)
		goto out;
	if (!visible(n)) {
		fail(&op, FOLDER_NOT_FOUND, NULL, "folder %lld not found", (long long)id);
		goto out;
	}
	if (n->is_system || n->default_for != NULL || !n->rights.admin) {
		fail(&op, FOLDER_FORBIDDEN, NULL,
		     n->is_system             ? "system folders cannot be deleted"
		     : n->default_for != NULL ? "default folders cannot be deleted"
		                              : "you need the admin flag to delete this folder");
		goto out;
	}
	if (subtree(&op, n, &ids, &nids, &height) < 0)
		goto out;
	/* All or nothing: check the whole subtree before deleting anything. */
	for (size_t i = 0; i < nids; i++) {
		struct node *f;
		bool ok = false;
		if (load_node(&op, ids[i], &f) < 0)
			goto out;
		if (f != NULL && f->rights.admin && f->default_for == NULL &&
		    files_deletable(&op, f, &ok) < 0)
			goto out;
		if (!ok) {
			fail(&op, FOLDER_FORBIDDEN, NULL,
			     "folder %lld holds subfolders or files you may not delete",
			     (long long)id);
			goto out;
		}
	}
	for (size_t i = 0; i < nids; i++)
		changed(&op, ids[i]);
	changed(&op, n->parent);
	for (size_t i = nids; i-- > 0;) {
		if (delete_files(&op, ids[i], now, &locations) < 0)
			goto out;
		if (sql_run(conn, &err->sql,
		            "DELETE FROM folder_permission WHERE cid=? AND folder=?", "ii", cid,
		            ids[i]) < 0 ||
		    sql_run(conn, &err->sql, "DELETE FROM folder WHERE cid=? AND id=?", "ii", cid,
		            ids[i]) < 0 ||
		    sql_run(conn, &err->sql,
		            "INSERT INTO tombstone (cid, module, id, deleted) VALUES (?, ?, ?, ?)",
		            "isii", cid, FOLDER_TOMBSTONE_MODULE, ids[i], now) < 0) {
			sql_failed(&op);
			goto out;
		}
	}
	if (sql_run(conn, &err->sql, "UPDATE folder SET modified=? WHERE cid=? AND id=?", "iii",
	            now, cid, n->parent) < 0 ||
	    sql_run(conn, &err->sql, "UPDATE filestore_usage SET objects=objects-? WHERE cid=?",
	            "ii", (int64_t)nids, cid) < 0) {
		sql_failed(&op);
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
