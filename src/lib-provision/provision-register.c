/* SPDX-License-Identifier: MIT */
/* Registrations in the configdb: servers, filestores, databases (primaries and replicas). */
#include "provision-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

/* Allocates the next id of a configdb sequence inside the caller's write transaction. */
static int next_id(struct sql_conn *conn, const char *name, int64_t *id_r, struct sql_error *err)
{
	if (sql_run(conn, err, "UPDATE sequence SET value=value+1 WHERE name=?", "s", name) < 0)
		return -1;
	return sql_query_int64(conn, err, id_r, "SELECT value FROM sequence WHERE name=?", "s",
	                       name) > 0
	           ? 0
	           : -1;
}

/* Runs a listing query and turns each row into an object with the given keys; 'i' columns
   are integers (NULL -> null), 's' strings, 'b' booleans. */
static json_t *list_rows(struct provision *prov, const char *sql, const char *const *keys,
                         const char *types, struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	json_t *rows = json_array();
	struct sql_stmt *s = sql_prepare(conn, sql, &sql_err);
	int r = s != NULL ? 0 : -1;
	while (s != NULL && (r = sql_step(s, &sql_err)) > 0) {
		json_t *row = json_object();
		for (unsigned i = 0; types[i] != '\0'; i++) {
			json_t *v;
			if (sql_col_is_null(s, i))
				v = json_null();
			else if (types[i] == 'i')
				v = json_integer(sql_col_int64(s, i));
			else if (types[i] == 'b')
				v = json_boolean(sql_col_int64(s, i) != 0);
			else
				v = json_string(sql_col_text(s, i));
			json_object_set_new(row, keys[i], v);
		}
		json_array_append_new(rows, row);
	}
	sql_stmt_done(&s);
	sql_conn_put(&conn);
	if (r < 0) {
		json_decref(rows);
		prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	return rows;
}

static json_t *wrap(const char *key, json_t *rows)
{
	return rows == NULL ? NULL : json_pack("{so}", key, rows);
}

json_t *provision_list_servers(struct provision *prov, struct prov_error *err)
{
	static const char *const keys[] = {"id", "name"};
	return wrap("servers",
	            list_rows(prov, "SELECT id, name FROM server ORDER BY id", keys, "is", err));
}

struct reg_ctx {
	const char *name, *url;
	int64_t a, b, c;
	bool flag;
	int64_t id_r;
	struct prov_error *err;
};

static int reg_server(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct reg_ctx *r = ctx;
	if (next_id(conn, "server", &r->id_r, err) < 0)
		return -1;
	return sql_run(conn, err, "INSERT INTO server (id, name) VALUES (?, ?)", "is", r->id_r,
	               r->name);
}

static json_t *run_registration(struct provision *prov, sql_txn_fn *fn, struct reg_ctx *r,
                                const char *what, struct prov_error *err)
{
	struct sql_error sql_err;
	r->err = err;
	err->status = PROV_OK;
	if (sql_transaction(prov->cdb, SQL_WRITE, CONFIGDB_KEY, fn, r, &sql_err) < 0) {
		if (err->status != PROV_OK)
			return NULL; /* fn reported a logical failure itself */
		if (sql_err.kind == SQL_ERR_CONSTRAINT)
			prov_error_set(err, PROV_CONFLICT, "%s \"%s\" is already registered", what,
			               r->name);
		else
			prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	return json_pack("{sI}", "id", (json_int_t)r->id_r);
}

json_t *provision_register_server(struct provision *prov, const char *name, struct prov_error *err)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > 128) {
		prov_error_set(err, PROV_INVALID, "server name must be 1-128 characters");
		return NULL;
	}
	struct reg_ctx r = {.name = name};
	json_t *res = run_registration(prov, reg_server, &r, "server", err);
	if (res != NULL)
		json_object_set_new(res, "name", json_string(name));
	return res;
}

json_t *provision_list_filestores(struct provision *prov, struct prov_error *err)
{
	static const char *const keys[] = {"id", "uri", "size_mb", "max_contexts", "contexts"};
	return wrap("filestores",
	            list_rows(prov,
	                      "SELECT f.id, f.uri, f.size_mb, f.max_contexts, "
	                      "COALESCE(n.contexts, 0) FROM filestore f LEFT JOIN "
	                      "contexts_per_filestore n ON n.filestore_id=f.id ORDER BY f.id",
	                      keys, "isiii", err));
}

static int reg_filestore(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct reg_ctx *r = ctx;
	if (next_id(conn, "filestore", &r->id_r, err) < 0)
		return -1;
	return sql_run(conn, err,
	               "INSERT INTO filestore (id, uri, size_mb, max_contexts) VALUES (?, ?, ?, ?)",
	               "isii", r->id_r, r->name, r->a, r->b);
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char tmp[512];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

json_t *provision_register_filestore(struct provision *prov, const char *uri, int64_t size_mb,
                                     int64_t max_contexts, struct prov_error *err)
{
	const char *path = uri != NULL ? prov_filestore_path(uri) : NULL;
	if (path == NULL || strlen(uri) > 500 || strstr(path, "/../") != NULL) {
		prov_error_set(err, PROV_INVALID,
		               "filestore URI must be file:///absolute/path (got \"%s\")",
		               uri != NULL ? uri : "");
		return NULL;
	}
	if (size_mb <= 0 || max_contexts <= 0) {
		prov_error_set(err, PROV_INVALID, "size_mb and max_contexts must be positive");
		return NULL;
	}
	/* Every node mounts the store at this path; check it is there and writable now rather
	   than at the first upload. */
	if (make_dirs(path) < 0 || access(path, W_OK) < 0) {
		prov_error_set(err, PROV_INVALID, "filestore %s is not a writable directory: %s",
		               path, strerror(errno));
		return NULL;
	}
	struct reg_ctx r = {.name = uri, .a = size_mb, .b = max_contexts};
	json_t *res = run_registration(prov, reg_filestore, &r, "filestore", err);
	if (res != NULL)
		json_object_update_new(res, json_pack("{sssIsIsi}", "uri", uri, "size_mb",
		                                      (json_int_t)size_mb, "max_contexts",
		                                      (json_int_t)max_contexts, "contexts", 0));
	return res;
}

json_t *provision_list_databases(struct provision *prov, struct prov_error *err)
{
	static const char *const keys[] = {"id",      "name",      "url",
	                                   "primary", "master_id", "max_units",
	                                   "cluster", "contexts",  "role"};
	/* role: primary, replica, or fenced (a primary replaced by promotedatabase) */
	json_t *rows =
	    list_rows(prov,
	              "SELECT p.id, p.name, p.url, p.role='primary', p.master_id, "
	              "p.max_units, c.id, COALESCE(n.contexts, 0), p.role FROM db_pool p "
	              "LEFT JOIN db_cluster c ON c.write_pool=p.id LEFT JOIN "
	              "contexts_per_pool n ON n.db_cluster=c.id ORDER BY p.id",
	              keys, "issbiiiis", err);
	if (rows == NULL)
		return NULL;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		char red[600];
		sql_url_redact(json_string_value(json_object_get(row, "url")), red, sizeof(red));
		json_object_set_new(row, "url", json_string(red));
	}
	return wrap("databases", rows);
}

static int reg_database(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct reg_ctx *r = ctx;
	if (!r->flag) {
		/* A replica belongs to a registered primary. */
		int64_t found = 0;
		int q = sql_query_int64(
		    conn, err, &found, "SELECT COUNT(*) FROM db_pool WHERE id=? AND role='primary'",
		    "i", r->c);
		if (q < 0)
			return -1;
		if (found == 0) {
			prov_error_set(r->err, PROV_NOT_FOUND,
			               "masterid %lld is not a registered primary database",
			               (long long)r->c);
			return -1;
		}
	}
	if (next_id(conn, "db_pool", &r->id_r, err) < 0)
		return -1;
	struct sql_stmt *s = sql_prepare(conn,
	                                 "INSERT INTO db_pool (id, name, url, role, master_id, "
	                                 "max_units) VALUES (?, ?, ?, ?, ?, ?)",
	                                 err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, r->id_r);
	sql_bind_text(s, 2, r->name);
	sql_bind_text(s, 3, r->url);
	sql_bind_text(s, 4, r->flag ? "primary" : "replica");
	if (r->flag)
		sql_bind_null(s, 5);
	else
		sql_bind_int64(s, 5, r->c);
	sql_bind_int64(s, 6, r->a);
	int ret = sql_step(s, err);
	sql_stmt_done(&s);
	if (ret < 0)
		return -1;
	if (!r->flag)
		return 0;
	int64_t cluster;
	if (next_id(conn, "db_cluster", &cluster, err) < 0)
		return -1;
	return sql_run(conn, err,
	               "INSERT INTO db_cluster (id, write_pool, max_units) VALUES (?, ?, ?)", "iii",
	               cluster, r->id_r, r->a);
}

/* Proves the URL reaches a database server (or a usable SQLite directory) before it is
   recorded: an unreachable registration would only fail later, at createcontext. */
static int probe_database(const char *url, bool primary, struct prov_error *err)
{
	struct sql_url u;
	const char *error;
	if (sql_url_parse(url, &u, &error) < 0) {
		prov_error_set(err, PROV_INVALID, "database URL: %s", error);
		return -1;
	}
	if (u.driver == SQL_DRIVER_SQLITE) {
		size_t len = strlen(u.path);
		if (!primary) {
			prov_error_set(err, PROV_INVALID, "SQLite databases have no replicas");
			return -1;
		}
		if (len == 0 || u.path[len - 1] != '/' || u.path[0] != '/') {
			prov_error_set(err, PROV_INVALID,
			               "a SQLite database is registered as a directory: "
			               "sqlite:///absolute/dir/");
			return -1;
		}
		if (make_dirs(u.path) < 0 || access(u.path, W_OK) < 0) {
			prov_error_set(err, PROV_UNAVAILABLE, "%s is not a writable directory: %s",
			               u.path, strerror(errno));
			return -1;
		}
		return 0;
	}
	struct sql_db *db;
	struct sql_error sql_err;
	struct sql_settings set;
	sql_settings_default(&set);
	set.max_connections = 1;
	set.connect_timeout_ms = 3000;
	if (sql_db_open(url, &set, false, &db, &sql_err) < 0) {
		char red[600];
		sql_url_redact(url, red, sizeof(red));
		prov_error_set(err, PROV_UNAVAILABLE, "cannot reach database %s: %s", red,
		               sql_err.message);
		return -1;
	}
	sql_db_close(&db);
	return 0;
}

json_t *provision_register_database(struct provision *prov, const char *name, const char *url,
                                    bool primary, int64_t master_id, int64_t max_units,
                                    struct prov_error *err)
{
	/* The name prefixes schema names (<name>_<n>), which become database or file names. */
	bool name_valid = name != NULL && name[0] != '\0' && strlen(name) <= 48;
	for (const char *p = name; name_valid && *p != '\0'; p++)
		name_valid = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
	if (!name_valid) {
		prov_error_set(err, PROV_INVALID,
		               "database name must be 1-48 letters, digits, '_' or '-'");
		return NULL;
	}
	if (url == NULL || strlen(url) > 500) {
		prov_error_set(err, PROV_INVALID, "database URL missing or too long");
		return NULL;
	}
	if (max_units <= 0) {
		prov_error_set(err, PROV_INVALID, "max_units must be positive");
		return NULL;
	}
	if (!primary && master_id <= 0) {
		prov_error_set(err, PROV_INVALID,
		               "a replica needs the id of its primary (masterid)");
		return NULL;
	}
	/* Schemas on a MariaDB server are named <name>_<n>: a database in the URL means nothing,
	   so the server URL is what gets probed and stored. */
	char server_url[520];
	snprintf(server_url, sizeof(server_url), "%s", url);
	if (strncmp(url, "sqlite:", 7) != 0) {
		char *slash = strrchr(server_url, '/');
		if (slash != NULL && slash > strstr(server_url, "://") + 2)
			slash[1] = '\0';
		url = server_url;
	}
	if (probe_database(url, primary, err) < 0)
		return NULL;
	struct reg_ctx r = {
	    .name = name, .url = url, .a = max_units, .c = master_id, .flag = primary};
	json_t *res = run_registration(prov, reg_database, &r, "database", err);
	if (res != NULL) {
		char red[600];
		sql_url_redact(url, red, sizeof(red));
		json_object_update_new(
		    res, json_pack("{sssssbsIsI}", "name", name, "url", red, "primary", primary,
		                   "max_units", (json_int_t)max_units, "contexts", (json_int_t)0));
		json_object_set_new(res, "master_id",
		                    primary ? json_null() : json_integer(master_id));
	}
	return res;
}
