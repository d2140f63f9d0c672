/* SPDX-License-Identifier: MIT */
/* Groups in the context schemas (user_group, group_member): create, list, change members,
   delete. Group 0, all users of the context, is virtual and never stored. */
#include "provision-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void provision_set_group_change_hook(struct provision *prov, provision_group_change_fn *fn,
                                     void *ctx)
{
	prov->on_group_change = fn;
	prov->on_group_change_ctx = ctx;
}

static void group_changed(struct provision *prov, int64_t cid, int64_t gid)
{
	if (prov->on_group_change != NULL)
		prov->on_group_change(cid, gid, prov->on_group_change_ctx);
}

const char *prov_check_name(const char *name, const char *field)
{
	static __thread char msg[128];
	bool ok = prov_text_ok(name, 128);
	for (const char *p = name; ok && *p != '\0'; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
	if (ok)
		return NULL;
	snprintf(msg, sizeof(msg), "%s must be 1-128 characters of letters, digits, '.', '_', '-'",
	         field);
	return msg;
}

static const char *check_group(const struct prov_group *g, bool create)
{
	if ((create || g->name != NULL) && prov_check_name(g->name, "name") != NULL)
		return prov_check_name(g->name, "name");
	if (g->display_name != NULL && !prov_text_ok(g->display_name, 256))
		return "display_name must be 1-256 characters";
	if (g->add_count > 10000 || g->remove_count > 10000)
		return "at most 10000 members may be added or removed at once";
	return NULL;
}

struct group_txn {
	int64_t cid, gid;
	const struct prov_group *g;
	bool create, delete;
	struct prov_error *err;
};

/* The user id of login, or 0 after setting err (INVALID naming it). */
static int member_id(struct group_txn *t, struct sql_conn *conn, const char *login, int64_t *uid_r,
                     struct sql_error *err)
{
	int r = sql_query_int64(conn, err, uid_r, "SELECT id FROM users WHERE cid=? AND login=?",
	                        "is", t->cid, login);
	if (r == 0)
		prov_error_set(t->err, PROV_INVALID, "member \"%s\" is not a user of context %lld",
		               login, (long long)t->cid);
	return r;
}

static int change_members(struct group_txn *t, struct sql_conn *conn, struct sql_error *err)
{
	int64_t uid;
	for (size_t i = 0; i < t->g->add_count; i++) {
		if (member_id(t, conn, t->g->add[i], &uid, err) <= 0)
			return -1;
		if (sql_run(conn, err,
		            "DELETE FROM group_member WHERE cid=? AND group_id=? AND user_id=?",
		            "iii", t->cid, t->gid, uid) < 0 ||
		    sql_run(conn, err,
		            "INSERT INTO group_member (cid, group_id, user_id) VALUES (?, ?, ?)",
		            "iii", t->cid, t->gid, uid) < 0)
			return -1;
	}
	for (size_t i = 0; i < t->g->remove_count; i++) {
		if (member_id(t, conn, t->g->remove[i], &uid, err) <= 0)
			return -1;
		int64_t n = sql_run_changes(
		    conn, err, "DELETE FROM group_member WHERE cid=? AND group_id=? AND user_id=?",
		    "iii", t->cid, t->gid, uid);
		if (n < 0)
			return -1;
		if (n == 0) {
			prov_error_set(t->err, PROV_INVALID, "\"%s\" is not a member of group %lld",
			               t->g->remove[i], (long long)t->gid);
			return -1;
		}
	}
	return 0;
}

/* CONFLICT when another group of the context has name. */
static int name_free(struct group_txn *t, struct sql_conn *conn, struct sql_error *err)
{
	int64_t other;
	int r = sql_query_int64(conn, err, &other,
	                        "SELECT id FROM user_group WHERE cid=? AND name=? AND id<>?", "isi",
	                        t->cid, t->g->name, t->gid);
	if (r > 0)
		prov_error_set(t->err, PROV_CONFLICT,
		               "group \"%s\" already exists in context %lld (id %lld)", t->g->name,
		               (long long)t->cid, (long long)other);
	return r == 0 ? 0 : -1;
}

static int delete_group(struct group_txn *t, struct sql_conn *conn, struct sql_error *err)
{
	int64_t folder, now = (int64_t)time(NULL);
	int r = sql_query_int64(conn, err, &folder,
	                        "SELECT MIN(folder) FROM folder_permission WHERE cid=? AND "
	                        "entity=? AND is_group=1 HAVING COUNT(*)>0",
	                        "ii", t->cid, t->gid);
	if (r < 0)
		return -1;
	if (r > 0) {
		prov_error_set(
		    t->err, PROV_CONFLICT,
		    "group %lld is in the permissions of folder %lld (and maybe others): "
		    "remove it from them first",
		    (long long)t->gid, (long long)folder);
		return -1;
	}
	if (sql_run(conn, err, "DELETE FROM group_member WHERE cid=? AND group_id=?", "ii", t->cid,
	            t->gid) < 0)
		return -1;
	return prov_userdb_delete(conn, "user_group", "group", t->cid, t->gid, now, err);
}

static int group_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct group_txn *t = ctx;
	const struct prov_group *g = t->g;
	int64_t now = (int64_t)time(NULL);
	if (t->create) {
		if (name_free(t, conn, err) < 0 || prov_next_ids(conn, t->cid, 1, &t->gid, err) < 0)
			return -1;
		if (sql_run(conn, err,
		            "INSERT INTO user_group (cid, id, name, display_name, modified) VALUES "
		            "(?, ?, ?, ?, ?)",
		            "iissi", t->cid, t->gid, g->name,
		            g->display_name != NULL ? g->display_name : g->name, now) < 0)
			return -1;
		return change_members(t, conn, err);
	}
	if (prov_userdb_find(conn, "user_group", "group", t->cid, t->gid, t->err, err) <= 0)
		return -1;
	if (t->delete)
		return delete_group(t, conn, err);
	if (g->name != NULL &&
	    (name_free(t, conn, err) < 0 ||
	     sql_run(conn, err, "UPDATE user_group SET name=? WHERE cid=? AND id=?", "sii", g->name,
	             t->cid, t->gid) < 0))
		return -1;
	if (g->display_name != NULL &&
	    sql_run(conn, err, "UPDATE user_group SET display_name=? WHERE cid=? AND id=?", "sii",
	            g->display_name, t->cid, t->gid) < 0)
		return -1;
	if (change_members(t, conn, err) < 0)
		return -1;
	return sql_run(conn, err, "UPDATE user_group SET modified=? WHERE cid=? AND id=?", "iii",
	               now, t->cid, t->gid);
}

static int run_group_txn(struct provision *prov, struct group_txn *t, struct prov_error *err)
{
	t->err = err;
	int r = prov_userdb_write(prov, t->cid, group_txn, t, err);
	/* Also after a failure: a commit that lost its connection may still have happened. */
	if (t->gid > 0)
		group_changed(prov, t->cid, t->gid);
	return r;
}

static const char *id_key(char key[24], int64_t id)
{
	snprintf(key, 24, "%lld", (long long)id);
	return key;
}

/* Groups of cid (gid 0 = all of them) with their members; logins only for admins. */
static json_t *query_groups(struct provision *prov, int64_t cid, int64_t gid, bool logins,
                            struct prov_error *err)
{
	struct sql_conn *conn = prov_userdb_read(prov, cid, err);
	if (conn == NULL)
		return NULL;
	struct sql_error sql_err;
	json_t *list = json_array(), *by_id = json_object();
	char key[24];
	int r = -1;
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT id, name, display_name FROM user_group WHERE "
	                                 "cid=? AND (?=0 OR id=?) ORDER BY id",
	                                 &sql_err);
	if (s != NULL) {
		sql_bind_int64(s, 1, cid);
		sql_bind_int64(s, 2, gid);
		sql_bind_int64(s, 3, gid);
		while ((r = sql_step(s, &sql_err)) > 0) {
			json_t *members = json_array();
			json_array_append_new(
			    list, json_pack("{sIsssssO}", "id", (json_int_t)sql_col_int64(s, 0),
			                    "name", sql_col_text(s, 1), "display_name",
			                    sql_col_text(s, 2), "members", members));
			json_object_set_new(by_id, id_key(key, sql_col_int64(s, 0)), members);
		}
		sql_stmt_done(&s);
	}
	if (r == 0 && (s = sql_prepare(conn,
	                               "SELECT m.group_id, u.id, u.login, u.display_name FROM "
	                               "group_member m JOIN users u ON u.cid=m.cid AND "
	                               "u.id=m.user_id WHERE m.cid=? AND (?=0 OR m.group_id=?) "
	                               "ORDER BY m.group_id, u.id",
	                               &sql_err)) != NULL) {
		sql_bind_int64(s, 1, cid);
		sql_bind_int64(s, 2, gid);
		sql_bind_int64(s, 3, gid);
		while ((r = sql_step(s, &sql_err)) > 0) {
			json_t *members = json_object_get(by_id, id_key(key, sql_col_int64(s, 0)));
			json_t *m = json_pack("{sIss}", "id", (json_int_t)sql_col_int64(s, 1),
			                      "display_name", sql_col_text(s, 3));
			if (logins)
				json_object_set_new(m, "login", json_string(sql_col_text(s, 2)));
			json_array_append_new(members, m);
		}
		sql_stmt_done(&s);
	} else if (r == 0) {
		r = -1;
	}
	json_decref(by_id);
	return prov_userdb_read_end(&conn, r, list, &sql_err, err);
}

json_t *provision_list_groups(struct provision *prov, int64_t cid, bool logins,
                              struct prov_error *err)
{
	json_t *list = query_groups(prov, cid, 0, logins, err);
	return list == NULL ? NULL : json_pack("{so}", "groups", list);
}

json_t *provision_get_group(struct provision *prov, int64_t cid, int64_t gid,
                            struct prov_error *err)
{
	if (gid <= 0) {
		prov_error_set(err, PROV_NOT_FOUND, "group %lld is not a stored group",
		               (long long)gid);
		return NULL;
	}
	json_t *list = query_groups(prov, cid, gid, true, err);
	if (list == NULL)
		return NULL;
	json_t *g = json_incref(json_array_get(list, 0));
	json_decref(list);
	if (g == NULL)
		prov_error_set(err, PROV_NOT_FOUND, "group %lld does not exist in context %lld",
		               (long long)gid, (long long)cid);
	return g;
}

json_t *provision_create_group(struct provision *prov, int64_t cid, const struct prov_group *g,
                               struct prov_error *err)
{
	if (prov_invalid(err, check_group(g, true)))
		return NULL;
	struct group_txn t = {.cid = cid, .g = g, .create = true};
	if (run_group_txn(prov, &t, err) < 0)
		return NULL;
	return provision_get_group(prov, cid, t.gid, err);
}

json_t *provision_change_group(struct provision *prov, int64_t cid, int64_t gid,
                               const struct prov_group *g, struct prov_error *err)
{
	if (prov_invalid(err, check_group(g, false)))
		return NULL;
	struct group_txn t = {.cid = cid, .gid = gid, .g = g};
	if (gid <= 0)
		return provision_get_group(prov, cid, gid, err);
	if (run_group_txn(prov, &t, err) < 0)
		return NULL;
	return provision_get_group(prov, cid, gid, err);
}

int provision_delete_group(struct provision *prov, int64_t cid, int64_t gid, struct prov_error *err)
{
	static const struct prov_group none = {0};
	struct group_txn t = {.cid = cid, .gid = gid, .g = &none, .delete = true};
	if (gid <= 0) {
		json_decref(provision_get_group(prov, cid, gid, err));
		return -1;
	}
	return run_group_txn(prov, &t, err);
}
