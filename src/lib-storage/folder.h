/* SPDX-License-Identifier: MIT */
/* Folders with OX permissions: system roots, per-user default folders, the tree each user sees,
   create/rename/move/delete and sharing, over one SQL connection (docs/internals/folders.md). */
#ifndef TANDEM_FOLDER_H
#define TANDEM_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql.h"

struct cache;
struct pool;

/* System roots: the same fixed ids in every context. 3 is virtual: its children are one node
   per user who shares something with the viewer. Generated folder ids are always > 4. */
#define FOLDER_ID_PRIVATE    1
#define FOLDER_ID_PUBLIC     2
#define FOLDER_ID_SHARED     3
#define FOLDER_ID_FILES      4
#define FOLDER_ID_MAX_SYSTEM 4

/* Permission levels as in OX. Folder level: */
#define FOLDER_LEVEL_NONE              0
#define FOLDER_LEVEL_SEE               1 /* the folder is visible */
#define FOLDER_LEVEL_CREATE_OBJECTS    2
#define FOLDER_LEVEL_CREATE_SUBFOLDERS 4
#define FOLDER_LEVEL_MAX               64
/* Object levels (read, write, delete): 0 none, 1 own objects, 2 all objects, 64 maximum. */
#define FOLDER_LEVEL_OWN 1
#define FOLDER_LEVEL_ALL 2

/* OX bit packing: folder level in bits 0-6, read 7-13, write 14-20, delete 21-27, admin 28. */
#define FOLDER_BITS_ADMIN (UINT32_C(1) << 28)
#define FOLDER_BITS(f, r, w, d, admin)                                                             \
	((uint32_t)(f) | (uint32_t)(r) << 7 | (uint32_t)(w) << 14 | (uint32_t)(d) << 21 |          \
	 ((admin) ? FOLDER_BITS_ADMIN : 0))
/* What an owner always has: 403710016. */
#define FOLDER_BITS_OWNER FOLDER_BITS(64, 64, 64, 64, 1)

/* Group entity 0 is the virtual group of all users of the context (as in OX). */
#define FOLDER_GROUP_ALL_USERS 0

#define FOLDER_TITLE_MAX        255 /* bytes of UTF-8 */
#define FOLDER_PERMISSIONS_MAX  256 /* entries per folder */
#define FOLDER_DEPTH_MAX        64  /* folders below a system root */
#define FOLDER_MODULE_MAX       16  /* buffer size for a module name */
#define FOLDER_TOMBSTONE_MODULE "folder"

/* Effective levels of one user on one folder (the maximum per field over every entry that
   applies to the user; an owner has everything). */
struct folder_perm {
	unsigned folder, read, write, del;
	bool admin;
};

uint32_t folder_perm_pack(const struct folder_perm *perm);
void folder_perm_unpack(uint32_t bits, struct folder_perm *perm_r);
/* 0 if bits is a valid packed permission (only known levels, nothing above bit 28); else -1
   with a static message. */
int folder_bits_check(int64_t bits, const char **error_r);

/* What an object-level operation needs, for modules that store objects in folders (own =
   the object was created by the user asking). */
bool folder_perm_may_create(const struct folder_perm *perm);
bool folder_perm_may_read(const struct folder_perm *perm, bool own);
bool folder_perm_may_write(const struct folder_perm *perm, bool own);
bool folder_perm_may_delete(const struct folder_perm *perm, bool own);

/* One stored permission entry. */
struct folder_permission {
	int64_t entity; /* user id, or group id when group (0 = all users) */
	bool group;
	uint32_t bits;
};

enum folder_type {
	FOLDER_TYPE_SYSTEM,  /* the roots 1-4 */
	FOLDER_TYPE_PRIVATE, /* mine, in the private or files tree */
	FOLDER_TYPE_PUBLIC,  /* below the public root */
	FOLDER_TYPE_SHARED,  /* someone else's, visible to me through a permission */
};
const char *folder_type_name(enum folder_type type);

/* A folder as one user (the viewer) sees it. Strings live in the pool given to the call. */
struct folder {
	int64_t id;
	int64_t parent; /* stored parent; 0 for the roots */
	/* Where the viewer's tree shows it: a folder id, or 0 when the folder hangs below the
	   shared root's node of view_parent_user (the "u:<id>" node). The stored parent is not
	   revealed when the viewer cannot see it. */
	int64_t view_parent;
	int64_t view_parent_user;
	int64_t owner; /* 0 for the roots */
	const char *module;
	const char *title;
	const char *default_for; /* module this is the owner's default folder of, or NULL */
	bool is_system;
	int64_t created, modified; /* unix seconds */
	enum folder_type type;
	struct folder_perm rights; /* the viewer's */
	struct folder_permission *permissions;
	size_t permission_count;
	bool has_subfolders; /* listing it would show something to the viewer */
};

/* A node below the shared root: a user who shares at least one folder with the viewer. */
struct folder_sharer {
	int64_t uid;
	const char *display_name;
};

enum folder_status {
	FOLDER_OK = 0,
	FOLDER_INVALID,   /* bad input; field names the offending field */
	FOLDER_FORBIDDEN, /* visible to the user, but the action is not allowed */
	FOLDER_NOT_FOUND, /* does not exist or is not visible (never told apart) */
	FOLDER_CONFLICT,  /* a sibling has the same title */
	FOLDER_LIMIT,     /* the context holds as many objects as it may */
	FOLDER_SQL,       /* sql holds the database error (BUSY: retry the transaction) */
};

struct folder_error {
	enum folder_status status;
	const char *field; /* static; for FOLDER_INVALID, else NULL */
	bool loop;         /* FOLDER_INVALID: a folder moved (or copied) into itself or below it */
	char message[256];
	struct sql_error sql;
};

/* --- caches and change announcements (docs/internals/cluster.md "Caches and invalidation") */

/* Caches for folder_access() and folder_module(), made with lib-cluster's cache_create() and
   value sizes folder_cache_folder_size() / folder_cache_groups_size(); NULL = none (every call
   reads SQL). folders is keyed by (cid, folder id) and holds what rights need: owner, system
   flag, module and the permission entries (a folder with more than FOLDER_CACHE_ACL_MAX
   entries is not cached); groups is keyed by (cid, user id) and holds the user's group ids
   (not cached beyond FOLDER_CACHE_GROUPS_MAX). Only those two functions read the caches:
   listings and changes always read SQL, inside their transactions. Set once before threads
   use this module; the caches must outlive every call. */
#define FOLDER_CACHE_ACL_MAX    32
#define FOLDER_CACHE_GROUPS_MAX 64
void folder_set_caches(struct cache *folders, struct cache *groups);
size_t folder_cache_folder_size(void);
size_t folder_cache_groups_size(void);

/* Folders a change touched. folder_create(), folder_update() and folder_delete() add to it
   (memory from their pool), including retried attempts of a transaction; one context per
   struct. Zero it before use. */
#define FOLDER_CHANGES_MAX 256
struct folder_changes {
	int64_t cid;
	int64_t *ids;
	size_t count, cap;
	bool whole_context; /* more than FOLDER_CHANGES_MAX: every folder of cid */
};
/* Where announcements go; folder_id 0 = every folder of cid. The node routes them through its
   invalidation bus, whose subscribers drop the cache entries on every node. */
typedef void folder_change_fn(int64_t cid, int64_t folder_id, void *ctx);
/* Set once before threads use this module. */
void folder_set_change_hook(folder_change_fn *fn, void *ctx);
/* Announces changes (the hook per folder, or without a hook drops them from the caches set
   here) and empties it. Call it only after the transaction that made them has committed,
   never before: a reader in between would cache the old rows again. After a rollback,
   calling it is harmless. */
void folder_changes_announce(struct folder_changes *changes);

/* Provisioning hooks. Both run inside the caller's write transaction on the user schema and
   are idempotent (what exists is left alone). The roots need no ids; the context's
   ctx_sequence row must exist before the first user's defaults are made. Return 0 / -1. */
int folder_create_context_roots(struct sql_conn *conn, int64_t cid, struct sql_error *err);
/* Calendar, Contacts, Tasks below 1 and "My files" below 4, owned by uid with full rights. */
int folder_create_user_defaults(struct sql_conn *conn, int64_t cid, int64_t uid,
                                struct sql_error *err);

/* uid's default folder of module ("infostore": "My files") into *id_r: 1 found, 0 none, -1
   on SQL error. */
int folder_default(struct sql_conn *conn, int64_t cid, int64_t uid, const char *module,
                   int64_t *id_r, struct sql_error *err);

/* uid's effective rights on folder_id: 1 visible (perm_r set), 0 unknown or not visible
   (perm_r zeroed), -1 on SQL error. For other modules: "may uid write in folder X". Uses the
   caches (folder_set_caches()): do not call it inside a transaction that changed folders or
   group memberships, or it may cache rows that are then rolled back. */
int folder_access(struct sql_conn *conn, int64_t cid, int64_t uid, int64_t folder_id,
                  struct folder_perm *perm_r, struct sql_error *err);
/* The folder's module ("infostore" …) into module_r: 1 found, 0 no such folder, -1 error.
   Answered from the folder cache when it holds the folder (a module never changes). */
int folder_module(struct sql_conn *conn, int64_t cid, int64_t folder_id,
                  char module_r[FOLDER_MODULE_MAX], struct sql_error *err);
/* "infostore", "contacts", "calendar", "tasks": what users may create. */
bool folder_module_valid(const char *module);

/* Everything below returns 0, or -1 with err set; results live in pool. uid is the viewer.
   The changing calls record what they touched in changes (not NULL): announce it with
   folder_changes_announce() after the commit. */

/* One folder; FOLDER_NOT_FOUND unless visible to uid. */
int folder_get(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t id,
               struct folder **folder_r, struct folder_error *err);
/* What uid's tree shows below parent (0 = the roots; 3 is answered by folder_list_sharers),
   ordered by title. FOLDER_NOT_FOUND if parent is not visible. */
int folder_list(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t parent,
                struct folder ***folders_r, size_t *count_r, struct folder_error *err);
/* The nodes below the shared root, ordered by display name. */
int folder_list_sharers(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid,
                        struct folder_sharer **sharers_r, size_t *count_r,
                        struct folder_error *err);
/* The folders of owner shown below its shared-root node; FOLDER_NOT_FOUND when there are
   none (the node does not exist for uid). sharer_r (may be NULL) gets the node itself. */
int folder_list_shared_by(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid,
                          int64_t owner, struct folder_sharer *sharer_r, struct folder ***folders_r,
                          size_t *count_r, struct folder_error *err);

/* Creates title below parent. module NULL inherits the parent's (when it has one). Needs
   folder level >= 4 on parent. The new folder is owned by uid with full rights; below a
   user folder it also inherits the parent's other permission entries. It counts as one of
   the context's objects: FOLDER_LIMIT when that would make more than max_objects (0 = no
   limit). Takes the context's usage row lock first, as uploads do. */
int folder_create(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid,
                  int64_t parent, const char *title, const char *module, int64_t max_objects,
                  struct folder **folder_r, struct folder_changes *changes,
                  struct folder_error *err);

/* One PATCH: any of rename, move and replacing the permissions, all or nothing. */
struct folder_change {
	const char *title; /* NULL = keep */
	int64_t parent;    /* 0 = keep */
	bool set_permissions;
	const struct folder_permission *permissions;
	size_t permission_count;
};
/* Rename and move need the admin flag on the folder, a move also folder level >= 4 on the
   new parent; system folders never move, default folders neither (they may be renamed).
   Permissions need the admin flag; the owner's entry is always FOLDER_BITS_OWNER (it may be
   omitted, and any other bits for it are refused). folder_r (may be NULL) gets the result,
   or NULL when the change took away uid's own right to see the folder. */
int folder_update(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t id,
                  const struct folder_change *change, struct folder **folder_r,
                  struct folder_changes *changes, struct folder_error *err);

/* Deletes id with all its subfolders and their files. Needs the admin flag on every folder of
   the subtree and, where it holds files, delete rights on them. System and default folders
   are refused. Files go through infostore_delete() (usage, tombstones). locations_r gets the
   filestore_location of every deleted file version (remove them from the filestore only after
   the commit, with filestore_remove()), count_r how many. Takes the context's usage row lock
   first, as uploads do, so call it before anything else in its transaction. */
int folder_delete(struct sql_conn *conn, struct pool *pool, int64_t cid, int64_t uid, int64_t id,
                  const char ***locations_r, size_t *count_r, struct folder_changes *changes,
                  struct folder_error *err);

#endif
