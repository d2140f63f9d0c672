/* SPDX-License-Identifier: MIT */
/* checkconsistency: compares contexts' file rows with their filestore and optionally repairs. */
#include <string.h>

#include "ctl.h"

/* One finding: "  <kind>  <what>[  <outcome>]". */
static void finding(const char *kind, const char *what, const char *outcome)
{
	printf("  %-14s %s%s%s\n", kind, what, outcome != NULL ? "  " : "",
	       outcome != NULL ? outcome : "");
}

/* A wrong total of the usage row: "recorded N <unit>, <actual_what> M <unit>". */
static void total_finding(struct buf *b, const json_t *total, const char *kind, const char *unit,
                          const char *actual_what, bool repair)
{
	if (total == NULL || json_is_true(json_object_get(total, "ok")))
		return;
	buf_reset(b);
	const json_t *recorded = json_object_get(total, "recorded");
	if (json_is_integer(recorded))
		buf_printf(b, "recorded %" JSON_INTEGER_FORMAT " %s, ",
		           json_integer_value(recorded), unit);
	else
		buf_append_str(b, "no usage row, ");
	buf_printf(b, "%s %" JSON_INTEGER_FORMAT " %s", actual_what,
	           ctl_json_int(total, "actual", 0), unit);
	finding(kind, b->data, repair ? "(fixed)" : NULL);
}

/* Prints one context's report; returns the problems left unrepaired. */
static json_int_t print_report(const json_t *report, bool repair)
{
	json_int_t cid = ctl_json_int(report, "cid", 0);
	json_int_t problems = ctl_json_int(report, "problems", 0);
	json_int_t left = problems - ctl_json_int(report, "repaired", 0);
	const char *removed = repair ? "(removed)" : NULL;
	const json_t *item;
	struct buf b;
	size_t i;

	if (problems == 0)
		printf("context %" JSON_INTEGER_FORMAT ": consistent\n", cid);
	else if (repair)
		printf("context %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
		       " problems, %" JSON_INTEGER_FORMAT " left\n",
		       cid, problems, left);
	else
		printf("context %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT " problems\n", cid,
		       problems);
	buf_init(&b, 4096);
	json_array_foreach(json_object_get(report, "orphan_files"), i, item)
	    finding("orphan file", json_string_value(item), removed);
	json_array_foreach(json_object_get(report, "stale_temp_files"), i, item)
	    finding("stale temp", json_string_value(item), removed);
	json_array_foreach(json_object_get(report, "missing_files"), i, item)
	{
		buf_reset(&b);
		buf_printf(&b,
		           "file %" JSON_INTEGER_FORMAT " version %" JSON_INTEGER_FORMAT
		           " (%s, %" JSON_INTEGER_FORMAT " bytes)",
		           ctl_json_int(item, "file", 0), ctl_json_int(item, "version", 0),
		           ctl_json_str(item, "location", "-"), ctl_json_int(item, "size", 0));
		finding("missing file", b.data, repair ? "(row dropped)" : NULL);
	}
	json_array_foreach(json_object_get(report, "unknown_entries"), i, item)
	    finding("unknown entry", json_string_value(item), "(left alone)");
	total_finding(&b, json_object_get(report, "usage"), "usage", "bytes", "files hold", repair);
	total_finding(&b, json_object_get(report, "objects"), "objects", "objects", "there are",
	              repair);
	json_array_foreach(json_object_get(report, "expired_holds"), i, item)
	{
		buf_reset(&b);
		buf_printf(&b, "%s (%" JSON_INTEGER_FORMAT " bytes)", ctl_json_str(item, "id", "-"),
		           ctl_json_int(item, "bytes", 0));
		finding("expired hold", b.data, removed);
	}
	json_array_foreach(json_object_get(report, "in_progress"), i, item)
	    finding("in progress", json_string_value(item), "(an upload holds it; skipped)");
	buf_free(&b);
	return left;
}

/* The ids of every context, from the admin API. */
static int all_contexts(json_t **ids_r)
{
	json_t *answer, *item;
	size_t i;
	if (ctl_call("GET", "/admin/v1/contexts", NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	json_t *list = json_object_get(answer, "contexts");
	if (!json_is_array(list)) {
		json_decref(answer);
		return ctl_error("unexpected answer: no \"contexts\" list");
	}
	json_t *ids = json_array();
	json_array_foreach(list, i, item)
	    json_array_append_new(ids, json_integer(ctl_json_int(item, "id", 0)));
	json_decref(answer);
	*ids_r = ids;
	return CTL_EXIT_OK;
}

int cmd_checkconsistency(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_NUM('c', "contextid", "CID", "only this context (default: every context)", 0, 1,
	            CTL_MAX_CID),
	    CTL_OPT(0, "repair", NULL,
	            "remove orphan and stale temp files, drop rows whose file is missing and "
	            "expired holds, fix usage and object totals",
	            0),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "checkconsistency", "[-c CID] [--repair]",
	    "Compares the file rows of contexts with their filestore: files no row refers to,\n"
	    "temp files of crashed uploads, rows whose file is missing, stray entries, the\n"
	    "usage and object totals, and expired quota holds of crashed nodes. Lists what it\n"
	    "finds; --repair also fixes it (stray entries are only listed). Uploads in\n"
	    "progress are left alone. Needs the master admin.\n"
	    "Exit status 0 when nothing is left to fix, 1 when problems remain or a call failed.",
	    options};
	struct ctl_args args;
	json_t *ids = NULL, *item;
	int ret;
	size_t i;

	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	bool repair = ctl_has(&args, "repair");
	ctl_default_timeout(600);
	if (ctl_has(&args, "contextid")) {
		ids = json_pack("[I]", (json_int_t)ctl_arg_number(&args, "contextid", 0));
	} else if ((ret = all_contexts(&ids)) != CTL_EXIT_OK) {
		return ret;
	}

	json_t *reports = json_array();
	json_int_t left = 0;
	ret = CTL_EXIT_OK;
	json_array_foreach(ids, i, item)
	{
		char path[96];
		json_t *report;
		snprintf(path, sizeof(path), "/admin/v1/consistency?cid=%" JSON_INTEGER_FORMAT "%s",
		         json_integer_value(item), repair ? "&repair=1" : "");
		if (ctl_call(repair ? "POST" : "GET", path, NULL, &report) != 0) {
			ret = CTL_EXIT_FAIL;
			continue;
		}
		if (!ctl_json_output())
			left += print_report(report, repair);
		else
			left += ctl_json_int(report, "problems", 0) -
			        ctl_json_int(report, "repaired", 0);
		json_array_append_new(reports, report);
	}
	if (ctl_json_output()) {
		json_t *out = json_pack("{s:O}", "contexts", reports);
		ctl_print_json(out);
		json_decref(out);
	}
	json_decref(reports);
	json_decref(ids);
	return ret == CTL_EXIT_OK && left == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
