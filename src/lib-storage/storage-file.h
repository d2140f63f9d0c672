/* SPDX-License-Identifier: MIT */
/* A user's file operations over the infostore and the filestore, each in a transaction of its
   own, and the quota holds and publishing of streamed uploads (docs/internals/storage.md). */
#ifndef TANDEM_STORAGE_FILE_H
#define TANDEM_STORAGE_FILE_H

#include "folder.h"
#include "infostore.h"
#include "storage.h"

/* Every call returns 0, or -1 with err: err->what names the step that failed on a database
   error; a refusal (STORAGE_REFUSED) has its reason and message. Results live in the user's
   pool or in what the caller passes. */

/* The files of folder the user may read ({"files": …} of docs/api.md): own ones only with
   "read own". */
int storage_file_list(struct storage_user *user, int64_t folder, json_t **files_r,
                      struct storage_error *err);
/* A file the user may read, and its versions as JSON (a new reference). */
int storage_file_info(struct storage_user *user, int64_t id, struct infostore_file *file_r,
                      json_t **versions_r, struct storage_error *err);
/* A file's content: version (0 = the current one) opened for reading into *fd_r (the caller
   closes it), checked against the size the rows give (STORAGE_BROKEN when it differs or is
   missing, logged). */
int storage_file_open(struct storage_user *user, int64_t id, int64_t version,
                      struct infostore_file *file_r, struct infostore_version *version_r, int *fd_r,
                      struct storage_error *err);
/* Deletes a file with all its versions; their content goes after the commit. */
int storage_file_delete(struct storage_user *user, int64_t id, struct storage_error *err);

/* --- uploads --- */

/* An upload that is still arriving sets its hold again at least this often; a hold lapses
   this long plus one body timeout after it was last set twice over. */
#define STORAGE_FILE_HOLD_REFRESH_S 20

/* An upload's hold on its context's quota (infostore_reserve()): what must fit, what is
   wanted, and when. */
struct storage_file_hold {
	int64_t cid;
	const char *id;
	int64_t need, want;
	int64_t quota_bytes; /* > 0 */
	int64_t quota_mb;    /* for the refusal's message */
	int64_t now;         /* unix seconds */
};
/* Sets the hold to what fits between need and want, into *held_r (STORAGE_OVER_LIMIT when not
   even need fits). Work of an upload outlives its request, so these take the storage. */
int storage_file_hold_set(struct storage *storage, const struct storage_file_hold *hold,
                          int64_t *held_r, struct storage_error *err);
/* Drops a hold. On failure it lapses by itself. */
int storage_file_hold_release(struct storage *storage, int64_t cid, const char *id,
                              struct storage_error *err);

/* May the user store files in folder (before the body is synced for nothing)? 0 with the
   user's rights, or -1: not visible, not a files folder, a system folder, no right to create
   or write. */
int storage_file_upload_check(struct storage_user *user, int64_t folder, struct folder_perm *perm_r,
                              struct storage_error *err);

/* A received upload to publish: the temp file becomes a new file, or the next version of the
   file of that name. */
struct storage_file_upload {
	int64_t folder;
	const char *name;
	const char *content_type;
	const char *hold;               /* its quota hold, dropped by the commit; or NULL */
	const struct folder_perm *perm; /* from storage_file_upload_check() */
	struct filestore_temp *temp;    /* the caller's; published (fsync, rename) here */
	/* results */
	bool created;
	struct infostore_file file;
	bool readable; /* the user may read the file (as storage__file_visible decides) */
};
/* Publishes the temp file and adds the rows in one write transaction, charging the quota and
   the object limit; the temp file is unpublished again when that fails. */
int storage_file_upload_publish(struct storage_user *user, struct storage_file_upload *upload,
                                struct storage_error *err);

/* --- WebDAV: move and copy (docs/internals/storage.md "For WebDAV") --- */

/* Where a file goes. */
struct storage_file_place {
	int64_t folder;   /* the target folder (a files folder, not a system one) */
	const char *name; /* its name there: infostore_check_name()'s refusal is STORAGE_INVALID */
	bool overwrite;   /* replace a file of that name (deleted in the same transaction) */
	/* results */
	bool replaced;              /* a file of that name was there and is gone now */
	struct infostore_file file; /* the moved file, or the new copy */
};

/* Moves or renames file id, keeping its id, versions and dead properties, in one write
   transaction: the right to delete it where it is (as the JSON API's delete), to create in
   the target. A file of that name there: STORAGE_INVALID with STORAGE_DETAIL_EXISTS unless
   overwrite, which needs the right to delete that file and deletes it (all its versions;
   their content goes after the commit). The file itself as target is a no-op. */
int storage_file_move(struct storage_user *user, int64_t id, struct storage_file_place *to,
                      struct storage_error *err);
/* Copies file id's current version (content copied in the filestore, content type, dead
   properties) as a new file, charged exactly as an upload (quota, object limit:
   STORAGE_OVER_LIMIT, nothing left; STORAGE_NO_SPACE when the store cannot take it): needs the
   right to read it and to create in the target; a file of the name there as for a move (the
   charge is checked before the replaced file's bytes come off). The file itself as target:
   STORAGE_FORBIDDEN. */
int storage_file_copy(struct storage_user *user, int64_t id, struct storage_file_place *to,
                      struct storage_error *err);

#endif
