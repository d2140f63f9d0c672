/* SPDX-License-Identifier: MIT */
/* Infostore rows: files, versions, usage and quota, tombstones. */
#include "infostore.h"

#include <stdio.h>
#include <string.h>

#include "dav-props.h"
#include "sql.h"

#define FILE_COLUMNS                                                                               \
	"id, folder, name, version, size, md5, content_type, created, modified, created_by, "      \
	"modified_by"
#define VERSION_COLUMNS                                                                            \
	"file, version, size, md5, content_type, filestore_location, created, created_by"

/* Length of the UTF-8 sequence starting at s (RFC 3629: no overlongs, no surrogates, at most
   U+10FFFF), or 0 if it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

const char *infostore_check_name(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	if (len == 0)
		return "the file name is empty";
	if (len > INFOSTORE_NAME_MAX)
		return "the file name is longer than 255 bytes";
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return "\".\" and \"..\" are not file names";
	for (size_t i = 0; i < len;) {
		if (s[i] == '/')
			return "the file name contains '/'";
		if (s[i] < 0x20 || s[i] == 0x7f)
			return "the file name contains a control character";
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0)
			return "the file name is not valid UTF-8";
		/* C1 controls (U+0080..U+009F) are as unprintable as C0 ones */
		if (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)
			return "the file name contains a control character";
		i += n;
	}
	return NULL;
}

const char *infostore_check_content_type(struct strv type)
{
	if (type.len == 0 || type.len > INFOSTORE_TYPE_MAX)
		return "Content-Type must be 1-128 characters";
	ptrdiff_t slash = strv_find_char(type, '/');
	if (slash <= 0 || (size_t)slash + 1 >= type.len || type.ptr[slash + 1] == ';' ||
	    type.ptr[slash + 1] == ' ')
		return "Content-Type must look like type/subtype";
	for (size_t i = 0; i < type.len; i++) {
		if (type.ptr[i] < 0x20 || type.ptr[i] > 0x7e)
			return "Content-Type must be printable ASCII";
	}
	return NULL;
}

static void copy_text(char *out, size_t size, const char *value)
{
	snprintf(out, size, "%s", value != NULL ? value : "");
}

/* --------------------------------------------------------------- usage */

int infostore_usage(struct sql_conn *conn, int64_t cid, int64_t *used_r, int64_t *objects_r,
                    struct sql_error *err)
{
	struct sql_stmt *s =
	    sql_prepare(conn, "SELECT used_bytes, objects FROM filestore_usage WHERE cid=?", err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	int r = sql_step(s, err);
	if (r > 0) {
		*used_r = sql_col_int64(s, 0);
		*objects_r = sql_col_int64(s, 1);
	}
	sql_stmt_done(&s);
	return r;
}

/* Takes the usage row's lock while adding to it (the row is made if missing), then reads the
   new totals. On MariaDB the UPDATE comes before any read: it takes the row lock, so what is
   read next includes every change that committed before ours. */
static int lock_usage(struct sql_conn *conn, int64_t cid, int64_t bytes, int64_t objects,
                      int64_t *used_r, int64_t *objects_r, struct sql_error *err)
{
	int64_t changed = sql_run_changes(
	    conn, err,
	    "UPDATE filestore_usage SET used_bytes=used_bytes+?, objects=objects+? WHERE cid=?",
	    "iii", bytes, objects, cid);
	if (changed < 0)
		return -1;
	if (changed == 0 &&
	    sql_run(conn, err,
	            "INSERT INTO filestore_usage (cid, used_bytes, objects) VALUES (?, ?, ?)",
	            "iii", cid, bytes, objects) < 0)
		return -1;
	int r = infostore_usage(conn, cid, used_r, objects_r, err);
	if (r == 0)
		sql_error_set(err, SQL_ERR_OTHER, 0, "context %lld has no usage row",
		              (long long)cid);
	return r > 0 ? 0 : -1;
}

/* Bytes held by the context's live holds other than except's. */
static int held_by_others(struct sql_conn *conn, int64_t cid, const char *except, int64_t now,
                          int64_t *held_r, struct sql_error *err)
{
	return sql_query_int64(conn, err, held_r,
	                       "SELECT COALESCE(SUM(bytes), 0) FROM filestore_reservation WHERE "
	                       "cid=? AND id<>? AND expires>?",
	                       "isi", cid, except != NULL ? except : "", now) < 0
	           ? -1
	           : 0;
}

int infostore_held(struct sql_conn *conn, int64_t cid, int64_t now, int64_t *held_r,
                   struct sql_error *err)
{
	return held_by_others(conn, cid, NULL, now, held_r, err);
}

int infostore_charge(struct sql_conn *conn, const struct infostore_charge *ch,
                     struct sql_error *err)
{
	int64_t used, objects, held = 0;
	if (lock_usage(conn, ch->cid, ch->bytes, ch->objects, &used, &objects, err) < 0)
		return -1;
	if (ch->objects > 0 && ch->max_objects > 0 && objects > ch->max_objects)
		return INFOSTORE_OVER_OBJECTS;
	if (ch->bytes > 0 && ch->quota_bytes > 0) {
		if (held_by_others(conn, ch->cid, ch->hold, ch->now, &held, err) < 0)
			return -1;
		if (used > ch->quota_bytes - held)
			return INFOSTORE_OVER_QUOTA;
	}
	if (ch->hold != NULL &&
	    sql_run(conn, err, "DELETE FROM filestore_reservation WHERE cid=? AND id=?", "is",
	            ch->cid, ch->hold) < 0)
		return -1;
	return 0;
}

int infostore_reserve(struct sql_conn *conn, const struct infostore_hold *h, int64_t *held_r,
                      struct sql_error *err)
{
	int64_t used, objects, held;
	if (lock_usage(conn, h->cid, 0, 0, &used, &objects, err) < 0 ||
	    held_by_others(conn, h->cid, h->id, h->now, &held, err) < 0)
		return -1;
	/* each was below a quota (< 2^63) when it was set: no overflow */
	int64_t room = h->quota_bytes - held - used;
	if (h->need > room)
		return INFOSTORE_OVER_QUOTA;
	int64_t bytes = h->want < room ? h->want : room;
	if (bytes < h->need)
		bytes = h->need;
	int64_t changed = sql_run_changes(
	    conn, err, "UPDATE filestore_reservation SET bytes=?, expires=? WHERE cid=? AND id=?",
	    "iiis", bytes, h->expires, h->cid, h->id);
	if (changed < 0 ||
	    (changed == 0 &&
	     sql_run(conn, err,
	             "INSERT INTO filestore_reservation (cid, id, bytes, expires) VALUES (?, ?, "
	             "?, ?)",
	             "isii", h->cid, h->id, bytes, h->expires) < 0))
		return -1;
	*held_r = bytes;
	/* holds of crashed nodes: under the usage row's lock, like every change of holds */
	return sql_run(conn, err, "DELETE FROM filestore_reservation WHERE cid=? AND expires<=?",
	               "ii", h->cid, h->now);
}

int infostore_release(struct sql_conn *conn, int64_t cid, const char *id, struct sql_error *err)
{
	int64_t used, objects;
	if (lock_usage(conn, cid, 0, 0, &used, &objects, err) < 0)
		return -1;
	return sql_run(conn, err, "DELETE FROM filestore_reservation WHERE cid=? AND id=?", "is",
	               cid, id);
}

/* --------------------------------------------------------------- rows */

static void read_file(struct sql_stmt *s, struct infostore_file *f)
{
	memset(f, 0, sizeof(*f));
	f->id = sql_col_int64(s, 0);
	f->folder = sql_col_int64(s, 1);
	copy_text(f->name, sizeof(f->name), sql_col_text(s, 2));
	f->version = sql_col_int64(s, 3);
	f->size = sql_col_int64(s, 4);
	copy_text(f->md5, sizeof(f->md5), sql_col_text(s, 5));
	copy_text(f->content_type, sizeof(f->content_type), sql_col_text(s, 6));
	f->created = sql_col_int64(s, 7);
	f->modified = sql_col_int64(s, 8);
	f->created_by = sql_col_int64(s, 9);
	f->modified_by = sql_col_int64(s, 10);
}

static void read_version(struct sql_stmt *s, struct infostore_version *v)
{
	memset(v, 0, sizeof(*v));
	v->file = sql_col_int64(s, 0);
	v->version = sql_col_int64(s, 1);
	v->size = sql_col_int64(s, 2);
	copy_text(v->md5, sizeof(v->md5), sql_col_text(s, 3));
	copy_text(v->content_type, sizeof(v->content_type), sql_col_text(s, 4));
	copy_text(v->location, sizeof(v->location), sql_col_text(s, 5));
	v->created = sql_col_int64(s, 6);
	v->created_by = sql_col_int64(s, 7);
}

static int get_file(struct sql_conn *conn, const char *sql, int64_t cid, int64_t key,
                    const char *name, struct infostore_file *file_r, struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	sql_bind_int64(s, 2, key);
	if (name != NULL)
		sql_bind_text(s, 3, name);
	int r = sql_step(s, err);
	if (r > 0)
		read_file(s, file_r);
	sql_stmt_done(&s);
	return r;
}

int infostore_get(struct sql_conn *conn, int64_t cid, int64_t id, struct infostore_file *file_r,
                  struct sql_error *err)
{
	return get_file(conn, "SELECT " FILE_COLUMNS " FROM infostore WHERE cid=? AND id=?", cid,
	                id, NULL, file_r, err);
}

int infostore_find(struct sql_conn *conn, int64_t cid, int64_t folder, const char *name,
                   struct infostore_file *file_r, struct sql_error *err)
{
	return get_file(
	    conn, "SELECT " FILE_COLUMNS " FROM infostore WHERE cid=? AND folder=? AND name=?", cid,
	    folder, name, file_r, err);
}

int infostore_get_version(struct sql_conn *conn, int64_t cid, int64_t id, int64_t version,
                          struct infostore_version *version_r, struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT " VERSION_COLUMNS " FROM infostore_version "
	                                 "WHERE cid=? AND file=? AND version=?",
	                                 err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	sql_bind_int64(s, 2, id);
	sql_bind_int64(s, 3, version);
	int r = sql_step(s, err);
	if (r > 0)
		read_version(s, version_r);
	sql_stmt_done(&s);
	return r;
}

static int next_id(struct sql_conn *conn, int64_t cid, int64_t *id_r, struct sql_error *err)
{
	int64_t next;
	if (sql_run_changes(conn, err, "UPDATE ctx_sequence SET next_id=next_id+1 WHERE cid=?", "i",
	                    cid) != 1)
		goto fail;
	if (sql_query_int64(conn, err, &next, "SELECT next_id FROM ctx_sequence WHERE cid=?", "i",
	                    cid) <= 0)
		goto fail;
	*id_r = next - 1;
	return 0;
fail:
	if (err->kind == SQL_ERR_NONE)
		sql_error_set(err, SQL_ERR_OTHER, 0, "context %lld has no id sequence",
		              (long long)cid);
	return -1;
}

int infostore_add_version(struct sql_conn *conn, const struct infostore_upload *up,
                          const struct infostore_file *existing, int64_t *id_r, int64_t *version_r,
                          struct sql_error *err)
{
	int64_t id, version = 1;

	err->kind = SQL_ERR_NONE;
	if (existing != NULL) {
		id = existing->id;
		/* after the newest version row as well as the current version, whichever is
		   higher, so a number is never taken twice by live rows */
		int64_t max = 0;
		if (sql_query_int64(
		        conn, err, &max,
		        "SELECT MAX(version) FROM infostore_version WHERE cid=? AND file=?", "ii",
		        up->cid, id) < 0)
			return -1;
		version = (max > existing->version ? max : existing->version) + 1;
		if (sql_run(conn, err,
		            "UPDATE infostore SET version=?, size=?, md5=?, content_type=?, "
		            "modified=?, modified_by=? WHERE cid=? AND id=?",
		            "iissiiii", version, up->size, up->md5, up->content_type, up->now,
		            up->uid, up->cid, id) < 0)
			return -1;
	} else {
		if (next_id(conn, up->cid, &id, err) < 0)
			return -1;
		if (sql_run(conn, err,
		            "INSERT INTO infostore (cid, id, folder, name, version, size, md5, "
		            "content_type, created, modified, created_by, modified_by) VALUES "
		            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		            "iiisiissiiii", up->cid, id, up->folder, up->name, version, up->size,
		            up->md5, up->content_type, up->now, up->now, up->uid, up->uid) < 0)
			return -1;
	}
	if (sql_run(conn, err,
	            "INSERT INTO infostore_version (cid, file, version, size, md5, content_type, "
	            "filestore_location, created, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            "iiiisssii", up->cid, id, version, up->size, up->md5, up->content_type,
	            up->location, up->now, up->uid) < 0)
		return -1;
	*id_r = id;
	*version_r = version;
	return 0;
}

int infostore_move(struct sql_conn *conn, int64_t cid, int64_t id, int64_t folder, const char *name,
                   int64_t uid, int64_t now, struct sql_error *err)
{
	int64_t changed = sql_run_changes(
	    conn, err,
	    "UPDATE infostore SET folder=?, name=?, modified=?, modified_by=? WHERE cid=? AND id=?",
	    "isiiii", folder, name, now, uid, cid, id);
	return changed < 0 ? -1 : changed > 0 ? 1 : 0;
}

int infostore_delete(struct sql_conn *conn, int64_t cid, int64_t id, int64_t now,
                     struct array *locations, struct sql_error *err)
{
	int64_t total = 0, count = 0;
	size_t first = locations->count;

	err->kind = SQL_ERR_NONE;
	/* the usage row first (lock order as in uploads: usage, then the file's rows) */
	if (sql_run(conn, err, "UPDATE filestore_usage SET used_bytes=used_bytes WHERE cid=?", "i",
	            cid) < 0)
		return -1;
	int64_t changed =
	    sql_run_changes(conn, err, "DELETE FROM infostore WHERE cid=? AND id=?", "ii", cid, id);
	if (changed <= 0)
		return changed < 0 ? -1 : 0;
	struct sql_stmt *s = sql_prepare(
	    conn, "SELECT size, filestore_location FROM infostore_version WHERE cid=? AND file=?",
	    err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	sql_bind_int64(s, 2, id);
	int r;
	while ((r = sql_step(s, err)) > 0) {
		total += sql_col_int64(s, 0);
		count++;
		char *loc = array_push(locations);
		copy_text(loc, FILESTORE_LOCATION_SIZE, sql_col_text(s, 1));
	}
	sql_stmt_done(&s);
	if (r < 0 ||
	    sql_run(conn, err, "DELETE FROM infostore_version WHERE cid=? AND file=?", "ii", cid,
	            id) < 0 ||
	    dav_props_delete(conn, cid, DAV_PROPS_FILE, id, err) < 0 ||
	    sql_run(conn, err,
	            "UPDATE filestore_usage SET used_bytes=used_bytes-?, objects=objects-? WHERE "
	            "cid=?",
	            "iii", total, count, cid) < 0 ||
	    sql_run(conn, err,
	            "INSERT INTO tombstone (cid, module, id, deleted) VALUES (?, ?, ?, ?)", "isii",
	            cid, INFOSTORE_TOMBSTONE_MODULE, id, now) < 0) {
		while (locations->count > first)
			array_delete(locations, locations->count - 1);
		return -1;
	}
	return 1;
}

/* --------------------------------------------------------------- JSON */

json_t *infostore_file_json(const struct infostore_file *f)
{
	return json_pack("{s:I, s:I, s:s, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "id",
	                 (json_int_t)f->id, "folder", (json_int_t)f->folder, "name", f->name,
	                 "version", (json_int_t)f->version, "size", (json_int_t)f->size, "md5",
	                 f->md5, "content_type", f->content_type, "created", (json_int_t)f->created,
	                 "modified", (json_int_t)f->modified, "created_by",
	                 (json_int_t)f->created_by, "modified_by", (json_int_t)f->modified_by);
}

json_t *infostore_list(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t creator,
                       struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(
	    conn,
	    creator > 0 ? "SELECT " FILE_COLUMNS " FROM infostore WHERE cid=? AND folder=? AND "
	                  "created_by=? ORDER BY name, id"
	                : "SELECT " FILE_COLUMNS
	                  " FROM infostore WHERE cid=? AND folder=? ORDER BY name, id",
	    err);
	if (s == NULL)
		return NULL;
	sql_bind_int64(s, 1, cid);
	sql_bind_int64(s, 2, folder);
	if (creator > 0)
		sql_bind_int64(s, 3, creator);
	json_t *list = json_array();
	struct infostore_file f;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		read_file(s, &f);
		json_array_append_new(list, infostore_file_json(&f));
	}
	sql_stmt_done(&s);
	if (r < 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

int infostore_list_page(struct sql_conn *conn, int64_t cid, int64_t folder, int64_t creator,
                        const char *after, size_t max, struct infostore_file *files_r,
                        size_t *count_r, struct sql_error *err)
{
	*count_r = 0;
	struct sql_stmt *s = sql_prepare(
	    conn,
	    creator > 0 ? "SELECT " FILE_COLUMNS " FROM infostore WHERE cid=? AND folder=? AND "
	                  "name>? AND created_by=? ORDER BY name LIMIT ?"
	                : "SELECT " FILE_COLUMNS " FROM infostore WHERE cid=? AND folder=? AND "
	                  "name>? ORDER BY name LIMIT ?",
	    err);
	if (s == NULL)
		return -1;
	unsigned i = 1;
	sql_bind_int64(s, i++, cid);
	sql_bind_int64(s, i++, folder);
	sql_bind_text(s, i++, after != NULL ? after : "");
	if (creator > 0)
		sql_bind_int64(s, i++, creator);
	sql_bind_int64(s, i, (int64_t)max);
	int r = 0;
	while (*count_r < max && (r = sql_step(s, err)) > 0)
		read_file(s, &files_r[(*count_r)++]);
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

json_t *infostore_versions_json(struct sql_conn *conn, int64_t cid, int64_t id,
                                struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT " VERSION_COLUMNS " FROM infostore_version "
	                                 "WHERE cid=? AND file=? ORDER BY version DESC",
	                                 err);
	if (s == NULL)
		return NULL;
	sql_bind_int64(s, 1, cid);
	sql_bind_int64(s, 2, id);
	json_t *list = json_array();
	struct infostore_version v;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		read_version(s, &v);
		json_array_append_new(
		    list, json_pack("{s:I, s:I, s:s, s:s, s:I, s:I}", "version",
		                    (json_int_t)v.version, "size", (json_int_t)v.size, "md5", v.md5,
		                    "content_type", v.content_type, "created",
		                    (json_int_t)v.created, "created_by", (json_int_t)v.created_by));
	}
	sql_stmt_done(&s);
	if (r < 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}
