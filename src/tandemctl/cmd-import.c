/* SPDX-License-Identifier: MIT */
/* importcontext: restores an exportcontext archive as a new context, all or nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "backup-tables.h"
#include "ctl-backup.h"
#include "ctl.h"
#include "filestore.h"
#include "mem.h"
#include "migrate.h"
#include "provision.h"
#include "schema.h"

struct import {
	int64_t cid;
	struct archive_reader r;
	struct prov_location loc;
	struct sql_conn *conn;
	json_t *counts;
	uint64_t files, file_bytes, rows;
	char problem[600];
	char *chunk;
};

/* Records why the import fails; returns -1. */
static int fail(struct import *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct import *im, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->problem, sizeof(im->problem), fmt, ap);
	va_end(ap);
	return -1;
}

/* The next record, which must be an object of the given type (NULL: any object). */
static json_t *next_record(struct import *im, const char *type)
{
	const char *error;
	json_t *v = archive_reader_json(&im->r, &error);
	if (v == NULL) {
		fail(im, "archive %s", error != NULL ? error : "ends early");
		return NULL;
	}
	const char *t = json_string_value(json_object_get(v, "type"));
	if (type != NULL && (t == NULL || strcmp(t, type) != 0)) {
		fail(im, "archive: expected a %s record at byte %llu", type,
		     (unsigned long long)im->r.offset);
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Reads one file (its line, bytes, newline) into the filestore; checks size and MD5 against
   the row and puts the new location into location_r. */
static int import_file(struct import *im, json_int_t size, const char *md5,
                       char location_r[FILESTORE_LOCATION_SIZE])
{
	json_t *line = next_record(im, "file");
	if (line == NULL)
		return -1;
	json_int_t bytes = json_integer_value(json_object_get(line, "bytes"));
	json_decref(line);
	if (bytes != size || bytes < 0)
		return fail(im, "archive: a file of %lld bytes for a version of %lld bytes",
		            (long long)bytes, (long long)size);
	struct filestore_temp *temp;
	const char *error;
	int r = filestore_temp_create(im->loc.filestore_root, im->cid, &temp, &error);
	if (r < 0)
		return fail(im, "filestore: %s", error);
	uint64_t left = (uint64_t)bytes;
	while (r == 0 && left > 0) {
		size_t n = left < BACKUP_CHUNK ? (size_t)left : BACKUP_CHUNK;
		if (archive_reader_bytes(&im->r, im->chunk, n) < 0) {
			r = fail(im, "archive ends inside a file");
			break;
		}
		if ((r = filestore_temp_write(temp, im->chunk, n)) < 0)
			fail(im, "filestore: writing: %s", strerror(-r));
		left -= n;
	}
	char nl, digest[33];
	if (r == 0 && (archive_reader_bytes(&im->r, &nl, 1) < 0 || nl != '\n'))
		r = fail(im, "archive: no newline after a file at byte %llu",
		         (unsigned long long)im->r.offset);
	if (r == 0) {
		filestore_temp_md5(temp, digest);
		if (md5 == NULL || strcmp(digest, md5) != 0)
			r = fail(im, "archive: a file's MD5 is %s, its version row says %s", digest,
			         md5 != NULL ? md5 : "nothing");
	}
	/* Published files stay in the context's directory; a failed import removes it whole. */
	if (r == 0 && filestore_temp_publish(temp, location_r, &error) < 0)
		r = fail(im, "filestore: %s", error);
	filestore_temp_destroy(&temp);
	if (r == 0) {
		im->files++;
		im->file_bytes += (uint64_t)bytes;
		if (im->files % 200 == 0)
			ctl_note("files: %llu (%llu bytes)", (unsigned long long)im->files,
			         (unsigned long long)im->file_bytes);
	}
	return r;
}

static int bind_value(struct import *im, struct sql_stmt *s, unsigned idx, const json_t *v)
{
	if (json_is_integer(v))
		sql_bind_int64(s, idx, json_integer_value(v));
	else if (json_is_string(v))
		sql_bind_text(s, idx, json_string_value(v));
	else if (json_is_null(v))
		sql_bind_null(s, idx);
	else
		return fail(im, "archive: a value that is no integer, string or null");
	return 0;
}

static int import_row(struct import *im, const struct backup_table *t,
                      const struct backup_columns *cols, const char *sql, const json_t *row)
{
	struct sql_error err;
	char location[FILESTORE_LOCATION_SIZE];

	if (json_array_size(row) != cols->count)
		return fail(im, "archive: a row of %s with %zu values, not %zu", t->name,
		            json_array_size(row), cols->count);
	if (cols->file_index >= 0) {
		const json_t *size = json_array_get(row, (size_t)backup_column_index(cols, "size"));
		const json_t *md5 = json_array_get(row, (size_t)backup_column_index(cols, "md5"));
		if (import_file(im, json_integer_value(size), json_string_value(md5), location) < 0)
			return -1;
	}
	struct sql_stmt *s = sql_prepare(im->conn, sql, &err);
	if (s == NULL)
		return fail(im, "%s: %s", t->name, err.message);
	sql_bind_int64(s, 1, im->cid);
	int r = 0;
	for (size_t i = 0; r == 0 && i < cols->count; i++) {
		if ((int)i == cols->file_index)
			sql_bind_text(s, (unsigned)i + 2, location);
		else
			r = bind_value(im, s, (unsigned)i + 2, json_array_get(row, i));
	}
	if (r == 0 && sql_step(s, &err) < 0)
		r = fail(im, "inserting into %s: %s", t->name, err.message);
	sql_stmt_done(&s);
	return r;
}

static int import_table(struct import *im, const json_t *head)
{
	const char *name = json_string_value(json_object_get(head, "name"));
	const struct backup_table *t = NULL;
	for (size_t i = 0; name != NULL && i < backup_table_count; i++) {
		if (strcmp(backup_tables[i].name, name) == 0)
			t = &backup_tables[i];
	}
	if (t == NULL)
		return fail(im, "archive: table \"%s\" is unknown to this tandemctl",
		            name != NULL ? name : "?");
	/* The archive's columns, each one this tandemctl knows: an archive from an older schema
	   lacks the columns added since, which keep their defaults. */
	struct backup_columns known, cols = {.file_index = -1};
	backup_columns_parse(t, &known);
	const json_t *names = json_object_get(head, "columns");
	if (!json_is_array(names) || json_array_size(names) > BACKUP_MAX_COLUMNS)
		return fail(im, "archive: table %s has no column list", name);
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *col = json_string_value(json_array_get(names, i));
		int k = col != NULL ? backup_column_index(&known, col) : -1;
		if (k < 0)
			return fail(im,
			            "archive: table %s has a column \"%s\" this tandemctl does not "
			            "know (an archive from a newer version?)",
			            name, col != NULL ? col : "?");
		snprintf(cols.name[i], sizeof(cols.name[i]), "%s", known.name[k]);
		cols.text[i] = known.text[k];
		if (k == known.file_index)
			cols.file_index = (int)i;
		cols.count++;
	}
	if (known.file_index >= 0 &&
	    (cols.file_index < 0 || backup_column_index(&cols, "size") < 0 ||
	     backup_column_index(&cols, "md5") < 0))
		return fail(im, "archive: table %s lacks its file columns", name);
	char sql[BACKUP_SQL_MAX];
	backup_insert_sql(t, &cols, sql, sizeof(sql));
	json_int_t rows = 0;
	for (;;) {
		json_t *v = next_record(im, NULL);
		if (v == NULL)
			return -1;
		if (json_is_object(v)) {
			const char *type = json_string_value(json_object_get(v, "type"));
			json_int_t n = json_integer_value(json_object_get(v, "rows"));
			int ok = type != NULL && strcmp(type, "end") == 0 && n == rows;
			json_decref(v);
			if (!ok)
				return fail(im, "archive: table %s ends wrongly after %lld rows",
				            name, (long long)rows);
			break;
		}
		int r = import_row(im, t, &cols, sql, v);
		json_decref(v);
		if (r < 0)
			return -1;
		rows++;
	}
	json_object_set_new(im->counts, name, json_integer(rows));
	im->rows += (uint64_t)rows;
	ctl_note("%s: %lld rows", name, (long long)rows);
	return 0;
}

/* Checks the manifest against what was read: digest, counts. */
static int check_manifest(struct import *im, const json_t *manifest)
{
	char digest[65];
	archive_reader_digest(&im->r, digest);
	const char *want = json_string_value(json_object_get(manifest, "sha256"));
	if (want == NULL || strcmp(want, digest) != 0)
		return fail(im, "archive is damaged: its SHA-256 is %s, the manifest says %s",
		            digest, want != NULL ? want : "nothing");
	if (!json_equal(json_object_get(manifest, "counts"), im->counts) ||
	    (uint64_t)json_integer_value(json_object_get(manifest, "files")) != im->files ||
	    (uint64_t)json_integer_value(json_object_get(manifest, "file_bytes")) != im->file_bytes)
		return fail(im, "archive: the manifest's counts differ from its content");
	const char *error;
	json_t *extra = archive_reader_json(&im->r, &error);
	if (extra != NULL || error != NULL) {
		json_decref(extra);
		return fail(im, "archive: data after the manifest");
	}
	return 0;
}

/* The rows and files, in one transaction on the context's user schema. */
static int import_data(struct import *im, struct sql_db *udb)
{
	struct sql_error err;
	if (sql_conn_get(udb, SQL_WRITE, im->cid, &im->conn, &err) < 0 ||
	    sql_begin(im->conn, true, &err) < 0)
		return fail(im, "user schema %s: %s", im->loc.schema, err.message);
	/* What createcontext made (system folders, the admin) gives way to the archive's rows. */
	for (size_t i = 0; i < backup_table_count; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE cid=?", backup_tables[i].name);
		if (sql_run(im->conn, &err, sql, "i", im->cid) < 0)
			return fail(im, "user schema %s: %s", im->loc.schema, err.message);
	}
	for (;;) {
		json_t *v = next_record(im, NULL);
		if (v == NULL)
			return -1;
		const char *type = json_string_value(json_object_get(v, "type"));
		int r;
		if (type != NULL && strcmp(type, "table") == 0) {
			r = import_table(im, v);
		} else if (type != NULL && strcmp(type, "manifest") == 0) {
			r = check_manifest(im, v);
			json_decref(v);
			if (r < 0)
				return -1;
			break;
		} else {
			r = fail(im, "archive: unexpected record at byte %llu",
			         (unsigned long long)im->r.offset);
		}
		json_decref(v);
		if (r < 0)
			return -1;
	}
	if (sql_commit(im->conn, &err) < 0)
		return fail(im, "user schema %s: commit: %s", im->loc.schema, err.message);
	return 0;
}

/* The mappings for the new context: --mapping's, else the archive's without its id
   mapping when the id changes (the id is always a mapping of its own). */
static const char **mapping_list(const char *given, const json_t *archived, int64_t old_cid,
                                 int64_t new_cid, size_t *count_r, char **storage_r)
{
	size_t n = 0, cap = json_array_size(archived) + 1;
	*storage_r = NULL;
	if (given != NULL) {
		*storage_r = mem_strdup(given);
		cap = 1;
		for (const char *p = given; *p != '\0'; p++)
			cap += *p == ',';
	}
	const char **list = mem_alloc(cap * sizeof(*list));
	if (given != NULL) {
		for (char *p = *storage_r; p != NULL;) {
			char *comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			if (*p != '\0')
				list[n++] = p;
			p = comma != NULL ? comma + 1 : NULL;
		}
	} else {
		char idmap[24];
		snprintf(idmap, sizeof(idmap), "%lld", (long long)old_cid);
		size_t i;
		const json_t *m;
		json_array_foreach(archived, i, m)
		{
			const char *map = json_string_value(m);
			if (map == NULL || (old_cid != new_cid && strcmp(map, idmap) == 0))
				continue;
			list[n++] = map;
		}
	}
	*count_r = n;
	return list;
}

static int create_context(struct provision *prov, struct import *im, const struct ctl_args *args,
                          const json_t *header)
{
	const json_t *ctx = json_object_get(header, "context");
	const json_t *admin = json_object_get(ctx, "admin");
	int64_t old_cid = json_integer_value(json_object_get(header, "cid"));
	char *storage, name[24];
	size_t count;
	const char *cname = json_string_value(json_object_get(ctx, "name"));
	snprintf(name, sizeof(name), "%lld", (long long)old_cid);
	if (ctl_has(args, "contextname"))
		cname = ctl_arg(args, "contextname");
	else if (cname != NULL && strcmp(cname, name) == 0)
		cname = NULL; /* named by its id: takes the new id */
	const char **maps = mapping_list(ctl_arg(args, "mapping"), json_object_get(ctx, "mappings"),
	                                 old_cid, im->cid, &count, &storage);
	struct prov_context spec = {
	    .cid = im->cid,
	    .name = cname,
	    .quota_mb = json_integer_value(json_object_get(ctx, "quota_mb")),
	    .mappings = maps,
	    .mapping_count = count,
	    .admin = {.login = json_string_value(json_object_get(admin, "login")),
	              .display_name = json_string_value(json_object_get(admin, "display_name")),
	              .given_name = json_string_value(json_object_get(admin, "given_name")),
	              .sur_name = json_string_value(json_object_get(admin, "sur_name")),
	              .email = json_string_value(json_object_get(admin, "email")),
	              .password_hash = json_string_value(json_object_get(admin, "password_hash"))},
	    .database = ctl_arg(args, "database"),
	    .filestore_id = (int64_t)ctl_arg_number(args, "filestore", 0),
	};
	struct prov_error perr;
	json_t *made = provision_create_context(prov, &spec, &perr);
	mem_free(&maps);
	mem_free(&storage);
	if (made == NULL)
		return fail(im, "%s", perr.message);
	json_decref(made);
	return 0;
}

static int check_header(struct import *im, const json_t *header)
{
	json_int_t format = json_integer_value(json_object_get(header, "format"));
	json_int_t version = json_integer_value(json_object_get(header, "userdb_version"));
	int latest = migrate_latest(schema_userdb, schema_userdb_count);
	if (format != ARCHIVE_FORMAT)
		return fail(im, "archive format %lld is not %d", (long long)format, ARCHIVE_FORMAT);
	if (version < 1)
		return fail(im, "archive: the header names no user schema version");
	if (version > latest)
		return fail(im,
		            "the archive's user schema version %lld is newer than this "
		            "tandemctl's (%d): upgrade first",
		            (long long)version, latest);
	if (!json_is_object(json_object_get(json_object_get(header, "context"), "admin")))
		return fail(im, "archive: the header names no context admin");
	return 0;
}

static int set_enabled(struct provision *prov, struct import *im, bool enabled, const char *reason)
{
	struct prov_error perr;
	json_t *c = provision_set_context_enabled(prov, im->cid, enabled, reason, &perr);
	if (c == NULL)
		return fail(im, "%s", perr.message);
	json_decref(c);
	return 0;
}

static int run_import(struct provision *prov, struct import *im, const struct ctl_args *args)
{
	struct prov_error perr;
	json_t *header = next_record(im, "header");
	if (header == NULL || check_header(im, header) < 0) {
		json_decref(header);
		return ctl_error("%s", im->problem);
	}
	if (im->cid == 0)
		im->cid = json_integer_value(json_object_get(header, "cid"));
	int r = create_context(prov, im, args, header);
	if (r < 0) {
		json_decref(header);
		return ctl_error("%s", im->problem);
	}
	ctl_note("context %lld created", (long long)im->cid);
	/* Nobody logs in to it before all of it is there. */
	r = set_enabled(prov, im, false, "being imported");
	struct sql_db *udb = NULL;
	if (r == 0 && (udb = provision_context_db(prov, im->cid, &im->loc, &perr)) == NULL)
		r = fail(im, "%s", perr.message);
	if (r == 0)
		r = import_data(im, udb);
	sql_conn_put(&im->conn);
	const json_t *ctx = json_object_get(header, "context");
	if (r == 0)
		r = set_enabled(prov, im, !json_is_false(json_object_get(ctx, "enabled")),
		                json_string_value(json_object_get(ctx, "disabled_reason")));
	json_decref(header);
	if (r < 0) {
		/* All or nothing: the context, its rows and its filestore directory go again. */
		if (provision_delete_context(prov, im->cid, &perr) < 0)
			return ctl_error("%s; removing the partly imported context %lld also "
			                 "failed: %s",
			                 im->problem, (long long)im->cid, perr.message);
		return ctl_error("%s (nothing was imported)", im->problem);
	}
	json_t *c = provision_get_context(prov, im->cid, &perr);
	if (ctl_json_output()) {
		json_t *out =
		    json_pack("{sIsOsIsIsI}", "id", (json_int_t)im->cid, "counts", im->counts,
		              "rows", (json_int_t)im->rows, "files", (json_int_t)im->files,
		              "file_bytes", (json_int_t)im->file_bytes);
		json_object_set(out, "context", c != NULL ? c : json_null());
		ctl_print_json(out);
		json_decref(out);
	} else {
		printf("context %lld imported (schema %s, filestore %lld): %llu rows, %llu files "
		       "(%llu bytes)\n",
		       (long long)im->cid, im->loc.schema,
		       (long long)ctl_json_int(c, "filestore_id", 0), (unsigned long long)im->rows,
		       (unsigned long long)im->files, (unsigned long long)im->file_bytes);
	}
	json_decref(c);
	return CTL_EXIT_OK;
}

int cmd_importcontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    BACKUP_CONFIGDB_OPTION,
	    CTL_OPT('f', "file", "FILE", "the archive exportcontext wrote", CTL_REQUIRED),
	    CTL_NUM('c', "contextid", "CID", "the new context id (default: the archive's)", 0, 1,
	            CTL_MAX_CID),
	    CTL_OPT('L', "mapping", "MAPS",
	            "login mappings, comma-separated, instead of the archive's", 0),
	    CTL_OPT('N', "contextname", "NAME", "context name instead of the archive's", 0),
	    CTL_OPT(0, "database", "NAME", "place it on this database (a primary's name)", 0),
	    CTL_NUM(0, "filestore", "ID", "place it on this filestore", 0, 1, INT64_MAX),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "importcontext",
	    "--configdb-url URL -f FILE [-c NEWCID] [-L MAPS] [-N NAME]\n"
	    "        [--database NAME] [--filestore ID]",
	    "Restores a context from an exportcontext archive into this cluster: creates it (never "
	    "over an existing id or login mapping), placed as createcontext places, with its rows "
	    "(ids kept) and files; checks the archive's checksums and counts. On any failure the "
	    "partly imported context is removed. Progress goes to stderr.",
	    options};
	struct ctl_args args;
	struct provision *prov;
	struct prov_error perr;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	const char *file = ctl_arg(&args, "file");
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctl_error("cannot open %s: %s", file, strerror(errno));
	if (provision_open(ctl_arg(&args, "configdb-url"), NULL, NULL, &prov, &perr) < 0) {
		close(fd);
		return ctl_error("%s", perr.message);
	}
	struct import im = {.cid = (int64_t)ctl_arg_number(&args, "contextid", 0),
	                    .counts = json_object(),
	                    .chunk = mem_alloc(BACKUP_CHUNK)};
	archive_reader_init(&im.r, fd);
	ret = run_import(prov, &im, &args);
	archive_reader_free(&im.r);
	json_decref(im.counts);
	mem_free(&im.chunk);
	close(fd);
	provision_close(&prov);
	return ret;
}
