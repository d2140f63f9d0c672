/* SPDX-License-Identifier: MIT */
/* Shared internals of the provisioning modules (provision*.c). */
#ifndef TANDEM_PROVISION_PRIVATE_H
#define TANDEM_PROVISION_PRIVATE_H

#include <pthread.h>
#include <time.h>

#include "array.h"
#include "password.h"
#include "provision.h"
#include "sql.h"

#define CONTEXTS_PER_SCHEMA 1000
#define PROV_MAX_POOLS      16 /* a primary and its replicas */

struct provision {
	struct sql_db *cdb;          /* configdb: writes to url, reads also to read_url */
	struct sql_settings sql_set; /* for every database opened (positions, timeouts) */
	pthread_mutex_t lock;        /* guards userdbs */
	struct array userdbs;        /* struct userdb_entry */
	struct array locations;      /* struct cached_location (provision-lookup.c) */
	int64_t contexts_per_schema;
	provision_change_fn *on_change;
	void *on_change_ctx;
	provision_user_change_fn *on_user_change;
	void *on_user_change_ctx;
	provision_group_change_fn *on_group_change;
	void *on_group_change_ctx;
	provision_revoke_fn *on_revoke;
	void *on_revoke_ctx;
};

/* The configdb's consistency key: all of it is one unit for read-your-writes. */
#define CONFIGDB_KEY 0

/* A cached context location (provision-lookup.c). */
struct cached_location {
	struct prov_location loc;
	struct sql_db *db;
	time_t expires;
};

/* Where a context's data lives. */
struct ctx_location {
	int64_t cid;
	int64_t db_cluster;
	char schema[96];
	int64_t filestore_id;
	char filestore_uri[512];
	bool enabled;
	char disabled_reason[256];
};

void prov_error_set(struct prov_error *err, enum prov_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps an SQL failure onto a provisioning status (connection -> UNAVAILABLE, constraint ->
   CONFLICT, else INTERNAL), prefixing what. */
void prov_error_sql(struct prov_error *err, const char *what, const struct sql_error *sql_err);

/* Looks up cid: 1 found, 0 unknown (NOT_FOUND set), -1 error. */
int prov_locate(struct provision *prov, int64_t cid, struct ctx_location *loc,
                struct prov_error *err);
/* Ends the sessions of uid in cid (0: of the whole context) through the revoke hook. */
void prov_revoke(struct provision *prov, int64_t cid, int64_t uid);
/* The pool for a context's schema; creates the schema and applies migrations first when
   create is set. The pool stays cached in prov. */
struct sql_db *prov_userdb(struct provision *prov, int64_t db_cluster, const char *schema,
                           bool create, struct prov_error *err);
/* Inserts users into an open userdb transaction; checks logins; fills ids_r. */
int prov_insert_users(struct sql_conn *conn, int64_t cid, const struct prov_user *users,
                      size_t count, bool is_admin, int64_t *ids_r, struct prov_error *err);
/* Validates and hashes (or checks the given hash) into hash_r. */
int prov_user_password(const struct prov_user *u, char *hash_r, size_t size,
                       struct prov_error *err);
/* password_hash() with its failures as errors: UNAVAILABLE when too many hashings are in
   progress, INTERNAL when there was no memory for it. */
int prov_hash_password(const char *password, char hash_r[PASSWORD_HASH_MAX],
                       struct prov_error *err);
const char *prov_check_user(const struct prov_user *u);
/* count new ids from cid's sequence: [*first_r, *first_r + count). */
int prov_next_ids(struct sql_conn *conn, int64_t cid, int64_t count, int64_t *first_r,
                  struct sql_error *err);
/* The user database of cid (NOT_FOUND for an unknown context). */
struct sql_db *prov_context_userdb(struct provision *prov, int64_t cid, struct prov_error *err);
/* NULL when name is 1-128 letters, digits, '.', '_', '-'; else a message naming field. */
const char *prov_check_name(const char *name, const char *field);
/* Runs fn in a write transaction on cid's user schema: 0, or -1 with err set (by fn, which
   sets err->status, or else from the SQL error). */
int prov_userdb_write(struct provision *prov, int64_t cid, sql_txn_fn *fn, void *ctx,
                      struct prov_error *err);
/* A read connection on cid's user schema, or NULL with err set. */
struct sql_conn *prov_userdb_read(struct provision *prov, int64_t cid, struct prov_error *err);
/* Ends a read from prov_userdb_read: puts *conn back and returns list, or, when r < 0, frees
   list and returns NULL with err set from sql_err. */
json_t *prov_userdb_read_end(struct sql_conn **conn, int r, json_t *list,
                             const struct sql_error *sql_err, struct prov_error *err);
/* In a user-schema transaction: 1 when table holds row (cid, id); 0 with NOT_FOUND "<what> id
   does not exist in context cid" in perr; -1 with err. */
int prov_userdb_find(struct sql_conn *conn, const char *table, const char *what, int64_t cid,
                     int64_t id, struct prov_error *perr, struct sql_error *err);
/* Deletes row (cid, id) of table and leaves a tombstone of module: 0, or -1 with err. */
int prov_userdb_delete(struct sql_conn *conn, const char *table, const char *module, int64_t cid,
                       int64_t id, int64_t now, struct sql_error *err);
/* Sets INVALID with problem unless problem is NULL; true when it did. */
bool prov_invalid(struct prov_error *err, const char *problem);
/* s is 1..max bytes. */
bool prov_text_ok(const char *s, size_t max);
/* Local path of a file:// filestore URI, or NULL. */
const char *prov_filestore_path(const char *uri);

#endif
