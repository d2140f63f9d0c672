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

#endif
