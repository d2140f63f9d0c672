/* SPDX-License-Identifier: MIT */
/* Promoting a replica to primary (tandemctl promotedatabase, docs/database.md "Failover"):
   GTID positions checked, replication stopped, the replica made writable, the old primary made
   read-only when it answers and fenced in the configdb either way, every node told. */
#include "provision-private.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sql-gtid.h"

#define OLD_PRIMARY_CONNECT_MS 2000

/* SHOW SLAVE STATUS columns (MariaDB 10.x; Using_Gtid is checked to catch another layout). */
#define SLAVE_IO_RUNNING  10
#define SLAVE_SQL_RUNNING 11
#define SLAVE_SQL_ERROR   37
#define SLAVE_USING_GTID  42
#define SLAVE_GTID_IO_POS 43

/* One db_pool row. */
struct pool_row {
	int64_t id;
	char name[129];
	char url[520];
	char role[17];
	int64_t master_id; /* 0 when NULL */
	int64_t cluster;   /* the db_cluster it writes for, 0 if none */
};

struct promote {
	struct provision *prov;
	struct pool_row old, new;
	const char *admin_user, *admin_password;
	bool force;
	unsigned wait_ms;
	/* what was found */
	bool old_reachable, old_read_only;
	char old_error[320];
	char target[SQL_GTID_POS_MAX]; /* what the replica must have applied */
	const char *target_source;     /* "old primary", "replica relay log", "none" */
	char applied[SQL_GTID_POS_MAX];
	bool replicating; /* SHOW SLAVE STATUS has a row */
	char slave_io[8], slave_sql[8], sql_error[200];
	uint64_t behind;
	struct prov_error *err;
};

/* ---------------------------------------------------------------- the configdb */

static int read_pool(struct sql_conn *conn, const char *name, struct pool_row *row,
                     struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT p.id, p.url, p.role, p.master_id, c.id FROM "
	                                 "db_pool p LEFT JOIN db_cluster c ON c.write_pool=p.id "
	                                 "WHERE p.name=?",
	                                 err);
	if (s == NULL)
		return -1;
	sql_bind_text(s, 1, name);
	int r = sql_step(s, err);
	if (r > 0) {
		row->id = sql_col_int64(s, 0);
		snprintf(row->name, sizeof(row->name), "%s", name);
		snprintf(row->url, sizeof(row->url), "%s", sql_col_text(s, 1));
		snprintf(row->role, sizeof(row->role), "%s", sql_col_text(s, 2));
		row->master_id = sql_col_is_null(s, 3) ? 0 : sql_col_int64(s, 3);
		row->cluster = sql_col_is_null(s, 4) ? 0 : sql_col_int64(s, 4);
	}
	sql_stmt_done(&s);
	return r;
}

static int load_pools(struct promote *p, const char *name, const char *replica)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(p->prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		prov_error_sql(p->err, "configdb", &sql_err);
		return -1;
	}
	int a = read_pool(conn, name, &p->old, &sql_err);
	int b = a < 0 ? -1 : read_pool(conn, replica, &p->new, &sql_err);
	sql_conn_put(&conn);
	if (a < 0 || b < 0) {
		prov_error_sql(p->err, "configdb", &sql_err);
		return -1;
	}
	if (a == 0 || strcmp(p->old.role, "primary") != 0 || p->old.cluster == 0) {
		prov_error_set(p->err, a == 0 ? PROV_NOT_FOUND : PROV_INVALID,
		               "database \"%s\" is not a registered primary%s", name,
		               a == 0 ? "" : " (see tandemctl listdatabase)");
		return -1;
	}
	if (b == 0 || strcmp(p->new.role, "replica") != 0 || p->new.master_id != p->old.id) {
		prov_error_set(p->err, b == 0 ? PROV_NOT_FOUND : PROV_INVALID,
		               "database \"%s\" is not a registered replica of \"%s\"", replica,
		               name);
		return -1;
	}
	if (strncmp(p->old.url, "mariadb:", 8) != 0) {
		prov_error_set(p->err, PROV_INVALID, "only MariaDB databases can be promoted");
		return -1;
	}
	return 0;
}

static int record_promotion(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct promote *p = ctx;
	/* Only if nobody promoted meanwhile (two operators at once). */
	int64_t n = sql_run_changes(
	    conn, err, "UPDATE db_cluster SET write_pool=? WHERE id=? AND write_pool=?", "iii",
	    p->new.id, p->old.cluster, p->old.id);
	if (n < 0)
		return -1;
	if (n == 0) {
		prov_error_set(
		    p->err, PROV_CONFLICT,
		    "database %s changed its primary meanwhile; see tandemctl listdatabase",
		    p->old.name);
		return -1;
	}
	if (sql_run(conn, err, "UPDATE db_pool SET role='primary', master_id=NULL WHERE id=?", "i",
	            p->new.id) < 0 ||
	    /* Fenced: in no cluster, so no node reads or writes there again. */
	    sql_run(conn, err, "UPDATE db_pool SET role='fenced', master_id=NULL WHERE id=?", "i",
	            p->old.id) < 0)
		return -1;
	/* Other replicas now belong to the new primary (the operator re-points them: until then
	   they fall behind, and reads go to the primary by the positions check). */
	return sql_run(conn, err, "UPDATE db_pool SET master_id=? WHERE master_id=? AND role=?",
	               "iis", p->new.id, p->old.id, "replica");
}

/* Every node drops the cached locations of the cluster's contexts, so the next request
   reads the registration again and opens the new primary. */
static void announce(struct promote *p)
{
	struct sql_conn *conn;
	struct sql_error sql_err;
	if (sql_conn_get(p->prov->cdb, SQL_READ, CONFIGDB_KEY, &conn, &sql_err) < 0) {
		log_warn("provision",
		         "promotion recorded but not announced (%s): nodes switch "
		         "within a few seconds",
		         sql_err.message);
		return;
	}
	struct sql_stmt *s = sql_prepare(
	    conn, "SELECT cid FROM context_location WHERE db_cluster=? ORDER BY cid", &sql_err);
	if (s != NULL) {
		sql_bind_int64(s, 1, p->old.cluster);
		while (sql_step(s, &sql_err) > 0)
			provision_context_changed(p->prov, sql_col_int64(s, 0));
		sql_stmt_done(&s);
	}
	sql_conn_put(&conn);
}

/* ---------------------------------------------------------------- the servers */

static void append_escaped(char *out, size_t size, size_t *used, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0' && *used + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) != NULL) {
			out[(*used)++] = (char)c;
		} else {
			out[(*used)++] = '%';
			out[(*used)++] = hex[c >> 4];
			out[(*used)++] = hex[c & 15];
		}
	}
	out[*used] = '\0';
}

/* The registered URL, or the same server with the administrative credentials. */
static int admin_url(const struct promote *p, const char *url, char *out, size_t size)
{
	if (p->admin_user == NULL) {
		snprintf(out, size, "%s", url);
		return 0;
	}
	struct sql_url u;
	const char *error;
	if (sql_url_parse(url, &u, &error) < 0) {
		prov_error_set(p->err, PROV_INTERNAL, "registered URL: %s", error);
		return -1;
	}
	size_t used = (size_t)snprintf(out, size, "mariadb://");
	append_escaped(out, size, &used, p->admin_user);
	if (p->admin_password != NULL && p->admin_password[0] != '\0') {
		out[used++] = ':';
		append_escaped(out, size, &used, p->admin_password);
	}
	bool v6 = strchr(u.host, ':') != NULL; /* an IPv6 literal keeps its brackets */
	snprintf(out + used, size - used, v6 ? "@[%s]:%u/" : "@%s:%u/", u.host, (unsigned)u.port);
	return 0;
}

static int open_server(const struct promote *p, const struct pool_row *row, unsigned connect_ms,
                       struct sql_db **db_r, struct sql_conn **conn_r, struct sql_error *err)
{
	char url[700];
	if (admin_url(p, row->url, url, sizeof(url)) < 0) {
		sql_error_set(err, SQL_ERR_OTHER, 0, "%s", p->err->message);
		return -1;
	}
	struct sql_settings set;
	sql_settings_default(&set);
	set.max_connections = 1;
	set.connect_timeout_ms = connect_ms;
	set.rw_timeout_ms = p->wait_ms + 10000;
	if (sql_db_open(url, &set, false, db_r, err) < 0)
		return -1;
	if (sql_conn_get(*db_r, SQL_WRITE, CONFIGDB_KEY, conn_r, err) < 0) {
		sql_db_close(db_r);
		return -1;
	}
	return 0;
}

static void close_server(struct sql_db **db, struct sql_conn **conn)
{
	sql_conn_put(conn);
	sql_db_close(db);
}

/* First column of the first row of sql into out ("" for none or NULL). */
static int query_text(struct sql_conn *conn, const char *sql, char *out, size_t size,
                      struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn, sql, err);
	if (s == NULL)
		return -1;
	int r = sql_step(s, err);
	const char *v = r > 0 ? sql_col_text(s, 0) : NULL;
	snprintf(out, size, "%s", v != NULL ? v : "");
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

/* The old primary's binlog position is the target while it answers. */
static int old_primary_position(struct promote *p, struct sql_conn *old)
{
	struct sql_error e;
	if (query_text(old, "SELECT @@gtid_binlog_pos", p->target, sizeof(p->target), &e) < 0) {
		prov_error_sql(p->err, p->old.name, &e);
		return -1;
	}
	p->target_source = "old primary";
	return 0;
}

/* SHOW SLAVE STATUS: the threads' state and what the replica has received. */
static int slave_status(struct promote *p, struct sql_conn *conn, char *io_pos, size_t size,
                        struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn, "SHOW SLAVE STATUS", err);
	if (s == NULL)
		return -1;
	int r = sql_step(s, err);
	p->replicating = r > 0;
	if (r > 0) {
		const char *gtid = sql_col_text(s, SLAVE_USING_GTID);
		if (gtid == NULL || (strcmp(gtid, "Slave_Pos") != 0 &&
		                     strcmp(gtid, "Current_Pos") != 0 && strcmp(gtid, "No") != 0)) {
			sql_stmt_done(&s);
			prov_error_set(p->err, PROV_UNAVAILABLE,
			               "SHOW SLAVE STATUS on %s has an unknown layout",
			               p->new.name);
			return -1;
		}
		const char *v;
		snprintf(p->slave_io, sizeof(p->slave_io), "%s",
		         (v = sql_col_text(s, SLAVE_IO_RUNNING)) != NULL ? v : "");
		snprintf(p->slave_sql, sizeof(p->slave_sql), "%s",
		         (v = sql_col_text(s, SLAVE_SQL_RUNNING)) != NULL ? v : "");
		snprintf(p->sql_error, sizeof(p->sql_error), "%s",
		         (v = sql_col_text(s, SLAVE_SQL_ERROR)) != NULL ? v : "");
		snprintf(io_pos, size, "%s",
		         (v = sql_col_text(s, SLAVE_GTID_IO_POS)) != NULL ? v : "");
	}
	sql_stmt_done(&s);
	if (r == 0) {
		prov_error_set(p->err, PROV_INVALID, "%s is not replicating (no SHOW SLAVE STATUS)",
		               p->new.name);
		return -1;
	}
	return r < 0 ? -1 : 0;
}

/* Waits for the replica to apply the target, then compares. 0 caught up (or forced), -1 err. */
static int check_caught_up(struct promote *p, struct sql_conn *conn)
{
	struct sql_error e;
	char io_pos[SQL_GTID_POS_MAX];
	if (slave_status(p, conn, io_pos, sizeof(io_pos), &e) < 0) {
		if (p->err->status == PROV_OK)
			prov_error_sql(p->err, p->new.name, &e);
		if (!p->force || p->err->status != PROV_INVALID)
			return -1;
		p->err->status = PROV_OK; /* not replicating: --force promotes it as it is */
		io_pos[0] = '\0';
	}
	if (strcmp(p->target_source, "old primary") != 0) {
		snprintf(p->target, sizeof(p->target), "%s", io_pos);
		p->target_source = "replica relay log";
	}
	struct sql_gtid_pos want, have;
	if (sql_gtid_parse(p->target, &want) < 0) {
		prov_error_set(p->err, PROV_INTERNAL, "bad GTID position \"%s\"", p->target);
		return -1;
	}
	if (want.count > 0 && strcmp(p->slave_sql, "Yes") == 0) {
		/* never an empty position: MASTER_GTID_WAIT('') returns at once */
		char seconds[32];
		snprintf(seconds, sizeof(seconds), "%u.%03u", p->wait_ms / 1000, p->wait_ms % 1000);
		struct sql_stmt *s = sql_prepare(conn, "SELECT MASTER_GTID_WAIT(?, ?)", &e);
		int r = -1;
		if (s != NULL) {
			sql_bind_text(s, 1, p->target);
			sql_bind_text(s, 2, seconds);
			r = sql_step(s, &e);
			sql_stmt_done(&s);
		}
		if (r < 0) {
			prov_error_sql(p->err, p->new.name, &e);
			return -1;
		}
	}
	if (query_text(conn, "SELECT @@gtid_slave_pos", p->applied, sizeof(p->applied), &e) < 0) {
		prov_error_sql(p->err, p->new.name, &e);
		return -1;
	}
	if (sql_gtid_parse(p->applied, &have) < 0) {
		prov_error_set(p->err, PROV_INTERNAL, "bad GTID position \"%s\"", p->applied);
		return -1;
	}
	p->behind = sql_gtid_behind(&have, &want);
	if (p->behind == 0 || p->force)
		return 0;
	prov_error_set(
	    p->err, PROV_CONFLICT,
	    "replica %s is %llu transaction(s) behind: applied \"%s\", %s has \"%s\" "
	    "(SQL thread running: %s%s%s); nothing changed. Wait, fix replication, "
	    "or give --force to promote it and lose those transactions",
	    p->new.name, (unsigned long long)p->behind, p->applied,
	    strcmp(p->target_source, "old primary") == 0 ? "the old primary" : "its relay log",
	    p->target, p->slave_sql, p->sql_error[0] != '\0' ? ", error: " : "", p->sql_error);
	return -1;
}

/* Stops replication on the replica and makes it writable. */
static int promote_replica(struct promote *p, struct sql_conn *conn)
{
	/* RESET SLAVE ALL: a restart must not make it follow the old primary again. */
	static const char *const steps[] = {"STOP SLAVE", "RESET SLAVE ALL",
	                                    "SET GLOBAL read_only=0"};
	struct sql_error e;
	/* a replica that no longer replicates (a forced retry) only needs the last step */
	for (size_t i = p->replicating ? 0 : 2; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (sql_exec(conn, steps[i], &e) < 0) {
			prov_error_set(p->err, PROV_UNAVAILABLE,
			               "%s on %s failed: %s (it needs a user with SUPER: give "
			               "--dbuser/--dbpasswd)",
			               steps[i], p->new.name, e.message);
			return -1;
		}
	}
	return 0;
}

/* The checks and the switch on the servers: 0 done, -1 refused or failed (err set). Nothing
   is changed on a refusal: the old primary is made read-only only once the replica has
   caught up with it, and made writable again if the final check then fails. */
static int switch_servers(struct promote *p, struct sql_conn *old, struct sql_conn *replica)
{
	struct sql_error e;
	if (old != NULL && (old_primary_position(p, old) < 0 || check_caught_up(p, replica) < 0))
		return -1;
	if (old != NULL) {
		if (sql_exec(old, "SET GLOBAL read_only=1", &e) < 0) {
			snprintf(p->old_error, sizeof(p->old_error), "SET GLOBAL read_only=1: %s",
			         e.message);
			if (!p->force) {
				prov_error_set(
				    p->err, PROV_UNAVAILABLE,
				    "the old primary %s answers but cannot be made read-only "
				    "(%s); nothing changed. Give --dbuser/--dbpasswd of a user "
				    "with SUPER, or --force",
				    p->old.name, e.message);
				return -1;
			}
		} else {
			p->old_read_only = true;
		}
		/* Read-only now: no ordinary user commits there any more, the position is final. */
		if (old_primary_position(p, old) < 0 || check_caught_up(p, replica) < 0) {
			if (p->old_read_only)
				(void)sql_exec(old, "SET GLOBAL read_only=0", &e);
			p->old_read_only = false;
			return -1;
		}
	} else if (check_caught_up(p, replica) < 0) {
		return -1;
	}
	return promote_replica(p, replica);
}

static json_t *server_json(const struct pool_row *row)
{
	char red[600];
	sql_url_redact(row->url, red, sizeof(red));
	return json_pack("{sIssss}", "id", (json_int_t)row->id, "name", row->name, "url", red);
}

json_t *provision_promote_database(struct provision *prov, const struct prov_promotion *req,
                                   struct prov_error *err)
{
	struct promote p = {
	    .prov = prov,
	    .admin_user =
	        req->admin_user != NULL && req->admin_user[0] != '\0' ? req->admin_user : NULL,
	    .admin_password = req->admin_password,
	    .force = req->force,
	    .wait_ms = req->wait_ms,
	    .target_source = "none",
	    .err = err,
	};
	uint64_t start = clock_mono_ms();
	err->status = PROV_OK;
	if (req->name == NULL || req->replica == NULL) {
		prov_error_set(err, PROV_INVALID, "name and replica are required");
		return NULL;
	}
	if ((p.admin_user != NULL && strlen(p.admin_user) > 128) ||
	    (p.admin_password != NULL && strlen(p.admin_password) > 128)) {
		prov_error_set(err, PROV_INVALID,
		               "dbuser and dbpasswd must be at most 128 characters");
		return NULL;
	}
	if (load_pools(&p, req->name, req->replica) < 0)
		return NULL;
	struct sql_db *old_db = NULL, *new_db = NULL;
	struct sql_conn *old = NULL, *replica = NULL;
	struct sql_error e;
	if (open_server(&p, &p.new, 5000, &new_db, &replica, &e) < 0) {
		char red[600];
		sql_url_redact(p.new.url, red, sizeof(red));
		prov_error_set(err, PROV_UNAVAILABLE, "cannot reach replica %s (%s): %s",
		               p.new.name, red, e.message);
		return NULL;
	}
	if (open_server(&p, &p.old, OLD_PRIMARY_CONNECT_MS, &old_db, &old, &e) == 0)
		p.old_reachable = true;
	else
		snprintf(p.old_error, sizeof(p.old_error), "%s", e.message);
	int r = switch_servers(&p, old, replica);
	close_server(&old_db, &old);
	close_server(&new_db, &replica);
	if (r < 0)
		return NULL;

	struct sql_error sql_err;
	if (sql_transaction(prov->cdb, SQL_WRITE, CONFIGDB_KEY, record_promotion, &p, &sql_err) <
	    0) {
		if (err->status == PROV_OK)
			prov_error_sql(err,
			               "recording the promotion in the configdb (the replica is "
			               "already writable: run the command again with --force)",
			               &sql_err);
		return NULL;
	}
	announce(&p);
	const char *fence = p.old_read_only   ? "read-only"
	                    : p.old_reachable ? "NOT read-only"
	                                      : "unreachable";
	log_info("provision",
	         "database %s: %s promoted to primary at %s (%s); old primary %s fenced, %s",
	         req->name, p.new.name, p.applied, p.force ? "forced" : "checked", p.old.name,
	         fence);

	json_t *old_json = server_json(&p.old);
	json_object_update_new(old_json,
	                       json_pack("{sbsbss}", "reachable", p.old_reachable, "read_only",
	                                 p.old_read_only, "error", p.old_error));
	return json_pack("{ss sI so so s{ss ss ss ss ss sI} sb sI}", "database", req->name,
	                 "cluster", (json_int_t)p.old.cluster, "new_primary", server_json(&p.new),
	                 "old_primary", old_json, "positions", "target", p.target, "target_source",
	                 p.target_source, "applied", p.applied, "io_thread", p.slave_io,
	                 "sql_thread", p.slave_sql, "behind", (json_int_t)p.behind, "forced",
	                 p.force, "elapsed_ms", (json_int_t)(clock_mono_ms() - start));
}
