/* SPDX-License-Identifier: MIT */
/* The infostore in a user schema: files with versions (`infostore`, `infostore_version`), the
   context's usage row with its limits (quota, object count) and the holds of uploads in
   progress, tombstones; and the consistency check against the
   filestore. SQL only: callers own connections and transactions unless a function says. */
#ifndef TANDEM_INFOSTORE_H
#define TANDEM_INFOSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "array.h"
#include "filestore.h"
#include "strv.h"

struct sql_conn;
struct sql_error;

#define INFOSTORE_NAME_MAX         255 /* bytes of UTF-8 */
#define INFOSTORE_TYPE_MAX         128
#define INFOSTORE_DEFAULT_TYPE     "application/octet-stream"
#define INFOSTORE_TOMBSTONE_MODULE "file"

/* One row of `infostore`: the file and the state of its current version. */
struct infostore_file {
	int64_t id;
	int64_t folder;
	char name[INFOSTORE_NAME_MAX + 1];
	int64_t version;
	int64_t size;
	char md5[33];
	char content_type[INFOSTORE_TYPE_MAX + 1];
	int64_t created, modified; /* unix seconds */
	int64_t created_by, modified_by;
};

/* One row of `infostore_version`. */
struct infostore_version {
	int64_t file;
	int64_t version;
	int64_t size;
	char md5[33];
	char content_type[INFOSTORE_TYPE_MAX + 1];
	char location[FILESTORE_LOCATION_SIZE];
	int64_t created, created_by;
};

/* NULL if name[0..len) may name a file, else a static message: empty, longer than 255 bytes,
   not UTF-8, containing '/', NUL or another control character, or "." / "..". Names are only
   ever stored in the database; they never become paths. */
const char *infostore_check_name(const char *name, size_t len);
/* NULL if type is an acceptable Content-Type to store (1-128 bytes, "x/y", printable ASCII;
   parameters allowed), else a static message. */
const char *infostore_check_content_type(struct strv type);

/* What a change adds to its context's usage row. The objects are file versions, folders
   other than system and default ones, and events and tasks (docs/internals/filestore.md
   "Limits"). */
struct infostore_charge {
	int64_t cid;
	int64_t bytes;       /* added to the usage */
	int64_t objects;     /* added to the object count */
	int64_t quota_bytes; /* 0 = unlimited; checked when bytes > 0 */
	int64_t max_objects; /* 0 = unlimited; checked when objects > 0 */
	const char *hold;    /* the upload's hold (infostore_reserve), dropped here; or NULL */
	int64_t now;         /* unix seconds: holds expired by then do not count */
};
#define INFOSTORE_OVER_QUOTA   1
#define INFOSTORE_OVER_OBJECTS 2

/* Adds to the usage row and checks the limits: the usage and every other live hold together
   within the quota, the object count within max_objects. Run it first in the write
   transaction: the usage row's lock serialises the context's uploads, holds and folder
   changes, so two of them cannot both slip under a limit. Returns 0, INFOSTORE_OVER_QUOTA or
   INFOSTORE_OVER_OBJECTS (the caller rolls back), -1 on SQL error. */
int infostore_charge(struct sql_conn *conn, const struct infostore_charge *charge,
                     struct sql_error *err);
/* The usage row's bytes and object count: 1 found, 0 none, -1 error. */
int infostore_usage(struct sql_conn *conn, int64_t cid, int64_t *used_r, int64_t *objects_r,
                    struct sql_error *err);

/* Bytes held by the context's holds that are live at now. 0 or -1. */
int infostore_held(struct sql_conn *conn, int64_t cid, int64_t now, int64_t *held_r,
                   struct sql_error *err);

/* An upload's hold on its context's quota while its bytes arrive: one row per upload, grown
   as bytes come, that lapses at expires unless set again (so a crashed node's holds do not
   count for long) and that infostore_charge() drops when the upload commits. */
#define INFOSTORE_HOLD_ID_MAX 64
struct infostore_hold {
	int64_t cid;
	const char *id;      /* unique per upload, 1-64 characters */
	int64_t need;        /* must fit beside the usage and the other holds */
	int64_t want;        /* held if it fits, else as much as does (at least need) */
	int64_t quota_bytes; /* > 0 */
	int64_t now;         /* unix seconds: holds expired by then do not count */
	int64_t expires;     /* unix seconds */
};
/* Sets the hold (first in a write transaction of its own, as infostore_charge) to what fits
   between need and want, into *held_r, and drops the context's expired holds. Returns 0,
   INFOSTORE_OVER_QUOTA when not even need fits (the caller rolls back), -1 on SQL error. */
int infostore_reserve(struct sql_conn *conn, const struct infostore_hold *hold, int64_t *held_r,
                      struct sql_error *err);
/* Drops a hold in a write transaction of its own. 0 or -1. */
int infostore_release(struct sql_conn *conn, int64_t cid, const char *id, struct sql_error *err);

/* Rows of a file: 1 found (*file_r set), 0 none, -1 error. */
int infostore_get(struct sql_conn *conn, int64_t cid, int64_t id, struct infostore_file *file_r,
                  struct sql_error *err);
int infostore_find(struct sql_conn *conn, int64_t cid, int64_t folder, const char *name,
                   struct infostore_file *file_r, struct sql_error *err);
int infostore_get_version(struct sql_conn *conn, int64_t cid, int64_t id, int64_t version,
                          struct infostore_version *version_r, struct sql_error *err);

/* What a published upload becomes. */
struct infostore_upload {
	int64_t cid, folder, uid;
	const char *name; /* checked with infostore_check_name */
	int64_t size;
	const char *md5;
	const char *content_type;
	const char *location; /* where filestore_temp_publish put it */
	int64_t now;          /* unix seconds */
};

/* Adds the upload as version 1 of a new file (existing == NULL; the id comes from the
   context's sequence) or as the next version of existing. Usage and object count are not
   touched (see infostore_charge). Returns 0 with *id_r and *version_r, -1 on SQL error (a
   constraint error means another upload created the same name meanwhile). */
int infostore_add_version(struct sql_conn *conn, const struct infostore_upload *up,
                          const struct infostore_file *existing, int64_t *id_r, int64_t *version_r,
                          struct sql_error *err);

/* Moves file id to folder under name (checked by the caller), as uid at now: 1 moved, 0 no
   such file, -1 on error (a constraint error: the name is taken there). */
int infostore_move(struct sql_conn *conn, int64_t cid, int64_t id, int64_t folder, const char *name,
                   int64_t uid, int64_t now, struct sql_error *err);

/* Deletes a file with all its versions in the caller's write transaction: takes their sizes
   and count off the usage row and leaves a tombstone. The versions' locations
   (char[FILESTORE_LOCATION_SIZE]) are appended to locations, for filestore_remove() after the
   commit. Returns 1 deleted, 0 no such file, -1 error. */
int infostore_delete(struct sql_conn *conn, int64_t cid, int64_t id, int64_t now,
                     struct array *locations, struct sql_error *err);

/* Up to max files of folder whose name sorts after after (NULL or "": from the first), in
   name order (the UNIQUE (cid, folder, name) index serves it, so a page costs its own size
   however large the folder), only those created by creator when creator > 0; into files_r
   (max entries, the caller's). 0 with *count_r (< max: no more), -1 on error. */
int infostore_list_page(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t creator,
                        const char *after, size_t max, struct infostore_file *files_r,
                        size_t *count_r, struct sql_error *err);

/* JSON shapes of docs/api.md: a file object, the files of a folder sorted by name (only those
   created by creator when creator > 0), a file's versions (newest first). New references;
   NULL with err on error. */
json_t *infostore_file_json(const struct infostore_file *file);
json_t *infostore_list(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t creator,
                       struct sql_error *err);
json_t *infostore_versions_json(struct sql_conn *conn, int64_t cid, int64_t id,
                                struct sql_error *err);

/* Compares the context's rows with its filestore: files nobody references (orphans), rows
   whose file is missing, temp files left by crashed uploads, entries that do not belong, and
   the usage row against the sum of all version sizes. Files an upload still holds (writing,
   or published and committing) are left alone and listed as in progress. With repair: removes
   orphans and stale temp files, drops version rows whose file is missing (a file left without
   versions is deleted with a tombstone; one that lost its current version falls back to the
   newest remaining one), and sets the usage row to the sum; unknown entries are only listed.
   Runs its own short transactions on conn (none may be open). Returns 0 with *report_r (see
   docs/internals/filestore.md), or -1 with err (SQL errors, and filesystem errors as
   SQL_ERR_OTHER with native = errno). */
int infostore_check_consistency(struct sql_conn *conn, int64_t cid, const char *filestore_root,
                                bool repair, json_t **report_r, struct sql_error *err);

#endif
