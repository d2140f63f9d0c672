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

#endif
