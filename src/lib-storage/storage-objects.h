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

#include "folder.h"
#include "pool.h"
#include "sql.h"
#include "storage-private.h"

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

/* --- the generic folder-object layer: what calendar objects and contacts share --- */

/* A kind of folder object: its table, the folder modules that hold it, its text column
   and its listing order, and the words its messages use. */
struct storage_obj_kind {
	const char *table;          /* "cal_object" */
	const char *const *modules; /* NULL-terminated: the folder modules holding it */
	const char *holds;          /* "events or tasks": what a wrong folder is told */
	const char *noun;           /* "objects", "contacts" */
	const char *text_col;       /* "ical", "vcard" */
	const char *order;          /* "id", "fn, id" */
};

/* What one call's transaction needs and produced (the first member of each module's own
   op, which passes itself as the transaction's ctx); what names the step running. */
struct storage_obj_op {
	const struct storage_obj_kind *kind;
	struct storage_user *user;
	const char *what;
	struct storage_error *err;
	int64_t folder, since;
	size_t max;
	struct folder_perm perm;
	char module[FOLDER_MODULE_MAX];
	int problem; /* the module's storage_*_problem of a refusal */
	json_t *json;
	struct storage_obj_text *items; /* texts: room for max */
	size_t count;
};

/* A refusal with its problem (see storage__refuse). Returns -1. */
int storage_obj_refuse(struct storage_obj_op *op, enum storage_refusal why, int problem,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* storage__run of fn with ctx (whose first member is op). */
int storage_obj_run(struct storage_obj_op *op, void *ctx, bool write, storage_txn_fn *fn,
                    const char *what);
/* The user's rights on op->folder, which must hold op->kind: 0 with op->perm and
   op->module, or a refusal (404 when it is not visible, 400 when it holds something else),
   -1 on SQL error. */
int storage_obj_folder(struct sql_conn *conn, struct storage_obj_op *op, struct sql_error *err);
/* As storage_obj_folder, and the folder readable (else 403). */
int storage_obj_readable(struct sql_conn *conn, struct storage_obj_op *op, struct sql_error *err);
/* The creator to restrict reads to ("read own"), or 0 for all. */
int64_t storage_obj_own_only(const struct storage_obj_op *op);
/* sql (SELECT … FROM table WHERE cid=? AND folder=? AND (?=0 OR created_by=?) …) prepared
   with those four bound for op's folder and reader; the caller binds from 5. */
struct sql_stmt *storage_obj_folder_rows(struct sql_conn *conn, const struct storage_obj_op *op,
                                         const char *sql, struct sql_error *err);

/* The public calls every kind shares (see storage_cal_export, _changes, _revision). */
int storage_obj_texts(const struct storage_obj_kind *kind, struct storage_user *user,
                      int64_t folder, size_t max, struct storage_obj_text **items_r,
                      size_t *count_r, struct storage_error *err);
int storage_obj_export(const struct storage_obj_kind *kind, struct storage_user *user,
                       int64_t folder, size_t max, const char ***texts_r, size_t *count_r,
                       struct storage_error *err);
int storage_obj_folder_changes(const struct storage_obj_kind *kind, struct storage_user *user,
                               int64_t folder, int64_t since, size_t max, json_t **result_r,
                               struct storage_error *err);
int storage_obj_folder_revision(const struct storage_obj_kind *kind, struct storage_user *user,
                                int64_t folder, int64_t *revision_r, char module_r[16],
                                struct storage_error *err);

#endif
