/* SPDX-License-Identifier: MIT */
/* Ids, revisions, tombstones, ETags, names and changes shared by calendar and contacts. */
#include "storage-objects.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "infostore.h"
#include "storage-private.h"

int storage_obj_next_id(struct sql_conn *conn, int64_t cid, int64_t *id_r, struct sql_error *err)
{
	int64_t next;
	if (sql_run_changes(conn, err, "UPDATE ctx_sequence SET next_id=next_id+1 WHERE cid=?", "i",
	                    cid) != 1 ||
	    sql_query_int64(conn, err, &next, "SELECT next_id FROM ctx_sequence WHERE cid=?", "i",
	                    cid) <= 0) {
		if (err->kind == SQL_ERR_NONE)
			sql_error_set(err, SQL_ERR_OTHER, 0, "context %lld has no id sequence",
			              (long long)cid);
		return -1;
	}
	*id_r = next - 1;
	return 0;
}

int storage_obj_next_revision(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t *rev_r,
                              struct sql_error *err)
{
	int64_t n = sql_run_changes(conn, err,
	                            "UPDATE cal_folder_revision SET revision=revision+1 WHERE "
	                            "cid=? AND folder=?",
	                            "ii", cid, folder);
	if (n < 0)
		return -1;
	if (n == 0 && sql_run(conn, err,
	                      "INSERT INTO cal_folder_revision (cid, folder, revision) VALUES "
	                      "(?, ?, 1)",
	                      "ii", cid, folder) < 0)
		return -1;
	return sql_query_int64(conn, err, rev_r,
	                       "SELECT revision FROM cal_folder_revision WHERE cid=? AND folder=?",
	                       "ii", cid, folder) > 0
	           ? 0
	           : -1;
}

int storage_obj_revision(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t *rev_r,
                         struct sql_error *err)
{
	*rev_r = 0;
	return sql_query_int64(conn, err, rev_r,
	                       "SELECT revision FROM cal_folder_revision WHERE cid=? AND folder=?",
	                       "ii", cid, folder) < 0
	           ? -1
	           : 0;
}

static _Atomic int64_t tombstone_keep_s;

void storage_obj_set_tombstone_keep(int64_t seconds)
{
	tombstone_keep_s = seconds;
}

/* Drops folder's tombstones left before cutoff. Revisions grow with time, so they are those
   up to the highest revision among them, which becomes the folder's "pruned": a sync from
   an older revision would miss their deletions. */
static int prune(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t cutoff,
                 struct sql_error *err)
{
	int64_t upto = 0;
	if (sql_query_int64(conn, err, &upto,
	                    "SELECT COALESCE(MAX(revision), 0) FROM cal_tombstone WHERE cid=? AND "
	                    "folder=? AND deleted<?",
	                    "iii", cid, folder, cutoff) < 0)
		return -1;
	if (upto == 0)
		return 0;
	return sql_run(conn, err,
	               "UPDATE cal_folder_revision SET pruned=? WHERE cid=? AND folder=? AND "
	               "pruned<?",
	               "iiii", upto, cid, folder, upto) < 0 ||
	               sql_run(conn, err,
	                       "DELETE FROM cal_tombstone WHERE cid=? AND folder=? AND revision<=?",
	                       "iii", cid, folder, upto) < 0
	           ? -1
	           : 0;
}

int storage_obj_remove(struct sql_conn *conn, const char *table, int64_t cid, int64_t folder,
                       int64_t id, const char *name, int64_t created_by, struct sql_error *err)
{
	char sql[96];
	int64_t rev, now = (int64_t)time(NULL), keep = tombstone_keep_s;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE cid=? AND id=?", table);
	if (storage_obj_next_revision(conn, cid, folder, &rev, err) < 0 ||
	    sql_run(conn, err, sql, "ii", cid, id) < 0 ||
	    sql_run(conn, err,
	            "INSERT INTO cal_tombstone (cid, folder, id, name, revision, created_by, "
	            "deleted) VALUES (?, ?, ?, ?, ?, ?, ?)",
	            "iiisiii", cid, folder, id, name, rev, created_by, now) < 0)
		return -1;
	return keep > 0 ? prune(conn, cid, folder, now - keep, err) : 0;
}

int storage_obj_untombstone(struct sql_conn *conn, int64_t cid, int64_t folder, const char *name,
                            struct sql_error *err)
{
	return sql_run(conn, err, "DELETE FROM cal_tombstone WHERE cid=? AND folder=? AND name=?",
	               "iis", cid, folder, name);
}

int storage_obj_charge(struct sql_conn *conn, struct storage_user *user, int64_t objects,
                       struct storage_error *serr, struct sql_error *err)
{
	struct infostore_charge ch = {.cid = user->cid,
	                              .objects = objects,
	                              .max_objects = user->storage->set.max_objects,
	                              .now = (int64_t)time(NULL)};
	int r = infostore_charge(conn, &ch, err);
	if (r == INFOSTORE_OVER_OBJECTS)
		return storage__refuse(serr, STORAGE_OVER_LIMIT,
		                       "the context holds its limit of %lld objects",
		                       (long long)ch.max_objects);
	return r < 0 ? -1 : 0;
}

void storage_obj_etag(const char *text, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";
	EVP_Digest(text, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

const char *storage_obj_check_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > STORAGE_OBJ_NAME_MAX)
		return "must be 1 to 255 bytes";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "must not be . or ..";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == '/' || name[i] == 0x7f)
			return "must not hold '/' or control characters";
	return NULL;
}

const char *storage_obj_default_name(struct pool *pool, const char *uid, int64_t id,
                                     const char *ext)
{
	size_t n = strlen(uid);
	bool plain = n > 0 && n <= 200 && uid[0] != '.';
	for (size_t i = 0; i < n && plain; i++)
		plain = (uid[i] >= 'a' && uid[i] <= 'z') || (uid[i] >= 'A' && uid[i] <= 'Z') ||
		        (uid[i] >= '0' && uid[i] <= '9') || strchr("@._-+", uid[i]) != NULL;
	return plain ? pool_printf(pool, "%s%s", uid, ext)
	             : pool_printf(pool, "%lld%s", (long long)id, ext);
}

/* Up to max+1 rows (id, name, revision[, etag]) of table after since into list. */
static int collect(struct sql_conn *conn, const char *table, bool changed, int64_t cid,
                   int64_t folder, int64_t own, int64_t since, size_t max, json_t *list,
                   struct sql_error *err)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT id, name, revision%s FROM %s WHERE cid=? AND folder=? AND (?=0 OR "
	         "created_by=?) AND revision>? ORDER BY revision LIMIT ?",
	         changed ? ", etag" : "", table);
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	sql_bind_int64(s, 2, folder);
	sql_bind_int64(s, 3, own);
	sql_bind_int64(s, 4, own);
	sql_bind_int64(s, 5, since);
	sql_bind_int64(s, 6, (int64_t)max + 1);
	int r;
	while ((r = sql_step(s, err)) > 0) {
		json_t *j =
		    json_pack("{sI ss sI}", "id", (json_int_t)sql_col_int64(s, 0), "name",
		              sql_col_text(s, 1), "revision", (json_int_t)sql_col_int64(s, 2));
		if (changed)
			json_object_set_new(j, "etag", json_string(sql_col_text(s, 3)));
		json_array_append_new(list, j);
	}
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

static int64_t rev_at(json_t *list, size_t i)
{
	return (int64_t)json_integer_value(json_object_get(json_array_get(list, i), "revision"));
}

int storage_obj_changes(struct sql_conn *conn, const char *table, int64_t cid, int64_t folder,
                        int64_t own, int64_t since, size_t max, json_t **result_r, int64_t *now_r,
                        struct sql_error *err)
{
	int64_t now, pruned = 0;
	*result_r = NULL;
	if (storage_obj_revision(conn, cid, folder, &now, err) < 0 ||
	    sql_query_int64(conn, err, &pruned,
	                    "SELECT pruned FROM cal_folder_revision WHERE cid=? AND folder=?", "ii",
	                    cid, folder) < 0)
		return -1;
	*now_r = now;
	if (since > now || since < 0 || (since > 0 && since < pruned))
		return 1;
	json_t *changed = json_array(), *deleted = json_array();
	json_t *j = json_pack("{sI so so sb}", "revision", (json_int_t)now, "changed", changed,
	                      "deleted", deleted, "more", false);
	if (collect(conn, table, true, cid, folder, own, since, max, changed, err) < 0 ||
	    collect(conn, "cal_tombstone", false, cid, folder, own, since, max, deleted, err) < 0) {
		json_decref(j);
		return -1;
	}
	/* the oldest max of both, merged by revision: cut where the max-th one is */
	size_t a = 0, b = 0, na = json_array_size(changed), nb = json_array_size(deleted);
	int64_t last = since;
	while (a + b < max && (a < na || b < nb)) {
		if (b >= nb || (a < na && rev_at(changed, a) < rev_at(deleted, b)))
			last = rev_at(changed, a++);
		else
			last = rev_at(deleted, b++);
	}
	if (a < na || b < nb) {
		while (json_array_size(changed) > a)
			json_array_remove(changed, a);
		while (json_array_size(deleted) > b)
			json_array_remove(deleted, b);
		json_object_set_new(j, "revision", json_integer(last));
		json_object_set_new(j, "more", json_true());
	}
	*result_r = j;
	return 0;
}

/* --- the generic folder-object layer --- */

int storage_obj_refuse(struct storage_obj_op *op, enum storage_refusal why, int problem,
                       const char *fmt, ...)
{
	va_list args;
	char msg[sizeof(op->err->message)];
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	op->problem = problem;
	return storage__refuse(op->err, why, "%s", msg);
}

int storage_obj_run(struct storage_obj_op *op, void *ctx, bool write, storage_txn_fn *fn,
                    const char *what)
{
	op->what = what;
	op->problem = 0;
	return storage__run(op->user, write, fn, ctx, &op->what, op->err);
}

int storage_obj_folder(struct sql_conn *conn, struct storage_obj_op *op, struct sql_error *err)
{
	struct storage_user *u = op->user;
	op->what = "folder lookup";
	int r = folder_access(conn, u->cid, u->uid, op->folder, &op->perm, err);
	if (r > 0)
		r = folder_module(conn, u->cid, op->folder, op->module, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return storage_obj_refuse(op, STORAGE_NOT_FOUND, 0, "folder %lld not found",
		                          (long long)op->folder);
	for (const char *const *m = op->kind->modules; *m != NULL; m++)
		if (strcmp(op->module, *m) == 0)
			return 0;
	return storage_obj_refuse(op, STORAGE_INVALID, 0, "folder %lld holds %s, not %s",
	                          (long long)op->folder, op->module, op->kind->holds);
}

int storage_obj_readable(struct sql_conn *conn, struct storage_obj_op *op, struct sql_error *err)
{
	if (storage_obj_folder(conn, op, err) < 0)
		return -1;
	if (!folder_perm_may_read(&op->perm, true))
		return storage_obj_refuse(op, STORAGE_FORBIDDEN, 0,
		                          "no permission to read folder %lld",
		                          (long long)op->folder);
	return 0;
}

int64_t storage_obj_own_only(const struct storage_obj_op *op)
{
	return folder_perm_may_read(&op->perm, false) ? 0 : op->user->uid;
}

struct sql_stmt *storage_obj_folder_rows(struct sql_conn *conn, const struct storage_obj_op *op,
                                         const char *sql, struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return NULL;
	int64_t own = storage_obj_own_only(op);
	sql_bind_int64(s, 1, op->user->cid);
	sql_bind_int64(s, 2, op->folder);
	sql_bind_int64(s, 3, own);
	sql_bind_int64(s, 4, own);
	return s;
}

static int export_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct storage_obj_op *op = ctx;
	char sql[256];
	op->count = 0;
	if (storage_obj_readable(conn, op, err) < 0)
		return -1;
	op->what = "export";
	snprintf(sql, sizeof(sql),
	         "SELECT %s, name, etag FROM %s WHERE cid=? AND folder=? AND (?=0 OR "
	         "created_by=?) ORDER BY %s",
	         op->kind->text_col, op->kind->table, op->kind->order);
	struct sql_stmt *s = storage_obj_folder_rows(conn, op, sql, err);
	if (s == NULL)
		return -1;
	int r;
	while ((r = sql_step(s, err)) > 0 && op->count < op->max) {
		struct storage_obj_text *t = &op->items[op->count++];
		const char *v = sql_col_text(s, 0), *name = sql_col_text(s, 1);
		const char *etag = sql_col_text(s, 2);
		t->text = pool_strdup(op->user->pool, v != NULL ? v : "");
		t->len = strlen(t->text);
		t->name = pool_strdup(op->user->pool, name != NULL ? name : "");
		t->etag = pool_strdup(op->user->pool, etag != NULL ? etag : "");
	}
	sql_stmt_done(&s);
	if (r < 0)
		return -1;
	if (r > 0)
		return storage_obj_refuse(op, STORAGE_OVER_LIMIT, 0,
		                          "folder %lld holds more than %zu %s to export",
		                          (long long)op->folder, op->max, op->kind->noun);
	return 0;
}

int storage_obj_texts(const struct storage_obj_kind *kind, struct storage_user *user,
                      int64_t folder, size_t max, struct storage_obj_text **items_r,
                      size_t *count_r, struct storage_error *err)
{
	struct storage_obj_op op = {
	    .kind = kind, .user = user, .err = err, .folder = folder, .max = max};
	op.items = pool_calloc(user->pool, max + 1, sizeof(*op.items));
	if (storage_obj_run(&op, &op, false, export_txn, "export") < 0)
		return -1;
	*items_r = op.items;
	*count_r = op.count;
	return 0;
}

int storage_obj_export(const struct storage_obj_kind *kind, struct storage_user *user,
                       int64_t folder, size_t max, const char ***texts_r, size_t *count_r,
                       struct storage_error *err)
{
	struct storage_obj_text *items;
	if (storage_obj_texts(kind, user, folder, max, &items, count_r, err) < 0)
		return -1;
	const char **texts = pool_calloc(user->pool, *count_r + 1, sizeof(*texts));
	for (size_t i = 0; i < *count_r; i++)
		texts[i] = items[i].text;
	*texts_r = texts;
	return 0;
}

static int changes_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct storage_obj_op *op = ctx;
	int64_t now;
	json_decref(op->json); /* a retried attempt starts over */
	op->json = NULL;
	if (storage_obj_readable(conn, op, err) < 0)
		return -1;
	op->what = "changes";
	int r =
	    storage_obj_changes(conn, op->kind->table, op->user->cid, op->folder,
	                        storage_obj_own_only(op), op->since, op->max, &op->json, &now, err);
	if (r > 0)
		return storage_obj_refuse(op, STORAGE_INVALID, 0,
		                          "revision %lld is unknown in folder %lld (it is at %lld)",
		                          (long long)op->since, (long long)op->folder,
		                          (long long)now);
	return r;
}

int storage_obj_folder_changes(const struct storage_obj_kind *kind, struct storage_user *user,
                               int64_t folder, int64_t since, size_t max, json_t **result_r,
                               struct storage_error *err)
{
	struct storage_obj_op op = {
	    .kind = kind, .user = user, .err = err, .folder = folder, .since = since, .max = max};
	if (storage_obj_run(&op, &op, false, changes_txn, "changes") < 0) {
		json_decref(op.json);
		return -1;
	}
	*result_r = op.json;
	return 0;
}

static int revision_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct storage_obj_op *op = ctx;
	if (storage_obj_readable(conn, op, err) < 0)
		return -1;
	op->what = "revision";
	return storage_obj_revision(conn, op->user->cid, op->folder, &op->since, err);
}

int storage_obj_folder_revision(const struct storage_obj_kind *kind, struct storage_user *user,
                                int64_t folder, int64_t *revision_r, char module_r[16],
                                struct storage_error *err)
{
	struct storage_obj_op op = {.kind = kind, .user = user, .err = err, .folder = folder};
	if (storage_obj_run(&op, &op, false, revision_txn, "revision") < 0)
		return -1;
	*revision_r = op.since;
	if (module_r != NULL)
		snprintf(module_r, 16, "%s", op.module);
	return 0;
}
