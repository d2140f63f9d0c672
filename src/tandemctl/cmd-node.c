/* SPDX-License-Identifier: MIT */
/* Node verbs: nodestatus shows the node at --url, drainnode takes it out of service. */
#include <stdio.h>

#include "ctl.h"

static const struct ctl_option no_options[] = {CTL_END};

/* "3d 4h 5m 6s", leading zero units left out. */
static void format_uptime(json_int_t ms, char *out, size_t size)
{
	long long s = ms / 1000;
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
	if (d > 0)
		snprintf(out, size, "%lldd %lldh %lldm %llds", d, h, m, s % 60);
	else if (h > 0)
		snprintf(out, size, "%lldh %lldm %llds", h, m, s % 60);
	else if (m > 0)
		snprintf(out, size, "%lldm %llds", m, s % 60);
	else
		snprintf(out, size, "%llds", s);
}

int cmd_nodestatus(int argc, char **argv)
{
	static const struct ctl_command cmd = {
	    "nodestatus", "",
	    "Shows the node at --url: route, state (ready or draining), version, start time and\n"
	    "uptime, open connections and its drain settings. --url must be the node's own URL:\n"
	    "tandem-lb refuses node verbs (LB-0421) and names its members' URLs. Needs the\n"
	    "master admin.",
	    no_options};
	struct ctl_args args;
	json_t *answer;
	int ret;

	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (ctl_call("GET", "/admin/v1/node", NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	if (ctl_json_output()) {
		ctl_print_json(answer);
		json_decref(answer);
		return CTL_EXIT_OK;
	}
	char uptime[64];
	format_uptime(ctl_json_int(answer, "uptime_ms", 0), uptime, sizeof(uptime));
	printf("%-13s %s\n", "route", ctl_json_str(answer, "route", "-"));
	printf("%-13s %s\n", "name", ctl_json_str(answer, "name", "-"));
	printf("%-13s %s\n", "cluster", ctl_json_str(answer, "cluster", "-"));
	const char *since = ctl_json_str(answer, "draining_since", NULL);
	if (since != NULL)
		printf("%-13s %s (since %s)\n", "state", ctl_json_str(answer, "state", "-"), since);
	else
		printf("%-13s %s\n", "state", ctl_json_str(answer, "state", "-"));
	printf("%-13s %s\n", "version", ctl_json_str(answer, "version", "-"));
	printf("%-13s %s (up %s)\n", "started", ctl_json_str(answer, "started", "-"), uptime);
	printf("%-13s %" JSON_INTEGER_FORMAT " open; %" JSON_INTEGER_FORMAT
	       " requests since start\n",
	       "connections", ctl_json_int(answer, "connections_open", 0),
	       ctl_json_int(answer, "requests", 0));
	printf("%-13s grace %" JSON_INTEGER_FORMAT " ms, timeout %" JSON_INTEGER_FORMAT " ms\n",
	       "drain", ctl_json_int(answer, "drain_grace_ms", 0),
	       ctl_json_int(answer, "drain_timeout_ms", 0));
	json_decref(answer);
	return CTL_EXIT_OK;
}

int cmd_drainnode(int argc, char **argv)
{
	static const struct ctl_command cmd = {
	    "drainnode", "",
	    "Drains the node at --url, as SIGTERM does: /health answers 503 \"draining\" and new\n"
	    "logins are refused while existing sessions keep working for [server] drain_grace;\n"
	    "then the node stops listening, finishes in-flight requests (up to drain_timeout)\n"
	    "and exits 0. Returns at once; asking a draining node again changes nothing.\n"
	    "--url must be the node's own URL: tandem-lb refuses node verbs (LB-0421) and names\n"
	    "its members' URLs. Needs the master admin.",
	    no_options};
	struct ctl_args args;
	json_t *answer;
	int ret;

	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (ctl_call("POST", "/admin/v1/drain", NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	if (ctl_json_output())
		ctl_print_json(answer);
	else
		printf("node %s is draining: serving %" JSON_INTEGER_FORMAT
		       " ms more, then finishing in-flight requests (up to %" JSON_INTEGER_FORMAT
		       " ms) and exiting\n",
		       ctl_json_str(answer, "route", "-"), ctl_json_int(answer, "grace_ms", 0),
		       ctl_json_int(answer, "timeout_ms", 0));
	json_decref(answer);
	return CTL_EXIT_OK;
}
