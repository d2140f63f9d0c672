/* SPDX-License-Identifier: MIT */
/* The per-context tables of the user schema that a context backup holds (tandemctl
   exportcontext / importcontext, docs/internals/backup.md). A migration that adds a table with a
   cid column lists it here (or among the excluded ones): until then exportcontext refuses to run,
   so that no backup silently leaves data out. */
#ifndef TANDEM_BACKUP_TABLES_H
#define TANDEM_BACKUP_TABLES_H

#include <stddef.h>

#include "sql.h"

struct backup_table {
	const char *name;
	/* The columns after cid, space-separated; ":t" marks a text column (else an integer). */
	const char *columns;
	/* The column holding a filestore location whose file travels with the row, or NULL. */
	const char *file_column;
};

extern const struct backup_table backup_tables[];
extern const size_t backup_table_count;

/* Compares the schema on conn with the lists: 0 when every table is either backed up (with
   exactly the listed columns) or deliberately excluded; otherwise -1 with a message in
   problem_r naming the table or column the exporter does not know (or an SQL error). */
int backup_tables_check(struct sql_conn *conn, char *problem_r, size_t size);

/* The number of columns in t->columns. */
size_t backup_table_columns(const struct backup_table *t);

#endif
