/* SPDX-License-Identifier: MIT */
/* Listing verbs: listserver, listfilestore, listdatabase, listcontext, listuser, listgroup,
   listresource. */
#include <string.h>

#include "ctl.h"

/* A column: its title and how to render a list element's member. */
struct column {
	const char *title;
	const char *key;
	void (*render)(struct buf *b, const json_t *item, const char *key); /* NULL = plain */
};

static void render_quota(struct buf *b, const json_t *item, const char *key)
{
	json_t *v = json_object_get(item, key);
	if (!json_is_integer(v))
		buf_append_lit(b, "-");
	else if (json_integer_value(v) == 0)
		buf_append_lit(b, "unlimited");
	else
		buf_printf(b, "%" JSON_INTEGER_FORMAT " MB", json_integer_value(v));
}

/* GETs path and prints the array under list_key as a table, or the answer for --json. */
static int list(const char *path, const char *list_key, const struct column *cols, size_t ncols)
{
	const char *titles[16];
	struct ctl_table table;
	json_t *answer, *item;
	struct buf text;
	size_t i;

	if (ctl_call("GET", path, NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	if (ctl_json_output()) {
		ctl_print_json(answer);
		json_decref(answer);
		return CTL_EXIT_OK;
	}
	json_t *items = json_object_get(answer, list_key);
	if (!json_is_array(items)) {
		json_decref(answer);
		return ctl_error("unexpected answer: no \"%s\" list", list_key);
	}
	for (i = 0; i < ncols; i++)
		titles[i] = cols[i].title;
	ctl_table_init(&table, titles, ncols);
	buf_init(&text, 1024 * 1024);
	json_array_foreach(items, i, item)
	{
		for (size_t c = 0; c < ncols; c++) {
			if (cols[c].render != NULL) {
				buf_reset(&text);
				cols[c].render(&text, item, cols[c].key);
				ctl_table_add(&table, text.data);
			} else {
				ctl_table_add_json(&table, item, cols[c].key);
			}
		}
	}
	buf_free(&text);
	ctl_table_print(&table, stdout);
	json_decref(answer);
	return CTL_EXIT_OK;
}

static const struct ctl_option no_options[] = {CTL_END};

int cmd_listserver(int argc, char **argv)
{
	static const struct column cols[] = {{"id", "id", NULL}, {"name", "name", NULL}};
	static const struct ctl_command cmd = {
	    "listserver", "", "Lists the registered servers (clusters).", no_options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	return list("/admin/v1/servers", "servers", cols, sizeof(cols) / sizeof(cols[0]));
}

int cmd_listfilestore(int argc, char **argv)
{
	static const struct column cols[] = {
	    {"id", "id", NULL},
	    {"uri", "uri", NULL},
	    {"size_mb", "size_mb", NULL},
	    {"max_contexts", "max_contexts", NULL},
	    {"contexts", "contexts", NULL},
	};
	static const struct ctl_command cmd = {
	    "listfilestore", "", "Lists the filestores with their size and use.", no_options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	return list("/admin/v1/filestores", "filestores", cols, sizeof(cols) / sizeof(cols[0]));
}

int cmd_listdatabase(int argc, char **argv)
{
	static const struct column cols[] = {
	    {"id", "id", NULL},
	    {"name", "name", NULL},
	    {"url", "url", NULL},
	    {"role", "role", NULL},
	    {"master_id", "master_id", NULL},
	    {"max_units", "max_units", NULL},
	    {"contexts", "contexts", NULL},
	};
	static const struct ctl_command cmd = {
	    "listdatabase", "", "Lists the user databases (passwords masked by the server).",
	    no_options};
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	return list("/admin/v1/databases", "databases", cols, sizeof(cols) / sizeof(cols[0]));
}

int cmd_listcontext(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_OPT('s', "searchpattern", "TEXT", "only contexts whose name contains TEXT", 0),
	    CTL_END,
	};
	static const struct ctl_command cmd = {"listcontext", "[-s SEARCH]", "Lists contexts.",
	                                       options};
	static const struct column cols[] = {
	    {"id", "id", NULL},
	    {"name", "name", NULL},
	    {"enabled", "enabled", NULL},
	    {"quota", "quota_mb", render_quota},
	    {"users", "users", NULL},
	    {"schema", "schema", NULL},
	    {"filestore", "filestore_id", NULL},
	    {"mappings", "mappings", NULL},
	};
	struct ctl_args args;
	struct buf path;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	buf_init(&path, 4096);
	buf_append_lit(&path, "/admin/v1/contexts");
	if (ctl_has(&args, "searchpattern")) {
		buf_append_lit(&path, "?search=");
		ctl_append_pct(&path, ctl_arg(&args, "searchpattern"));
	}
	if (buf_overflowed(&path))
		ret = ctl_usage_error("-s/--searchpattern: too long");
	else
		ret = list(path.data, "contexts", cols, sizeof(cols) / sizeof(cols[0]));
	buf_free(&path);
	return ret;
}

/* The list verbs of a context's users, groups, resources: GET …/contexts/CID/<what>. */
static int list_in_context(int argc, char **argv, const char *what, const char *description,
                           const struct column *cols, size_t ncols)
{
	static const struct ctl_option options[] = {
	    CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1,
	            CTL_MAX_CID),
	    CTL_END,
	};
	const struct ctl_command cmd = {argv[0], "-c CID", description, options};
	struct ctl_args args;
	char path[96];
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	snprintf(path, sizeof(path), "/admin/v1/contexts/%llu/%s",
	         (unsigned long long)ctl_arg_number(&args, "contextid", 0), what);
	return list(path, what, cols, ncols);
}

int cmd_listuser(int argc, char **argv)
{
	static const struct column cols[] = {
	    {"id", "id", NULL},
	    {"login", "login", NULL},
	    {"display_name", "display_name", NULL},
	    {"email", "email", NULL},
	    {"enabled", "enabled", NULL},
	    {"admin", "is_admin", NULL},
	    {"access", "access_combination", NULL},
	    {"imap_login", "imap_login", NULL},
	    {"imap_server", "imap_server", NULL},
	    {"smtp_server", "smtp_server", NULL},
	};
	return list_in_context(
	    argc, argv, "users",
	    "Lists the users of a context. -A may be the master admin or the context admin.", cols,
	    sizeof(cols) / sizeof(cols[0]));
}

static void render_members(struct buf *b, const json_t *item, const char *key)
{
	const json_t *m;
	size_t i;
	json_array_foreach(json_object_get(item, key), i, m)
	{
		if (i > 0)
			buf_append_lit(b, ",");
		buf_append_str(b, ctl_json_str(m, "login", "?"));
	}
	if (i == 0)
		buf_append_lit(b, "-");
}

int cmd_listgroup(int argc, char **argv)
{
	static const struct column cols[] = {
	    {"id", "id", NULL},
	    {"name", "name", NULL},
	    {"display_name", "display_name", NULL},
	    {"members", "members", render_members},
	};
	return list_in_context(argc, argv, "groups",
	                       "Lists the groups of a context with their members' logins. -A may "
	                       "be the master admin or the context admin.",
	                       cols, sizeof(cols) / sizeof(cols[0]));
}

int cmd_listresource(int argc, char **argv)
{
	static const struct column cols[] = {
	    {"id", "id", NULL},
	    {"name", "name", NULL},
	    {"display_name", "display_name", NULL},
	    {"email", "email", NULL},
	    {"available", "available", NULL},
	    {"description", "description", NULL},
	};
	return list_in_context(argc, argv, "resources",
	                       "Lists the resources of a context. -A may be the master admin or "
	                       "the context admin.",
	                       cols, sizeof(cols) / sizeof(cols[0]));
}
