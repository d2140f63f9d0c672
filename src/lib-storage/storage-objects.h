/* SPDX-License-Identifier: MIT */
/* What calendar and contact objects share (docs/internals/calendar.md "Revisions and sync"):
   ids from the context's sequence, the per-folder revision counter (cal_folder_revision),
   tombstones of deleted objects (cal_tombstone), strong ETags, resource names, and the
   "changes since a revision" answer merged from an object table and the tombstones. Every
   call runs inside the caller's transaction; -1 is an SQL error in err. */
#ifndef TANDEM_STORAGE_OBJECTS_H
#define TANDEM_STORAGE_OBJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "sql.h"

#define STORAGE_OBJ_NAME_MAX 255

/* A fresh id from the context's sequence. */
int storage_obj_next_id(struct sql_conn *conn, int64_t cid, int64_t *id_r, struct sql_error *err);
/* The folder's next revision (its row locked for the rest of the transaction). */
int storage_obj_next_revision(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t *rev_r,
                              struct sql_error *err);
/* The folder's current revision (0 before its first change). */
int storage_obj_revision(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t *rev_r,
                         struct sql_error *err);
/* How long tombstones are kept (seconds; 0 = for ever). Process-wide, set by
   storage_create(). */
void storage_obj_set_tombstone_keep(int64_t seconds);
/* Deletes object id (named name in folder, made by created_by) from table, leaving a
   tombstone at the folder's next revision; prunes the folder's tombstones older than the
   keep time, remembering the highest revision pruned (storage_obj_changes). */
int storage_obj_remove(struct sql_conn *conn, const char *table, int64_t cid, int64_t folder,
                       int64_t id, const char *name, int64_t created_by, struct sql_error *err);
/* A name stored again is no longer deleted for sync: drops its tombstone. */
int storage_obj_untombstone(struct sql_conn *conn, int64_t cid, int64_t folder, const char *name,
                            struct sql_error *err);

struct storage_user;
struct storage_error;
/* Charges objects (negative: gives them back) to the user's context under its object limit:
   0, -1 with serr refused (STORAGE_OVER_LIMIT) or with err set (SQL). */
int storage_obj_charge(struct sql_conn *conn, struct storage_user *user, int64_t objects,
                       struct storage_error *serr, struct sql_error *err);

/* The strong ETag of a text: the first 128 bits of its SHA-256, hex, NUL-terminated. */
void storage_obj_etag(const char *text, size_t len, char out[33]);
/* NULL when name is a valid resource name (1-255 bytes, no '/', no control characters, not
   "." or ".."), else what is wrong with it. */
const char *storage_obj_check_name(const char *name);
/* "<uid><ext>" when the UID makes a plain name, else "<id><ext>" (ext: ".ics", ".vcf"). */
const char *storage_obj_default_name(struct pool *pool, const char *uid, int64_t id,
                                     const char *ext);

/* What changed in folder after revision since, for a reader restricted to its own objects
   when own > 0: {"revision": now, "changed": [{id, name, etag, revision}], "deleted": [{id,
   name, revision}], "more": bool} from table (an object table with id, name, revision, etag,
   created_by) and cal_tombstone, at most max entries, the oldest first; with more, "revision"
   is the last one answered. 0 with *result_r; 1 when since is not a revision of the folder
   (negative or above its revision, *now_r) or one from before tombstones it would need were
   pruned; -1. */
int storage_obj_changes(struct sql_conn *conn, const char *table, int64_t cid, int64_t folder,
                        int64_t own, int64_t since, size_t max, json_t **result_r, int64_t *now_r,
                        struct sql_error *err);

#endif
