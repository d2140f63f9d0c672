/* SPDX-License-Identifier: MIT */
/* Contacts of a storage user: folder rights, rows, search; revisions and tombstones through
   storage-objects. */
#include "storage-contacts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "folder.h"
#include "infostore.h"
#include "pool.h"
#include "storage-objects.h"
#include "storage-private.h"

#define COLS                                                                                       \
	"id, folder, name, uid, version, etag, revision, fn, n, emails, phones, org, birthday, "   \
	"vcard, created, modified, created_by, modified_by"

#define BY_ID   "SELECT " COLS " FROM contact_object WHERE cid=? AND id=?"
#define BY_NAME "SELECT " COLS " FROM contact_object WHERE cid=? AND folder=? AND name=?"
#define BY_UID  "SELECT " COLS " FROM contact_object WHERE cid=? AND folder=? AND uid=?"

static const char *const modules[] = {"contacts", NULL};
static const struct storage_obj_kind kind = {.table = "contact_object",
                                             .modules = modules,
                                             .holds = "contacts",
                                             .noun = "contacts",
                                             .text_col = "vcard",
                                             .order = "fn, id"};

/* One call's shared state and what contacts add to it. */
struct op {
	struct storage_obj_op o;
	int64_t id;
	const char *name, *uid, *if_match, *pattern;
	struct storage_contact *obj;
	struct storage_contact_put *put;
	const struct vcard_info *info;
};

static int run(struct op *op, bool write, storage_txn_fn *fn, const char *what)
{
	return storage_obj_run(&op->o, op, write, fn, what);
}

static int contacts_folder(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	return storage_obj_folder(conn, &op->o, err);
}

static const char *dup_col(struct pool *pool, struct sql_stmt *s, unsigned col)
{
	const char *v = sql_col_text(s, col);
	return pool_strdup(pool, v != NULL ? v : "");
}

static void read_row(struct pool *pool, struct sql_stmt *s, struct storage_contact *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sql_col_int64(s, 0);
	o->folder = sql_col_int64(s, 1);
	o->name = dup_col(pool, s, 2);
	o->uid = dup_col(pool, s, 3);
	o->version = dup_col(pool, s, 4);
	o->etag = dup_col(pool, s, 5);
	o->revision = sql_col_int64(s, 6);
	o->fn = dup_col(pool, s, 7);
	o->n = dup_col(pool, s, 8);
	o->emails = dup_col(pool, s, 9);
	o->phones = dup_col(pool, s, 10);
	o->org = dup_col(pool, s, 11);
	o->birthday = dup_col(pool, s, 12);
	o->vcard = dup_col(pool, s, 13);
	o->vcard_len = strlen(o->vcard);
	o->created = sql_col_int64(s, 14);
	o->modified = sql_col_int64(s, 15);
	o->created_by = sql_col_int64(s, 16);
	o->modified_by = sql_col_int64(s, 17);
}

/* The card matching sql (binding cid and then id, or folder and text): 1 found into *o, 0
   none, -1 on SQL error. */
static int find(struct sql_conn *conn, struct op *op, const char *sql, int64_t key,
                const char *text, struct storage_contact *o, struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, op->o.user->cid);
	sql_bind_int64(s, 2, key);
	if (text != NULL)
		sql_bind_text(s, 3, text);
	int r = sql_step(s, err);
	if (r > 0)
		read_row(op->o.user->pool, s, o);
	sql_stmt_done(&s);
	return r;
}

static int charge_objects(struct sql_conn *conn, struct op *op, int64_t objects,
                          struct sql_error *err)
{
	return storage_obj_charge(conn, op->o.user, objects, op->o.err, err);
}

/* ASCII-lowercased s appended to b. */
static void append_lower(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_append_char(b, *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s);
}

/* The search column: FN, N, e-mails, phones and ORG lowercased, one per line. */
static const char *search_text(struct pool *pool, const struct vcard_info *in)
{
	struct buf b;
	const char *parts[] = {in->fn, in->n, in->emails, in->phones, in->org};
	buf_init(&b, 8 * VCARD_MAX_SIZE);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		append_lower(&b, parts[i]);
		buf_append_char(&b, '\n');
	}
	const char *out = pool_strndup(pool, b.data, b.len);
	buf_free(&b);
	return out;
}

/* The existing card a put addresses (by id or name): 1 into *old, 0 none, or a refusal. */
static int put_target(struct sql_conn *conn, struct op *op, struct storage_contact *old,
                      struct sql_error *err)
{
	struct storage_contact_put *put = op->put;
	struct storage_user *u = op->o.user;
	int r = 0;
	op->o.what = "contact lookup";
	if (put->id > 0)
		r = find(conn, op, BY_ID, put->id, NULL, old, err);
	else if (put->name != NULL)
		r = find(conn, op, BY_NAME, op->o.folder, put->name, old, err);
	if (r < 0)
		return -1;
	if (r > 0 && (old->folder != op->o.folder ||
	              !folder_perm_may_read(&op->o.perm, old->created_by == u->uid))) {
		if (put->id > 0)
			r = 0;
		else
			return storage_obj_refuse(&op->o, STORAGE_FORBIDDEN, STORAGE_CONTACT_OK,
			                          "no permission to change \"%s\"", put->name);
	}
	if (r == 0 && put->id > 0)
		return storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CONTACT_OK,
		                          "contact %lld not found", (long long)put->id);
	if (r > 0 && put->if_none_match)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CONTACT_PRECONDITION,
		                          "\"%s\" exists already", old->name);
	if (put->if_match != NULL && (r == 0 || strcmp(put->if_match, old->etag) != 0))
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CONTACT_PRECONDITION,
		                          r == 0 ? "the contact does not exist"
		                                 : "the contact has changed (ETag)");
	if (r > 0 ? !folder_perm_may_write(&op->o.perm, old->created_by == u->uid)
	          : !folder_perm_may_create(&op->o.perm))
		return storage_obj_refuse(&op->o, STORAGE_FORBIDDEN, STORAGE_CONTACT_OK,
		                          "no permission to %s contacts in folder %lld",
		                          r > 0 ? "change" : "create", (long long)op->o.folder);
	return r;
}

static int put_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_contact_put *put = op->put;
	struct storage_user *u = op->o.user;
	const struct vcard_info *in = op->info;
	struct storage_contact old, other;
	int64_t id, rev, now = (int64_t)time(NULL);
	char etag[33];

	if (contacts_folder(conn, op, err) < 0)
		return -1;
	int r = put_target(conn, op, &old, err);
	if (r < 0)
		return -1;
	if (r > 0 && strcmp(old.uid, in->uid) != 0)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CONTACT_UID_CONFLICT,
		                          "the UID of a contact cannot change (it is \"%.100s\")",
		                          old.uid);
	if (r == 0) {
		int dup = find(conn, op, BY_UID, op->o.folder, in->uid, &other, err);
		if (dup < 0)
			return -1;
		if (dup > 0)
			return storage_obj_refuse(
			    &op->o, STORAGE_INVALID, STORAGE_CONTACT_UID_CONFLICT,
			    "UID \"%.100s\" is already used by \"%.100s\" in folder %lld", in->uid,
			    other.name, (long long)op->o.folder);
		op->o.what = "object limit";
		if (charge_objects(conn, op, 1, err) < 0)
			return -1;
	}
	op->o.what = "store";
	if (storage_obj_next_revision(conn, u->cid, op->o.folder, &rev, err) < 0 ||
	    (r == 0 && storage_obj_next_id(conn, u->cid, &id, err) < 0))
		return -1;
	if (r > 0)
		id = old.id;
	const char *name = r > 0 ? old.name : put->name;
	if (name == NULL) {
		name = storage_obj_default_name(u->pool, in->uid, id, ".vcf");
		/* a client (CardDAV) may have used "<UID>.vcf" for another card */
		int t = find(conn, op, BY_NAME, op->o.folder, name, &other, err);
		if (t < 0)
			return -1;
		if (t > 0)
			name = pool_printf(u->pool, "%lld.vcf", (long long)id);
	}
	storage_obj_etag(put->text, put->len, etag);
	const char *text = pool_strndup(u->pool, put->text, put->len);
	/* a new card's row first, then one UPDATE writes what create and replace share */
	if (r == 0 &&
	    sql_run(conn, err,
	            "INSERT INTO contact_object (cid, id, folder, name, uid, version, fn, "
	            "n, emails, phones, org, birthday, search, etag, revision, size, "
	            "vcard, created, modified, created_by, modified_by) VALUES (?, ?, "
	            "?, ?, ?, '', '', '', '', '', '', '', '', '', 0, 0, '', ?, ?, ?, ?)",
	            "iiissiiii", u->cid, id, op->o.folder, name, in->uid, now, now, u->uid,
	            u->uid) < 0)
		return -1;
	if (sql_run(conn, err,
	            "UPDATE contact_object SET version=?, fn=?, n=?, emails=?, phones=?, org=?, "
	            "birthday=?, search=?, etag=?, revision=?, size=?, vcard=?, modified=?, "
	            "modified_by=? WHERE cid=? AND id=?",
	            "sssssssssiisiiii", in->version, in->fn, in->n, in->emails, in->phones, in->org,
	            in->birthday, search_text(u->pool, in), etag, rev, (int64_t)put->len, text, now,
	            u->uid, u->cid, id) < 0 ||
	    storage_obj_untombstone(conn, u->cid, op->o.folder, name, err) < 0)
		return -1;
	op->o.what = "contact lookup";
	if (find(conn, op, BY_ID, id, NULL, &put->obj, err) <= 0) {
		if (err->kind == SQL_ERR_NONE)
			sql_error_set(err, SQL_ERR_OTHER, 0, "contact %lld vanished",
			              (long long)id);
		return -1;
	}
	put->created = r == 0;
	return 0;
}

int storage_contact_put(struct storage_user *user, struct storage_contact_put *put,
                        struct storage_error *err)
{
	struct vcard_info info;
	struct op op = {.o = {.kind = &kind, .user = user, .err = err, .folder = put->folder},
	                .put = put,
	                .info = &info};
	char error[256];
	memset(err, 0, sizeof(*err));
	put->problem = STORAGE_CONTACT_OK;
	put->created = false;
	const char *bad_name = put->name != NULL ? storage_obj_check_name(put->name) : NULL;
	if (bad_name != NULL)
		return storage__refuse(err, STORAGE_INVALID, "resource name %s", bad_name);
	int parsed = vcard_parse(user->pool, put->text, put->len, &info, error, sizeof(error));
	if (parsed < 0) {
		put->problem = parsed == VCARD_TOO_LARGE ? STORAGE_CONTACT_TOO_LARGE
		                                         : STORAGE_CONTACT_BAD_DATA;
		return storage__refuse(err, STORAGE_INVALID, "invalid vCard: %s", error);
	}
	int ret = run(&op, true, put_txn, "store");
	put->problem = op.o.problem;
	return ret;
}

/* --- reading --- */

static int get_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->o.user;
	int r;
	if (op->id > 0) {
		op->o.what = "contact lookup";
		r = find(conn, op, BY_ID, op->id, NULL, op->obj, err);
		if (r > 0) {
			op->o.folder = op->obj->folder;
			op->o.what = "folder lookup";
			r = folder_access(conn, u->cid, u->uid, op->o.folder, &op->o.perm, err);
		}
	} else {
		if (contacts_folder(conn, op, err) < 0)
			return -1;
		op->o.what = "contact lookup";
		r = find(conn, op, op->name != NULL ? BY_NAME : BY_UID, op->o.folder,
		         op->name != NULL ? op->name : op->uid, op->obj, err);
	}
	if (r < 0)
		return -1;
	/* a card I may not read is as absent, as in listings */
	if (r == 0 || !folder_perm_may_read(&op->o.perm, op->obj->created_by == u->uid))
		return op->id > 0
		           ? storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CONTACT_OK,
		                                "contact %lld not found", (long long)op->id)
		           : storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CONTACT_OK,
		                                "no contact \"%.100s\" in folder %lld",
		                                op->name != NULL ? op->name : op->uid,
		                                (long long)op->o.folder);
	return 0;
}

int storage_contact_get(struct storage_user *user, int64_t id, struct storage_contact *obj_r,
                        struct storage_error *err)
{
	struct op op = {.o = {.kind = &kind, .user = user, .err = err}, .id = id, .obj = obj_r};
	return run(&op, false, get_txn, "contact lookup");
}

int storage_contact_get_by_name(struct storage_user *user, int64_t folder, const char *name,
                                struct storage_contact *obj_r, struct storage_error *err)
{
	struct op op = {.o = {.kind = &kind, .user = user, .err = err, .folder = folder},
	                .name = name,
	                .obj = obj_r};
	return run(&op, false, get_txn, "contact lookup");
}

int storage_contact_get_by_uid(struct storage_user *user, int64_t folder, const char *uid,
                               struct storage_contact *obj_r, struct storage_error *err)
{
	struct op op = {.o = {.kind = &kind, .user = user, .err = err, .folder = folder},
	                .uid = uid,
	                .obj = obj_r};
	return run(&op, false, get_txn, "contact lookup");
}

static int delete_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->o.user;
	if (get_txn(conn, op, err) < 0)
		return -1;
	const struct storage_contact *o = op->obj;
	if (!folder_perm_may_delete(&op->o.perm, o->created_by == u->uid))
		return storage_obj_refuse(&op->o, STORAGE_FORBIDDEN, STORAGE_CONTACT_OK,
		                          "no permission to delete contact %lld", (long long)o->id);
	if (op->if_match != NULL && strcmp(op->if_match, o->etag) != 0)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CONTACT_PRECONDITION,
		                          "the contact has changed (ETag)");
	op->o.what = "delete";
	if (charge_objects(conn, op, -1, err) < 0 ||
	    storage_obj_remove(conn, "contact_object", u->cid, o->folder, o->id, o->name,
	                       o->created_by, err) < 0)
		return -1;
	return 0;
}

int storage_contact_delete(struct storage_user *user, int64_t id, const char *if_match,
                           enum storage_contact_problem *problem_r, struct storage_error *err)
{
	struct storage_contact obj;
	struct op op = {.o = {.kind = &kind, .user = user, .err = err},
	                .id = id,
	                .obj = &obj,
	                .if_match = if_match};
	int ret = run(&op, true, delete_txn, "delete");
	if (problem_r != NULL)
		*problem_r = op.o.problem;
	return ret;
}

static int readable_folder(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	return storage_obj_readable(conn, &op->o, err);
}

/* The folder's readable rows matching op->pattern, by FN, at most op->o.max + 1; each row to
   fn. */
static int each_row(struct sql_conn *conn, struct op *op,
                    void (*fn)(struct op *, struct sql_stmt *), struct sql_error *err)
{
	struct sql_stmt *s = storage_obj_folder_rows(
	    conn, &op->o,
	    "SELECT " COLS " FROM contact_object WHERE cid=? AND folder=? AND (?=0 OR "
	    "created_by=?) AND search LIKE ? ESCAPE '!' ORDER BY fn, id LIMIT ?",
	    err);
	if (s == NULL)
		return -1;
	sql_bind_text(s, 5, op->pattern);
	sql_bind_int64(s, 6, (int64_t)op->o.max + 1);
	int r;
	while ((r = sql_step(s, err)) > 0)
		fn(op, s);
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

static void search_row(struct op *op, struct sql_stmt *s)
{
	struct storage_contact c;
	json_t *list = json_object_get(op->o.json, "contacts");
	if (json_array_size(list) == op->o.max) {
		json_object_set_new(op->o.json, "more", json_true());
		return;
	}
	read_row(op->o.user->pool, s, &c);
	json_array_append_new(list, storage_contact_json(&c, false));
}

static int search_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	json_decref(op->o.json);
	op->o.json = json_pack("{s[] sb}", "contacts", "more", false);
	if (readable_folder(conn, op, err) < 0)
		return -1;
	op->o.what = "search";
	return each_row(conn, op, search_row, err);
}

/* "%q%" lowercased with LIKE's wildcards escaped by '!'. */
static const char *like_pattern(struct pool *pool, const char *q)
{
	struct buf b;
	buf_init(&b, 4 * STORAGE_CONTACT_QUERY_MAX + 3);
	buf_append_char(&b, '%');
	for (const char *c = q != NULL ? q : ""; *c != '\0'; c++) {
		if (*c == '%' || *c == '_' || *c == '!')
			buf_append_char(&b, '!');
		buf_append_char(&b, *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c);
	}
	buf_append_char(&b, '%');
	const char *out = pool_strndup(pool, b.data, b.len);
	buf_free(&b);
	return out;
}

int storage_contact_search(struct storage_user *user, int64_t folder, const char *q, size_t max,
                           json_t **result_r, struct storage_error *err)
{
	if (q != NULL && strlen(q) > STORAGE_CONTACT_QUERY_MAX)
		return storage__refuse(err, STORAGE_INVALID,
		                       "the search text is longer than %d bytes",
		                       STORAGE_CONTACT_QUERY_MAX);
	if (max == 0 || max > STORAGE_CONTACT_LIST_MAX)
		max = STORAGE_CONTACT_LIST_MAX;
	struct op op = {
	    .o = {.kind = &kind, .user = user, .err = err, .folder = folder, .max = max}};
	op.pattern = like_pattern(user->pool, q);
	if (run(&op, false, search_txn, "search") < 0) {
		json_decref(op.o.json);
		return -1;
	}
	*result_r = op.o.json;
	return 0;
}

int storage_contact_export(struct storage_user *user, int64_t folder, size_t max,
                           const char ***texts_r, size_t *count_r, struct storage_error *err)
{
	return storage_obj_export(&kind, user, folder, max, texts_r, count_r, err);
}

/* storage_contact_each's call: the op, and the callback with its argument. */
struct each {
	struct op op;
	storage_contact_each_fn *fn;
	void *ctx;
};

static int each_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct each *e = ctx;
	if (storage_obj_readable(conn, &e->op.o, err) < 0)
		return -1;
	e->op.o.what = "query";
	e->fn(e->ctx, NULL); /* a retried attempt starts over */
	/* the (cid, folder, name) index gives the order: no sort of the texts */
	struct sql_stmt *s = storage_obj_folder_rows(
	    conn, &e->op.o,
	    "SELECT vcard, name, etag FROM contact_object WHERE cid=? AND folder=? AND (?=0 OR "
	    "created_by=?) ORDER BY name",
	    err);
	if (s == NULL)
		return -1;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		const char *text = sql_col_text(s, 0), *name = sql_col_text(s, 1);
		const char *etag = sql_col_text(s, 2);
		struct storage_obj_text card = {.text = text != NULL ? text : "",
		                                .name = name != NULL ? name : "",
		                                .etag = etag != NULL ? etag : ""};
		card.len = strlen(card.text);
		if (!e->fn(e->ctx, &card))
			break;
	}
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

int storage_contact_each(struct storage_user *user, int64_t folder, storage_contact_each_fn *fn,
                         void *ctx, struct storage_error *err)
{
	struct each e = {.op = {.o = {.kind = &kind, .user = user, .err = err, .folder = folder}},
	                 .fn = fn,
	                 .ctx = ctx};
	return run(&e.op, false, each_txn, "query");
}

int storage_contact_changes(struct storage_user *user, int64_t folder, int64_t since, size_t max,
                            json_t **result_r, struct storage_error *err)
{
	if (max == 0 || max > STORAGE_CONTACT_CHANGES_MAX)
		max = STORAGE_CONTACT_CHANGES_MAX;
	return storage_obj_folder_changes(&kind, user, folder, since, max, result_r, err);
}

int storage_contact_revision(struct storage_user *user, int64_t folder, int64_t *revision_r,
                             struct storage_error *err)
{
	return storage_obj_folder_revision(&kind, user, folder, revision_r, NULL, err);
}

/* A one-per-line column as a JSON array. */
static json_t *lines_json(const char *s)
{
	json_t *a = json_array();
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		json_array_append_new(a, json_stringn(s, n));
		s += n + (nl != NULL ? 1 : 0);
	}
	return a;
}

json_t *storage_contact_json(const struct storage_contact *c, bool with_vcard)
{
	json_t *j = json_pack(
	    "{sI sI ss ss ss sI ss ss ss so so ss ss sI sI}", "id", (json_int_t)c->id, "folder",
	    (json_int_t)c->folder, "name", c->name, "uid", c->uid, "etag", c->etag, "revision",
	    (json_int_t)c->revision, "version", c->version, "fn", c->fn, "n", c->n, "emails",
	    lines_json(c->emails), "phones", lines_json(c->phones), "org", c->org, "birthday",
	    c->birthday, "created", (json_int_t)c->created, "modified", (json_int_t)c->modified);
	if (with_vcard)
		json_object_set_new(j, "vcard", json_stringn(c->vcard, c->vcard_len));
	return j;
}
