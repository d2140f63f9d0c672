/* SPDX-License-Identifier: MIT */
/* The tables of a context backup, and the check that the schema has no others. */
#include "backup-tables.h"

#include <stdio.h>
#include <string.h>

/* In restore order. Every table is keyed by cid, which the importer replaces. */
const struct backup_table backup_tables[] = {
    {"ctx_sequence", "next_id", NULL},
    {"users",
     "id login:t display_name:t given_name:t sur_name:t email:t password_hash:t enabled "
     "disabled_reason:t is_admin created modified access_combination:t imap_server:t "
     "smtp_server:t imap_login:t",
     NULL},
    {"user_group", "id name:t display_name:t modified", NULL},
    {"group_member", "group_id user_id", NULL},
    {"resource", "id name:t display_name:t email:t description:t available modified", NULL},
    {"context_access", "combination:t", NULL},
    {"tombstone", "module:t id deleted", NULL},
    {"filestore_usage", "used_bytes objects", NULL},
    {"folder", "id parent owner module:t title:t is_system default_for:t created modified", NULL},
    {"folder_permission", "folder entity is_group bits", NULL},
    {"infostore",
     "id folder name:t version size md5:t content_type:t created modified created_by "
     "modified_by",
     NULL},
    {"infostore_version",
     "file version size md5:t content_type:t filestore_location:t created created_by",
     "filestore_location"},
    {"dav_props", "kind:t object ns:t name:t value:t", NULL},
    {"cal_object",
     "id folder name:t uid:t component:t dtstart dtend all_day recurs first_instance "
     "last_instance summary:t etag:t revision size ical:t created modified created_by "
     "modified_by",
     NULL},
    {"contact_object",
     "id folder name:t uid:t version:t fn:t n:t emails:t phones:t org:t birthday:t search:t "
     "etag:t revision size vcard:t created modified created_by modified_by",
     NULL},
    {"cal_folder_revision", "folder revision pruned", NULL},
    {"cal_tombstone", "folder id name:t revision created_by deleted", NULL},
    {"gab_published", "user_id phone:t org:t modified", NULL},
    {"gab_revision", "revision", NULL},
};
const size_t backup_table_count = sizeof(backup_tables) / sizeof(backup_tables[0]);

/* Tables of the user schema a backup leaves out, and why. */
static const char *const excluded[] = {
    "schema_version",        /* the schema's own, not a context's */
    "filestore_reservation", /* quota held by uploads in flight: they do not survive a restore */
};

size_t backup_table_columns(const struct backup_table *t)
{
	size_t n = 0;
	for (const char *p = t->columns; *p != '\0';) {
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		n++;
		p += strcspn(p, " ");
	}
	return n;
}

static const struct backup_table *find_table(const char *name)
{
	for (size_t i = 0; i < backup_table_count; i++) {
		if (strcmp(backup_tables[i].name, name) == 0)
			return &backup_tables[i];
	}
	return NULL;
}

static bool is_excluded(const char *name)
{
	for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++) {
		if (strcmp(excluded[i], name) == 0)
			return true;
	}
	return false;
}

/* True if name (len bytes) is one of t's columns (or cid). */
static bool known_column(const struct backup_table *t, const char *name)
{
	size_t len = strlen(name);
	if (strcmp(name, "cid") == 0)
		return true;
	for (const char *p = t->columns; *p != '\0';) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " :");
		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p += strcspn(p, " ");
	}
	return false;
}

static int check_columns(struct sql_conn *conn, const struct backup_table *t, char *problem_r,
                         size_t size)
{
	struct sql_error err;
	const char *sql = sql_conn_driver(conn) == SQL_DRIVER_SQLITE
	                      ? "SELECT name FROM pragma_table_info(?)"
	                      : "SELECT column_name FROM information_schema.columns WHERE "
	                        "table_schema=DATABASE() AND table_name=?";
	struct sql_stmt *s = sql_prepare(conn, sql, &err);
	if (s == NULL) {
		snprintf(problem_r, size, "listing the columns of %s: %s", t->name, err.message);
		return -1;
	}
	sql_bind_text(s, 1, t->name);
	size_t seen = 0;
	int r;
	while ((r = sql_step(s, &err)) > 0) {
		const char *col = sql_col_text(s, 0);
		if (!known_column(t, col)) {
			snprintf(
			    problem_r, size,
			    "table %s has a column \"%s\" the backup does not know: list it in "
			    "src/lib-provision/backup-tables.c",
			    t->name, col);
			sql_stmt_done(&s);
			return -1;
		}
		seen++;
	}
	sql_stmt_done(&s);
	if (r < 0) {
		snprintf(problem_r, size, "listing the columns of %s: %s", t->name, err.message);
		return -1;
	}
	if (seen != backup_table_columns(t) + 1) {
		snprintf(problem_r, size,
		         "table %s lacks columns the backup expects (schema too old?)", t->name);
		return -1;
	}
	return 0;
}

int backup_tables_check(struct sql_conn *conn, char *problem_r, size_t size)
{
	struct sql_error err;
	const char *sql = sql_conn_driver(conn) == SQL_DRIVER_SQLITE
	                      ? "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
	                        "LIKE 'sqlite_%' ORDER BY name"
	                      : "SELECT table_name FROM information_schema.tables WHERE "
	                        "table_schema=DATABASE() ORDER BY table_name";
	struct sql_stmt *s = sql_prepare(conn, sql, &err);
	if (s == NULL) {
		snprintf(problem_r, size, "listing the tables: %s", err.message);
		return -1;
	}
	size_t found = 0;
	int r = 0, ret = 0;
	while (ret == 0 && (r = sql_step(s, &err)) > 0) {
		const char *name = sql_col_text(s, 0);
		if (is_excluded(name))
			continue;
		if (find_table(name) == NULL) {
			snprintf(
			    problem_r, size,
			    "the user schema has a table \"%s\" the backup does not know: list it "
			    "in src/lib-provision/backup-tables.c",
			    name);
			ret = -1;
		} else {
			found++;
		}
	}
	sql_stmt_done(&s);
	if (ret < 0)
		return -1;
	if (r < 0) {
		snprintf(problem_r, size, "listing the tables: %s", err.message);
		return -1;
	}
	if (found != backup_table_count) {
		snprintf(problem_r, size, "the user schema lacks tables the backup expects");
		return -1;
	}
	for (size_t i = 0; i < backup_table_count; i++) {
		if (check_columns(conn, &backup_tables[i], problem_r, size) < 0)
			return -1;
	}
	return 0;
}
