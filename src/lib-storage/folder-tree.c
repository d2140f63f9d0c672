/* SPDX-License-Identifier: MIT */
/* The folder tree (docs/internals/folders.md): loading folders through the cache, finding
   their roots, and placing them in the viewer's tree. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "folder-private.h"
#include "pool.h"

/* Fills n from the folder cache; false on a miss. */
static bool cached_node(struct op *op, struct node *n)
{
	struct cached_folder cf;
	size_t size;
	if (cache_get(folder__folder_cache, op->cid, n->id, &cf, &size) == 0)
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
	cache_put(folder__folder_cache, cid, n->id, &cf,
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
		return folder__sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, n->id);
	int r = sql_step(st, &op->err->sql);
	if (r > 0) {
		n->exists = true;
		n->parent = sql_col_int64(st, 0);
		n->owner = sql_col_int64(st, 1);
		n->module = folder__col_text(op->pool, st, 2);
		n->title = folder__col_text(op->pool, st, 3);
		n->is_system = sql_col_int64(st, 4) != 0;
		n->default_for = folder__col_text(op->pool, st, 5);
		n->created = sql_col_int64(st, 6);
		n->modified = sql_col_int64(st, 7);
	}
	sql_stmt_done(&st);
	if (r < 0)
		return folder__sql_failed(op);
	if (!n->exists)
		return 0;
	if (n->module == NULL)
		n->module = "";
	if (n->title == NULL)
		n->title = "";
	return folder_perm__load_acl(op, n);
}

/* 1 and *node_r set, 0 no such folder (*node_r NULL), -1 error. */
int folder_tree__load_node(struct op *op, int64_t id, struct node **node_r)
{
	size_t b = (size_t)((uint64_t)id % NODE_BUCKETS);
	*node_r = NULL;
	for (struct node *n = op->buckets[b]; n != NULL; n = n->next) {
		if (n->id == id) {
			*node_r = n->exists ? n : NULL;
			return n->exists ? 1 : 0;
		}
	}
	if (folder_perm__load_groups(op) < 0)
		return -1;
	struct node *n = pool_calloc(op->pool, 1, sizeof(*n));
	n->id = id;
	bool use_cache = op->cached && folder__folder_cache != NULL;
	if (!use_cache || !cached_node(op, n)) {
		/* Taken before the reads: a change that commits after them drops after this, so
		   cache_put() refuses what they return. Unknown folders are not cached. */
		uint64_t gen = use_cache ? cache_generation(folder__folder_cache) : 0;
		if (read_node(op, n) < 0)
			return -1;
		if (use_cache && n->exists)
			cache_node(n, op->cid, gen);
	}
	if (n->exists)
		folder_perm__compute_rights(op, n);
	n->next = op->buckets[b];
	op->buckets[b] = n;
	*node_r = n->exists ? n : NULL;
	return n->exists ? 1 : 0;
}

/* The system root at the top of n's chain (n itself for a root); -1 if the chain is broken
   (a missing parent or a loop, which only damaged data can have). depth_r (may be NULL) gets
   how many folders lie between the root and n, n included. */
int folder_tree__root(struct op *op, struct node *n, int64_t *root_r, int *depth_r)
{
	struct node *cur = n;
	int depth = 0;
	while (cur->id > FOLDER_ID_MAX_SYSTEM) {
		struct node *p;
		if (++depth > FOLDER_DEPTH_MAX + 1) {
			cur = NULL;
			break;
		}
		int r = folder_tree__load_node(op, cur->parent, &p);
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

int folder_tree__known_root(struct op *op, struct node *n, int64_t *root_r)
{
	if (n->tree_root != 0) {
		*root_r = n->tree_root;
		return 0;
	}
	return folder_tree__root(op, n, root_r, NULL);
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
	if (folder_tree__known_root(op, n, &root) < 0)
		return -1;
	if (n->parent > FOLDER_ID_MAX_SYSTEM) {
		struct node *p;
		if (folder_tree__load_node(op, n->parent, &p) < 0)
			return -1;
		if (folder_perm__visible(p)) {
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
	if (folder_tree__known_root(op, n, &root) < 0)
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
	if (folder__select_ids(op, "SELECT id FROM folder WHERE cid=? AND owner=? AND is_system=0",
	                       p1, 2, &owned, &nowned) < 0 ||
	    folder__select_ids(
	        op,
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
		if (folder_tree__load_node(op, id, &n) < 0)
			return -1;
		if (!folder_perm__visible(n) || n->is_system || n->mark == mark)
			continue;
		n->mark = mark;
		op->cand =
		    folder__grow(op->pool, op->cand, op->cand_count, &cap, sizeof(*op->cand));
		op->cand[op->cand_count++] = n;
	}
	op->cand_loaded = true;
	return 0;
}

/* Candidates placed at (view_parent, view_user); only_count stops at the first. */
int folder_tree__tops_at(struct op *op, int64_t view_parent, int64_t view_user, bool only_count,
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
		out = folder__grow(op->pool, out, count, &cap, sizeof(*out));
		out[count++] = op->cand[i];
	}
	if (nodes_r != NULL)
		*nodes_r = out;
	*count_r = count;
	return 0;
}

/* Visible stored children of a user folder. */
int folder_tree__visible_children(struct op *op, struct node *parent, bool only_count,
                                  struct node ***nodes_r, size_t *count_r)
{
	int64_t *ids;
	size_t nids, count = 0, cap = 0;
	struct node **out = NULL;
	int64_t params[] = {op->cid, parent->id};
	if (folder__select_ids(op, "SELECT id FROM folder WHERE cid=? AND parent=?", params, 2,
	                       &ids, &nids) < 0)
		return -1;
	for (size_t i = 0; i < nids; i++) {
		struct node *n;
		if (folder_tree__load_node(op, ids[i], &n) < 0)
			return -1;
		if (!folder_perm__visible(n))
			continue;
		if (n->tree_root == 0 && parent->tree_root != 0)
			n->tree_root = parent->tree_root;
		if (only_count) {
			count = 1;
			break;
		}
		out = folder__grow(op->pool, out, count, &cap, sizeof(*out));
		out[count++] = n;
	}
	if (nodes_r != NULL)
		*nodes_r = out;
	*count_r = count;
	return 0;
}

/* Distinct owners of the candidates placed below the shared root. */
int folder_tree__sharer_ids(struct op *op, int64_t **uids_r, size_t *count_r)
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
		uids = folder__grow(op->pool, uids, count, &cap, sizeof(*uids));
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
		r = folder_tree__sharer_ids(op, &uids, &count);
	} else if (n->id <= FOLDER_ID_MAX_SYSTEM) {
		r = folder_tree__tops_at(op, n->id, 0, true, NULL, &count);
	} else {
		r = folder_tree__visible_children(op, n, true, NULL, &count);
	}
	*has_r = count > 0;
	return r;
}

int folder_tree__build(struct op *op, struct node *n, struct folder **folder_r)
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

int folder_tree__build_list(struct op *op, struct node **nodes, size_t count, bool sort,
                            struct folder ***folders_r, size_t *count_r)
{
	struct folder **out = pool_calloc(op->pool, count + 1, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		if (folder_tree__build(op, nodes[i], &out[i]) < 0)
			return -1;
	}
	if (sort && count > 1)
		qsort(out, count, sizeof(*out), cmp_folder);
	*folders_r = out;
	*count_r = count;
	return 0;
}

/* Every folder of the subtree below n (n first, parents before children); height_r gets the
   subtree's height (1 = n has no subfolders). */
int folder_tree__subtree(struct op *op, struct node *n, int64_t **ids_r, size_t *count_r,
                         int *height_r)
{
	int64_t *ids = NULL;
	size_t count = 0, cap = 0, level_start = 0;
	int height = 1;
	ids = folder__grow(op->pool, ids, count, &cap, sizeof(*ids));
	ids[count++] = n->id;
	while (level_start < count) {
		size_t level_end = count;
		for (size_t i = level_start; i < level_end; i++) {
			int64_t *kids, params[] = {op->cid, ids[i]};
			size_t nkids;
			if (folder__select_ids(op, "SELECT id FROM folder WHERE cid=? AND parent=?",
			                       params, 2, &kids, &nkids) < 0)
				return -1;
			for (size_t k = 0; k < nkids; k++) {
				ids = folder__grow(op->pool, ids, count, &cap, sizeof(*ids));
				ids[count++] = kids[k];
			}
		}
		if (count > level_end)
			height++;
		level_start = level_end;
		if (height > FOLDER_DEPTH_MAX + 1)
			return folder__fail(op, FOLDER_SQL, NULL,
			                    "folder %lld: subtree deeper than %d", (long long)n->id,
			                    FOLDER_DEPTH_MAX);
	}
	*ids_r = ids;
	*count_r = count;
	*height_r = height;
	return 0;
}
