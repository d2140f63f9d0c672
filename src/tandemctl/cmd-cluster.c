/* SPDX-License-Identifier: MIT */
/* clusterstats: the members and shared data of the cluster, as the node at --url sees them. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_option no_options[] = {CTL_END};

/* "<n> ms<suffix>" for an integer member, "-" when it is null or missing. */
static const char *millis(struct buf *b, const json_t *obj, const char *key, const char *suffix)
{
	json_t *v = json_object_get(obj, key);
	buf_reset(b);
	if (json_is_integer(v))
		buf_printf(b, "%" JSON_INTEGER_FORMAT " ms%s", json_integer_value(v), suffix);
	else
		buf_append_lit(b, "-");
	return b->data;
}

static void print_members(const json_t *members, struct buf *b)
{
	static const char *const titles[] = {"route",    "address", "state",    "load",
	                                     "sessions", "lag",     "heartbeat"};
	struct ctl_table table;
	const json_t *m;
	size_t i;

	ctl_table_init(&table, titles, sizeof(titles) / sizeof(titles[0]));
	json_array_foreach(members, i, m)
	{
		ctl_table_add_json(&table, m, "route");
		ctl_table_add_json(&table, m, "address");
		ctl_table_add_json(&table, m, "state");
		ctl_table_add_json(&table, m, "load");
		ctl_table_add_json(&table, m, "sessions");
		ctl_table_add(&table, millis(b, m, "lag_ms", ""));
		ctl_table_add(&table, millis(b, m, "heartbeat_age_ms", " ago"));
	}
	ctl_table_print(&table, stdout);
}

static void print_sessions(const json_t *sessions)
{
	static const char *const titles[] = {"route", "sessions"};
	struct ctl_table table;
	const char *route;
	json_t *n;

	printf("\nsessions: %" JSON_INTEGER_FORMAT " in total\n",
	       ctl_json_int(sessions, "total", 0));
	ctl_table_init(&table, titles, 2);
	json_object_foreach((json_t *)json_object_get(sessions, "by_route"), route, n)
	{
		struct buf b;
		buf_init(&b, 64);
		ctl_table_add(&table, route);
		ctl_table_add(&table, ctl_json_text(&b, n));
		buf_free(&b);
	}
	ctl_table_print(&table, stdout);
}

static void print_stream_and_redis(const json_t *answer, struct buf *b)
{
	const json_t *stream = json_object_get(answer, "stream");
	const json_t *redis = json_object_get(answer, "redis");

	putchar('\n');
	if (json_is_object(stream))
		printf("%-8s %s: %" JSON_INTEGER_FORMAT " entries, last id %s, first id %s\n",
		       "stream", ctl_json_str(stream, "key", "-"),
		       ctl_json_int(stream, "length", 0), ctl_json_str(stream, "last_id", "-"),
		       ctl_json_str(stream, "first_id", "-"));
	else
		printf("%-8s none (memory store: a single node)\n", "stream");
	if (!json_is_object(redis)) {
		printf("%-8s none\n", "redis");
		return;
	}
	json_t *replicas = json_object_get(redis, "replicas");
	printf("%-8s master %s, replicas connected: %s (backup_count %" JSON_INTEGER_FORMAT
	       ", async_backup_count %" JSON_INTEGER_FORMAT ")\n",
	       "redis", ctl_json_str(redis, "address", "-"),
	       json_is_integer(replicas) ? ctl_json_text(b, replicas) : "unknown",
	       ctl_json_int(redis, "backup_count", 0),
	       ctl_json_int(redis, "async_backup_count", 0));
}

/* "up", "DOWN" or "up, lagging". */
static const char *server_state(const json_t *s)
{
	if (!json_is_true(json_object_get(s, "up")))
		return "DOWN";
	return json_is_true(json_object_get(s, "lagging")) ? "up, lagging" : "up";
}

/* The write counters after "writes N": the failures by cause and the position store errors,
   each only when there were any, so that a healthy database reads as one short line. down is
   what a write refused for want of a writer is called ("primary down", "writer down"). */
static const char *write_problems(struct buf *b, const json_t *db, const char *down)
{
	const struct {
		const char *key, *label;
	} causes[] = {
	    {"down", down}, {"lost", "connection lost"}, {"busy", "busy"}, {"other", "other"}};
	const json_t *failures = json_object_get(db, "write_failures");
	json_int_t position_errors = ctl_json_int(db, "position_errors", 0);
	const char *sep = " (failed: ";

	buf_reset(b);
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		json_int_t n = ctl_json_int(failures, causes[i].key, 0);
		if (n == 0)
			continue;
		buf_printf(b, "%s%s %" JSON_INTEGER_FORMAT, sep, causes[i].label, n);
		sep = ", ";
	}
	if (b->len > 0)
		buf_append_char(b, ')');
	if (position_errors > 0)
		buf_printf(b, ", %" JSON_INTEGER_FORMAT " position store error%s", position_errors,
		           position_errors == 1 ? "" : "s");
	return b->data;
}

/* The header of one database: with a single server every read is on it, so only reads and
   writes; in Galera also reads on the writer because the other nodes failed (no GTID waits, no
   position store there); with replicas also why reads went to the primary, and the GTID waits
   that preceded replica reads. */
static void print_database_counters(const json_t *db, struct buf *b)
{
	const json_t *reads = json_object_get(db, "reads");
	const char *mode = ctl_json_str(db, "mode", "-");
	json_int_t waits = ctl_json_int(db, "gtid_waits", 0);

	printf("\ndatabase %s (%s): ", ctl_json_str(db, "name", "-"), mode);
	if (strcmp(mode, "single") == 0) {
		printf("reads %" JSON_INTEGER_FORMAT ", writes %" JSON_INTEGER_FORMAT "%s\n",
		       ctl_json_int(reads, "primary", 0), ctl_json_int(db, "writes", 0),
		       write_problems(b, db, "primary down"));
		return;
	}
	if (strcmp(mode, "galera") == 0) {
		printf("reads %" JSON_INTEGER_FORMAT " on read nodes, %" JSON_INTEGER_FORMAT
		       " on the writer (errors %" JSON_INTEGER_FORMAT
		       "), writes %" JSON_INTEGER_FORMAT "%s\n",
		       ctl_json_int(reads, "replica", 0), ctl_json_int(reads, "primary", 0),
		       ctl_json_int(reads, "primary_error", 0), ctl_json_int(db, "writes", 0),
		       write_problems(b, db, "writer down"));
		return;
	}
	printf("reads %" JSON_INTEGER_FORMAT " on replicas, %" JSON_INTEGER_FORMAT
	       " on the primary (lag %" JSON_INTEGER_FORMAT ", errors %" JSON_INTEGER_FORMAT
	       ", unknown %" JSON_INTEGER_FORMAT ")\n",
	       ctl_json_int(reads, "replica", 0), ctl_json_int(reads, "primary", 0),
	       ctl_json_int(reads, "primary_lag", 0), ctl_json_int(reads, "primary_error", 0),
	       ctl_json_int(reads, "primary_unknown", 0));
	printf("  %" JSON_INTEGER_FORMAT " GTID waits", waits);
	if (waits > 0)
		printf(" (avg %.1f ms)",
		       (double)ctl_json_int(db, "gtid_wait_us", 0) / (double)waits / 1000.0);
	printf(", writes %" JSON_INTEGER_FORMAT "%s\n", ctl_json_int(db, "writes", 0),
	       write_problems(b, db, "primary down"));
}

static void print_database(const json_t *db, struct buf *b)
{
	static const char *const titles[] = {"role",  "url",    "state",    "writer",    "conns",
	                                     "reads", "writes", "position", "last error"};
	struct ctl_table table;
	const json_t *s;
	size_t i;

	print_database_counters(db, b);
	ctl_table_init(&table, titles, sizeof(titles) / sizeof(titles[0]));
	json_array_foreach(json_object_get(db, "servers"), i, s)
	{
		ctl_table_add_json(&table, s, "role");
		ctl_table_add_json(&table, s, "url");
		ctl_table_add(&table, server_state(s));
		ctl_table_add(&table, json_is_true(json_object_get(s, "writer")) ? "yes" : "");
		ctl_table_add_json(&table, s, "connections");
		ctl_table_add_json(&table, s, "reads");
		ctl_table_add_json(&table, s, "writes");
		ctl_table_add(&table, ctl_json_str(s, "position", "-"));
		ctl_table_add(&table, ctl_json_str(s, "last_error", "-"));
	}
	ctl_table_print(&table, stdout);
}

static void print_databases(const json_t *databases, struct buf *b)
{
	const json_t *db;
	size_t i;

	/* an older node has no such list: nothing to say */
	if (!json_is_array(databases))
		return;
	if (json_array_size(databases) == 0) {
		printf("\ndatabases: none open (the configdb is unavailable)\n");
		return;
	}
	json_array_foreach(databases, i, db) print_database(db, b);
}

int cmd_clusterstats(int argc, char **argv)
{
	static const struct ctl_command cmd = {
	    "clusterstats", "",
	    "Shows the cluster as the node at --url sees it: every member (route, HTTP address,\n"
	    "state, load, sessions made on it, how far its invalidation reader is behind the\n"
	    "stream, how old its heartbeat is), the live sessions in total and per route, the\n"
	    "invalidation stream's length and newest id, the Redis master and replicas, and the\n"
	    "databases this node has open (the configdb, then each user schema as it is first\n"
	    "used): each server (primary, replica, Galera node), whether it is up or lagging,\n"
	    "where writes go, its last error; where reads were served and why, the GTID waits,\n"
	    "and writes with any failures by cause (docs/database.md). With the memory store the\n"
	    "node is a cluster of one. Fails (exit 1) when Redis is unreachable. Needs the master\n"
	    "admin.",
	    no_options};
	struct ctl_args args;
	json_t *answer;
	struct buf b;
	int ret;

	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (ctl_call("GET", "/admin/v1/cluster", NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	if (ctl_json_output()) {
		ctl_print_json(answer);
		json_decref(answer);
		return CTL_EXIT_OK;
	}
	const json_t *members = json_object_get(answer, "members");
	if (!json_is_array(members)) {
		json_decref(answer);
		return ctl_error("unexpected answer: no \"members\" list");
	}
	buf_init(&b, 1024);
	printf("cluster %s, store %s, asked node %s\n\n", ctl_json_str(answer, "cluster", "-"),
	       ctl_json_str(answer, "store", "-"),
	       ctl_json_str(json_object_get(answer, "node"), "route", "-"));
	print_members(members, &b);
	print_sessions(json_object_get(answer, "sessions"));
	print_stream_and_redis(answer, &b);
	print_databases(json_object_get(answer, "databases"), &b);
	buf_free(&b);
	json_decref(answer);
	return CTL_EXIT_OK;
}
