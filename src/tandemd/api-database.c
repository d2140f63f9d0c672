/* SPDX-License-Identifier: MIT */
/* The state of this node's databases (configdb and the user databases opened so far): the
   servers of each with their health, and the replication counters, for clusterstats and
   /metrics. */
#include "api-database.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "node.h"
#include "prom.h"
#include "provision.h"
#include "sql.h"

/* ---------------------------------------------------------------- JSON */

static void server_json(const struct sql_server_info *info, void *ctx)
{
	json_t *servers = ctx;
	json_t *s = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I}", "url", info->url,
	                      "role", info->role, "up", info->up, "writer", info->writer, "lagging",
	                      info->lagging, "connections", (json_int_t)info->connections, "in_use",
	                      (json_int_t)info->in_use, "reads", (json_int_t)info->reads, "writes",
	                      (json_int_t)info->writes);
	json_object_set_new(s, "position",
	                    info->position[0] != '\0' ? json_string(info->position) : json_null());
	json_object_set_new(s, "last_error",
	                    info->last_error[0] != '\0' ? json_string(info->last_error)
	                                                : json_null());
	json_array_append_new(servers, s);
}

static void database_json(const char *name, struct sql_db *db, void *ctx)
{
	json_t *list = ctx;
	json_t *servers = json_array();
	struct sql_db_stats st;
	bool galera;
	sql_db_servers(db, &galera, server_json, servers);
	sql_db_stats(db, &st);
	const char *mode = galera                         ? "galera"
	                   : json_array_size(servers) > 1 ? "replication"
	                                                  : "single";
	json_t *reads = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I}", "replica", (json_int_t)st.reads_replica, "primary",
	    (json_int_t)st.reads_primary, "primary_lag", (json_int_t)st.reads_primary_lag,
	    "primary_error", (json_int_t)st.reads_primary_error, "primary_unknown",
	    (json_int_t)st.reads_primary_unknown);
	json_t *failures =
	    json_pack("{s:I, s:I, s:I, s:I}", "down", (json_int_t)st.write_fail_down, "lost",
	              (json_int_t)st.write_fail_lost, "busy", (json_int_t)st.write_fail_busy,
	              "other", (json_int_t)st.write_fail_other);
	json_array_append_new(
	    list, json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:I}", "name", name, "mode",
	                    mode, "servers", servers, "reads", reads, "gtid_waits",
	                    (json_int_t)st.gtid_waits, "gtid_wait_us", (json_int_t)st.gtid_wait_us,
	                    "writes", (json_int_t)st.writes, "write_failures", failures,
	                    "position_errors", (json_int_t)st.position_errors));
}

json_t *api_databases_json(struct node *node)
{
	struct prov_error perr;
	json_t *list = json_array();
	struct provision *prov = node_provision(node, &perr);
	if (prov != NULL)
		provision_foreach_db(prov, database_json, list);
	return list;
}

/* ---------------------------------------------------------------- metrics */

struct sample {
	const char *labels; /* after db="…", e.g. ",served=\"replica\"" ("" for none) */
	size_t offset;      /* of the uint64_t in struct sql_db_stats */
};

struct metric_ctx {
	struct buf *b;
	const char *family;
	const struct sample *samples;
	size_t count;
	bool seconds; /* the counter holds microseconds, shown as seconds */
};

static void emit_samples(const char *name, struct sql_db *db, void *ctx)
{
	struct metric_ctx *m = ctx;
	struct sql_db_stats st;
	sql_db_stats(db, &st);
	for (size_t i = 0; i < m->count; i++) {
		uint64_t v = *(const uint64_t *)((const char *)&st + m->samples[i].offset);
		buf_printf(m->b, "%s{db=\"%s\"%s} ", m->family, name, m->samples[i].labels);
		if (m->seconds)
			buf_printf(m->b, "%" PRIu64 ".%06" PRIu64 "\n", v / 1000000, v % 1000000);
		else
			buf_printf(m->b, "%" PRIu64 "\n", v);
	}
}

#define SAMPLE(labels, field)                                                                      \
	{                                                                                          \
		labels, offsetof(struct sql_db_stats, field)                                       \
	}

static void family(struct buf *b, struct provision *prov, const char *name, const char *type,
                   const char *help, const struct sample *samples, size_t count, bool seconds)
{
	struct metric_ctx m = {b, name, samples, count, seconds};
	prom_family(b, name, type, help);
	provision_foreach_db(prov, emit_samples, &m);
}

struct up_ctx {
	struct buf *b;
	const char *name;
};

static void emit_server_up(const struct sql_server_info *info, void *ctx)
{
	struct up_ctx *u = ctx;
	buf_printf(u->b, "tandem_db_server_up{db=\"%s\",server=\"%s\",role=\"%s\"} %d\n", u->name,
	           info->url, info->role, info->up ? 1 : 0);
}

static void emit_up(const char *name, struct sql_db *db, void *ctx)
{
	struct up_ctx u = {ctx, name};
	bool galera;
	sql_db_servers(db, &galera, emit_server_up, &u);
}

void api_database_metrics(struct buf *b, struct node *node)
{
	static const struct sample reads[] = {SAMPLE(",served=\"replica\"", reads_replica),
	                                      SAMPLE(",served=\"primary\"", reads_primary)};
	static const struct sample reasons[] = {
	    SAMPLE(",reason=\"lag\"", reads_primary_lag),
	    SAMPLE(",reason=\"error\"", reads_primary_error),
	    SAMPLE(",reason=\"unknown\"", reads_primary_unknown)};
	static const struct sample waits[] = {SAMPLE("", gtid_waits)};
	static const struct sample wait_time[] = {SAMPLE("", gtid_wait_us)};
	static const struct sample writes[] = {SAMPLE("", writes)};
	static const struct sample failures[] = {
	    SAMPLE(",cause=\"primary_down\"", write_fail_down),
	    SAMPLE(",cause=\"connection_lost\"", write_fail_lost),
	    SAMPLE(",cause=\"busy\"", write_fail_busy),
	    SAMPLE(",cause=\"other\"", write_fail_other)};
	static const struct sample position_errors[] = {SAMPLE("", position_errors)};
#define N(a) (sizeof(a) / sizeof((a)[0]))
	struct prov_error perr;
	struct provision *prov = node_provision(node, &perr);
	if (prov == NULL)
		return;
	family(b, prov, "tandem_db_reads_total", "counter",
	       "Reads by where they were served: a replica (or Galera read node) or the primary.",
	       reads, N(reads), false);
	family(b, prov, "tandem_db_primary_reads_total", "counter",
	       "Reads sent to the primary although replicas exist: lag (no replica had the "
	       "key's last write in time), error (replicas down), unknown (position store down).",
	       reasons, N(reasons), false);
	family(b, prov, "tandem_db_gtid_waits_total", "counter",
	       "MASTER_GTID_WAIT calls made before a replica read.", waits, N(waits), false);
	family(b, prov, "tandem_db_gtid_wait_seconds_total", "counter",
	       "Time spent in MASTER_GTID_WAIT.", wait_time, N(wait_time), true);
	family(b, prov, "tandem_db_writes_total", "counter", "Write connections handed out.",
	       writes, N(writes), false);
	family(b, prov, "tandem_db_write_failures_total", "counter", "Failed writes by cause.",
	       failures, N(failures), false);
	family(b, prov, "tandem_db_position_errors_total", "counter",
	       "Failures of the position store (the cluster store) of the replication monitor.",
	       position_errors, N(position_errors), false);
	prom_family(b, "tandem_db_server_up", "gauge",
	            "1 while a database server is usable (answers; in Galera: Synced).");
	provision_foreach_db(prov, emit_up, b);
#undef N
}
