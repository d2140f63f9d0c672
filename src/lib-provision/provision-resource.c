/* SPDX-License-Identifier: MIT */
/* Resources (rooms, equipment) in the context schemas: stored and listed here; the calendar
   books them (docs/provisioning.md "Resources"). */
#include "provision-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *check_resource(const struct prov_resource *r, bool create)
{
	if (create && (r->display_name == NULL || r->email == NULL))
		return r->display_name == NULL ? "display_name is required" : "email is required";
	if ((create || r->name != NULL) && prov_check_name(r->name, "name") != NULL)
		return prov_check_name(r->name, "name");
	if (r->display_name != NULL && !prov_text_ok(r->display_name, 256))
		return "display_name must be 1-256 characters";
	if (r->email != NULL && (!prov_text_ok(r->email, 256) || strchr(r->email, '@') == NULL))
		return "email must be an address with '@' (at most 256 characters)";
	if (r->description != NULL && strlen(r->description) > 1024)
		return "description must be at most 1024 characters";
	return NULL;
}

struct resource_txn {
	int64_t cid, id;
	const struct prov_resource *r;
	bool create, delete;
	struct prov_error *err;
};

/* CONFLICT when another resource has this name or e-mail. */
static int unique(struct resource_txn *t, struct sql_conn *conn, const char *column,
                  const char *value, struct sql_error *err)
{
	char sql[96];
	int64_t other;
	if (value == NULL)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT id FROM resource WHERE cid=? AND %s=? AND id<>?",
	         column);
	int r = sql_query_int64(conn, err, &other, sql, "isi", t->cid, value, t->id);
	if (r > 0)
		prov_error_set(t->err, PROV_CONFLICT,
		               "resource %lld in context %lld already has %s \"%s\"",
		               (long long)other, (long long)t->cid, column, value);
	return r == 0 ? 0 : -1;
}

static int resource_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct resource_txn *t = ctx;
	const struct prov_resource *r = t->r;
	int64_t now = (int64_t)time(NULL);
	if (t->create) {
		if (unique(t, conn, "name", r->name, err) < 0 ||
		    unique(t, conn, "email", r->email, err) < 0 ||
		    prov_next_ids(conn, t->cid, 1, &t->id, err) < 0)
			return -1;
		return sql_run(conn, err,
		               "INSERT INTO resource (cid, id, name, display_name, email, "
		               "description, available, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		               "iissssii", t->cid, t->id, r->name, r->display_name, r->email,
		               r->description != NULL ? r->description : "",
		               (int64_t)(r->available != 0), now);
	}
	if (prov_userdb_find(conn, "resource", "resource", t->cid, t->id, t->err, err) <= 0)
		return -1;
	if (t->delete)
		return prov_userdb_delete(conn, "resource", "resource", t->cid, t->id, now, err);
	if (unique(t, conn, "name", r->name, err) < 0 ||
	    unique(t, conn, "email", r->email, err) < 0)
		return -1;
	static const char *const columns[] = {"name", "display_name", "email", "description"};
	const char *values[] = {r->name, r->display_name, r->email, r->description};
	for (size_t i = 0; i < 4; i++) {
		char sql[96];
		if (values[i] == NULL)
			continue;
		snprintf(sql, sizeof(sql), "UPDATE resource SET %s=? WHERE cid=? AND id=?",
		         columns[i]);
		if (sql_run(conn, err, sql, "sii", values[i], t->cid, t->id) < 0)
			return -1;
	}
	if (r->available >= 0 &&
	    sql_run(conn, err, "UPDATE resource SET available=? WHERE cid=? AND id=?", "iii",
	            (int64_t)r->available, t->cid, t->id) < 0)
		return -1;
	return sql_run(conn, err, "UPDATE resource SET modified=? WHERE cid=? AND id=?", "iii", now,
	               t->cid, t->id);
}

static int run_resource_txn(struct provision *prov, struct resource_txn *t, struct prov_error *err)
{
	t->err = err;
	return prov_userdb_write(prov, t->cid, resource_txn, t, err);
}

static json_t *query_resources(struct provision *prov, int64_t cid, int64_t id,
                               struct prov_error *err)
{
	struct sql_conn *conn = prov_userdb_read(prov, cid, err);
	if (conn == NULL)
		return NULL;
	struct sql_error sql_err;
	json_t *list = json_array();
	int r = -1;
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT id, name, display_name, email, description, "
	                                 "available FROM resource WHERE cid=? AND (?=0 OR id=?) "
	                                 "ORDER BY id",
	                                 &sql_err);
	if (s != NULL) {
		sql_bind_int64(s, 1, cid);
		sql_bind_int64(s, 2, id);
		sql_bind_int64(s, 3, id);
		while ((r = sql_step(s, &sql_err)) > 0)
			json_array_append_new(
			    list, json_pack("{sIsssssssssb}", "id", (json_int_t)sql_col_int64(s, 0),
			                    "name", sql_col_text(s, 1), "display_name",
			                    sql_col_text(s, 2), "email", sql_col_text(s, 3),
			                    "description", sql_col_text(s, 4), "available",
			                    sql_col_int64(s, 5) != 0));
		sql_stmt_done(&s);
	}
	return prov_userdb_read_end(&conn, r, list, &sql_err, err);
}

json_t *provision_list_resources(struct provision *prov, int64_t cid, struct prov_error *err)
{
	json_t *list = query_resources(prov, cid, 0, err);
	return list == NULL ? NULL : json_pack("{so}", "resources", list);
}

json_t *provision_get_resource(struct provision *prov, int64_t cid, int64_t id,
                               struct prov_error *err)
{
	json_t *list = id > 0 ? query_resources(prov, cid, id, err) : json_array();
	if (list == NULL)
		return NULL;
	json_t *r = json_incref(json_array_get(list, 0));
	json_decref(list);
	if (r == NULL)
		prov_error_set(err, PROV_NOT_FOUND, "resource %lld does not exist in context %lld",
		               (long long)id, (long long)cid);
	return r;
}

json_t *provision_create_resource(struct provision *prov, int64_t cid,
                                  const struct prov_resource *r, struct prov_error *err)
{
	if (prov_invalid(err, check_resource(r, true)))
		return NULL;
	struct prov_resource copy = *r;
	if (copy.available < 0)
		copy.available = 1;
	struct resource_txn t = {.cid = cid, .r = &copy, .create = true};
	if (run_resource_txn(prov, &t, err) < 0)
		return NULL;
	return provision_get_resource(prov, cid, t.id, err);
}

json_t *provision_change_resource(struct provision *prov, int64_t cid, int64_t id,
                                  const struct prov_resource *r, struct prov_error *err)
{
	if (prov_invalid(err, check_resource(r, false)))
		return NULL;
	struct resource_txn t = {.cid = cid, .id = id, .r = r};
	if (run_resource_txn(prov, &t, err) < 0)
		return NULL;
	return provision_get_resource(prov, cid, id, err);
}

int provision_delete_resource(struct provision *prov, int64_t cid, int64_t id,
                              struct prov_error *err)
{
	static const struct prov_resource none = {.available = -1};
	struct resource_txn t = {.cid = cid, .id = id, .r = &none, .delete = true};
	return run_resource_txn(prov, &t, err);
}
