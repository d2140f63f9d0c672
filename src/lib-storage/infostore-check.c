/* SPDX-License-Identifier: MIT */
/* infostore_check_consistency: the context's rows against its filestore, with repairs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dav-props.h"
#include "infostore.h"
#include "sql.h"

/* A version row as the check sees it. */
struct row {
	char location[FILESTORE_LOCATION_SIZE];
	int64_t file;
	int64_t version;
	int64_t size;
	bool seen; /* the walk found its file */
};

struct check {
	struct sql_conn *conn;
	int64_t cid;
	const char *root;
	bool repair;
	struct sql_error *err;
	struct array rows;    /* struct row, sorted by location */
	struct array orphans; /* char[FILESTORE_LOCATION_SIZE] candidates */
	struct array temps;   /* char[FILESTORE_PATH_SIZE] candidates */
	json_t *report;
	json_t *unknown;
	int64_t problems;
	int64_t repaired;
};

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->location, ((const struct row *)b)->location);
}

static int load_rows(struct check *c)
{
	struct sql_stmt *s = sql_prepare(c->conn,
	                                 "SELECT filestore_location, file, version, size FROM "
	                                 "infostore_version WHERE cid=?",
	                                 c->err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, c->cid);
	int r;
	while ((r = sql_step(s, c->err)) > 0) {
		struct row *row = array_push(&c->rows);
		const char *loc = sql_col_text(s, 0);
		snprintf(row->location, sizeof(row->location), "%s", loc != NULL ? loc : "");
		row->file = sql_col_int64(s, 1);
		row->version = sql_col_int64(s, 2);
		row->size = sql_col_int64(s, 3);
	}
	sql_stmt_done(&s);
	if (r < 0)
		return -1;
	if (c->rows.count > 0)
		qsort(c->rows.data, c->rows.count, sizeof(struct row), cmp_row);
	return 0;
}

static struct row *find_row(struct check *c, const char *location)
{
	struct row key;
	snprintf(key.location, sizeof(key.location), "%s", location);
	if (c->rows.count == 0)
		return NULL;
	return bsearch(&key, c->rows.data, c->rows.count, sizeof(struct row), cmp_row);
}

static int on_entry(void *ctx, enum filestore_entry kind, const char *relpath,
                    const struct stat *st)
{
	struct check *c = ctx;
	struct row *row;
	switch (kind) {
	case FILESTORE_ENTRY_FILE:
		/* several rows may share a location only through corruption; any one marks it */
		if ((row = find_row(c, relpath)) != NULL) {
			struct row *first = c->rows.data;
			struct row *end = first + c->rows.count;
			while (row > first && strcmp(row[-1].location, relpath) == 0)
				row--;
			for (; row < end && strcmp(row->location, relpath) == 0; row++)
				row->seen = true;
		} else {
			snprintf(array_push(&c->orphans), FILESTORE_LOCATION_SIZE, "%s", relpath);
		}
		break;
	case FILESTORE_ENTRY_TEMP:
		snprintf(array_push(&c->temps), FILESTORE_PATH_SIZE, "%s", relpath);
		break;
	case FILESTORE_ENTRY_OTHER:
		json_array_append_new(c->unknown, json_string(relpath));
		c->problems++;
		break;
	}
	return 0;
}

static void fs_error(struct check *c, int err, const char *what, const char *path)
{
	sql_error_set(c->err, SQL_ERR_OTHER, err, "%s %s: %s", what, path, strerror(err));
}

static void add_busy(struct check *c, const char *relpath)
{
	json_array_append_new(json_object_get(c->report, "in_progress"), json_string(relpath));
}

/* An orphan candidate is a real orphan only if no upload holds it and, with its lock taken, no
   row refers to it: an upload keeps the lock until after its commit, so a file published after
   we loaded the rows shows up in the second look. */
static int check_orphans(struct check *c)
{
	json_t *list = json_object_get(c->report, "orphan_files");
	for (size_t i = 0; i < c->orphans.count; i++) {
		const char *loc = array_idx(&c->orphans, i);
		int fd;
		int r = filestore_claim(c->root, c->cid, loc, &fd);
		if (r < 0) {
			fs_error(c, -r, "cannot open", loc);
			return -1;
		}
		if (r == FILESTORE_BUSY)
			add_busy(c, loc);
		if (r != FILESTORE_CLAIMED)
			continue;
		int64_t refs = 0;
		if (sql_query_int64(c->conn, c->err, &refs,
		                    "SELECT COUNT(*) FROM infostore_version WHERE cid=? AND "
		                    "filestore_location=?",
		                    "is", c->cid, loc) < 0) {
			filestore_release(&fd);
			return -1;
		}
		if (refs > 0) {
			filestore_release(&fd);
			continue;
		}
		json_array_append_new(list, json_string(loc));
		c->problems++;
		if (!c->repair) {
			filestore_release(&fd);
			continue;
		}
		if ((r = filestore_claim_remove(c->root, c->cid, loc, &fd)) < 0) {
			fs_error(c, -r, "cannot remove", loc);
			return -1;
		}
		c->repaired++;
	}
	return 0;
}

/* Temp files nobody holds the lock of belong to crashed or killed uploads. */
static int check_temps(struct check *c)
{
	json_t *list = json_object_get(c->report, "stale_temp_files");
	for (size_t i = 0; i < c->temps.count; i++) {
		const char *rel = array_idx(&c->temps, i);
		int fd;
		int r = filestore_claim(c->root, c->cid, rel, &fd);
		if (r < 0) {
			fs_error(c, -r, "cannot open", rel);
			return -1;
		}
		if (r == FILESTORE_BUSY)
			add_busy(c, rel);
		if (r != FILESTORE_CLAIMED)
			continue;
		json_array_append_new(list, json_string(rel));
		c->problems++;
		if (!c->repair) {
			filestore_release(&fd);
			continue;
		}
		if ((r = filestore_claim_remove(c->root, c->cid, rel, &fd)) < 0) {
			fs_error(c, -r, "cannot remove", rel);
			return -1;
		}
		c->repaired++;
	}
	return 0;
}

struct check_txn {
	struct check *c;
	int (*fn)(struct check *c, void *arg);
	void *arg;
};

static int run_check_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct check_txn *t = ctx;
	return t->fn(t->c, t->arg);
}

/* Runs fn(c, arg) in a write transaction on c->conn (retried while the database is busy). */
static int in_transaction(struct check *c, int (*fn)(struct check *c, void *arg), void *arg)
{
	struct check_txn t = {c, fn, arg};
	return sql_conn_transaction(c->conn, true, run_check_txn, &t, c->err);
}

/* Drops a version row whose file is gone, with its size and count off the usage row; the
   file falls back to its newest remaining version, or is deleted (with a tombstone) when none
   is left. */
static int drop_version(struct check *c, void *arg)
{
	const struct row *row = arg;
	struct sql_conn *conn = c->conn;
	struct sql_error *err = c->err;
	int64_t cid = c->cid, left = 0, current = 0, newest = 0;

	/* the usage row first, for its lock (as in uploads and deletes) */
	if (sql_run(conn, err, "UPDATE filestore_usage SET used_bytes=used_bytes WHERE cid=?", "i",
	            cid) < 0)
		return -1;
	int64_t gone = sql_run_changes(conn, err,
	                               "DELETE FROM infostore_version WHERE cid=? AND file=? AND "
	                               "version=? AND filestore_location=?",
	                               "iiis", cid, row->file, row->version, row->location);
	if (gone < 0 ||
	    (gone > 0 &&
	     sql_run(conn, err,
	             "UPDATE filestore_usage SET used_bytes=used_bytes-?, objects=objects-? WHERE "
	             "cid=?",
	             "iii", row->size * gone, gone, cid) < 0) ||
	    sql_query_int64(conn, err, &left,
	                    "SELECT COUNT(*) FROM infostore_version WHERE cid=? AND file=?", "ii",
	                    cid, row->file) < 0)
		return -1;
	if (left == 0) {
		int64_t n = sql_run_changes(conn, err, "DELETE FROM infostore WHERE cid=? AND id=?",
		                            "ii", cid, row->file);
		if (n < 0)
			return -1;
		if (n > 0 &&
		    (sql_run(conn, err,
		             "INSERT INTO tombstone (cid, module, id, deleted) VALUES (?, ?, ?, ?)",
		             "isii", cid, INFOSTORE_TOMBSTONE_MODULE, row->file,
		             (int64_t)time(NULL)) < 0 ||
		     dav_props_delete(conn, cid, DAV_PROPS_FILE, row->file, err) < 0))
			return -1;
		return 0;
	}
	int r = sql_query_int64(conn, err, &current,
	                        "SELECT version FROM infostore WHERE cid=? AND id=?", "ii", cid,
	                        row->file);
	if (r <= 0 || current != row->version)
		return r < 0 ? -1 : 0;
	struct infostore_version v;
	if (sql_query_int64(conn, err, &newest,
	                    "SELECT MAX(version) FROM infostore_version WHERE cid=? AND file=?",
	                    "ii", cid, row->file) < 0 ||
	    infostore_get_version(conn, cid, row->file, newest, &v, err) < 0)
		return -1;
	return sql_run(conn, err,
	               "UPDATE infostore SET version=?, size=?, md5=?, content_type=? WHERE cid=? "
	               "AND id=?",
	               "iissii", v.version, v.size, v.md5, v.content_type, cid, row->file);
}

/* Rows whose file the walk did not see: look again (a delete may have removed the row and
   then the file meanwhile) before calling the file missing. */
static int check_missing(struct check *c)
{
	json_t *list = json_object_get(c->report, "missing_files");
	for (size_t i = 0; i < c->rows.count; i++) {
		struct row *row = array_idx(&c->rows, i);
		if (row->seen)
			continue;
		char path[FILESTORE_PATH_SIZE];
		struct stat st;
		int64_t still = 0;
		if (sql_query_int64(
		        c->conn, c->err, &still,
		        "SELECT COUNT(*) FROM infostore_version WHERE cid=? AND file=? AND "
		        "version=? AND filestore_location=?",
		        "iiis", c->cid, row->file, row->version, row->location) < 0)
			return -1;
		if (still == 0)
			continue;
		if (filestore_path(c->root, c->cid, row->location, path, sizeof(path)) == 0 &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			continue;
		json_array_append_new(
		    list, json_pack("{s:I, s:I, s:s, s:I}", "file", (json_int_t)row->file,
		                    "version", (json_int_t)row->version, "location", row->location,
		                    "size", (json_int_t)row->size));
		c->problems++;
		if (!c->repair)
			continue;
		if (in_transaction(c, drop_version, row) < 0)
			return -1;
		c->repaired++;
	}
	return 0;
}

struct usage {
	bool have_row;
	int64_t recorded, actual;                 /* bytes */
	int64_t objects_recorded, objects_actual; /* file versions, user folders, events, tasks */
};

static int read_usage(struct check *c, struct usage *u)
{
	int r = infostore_usage(c->conn, c->cid, &u->recorded, &u->objects_recorded, c->err);
	int64_t versions = 0, folders = 0, calendar = 0, contacts = 0;
	if (r < 0 ||
	    sql_query_int64(c->conn, c->err, &u->actual,
	                    "SELECT COALESCE(SUM(size), 0) FROM infostore_version WHERE cid=?", "i",
	                    c->cid) < 0 ||
	    sql_query_int64(c->conn, c->err, &versions,
	                    "SELECT COUNT(*) FROM infostore_version WHERE cid=?", "i",
	                    c->cid) < 0 ||
	    sql_query_int64(c->conn, c->err, &folders,
	                    "SELECT COUNT(*) FROM folder WHERE cid=? AND is_system=0 AND "
	                    "default_for IS NULL",
	                    "i", c->cid) < 0 ||
	    sql_query_int64(c->conn, c->err, &calendar,
	                    "SELECT COUNT(*) FROM cal_object WHERE cid=?", "i", c->cid) < 0 ||
	    sql_query_int64(c->conn, c->err, &contacts,
	                    "SELECT COUNT(*) FROM contact_object WHERE cid=?", "i", c->cid) < 0)
		return -1;
	u->objects_actual = versions + folders + calendar + contacts;
	u->have_row = r > 0;
	return 0;
}

static int fix_usage(struct check *c, void *arg)
{
	struct usage *u = arg;
	/* the UPDATE first, for the row lock (as in uploads); then the sums cannot move */
	int64_t n = sql_run_changes(c->conn, c->err,
	                            "UPDATE filestore_usage SET used_bytes=used_bytes WHERE cid=?",
	                            "i", c->cid);
	if (n < 0 || read_usage(c, u) < 0)
		return -1;
	if (!u->have_row)
		return sql_run(
		    c->conn, c->err,
		    "INSERT INTO filestore_usage (cid, used_bytes, objects) VALUES (?, ?, "
		    "?)",
		    "iii", c->cid, u->actual, u->objects_actual);
	if (u->recorded == u->actual && u->objects_recorded == u->objects_actual)
		return 0;
	return sql_run(c->conn, c->err,
	               "UPDATE filestore_usage SET used_bytes=?, objects=? WHERE cid=?", "iii",
	               u->actual, u->objects_actual, c->cid);
}

/* One finding per wrong total, as {"recorded", "actual", "ok"}. */
static void usage_finding(struct check *c, const char *key, bool have_row, int64_t recorded,
                          int64_t actual)
{
	bool ok = have_row && recorded == actual;
	json_object_set_new(c->report, key,
	                    json_pack("{s:o, s:I, s:b}", "recorded",
	                              have_row ? json_integer(recorded) : json_null(), "actual",
	                              (json_int_t)actual, "ok", ok));
	if (!ok) {
		c->problems++;
		if (c->repair)
			c->repaired++;
	}
}

static int check_usage(struct check *c)
{
	struct usage u = {0};
	if (c->repair) {
		if (in_transaction(c, fix_usage, &u) < 0)
			return -1;
	} else {
		/* one read transaction: all numbers from the same snapshot */
		if (sql_begin(c->conn, false, c->err) < 0)
			return -1;
		int r = read_usage(c, &u);
		sql_rollback(c->conn);
		if (r < 0)
			return -1;
	}
	usage_finding(c, "usage", u.have_row, u.recorded, u.actual);
	usage_finding(c, "objects", u.have_row, u.objects_recorded, u.objects_actual);
	return 0;
}

/* Holds of uploads whose node went away before releasing them (they count for nothing once
   expired; a repair drops them, as the next upload's hold does). */
static int drop_expired_holds(struct check *c, void *arg)
{
	int64_t n = sql_run_changes(c->conn, c->err,
	                            "DELETE FROM filestore_reservation WHERE cid=? AND expires<=?",
	                            "ii", c->cid, *(const int64_t *)arg);
	return n < 0 ? -1 : 0;
}

static int check_holds(struct check *c)
{
	json_t *list = json_object_get(c->report, "expired_holds");
	int64_t now = (int64_t)time(NULL);
	struct sql_stmt *s = sql_prepare(c->conn,
	                                 "SELECT id, bytes, expires FROM filestore_reservation "
	                                 "WHERE cid=? AND expires<=? ORDER BY id",
	                                 c->err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, c->cid);
	sql_bind_int64(s, 2, now);
	int r;
	while ((r = sql_step(s, c->err)) > 0) {
		const char *id = sql_col_text(s, 0);
		json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "id", id != NULL ? id : "",
		                                      "bytes", (json_int_t)sql_col_int64(s, 1),
		                                      "expires", (json_int_t)sql_col_int64(s, 2)));
	}
	sql_stmt_done(&s);
	if (r < 0)
		return -1;
	size_t n = json_array_size(list);
	c->problems += (int64_t)n;
	if (n == 0 || !c->repair)
		return 0;
	if (in_transaction(c, drop_expired_holds, &now) < 0)
		return -1;
	c->repaired += (int64_t)n;
	return 0;
}

int infostore_check_consistency(struct sql_conn *conn, int64_t cid, const char *filestore_root,
                                bool repair, json_t **report_r, struct sql_error *err)
{
	struct check c = {
	    .conn = conn, .cid = cid, .root = filestore_root, .repair = repair, .err = err};
	const char *error = NULL;
	int ret = -1;

	err->kind = SQL_ERR_NONE;
	array_init(&c.rows, sizeof(struct row));
	array_init(&c.orphans, FILESTORE_LOCATION_SIZE);
	array_init(&c.temps, FILESTORE_PATH_SIZE);
	c.unknown = json_array();
	c.report =
	    json_pack("{s:I, s:b, s:[], s:[], s:[], s:[], s:[], s:O}", "cid", (json_int_t)cid,
	              "repair", repair, "orphan_files", "missing_files", "stale_temp_files",
	              "expired_holds", "in_progress", "unknown_entries", c.unknown);

	/* Rows before files: an upload publishes its file before it commits the row, so every
	   row loaded here has its file on disk by the time the walk looks (unless it is
	   missing, or deleted meanwhile - check_missing looks again). */
	if (load_rows(&c) < 0)
		goto out;
	int r = filestore_walk(filestore_root, cid, on_entry, &c, &error);
	if (r < 0) {
		sql_error_set(err, SQL_ERR_OTHER, -r, "%s", error);
		goto out;
	}
	if (check_orphans(&c) < 0 || check_temps(&c) < 0 || check_missing(&c) < 0 ||
	    check_usage(&c) < 0 || check_holds(&c) < 0)
		goto out;
	json_object_set_new(c.report, "problems", json_integer(c.problems));
	json_object_set_new(c.report, "repaired", json_integer(c.repaired));
	*report_r = c.report;
	c.report = NULL;
	ret = 0;
out:
	json_decref(c.report);
	json_decref(c.unknown);
	array_free(&c.rows);
	array_free(&c.orphans);
	array_free(&c.temps);
	return ret;
}
