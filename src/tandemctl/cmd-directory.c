/* SPDX-License-Identifier: MIT */
/* The context directory's verbs: creategroup, changegroup, deletegroup, createresource,
   changeresource, deleteresource (listgroup and listresource are in cmd-list.c). */
#include <string.h>

#include "ctl.h"

#define CID_OPTION                                                                                 \
	CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1, CTL_MAX_CID)
#define ID_OPTION(what) CTL_NUM('i', "id", "ID", "the " what "'s id", 0, 1, INT64_MAX)
#define NAME_OPTION(what, flags)                                                                   \
	CTL_OPT('n', "name", "NAME",                                                               \
	        "the " what "'s name (letters, digits, '.', '_', '-'; instead of -i to name it)",  \
	        flags)
#define NEWNAME_OPTION CTL_OPT(0, "newname", "NAME", "rename to NAME", 0)

/* One kind of directory entry: "group" lives at …/groups under the key "groups". */
struct kind {
	const char *what, *plural;
};
static const struct kind group_kind = {"group", "groups"};
static const struct kind resource_kind = {"resource", "resources"};

static void entry_path(char *path, size_t size, const struct kind *k, uint64_t cid, int64_t id)
{
	if (id < 0)
		snprintf(path, size, "/admin/v1/contexts/%llu/%s", (unsigned long long)cid,
		         k->plural);
	else
		snprintf(path, size, "/admin/v1/contexts/%llu/%s/%lld", (unsigned long long)cid,
		         k->plural, (long long)id);
}

/* The id from -i, or -n looked up in the context's list (exactly one of them). */
static int target(const struct ctl_args *args, const struct kind *k, uint64_t cid, int64_t *id_r)
{
	bool by_id = ctl_has(args, "id"), by_name = ctl_has(args, "name");
	if (by_id && by_name)
		return ctl_usage_error("-i/--id and -n/--name exclude each other");
	if (!by_id && !by_name)
		return ctl_usage_error("missing required option -i/--id or -n/--name");
	if (by_id) {
		*id_r = (int64_t)ctl_arg_number(args, "id", 0);
		return 0;
	}
	char path[96];
	json_t *answer, *item;
	size_t i;
	const char *name = ctl_arg(args, "name");
	entry_path(path, sizeof(path), k, cid, -1);
	if (ctl_call("GET", path, NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	int ret = CTL_EXIT_FAIL;
	json_array_foreach(json_object_get(answer, k->plural), i, item)
	{
		if (strcmp(ctl_json_str(item, "name", ""), name) == 0) {
			*id_r = ctl_json_int(item, "id", 0);
			ret = 0;
			break;
		}
	}
	if (ret != 0)
		ctl_error("no %s named '%s' in context %llu", k->what, name,
		          (unsigned long long)cid);
	json_decref(answer);
	return ret;
}

/* Sends body (taken) and prints the answer for --json or "<what> N <done>". */
static int send(const char *method, const struct kind *k, uint64_t cid, int64_t id, json_t *body,
                const char *done)
{
	char path[128];
	json_t *answer = NULL;
	entry_path(path, sizeof(path), k, cid, id);
	int ret = ctl_call(method, path, body, &answer);
	json_decref(body);
	if (ret != 0)
		return ret;
	if (ctl_json_output() && answer != NULL)
		ctl_print_json(answer);
	else if (!ctl_json_output())
		printf("%s %lld %s context %llu\n", k->what,
		       (long long)(id > 0 ? id : ctl_json_int(answer, "id", 0)), done,
		       (unsigned long long)cid);
	json_decref(answer);
	return CTL_EXIT_OK;
}

/* PATCHes body (taken) to the entry -i or -n names, unless ret is already an error. */
static int send_change(const struct ctl_args *args, const struct kind *k, uint64_t cid,
                       json_t *body, int ret)
{
	int64_t id;
	if (ret == 0)
		ret = target(args, k, cid, &id);
	if (ret != 0) {
		json_decref(body);
		return ret;
	}
	return send("PATCH", k, cid, id, body, "changed in");
}

/* Copies the options given into body as strings (option long name, JSON field). */
static void set_strings(const struct ctl_args *args, json_t *body, const char *const (*map)[2],
                        size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ctl_has(args, map[i][0]))
			json_object_set_new(body, map[i][1], json_string(ctl_arg(args, map[i][0])));
	}
}

/* -a/-r LOGINS into body's field; 0 or a usage error. */
static int set_members(const struct ctl_args *args, json_t *body, const char *option,
                       const char *field)
{
	json_t *list;
	int ret;
	if (!ctl_has(args, option))
		return 0;
	if ((ret = ctl_parse_list(args, option, "member", &list)) != 0)
		return ret;
	json_object_set_new(body, field, list);
	return 0;
}

#define MEMBERS_OPTIONS                                                                            \
	CTL_OPT('a', "addmembers", "LOGINS", "members to add, logins comma-separated", 0),         \
	    CTL_OPT('r', "removemembers", "LOGINS", "members to remove, logins comma-separated",   \
	            0)

int cmd_creategroup(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    NAME_OPTION("group", CTL_REQUIRED),
	    CTL_OPT('d', "displayname", "NAME", "display name (default: the name)", 0),
	    CTL_OPT('a', "addmembers", "LOGINS", "members, logins comma-separated", 0),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "creategroup", "-c CID -n NAME [-d DISPLAY] [-a LOGIN,LOGIN…]",
	    "Creates a group. -A may be the master admin or the context admin.", options};
	static const char *const map[][2] = {{"name", "name"}, {"displayname", "display_name"}};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	json_t *body = json_object();
	set_strings(&args, body, map, 2);
	if ((ret = set_members(&args, body, "addmembers", "members")) != 0) {
		json_decref(body);
		return ret;
	}
	return send("POST", &group_kind, ctl_arg_number(&args, "contextid", 0), -1, body,
	            "created in");
}

int cmd_changegroup(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    ID_OPTION("group"),
	    NAME_OPTION("group", 0),
	    NEWNAME_OPTION,
	    CTL_OPT('d', "displayname", "NAME", "new display name", 0),
	    MEMBERS_OPTIONS,
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "changegroup",
	    "-c CID (-i ID | -n NAME) [--newname NAME] [-d DISPLAY] [-a LOGINS] [-r LOGINS]",
	    "Changes a group: renames it, adds (-a) or removes (-r) members. -A may be the master "
	    "admin or the context admin.",
	    options};
	static const char *const map[][2] = {{"newname", "name"}, {"displayname", "display_name"}};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	json_t *body = json_object();
	set_strings(&args, body, map, 2);
	if ((ret = set_members(&args, body, "addmembers", "add_members")) == 0 &&
	    (ret = set_members(&args, body, "removemembers", "remove_members")) == 0 &&
	    json_object_size(body) == 0)
		ret = ctl_usage_error("nothing to change: give --newname, -d, -a or -r");
	return send_change(&args, &group_kind, cid, body, ret);
}

static int delete_entry(const struct kind *k, int argc, char **argv)
{
	const struct ctl_option options[] = {
	    CID_OPTION,
	    {'i', "id", "ID", k == &group_kind ? "the group's id" : "the resource's id", CTL_NUMBER,
	     1, INT64_MAX},
	    {'n', "name", "NAME", "its name (instead of -i)", 0, 0, 0},
	    CTL_END,
	};
	const struct ctl_command cmd = {
	    k == &group_kind ? "deletegroup" : "deleteresource", "-c CID (-i ID | -n NAME)",
	    k == &group_kind
	        ? "Deletes a group; refused while a folder permission names it (remove the group "
	          "from those folders first)."
	        : "Deletes a resource.",
	    options};
	struct ctl_args args;
	int64_t id;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	if ((ret = target(&args, k, cid, &id)) != 0)
		return ret;
	return send("DELETE", k, cid, id, NULL, "deleted from");
}

int cmd_deletegroup(int argc, char **argv)
{
	return delete_entry(&group_kind, argc, argv);
}

#define RESOURCE_FIELDS(req)                                                                       \
	CTL_OPT('d', "displayname", "NAME", "display name", req),                                  \
	    CTL_OPT('e', "email", "MAIL", "the resource's e-mail address", req),                   \
	    CTL_OPT('D', "description", "TEXT", "description (at most 1024 characters)", 0),       \
	    CTL_OPT(0, "available", "BOOL", "true|false: whether it can be booked", CTL_BOOL)

static const char *const resource_map[][2] = {{"newname", "name"},
                                              {"name", "name"},
                                              {"displayname", "display_name"},
                                              {"email", "email"},
                                              {"description", "description"}};

static void set_available(const struct ctl_args *args, json_t *body)
{
	if (ctl_has(args, "available"))
		json_object_set_new(body, "available",
		                    json_boolean(ctl_arg_number(args, "available", 1) != 0));
}

int cmd_createresource(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    NAME_OPTION("resource", CTL_REQUIRED),
	    RESOURCE_FIELDS(CTL_REQUIRED),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "createresource",
	    "-c CID -n NAME -d DISPLAY -e MAIL [-D DESCRIPTION] [--available true|false]",
	    "Creates a resource (a room, equipment) the calendar can book. -A may be the master "
	    "admin or the context admin.",
	    options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	json_t *body = json_object();
	set_strings(&args, body, resource_map + 1, 4);
	set_available(&args, body);
	return send("POST", &resource_kind, ctl_arg_number(&args, "contextid", 0), -1, body,
	            "created in");
}

int cmd_changeresource(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,     ID_OPTION("resource"), NAME_OPTION("resource", 0),
	    NEWNAME_OPTION, RESOURCE_FIELDS(0),    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "changeresource",
	    "-c CID (-i ID | -n NAME) [--newname NAME] [-d DISPLAY] [-e MAIL] [-D DESCRIPTION]\n"
	    "        [--available true|false]",
	    "Changes a resource. -A may be the master admin or the context admin.", options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	json_t *body = json_object();
	set_strings(&args, body, resource_map, 1);
	set_strings(&args, body, resource_map + 2, 3);
	set_available(&args, body);
	if (json_object_size(body) == 0)
		ret =
		    ctl_usage_error("nothing to change: give --newname, -d, -e, -D or --available");
	return send_change(&args, &resource_kind, cid, body, ret);
}

int cmd_deleteresource(int argc, char **argv)
{
	return delete_entry(&resource_kind, argc, argv);
}
