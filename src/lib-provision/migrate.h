/* SPDX-License-Identifier: MIT */
/* Versioned schema migrations, applied explicitly by provisioning tools. */
#ifndef TANDEM_MIGRATE_H
#define TANDEM_MIGRATE_H

#include "sql.h"

/* One step: the statements that take a schema from version-1 to version, per dialect
   (';'-separated, no semicolons inside statements). */
struct migration {
	int version;
	const char *sqlite;
	const char *mariadb;
};

/* Version of component recorded in the schema (0 when the schema has no version table). */
int migrate_current(struct sql_conn *conn, const char *component, int *version_r,
                    struct sql_error *err);
/* Applies the steps above the recorded version, in order, each recording its version.
   Serialised against other processes migrating the same schema (sqlite: one write
   transaction, as SQLite DDL is transactional; mariadb: a named GET_LOCK). */
int migrate_apply(struct sql_conn *conn, const char *component, const struct migration *steps,
                  size_t count, struct sql_error *err);
/* Latest version in steps. */
int migrate_latest(const struct migration *steps, size_t count);

#endif
