/* SPDX-License-Identifier: MIT */
/* Verbs that register cluster resources: registerserver, registerfilestore, registerdatabase. */
#include <string.h>

#include "ctl.h"

/* POSTs body (taken), then prints the answer for --json or "<what> <id> registered (<detail>)". */
static int post_and_report(const char *path, json_t *body, const char *what, const char *detail)
{
	json_t *answer;
	int ret = ctl_call("POST", path, body, &answer);
	json_decref(body);
	if (ret != 0)
		return ret;
	if (ctl_json_output())
		ctl_print_json(answer);
	else
		printf("%s %" JSON_INTEGER_FORMAT " registered (%s)\n", what,
		       ctl_json_int(answer, "id", 0), detail);
	json_decref(answer);
	return CTL_EXIT_OK;
}

int cmd_registerserver(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_OPT('n', "name", "NAME", "server (cluster) name; tandemd's [server] name",
	            CTL_REQUIRED),
	    CTL_END,
	};
	static const struct ctl_command cmd = {"registerserver", "-n NAME",
	                                       "Registers the server (cluster) name.", options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	const char *name = ctl_arg(&args, "name");
	json_t *body = json_pack("{s:s}", "name", name);
	return post_and_report("/admin/v1/servers", body, "server", name);
}

int cmd_registerfilestore(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_OPT('t', "storepath", "URI", "filestore URI, e.g. file:///var/opt/filestore",
	            CTL_REQUIRED),
	    CTL_NUM('s', "storesize", "MB", "size in MiB (server default 1000)", 0, 0, INT64_MAX),
	    CTL_NUM('x', "maxcontexts", "N", "most contexts placed here (server default 5000)", 0,
	            0, INT64_MAX),
	    CTL_END,
	};
	static const struct ctl_command cmd = {"registerfilestore",
	                                       "-t URI [-s SIZE_MB] [-x MAXCTX]",
	                                       "Registers a filestore for context data.", options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	const char *uri = ctl_arg(&args, "storepath");
	json_t *body = json_pack("{s:s}", "uri", uri);
	if (ctl_has(&args, "storesize"))
		json_object_set_new(
		    body, "size_mb",
		    json_integer((json_int_t)ctl_arg_number(&args, "storesize", 0)));
	if (ctl_has(&args, "maxcontexts"))
		json_object_set_new(
		    body, "max_contexts",
		    json_integer((json_int_t)ctl_arg_number(&args, "maxcontexts", 0)));
	return post_and_report("/admin/v1/filestores", body, "filestore", uri);
}

int cmd_registerdatabase(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_OPT('n', "name", "NAME", "database name, e.g. db1", CTL_REQUIRED),
	    CTL_OPT(0, "url", "URL", "database URL, e.g. mariadb://user:pw@host:3306/db1", 0),
	    CTL_OPT('H', "hostname", "HOST", "database host (instead of --url)", 0),
	    CTL_NUM(0, "port", "PORT", "database port with --hostname (default 3306)", 0, 1, 65535),
	    CTL_OPT('u', "dbuser", "USER", "database user with --hostname", 0),
	    CTL_OPT('p', "dbpasswd", "PW", "database password with --hostname", 0),
	    CTL_OPT(0, "dbname", "DB", "database (schema prefix) with --hostname (default NAME)",
	            0),
	    CTL_OPT('m', "master", "true|false", "true for a primary, false for a replica",
	            CTL_REQUIRED | CTL_BOOL),
	    CTL_NUM('M', "masterid", "ID", "the primary's id (replicas only)", 0, 1, INT64_MAX),
	    CTL_NUM('x', "max-units", "N", "most contexts placed here (server default 1000)", 0, 0,
	            INT64_MAX),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "registerdatabase",
	    "-n NAME -m true|false [--masterid ID] [--max-units N]\n"
	    "        (--url URL | --hostname H [--port P] --dbuser U --dbpasswd P [--dbname D])",
	    "Registers a user database. With --hostname the URL is built as\n"
	    "mariadb://USER:PW@HOST:PORT/DB (user and password percent-encoded).",
	    options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	static const char *const host_parts[] = {"hostname", "port", "dbuser", "dbpasswd",
	                                         "dbname"};
	bool primary = ctl_arg_number(&args, "master", 0) != 0;
	const char *name = ctl_arg(&args, "name");
	struct buf url;

	if (ctl_has(&args, "url")) {
		for (size_t i = 0; i < sizeof(host_parts) / sizeof(host_parts[0]); i++) {
			if (ctl_has(&args, host_parts[i]))
				return ctl_usage_error("--url and %s exclude each other",
				                       ctl_option_label(&args, host_parts[i]));
		}
	} else if (!ctl_has(&args, "hostname")) {
		return ctl_usage_error("missing required option --url or -H/--hostname");
	} else if (!ctl_has(&args, "dbuser")) {
		return ctl_usage_error("missing required option -u/--dbuser (with --hostname)");
	} else if (!ctl_has(&args, "dbpasswd")) {
		return ctl_usage_error("missing required option -p/--dbpasswd (with --hostname)");
	}
	if (!primary && !ctl_has(&args, "masterid"))
		return ctl_usage_error("missing required option -M/--masterid (with -m false)");
	if (primary && ctl_has(&args, "masterid"))
		return ctl_usage_error("-M/--masterid is only for replicas (-m false)");

	buf_init(&url, 8192);
	if (ctl_has(&args, "url")) {
		buf_append_str(&url, ctl_arg(&args, "url"));
	} else {
		const char *host = ctl_arg(&args, "hostname");
		const char *db = ctl_has(&args, "dbname") ? ctl_arg(&args, "dbname") : name;
		buf_append_lit(&url, "mariadb://");
		ctl_append_pct(&url, ctl_arg(&args, "dbuser"));
		buf_append_char(&url, ':');
		ctl_append_pct(&url, ctl_arg(&args, "dbpasswd"));
		buf_append_char(&url, '@');
		/* An IPv6 literal needs brackets to keep its colons apart from the port. */
		if (strchr(host, ':') != NULL && host[0] != '[')
			buf_printf(&url, "[%s]", host);
		else
			buf_append_str(&url, host);
		buf_printf(&url, ":%llu/", (unsigned long long)ctl_arg_number(&args, "port", 3306));
		ctl_append_pct(&url, db);
	}

	json_t *body =
	    json_pack("{s:s, s:s, s:b}", "name", name, "url", url.data, "primary", primary);
	buf_free(&url);
	json_object_set_new(
	    body, "master_id",
	    primary ? json_null() : json_integer((json_int_t)ctl_arg_number(&args, "masterid", 0)));
	if (ctl_has(&args, "max-units"))
		json_object_set_new(
		    body, "max_units",
		    json_integer((json_int_t)ctl_arg_number(&args, "max-units", 0)));
	char detail[300];
	snprintf(detail, sizeof(detail), "%s, %s", name, primary ? "primary" : "replica");
	return post_and_report("/admin/v1/databases", body, "database", detail);
}

int cmd_promotedatabase(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_OPT('n', "name", "NAME", "the primary's registered name, e.g. db1", CTL_REQUIRED),
	    CTL_OPT('r', "replica", "NAME", "the replica to promote (one of NAME's)", CTL_REQUIRED),
	    CTL_OPT(0, "force", NULL, "promote even if the replica is behind (loses the rest)", 0),
	    CTL_OPT('u', "dbuser", "USER",
	            "MariaDB user with SUPER for the switch (default: the registered ones)", 0),
	    CTL_OPT('p', "dbpasswd", "PW", "its password", 0),
	    CTL_NUM('w', "wait", "MS", "how long the replica may take to catch up (default 5000)",
	            0, 0, 600000),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "promotedatabase", "-n NAME -r REPLICA [--force] [-u USER -p PW] [-w MS]",
	    "Makes REPLICA the primary of database NAME, for when NAME's primary is dead or must\n"
	    "go. Refuses while the replica has not applied every transaction the old primary\n"
	    "(if it answers) or its own relay log has, unless --force. Then stops replication\n"
	    "on it, makes it writable, makes the old primary read-only if it answers, records\n"
	    "the replica as primary and the old one as fenced (never used again), and tells\n"
	    "every node: writes move without a restart.",
	    options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (ctl_has(&args, "dbpasswd") && !ctl_has(&args, "dbuser"))
		return ctl_usage_error("-p/--dbpasswd needs -u/--dbuser");

	json_t *body = json_pack("{s:s, s:s, s:b}", "name", ctl_arg(&args, "name"), "replica",
	                         ctl_arg(&args, "replica"), "force", ctl_has(&args, "force"));
	if (ctl_has(&args, "dbuser"))
		json_object_set_new(body, "dbuser", json_string(ctl_arg(&args, "dbuser")));
	if (ctl_has(&args, "dbpasswd"))
		json_object_set_new(body, "dbpasswd", json_string(ctl_arg(&args, "dbpasswd")));
	if (ctl_has(&args, "wait"))
		json_object_set_new(body, "wait_ms",
		                    json_integer((json_int_t)ctl_arg_number(&args, "wait", 0)));
	json_t *answer;
	ret = ctl_call("POST", "/admin/v1/databases/promote", body, &answer);
	json_decref(body);
	if (ret != 0)
		return ret;
	if (ctl_json_output()) {
		ctl_print_json(answer);
	} else {
		json_t *pos = json_object_get(answer, "positions");
		json_t *old = json_object_get(answer, "old_primary");
		const char *old_error = json_string_value(json_object_get(old, "error"));
		printf("database %s: %s is the primary now (applied %s, %" JSON_INTEGER_FORMAT
		       " behind %s)\n",
		       json_string_value(json_object_get(answer, "database")),
		       json_string_value(
		           json_object_get(json_object_get(answer, "new_primary"), "name")),
		       json_string_value(json_object_get(pos, "applied")),
		       ctl_json_int(pos, "behind", 0),
		       json_string_value(json_object_get(pos, "target_source")));
		printf("old primary %s: fenced, %s%s%s\n",
		       json_string_value(json_object_get(old, "name")),
		       json_is_true(json_object_get(old, "read_only"))   ? "read-only"
		       : json_is_true(json_object_get(old, "reachable")) ? "NOT read-only"
		                                                         : "unreachable",
		       old_error != NULL && old_error[0] != '\0' ? ": " : "",
		       old_error != NULL ? old_error : "");
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}
