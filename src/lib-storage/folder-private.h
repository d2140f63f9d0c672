/* SPDX-License-Identifier: MIT */
/* What folder.c, folder-tree.c and folder-perm.c share (docs/internals/folders.md). Not for
   callers of folder.h. */
#ifndef TANDEM_FOLDER_PRIVATE_H
#define TANDEM_FOLDER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folder.h"
#include "pool.h"
#include "sql.h"

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

/* The folder cache's value: what folder_perm__compute_rights() and folder_module() need.
   Stored up to the last used acl entry. */
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

/* folder.c: the caches, set once before threads start (folder_set_caches). */
extern struct cache *folder__folder_cache, *folder__group_cache;

/* folder.c: errors and small helpers */
int folder__fail(struct op *op, enum folder_status status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int folder__sql_failed(struct op *op);
void *folder__grow(struct pool *pool, void *old, size_t count, size_t *cap, size_t elem);
char *folder__col_text(struct pool *pool, struct sql_stmt *st, unsigned col);
int folder__select_ids(struct op *op, const char *sql, const int64_t *params, unsigned nparams,
                       int64_t **ids_r, size_t *count_r);

/* folder-perm.c: who may do what */
int folder_perm__load_groups(struct op *op);
void folder_perm__compute_rights(const struct op *op, struct node *n);
bool folder_perm__visible(const struct node *n);
int folder_perm__load_acl(struct op *op, struct node *n);
int folder_perm__insert_permission(struct sql_conn *conn, int64_t cid, int64_t folder,
                                   const struct folder_permission *p, struct sql_error *err);
int folder_perm__check_permissions(struct op *op, const struct node *n,
                                   const struct folder_permission *list, size_t count);
int folder_perm__replace_permissions(struct op *op, const struct node *n,
                                     const struct folder_permission *list, size_t count);

/* folder-tree.c: loading folders and placing them in the viewer's tree */
int folder_tree__load_node(struct op *op, int64_t id, struct node **node_r);
int folder_tree__root(struct op *op, struct node *n, int64_t *root_r, int *depth_r);
int folder_tree__known_root(struct op *op, struct node *n, int64_t *root_r);
int folder_tree__tops_at(struct op *op, int64_t view_parent, int64_t view_user, bool only_count,
                         struct node ***nodes_r, size_t *count_r);
int folder_tree__visible_children(struct op *op, struct node *parent, bool only_count,
                                  struct node ***nodes_r, size_t *count_r);
int folder_tree__sharer_ids(struct op *op, int64_t **uids_r, size_t *count_r);
int folder_tree__build(struct op *op, struct node *n, struct folder **folder_r);
int folder_tree__build_list(struct op *op, struct node **nodes, size_t count, bool sort,
                            struct folder ***folders_r, size_t *count_r);
int folder_tree__subtree(struct op *op, struct node *n, int64_t **ids_r, size_t *count_r,
                         int *height_r);

#endif
