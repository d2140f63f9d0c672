/* SPDX-License-Identifier: MIT */
/* The layout of the storage objects, shared by storage.c and its operation modules. */
#ifndef TANDEM_STORAGE_PRIVATE_H
#define TANDEM_STORAGE_PRIVATE_H

#include "sql.h"
#include "storage.h"

struct storage {
	struct storage_settings set;
	struct cache *folder_cache; /* (cid, folder id): owner, module, permissions */
	struct cache *group_cache;  /* (cid, user id): the user's groups */
	/* the global address books' snapshots (storage-gab.h) */
	struct storage_gab_cache *gab;
};

struct storage_user {
	struct storage *storage;
	struct pool *pool;
	int64_t cid, uid;
	struct sql_db *db; /* once found */
	struct storage_context ctx;
};

/* The context's database (found on first use): NULL with err set. */
struct sql_db *storage__db(struct storage_user *user, struct storage_error *err);
/* err from a database error (kind NONE: a refusal), what naming the step. */
void storage__sql_error(struct storage_error *err, const char *what, const struct sql_error *sql);
/* A refusal of the operation, its message from fmt. Returns -1. */
int storage__refuse(struct storage_error *err, enum storage_refusal why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* storage_transaction() for an operation: on failure err is the transaction's, with *what
   (the step that failed, read after the run) on a database error, unless fn refused with a
   message of its own in err (status STORAGE_REFUSED). err is cleared first. 0 or -1. */
int storage__run(struct storage_user *user, bool write, storage_txn_fn *fn, void *ctx,
                 const char *const *what, struct storage_error *err);

struct folder_perm;
struct infostore_file;
struct infostore_version;
/* After the transaction that read version_r (of file id): its content opened into *fd_r,
   checked against the row's size; STORAGE_BROKEN (logged) when it is missing or differs. */
int storage__file_content(struct storage_user *user, int64_t id,
                          const struct infostore_version *version_r, int *fd_r,
                          struct storage_error *err);
/* File id's rows if the user may see it (its folder is visible and they may read it), with
   their rights on its folder: 1, 0 not visible or no such file, -1 on SQL error (*what_r
   names the step). */
int storage__file_visible(struct sql_conn *conn, struct storage_user *user, int64_t id,
                          struct infostore_file *file_r, struct folder_perm *perm_r,
                          const char **what_r, struct sql_error *err);

struct filestore_temp;
/* Copies the open file fd into a new temp file of the user's context (*temp_r, the caller's
   to publish and destroy): 0, or -1 with err (STORAGE_NO_SPACE, logged). */
int storage__copy_content(struct storage_user *user, int fd, struct filestore_temp **temp_r,
                          struct storage_error *err);

#endif
