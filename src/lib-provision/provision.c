/* SPDX-License-Identifier: MIT */
/* configdb lifecycle, credentials, registrations and the user-schema pool cache. */
#include "provision-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "password.h"
#include "schema.h"

struct userdb_entry {
	char *url;
	char schema[96];
	struct sql_db *db;
};

void prov_error_set(struct prov_error *err, enum prov_status status, const char *fmt, ...)
{
	va_list args;
	err->status = status;
	va_start(args, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, args);
	va_end(args);
}

void prov_error_sql(struct prov_error *err, const char *what, const struct sql_error *sql_err)
{
	enum prov_status status = PROV_INTERNAL;
	if (sql_err->kind == SQL_ERR_CONNECTION)
		status = PROV_UNAVAILABLE;
	else if (sql_err->kind == SQL_ERR_READ_ONLY)
		status = PROV_READ_ONLY;
	else if (sql_err->kind == SQL_ERR_CONSTRAINT)
		status = PROV_CONFLICT;
	prov_error_set(err, status, "%s: %s", what, sql_err->message);
}

static bool name_ok(const char *s, size_t max, const char *extra)
{
	size_t len = strlen(s);
	if (len == 0 || len > max)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL))
			return false;
	}
	return true;
}

const char *provision_check_login(const char *login)
{
	if (login == NULL || !name_ok(login, 128, "._+-"))
		return "login must be 1-128 characters of letters, digits, '.', '_', '+' or '-'";
	return NULL;
}

const char *provision_check_mapping(const char *mapping)
{
	if (mapping == NULL || !name_ok(mapping, 128, "._@+-"))
		return "mapping must be 1-128 characters of letters, digits, '.', '_', '@', '+' or "
		       "'-'";
	return NULL;
}

const char *prov_filestore_path(const char *uri)
{
	if (strncmp(uri, "file:///", 8) != 0)
		return NULL;
	return uri + 7;
}

/* ---------------------------------------------------------------- configdb */

/* CREATE DATABASE name on the MariaDB server at server_url (idempotent). */
static int create_mariadb_database(const char *server_url, const char *name, const char *what,
                                   struct prov_error *err)
{
	struct sql_db *db;
	struct sql_conn *conn;
	struct sql_error sql_err;
	char ddl[200];
	if (sql_db_open(server_url, NULL, false, &db, &sql_err) < 0) {
		prov_error_sql(err, what, &sql_err);
		return -1;
	}
	/* name is a validated identifier ([A-Za-z0-9_-]), never raw input. */
	snprintf(ddl, sizeof(ddl), "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4",
	         name);
	int ret = sql_conn_get(db, SQL_WRITE, CONFIGDB_KEY, &conn, &sql_err);
	if (ret == 0) {
		ret = sql_exec(conn, ddl, &sql_err);
		sql_conn_put(&conn);
	}
	sql_db_close(&db);
	if (ret < 0)
		prov_error_sql(err, what, &sql_err);
	return ret;
}

/* For MariaDB the configdb database is created on the server first. */
static int ensure_database(const char *url, struct prov_error *err)
{
	struct sql_url u;
	const char *error;
	if (sql_url_parse(url, &u, &error) < 0) {
		prov_error_set(err, PROV_INVALID, "configdb URL: %s", error);
		return -1;
	}
	if (u.driver != SQL_DRIVER_MARIADB)
		return 0;
	if (u.database[0] == '\0') {
		prov_error_set(err, PROV_INVALID, "configdb URL must name a database");
		return -1;
	}
	char server_url[700];
	const char *slash = strrchr(url, '/');
	snprintf(server_url, sizeof(server_url), "%.*s/", (int)(slash - url), url);
	return create_mariadb_database(server_url, u.database, "creating the configdb database",
	                               err);
}

struct init_ctx {
	const char *user;
	const char *hash;
	struct prov_error *err;
};

int provision_init_configdb(const char *url, const char *master_user, const char *master_pass,
                            struct prov_error *err)
{
	const char *problem = provision_check_login(master_user);
	if (problem != NULL) {
		prov_error_set(err, PROV_INVALID, "master user: %s", problem);
		return -1;
	}
	if (master_pass == NULL || master_pass[0] == '\0' || strlen(master_pass) > 256) {
		prov_error_set(err, PROV_INVALID, "master password must be 1-256 characters");
		return -1;
	}
	if (ensure_database(url, err) < 0)
		return -1;

	struct sql_db *db;
	struct sql_error sql_err;
	if (sql_db_open(url, NULL, true, &db, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	struct sql_conn *conn = NULL;
	int ret = -1, version;
	char hash[PASSWORD_HASH_MAX];
	if (sql_conn_get(db, SQL_WRITE, CONFIGDB_KEY, &conn, &sql_err) < 0 ||
	    migrate_current(conn, "configdb", &version, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		goto out;
	}
	if (version != 0) {
		prov_error_set(err, PROV_CONFLICT,
		               "%s already holds a configdb (schema version %d); nothing changed",
		               sql_db_url(db), version);
		goto out;
	}
	if (prov_hash_password(master_pass, hash, err) < 0)
		goto out;
	if (migrate_apply(conn, "configdb", schema_configdb, schema_configdb_count, &sql_err) < 0 ||
	    sql_run(conn, &sql_err, "INSERT INTO master_admin (login, password_hash) VALUES (?, ?)",
	            "ss", master_user, hash) < 0) {
		prov_error_sql(err, "creating the configdb", &sql_err);
		goto out;
	}
	ret = 0;
out:
	sql_conn_put(&conn);
	sql_db_close(&db);
	return ret;
}

static int check_version(struct sql_db *db, struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	int version = 0;
	if (sql_conn_get(db, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	int ret = migrate_current(conn, "configdb", &version, &sql_err);
	sql_conn_put(&conn);
	if (ret < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	int want = migrate_latest(schema_configdb, schema_configdb_count);
	if (version == 0) {
		prov_error_set(err, PROV_UNAVAILABLE,
		               "configdb %s is not initialised: run tandemctl initconfigdb",
		               sql_db_url(db));
		return -1;
	}
	if (version != want) {
		prov_error_set(err, PROV_UNAVAILABLE,
		               "configdb schema version %d, this build needs %d: upgrade first",
		               version, want);
		return -1;
	}
	return 0;
}

int provision_open(const char *url, const char *read_url, const struct sql_settings *set,
                   struct provision **prov_r, struct prov_error *err)
{
	struct sql_error sql_err;
	struct provision *prov = mem_calloc(1, sizeof(*prov));
	pthread_mutex_init(&prov->lock, NULL);
	array_init(&prov->userdbs, sizeof(struct userdb_entry));
	array_init(&prov->locations, sizeof(struct cached_location));
	prov->contexts_per_schema = CONTEXTS_PER_SCHEMA;
	if (set != NULL)
		prov->sql_set = *set;
	else
		sql_settings_default(&prov->sql_set);
	struct sql_settings cset = prov->sql_set;
	snprintf(cset.scope, sizeof(cset.scope), "configdb");
	bool replica = read_url != NULL && read_url[0] != '\0';
	if (sql_db_open_cluster(url, &read_url, replica ? 1 : 0, &cset, &prov->cdb, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		provision_close(&prov);
		return -1;
	}
	if (check_version(prov->cdb, err) < 0) {
		provision_close(&prov);
		return -1;
	}
	*prov_r = prov;
	return 0;
}

void provision_close(struct provision **provp)
{
	struct provision *prov = *provp;
	if (prov == NULL)
		return;
	for (size_t i = 0; i < prov->userdbs.count; i++) {
		struct userdb_entry *e = array_idx(&prov->userdbs, i);
		sql_db_close(&e->db);
		mem_free(&e->url);
	}
	array_free(&prov->userdbs);
	array_free(&prov->locations);
	sql_db_close(&prov->cdb);
	pthread_mutex_destroy(&prov->lock);
	mem_free(provp);
}

void provision_set_contexts_per_schema(struct provision *prov, int64_t n)
{
	prov->contexts_per_schema = n > 0 ? n : CONTEXTS_PER_SCHEMA;
}

#define BUSY_MESSAGE "too many logins in progress; try again"

int prov_hash_password(const char *password, char hash_r[PASSWORD_HASH_MAX], struct prov_error *err)
{
	switch (password_hash(password, hash_r)) {
	case PASSWORD_OK:
		return 0;
	case PASSWORD_BUSY:
		prov_error_set(err, PROV_UNAVAILABLE, "%s", BUSY_MESSAGE);
		return -1;
	default:
		prov_error_set(err, PROV_INTERNAL, "hashing the password failed (out of memory)");
		return -1;
	}
}

/* Verifies password against the hash that sql selects (parameters: cid if > 0, then login),
   with one argon2id verification whether the login exists or not (password_check()).
   1 valid, 0 wrong or unknown, -1 database error or too many logins at once. */
static int check_password(struct sql_db *db, const char *what, const char *sql, int64_t cid,
                          const char *login, const char *password, struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	char hash[PASSWORD_HASH_MAX] = "";

	if (sql_conn_get(db, SQL_READ, cid > 0 ? cid : CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, what, &sql_err);
		return -1;
	}
	struct sql_stmt *s = sql_prepare(conn, sql, &sql_err);
	int r = -1;
	if (s != NULL) {
		unsigned idx = 1;
		if (cid > 0)
			sql_bind_int64(s, idx++, cid);
		sql_bind_text(s, idx, login);
		r = sql_step(s, &sql_err);
		if (r > 0)
			snprintf(hash, sizeof(hash), "%s", sql_col_text(s, 0));
		sql_stmt_done(&s);
	}
	sql_conn_put(&conn);
	if (r < 0) {
		prov_error_sql(err, what, &sql_err);
		return -1;
	}
	switch (password_check(r > 0 ? hash : NULL, password)) {
	case PASSWORD_OK:
		return 1;
	case PASSWORD_BUSY:
		prov_error_set(err, PROV_UNAVAILABLE, "%s", BUSY_MESSAGE);
		return -1;
	case PASSWORD_REFUSED: {
		char where[40] = "";
		if (cid > 0)
			snprintf(where, sizeof(where), " in context %lld", (long long)cid);
		log_warn("provision", "admin login %s%s refused: its stored %s", login, where,
		         password_hash_problem(hash));
		return 0;
	}
	default:
		return 0;
	}
}

int provision_auth_master(struct provision *prov, const char *login, const char *password,
                          struct prov_error *err)
{
	return check_password(prov->cdb, "configdb",
	                      "SELECT password_hash FROM master_admin WHERE login=?", 0, login,
	                      password, err);
}

/* ---------------------------------------------------------------- user schemas */

/* URL of schema on the server or directory of a registered primary database. */
static int schema_url(const char *pool_url, const char *schema, char *out, size_t size)
{
	const char *slash = strrchr(pool_url, '/');
	if (slash == NULL)
		return -1;
	bool sqlite = strncmp(pool_url, "sqlite:", 7) == 0;
	int n = snprintf(out, size, "%.*s/%s%s", (int)(slash - pool_url), pool_url, schema,
	                 sqlite ? ".sqlite" : "");
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static int migrate_userdb(struct sql_db *db, bool create, struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	int version = 0, ret;
	if (sql_conn_get(db, create ? SQL_WRITE : SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "user schema", &sql_err);
		return -1;
	}
	if (create)
		ret = migrate_apply(conn, "userdb", schema_userdb, schema_userdb_count, &sql_err);
	else
		ret = migrate_current(conn, "userdb", &version, &sql_err);
	sql_conn_put(&conn);
	if (ret < 0) {
		prov_error_sql(err, "user schema", &sql_err);
		return -1;
	}
	int want = migrate_latest(schema_userdb, schema_userdb_count);
	if (!create && version > want) {
		prov_error_set(err, PROV_UNAVAILABLE,
		               "user schema version %d is newer than this build's %d: upgrade this "
		               "node",
		               version, want);
		return -1;
	}
	if (!create && version < want) {
		/* Like OX's update tasks: a schema an earlier release made is brought forward the
		   first time a node opens it (serialised by migrate_apply; steps only add), so an
		   upgrade needs no separate step (docs/decisions/0007-security-hardening.md). */
		log_info("provision", "user schema %s: version %d, upgrading to %d", sql_db_url(db),
		         version, want);
		return migrate_userdb(db, true, err);
	}
	return 0;
}

/* The URLs of a database cluster's pools for schema: the primary's first, then its
   replicas' (or the other Galera nodes'); primary_r gets the primary's registered URL.
   Returns the count (>= 1), or -1 with err set. */
static int cluster_urls(struct provision *prov, int64_t db_cluster, const char *schema,
                        char (*urls)[700], int max, char *primary_r, size_t primary_size,
                        struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	/* The primary sorts first: its id is the cluster's write_pool. */
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT p.url FROM db_cluster c JOIN db_pool p ON "
	                                 "p.id=c.write_pool OR p.master_id=c.write_pool WHERE "
	                                 "c.id=? ORDER BY p.id<>c.write_pool, p.id",
	                                 &sql_err);
	int r = -1, n = 0;
	bool bad_url = false;
	if (s != NULL) {
		sql_bind_int64(s, 1, db_cluster);
		while ((r = sql_step(s, &sql_err)) > 0) {
			if (n == 0)
				snprintf(primary_r, primary_size, "%s", sql_col_text(s, 0));
			if (n < max && schema_url(sql_col_text(s, 0), schema, urls[n], 700) < 0)
				bad_url = true;
			n += n < max;
		}
		sql_stmt_done(&s);
	}
	sql_conn_put(&conn);
	if (r < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	if (n == 0 || bad_url) {
		prov_error_set(err, PROV_INTERNAL, "database cluster %lld is %s",
		               (long long)db_cluster,
		               n == 0 ? "missing" : "registered with a bad URL");
		return -1;
	}
	return n;
}

struct sql_db *prov_userdb(struct provision *prov, int64_t db_cluster, const char *schema,
                           bool create, struct prov_error *err)
{
	struct sql_error sql_err;
	char urls[PROV_MAX_POOLS][700], pool_url[600];
	int n = cluster_urls(prov, db_cluster, schema, urls, PROV_MAX_POOLS, pool_url,
	                     sizeof(pool_url), err);
	if (n < 0)
		return NULL;
	const char *url = urls[0];

	pthread_mutex_lock(&prov->lock);
	struct sql_db *db = NULL;
	for (size_t i = 0; i < prov->userdbs.count; i++) {
		struct userdb_entry *e = array_idx(&prov->userdbs, i);
		if (strcmp(e->url, url) == 0)
			db = e->db;
	}
	pthread_mutex_unlock(&prov->lock);
	if (db != NULL && !create)
		return db;
	if (db == NULL) {
		if (create && strncmp(pool_url, "sqlite:", 7) != 0 &&
		    create_mariadb_database(pool_url, schema, "creating a user schema", err) < 0)
			return NULL;
		struct sql_settings set = prov->sql_set;
		set.max_connections = 4;
		snprintf(set.scope, sizeof(set.scope), "db%lld", (long long)db_cluster);
		const char *replicas[PROV_MAX_POOLS];
		for (int i = 1; i < n; i++)
			replicas[i - 1] = urls[i];
		/* Only a SQLite file is created by opening it; a MariaDB schema exists by now. */
		bool sqlite = strncmp(url, "sqlite:", 7) == 0;
		int r = sqlite ? sql_db_open(url, &set, create, &db, &sql_err)
		               : sql_db_open_cluster(url, replicas, (size_t)(n - 1), &set, &db,
		                                     &sql_err);
		if (r < 0) {
			if (!create && sql_err.kind != SQL_ERR_CONNECTION)
				sql_err.kind = SQL_ERR_CONNECTION;
			prov_error_sql(err, "user schema", &sql_err);
			return NULL;
		}
	}
	/* Creation is idempotent: another process may be migrating the same new schema. */
	if (migrate_userdb(db, create, err) < 0) {
		bool cached = false;
		pthread_mutex_lock(&prov->lock);
		for (size_t i = 0; i < prov->userdbs.count; i++)
			cached |= ((struct userdb_entry *)array_idx(&prov->userdbs, i))->db == db;
		pthread_mutex_unlock(&prov->lock);
		if (!cached)
			sql_db_close(&db);
		return NULL;
	}
	pthread_mutex_lock(&prov->lock);
	bool found = false;
	for (size_t i = 0; i < prov->userdbs.count && !found; i++) {
		struct userdb_entry *e = array_idx(&prov->userdbs, i);
		if (strcmp(e->url, url) == 0) {
			found = true;
			if (e->db != db) {
				/* Another thread opened it meanwhile: use theirs. */
				sql_db_close(&db);
				db = e->db;
			}
		}
	}
	if (!found) {
		/* The same schema under another primary URL: the database's primary was replaced
		   (provision_promote_database). Writes through the old pool, which cached locations
		   may still hand out for a few seconds, are refused from now on. */
		for (size_t i = 0; i < prov->userdbs.count; i++) {
			struct userdb_entry *old = array_idx(&prov->userdbs, i);
			if (strcmp(old->schema, schema) == 0)
				sql_db_retire(old->db, "the database's primary was replaced");
		}
		struct userdb_entry *e = array_push(&prov->userdbs);
		e->url = mem_strdup(url);
		snprintf(e->schema, sizeof(e->schema), "%s", schema);
		e->db = db;
	}
	pthread_mutex_unlock(&prov->lock);
	return db;
}

int prov_locate(struct provision *prov, int64_t cid, struct ctx_location *loc,
                struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	struct sql_stmt *s =
	    sql_prepare(conn,
	                "SELECT l.db_cluster, l.schema_name, c.filestore_id, f.uri, c.enabled, "
	                "c.disabled_reason "
	                "FROM context c JOIN context_location l ON l.cid=c.cid "
	                "JOIN filestore f ON f.id=c.filestore_id WHERE c.cid=?",
	                &sql_err);
	int r = -1;
	if (s != NULL) {
		sql_bind_int64(s, 1, cid);
		r = sql_step(s, &sql_err);
		if (r > 0) {
			loc->cid = cid;
			loc->db_cluster = sql_col_int64(s, 0);
			snprintf(loc->schema, sizeof(loc->schema), "%s", sql_col_text(s, 1));
			loc->filestore_id = sql_col_int64(s, 2);
			snprintf(loc->filestore_uri, sizeof(loc->filestore_uri), "%s",
			         sql_col_text(s, 3));
			loc->enabled = sql_col_int64(s, 4) != 0;
			snprintf(loc->disabled_reason, sizeof(loc->disabled_reason), "%s",
			         sql_col_is_null(s, 5) ? "" : sql_col_text(s, 5));
		}
		sql_stmt_done(&s);
	}
	sql_conn_put(&conn);
	if (r < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	if (r == 0)
		prov_error_set(err, PROV_NOT_FOUND, "context %lld does not exist", (long long)cid);
	return r;
}

int provision_auth_context_admin(struct provision *prov, int64_t cid, const char *login,
                                 const char *password, struct prov_error *err)
{
	struct ctx_location loc;
	int r = prov_locate(prov, cid, &loc, err);
	if (r <= 0)
		return r;
	struct sql_db *db = prov_userdb(prov, loc.db_cluster, loc.schema, false, err);
	if (db == NULL)
		return -1;
	r = check_password(db, "user schema",
	                   "SELECT password_hash FROM users WHERE cid=? AND login=? AND "
	                   "is_admin=1 AND enabled=1",
	                   cid, login, password, err);
	/* prov_locate() read the configdb now, not a cache: a context disabled a moment ago
	   keeps its admin out. The password is checked first, so the reason is only told to
	   someone who knows it. */
	if (r > 0 && !loc.enabled) {
		prov_error_set(err, PROV_FORBIDDEN, "context %lld is disabled: %s", (long long)cid,
		               loc.disabled_reason[0] != '\0' ? loc.disabled_reason
		                                              : "no reason given");
		return -1;
	}
	return r;
}

void provision_foreach_db(struct provision *prov, provision_db_fn *fn, void *ctx)
{
	fn("configdb", prov->cdb, ctx);
	/* Pools are never closed before prov is, so they outlive the lock. */
	pthread_mutex_lock(&prov->lock);
	size_t count = prov->userdbs.count;
	pthread_mutex_unlock(&prov->lock);
	for (size_t i = 0; i < count; i++) {
		pthread_mutex_lock(&prov->lock);
		struct userdb_entry e = *(struct userdb_entry *)array_idx(&prov->userdbs, i);
		pthread_mutex_unlock(&prov->lock);
		fn(e.schema, e.db, ctx);
	}
}
