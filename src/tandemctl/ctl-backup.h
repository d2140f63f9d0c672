/* SPDX-License-Identifier: MIT */
/* Shared parts of exportcontext and importcontext: the table columns as SQL. */
#ifndef TANDEMCTL_CTL_BACKUP_H
#define TANDEMCTL_CTL_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "backup-tables.h"

#define BACKUP_CHUNK       (1u << 16)
#define BACKUP_SQL_MAX     1024
#define BACKUP_MAX_COLUMNS 32

#define BACKUP_CONFIGDB_OPTION                                                                     \
	CTL_OPT(0, "configdb-url", "URL",                                                          \
	        "the configdb, as in the nodes' [configdb] url (sqlite:///… or mariadb://…)",      \
	        CTL_REQUIRED)

/* A table's columns after cid. */
struct backup_columns {
	size_t count;
	char name[BACKUP_MAX_COLUMNS][64];
	bool text[BACKUP_MAX_COLUMNS];
	int file_index; /* the file column, -1 if none */
};

void backup_columns_parse(const struct backup_table *t, struct backup_columns *cols_r);
/* The index of a column, -1 if t has none of that name. */
int backup_column_index(const struct backup_columns *cols, const char *name);
/* "SELECT c1, c2… FROM t WHERE cid=? ORDER BY c1" */
void backup_select_sql(const struct backup_table *t, const struct backup_columns *cols, char *out,
                       size_t size);
/* "INSERT INTO t (cid, c1…) VALUES (?, ?…)" */
void backup_insert_sql(const struct backup_table *t, const struct backup_columns *cols, char *out,
                       size_t size);

#endif
