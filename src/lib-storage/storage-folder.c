/* SPDX-License-Identifier: MIT */
/* Folder operations of a storage user: one transaction per call over folder.c. */
#include "storage-folder.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "filestore.h"
#include "log.h"
#include "storage-private.h"

enum action {
	LIST,
	LIST_SHARERS,
	LIST_SHARED_BY,
	GET,
	CREATE,
	UPDATE,
	DELETE,
};

/* One call: its input, and what the transaction produced. */
struct op {
	struct storage_user *user;
	enum action action;
	int64_t id; /* folder (parent for LIST and CREATE), or the owner for LIST_SHARED_BY */
	const char *title, *module;
	const struct folder_change *change;
	const struct storage_folder_update *update;
	struct folder **folder_r;
	struct folder ***folders_r;
	size_t *count_r;
	struct folder_sharer **sharers_r, *sharer_r;
	const char **locations;
	size_t location_count;
	struct folder_changes changes; /* announced after the transaction */
	struct folder_error *fe;
};

/* A PATCH that names what may not change: only as the folder is now. */
static int check_unchanged(struct sql_conn *conn, struct op *op)
{
	const struct storage_folder_update *up = op->update;
	struct storage_user *u = op->user;
	struct folder_error *fe = op->fe;
	if (up->parent_node_user != 0) {
		/* Only the parent the caller was shown: "unchanged". */
		if (folder_get(conn, u->pool, u->cid, u->uid, op->id, op->folder_r, fe) < 0)
			return -1;
		if ((*op->folder_r)->view_parent_user != up->parent_node_user) {
			fe->status = FOLDER_INVALID;
			fe->field = "parent";
			snprintf(fe->message, sizeof(fe->message),
			         "parent must be a folder id (\"u:%" PRId64 "\" is not one)",
			         up->parent_node_user);
			return -1;
		}
	}
	if (up->module != NULL) {
		if (folder_get(conn, u->pool, u->cid, u->uid, op->id, op->folder_r, fe) < 0)
			return -1;
		if (strcmp((*op->folder_r)->module, up->module) != 0) {
			fe->status = FOLDER_INVALID;
			fe->field = "module";
			snprintf(fe->message, sizeof(fe->message),
			         "module cannot be changed (folder %" PRId64 " is %s)", op->id,
			         (*op->folder_r)->module);
			return -1;
		}
	}
	return 0;
}

static int run_action(struct sql_conn *conn, struct op *op)
{
	struct storage_user *u = op->user;
	struct pool *pool = u->pool;
	struct folder_error *fe = op->fe;
	switch (op->action) {
	case LIST:
		return folder_list(conn, pool, u->cid, u->uid, op->id, op->folders_r, op->count_r,
		                   fe);
	case LIST_SHARERS:
		return folder_list_sharers(conn, pool, u->cid, u->uid, op->sharers_r, op->count_r,
		                           fe);
	case LIST_SHARED_BY:
		return folder_list_shared_by(conn, pool, u->cid, u->uid, op->id, op->sharer_r,
		                             op->folders_r, op->count_r, fe);
	case GET:
		return folder_get(conn, pool, u->cid, u->uid, op->id, op->folder_r, fe);
	case CREATE:
		if (folder_create(conn, pool, u->cid, u->uid, op->id, op->title, op->module,
		                  u->storage->set.max_objects, op->folder_r, &op->changes, fe) < 0)
			return -1;
		if (op->change == NULL || !op->change->set_permissions)
			return 0;
		return folder_update(conn, pool, u->cid, u->uid, (*op->folder_r)->id, op->change,
		                     op->folder_r, &op->changes, fe);
	case UPDATE:
		if (check_unchanged(conn, op) < 0)
			return -1;
		return folder_update(conn, pool, u->cid, u->uid, op->id, &op->update->change,
		                     op->folder_r, &op->changes, fe);
	case DELETE:
		return folder_delete(conn, pool, u->cid, u->uid, op->id, &op->locations,
		                     &op->location_count, &op->changes, fe);
	}
	return -1;
}

static int txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	int r = run_action(conn, op);
	/* Hand SQL errors on so that BUSY is retried; a refusal leaves err empty and rolls
	   back. */
	if (r < 0 && op->fe->status == FOLDER_SQL)
		*err = op->fe->sql;
	return r;
}

static int run(struct op *op, struct storage_error *err)
{
	struct storage_user *u = op->user;
	bool write = op->action == CREATE || op->action == UPDATE || op->action == DELETE;
	memset(op->fe, 0, sizeof(*op->fe));
	int r = storage_transaction(u, write, txn, op, err);
	/* Only now that it is over: also after a failure, since a commit that lost its
	   connection may still have happened (dropping too much costs one reload). */
	folder_changes_announce(&op->changes);
	if (r < 0) {
		if (err->status == STORAGE_REFUSED && op->fe->status == FOLDER_SQL) {
			/* folder.c's own failure without a database error kind */
			err->status = STORAGE_FAILED;
			snprintf(err->message, sizeof(err->message), "%s", op->fe->message);
		}
		return -1;
	}
	/* Files go only after the commit: a crash in between leaves orphan files (found by
	   checkconsistency), never rows without files. */
	for (size_t i = 0; i < op->location_count; i++) {
		int rr = filestore_remove(u->ctx.filestore_root, u->cid, op->locations[i]);
		if (rr < 0)
			log_warn("folders", "context %" PRId64 ": removing %s: %s", u->cid,
			         op->locations[i], strerror(-rr));
	}
	return 0;
}

int storage_folder_list(struct storage_user *user, int64_t parent, struct folder ***folders_r,
                        size_t *count_r, struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = LIST,
	                .id = parent,
	                .folders_r = folders_r,
	                .count_r = count_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_list_sharers(struct storage_user *user, struct folder_sharer **sharers_r,
                                size_t *count_r, struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = LIST_SHARERS,
	                .sharers_r = sharers_r,
	                .count_r = count_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_list_shared_by(struct storage_user *user, int64_t owner,
                                  struct folder_sharer *sharer_r, struct folder ***folders_r,
                                  size_t *count_r, struct folder_error *fe,
                                  struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = LIST_SHARED_BY,
	                .id = owner,
	                .sharer_r = sharer_r,
	                .folders_r = folders_r,
	                .count_r = count_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_get(struct storage_user *user, int64_t id, struct folder **folder_r,
                       struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user, .action = GET, .id = id, .folder_r = folder_r, .fe = fe};
	return run(&op, err);
}

int storage_folder_create(struct storage_user *user, int64_t parent, const char *title,
                          const char *module, const struct folder_change *perms,
                          struct folder **folder_r, struct folder_error *fe,
                          struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = CREATE,
	                .id = parent,
	                .title = title,
	                .module = module,
	                .change = perms,
	                .folder_r = folder_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_update(struct storage_user *user, int64_t id,
                          const struct storage_folder_update *update, struct folder **folder_r,
                          struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = UPDATE,
	                .id = id,
	                .update = update,
	                .folder_r = folder_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_delete(struct storage_user *user, int64_t id, struct folder_error *fe,
                          struct storage_error *err)
{
	struct op op = {.user = user, .action = DELETE, .id = id, .fe = fe};
	return run(&op, err);
}
