/* SPDX-License-Identifier: MIT */
/* Contexts: placement on a database cluster, schema and filestore; changes; deletion. */
#include "provision-private.h"

#include "access.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folder.h"
#include "mem.h"
#include "password.h"

#define MAX_CID 2147483647LL

struct place_ctx {
	const struct prov_context *spec;
	int64_t per_schema;
	char name[160];
	struct ctx_location loc;
	bool new_schema;
	struct prov_error *err;
};

/* Reports a logical failure from inside a transaction callback (which then rolls back). */
#define LOGICAL(err, status, ...) (prov_error_set((err), (status), __VA_ARGS__), -1)

/* Adds delta to a count row, creating it at delta. */
static int bump(struct sql_conn *conn, struct sql_error *err, const char *update,
                const char *insert, int64_t key, int64_t delta)
{
	int64_t n = sql_run_changes(conn, err, update, "ii", delta, key);
	if (n < 0)
		return -1;
	if (n > 0 || delta < 0)
		return 0;
	return sql_run(conn, err, insert, "ii", key, delta);
}

static int check_free(struct sql_conn *conn, struct place_ctx *pc, struct sql_error *err)
{
	const struct prov_context *spec = pc->spec;
	int64_t n = 0;
	if (sql_query_int64(conn, err, &n, "SELECT COUNT(*) FROM context WHERE cid=?", "i",
	                    spec->cid) < 0)
		return -1;
	if (n > 0)
		return LOGICAL(pc->err, PROV_CONFLICT, "context %lld already exists",
		               (long long)spec->cid);
	if (sql_query_int64(conn, err, &n, "SELECT COUNT(*) FROM context WHERE name=?", "s",
	                    pc->name) < 0)
		return -1;
	if (n > 0) {
		prov_error_set(pc->err, PROV_CONFLICT, "a context named \"%s\" already exists",
		               pc->name);
		return -1;
	}
	for (size_t i = 0; i <= spec->mapping_count; i++) {
		char idmap[24];
		const char *m =
		    spec->mappings != NULL && i < spec->mapping_count ? spec->mappings[i] : NULL;
		if (m == NULL) {
			snprintf(idmap, sizeof(idmap), "%lld", (long long)spec->cid);
			m = idmap;
		}
		int64_t owner = 0;
		int r = sql_query_int64(conn, err, &owner,
		                        "SELECT cid FROM login2context WHERE mapping=?", "s", m);
		if (r < 0)
			return -1;
		if (r > 0) {
			prov_error_set(pc->err, PROV_CONFLICT,
			               "login mapping \"%s\" already belongs to context %lld", m,
			               (long long)owner);
			return -1;
		}
	}
	return 0;
}

/* Least-filled database cluster under max_units; a schema in it with room, else a new
   <pool name>_<n>; least-filled filestore under max_contexts. The caller holds the provision
   lock row, so concurrent placements (other processes, MariaDB) run one after another. */
static int place(struct sql_conn *conn, struct place_ctx *pc, struct sql_error *err,
                 int64_t per_schema)
{
	const char *database = pc->spec->database, *filestore_only = "";
	char sql[400];
	snprintf(sql, sizeof(sql),
	         "SELECT c.id, p.name FROM db_cluster c JOIN db_pool p ON p.id=c.write_pool LEFT "
	         "JOIN contexts_per_pool n ON n.db_cluster=c.id WHERE COALESCE(n.contexts, 0) < "
	         "c.max_units%s ORDER BY COALESCE(n.contexts, 0), c.id",
	         database != NULL ? " AND p.name=?" : "");
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return -1;
	if (database != NULL)
		sql_bind_text(s, 1, database);
	char pool_name[56] = "";
	int r = sql_step(s, err);
	if (r > 0) {
		pc->loc.db_cluster = sql_col_int64(s, 0);
		snprintf(pool_name, sizeof(pool_name), "%s", sql_col_text(s, 1));
	}
	sql_stmt_done(&s);
	if (r < 0)
		return -1;
	if (r == 0 && database != NULL)
		return LOGICAL(pc->err, PROV_UNPLACEABLE,
		               "database \"%s\" is not a registered primary with room for context "
		               "%lld",
		               database, (long long)pc->spec->cid);
	if (r == 0)
		return LOGICAL(pc->err, PROV_UNPLACEABLE,
		               "no registered database has room for context %lld (register a "
		               "database or raise max_units)",
		               (long long)pc->spec->cid);

	s = sql_prepare(conn,
	                "SELECT schema_name FROM contexts_per_schema WHERE db_cluster=? AND "
	                "contexts < ? ORDER BY contexts DESC, schema_name",
	                err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, pc->loc.db_cluster);
	sql_bind_int64(s, 2, per_schema);
	r = sql_step(s, err);
	if (r > 0)
		snprintf(pc->loc.schema, sizeof(pc->loc.schema), "%s", sql_col_text(s, 0));
	sql_stmt_done(&s);
	if (r < 0)
		return -1;
	if (r == 0) {
		char seq[48];
		int64_t n;
		snprintf(seq, sizeof(seq), "schema_%lld", (long long)pc->loc.db_cluster);
		if (sql_run_changes(conn, err, "UPDATE sequence SET value=value+1 WHERE name=?",
		                    "s", seq) == 0 &&
		    sql_run(conn, err, "INSERT INTO sequence (name, value) VALUES (?, 1)", "s",
		            seq) < 0)
			return -1;
		if (sql_query_int64(conn, err, &n, "SELECT value FROM sequence WHERE name=?", "s",
		                    seq) <= 0)
			return -1;
		snprintf(pc->loc.schema, sizeof(pc->loc.schema), "%s_%lld", pool_name,
		         (long long)n);
		pc->new_schema = true;
	}

	if (pc->spec->filestore_id > 0)
		filestore_only = " AND f.id=?";
	snprintf(sql, sizeof(sql),
	         "SELECT f.id, f.uri FROM filestore f LEFT JOIN contexts_per_filestore n ON "
	         "n.filestore_id=f.id WHERE COALESCE(n.contexts, 0) < f.max_contexts%s ORDER BY "
	         "COALESCE(n.contexts, 0), f.id",
	         filestore_only);
	s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return -1;
	if (pc->spec->filestore_id > 0)
		sql_bind_int64(s, 1, pc->spec->filestore_id);
	r = sql_step(s, err);
	if (r > 0) {
		pc->loc.filestore_id = sql_col_int64(s, 0);
		snprintf(pc->loc.filestore_uri, sizeof(pc->loc.filestore_uri), "%s",
		         sql_col_text(s, 1));
	}
	sql_stmt_done(&s);
	if (r < 0)
		return -1;
	if (r == 0 && pc->spec->filestore_id > 0)
		return LOGICAL(pc->err, PROV_UNPLACEABLE,
		               "filestore %lld is not registered or has no room for context %lld",
		               (long long)pc->spec->filestore_id, (long long)pc->spec->cid);
	if (r == 0)
		return LOGICAL(pc->err, PROV_UNPLACEABLE,
		               "no registered filestore has room for context %lld",
		               (long long)pc->spec->cid);
	return 0;
}

static int insert_mappings(struct sql_conn *conn, int64_t cid, const char *const *mappings,
                           size_t count, struct sql_error *err)
{
	char idmap[24];
	snprintf(idmap, sizeof(idmap), "%lld", (long long)cid);
	if (sql_run(conn, err, "INSERT INTO login2context (mapping, cid) VALUES (?, ?)", "si",
	            idmap, cid) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(mappings[i], idmap) == 0)
			continue;
		if (sql_run(conn, err, "INSERT INTO login2context (mapping, cid) VALUES (?, ?)",
		            "si", mappings[i], cid) < 0)
			return -1;
	}
	return 0;
}

static int reserve_context(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct place_ctx *pc = ctx;
	const struct prov_context *spec = pc->spec;
	/* The lock row comes first, before any read: on MariaDB (REPEATABLE READ) the first read
	   fixes the snapshot, which must not predate the previous placement's commit. */
	if (sql_run(conn, err, "UPDATE sequence SET value=value+1 WHERE name='provision'", "") < 0)
		return -1;
	if (check_free(conn, pc, err) < 0 || place(conn, pc, err, pc->per_schema) < 0)
		return -1;
	pc->loc.cid = spec->cid;
	if (sql_run(conn, err,
	            "INSERT INTO context (cid, name, enabled, disabled_reason, filestore_id, "
	            "quota_mb) VALUES (?, ?, 1, NULL, ?, ?)",
	            "isii", spec->cid, pc->name, pc->loc.filestore_id, spec->quota_mb) < 0 ||
	    insert_mappings(conn, spec->cid, spec->mappings, spec->mapping_count, err) < 0 ||
	    sql_run(conn, err,
	            "INSERT INTO context_location (cid, db_cluster, schema_name) VALUES (?, ?, ?)",
	            "iis", spec->cid, pc->loc.db_cluster, pc->loc.schema) < 0 ||
	    bump(conn, err, "UPDATE contexts_per_pool SET contexts=contexts+? WHERE db_cluster=?",
	         "INSERT INTO contexts_per_pool (db_cluster, contexts) VALUES (?, ?)",
	         pc->loc.db_cluster, 1) < 0 ||
	    bump(conn, err,
	         "UPDATE contexts_per_filestore SET contexts=contexts+? WHERE filestore_id=?",
	         "INSERT INTO contexts_per_filestore (filestore_id, contexts) VALUES (?, ?)",
	         pc->loc.filestore_id, 1) < 0)
		return -1;
	int64_t n = sql_run_changes(conn, err,
	                            "UPDATE contexts_per_schema SET contexts=contexts+1 WHERE "
	                            "schema_name=?",
	                            "s", pc->loc.schema);
	if (n < 0)
		return -1;
	if (n == 0 && sql_run(conn, err,
	                      "INSERT INTO contexts_per_schema (schema_name, db_cluster, contexts) "
	                      "VALUES (?, ?, 1)",
	                      "si", pc->loc.schema, pc->loc.db_cluster) < 0)
		return -1;
	return 0;
}

/* Removes a context's configdb rows and gives its places back. */
static int release_context(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	const struct ctx_location *loc = ctx;
	if (sql_run(conn, err, "DELETE FROM login2context WHERE cid=?", "i", loc->cid) < 0 ||
	    sql_run(conn, err, "DELETE FROM context_location WHERE cid=?", "i", loc->cid) < 0 ||
	    sql_run(conn, err, "DELETE FROM context WHERE cid=?", "i", loc->cid) < 0 ||
	    sql_run(conn, err,
	            "UPDATE contexts_per_pool SET contexts=contexts-1 WHERE db_cluster=?", "i",
	            loc->db_cluster) < 0 ||
	    sql_run(conn, err,
	            "UPDATE contexts_per_filestore SET contexts=contexts-1 WHERE filestore_id=?",
	            "i", loc->filestore_id) < 0 ||
	    sql_run(conn, err,
	            "UPDATE contexts_per_schema SET contexts=contexts-1 WHERE schema_name=?", "s",
	            loc->schema) < 0)
		return -1;
	return 0;
}

struct userdb_init {
	int64_t cid;
	const struct prov_user *admin;
	const char *access; /* the context's default access combination, NULL = "all" */
	struct prov_error *err;
};

static int init_context_data(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct userdb_init *ui = ctx;
	int64_t id;
	if (sql_run(conn, err, "INSERT INTO ctx_sequence (cid, next_id) VALUES (?, 1)", "i",
	            ui->cid) < 0 ||
	    sql_run(conn, err, "INSERT INTO filestore_usage (cid, used_bytes) VALUES (?, 0)", "i",
	            ui->cid) < 0)
		return -1;
	/* The context's system folders come before its first user, whose default folders
	   prov_insert_users creates. */
	if (folder_create_context_roots(conn, ui->cid, err) < 0)
		return -1;
	if (ui->access != NULL &&
	    sql_run(conn, err, "INSERT INTO context_access (cid, combination) VALUES (?, ?)", "is",
	            ui->cid, ui->access) < 0)
		return -1;
	return prov_insert_users(conn, ui->cid, ui->admin, 1, true, &id, ui->err);
}

static int remove_tree_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static int context_dir(const char *filestore_uri, int64_t cid, char *out, size_t size)
{
	const char *root = prov_filestore_path(filestore_uri);
	if (root == NULL)
		return -1;
	int n = snprintf(out, size, "%s/%lld_ctx_store", root, (long long)cid);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

_Static_assert(PROV_QUOTA_MB_MAX == INT64_C(8796093022207), "PROV_QUOTA_RANGE names the bound");

json_t *provision_create_context(struct provision *prov, const struct prov_context *spec,
                                 struct prov_error *err)
{
	struct place_ctx pc = {.spec = spec, .per_schema = prov->contexts_per_schema, .err = err};
	struct sql_error sql_err;
	const char *problem;

	if (spec->cid <= 0 || spec->cid > MAX_CID) {
		prov_error_set(err, PROV_INVALID, "context id must be between 1 and %lld", MAX_CID);
		return NULL;
	}
	if (spec->quota_mb < 0 || spec->quota_mb > PROV_QUOTA_MB_MAX) {
		prov_error_set(err, PROV_INVALID, PROV_QUOTA_RANGE " (got %lld)",
		               (long long)spec->quota_mb);
		return NULL;
	}
	if (spec->name != NULL && (spec->name[0] == '\0' || strlen(spec->name) > 128)) {
		prov_error_set(err, PROV_INVALID, "context name must be 1-128 characters");
		return NULL;
	}
	for (size_t i = 0; i < spec->mapping_count; i++) {
		if ((problem = provision_check_mapping(spec->mappings[i])) != NULL) {
			prov_error_set(err, PROV_INVALID, "%s (got \"%s\")", problem,
			               spec->mappings[i]);
			return NULL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(spec->mappings[i], spec->mappings[j]) == 0) {
				prov_error_set(err, PROV_INVALID, "mapping \"%s\" given twice",
				               spec->mappings[i]);
				return NULL;
			}
		}
	}
	if ((problem = prov_check_user(&spec->admin)) != NULL) {
		prov_error_set(err, PROV_INVALID, "context admin: %s", problem);
		return NULL;
	}
	if (spec->access_combination != NULL &&
	    (problem = access_check_name(spec->access_combination)) != NULL) {
		prov_error_set(err, PROV_INVALID, "access_combination: %s", problem);
		return NULL;
	}
	if (spec->name != NULL)
		snprintf(pc.name, sizeof(pc.name), "%s", spec->name);
	else
		snprintf(pc.name, sizeof(pc.name), "%lld", (long long)spec->cid);

	/* 1. reserve the places in the configdb (one serialised transaction) */
	err->status = PROV_OK;
	if (sql_transaction(prov->cdb, SQL_WRITE, CONFIGDB_KEY, reserve_context, &pc, &sql_err) <
	    0) {
		if (err->status == PROV_OK)
			prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	/* The id is ours now: sessions an earlier context of this id may have left end here,
	   and logins into it that are still under way cannot store theirs. */
	prov_revoke(prov, spec->cid, 0);
	/* 2. the schema (created if new), the context's rows and its admin, the filestore
	   directory; any failure gives the places back so nothing is left half-created */
	struct userdb_init ui = {.cid = spec->cid,
	                         .admin = &spec->admin,
	                         .access = spec->access_combination,
	                         .err = err};
	char dir[600];
	struct sql_db *udb = prov_userdb(prov, pc.loc.db_cluster, pc.loc.schema, true, err);
	int ok = udb != NULL;
	if (ok) {
		err->status = PROV_OK;
		if (sql_transaction(udb, SQL_WRITE, spec->cid, init_context_data, &ui, &sql_err) <
		    0) {
			if (err->status == PROV_OK)
				prov_error_sql(err, "user schema", &sql_err);
			ok = 0;
		}
	}
	if (ok && (context_dir(pc.loc.filestore_uri, spec->cid, dir, sizeof(dir)) < 0 ||
	           (mkdir(dir, 0750) < 0 && errno != EEXIST))) {
		prov_error_set(err, PROV_INTERNAL, "cannot create the context directory %s: %s",
		               dir, strerror(errno));
		struct sql_conn *conn;
		struct sql_error ignored;
		if (sql_conn_get(udb, SQL_WRITE, spec->cid, &conn, &ignored) == 0) {
			sql_run(conn, &ignored, "DELETE FROM users WHERE cid=?", "i", spec->cid);
			sql_run(conn, &ignored, "DELETE FROM ctx_sequence WHERE cid=?", "i",
			        spec->cid);
			sql_run(conn, &ignored, "DELETE FROM filestore_usage WHERE cid=?", "i",
			        spec->cid);
			sql_conn_put(&conn);
		}
		ok = 0;
	}
	if (!ok) {
		struct sql_error undo_err;
		if (sql_transaction(prov->cdb, SQL_WRITE, CONFIGDB_KEY, release_context, &pc.loc,
		                    &undo_err) < 0) {
			size_t len = strlen(err->message);
			snprintf(err->message + len, sizeof(err->message) - len,
			         "; undoing the configdb reservation also failed: %s",
			         undo_err.message);
		}
		return NULL;
	}
	return provision_get_context(prov, spec->cid, err);
}

static json_t *context_mappings(struct sql_conn *conn, int64_t cid, struct sql_error *err)
{
	json_t *maps = json_array();
	struct sql_stmt *s = sql_prepare(
	    conn, "SELECT mapping FROM login2context WHERE cid=? ORDER BY mapping", err);
	if (s == NULL) {
		json_decref(maps);
		return NULL;
	}
	sql_bind_int64(s, 1, cid);
	int r;
	while ((r = sql_step(s, err)) > 0)
		json_array_append_new(maps, json_string(sql_col_text(s, 0)));
	sql_stmt_done(&s);
	if (r < 0) {
		json_decref(maps);
		return NULL;
	}
	return maps;
}

static int64_t count_users(struct provision *prov, const char *schema, int64_t cluster, int64_t cid)
{
	struct prov_error ignored;
	struct sql_db *udb = prov_userdb(prov, cluster, schema, false, &ignored);
	struct sql_conn *conn;
	struct sql_error sql_err;
	int64_t n = -1;
	if (udb == NULL || sql_conn_get(udb, SQL_READ, cid, &conn, &sql_err) < 0)
		return -1;
	if (sql_query_int64(conn, &sql_err, &n, "SELECT COUNT(*) FROM users WHERE cid=?", "i",
	                    cid) <= 0)
		n = -1;
	sql_conn_put(&conn);
	return n;
}

/* Contexts matching a WHERE clause with one optional text parameter. */
static json_t *query_contexts(struct provision *prov, const char *where, const char *param,
                              int64_t cid, struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	char sql[600];
	snprintf(sql, sizeof(sql),
	         "SELECT c.cid, c.name, c.enabled, c.disabled_reason, c.quota_mb, "
	         "c.filestore_id, f.uri, l.db_cluster, l.schema_name FROM context c JOIN "
	         "context_location l ON l.cid=c.cid JOIN filestore f ON f.id=c.filestore_id %s "
	         "ORDER BY c.cid",
	         where);
	if (sql_conn_get(prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	json_t *list = json_array();
	struct sql_stmt *s = sql_prepare(conn, sql, &sql_err);
	int r = -1;
	if (s != NULL) {
		if (param != NULL)
			sql_bind_text(s, 1, param);
		else if (cid > 0)
			sql_bind_int64(s, 1, cid);
		while ((r = sql_step(s, &sql_err)) > 0) {
			json_t *c = json_pack(
			    "{sIsssbsssIsIsssIss}", "id", (json_int_t)sql_col_int64(s, 0), "name",
			    sql_col_text(s, 1), "enabled", sql_col_int64(s, 2) != 0,
			    "disabled_reason", "", "quota_mb", (json_int_t)sql_col_int64(s, 4),
			    "filestore_id", (json_int_t)sql_col_int64(s, 5), "filestore_uri",
			    sql_col_text(s, 6), "db_cluster", (json_int_t)sql_col_int64(s, 7),
			    "schema", sql_col_text(s, 8));
			json_object_set_new(
			    c, "disabled_reason",
			    sql_col_is_null(s, 3) ? json_null() : json_string(sql_col_text(s, 3)));
			json_array_append_new(list, c);
		}
		sql_stmt_done(&s);
	}
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
	{
		if (r < 0)
			break;
		json_t *maps =
		    context_mappings(conn, json_integer_value(json_object_get(c, "id")), &sql_err);
		if (maps == NULL) {
			r = -1;
			break;
		}
		json_object_set_new(c, "mappings", maps);
	}
	sql_conn_put(&conn);
	if (r < 0) {
		json_decref(list);
		prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	json_array_foreach(list, i, c)
	{
		int64_t users = count_users(prov, json_string_value(json_object_get(c, "schema")),
		                            json_integer_value(json_object_get(c, "db_cluster")),
		                            json_integer_value(json_object_get(c, "id")));
		json_object_set_new(c, "users", users < 0 ? json_null() : json_integer(users));
	}
	return list;
}

json_t *provision_get_context(struct provision *prov, int64_t cid, struct prov_error *err)
{
	json_t *list = query_contexts(prov, "WHERE c.cid=?", NULL, cid, err);
	if (list == NULL)
		return NULL;
	if (json_array_size(list) == 0) {
		json_decref(list);
		prov_error_set(err, PROV_NOT_FOUND, "context %lld does not exist", (long long)cid);
		return NULL;
	}
	json_t *c = json_incref(json_array_get(list, 0));
	json_decref(list);
	return c;
}

json_t *provision_list_contexts(struct provision *prov, const char *search, struct prov_error *err)
{
	json_t *list;
	if (search != NULL && search[0] != '\0') {
		char *pattern = mem_alloc(strlen(search) + 3);
		snprintf(pattern, strlen(search) + 3, "%%%s%%", search);
		list = query_contexts(prov, "WHERE c.name LIKE ?", pattern, 0, err);
		mem_free(&pattern);
	} else {
		list = query_contexts(prov, "", NULL, 0, err);
	}
	return list == NULL ? NULL : json_pack("{so}", "contexts", list);
}

struct change_ctx {
	int64_t cid;
	const char *name;
	int64_t quota_mb;
	const char *const *mappings;
	size_t mapping_count;
	int enabled; /* -1 keep */
	const char *reason;
	struct prov_error *err;
};

static int change_context(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct change_ctx *cc = ctx;
	int64_t n = 0;
	if (sql_query_int64(conn, err, &n, "SELECT COUNT(*) FROM context WHERE cid=?", "i",
	                    cc->cid) < 0)
		return -1;
	if (n == 0)
		return LOGICAL(cc->err, PROV_NOT_FOUND, "context %lld does not exist",
		               (long long)cc->cid);
	if (cc->name != NULL) {
		if (sql_query_int64(conn, err, &n,
		                    "SELECT COUNT(*) FROM context WHERE name=? AND cid<>?", "si",
		                    cc->name, cc->cid) < 0)
			return -1;
		if (n > 0) {
			prov_error_set(cc->err, PROV_CONFLICT,
			               "a context named \"%s\" already exists", cc->name);
			return -1;
		}
		if (sql_run(conn, err, "UPDATE context SET name=? WHERE cid=?", "si", cc->name,
		            cc->cid) < 0)
			return -1;
	}
	if (cc->quota_mb >= 0 && sql_run(conn, err, "UPDATE context SET quota_mb=? WHERE cid=?",
	                                 "ii", cc->quota_mb, cc->cid) < 0)
		return -1;
	if (cc->enabled >= 0 &&
	    sql_run(conn, err, "UPDATE context SET enabled=?, disabled_reason=? WHERE cid=?", "isi",
	            (int64_t)cc->enabled, cc->enabled ? NULL : cc->reason, cc->cid) < 0)
		return -1;
	if (cc->mappings != NULL) {
		for (size_t i = 0; i < cc->mapping_count; i++) {
			int64_t owner = 0;
			int r = sql_query_int64(conn, err, &owner,
			                        "SELECT cid FROM login2context WHERE mapping=?",
			                        "s", cc->mappings[i]);
			if (r < 0)
				return -1;
			if (r > 0 && owner != cc->cid) {
				prov_error_set(
				    cc->err, PROV_CONFLICT,
				    "login mapping \"%s\" already belongs to context %lld",
				    cc->mappings[i], (long long)owner);
				return -1;
			}
		}
		if (sql_run(conn, err, "DELETE FROM login2context WHERE cid=?", "i", cc->cid) < 0 ||
		    insert_mappings(conn, cc->cid, cc->mappings, cc->mapping_count, err) < 0)
			return -1;
	}
	return 0;
}

static json_t *run_change(struct provision *prov, struct change_ctx *cc, struct prov_error *err)
{
	struct sql_error sql_err;
	cc->err = err;
	err->status = PROV_OK;
	if (sql_transaction(prov->cdb, SQL_WRITE, CONFIGDB_KEY, change_context, cc, &sql_err) < 0) {
		if (err->status == PROV_OK && cc->enabled == 0)
			prov_revoke(prov, cc->cid, 0); /* the commit may have happened */
		if (err->status == PROV_OK)
			prov_error_sql(err, "configdb", &sql_err);
		return NULL;
	}
	provision_context_changed(prov, cc->cid);
	if (cc->enabled == 0)
		prov_revoke(prov, cc->cid, 0);
	return provision_get_context(prov, cc->cid, err);
}

json_t *provision_change_context(struct provision *prov, int64_t cid, const char *name,
                                 int64_t quota_mb, const char *const *mappings,
                                 size_t mapping_count, struct prov_error *err)
{
	if (quota_mb > PROV_QUOTA_MB_MAX) {
		prov_error_set(err, PROV_INVALID, PROV_QUOTA_RANGE " (got %lld)",
		               (long long)quota_mb);
		return NULL;
	}
	if (name != NULL && (name[0] == '\0' || strlen(name) > 128)) {
		prov_error_set(err, PROV_INVALID, "context name must be 1-128 characters");
		return NULL;
	}
	for (size_t i = 0; mappings != NULL && i < mapping_count; i++) {
		const char *problem = provision_check_mapping(mappings[i]);
		if (problem != NULL) {
			prov_error_set(err, PROV_INVALID, "%s (got \"%s\")", problem, mappings[i]);
			return NULL;
		}
	}
	struct change_ctx cc = {.cid = cid,
	                        .name = name,
	                        .quota_mb = quota_mb,
	                        .mappings = mappings,
	                        .mapping_count = mapping_count,
	                        .enabled = -1};
	return run_change(prov, &cc, err);
}

static int set_access_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	const struct userdb_init *ui = ctx;
	if (sql_run(conn, err, "DELETE FROM context_access WHERE cid=?", "i", ui->cid) < 0)
		return -1;
	if (ui->access[0] == '\0')
		return 0;
	return sql_run(conn, err, "INSERT INTO context_access (cid, combination) VALUES (?, ?)",
	               "is", ui->cid, ui->access);
}

int provision_set_context_access(struct provision *prov, int64_t cid, const char *name,
                                 struct prov_error *err)
{
	const char *problem = name[0] != '\0' ? access_check_name(name) : NULL;
	if (problem != NULL) {
		prov_error_set(err, PROV_INVALID, "access_combination: %s", problem);
		return -1;
	}
	struct userdb_init ui = {.cid = cid, .access = name, .err = err};
	int r = prov_userdb_write(prov, cid, set_access_txn, &ui, err);
	/* the modules travel with the sessions: end them (also after a failure, which may have
	   committed) and drop what the nodes cached */
	provision_context_changed(prov, cid);
	prov_revoke(prov, cid, 0);
	return r;
}

json_t *provision_set_context_enabled(struct provision *prov, int64_t cid, bool enabled,
                                      const char *reason, struct prov_error *err)
{
	if (!enabled && (reason == NULL || reason[0] == '\0'))
		reason = "disabled by the administrator";
	if (reason != NULL && strlen(reason) > 255) {
		prov_error_set(err, PROV_INVALID, "reason must be at most 255 characters");
		return NULL;
	}
	struct change_ctx cc = {
	    .cid = cid, .quota_mb = -1, .enabled = enabled ? 1 : 0, .reason = reason};
	return run_change(prov, &cc, err);
}

int provision_delete_context(struct provision *prov, int64_t cid, struct prov_error *err)
{
	struct ctx_location loc;
	struct sql_error sql_err;
	int r = prov_locate(prov, cid, &loc, err);
	if (r <= 0)
		return -1;
	/* The configdb rows go first: from then on nobody can log in to the context, and a
	   failure later leaves only orphans that checkconsistency reports. */
	if (sql_transaction(prov->cdb, SQL_WRITE, CONFIGDB_KEY, release_context, &loc, &sql_err) <
	    0) {
		prov_error_sql(err, "configdb", &sql_err);
		prov_revoke(prov, cid, 0); /* the commit may have happened */
		return -1;
	}
	provision_context_changed(prov, cid);
	prov_revoke(prov, cid, 0);
	struct sql_db *udb = prov_userdb(prov, loc.db_cluster, loc.schema, false, err);
	if (udb == NULL)
		return -1;
	static const char *const tables[] = {"users",
	                                     "user_group",
	                                     "group_member",
	                                     "tombstone",
	                                     "filestore_usage",
	                                     "filestore_reservation",
	                                     "ctx_sequence",
	                                     "folder",
	                                     "folder_permission",
	                                     "infostore",
	                                     "infostore_version",
	                                     "dav_props",
	                                     "resource",
	                                     "context_access",
	                                     "cal_object",
	                                     "cal_folder_revision",
	                                     "cal_tombstone",
	                                     "contact_object",
	                                     "gab_published",
	                                     "gab_revision"};
	struct sql_conn *conn;
	if (sql_conn_get(udb, SQL_WRITE, cid, &conn, &sql_err) < 0 ||
	    sql_begin(conn, true, &sql_err) < 0) {
		prov_error_sql(err, "user schema", &sql_err);
		sql_conn_put(&conn);
		return -1;
	}
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[96];
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE cid=?", tables[i]);
		if (sql_run(conn, &sql_err, sql, "i", cid) < 0) {
			prov_error_sql(err, "user schema", &sql_err);
			sql_conn_put(&conn);
			return -1;
		}
	}
	r = sql_commit(conn, &sql_err);
	sql_conn_put(&conn);
	/* Again now that its rows are gone: whatever was cached from them in between goes, and
	   a login that read them in between has its session ended. */
	provision_context_changed(prov, cid);
	prov_revoke(prov, cid, 0);
	if (r < 0) {
		prov_error_sql(err, "user schema", &sql_err);
		return -1;
	}
	char dir[600];
	if (context_dir(loc.filestore_uri, cid, dir, sizeof(dir)) == 0 &&
	    nftw(dir, remove_tree_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		prov_error_set(err, PROV_INTERNAL,
		               "context %lld deleted, but removing %s failed: %s", (long long)cid,
		               dir, strerror(errno));
		return -1;
	}
	return 0;
}
