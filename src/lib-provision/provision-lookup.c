/* SPDX-License-Identifier: MIT */
/* Hot-path lookups for the groupware API: mapping → context, context → database, cached. */
#include "provision-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOCATION_TTL_S 5

static struct cached_location *find(struct provision *prov, int64_t cid)
{
	for (size_t i = 0; i < prov->locations.count; i++) {
		struct cached_location *c = array_idx(&prov->locations, i);
		if (c->loc.cid == cid)
			return c;
	}
	return NULL;
}

void provision_set_change_hook(struct provision *prov, provision_change_fn *fn, void *ctx)
{
	prov->on_change = fn;
	prov->on_change_ctx = ctx;
}

void provision_set_revoke_hook(struct provision *prov, provision_revoke_fn *fn, void *ctx)
{
	prov->on_revoke = fn;
	prov->on_revoke_ctx = ctx;
}

void prov_revoke(struct provision *prov, int64_t cid, int64_t uid)
{
	if (prov->on_revoke != NULL)
		prov->on_revoke(cid, uid, prov->on_revoke_ctx);
}

void provision_context_changed(struct provision *prov, int64_t cid)
{
	if (prov->on_change != NULL)
		prov->on_change(cid, prov->on_change_ctx);
	else
		provision_invalidate_context(prov, cid);
}

void provision_invalidate_context(struct provision *prov, int64_t cid)
{
	pthread_mutex_lock(&prov->lock);
	for (size_t i = 0; i < prov->locations.count; i++) {
		struct cached_location *c = array_idx(&prov->locations, i);
		if (c->loc.cid == cid) {
			array_delete(&prov->locations, i);
			break;
		}
	}
	pthread_mutex_unlock(&prov->lock);
}

void provision_invalidate_all(struct provision *prov)
{
	pthread_mutex_lock(&prov->lock);
	array_clear(&prov->locations);
	pthread_mutex_unlock(&prov->lock);
}

static int load_location(struct provision *prov, int64_t cid, struct prov_location *loc,
                         struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT c.name, c.enabled, c.disabled_reason, c.quota_mb, "
	                                 "f.uri, l.db_cluster, l.schema_name FROM context c JOIN "
	                                 "context_location l ON l.cid=c.cid JOIN filestore f ON "
	                                 "f.id=c.filestore_id WHERE c.cid=?",
	                                 &sql_err);
	int r = -1;
	if (s != NULL) {
		sql_bind_int64(s, 1, cid);
		r = sql_step(s, &sql_err);
		if (r > 0) {
			memset(loc, 0, sizeof(*loc));
			loc->cid = cid;
			snprintf(loc->name, sizeof(loc->name), "%s", sql_col_text(s, 0));
			loc->enabled = sql_col_int64(s, 1) != 0;
			if (!sql_col_is_null(s, 2))
				snprintf(loc->disabled_reason, sizeof(loc->disabled_reason), "%s",
				         sql_col_text(s, 2));
			loc->quota_mb = sql_col_int64(s, 3);
			/* rows from before the bound was checked: too large means no limit */
			loc->quota_bytes = loc->quota_mb <= 0 ? 0
			                   : loc->quota_mb > PROV_QUOTA_MB_MAX
			                       ? INT64_MAX
			                       : loc->quota_mb * 1048576;
			const char *root = prov_filestore_path(sql_col_text(s, 4));
			snprintf(loc->filestore_root, sizeof(loc->filestore_root), "%s",
			         root != NULL ? root : "");
			size_t len = strlen(loc->filestore_root);
			while (len > 1 && loc->filestore_root[len - 1] == '/')
				loc->filestore_root[--len] = '\0';
			loc->db_cluster = sql_col_int64(s, 5);
			snprintf(loc->schema, sizeof(loc->schema), "%s", sql_col_text(s, 6));
		}
		sql_stmt_done(&s);
	}
	sql_conn_put(&conn);
	if (r < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	if (r == 0) {
		prov_error_set(err, PROV_NOT_FOUND, "context %lld does not exist", (long long)cid);
		return -1;
	}
	return 0;
}

static struct sql_db *context_db(struct provision *prov, int64_t cid, bool fresh,
                                 struct prov_location *loc_r, struct prov_error *err)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&prov->lock);
	struct cached_location *c = find(prov, cid);
	if (!fresh && c != NULL && c->expires > now) {
		*loc_r = c->loc;
		struct sql_db *db = c->db;
		pthread_mutex_unlock(&prov->lock);
		return db;
	}
	pthread_mutex_unlock(&prov->lock);

	struct prov_location loc;
	if (load_location(prov, cid, &loc, err) < 0)
		return NULL;
	struct sql_db *db = prov_userdb(prov, loc.db_cluster, loc.schema, false, err);
	if (db == NULL)
		return NULL;
	pthread_mutex_lock(&prov->lock);
	c = find(prov, cid);
	if (c == NULL)
		c = array_push(&prov->locations);
	c->loc = loc;
	c->db = db;
	c->expires = now + LOCATION_TTL_S;
	pthread_mutex_unlock(&prov->lock);
	*loc_r = loc;
	return db;
}

struct sql_db *provision_context_db(struct provision *prov, int64_t cid,
                                    struct prov_location *loc_r, struct prov_error *err)
{
	return context_db(prov, cid, false, loc_r, err);
}

struct sql_db *provision_context_db_fresh(struct provision *prov, int64_t cid,
                                          struct prov_location *loc_r, struct prov_error *err)
{
	return context_db(prov, cid, true, loc_r, err);
}

int provision_lookup_mapping(struct provision *prov, const char *mapping, int64_t *cid_r,
                             struct prov_error *err)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	int r = sql_query_int64(conn, &sql_err, cid_r,
	                        "SELECT cid FROM login2context WHERE mapping=?", "s", mapping);
	sql_conn_put(&conn);
	if (r < 0) {
		prov_error_sql(err, "configdb", &sql_err);
		return -1;
	}
	if (r == 0) {
		prov_error_set(err, PROV_NOT_FOUND, "unknown context \"%s\"", mapping);
		return -1;
	}
	return 0;
}
