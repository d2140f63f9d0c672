/* SPDX-License-Identifier: MIT */
/* Users in the context schemas: create (one or a batch, all or nothing), list, change, delete. */
#include "provision-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "folder.h"
#include "mail-url.h"
#include "mem.h"
#include "password.h"
#include "storage-gab.h"

/* The user's mail system fields (NULL: not given; "" too when empty_ok): NULL when fine, else
   a message naming the field and the bad value. */
static const char *check_mail(const char *imap_server, const char *smtp_server,
                              const char *imap_login, bool empty_ok)
{
	static __thread char msg[PROV_MAIL_URL_MAX + 200];
	const struct {
		const char *field, *value;
		enum mail_url_kind kind;
	} urls[] = {{"imap_server", imap_server, MAIL_URL_IMAP},
	            {"smtp_server", smtp_server, MAIL_URL_SMTP}};
	for (size_t i = 0; i < 2; i++) {
		const char *v = urls[i].value, *why;
		struct mail_url url;
		if (v == NULL || (empty_ok && v[0] == '\0'))
			continue;
		if (strlen(v) > PROV_MAIL_URL_MAX)
			why = "is longer than 300 characters";
		else if (mail_url_parse(v, urls[i].kind, &url, &why) == 0)
			continue;
		snprintf(msg, sizeof(msg), "%s \"%.300s\": %s", urls[i].field, v, why);
		return msg;
	}
	if (imap_login == NULL || (empty_ok && imap_login[0] == '\0'))
		return NULL;
	size_t len = strlen(imap_login);
	bool ok = len > 0 && len <= PROV_IMAP_LOGIN_MAX;
	for (const char *p = imap_login; ok && *p != '\0'; p++)
		ok = *p > ' ' && *p < 0x7f && strchr("*\"\\", *p) == NULL;
	if (!ok)
		return "imap_login must be 1-320 printable ASCII characters without blanks, '*', "
		       "'\"' or '\\' ('*' separates Dovecot's master user)";
	return NULL;
}

const char *prov_check_user(const struct prov_user *u)
{
	const char *problem = provision_check_login(u->login);
	if (problem != NULL)
		return problem;
	if (!prov_text_ok(u->display_name, 256))
		return "display_name must be 1-256 characters";
	if (!prov_text_ok(u->given_name, 128))
		return "given_name must be 1-128 characters";
	if (!prov_text_ok(u->sur_name, 128))
		return "sur_name must be 1-128 characters";
	if (!prov_text_ok(u->email, 256) || strchr(u->email, '@') == NULL)
		return "email must be an address with '@' (at most 256 characters)";
	if (u->password != NULL && u->password_hash != NULL)
		return "give either password or password_hash, not both";
	if (u->password == NULL && u->password_hash == NULL)
		return "password is required";
	if (u->password != NULL && !prov_text_ok(u->password, 256))
		return "password must be 1-256 characters";
	if (u->access_combination != NULL && access_check_name(u->access_combination) != NULL)
		return access_check_name(u->access_combination);
	problem = check_mail(u->imap_server, u->smtp_server, u->imap_login, false);
	if (problem != NULL)
		return problem;
	if (u->password_hash != NULL)
		return password_hash_problem(u->password_hash);
	return NULL;
}

int prov_user_password(const struct prov_user *u, char *hash_r, size_t size, struct prov_error *err)
{
	if (u->password_hash != NULL) {
		snprintf(hash_r, size, "%s", u->password_hash);
		return 0;
	}
	return prov_hash_password(u->password, hash_r, err);
}

void provision_set_user_change_hook(struct provision *prov, provision_user_change_fn *fn, void *ctx)
{
	prov->on_user_change = fn;
	prov->on_user_change_ctx = ctx;
}

/* After the commit only: a login in between would cache the old row again. */
static void user_changed(struct provision *prov, int64_t cid, int64_t uid)
{
	if (prov->on_user_change != NULL)
		prov->on_user_change(cid, uid, prov->on_user_change_ctx);
}

static int cmp_login(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int prov_insert_users(struct sql_conn *conn, int64_t cid, const struct prov_user *users,
                      size_t count, bool is_admin, int64_t *ids_r, struct prov_error *err)
{
	struct sql_error sql_err;
	int ret = -1;

	/* Duplicates inside the batch, found by sorting the logins. */
	const char **sorted = mem_calloc(count, sizeof(*sorted));
	for (size_t i = 0; i < count; i++)
		sorted[i] = users[i].login;
	qsort(sorted, count, sizeof(*sorted), cmp_login);
	for (size_t i = 1; i < count; i++) {
		if (strcmp(sorted[i], sorted[i - 1]) == 0) {
			prov_error_set(err, PROV_CONFLICT, "login \"%s\" appears twice", sorted[i]);
			mem_free(&sorted);
			return -1;
		}
	}
	mem_free(&sorted);

	/* Ids for the whole batch in one step of the context's sequence. */
	int64_t first = 0;
	if (prov_next_ids(conn, cid, (int64_t)count, &first, &sql_err) < 0)
		goto sql_fail;
	int64_t now = (int64_t)time(NULL);
	struct sql_stmt *exists = NULL, *ins = NULL;
	for (size_t i = 0; i < count; i++) {
		const struct prov_user *u = &users[i];
		exists =
		    sql_prepare(conn, "SELECT id FROM users WHERE cid=? AND login=?", &sql_err);
		if (exists == NULL)
			goto sql_fail;
		sql_bind_int64(exists, 1, cid);
		sql_bind_text(exists, 2, u->login);
		int r = sql_step(exists, &sql_err);
		sql_stmt_done(&exists);
		if (r < 0)
			goto sql_fail;
		if (r > 0) {
			prov_error_set(err, PROV_CONFLICT,
			               "login \"%s\" already exists in context %lld", u->login,
			               (long long)cid);
			return -1;
		}
		char hash[PASSWORD_HASH_MAX];
		if (prov_user_password(u, hash, sizeof(hash), err) < 0)
			return -1;
		ins = sql_prepare(
		    conn,
		    "INSERT INTO users (cid, id, login, display_name, given_name, "
		    "sur_name, email, password_hash, enabled, disabled_reason, is_admin, "
		    "created, modified, access_combination, imap_server, smtp_server, imap_login) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, ?, ?, ?, ?, ?, ?, ?)",
		    &sql_err);
		if (ins == NULL)
			goto sql_fail;
		int64_t id = first + (int64_t)i;
		sql_bind_int64(ins, 1, cid);
		sql_bind_int64(ins, 2, id);
		sql_bind_text(ins, 3, u->login);
		sql_bind_text(ins, 4, u->display_name);
		sql_bind_text(ins, 5, u->given_name);
		sql_bind_text(ins, 6, u->sur_name);
		sql_bind_text(ins, 7, u->email);
		sql_bind_text(ins, 8, hash);
		sql_bind_int64(ins, 9, is_admin ? 1 : 0);
		sql_bind_int64(ins, 10, now);
		sql_bind_int64(ins, 11, now);
		sql_bind_text(ins, 12, u->access_combination);
		sql_bind_text(ins, 13, u->imap_server);
		sql_bind_text(ins, 14, u->smtp_server);
		sql_bind_text(ins, 15, u->imap_login);
		r = sql_step(ins, &sql_err);
		sql_stmt_done(&ins);
		if (r < 0 || folder_create_user_defaults(conn, cid, id, &sql_err) < 0)
			goto sql_fail;
		ids_r[i] = id;
	}
	if (count > 0 && storage_gab_user_changed(conn, cid, ids_r[0], false, &sql_err) < 0)
		goto sql_fail;
	return 0;
sql_fail:
	prov_error_sql(err, "user schema", &sql_err);
	return ret;
}

int prov_next_ids(struct sql_conn *conn, int64_t cid, int64_t count, int64_t *first_r,
                  struct sql_error *err)
{
	int64_t next = 0;
	if (sql_run(conn, err, "UPDATE ctx_sequence SET next_id=next_id+? WHERE cid=?", "ii", count,
	            cid) < 0)
		return -1;
	int r = sql_query_int64(conn, err, &next, "SELECT next_id FROM ctx_sequence WHERE cid=?",
	                        "i", cid);
	if (r == 0)
		sql_error_set(err, SQL_ERR_OTHER, 0, "context %lld has no id sequence",
		              (long long)cid);
	if (r <= 0)
		return -1;
	*first_r = next - count;
	return 0;
}

struct sql_db *prov_context_userdb(struct provision *prov, int64_t cid, struct prov_error *err)
{
	struct ctx_location loc;
	if (prov_locate(prov, cid, &loc, err) <= 0)
		return NULL;
	return prov_userdb(prov, loc.db_cluster, loc.schema, false, err);
}

int prov_userdb_write(struct provision *prov, int64_t cid, sql_txn_fn *fn, void *ctx,
                      struct prov_error *err)
{
	struct sql_db *db = prov_context_userdb(prov, cid, err);
	if (db == NULL)
		return -1;
	struct sql_error sql_err;
	err->status = PROV_OK;
	if (sql_transaction(db, SQL_WRITE, cid, fn, ctx, &sql_err) == 0)
		return 0;
	if (err->status == PROV_OK)
		prov_error_sql(err, "user schema", &sql_err);
	return -1;
}

struct sql_conn *prov_userdb_read(struct provision *prov, int64_t cid, struct prov_error *err)
{
	struct sql_db *db = prov_context_userdb(prov, cid, err);
	if (db == NULL)
		return NULL;
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(db, SQL_READ, cid, &conn, &sql_err) < 0) {
		prov_error_sql(err, "user schema", &sql_err);
		return NULL;
	}
	return conn;
}

json_t *prov_userdb_read_end(struct sql_conn **conn, int r, json_t *list,
                             const struct sql_error *sql_err, struct prov_error *err)
{
	sql_conn_put(conn);
	if (r >= 0)
		return list;
	json_decref(list);
	prov_error_sql(err, "user schema", sql_err);
	return NULL;
}

int prov_userdb_find(struct sql_conn *conn, const char *table, const char *what, int64_t cid,
                     int64_t id, struct prov_error *perr, struct sql_error *err)
{
	char sql[80];
	int64_t found;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE cid=? AND id=?", table);
	int r = sql_query_int64(conn, err, &found, sql, "ii", cid, id);
	if (r == 0)
		prov_error_set(perr, PROV_NOT_FOUND, "%s %lld does not exist in context %lld", what,
		               (long long)id, (long long)cid);
	return r;
}

int prov_userdb_delete(struct sql_conn *conn, const char *table, const char *module, int64_t cid,
                       int64_t id, int64_t now, struct sql_error *err)
{
	char sql[80];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE cid=? AND id=?", table);
	if (sql_run(conn, err, sql, "ii", cid, id) < 0)
		return -1;
	return sql_run(conn, err,
	               "INSERT INTO tombstone (cid, module, id, deleted) VALUES (?, ?, ?, ?)",
	               "isii", cid, module, id, now);
}

bool prov_invalid(struct prov_error *err, const char *problem)
{
	if (problem == NULL)
		return false;
	prov_error_set(err, PROV_INVALID, "%s", problem);
	return true;
}

bool prov_text_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max;
}

struct create_ctx {
	int64_t cid;
	const struct prov_user *users;
	size_t count;
	int64_t *ids;
	struct prov_error *err;
};

static int create_users_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct create_ctx *cc = ctx;
	return prov_insert_users(conn, cc->cid, cc->users, cc->count, false, cc->ids, cc->err);
}

json_t *provision_create_users(struct provision *prov, int64_t cid, const struct prov_user *users,
                               size_t count, struct prov_error *err)
{
	if (count == 0 || count > 1000) {
		prov_error_set(err, PROV_INVALID, "a batch holds 1 to 1000 users (got %zu)", count);
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		const char *problem = prov_check_user(&users[i]);
		if (problem != NULL) {
			prov_error_set(err, PROV_INVALID, "user %zu (%s): %s", i + 1,
			               users[i].login != NULL ? users[i].login : "?", problem);
			return NULL;
		}
	}
	int64_t *ids = mem_calloc(count, sizeof(*ids));
	struct create_ctx cc = {.cid = cid, .users = users, .count = count, .ids = ids, .err = err};
	json_t *res = NULL;
	if (prov_userdb_write(prov, cid, create_users_txn, &cc, err) < 0) {
		mem_free(&ids);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		user_changed(prov, cid, ids[i]);
	if (count == 1) {
		res = provision_get_user(prov, cid, ids[0], err);
	} else {
		json_t *list = json_array();
		for (size_t i = 0; i < count; i++)
			json_array_append_new(list, json_pack("{sIss}", "id", (json_int_t)ids[i],
			                                      "login", users[i].login));
		res = json_pack("{sIso}", "created", (json_int_t)count, "users", list);
	}
	mem_free(&ids);
	return res;
}

#define USER_COLUMNS                                                                               \
	"SELECT id, login, display_name, given_name, sur_name, email, enabled, disabled_reason, "  \
	"is_admin, access_combination, imap_server, smtp_server, imap_login FROM users WHERE "     \
	"cid=? "

static json_t *user_row(struct sql_stmt *s)
{
	json_t *u = json_pack("{sIsssssssssssbsb}", "id", (json_int_t)sql_col_int64(s, 0), "login",
	                      sql_col_text(s, 1), "display_name", sql_col_text(s, 2), "given_name",
	                      sql_col_text(s, 3), "sur_name", sql_col_text(s, 4), "email",
	                      sql_col_text(s, 5), "enabled", sql_col_int64(s, 6) != 0, "is_admin",
	                      sql_col_int64(s, 8) != 0);
	json_object_set_new(u, "disabled_reason",
	                    sql_col_is_null(s, 7) ? json_null() : json_string(sql_col_text(s, 7)));
	static const char *const nullable[] = {"access_combination", "imap_server", "smtp_server",
	                                       "imap_login"};
	for (int i = 0; i < 4; i++)
		json_object_set_new(
		    u, nullable[i],
		    sql_col_is_null(s, 9 + i) ? json_null() : json_string(sql_col_text(s, 9 + i)));
	return u;
}

static json_t *query_users(struct provision *prov, int64_t cid, int64_t uid, struct prov_error *err)
{
	struct sql_conn *conn = prov_userdb_read(prov, cid, err);
	if (conn == NULL)
		return NULL;
	struct sql_error sql_err;
	struct sql_stmt *s = sql_prepare(
	    conn, uid > 0 ? USER_COLUMNS "AND id=?" : USER_COLUMNS "ORDER BY id", &sql_err);
	json_t *list = json_array();
	int r = -1;
	if (s != NULL) {
		sql_bind_int64(s, 1, cid);
		if (uid > 0)
			sql_bind_int64(s, 2, uid);
		while ((r = sql_step(s, &sql_err)) > 0)
			json_array_append_new(list, user_row(s));
		sql_stmt_done(&s);
	}
	return prov_userdb_read_end(&conn, r, list, &sql_err, err);
}

json_t *provision_list_users(struct provision *prov, int64_t cid, struct prov_error *err)
{
	json_t *list = query_users(prov, cid, 0, err);
	return list == NULL ? NULL : json_pack("{so}", "users", list);
}

json_t *provision_get_user(struct provision *prov, int64_t cid, int64_t uid, struct prov_error *err)
{
	json_t *list = uid > 0 ? query_users(prov, cid, uid, err) : NULL;
	if (uid <= 0)
		prov_error_set(err, PROV_NOT_FOUND, "user %lld does not exist", (long long)uid);
	if (list == NULL)
		return NULL;
	if (json_array_size(list) == 0) {
		json_decref(list);
		prov_error_set(err, PROV_NOT_FOUND, "user %lld does not exist in context %lld",
		               (long long)uid, (long long)cid);
		return NULL;
	}
	json_t *u = json_incref(json_array_get(list, 0));
	json_decref(list);
	return u;
}

struct change_user_ctx {
	int64_t cid, uid;
	const struct prov_user_change *ch;
	const char *hash;
	bool delete;
	struct prov_error *err;
};

static int change_user_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct change_user_ctx *cu = ctx;
	int64_t is_admin = 0;
	int r =
	    sql_query_int64(conn, err, &is_admin, "SELECT is_admin FROM users WHERE cid=? AND id=?",
	                    "ii", cu->cid, cu->uid);
	if (r < 0)
		return -1;
	if (r == 0) {
		prov_error_set(cu->err, PROV_NOT_FOUND, "user %lld does not exist in context %lld",
		               (long long)cu->uid, (long long)cu->cid);
		return -1;
	}
	int64_t now = (int64_t)time(NULL);
	if (cu->delete) {
		if (is_admin) {
			prov_error_set(cu->err, PROV_CONFLICT,
			               "user %lld is the context admin and cannot be deleted",
			               (long long)cu->uid);
			return -1;
		}
		if (sql_run(conn, err, "DELETE FROM group_member WHERE cid=? AND user_id=?", "ii",
		            cu->cid, cu->uid) < 0 ||
		    storage_gab_user_changed(conn, cu->cid, cu->uid, true, err) < 0)
			return -1;
		return prov_userdb_delete(conn, "users", "user", cu->cid, cu->uid, now, err);
	}
	const struct prov_user_change *ch = cu->ch;
	/* from MAIL_FIRST on the mail fields, where "" = none (NULL) */
	enum { MAIL_FIRST = 4 };
	static const char *const columns[] = {"display_name", "given_name",  "sur_name",  "email",
	                                      "imap_server",  "smtp_server", "imap_login"};
	const char *values[] = {ch->display_name, ch->given_name,  ch->sur_name,  ch->email,
	                        ch->imap_server,  ch->smtp_server, ch->imap_login};
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		if (values[i] == NULL)
			continue;
		char sql[96];
		snprintf(sql, sizeof(sql), "UPDATE users SET %s=? WHERE cid=? AND id=?",
		         columns[i]);
		const char *v = i >= MAIL_FIRST && values[i][0] == '\0' ? NULL : values[i];
		if (sql_run(conn, err, sql, "sii", v, cu->cid, cu->uid) < 0)
			return -1;
	}
	if (cu->hash != NULL &&
	    sql_run(conn, err, "UPDATE users SET password_hash=? WHERE cid=? AND id=?", "sii",
	            cu->hash, cu->cid, cu->uid) < 0)
		return -1;
	if (ch->access_combination != NULL &&
	    sql_run(conn, err, "UPDATE users SET access_combination=? WHERE cid=? AND id=?", "sii",
	            ch->access_combination[0] != '\0' ? ch->access_combination : NULL, cu->cid,
	            cu->uid) < 0)
		return -1;
	if (ch->enabled >= 0 &&
	    sql_run(conn, err, "UPDATE users SET enabled=?, disabled_reason=? WHERE cid=? AND id=?",
	            "isii", (int64_t)ch->enabled, ch->enabled ? NULL : ch->disabled_reason, cu->cid,
	            cu->uid) < 0)
		return -1;
	if (storage_gab_user_changed(conn, cu->cid, cu->uid, false, err) < 0)
		return -1;
	return sql_run(conn, err, "UPDATE users SET modified=? WHERE cid=? AND id=?", "iii", now,
	               cu->cid, cu->uid);
}

static int run_user_change(struct provision *prov, struct change_user_ctx *cu,
                           struct prov_error *err)
{
	struct sql_db *db = prov_context_userdb(prov, cu->cid, err);
	if (db == NULL)
		return -1;
	struct sql_error sql_err;
	cu->err = err;
	err->status = PROV_OK;
	int r = sql_transaction(db, SQL_WRITE, cu->cid, change_user_txn, cu, &sql_err);
	/* Also after a failure: a commit that lost its connection may still have happened. */
	user_changed(prov, cu->cid, cu->uid);
	bool refused = r < 0 && err->status != PROV_OK; /* by a check here: nothing committed */
	if (!refused && (cu->delete || cu->hash != NULL || cu->ch->enabled == 0 ||
	                 cu->ch->access_combination != NULL))
		prov_revoke(prov, cu->cid, cu->uid);
	if (r < 0) {
		if (err->status == PROV_OK)
			prov_error_sql(err, "user schema", &sql_err);
		return -1;
	}
	return 0;
}

json_t *provision_change_user(struct provision *prov, int64_t cid, int64_t uid,
                              const struct prov_user_change *ch, struct prov_error *err)
{
	const char *checks[][3] = {{ch->display_name, "display_name", "256"},
	                           {ch->given_name, "given_name", "128"},
	                           {ch->sur_name, "sur_name", "128"},
	                           {ch->email, "email", "256"},
	                           {ch->password, "password", "256"}};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const char *v = checks[i][0];
		if (v != NULL && !prov_text_ok(v, (size_t)strtoul(checks[i][2], NULL, 10))) {
			prov_error_set(err, PROV_INVALID, "%s must be 1-%s characters",
			               checks[i][1], checks[i][2]);
			return NULL;
		}
	}
	if (ch->access_combination != NULL && ch->access_combination[0] != '\0' &&
	    access_check_name(ch->access_combination) != NULL) {
		prov_error_set(err, PROV_INVALID, "access_combination: %s",
		               access_check_name(ch->access_combination));
		return NULL;
	}
	const char *mail_problem =
	    check_mail(ch->imap_server, ch->smtp_server, ch->imap_login, true);
	if (mail_problem != NULL) {
		prov_error_set(err, PROV_INVALID, "%s", mail_problem);
		return NULL;
	}
	if (ch->email != NULL && strchr(ch->email, '@') == NULL) {
		prov_error_set(err, PROV_INVALID, "email must be an address with '@'");
		return NULL;
	}
	struct prov_user_change copy = *ch;
	if (copy.enabled == 0 && (copy.disabled_reason == NULL || copy.disabled_reason[0] == '\0'))
		copy.disabled_reason = "disabled by the administrator";
	if (copy.disabled_reason != NULL && strlen(copy.disabled_reason) > 255) {
		prov_error_set(err, PROV_INVALID, "disabled_reason must be at most 255 characters");
		return NULL;
	}
	char hash[PASSWORD_HASH_MAX];
	if (ch->password != NULL && prov_hash_password(ch->password, hash, err) < 0)
		return NULL;
	struct change_user_ctx cu = {
	    .cid = cid, .uid = uid, .ch = &copy, .hash = ch->password != NULL ? hash : NULL};
	if (run_user_change(prov, &cu, err) < 0)
		return NULL;
	return provision_get_user(prov, cid, uid, err);
}

int provision_delete_user(struct provision *prov, int64_t cid, int64_t uid, struct prov_error *err)
{
	struct prov_user_change none = {.enabled = -1};
	struct change_user_ctx cu = {.cid = cid, .uid = uid, .ch = &none, .delete = true};
	return run_user_change(prov, &cu, err);
}

/* A user's login row and access combination (its own, else the context's default). */
#define ACCESS_SELECT                                                                              \
	"SELECT id, password_hash, enabled, disabled_reason, COALESCE(access_combination, "        \
	"(SELECT combination FROM context_access a WHERE a.cid=users.cid)), imap_server, "         \
	"smtp_server, imap_login FROM users WHERE cid=? AND "

/* The login row of login, or of uid when login is NULL: 1, 0 none, -1 with err set. */
static int read_login_row(struct provision *prov, int64_t cid, const char *login, int64_t uid,
                          struct prov_login *row_r, struct prov_error *err)
{
	_Static_assert(sizeof(row_r->password_hash) == PASSWORD_HASH_MAX, "hash buffer");
	struct prov_location loc;
	struct sql_db *db = provision_context_db(prov, cid, &loc, err);
	if (db == NULL)
		return -1;
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(db, SQL_READ, cid, &conn, &sql_err) < 0) {
		prov_error_sql(err, "user database", &sql_err);
		return -1;
	}
	struct sql_stmt *st = sql_prepare(
	    conn, login != NULL ? ACCESS_SELECT "login=?" : ACCESS_SELECT "id=?", &sql_err);
	int r = -1;
	if (st != NULL) {
		sql_bind_int64(st, 1, cid);
		if (login != NULL)
			sql_bind_text(st, 2, login);
		else
			sql_bind_int64(st, 2, uid);
		r = sql_step(st, &sql_err);
		if (r > 0) {
			memset(row_r, 0, sizeof(*row_r));
			row_r->uid = sql_col_int64(st, 0);
			snprintf(row_r->password_hash, sizeof(row_r->password_hash), "%s",
			         sql_col_text(st, 1));
			row_r->enabled = sql_col_int64(st, 2) != 0;
			snprintf(row_r->disabled_reason, sizeof(row_r->disabled_reason), "%s",
			         sql_col_is_null(st, 3) ? "" : sql_col_text(st, 3));
			snprintf(row_r->access, sizeof(row_r->access), "%s",
			         sql_col_is_null(st, 4) ? "" : sql_col_text(st, 4));
			snprintf(row_r->imap_server, sizeof(row_r->imap_server), "%s",
			         sql_col_is_null(st, 5) ? "" : sql_col_text(st, 5));
			snprintf(row_r->smtp_server, sizeof(row_r->smtp_server), "%s",
			         sql_col_is_null(st, 6) ? "" : sql_col_text(st, 6));
			snprintf(row_r->imap_login, sizeof(row_r->imap_login), "%s",
			         sql_col_is_null(st, 7) ? "" : sql_col_text(st, 7));
		}
		sql_stmt_done(&st);
	}
	sql_conn_put(&conn);
	if (r < 0)
		prov_error_sql(err, "user database", &sql_err);
	return r;
}

int provision_login_lookup(struct provision *prov, int64_t cid, const char *login,
                           struct prov_login *row_r, struct prov_error *err)
{
	return read_login_row(prov, cid, login, 0, row_r, err);
}

int provision_user_access(struct provision *prov, int64_t cid, int64_t uid, char name_r[65],
                          struct prov_error *err)
{
	struct prov_login row;
	int r = read_login_row(prov, cid, NULL, uid, &row, err);
	if (r > 0)
		memcpy(name_r, row.access, sizeof(row.access));
	return r;
}
