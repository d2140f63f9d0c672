/* SPDX-License-Identifier: MIT */
/* exportcontext: one context's configdb records, user-schema rows and files into an archive
   (docs/internals/backup.md), read directly from the databases and the filestore. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "backup-tables.h"
#include "ctl.h"
#include "ctl-backup.h"
#include "mem.h"
#include "filestore.h"
#include "migrate.h"
#include "provision.h"

#define EXPORT_ATTEMPTS 3
/* A file row whose file vanished: the version was deleted after the snapshot. */
#define VANISHED 1

struct export
{
	int64_t cid;
	struct prov_location loc;
	json_t *context;
	struct archive_writer w;
	json_t *counts;
	uint64_t files, file_bytes, rows;
	char problem[4800];
	char missing[FILESTORE_LOCATION_SIZE]; /* the location of the file that was not there */
	char *chunk;
};

/* The context admin's fields, for the importer to create the context with before the rows
   arrive (it replaces the user rows with the archive's afterwards). */
static json_t *admin_record(struct sql_conn *conn, int64_t cid, struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT login, display_name, given_name, sur_name, email, "
	                                 "password_hash FROM users WHERE cid=? AND is_admin=1 "
	                                 "ORDER BY id",
	                                 err);
	if (s == NULL)
		return NULL;
	sql_bind_int64(s, 1, cid);
	json_t *admin = NULL;
	if (sql_step(s, err) > 0)
		admin = json_pack("{ssssssssssss}", "login", sql_col_text(s, 0), "display_name",
		                  sql_col_text(s, 1), "given_name", sql_col_text(s, 2), "sur_name",
		                  sql_col_text(s, 3), "email", sql_col_text(s, 4), "password_hash",
		                  sql_col_text(s, 5));
	sql_stmt_done(&s);
	return admin;
}

/* Streams the file of one row: a file line, its bytes, a newline. */
static int export_file(struct export *ex, const char *location)
{
	int fd;
	int r = filestore_open(ex->loc.filestore_root, ex->cid, location, &fd);
	if (r == -ENOENT) {
		snprintf(ex->missing, sizeof(ex->missing), "%s", location);
		return VANISHED;
	}
	if (r < 0) {
		snprintf(ex->problem, sizeof(ex->problem), "cannot open the file %s: %s", location,
		         strerror(-r));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(ex->problem, sizeof(ex->problem), "stat %s: %s", location,
		         strerror(errno));
		close(fd);
		return -1;
	}
	json_t *line = json_pack("{sssI}", "type", "file", "bytes", (json_int_t)st.st_size);
	archive_writer_json(&ex->w, line);
	json_decref(line);
	uint64_t left = (uint64_t)st.st_size;
	while (left > 0) {
		ssize_t n = read(fd, ex->chunk, left < BACKUP_CHUNK ? left : BACKUP_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(ex->problem, sizeof(ex->problem), "reading %s: %s", location,
			         n < 0 ? strerror(errno) : "shorter than its size");
			close(fd);
			return -1;
		}
		archive_writer_write(&ex->w, ex->chunk, (size_t)n);
		left -= (uint64_t)n;
	}
	close(fd);
	archive_writer_write(&ex->w, "\n", 1);
	ex->files++;
	ex->file_bytes += (uint64_t)st.st_size;
	if (ex->files % 200 == 0)
		ctl_note("files: %llu (%llu bytes)", (unsigned long long)ex->files,
		         (unsigned long long)ex->file_bytes);
	return 0;
}

static int export_table(struct export *ex, struct sql_conn *conn, const struct backup_table *t)
{
	struct backup_columns cols;
	struct sql_error err;
	char sql[BACKUP_SQL_MAX];

	backup_columns_parse(t, &cols);
	json_t *names = json_array();
	for (size_t i = 0; i < cols.count; i++)
		json_array_append_new(names, json_string(cols.name[i]));
	json_t *head = json_pack("{ssssso}", "type", "table", "name", t->name, "columns", names);
	archive_writer_json(&ex->w, head);
	json_decref(head);

	backup_select_sql(t, &cols, sql, sizeof(sql));
	struct sql_stmt *s = sql_prepare(conn, sql, &err);
	if (s == NULL) {
		snprintf(ex->problem, sizeof(ex->problem), "%s: %s", t->name, err.message);
		return -1;
	}
	sql_bind_int64(s, 1, ex->cid);
	int64_t rows = 0;
	int r = 0, ret = 0;
	while (ret == 0 && ex->w.error == 0 && (r = sql_step(s, &err)) > 0) {
		json_t *row = json_array();
		const char *location = NULL;
		for (size_t i = 0; ret == 0 && i < cols.count; i++) {
			json_t *v;
			if (sql_col_is_null(s, (unsigned)i))
				v = json_null();
			else if (cols.text[i])
				v = json_string(sql_col_text(s, (unsigned)i));
			else
				v = json_integer(sql_col_int64(s, (unsigned)i));
			if (v == NULL) {
				snprintf(ex->problem, sizeof(ex->problem),
				         "%s: the %s of a row is not UTF-8 text", t->name,
				         cols.name[i]);
				ret = -1;
			}
			json_array_append_new(row, v);
			if ((int)i == cols.file_index)
				location = sql_col_text(s, (unsigned)i);
		}
		if (ret != 0) {
			json_decref(row);
			break;
		}
		archive_writer_json(&ex->w, row);
		json_decref(row);
		rows++;
		if (cols.file_index >= 0)
			ret = export_file(ex, location != NULL ? location : "");
	}
	sql_stmt_done(&s);
	if (ret != 0)
		return ret;
	if (r < 0) {
		snprintf(ex->problem, sizeof(ex->problem), "%s: %s", t->name, err.message);
		return -1;
	}
	json_t *end =
	    json_pack("{sssssI}", "type", "end", "table", t->name, "rows", (json_int_t)rows);
	archive_writer_json(&ex->w, end);
	json_decref(end);
	json_object_set_new(ex->counts, t->name, json_integer(rows));
	ex->rows += (uint64_t)rows;
	ctl_note("%s: %lld rows", t->name, (long long)rows);
	return 0;
}

/* One attempt inside one read transaction: 0, VANISHED (try again) or -1. */
static int export_snapshot(struct export *ex, struct sql_db *udb)
{
	struct sql_conn *conn = NULL;
	struct sql_error err = {.kind = SQL_ERR_NONE};
	int version = 0, ret = -1;

	if (sql_conn_get(udb, SQL_READ, ex->cid, &conn, &err) < 0 ||
	    sql_begin(conn, false, &err) < 0) {
		snprintf(ex->problem, sizeof(ex->problem), "user schema %s: %s", ex->loc.schema,
		         err.message);
		sql_conn_put(&conn);
		return -1;
	}
	/* The first read fixes the snapshot (SQLite WAL, InnoDB REPEATABLE READ): every row
	   below comes from it. */
	if (migrate_current(conn, "userdb", &version, &err) < 0) {
		snprintf(ex->problem, sizeof(ex->problem), "user schema version: %s", err.message);
		goto out;
	}
	if (backup_tables_check(conn, ex->problem, sizeof(ex->problem)) < 0)
		goto out;
	json_t *admin = admin_record(conn, ex->cid, &err);
	if (admin == NULL) {
		snprintf(ex->problem, sizeof(ex->problem), "context %lld has no admin user%s%s",
		         (long long)ex->cid, err.kind != SQL_ERR_NONE ? ": " : "",
		         err.kind != SQL_ERR_NONE ? err.message : "");
		goto out;
	}
	json_t *head =
	    json_pack("{sssisIsIsissso}", "type", "header", "format", ARCHIVE_FORMAT, "cid",
	              (json_int_t)ex->cid, "created", (json_int_t)time(NULL), "userdb_version",
	              version, "tandemctl", TANDEMCTL_VERSION, "context", json_copy(ex->context));
	json_object_set_new(json_object_get(head, "context"), "admin", admin);
	archive_writer_json(&ex->w, head);
	json_decref(head);
	ret = 0;
	for (size_t i = 0; ret == 0 && i < backup_table_count; i++)
		ret = export_table(ex, conn, &backup_tables[i]);
out:
	sql_rollback(conn);
	sql_conn_put(&conn);
	return ret;
}

/* After a file was missing: true (with the problem set) if a version row still names it,
   i.e. the file is lost rather than deleted with its version after the snapshot. */
static bool still_referenced(struct export *ex, struct sql_db *udb)
{
	struct sql_conn *conn = NULL;
	struct sql_error err;
	int64_t n = 0;
	if (sql_conn_get(udb, SQL_WRITE, ex->cid, &conn, &err) == 0) {
		if (sql_query_int64(conn, &err, &n,
		                    "SELECT COUNT(*) FROM infostore_version WHERE cid=? AND "
		                    "filestore_location=?",
		                    "is", ex->cid, ex->missing) < 0)
			n = 0;
		sql_conn_put(&conn);
	}
	if (n > 0)
		snprintf(ex->problem, sizeof(ex->problem),
		         "the file %s of a stored version is missing from the filestore (run "
		         "tandemctl checkconsistency -c %lld)",
		         ex->missing, (long long)ex->cid);
	return n > 0;
}

/* The context record without what belongs to the source cluster's placement. */
static json_t *context_record(const json_t *ctx)
{
	return json_pack("{sOsOsOsOsO}", "name", json_object_get(ctx, "name"), "enabled",
	                 json_object_get(ctx, "enabled"), "disabled_reason",
	                 json_object_get(ctx, "disabled_reason"), "quota_mb",
	                 json_object_get(ctx, "quota_mb"), "mappings",
	                 json_object_get(ctx, "mappings"));
}

static int run_export(struct provision *prov, struct export *ex, const char *file)
{
	struct prov_error perr;
	char tmp[4200];
	int fd = -1, ret = CTL_EXIT_FAIL;

	json_t *ctx = provision_get_context(prov, ex->cid, &perr);
	if (ctx == NULL)
		return ctl_error("%s", perr.message);
	json_t *record = context_record(ctx);
	json_decref(ctx);
	ex->context = record;
	struct sql_db *udb = provision_context_db(prov, ex->cid, &ex->loc, &perr);
	if (udb == NULL) {
		json_decref(record);
		return ctl_error("%s", perr.message);
	}
	snprintf(tmp, sizeof(tmp), "%s.part", file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		json_decref(record);
		return ctl_error("cannot create %s: %s", tmp, strerror(errno));
	}
	archive_writer_init(&ex->w, fd);
	int r = VANISHED;
	for (int attempt = 1; r == VANISHED && attempt <= EXPORT_ATTEMPTS; attempt++) {
		if (attempt > 1) {
			ctl_note("a file was deleted during the export; starting over "
			         "(attempt %d of %d)",
			         attempt, EXPORT_ATTEMPTS);
			int e = archive_writer_restart(&ex->w);
			if (e < 0) {
				snprintf(ex->problem, sizeof(ex->problem), "%s: %s", tmp,
				         strerror(-e));
				r = -1;
				break;
			}
			json_object_clear(ex->counts);
			ex->files = ex->file_bytes = ex->rows = 0;
		}
		r = export_snapshot(ex, udb);
		if (r == VANISHED && still_referenced(ex, udb))
			r = -1;
	}
	if (r == VANISHED)
		snprintf(ex->problem, sizeof(ex->problem),
		         "files kept being deleted while exporting; tried %d times",
		         EXPORT_ATTEMPTS);
	if (r == 0) {
		json_t *manifest = json_pack(
		    "{sssisIsOsIsIsI}", "type", "manifest", "format", ARCHIVE_FORMAT, "cid",
		    (json_int_t)ex->cid, "counts", ex->counts, "rows", (json_int_t)ex->rows,
		    "files", (json_int_t)ex->files, "file_bytes", (json_int_t)ex->file_bytes);
		int e = archive_writer_finish(&ex->w, manifest);
		if (e == 0 && fsync(fd) < 0)
			e = -errno;
		if (e == 0 && rename(tmp, file) < 0)
			e = -errno;
		if (e < 0) {
			snprintf(ex->problem, sizeof(ex->problem), "writing %s: %s", file,
			         strerror(-e));
			r = -1;
		} else if (ctl_json_output()) {
			json_object_set_new(manifest, "file", json_string(file));
			json_object_set_new(manifest, "archive_bytes",
			                    json_integer((json_int_t)ex->w.bytes));
			ctl_print_json(manifest);
		} else {
			printf("context %lld exported to %s: %llu rows, %llu files (%llu bytes)\n",
			       (long long)ex->cid, file, (unsigned long long)ex->rows,
			       (unsigned long long)ex->files, (unsigned long long)ex->file_bytes);
		}
		json_decref(manifest);
	} else if (ex->w.error != 0) {
		snprintf(ex->problem, sizeof(ex->problem), "writing %s: %s", tmp,
		         strerror(ex->w.error));
	}
	close(fd);
	archive_writer_free(&ex->w);
	json_decref(record);
	if (r == 0)
		ret = CTL_EXIT_OK;
	else {
		unlink(tmp);
		ctl_error("%s", ex->problem);
	}
	return ret;
}

int cmd_exportcontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    BACKUP_CONFIGDB_OPTION,
	    CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1,
	            CTL_MAX_CID),
	    CTL_OPT('f', "file", "FILE", "the archive to write (replaced when complete)",
	            CTL_REQUIRED),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "exportcontext", "--configdb-url URL -c CID -f FILE",
	    "Writes a context (configdb records, every row of its user schema, its files) to an "
	    "archive, consistent while the context is in use. Talks to the databases and reads the "
	    "filestore directly: run it where a node runs. Progress goes to stderr.",
	    options};
	struct ctl_args args;
	struct provision *prov;
	struct prov_error perr;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (provision_open(ctl_arg(&args, "configdb-url"), NULL, NULL, &prov, &perr) < 0)
		return ctl_error("%s", perr.message);
	struct export ex = {.cid = (int64_t)ctl_arg_number(&args, "contextid", 0),
	                    .counts = json_object(),
	                    .chunk = mem_alloc(BACKUP_CHUNK)};
	ret = run_export(prov, &ex, ctl_arg(&args, "file"));
	json_decref(ex.counts);
	mem_free(&ex.chunk);
	provision_close(&prov);
	return ret;
}
