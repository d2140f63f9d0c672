/* SPDX-License-Identifier: MIT */
/* File operations of a storage user: folder rights, infostore rows and filestore content. */
#include "storage-file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "dav-props.h"
#include "filestore.h"
#include "log.h"
#include "storage-private.h"

/* A constraint error when publishing means a concurrent upload created the same name: run
   again, and this upload becomes its next version. */
#define PUBLISH_ATTEMPTS 2

/* What one call's transaction needs and produced. what names the step running, for errors. */
struct op {
	struct storage_user *user;
	const char *what;
	struct storage_error *err;
	int64_t folder, id, version;
	struct folder_perm perm;
	struct infostore_file *file;
	struct infostore_version *v;
	json_t *json;
	struct array *locations;
	int found;
	struct storage_file_upload *upload;
	struct infostore_upload row;
	int64_t max_objects;
	const struct storage_file_hold *hold;
	int64_t *held_r;
	struct storage_file_place *place;
	bool copy;
};

/* A refusal decided inside a transaction: it rolls back with no SQL error. */
static int refuse(struct op *op, enum storage_refusal why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(struct op *op, enum storage_refusal why, const char *fmt, ...)
{
	va_list args;
	char msg[sizeof(op->err->message)];
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	return storage__refuse(op->err, why, "%s", msg);
}

/* Runs fn in a transaction of the user's and keeps the step that failed. */
static int run(struct op *op, bool write, storage_txn_fn *fn, const char *what)
{
	op->what = what;
	return storage__run(op->user, write, fn, op, &op->what, op->err);
}

/* The user's rights on an infostore folder: 1 with op->perm, or a refusal (404 when it is not
   visible, 400 when it holds no files), or -1 with the SQL error. */
static int files_folder(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	struct storage_user *u = op->user;
	char module[FOLDER_MODULE_MAX];
	op->what = "folder lookup";
	int r = folder_access(conn, u->cid, u->uid, op->folder, &op->perm, err);
	if (r > 0)
		r = folder_module(conn, u->cid, op->folder, module, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return refuse(op, STORAGE_NOT_FOUND, "folder %lld not found",
		              (long long)op->folder);
	if (strcmp(module, "infostore") != 0)
		return refuse(op, STORAGE_INVALID, "folder %lld holds %s, not files",
		              (long long)op->folder, module);
	return 1;
}

/* Loads file op->id if the user may see it (its folder is visible and the user may read it):
   1 with *op->file and op->perm, or a refusal as for a file that does not exist (so ids of
   others' files reveal nothing), or -1 with the SQL error. */
static int visible_file(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	op->what = "file lookup";
	int r = storage__file_visible(conn, op->user, op->id, op->file, &op->perm, &op->what, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return refuse(op, STORAGE_NOT_FOUND, "file %lld not found", (long long)op->id);
	return 1;
}

int storage__file_visible(struct sql_conn *conn, struct storage_user *user, int64_t id,
                          struct infostore_file *file_r, struct folder_perm *perm_r,
                          const char **what_r, struct sql_error *err)
{
	int r = infostore_get(conn, user->cid, id, file_r, err);
	if (r > 0) {
		*what_r = "folder lookup";
		r = folder_access(conn, user->cid, user->uid, file_r->folder, perm_r, err);
	}
	if (r <= 0)
		return r;
	/* a file I may not read is hidden, as in listings */
	return folder_perm_may_read(perm_r, file_r->created_by == user->uid) ? 1 : 0;
}

/* --- list, metadata, content --- */

static int list_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	if (files_folder(conn, op, err) < 0)
		return -1;
	if (!folder_perm_may_read(&op->perm, true))
		return refuse(op, STORAGE_FORBIDDEN, "no permission to read folder %lld",
		              (long long)op->folder);
	/* "read own" lists only what the user created */
	op->what = "listing";
	op->json = infostore_list(conn, u->cid, op->folder,
	                          folder_perm_may_read(&op->perm, false) ? 0 : u->uid, err);
	return op->json != NULL ? 0 : -1;
}

int storage_file_list(struct storage_user *user, int64_t folder, json_t **files_r,
                      struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .folder = folder};
	if (run(&op, false, list_txn, "listing") < 0)
		return -1;
	*files_r = op.json;
	return 0;
}

static int info_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	json_decref(op->json); /* a retried attempt starts over */
	op->json = NULL;
	if (visible_file(conn, op, err) < 0)
		return -1;
	op->what = "file lookup";
	op->json = infostore_versions_json(conn, op->user->cid, op->id, err);
	return op->json != NULL ? 0 : -1;
}

int storage_file_info(struct storage_user *user, int64_t id, struct infostore_file *file_r,
                      json_t **versions_r, struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .id = id, .file = file_r};
	if (run(&op, false, info_txn, "file lookup") < 0) {
		json_decref(op.json);
		return -1;
	}
	*versions_r = op.json;
	return 0;
}

static int version_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	if (visible_file(conn, op, err) < 0)
		return -1;
	op->what = "file lookup";
	int64_t version = op->version > 0 ? op->version : op->file->version;
	int r = infostore_get_version(conn, op->user->cid, op->id, version, op->v, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return refuse(op, STORAGE_NOT_FOUND, "file %lld has no version %lld",
		              (long long)op->id, (long long)version);
	return 0;
}

int storage_file_open(struct storage_user *user, int64_t id, int64_t version,
                      struct infostore_file *file_r, struct infostore_version *version_r, int *fd_r,
                      struct storage_error *err)
{
	struct op op = {
	    .user = user, .err = err, .id = id, .version = version, .file = file_r, .v = version_r};
	if (run(&op, false, version_txn, "file lookup") < 0)
		return -1;
	return storage__file_content(user, id, version_r, fd_r, err);
}

int storage__file_content(struct storage_user *user, int64_t id,
                          const struct infostore_version *version_r, int *fd_r,
                          struct storage_error *err)
{
	struct stat st;
	int fd = -1;
	int r = filestore_open(user->ctx.filestore_root, user->cid, version_r->location, &fd);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && (uint64_t)st.st_size != (uint64_t)version_r->size)
		r = -EIO;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		log_error("files",
		          "cid=%lld file=%lld version=%lld at %s: %s (run checkconsistency)",
		          (long long)user->cid, (long long)id, (long long)version_r->version,
		          version_r->location,
		          r == -EIO ? "size differs from the database" : strerror(-r));
		return storage__refuse(err, STORAGE_BROKEN,
		                       "the content of file %lld is not available", (long long)id);
	}
	*fd_r = fd;
	return 0;
}

/* --- delete --- */

/* After a commit: the content of what it deleted. */
static void remove_locations(struct storage_user *user, struct array *locations)
{
	for (size_t i = 0; i < locations->count; i++) {
		const char *l = array_idx(locations, i);
		int r = filestore_remove(user->ctx.filestore_root, user->cid, l);
		if (r < 0)
			log_warn("files", "cid=%lld: removing %s failed: %s (an orphan now)",
			         (long long)user->cid, l, strerror(-r));
	}
}

static int delete_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	array_clear(op->locations); /* a retried attempt starts over */
	if (visible_file(conn, op, err) < 0)
		return -1;
	if (!folder_perm_may_delete(&op->perm, op->file->created_by == u->uid))
		return refuse(op, STORAGE_FORBIDDEN, "no permission to delete file %lld",
		              (long long)op->id);
	op->what = "delete";
	op->found = infostore_delete(conn, u->cid, op->id, (int64_t)time(NULL), op->locations, err);
	if (op->found < 0)
		return -1;
	if (op->found == 0)
		return refuse(op, STORAGE_NOT_FOUND, "file %lld not found", (long long)op->id);
	return 0;
}

int storage_file_delete(struct storage_user *user, int64_t id, struct storage_error *err)
{
	struct infostore_file file;
	struct array locations;
	array_init(&locations, FILESTORE_LOCATION_SIZE);
	struct op op = {.user = user, .err = err, .id = id, .file = &file, .locations = &locations};
	/* one write transaction from the lookup on: the primary's rows decide */
	int ret = run(&op, true, delete_txn, "delete");
	if (ret == 0) {
		/* only now, after the commit: a failure leaves an orphan for checkconsistency,
		   never a row without its file */
		remove_locations(user, &locations);
		log_info("files", "cid=%lld uid=%lld deleted file=%lld (%zu versions)",
		         (long long)user->cid, (long long)user->uid, (long long)id,
		         locations.count);
	}
	array_free(&locations);
	return ret;
}

/* --- uploads --- */

static int hold_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	const struct storage_file_hold *h = op->hold;
	/* a live upload sets its hold again within STORAGE_FILE_HOLD_REFRESH_S plus one body
	   timeout (the longest its body may pause); the second one is for clocks that disagree */
	int64_t ttl = op->user->storage->set.body_timeout_s + 2 * STORAGE_FILE_HOLD_REFRESH_S;
	struct infostore_hold ih = {.cid = h->cid,
	                            .id = h->id,
	                            .need = h->need,
	                            .want = h->want,
	                            .quota_bytes = h->quota_bytes,
	                            .now = h->now,
	                            .expires = h->now + ttl};
	int r = infostore_reserve(conn, &ih, op->held_r, err);
	if (r > 0)
		return refuse(op, STORAGE_OVER_LIMIT,
		              "the upload exceeds the context's quota of %lld MiB",
		              (long long)h->quota_mb);
	return r;
}

int storage_file_hold_set(struct storage *storage, const struct storage_file_hold *hold,
                          int64_t *held_r, struct storage_error *err)
{
	struct storage_user u = {.storage = storage, .cid = hold->cid};
	struct op op = {.user = &u, .err = err, .hold = hold, .held_r = held_r};
	return run(&op, true, hold_txn, "upload");
}

static int release_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	return infostore_release(conn, op->user->cid, op->hold->id, err);
}

int storage_file_hold_release(struct storage *storage, int64_t cid, const char *id,
                              struct storage_error *err)
{
	struct storage_user u = {.storage = storage, .cid = cid};
	struct storage_file_hold h = {.cid = cid, .id = id};
	struct op op = {.user = &u, .err = err, .hold = &h};
	return run(&op, true, release_txn, "upload");
}

static int check_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	if (files_folder(conn, op, err) < 0)
		return -1;
	if (op->folder <= FOLDER_ID_MAX_SYSTEM)
		return refuse(op, STORAGE_FORBIDDEN, "system folders hold no files");
	/* the publish transaction decides create vs. write; who may do neither is refused before
	   the body is synced and published for nothing */
	if (!folder_perm_may_create(&op->perm) && !folder_perm_may_write(&op->perm, true))
		return refuse(op, STORAGE_FORBIDDEN, "no permission to store files in folder %lld",
		              (long long)op->folder);
	return 0;
}

int storage_file_upload_check(struct storage_user *user, int64_t folder, struct folder_perm *perm_r,
                              struct storage_error *err)
{
	struct op op = {.user = user, .err = err, .folder = folder};
	/* on the primary, as the publish will be */
	if (run(&op, true, check_txn, "upload") < 0)
		return -1;
	*perm_r = op.perm;
	return 0;
}

/* Charges the new version of op->row (first in its write transaction: the usage row's lock
   serialises the context's uploads) and drops hold: 0, or a refusal naming the limit (what:
   "upload", "copy"), or -1 with the SQL error. */
static int charge(struct sql_conn *conn, struct op *op, const char *hold, const char *what,
                  struct sql_error *err)
{
	struct infostore_charge ch = {.cid = op->row.cid,
	                              .bytes = op->row.size,
	                              .objects = 1,
	                              .quota_bytes = op->user->ctx.quota_bytes,
	                              .max_objects = op->max_objects,
	                              .hold = hold,
	                              .now = op->row.now};
	int r = infostore_charge(conn, &ch, err);
	if (r == INFOSTORE_OVER_QUOTA)
		return refuse(op, STORAGE_OVER_LIMIT,
		              "the %s exceeds the context's quota of %lld MiB", what,
		              (long long)op->user->ctx.quota_mb);
	if (r == INFOSTORE_OVER_OBJECTS)
		return refuse(op, STORAGE_OVER_LIMIT,
		              "the context holds its limit of %lld objects (file versions and "
		              "folders)",
		              (long long)op->max_objects);
	return r < 0 ? -1 : 0;
}

/* The one write transaction of an upload. The usage row is updated first, so concurrent
   uploads to a context queue up here and each sees the others' sizes and holds. */
static int publish_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_file_upload *up = op->upload;
	const struct infostore_upload *row = &op->row;
	struct infostore_file existing;
	int64_t id, version;

	int r = charge(conn, op, up->hold, "upload", err);
	if (r < 0)
		return -1;
	if ((r = infostore_find(conn, row->cid, row->folder, row->name, &existing, err)) < 0)
		return -1;
	if (r > 0 ? !folder_perm_may_write(up->perm, existing.created_by == row->uid)
	          : !folder_perm_may_create(up->perm))
		return refuse(op, STORAGE_FORBIDDEN, "no permission to store \"%s\" in folder %lld",
		              row->name, (long long)row->folder);
	if (infostore_add_version(conn, row, r > 0 ? &existing : NULL, &id, &version, err) < 0)
		return -1;
	up->created = r == 0;
	if ((r = infostore_get(conn, row->cid, id, &up->file, err)) <= 0) {
		if (r == 0)
			sql_error_set(err, SQL_ERR_OTHER, 0, "file %lld vanished", (long long)id);
		return -1;
	}
	up->readable = folder_perm_may_read(up->perm, up->file.created_by == row->uid);
	return 0;
}

int storage_file_upload_publish(struct storage_user *user, struct storage_file_upload *up,
                                struct storage_error *err)
{
	char md5[33], location[FILESTORE_LOCATION_SIZE];
	const char *error;

	filestore_temp_md5(up->temp, md5);
	if (filestore_temp_publish(up->temp, location, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)user->cid, error);
		return storage__refuse(err, STORAGE_NO_SPACE,
		                       "the file store cannot take the upload");
	}
	struct op op = {
	    .user = user,
	    .err = err,
	    .upload = up,
	    .row = {.cid = user->cid,
	            .folder = up->folder,
	            .uid = user->uid,
	            .name = up->name,
	            .size = (int64_t)filestore_temp_size(up->temp),
	            .md5 = md5,
	            .content_type = up->content_type,
	            .location = location,
	            .now = (int64_t)time(NULL)},
	    .max_objects = user->storage->set.max_objects,
	};
	int r;
	for (int attempt = 1;; attempt++) {
		r = run(&op, true, publish_txn, "upload");
		bool constraint = err->status == STORAGE_FAILED && err->kind != NULL &&
		                  strcmp(err->kind, sql_error_kind_name(SQL_ERR_CONSTRAINT)) == 0;
		if (r == 0 || !constraint || attempt == PUBLISH_ATTEMPTS)
			break;
	}
	if (r < 0) {
		filestore_temp_unpublish(up->temp);
		return -1;
	}
	log_info("files", "cid=%lld uid=%lld stored file=%lld version=%lld size=%lld",
	         (long long)user->cid, (long long)user->uid, (long long)up->file.id,
	         (long long)up->file.version, (long long)up->file.size);
	return 0;
}

/* --- WebDAV: move and copy --- */

/* Inside a move's or copy's transaction, after the source's checks (op->file): the target
   folder and name, and a file of that name there (into *existing). 1 when that one must be
   deleted (overwrite), 0 when the way is free, 2 when the target is the source itself; or a
   refusal, or -1 with the SQL error. */
static int place_check(struct sql_conn *conn, struct op *op, struct infostore_file *existing,
                       struct sql_error *err)
{
	struct storage_user *u = op->user;
	struct storage_file_place *to = op->place;
	const char *why = infostore_check_name(to->name, strlen(to->name));
	if (why != NULL)
		return refuse(op, STORAGE_INVALID, "%s", why);
	op->folder = to->folder;
	if (files_folder(conn, op, err) < 0)
		return -1;
	if (op->folder <= FOLDER_ID_MAX_SYSTEM)
		return refuse(op, STORAGE_FORBIDDEN, "system folders hold no files");
	if (!folder_perm_may_create(&op->perm))
		return refuse(op, STORAGE_FORBIDDEN, "no permission to create files in folder %lld",
		              (long long)to->folder);
	op->what = "file lookup";
	int r = infostore_find(conn, u->cid, to->folder, to->name, existing, err);
	if (r <= 0)
		return r;
	if (existing->id == op->file->id)
		return 2;
	if (!to->overwrite) {
		refuse(op, STORAGE_INVALID, "\"%s\" exists in folder %lld", to->name,
		       (long long)to->folder);
		op->err->detail = STORAGE_DETAIL_EXISTS;
		return -1;
	}
	if (!folder_perm_may_delete(&op->perm, existing->created_by == u->uid))
		return refuse(op, STORAGE_FORBIDDEN,
		              "no permission to replace \"%s\" in folder %lld", to->name,
		              (long long)to->folder);
	return 1;
}

/* Deletes the file a move or copy replaces (place_check() said 1). */
static int replace(struct sql_conn *conn, struct op *op, const struct infostore_file *existing,
                   int64_t now, struct sql_error *err)
{
	op->what = "delete";
	if (infostore_delete(conn, op->user->cid, existing->id, now, op->locations, err) < 0)
		return -1;
	op->place->replaced = true;
	return 0;
}

static int move_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	struct infostore_file existing;
	int64_t now = (int64_t)time(NULL);
	array_clear(op->locations); /* a retried attempt starts over */
	op->place->replaced = false;
	/* the usage row first, as every change that may delete files (lock order) */
	struct infostore_charge lock = {.cid = u->cid, .now = now};
	op->what = "move";
	if (infostore_charge(conn, &lock, err) < 0)
		return -1;
	if (visible_file(conn, op, err) < 0)
		return -1;
	if (!folder_perm_may_delete(&op->perm, op->file->created_by == u->uid))
		return refuse(op, STORAGE_FORBIDDEN, "no permission to move file %lld",
		              (long long)op->id);
	int r = place_check(conn, op, &existing, err);
	if (r < 0)
		return -1;
	if (r == 2 && strcmp(existing.name, op->place->name) == 0) {
		op->place->file = *op->file; /* onto itself: nothing to do */
		return 0;
	}
	if (r == 1 && replace(conn, op, &existing, now, err) < 0)
		return -1;
	op->what = "move";
	if ((r = infostore_move(conn, u->cid, op->id, op->place->folder, op->place->name, u->uid,
	                        now, err)) > 0)
		r = infostore_get(conn, u->cid, op->id, &op->place->file, err);
	if (r == 0)
		sql_error_set(err, SQL_ERR_OTHER, 0, "file %lld vanished", (long long)op->id);
	return r > 0 ? 0 : -1;
}

int storage_file_move(struct storage_user *user, int64_t id, struct storage_file_place *to,
                      struct storage_error *err)
{
	struct infostore_file file;
	struct array locations;
	array_init(&locations, FILESTORE_LOCATION_SIZE);
	struct op op = {.user = user,
	                .err = err,
	                .id = id,
	                .file = &file,
	                .locations = &locations,
	                .place = to};
	int ret = run(&op, true, move_txn, "move");
	if (ret == 0) {
		remove_locations(user, &locations);
		log_info("files", "cid=%lld uid=%lld moved file=%lld to folder=%lld%s",
		         (long long)user->cid, (long long)user->uid, (long long)id,
		         (long long)to->folder, to->replaced ? " (replacing)" : "");
	}
	array_free(&locations);
	return ret;
}

int storage__copy_content(struct storage_user *user, int fd, struct filestore_temp **temp_r,
                          struct storage_error *err)
{
	const char *error = NULL;
	char buf[64 * 1024];
	int r = filestore_temp_create(user->ctx.filestore_root, user->cid, temp_r, &error);
	while (r == 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			error = n < 0 ? "reading the source failed" : NULL;
			break;
		}
		r = filestore_temp_write(*temp_r, buf, (size_t)n);
		error = "writing the copy failed";
	}
	if (r < 0) {
		log_error("files", "cid=%lld: copy: %s: %s", (long long)user->cid,
		          error != NULL ? error : "", strerror(-r));
		filestore_temp_destroy(temp_r);
		return storage__refuse(err, STORAGE_NO_SPACE,
		                       "the file store cannot take the copy");
	}
	return 0;
}

/* The copy's one write transaction: charged first, as an upload. */
static int copy_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->user;
	struct infostore_file existing, source;
	struct infostore_upload *row = &op->row;
	int64_t id, version;
	array_clear(op->locations);
	op->place->replaced = false;
	op->what = "copy";
	int r = charge(conn, op, NULL, "copy", err);
	if (r < 0)
		return -1;
	/* the source again (it may have gone since its content was read) */
	op->file = &source;
	if (visible_file(conn, op, err) < 0)
		return -1;
	if ((r = place_check(conn, op, &existing, err)) < 0)
		return -1;
	if (r == 2)
		return refuse(op, STORAGE_FORBIDDEN, "a file cannot be copied onto itself");
	if (r == 1 && replace(conn, op, &existing, row->now, err) < 0)
		return -1;
	op->what = "copy";
	if (infostore_add_version(conn, row, NULL, &id, &version, err) < 0 ||
	    dav_props_copy(conn, u->cid, DAV_PROPS_FILE, op->id, id, err) < 0)
		return -1;
	if ((r = infostore_get(conn, u->cid, id, &op->place->file, err)) <= 0) {
		if (r == 0)
			sql_error_set(err, SQL_ERR_OTHER, 0, "file %lld vanished", (long long)id);
		return -1;
	}
	return 0;
}

int storage_file_copy(struct storage_user *user, int64_t id, struct storage_file_place *to,
                      struct storage_error *err)
{
	struct infostore_file file;
	struct infostore_version v;
	struct filestore_temp *temp = NULL;
	char md5[33], location[FILESTORE_LOCATION_SIZE];
	const char *error;
	struct array locations;
	int fd = -1, ret = -1;

	array_init(&locations, FILESTORE_LOCATION_SIZE);
	if (storage_file_open(user, id, 0, &file, &v, &fd, err) < 0)
		goto out;
	if (storage__copy_content(user, fd, &temp, err) < 0)
		goto out;
	filestore_temp_md5(temp, md5);
	if (filestore_temp_publish(temp, location, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)user->cid, error);
		storage__refuse(err, STORAGE_NO_SPACE, "the file store cannot take the copy");
		goto out;
	}
	struct op op = {
	    .user = user,
	    .err = err,
	    .id = id,
	    .locations = &locations,
	    .place = to,
	    .row = {.cid = user->cid,
	            .folder = to->folder,
	            .uid = user->uid,
	            .name = to->name,
	            .size = (int64_t)filestore_temp_size(temp),
	            .md5 = md5,
	            .content_type = file.content_type,
	            .location = location,
	            .now = (int64_t)time(NULL)},
	    .max_objects = user->storage->set.max_objects,
	};
	if (run(&op, true, copy_txn, "copy") < 0) {
		filestore_temp_unpublish(temp);
		goto out;
	}
	remove_locations(user, &locations);
	log_info("files", "cid=%lld uid=%lld copied file=%lld to file=%lld size=%lld",
	         (long long)user->cid, (long long)user->uid, (long long)id, (long long)to->file.id,
	         (long long)to->file.size);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	filestore_temp_destroy(&temp);
	array_free(&locations);
	return ret;
}
