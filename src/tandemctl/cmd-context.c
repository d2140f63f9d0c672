/* SPDX-License-Identifier: MIT */
/* Context verbs: createcontext, changecontext, disablecontext, enablecontext, deletecontext. */
#include <string.h>

#include "ctl.h"
#include "provision.h"

#define CID_OPTION                                                                                 \
	CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1, CTL_MAX_CID)
#define QUOTA_OPTION(flags)                                                                        \
	CTL_NUM('q', "quota", "MB", "quota in MiB (0 = unlimited)", flags, 0, PROV_QUOTA_MB_MAX)

/* Prints the answer for --json or "context N <done>"; takes the answer. */
static int report(json_t *answer, uint64_t cid, const char *done)
{
	if (ctl_json_output())
		ctl_print_json(answer);
	else
		printf("context %llu %s\n", (unsigned long long)cid, done);
	json_decref(answer);
	return CTL_EXIT_OK;
}

static void context_path(char *path, size_t size, uint64_t cid, const char *suffix)
{
	snprintf(path, size, "/admin/v1/contexts/%llu%s", (unsigned long long)cid, suffix);
}

int cmd_createcontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    QUOTA_OPTION(CTL_REQUIRED),
	    CTL_OPT('N', "contextname", "NAME", "context name (default: the id)", 0),
	    CTL_OPT('L', "addmapping", "MAPS", "login mappings, comma-separated", 0),
	    CTL_OPT('u', "username", "LOGIN", "the context admin's login", CTL_REQUIRED),
	    CTL_OPT('d', "displayname", "NAME", "the admin's display name", CTL_REQUIRED),
	    CTL_OPT('g', "givenname", "NAME", "the admin's given name", CTL_REQUIRED),
	    CTL_OPT('s', "surname", "NAME", "the admin's surname", CTL_REQUIRED),
	    CTL_OPT('p', "password", "PW", "the admin's password", CTL_REQUIRED),
	    CTL_OPT('e', "email", "MAIL", "the admin's primary email address", CTL_REQUIRED),
	    CTL_ACCESS_OPTION("the modules of the context's users unless they have their own "
	                      "(default: all)"),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "createcontext",
	    "-c CID -q QUOTA_MB [-N NAME] [-L map1,map2]\n"
	    "        -u ADMIN -d DISPLAY -g GIVEN -s SUR -p PW -e MAIL [--access-combination-name "
	    "NAME]",
	    "Creates a context on the least-used database and filestore, with its admin user.",
	    options};
	struct ctl_args args;
	json_t *mappings = NULL, *answer;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (ctl_has(&args, "addmapping") &&
	    (ret = ctl_parse_list(&args, "addmapping", "mapping", &mappings)) != 0)
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	json_t *body = json_pack("{s:I}", "id", (json_int_t)cid);
	if (ctl_has(&args, "contextname"))
		json_object_set_new(body, "name", json_string(ctl_arg(&args, "contextname")));
	json_object_set_new(body, "quota_mb",
	                    json_integer((json_int_t)ctl_arg_number(&args, "quota", 0)));
	if (mappings != NULL)
		json_object_set_new(body, "mappings", mappings);
	ctl_set_access(&args, body);
	json_object_set_new(
	    body, "admin",
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "login", ctl_arg(&args, "username"),
	              "display_name", ctl_arg(&args, "displayname"), "given_name",
	              ctl_arg(&args, "givenname"), "sur_name", ctl_arg(&args, "surname"),
	              "password", ctl_arg(&args, "password"), "email", ctl_arg(&args, "email")));
	ret = ctl_call("POST", "/admin/v1/contexts", body, &answer);
	json_decref(body);
	if (ret != 0)
		return ret;
	if (ctl_json_output()) {
		ctl_print_json(answer);
	} else {
		struct buf fs;
		buf_init(&fs, 1024);
		printf("context %llu created (schema %s, filestore %s)\n", (unsigned long long)cid,
		       ctl_json_str(answer, "schema", "-"),
		       ctl_json_text(&fs, json_object_get(answer, "filestore_id")));
		buf_free(&fs);
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}

int cmd_changecontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    CTL_OPT('N', "contextname", "NAME", "new context name", 0),
	    QUOTA_OPTION(0),
	    CTL_OPT('L', "addmapping", "MAPS",
	            "login mappings, comma-separated; replaces the list (the id stays a mapping)",
	            0),
	    CTL_ACCESS_OPTION("the default modules of its users (\"\" = all); ends every "
	                      "session of the context"),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "changecontext", "-c CID [-N NAME] [-q MB] [-L maps] [--access-combination-name NAME]",
	    "Changes a context's name, quota, login mappings or default access combination.",
	    options};
	struct ctl_args args;
	json_t *mappings = NULL, *answer;
	char path[96];
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (!ctl_has(&args, "contextname") && !ctl_has(&args, "quota") &&
	    !ctl_has(&args, "addmapping") && !ctl_has(&args, "access-combination-name"))
		return ctl_usage_error(
		    "nothing to change: give -N, -q, -L or --access-combination-name");
	if (ctl_has(&args, "addmapping") &&
	    (ret = ctl_parse_list(&args, "addmapping", "mapping", &mappings)) != 0)
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	json_t *body = json_object();
	if (ctl_has(&args, "contextname"))
		json_object_set_new(body, "name", json_string(ctl_arg(&args, "contextname")));
	if (ctl_has(&args, "quota"))
		json_object_set_new(body, "quota_mb",
		                    json_integer((json_int_t)ctl_arg_number(&args, "quota", 0)));
	if (mappings != NULL)
		json_object_set_new(body, "mappings", mappings);
	ctl_set_access(&args, body);
	context_path(path, sizeof(path), cid, "");
	ret = ctl_call("PATCH", path, body, &answer);
	json_decref(body);
	return ret != 0 ? ret : report(answer, cid, "changed");
}

int cmd_disablecontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    CTL_OPT('r', "reason", "TEXT", "why (shown to administrators)", 0),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "disablecontext", "-c CID [--reason TEXT]",
	    "Disables a context: its users can no longer log in; data is kept.", options};
	struct ctl_args args;
	json_t *answer;
	char path[96];
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	json_t *body = json_object();
	if (ctl_has(&args, "reason"))
		json_object_set_new(body, "reason", json_string(ctl_arg(&args, "reason")));
	context_path(path, sizeof(path), cid, "/disable");
	ret = ctl_call("POST", path, body, &answer);
	json_decref(body);
	return ret != 0 ? ret : report(answer, cid, "disabled");
}

int cmd_enablecontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {CID_OPTION, CTL_END};
	static const struct ctl_command cmd = {"enablecontext", "-c CID",
	                                       "Enables a disabled context.", options};
	struct ctl_args args;
	json_t *answer;
	char path[96];
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	context_path(path, sizeof(path), cid, "/enable");
	ret = ctl_call("POST", path, NULL, &answer);
	return ret != 0 ? ret : report(answer, cid, "enabled");
}

int cmd_deletecontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {CID_OPTION, CTL_END};
	static const struct ctl_command cmd = {
	    "deletecontext", "-c CID",
	    "Deletes a context with its users, their data and its filestore directory.", options};
	struct ctl_args args;
	json_t *answer;
	char path[96];
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	context_path(path, sizeof(path), cid, "");
	if ((ret = ctl_call("DELETE", path, NULL, &answer)) != 0)
		return ret;
	/* The answer is 204 without a body: --json prints nothing. */
	if (answer != NULL && ctl_json_output())
		ctl_print_json(answer);
	else if (!ctl_json_output())
		printf("context %llu deleted\n", (unsigned long long)cid);
	json_decref(answer);
	return CTL_EXIT_OK;
}
