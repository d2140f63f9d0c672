/* SPDX-License-Identifier: MIT */
/* A user's folder operations, each in a transaction of its own: the tree, CRUD and sharing
   over folder.c, changes announced after the commit, files of deleted folders removed. */
#ifndef TANDEM_STORAGE_FOLDER_H
#define TANDEM_STORAGE_FOLDER_H

#include "folder.h"
#include "storage.h"

/* Every call returns 0, or -1 with err; a refusal of folder.c (err->status STORAGE_REFUSED)
   is in fe (FOLDER_INVALID … FOLDER_LIMIT). Results live in the user's pool. */

/* What uid sees below parent (0 = the roots). */
int storage_folder_list(struct storage_user *user, int64_t parent, struct folder ***folders_r,
                        size_t *count_r, struct folder_error *fe, struct storage_error *err);
/* The nodes below the shared root. */
int storage_folder_list_sharers(struct storage_user *user, struct folder_sharer **sharers_r,
                                size_t *count_r, struct folder_error *fe,
                                struct storage_error *err);
/* The folders owner shares with the user, and the node itself. */
int storage_folder_list_shared_by(struct storage_user *user, int64_t owner,
                                  struct folder_sharer *sharer_r, struct folder ***folders_r,
                                  size_t *count_r, struct folder_error *fe,
                                  struct storage_error *err);
int storage_folder_get(struct storage_user *user, int64_t id, struct folder **folder_r,
                       struct folder_error *fe, struct storage_error *err);
/* Creates title below parent (module NULL inherits), then sets perms when perms->
   set_permissions (perms may be NULL); all in one transaction. */
int storage_folder_create(struct storage_user *user, int64_t parent, const char *title,
                          const char *module, const struct folder_change *perms,
                          struct folder **folder_r, struct folder_error *fe,
                          struct storage_error *err);

/* One PATCH: the change, and what the client sent that may not change. */
struct storage_folder_update {
	struct folder_change change;
	int64_t parent_node_user; /* "parent":"u:<uid>": only the node shown now is accepted */
	const char *module;       /* NULL, or the folder's module (it cannot change) */
};
/* folder_r is NULL when the change took away the user's right to see the folder. */
int storage_folder_update(struct storage_user *user, int64_t id,
                          const struct storage_folder_update *update, struct folder **folder_r,
                          struct folder_error *fe, struct storage_error *err);
/* Deletes id and its subtree; the files go from the filestore after the commit. */
int storage_folder_delete(struct storage_user *user, int64_t id, struct folder_error *fe,
                          struct storage_error *err);

/* --- WebDAV: move and copy (docs/internals/storage.md "For WebDAV") --- */

/* Where a folder goes. */
struct storage_folder_place {
	int64_t parent; /* the new parent folder; 0, or where it is now (stored or shown): keep */
	const char *title; /* NULL, or the current title: keep */
	/* Replace a sibling of that title there (ASCII case ignored, as titles clash): it is
	   deleted with its subtree in the same transaction, with folder_delete()'s rights. Without
	   it such a sibling is FOLDER_CONFLICT. */
	bool overwrite;
	/* results */
	bool replaced;
	struct folder *folder; /* the moved folder or the copy, as the user sees it now (a move
	                          that took away the user's sight of it: NULL) */
};

/* Moves and/or renames id in one transaction: folder_update()'s rights and checks (admin flag,
   level >= 4 on the new parent, not system or default folders, FOLDER_INVALID with field
   "parent" and fe->loop into itself or below it, FOLDER_CONFLICT when the title is taken);
   dead properties stay with it (same id). Refusals also set err->detail: STORAGE_DETAIL_LOOP
   (fe->loop), STORAGE_DETAIL_EXISTS (FOLDER_CONFLICT), as the file calls do. Neither a new parent
   nor a new title: only folder_r. */
int storage_folder_move(struct storage_user *user, int64_t id, struct storage_folder_place *to,
                        struct folder_error *fe, struct storage_error *err);

/* At most this many folders and files in one copy (FOLDER_LIMIT beyond). */
#define STORAGE_FOLDER_COPY_MAX 10000

/* Copies id below to->parent (folder_create()'s rights there; the copies are the user's and
   get the new parent's permissions as any new folder), with members: its visible subfolders
   and readable files (current versions; the user's own only where they may read only their
   own) to any depth (WebDAV Depth: infinity), else the folder alone (Depth: 0); dead
   properties copied. All or nothing: the tree is read in one read transaction, the files'
   content copied into the filestore, then one write transaction charges the bytes and
   objects as uploads would (FOLDER_LIMIT naming the quota or object limit), checks, creates
   everything; on any failure the copied content is removed again and nothing is left. Into
   itself or below: FOLDER_INVALID, field "parent", fe->loop; err->detail as for a move. */
int storage_folder_copy(struct storage_user *user, int64_t id, struct storage_folder_place *to,
                        bool members, struct folder_error *fe, struct storage_error *err);

/* The user's default folder of module ("infostore", "calendar", "tasks", "contacts"): 1 with
 *id_r, 0 when the user has none (no such user), -1 with err. */
int storage_folder_default(struct storage_user *user, const char *module, int64_t *id_r,
                           struct storage_error *err);

#endif
