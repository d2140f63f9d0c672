/* SPDX-License-Identifier: MIT */
/* Calendar objects of a storage user: folder rights, rows, revisions and tombstones. */
#include "storage-calendar.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "folder.h"
#include "infostore.h"
#include "mem.h"
#include "pool.h"
#include "storage-objects.h"
#include "storage-private.h"

#define COLS                                                                                       \
	"id, folder, name, uid, component, etag, revision, dtstart, dtend, all_day, recurs, "      \
	"summary, ical, created, modified, created_by, modified_by"

static const char *const modules[] = {"calendar", "tasks", NULL};
static const struct storage_obj_kind kind = {.table = "cal_object",
                                             .modules = modules,
                                             .holds = "events or tasks",
                                             .noun = "objects",
                                             .text_col = "ical",
                                             .order = "id"};

/* One call's shared state and what calendar objects add to it. */
struct op {
	struct storage_obj_op o;
	int64_t id, start, end;
	const char *name, *uid, *if_match;
	struct storage_cal_object *obj;
	struct storage_cal_put *put;
	const struct cal_ical_info *info;
	struct cal_ical_instance *instances;
	bool all, more;     /* query: every object; more matched than max */
	struct array found; /* query: struct storage_cal_object */
};

static int run(struct op *op, bool write, storage_txn_fn *fn, const char *what)
{
	return storage_obj_run(&op->o, op, write, fn, what);
}

void storage_cal_format_time(int64_t t, bool date, char buf[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(buf, 32, date ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cal_folder(struct sql_conn *conn, struct op *op, struct sql_error *err)
{
	return storage_obj_folder(conn, &op->o, err);
}

static const char *dup_col(struct pool *pool, struct sql_stmt *s, unsigned col)
{
	const char *v = sql_col_text(s, col);
	return pool_strdup(pool, v != NULL ? v : "");
}

static void read_row(struct pool *pool, struct sql_stmt *s, struct storage_cal_object *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sql_col_int64(s, 0);
	o->folder = sql_col_int64(s, 1);
	o->name = dup_col(pool, s, 2);
	o->uid = dup_col(pool, s, 3);
	o->component = dup_col(pool, s, 4);
	o->etag = dup_col(pool, s, 5);
	o->revision = sql_col_int64(s, 6);
	o->has_start = !sql_col_is_null(s, 7);
	o->dtstart = sql_col_int64(s, 7);
	o->has_end = !sql_col_is_null(s, 8);
	o->dtend = sql_col_int64(s, 8);
	o->all_day = sql_col_int64(s, 9) != 0;
	o->recurs = sql_col_int64(s, 10) != 0;
	o->summary = dup_col(pool, s, 11);
	o->ical = dup_col(pool, s, 12);
	o->ical_len = strlen(o->ical);
	o->created = sql_col_int64(s, 13);
	o->modified = sql_col_int64(s, 14);
	o->created_by = sql_col_int64(s, 15);
	o->modified_by = sql_col_int64(s, 16);
}

/* The object matching where (binding cid and then one value: id, or folder and text):
   1 found into *o, 0 none, -1 on SQL error. */
static int find(struct sql_conn *conn, struct op *op, const char *sql, int64_t key,
                const char *text, struct storage_cal_object *o, struct sql_error *err)
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

#define BY_ID   "SELECT " COLS " FROM cal_object WHERE cid=? AND id=?"
#define BY_NAME "SELECT " COLS " FROM cal_object WHERE cid=? AND folder=? AND name=?"
#define BY_UID  "SELECT " COLS " FROM cal_object WHERE cid=? AND folder=? AND uid=?"

static int charge_objects(struct sql_conn *conn, struct op *op, int64_t objects,
                          struct sql_error *err)
{
	return storage_obj_charge(conn, op->o.user, objects, op->o.err, err);
}

/* value, or NULL when there is none. */
static void bind_opt(struct sql_stmt *s, unsigned idx, bool has, int64_t value)
{
	if (has)
		sql_bind_int64(s, idx, value);
	else
		sql_bind_null(s, idx);
}

static int put_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_cal_put *put = op->put;
	struct storage_user *u = op->o.user;
	const struct cal_ical_info *info = op->info;
	struct storage_cal_object old;
	int64_t id, rev, now = (int64_t)time(NULL);
	char etag[33];
	int r;

	if (cal_folder(conn, op, err) < 0)
		return -1;
	const char *want = strcmp(info->component, "VEVENT") == 0 ? "calendar" : "tasks";
	if (strcmp(op->o.module, want) != 0)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CAL_WRONG_COMPONENT,
		                          "folder %lld holds %s: a %s does not belong there",
		                          (long long)op->o.folder, op->o.module, info->component);
	op->o.what = "object lookup";
	if (put->id > 0)
		r = find(conn, op, BY_ID, put->id, NULL, &old, err);
	else
		r = put->name != NULL ? find(conn, op, BY_NAME, op->o.folder, put->name, &old, err)
		                      : 0;
	if (r < 0)
		return -1;
	if (r > 0 && (old.folder != op->o.folder ||
	              !folder_perm_may_read(&op->o.perm, old.created_by == u->uid))) {
		if (put->id > 0)
			return storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CAL_OK,
			                          "object %lld not found", (long long)put->id);
		return storage_obj_refuse(&op->o, STORAGE_FORBIDDEN, STORAGE_CAL_OK,
		                          "no permission to change \"%s\"", put->name);
	}
	if (r == 0 && put->id > 0)
		return storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CAL_OK,
		                          "object %lld not found", (long long)put->id);
	if (r > 0 && put->if_none_match)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CAL_PRECONDITION,
		                          "\"%s\" exists already", old.name);
	if (put->if_match != NULL && (r == 0 || strcmp(put->if_match, old.etag) != 0))
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CAL_PRECONDITION,
		                          r == 0 ? "the object does not exist"
		                                 : "the object has changed (ETag)");
	if (r > 0 ? !folder_perm_may_write(&op->o.perm, old.created_by == u->uid)
	          : !folder_perm_may_create(&op->o.perm))
		return storage_obj_refuse(&op->o, STORAGE_FORBIDDEN, STORAGE_CAL_OK,
		                          "no permission to %s objects in folder %lld",
		                          r > 0 ? "change" : "create", (long long)op->o.folder);
	if (r > 0 && strcmp(old.uid, info->uid) != 0)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CAL_UID_CONFLICT,
		                          "the UID of an object cannot change (it is \"%.100s\")",
		                          old.uid);
	if (r == 0) {
		struct storage_cal_object other;
		int dup = find(conn, op, BY_UID, op->o.folder, info->uid, &other, err);
		if (dup < 0)
			return -1;
		if (dup > 0)
			return storage_obj_refuse(
			    &op->o, STORAGE_INVALID, STORAGE_CAL_UID_CONFLICT,
			    "UID \"%.100s\" is already used by \"%.100s\" in folder %lld",
			    info->uid, other.name, (long long)op->o.folder);
		op->o.what = "object limit";
		if (charge_objects(conn, op, 1, err) < 0)
			return -1;
	}
	op->o.what = "store";
	if (storage_obj_next_revision(conn, u->cid, op->o.folder, &rev, err) < 0)
		return -1;
	if (r == 0 && storage_obj_next_id(conn, u->cid, &id, err) < 0)
		return -1;
	if (r > 0)
		id = old.id;
	const char *name = r > 0 ? old.name : put->name;
	if (name == NULL) {
		struct storage_cal_object taken;
		name = storage_obj_default_name(u->pool, info->uid, id, ".ics");
		/* a client (CalDAV) may have used "<UID>.ics" for another object */
		int t = find(conn, op, BY_NAME, op->o.folder, name, &taken, err);
		if (t < 0)
			return -1;
		if (t > 0)
			name = pool_printf(u->pool, "%lld.ics", (long long)id);
	}
	storage_obj_etag(put->text, put->len, etag);
	const char *text = pool_strndup(u->pool, put->text, put->len);
	/* a new object's row first, then one UPDATE writes what put and replace share */
	if (r == 0 &&
	    sql_run(
	        conn, err,
	        "INSERT INTO cal_object (cid, id, folder, name, uid, component, all_day, recurs, "
	        "summary, etag, revision, size, ical, created, modified, created_by, "
	        "modified_by) VALUES (?, ?, ?, ?, ?, ?, 0, 0, '', '', 0, 0, '', ?, ?, ?, ?)",
	        "iiisssiiii", u->cid, id, op->o.folder, name, info->uid, info->component, now, now,
	        u->uid, u->uid) < 0)
		return -1;
	struct sql_stmt *s =
	    sql_prepare(conn,
	                "UPDATE cal_object SET dtstart=?, dtend=?, all_day=?, recurs=?, "
	                "first_instance=?, last_instance=?, summary=?, etag=?, revision=?, "
	                "size=?, ical=?, modified=?, modified_by=? WHERE cid=? AND id=?",
	                err);
	if (s == NULL)
		return -1;
	bind_opt(s, 1, info->has_start, info->dtstart);
	bind_opt(s, 2, info->has_end, info->dtend);
	sql_bind_int64(s, 3, info->all_day);
	sql_bind_int64(s, 4, info->recurs);
	bind_opt(s, 5, info->has_first, info->first_instance);
	bind_opt(s, 6, info->has_first && !info->unbounded, info->last_instance);
	sql_bind_text(s, 7, info->summary);
	sql_bind_text(s, 8, etag);
	sql_bind_int64(s, 9, rev);
	sql_bind_int64(s, 10, (int64_t)put->len);
	sql_bind_text(s, 11, text);
	sql_bind_int64(s, 12, now);
	sql_bind_int64(s, 13, u->uid);
	sql_bind_int64(s, 14, u->cid);
	sql_bind_int64(s, 15, id);
	int stepped = sql_step(s, err);
	sql_stmt_done(&s);
	if (stepped < 0)
		return -1;
	/* a name that comes back is no longer deleted for sync */
	if (storage_obj_untombstone(conn, u->cid, op->o.folder, name, err) < 0)
		return -1;
	op->o.what = "object lookup";
	if (find(conn, op, BY_ID, id, NULL, &put->obj, err) <= 0) {
		if (err->kind == SQL_ERR_NONE)
			sql_error_set(err, SQL_ERR_OTHER, 0, "object %lld vanished", (long long)id);
		return -1;
	}
	put->created = r == 0;
	return 0;
}

int storage_cal_put(struct storage_user *user, struct storage_cal_put *put,
                    struct storage_error *err)
{
	struct cal_ical_info info;
	struct op op = {.o = {.kind = &kind, .user = user, .err = err, .folder = put->folder},
	                .put = put,
	                .info = &info};
	char error[256];
	memset(err, 0, sizeof(*err));
	put->problem = STORAGE_CAL_OK;
	put->created = false;
	const char *bad_name = put->name != NULL ? storage_obj_check_name(put->name) : NULL;
	if (bad_name != NULL)
		return storage__refuse(err, STORAGE_INVALID, "resource name %s", bad_name);
	if (put->len > CAL_ICAL_MAX_SIZE) {
		put->problem = STORAGE_CAL_TOO_LARGE;
		return storage__refuse(err, STORAGE_INVALID,
		                       "the object of %zu bytes is larger than the limit of %d",
		                       put->len, CAL_ICAL_MAX_SIZE);
	}
	if (cal_ical_parse(put->text, put->len, &info, error, sizeof(error)) < 0) {
		put->problem = STORAGE_CAL_BAD_DATA;
		return storage__refuse(err, STORAGE_INVALID, "invalid iCalendar object: %s", error);
	}
	if (put->component != NULL && strcmp(put->component, info.component) != 0) {
		put->problem = STORAGE_CAL_WRONG_COMPONENT;
		return storage__refuse(err, STORAGE_INVALID, "a %s where a %s was expected",
		                       info.component, put->component);
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
		op->o.what = "object lookup";
		r = find(conn, op, BY_ID, op->id, NULL, op->obj, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			op->o.folder = op->obj->folder;
			op->o.what = "folder lookup";
			r = folder_access(conn, u->cid, u->uid, op->o.folder, &op->o.perm, err);
			if (r < 0)
				return -1;
		}
	} else {
		if (cal_folder(conn, op, err) < 0)
			return -1;
		op->o.what = "object lookup";
		r = find(conn, op, op->name != NULL ? BY_NAME : BY_UID, op->o.folder,
		         op->name != NULL ? op->name : op->uid, op->obj, err);
		if (r < 0)
			return -1;
	}
	/* an object I may not read is as absent, as in listings */
	if (r == 0 || !folder_perm_may_read(&op->o.perm, op->obj->created_by == u->uid))
		return op->id > 0 ? storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CAL_OK,
		                                       "object %lld not found", (long long)op->id)
		                  : storage_obj_refuse(&op->o, STORAGE_NOT_FOUND, STORAGE_CAL_OK,
		                                       "no object \"%.100s\" in folder %lld",
		                                       op->name != NULL ? op->name : op->uid,
		                                       (long long)op->o.folder);
	return 0;
}

int storage_cal_get(struct storage_user *user, int64_t id, struct storage_cal_object *obj_r,
                    struct storage_error *err)
{
	struct op op = {.o = {.kind = &kind, .user = user, .err = err}, .id = id, .obj = obj_r};
	return run(&op, false, get_txn, "object lookup");
}

int storage_cal_get_by_name(struct storage_user *user, int64_t folder, const char *name,
                            struct storage_cal_object *obj_r, struct storage_error *err)
{
	struct op op = {.o = {.kind = &kind, .user = user, .err = err, .folder = folder},
	                .name = name,
	                .obj = obj_r};
	return run(&op, false, get_txn, "object lookup");
}

int storage_cal_get_by_uid(struct storage_user *user, int64_t folder, const char *uid,
                           struct storage_cal_object *obj_r, struct storage_error *err)
{
	struct op op = {.o = {.kind = &kind, .user = user, .err = err, .folder = folder},
	                .uid = uid,
	                .obj = obj_r};
	return run(&op, false, get_txn, "object lookup");
}

static int delete_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_user *u = op->o.user;
	if (get_txn(conn, op, err) < 0)
		return -1;
	const struct storage_cal_object *o = op->obj;
	if (!folder_perm_may_delete(&op->o.perm, o->created_by == u->uid))
		return storage_obj_refuse(&op->o, STORAGE_FORBIDDEN, STORAGE_CAL_OK,
		                          "no permission to delete object %lld", (long long)o->id);
	if (op->if_match != NULL && strcmp(op->if_match, o->etag) != 0)
		return storage_obj_refuse(&op->o, STORAGE_INVALID, STORAGE_CAL_PRECONDITION,
		                          "the object has changed (ETag)");
	op->o.what = "delete";
	if (charge_objects(conn, op, -1, err) < 0 ||
	    storage_obj_remove(conn, "cal_object", u->cid, o->folder, o->id, o->name, o->created_by,
	                       err) < 0)
		return -1;
	return 0;
}

int storage_cal_delete(struct storage_user *user, int64_t id, const char *if_match,
                       enum storage_cal_problem *problem_r, struct storage_error *err)
{
	struct storage_cal_object obj;
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

/* The rows of op's folder the user may read (storage_obj_folder_rows). */
#define FOLDER_ROWS(cols, table)                                                                   \
	"SELECT " cols " FROM " table " WHERE cid=? AND folder=? AND (?=0 OR created_by=?)"

static struct sql_stmt *folder_rows(struct sql_conn *conn, const struct op *op, const char *sql,
                                    struct sql_error *err)
{
	return storage_obj_folder_rows(conn, &op->o, sql, err);
}

/* The columns a range query reads: the instance's, the object's (for CalDAV) and what
   tells a single event from a series. */
#define RANGE_COLS "id, uid, etag, all_day, ical, name, component, recurs, dtstart, dtend, summary"
#define RANGE_ROWS                                                                                 \
	FOLDER_ROWS(RANGE_COLS, "cal_object")                                                      \
	" AND first_instance IS NOT NULL AND first_instance<? AND (last_instance IS NULL OR "      \
	"last_instance>=?) ORDER BY id"

/* The instances of the range query's current row that overlap [op->start, op->end), at most
   room into instances (*n_r, *more_r as cal_ical_expand): false when the stored text does not
   expand (it passed cal_ical_parse: the object is skipped). A single event (no series, no
   overrides) is its one instance [dtstart, dtend) from the columns, without parsing the text. */
static bool row_instances(const struct op *op, struct sql_stmt *s,
                          struct cal_ical_instance *instances, size_t room, size_t *n_r,
                          bool *more_r)
{
	const char *component = sql_col_text(s, 6), *ical = sql_col_text(s, 4);
	*n_r = 0;
	*more_r = false;
	if (component != NULL && strcmp(component, "VEVENT") == 0 && sql_col_int64(s, 7) == 0 &&
	    !sql_col_is_null(s, 8) && !sql_col_is_null(s, 9)) {
		int64_t start = sql_col_int64(s, 8), end = sql_col_int64(s, 9);
		bool in = start == end ? start >= op->start && start < op->end
		                       : start < op->end && end > op->start;
		if (!in)
			return true;
		if (room == 0) {
			*more_r = true;
			return true;
		}
		const char *summary = sql_col_text(s, 10);
		instances[0] = (struct cal_ical_instance){.start = start, .end = end};
		snprintf(instances[0].summary, sizeof(instances[0].summary), "%s",
		         summary != NULL ? summary : "");
		*n_r = 1;
		return true;
	}
	char error[200];
	return ical != NULL && cal_ical_expand(ical, strlen(ical), op->start, op->end, instances,
	                                       room, n_r, more_r, error, sizeof(error)) == 0;
}

/* One instance of the object in the range query's current row (RANGE_COLS). */
static json_t *instance_json(const struct cal_ical_instance *in, struct sql_stmt *row)
{
	int64_t id = sql_col_int64(row, 0);
	const char *uid = sql_col_text(row, 1), *etag = sql_col_text(row, 2);
	bool all_day = sql_col_int64(row, 3) != 0;
	char start[32], end[32], rid[32];
	storage_cal_format_time(in->start, all_day, start);
	storage_cal_format_time(in->end, all_day, end);
	json_t *j =
	    json_pack("{sI ss ss ss ss sb ss}", "id", (json_int_t)id, "uid", uid, "summary",
	              in->summary, "start", start, "end", end, "allDay", all_day, "etag", etag);
	json_object_set_new(j, "name", json_string(sql_col_text(row, 5)));
	if (in->recurrence_id != 0) {
		storage_cal_format_time(in->recurrence_id, all_day, rid);
		json_object_set_new(j, "recurrenceId", json_string(rid));
	}
	return j;
}

static int range_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	json_decref(op->o.json); /* a retried attempt starts over */
	op->o.json = NULL;
	if (readable_folder(conn, op, err) < 0)
		return -1;
	op->o.what = "range query";
	struct sql_stmt *s = folder_rows(conn, op, RANGE_ROWS, err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 5, op->end);
	sql_bind_int64(s, 6, op->start);
	json_t *list = json_array();
	bool more = false;
	int r;
	while (!more && (r = sql_step(s, err)) > 0) {
		size_t n = 0, room = op->o.max - json_array_size(list);
		if (!row_instances(op, s, op->instances, room, &n, &more))
			continue;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, instance_json(&op->instances[i], s));
		if (json_array_size(list) >= op->o.max)
			more = more || sql_step(s, err) > 0;
	}
	sql_stmt_done(&s);
	if (!more && r < 0) {
		json_decref(list);
		return -1;
	}
	op->o.json = json_pack("{so sb}", "instances", list, "more", more);
	return 0;
}

int storage_cal_range(struct storage_user *user, int64_t folder, int64_t start, int64_t end,
                      size_t max, json_t **result_r, struct storage_error *err)
{
	if (max == 0 || max > STORAGE_CAL_RANGE_MAX)
		max = STORAGE_CAL_RANGE_MAX;
	struct op op = {
	    .o = {.kind = &kind, .user = user, .err = err, .folder = folder, .max = max},
	    .start = start,
	    .end = end};
	/* not zeroed: expansion writes what it returns (a range query is answered often) */
	op.instances = mem_alloc(max * sizeof(*op.instances));
	int ret = run(&op, false, range_txn, "range query");
	mem_free(&op.instances);
	if (ret < 0) {
		json_decref(op.o.json);
		return -1;
	}
	*result_r = op.o.json;
	return 0;
}

static int list_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	json_decref(op->o.json);
	op->o.json = NULL;
	if (readable_folder(conn, op, err) < 0)
		return -1;
	op->o.what = "listing";
	struct sql_stmt *s = folder_rows(
	    conn, op,
	    FOLDER_ROWS("id, name, uid, etag, revision, summary", "cal_object") " ORDER BY id",
	    err);
	if (s == NULL)
		return -1;
	json_t *list = json_array();
	bool more = false;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		if (json_array_size(list) == op->o.max) {
			more = true;
			break;
		}
		json_array_append_new(
		    list, json_pack("{sI ss ss ss sI ss}", "id", (json_int_t)sql_col_int64(s, 0),
		                    "name", sql_col_text(s, 1), "uid", sql_col_text(s, 2), "etag",
		                    sql_col_text(s, 3), "revision", (json_int_t)sql_col_int64(s, 4),
		                    "summary", sql_col_text(s, 5)));
	}
	sql_stmt_done(&s);
	if (r < 0) {
		json_decref(list);
		return -1;
	}
	op->o.json = json_pack("{so sb}", "objects", list, "more", more);
	return 0;
}

int storage_cal_list(struct storage_user *user, int64_t folder, size_t max, json_t **result_r,
                     struct storage_error *err)
{
	struct op op = {
	    .o = {.kind = &kind, .user = user, .err = err, .folder = folder, .max = max}};
	if (run(&op, false, list_txn, "listing") < 0) {
		json_decref(op.o.json);
		return -1;
	}
	*result_r = op.o.json;
	return 0;
}

int storage_cal_export(struct storage_user *user, int64_t folder, size_t max, const char ***texts_r,
                       size_t *count_r, struct storage_error *err)
{
	return storage_obj_export(&kind, user, folder, max, texts_r, count_r, err);
}

int storage_cal_changes(struct storage_user *user, int64_t folder, int64_t since, size_t max,
                        json_t **result_r, struct storage_error *err)
{
	if (max == 0 || max > STORAGE_CAL_CHANGES_MAX)
		max = STORAGE_CAL_CHANGES_MAX;
	return storage_obj_folder_changes(&kind, user, folder, since, max, result_r, err);
}

int storage_cal_revision(struct storage_user *user, int64_t folder, int64_t *revision_r,
                         char module_r[16], struct storage_error *err)
{
	return storage_obj_folder_revision(&kind, user, folder, revision_r, module_r, err);
}

static int query_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct pool *pool = op->o.user->pool;
	array_clear(&op->found); /* a retried attempt starts over */
	op->more = false;
	if (readable_folder(conn, op, err) < 0)
		return -1;
	op->o.what = "calendar query";
	struct sql_stmt *s = folder_rows(
	    conn, op, op->all ? FOLDER_ROWS(RANGE_COLS, "cal_object") " ORDER BY id" : RANGE_ROWS,
	    err);
	if (s == NULL)
		return -1;
	if (!op->all) {
		sql_bind_int64(s, 5, op->end);
		sql_bind_int64(s, 6, op->start);
	}
	int r;
	while ((r = sql_step(s, err)) > 0) {
		size_t n = 0;
		bool more;
		if (!op->all && (!row_instances(op, s, op->instances, 1, &n, &more) || n == 0))
			continue; /* no instance in the range */
		if (op->found.count == op->o.max) {
			op->more = true;
			break;
		}
		struct storage_cal_object *o = array_push(&op->found);
		memset(o, 0, sizeof(*o));
		o->id = sql_col_int64(s, 0);
		o->folder = op->o.folder;
		o->uid = dup_col(pool, s, 1);
		o->etag = dup_col(pool, s, 2);
		o->ical = dup_col(pool, s, 4);
		o->ical_len = strlen(o->ical);
		o->name = dup_col(pool, s, 5);
		o->component = dup_col(pool, s, 6);
	}
	sql_stmt_done(&s);
	return r < 0 && !op->more ? -1 : 0;
}

int storage_cal_query(struct storage_user *user, int64_t folder, const int64_t *range, size_t max,
                      struct storage_cal_object **objects_r, size_t *count_r, bool *more_r,
                      struct storage_error *err)
{
	struct cal_ical_instance instance;
	if (max == 0 || max > STORAGE_CAL_RANGE_MAX)
		max = STORAGE_CAL_RANGE_MAX;
	struct op op = {
	    .o = {.kind = &kind, .user = user, .err = err, .folder = folder, .max = max},
	    .all = range == NULL,
	    .start = range != NULL ? range[0] : 0,
	    .end = range != NULL ? range[1] : 0,
	    .instances = &instance,
	    .found = ARRAY_INIT(struct storage_cal_object)};
	int ret = run(&op, false, query_txn, "calendar query");
	if (ret == 0) {
		size_t size = op.found.count * sizeof(struct storage_cal_object);
		*objects_r = pool_alloc(user->pool, size > 0 ? size : 1);
		if (size > 0)
			memcpy(*objects_r, op.found.data, size);
		*count_r = op.found.count;
		*more_r = op.more;
	}
	array_free(&op.found);
	return ret;
}
