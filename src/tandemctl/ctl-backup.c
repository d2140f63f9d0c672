/* SPDX-License-Identifier: MIT */
/* Shared parts of exportcontext and importcontext. */
#include "ctl-backup.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

void backup_columns_parse(const struct backup_table *t, struct backup_columns *cols_r)
{
	memset(cols_r, 0, sizeof(*cols_r));
	cols_r->file_index = -1;
	for (const char *p = t->columns; *p != '\0' && cols_r->count < BACKUP_MAX_COLUMNS;) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		size_t name_len = strcspn(p, " :");
		size_t i = cols_r->count++;
		snprintf(cols_r->name[i], sizeof(cols_r->name[i]), "%.*s", (int)name_len, p);
		cols_r->text[i] = name_len < n;
		if (t->file_column != NULL && strcmp(cols_r->name[i], t->file_column) == 0)
			cols_r->file_index = (int)i;
		p += n;
	}
}

int backup_column_index(const struct backup_columns *cols, const char *name)
{
	for (size_t i = 0; i < cols->count; i++) {
		if (strcmp(cols->name[i], name) == 0)
			return (int)i;
	}
	return -1;
}

void backup_select_sql(const struct backup_table *t, const struct backup_columns *cols, char *out,
                       size_t size)
{
	struct buf b;
	buf_init_fixed(&b, out, size);
	buf_append_lit(&b, "SELECT ");
	for (size_t i = 0; i < cols->count; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", cols->name[i]);
	buf_printf(&b, " FROM %s WHERE cid=? ORDER BY %s", t->name, cols->name[0]);
}

void backup_insert_sql(const struct backup_table *t, const struct backup_columns *cols, char *out,
                       size_t size)
{
	struct buf b;
	buf_init_fixed(&b, out, size);
	buf_printf(&b, "INSERT INTO %s (cid", t->name);
	for (size_t i = 0; i < cols->count; i++)
		buf_printf(&b, ", %s", cols->name[i]);
	buf_append_lit(&b, ") VALUES (?");
	for (size_t i = 0; i < cols->count; i++)
		buf_append_lit(&b, ", ?");
	buf_append_char(&b, ')');
}
