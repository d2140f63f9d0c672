/* SPDX-License-Identifier: MIT */
/* importcontacts and importcalendar: a .vcf or .ics file into a user's folder, in batches
   through the admin API's user import (the JSON API's folder import, as that user), with
   progress on stderr and a result per object. */
#include <string.h>

#include "cal-json.h"
#include "ctl.h"
#include "pool.h"
#include "vcard.h"

#define OBJECTS_MAX (1000 * 1000) /* objects of one file */

struct objects {
	struct pool *pool;
	const char **text;
	size_t *len;
	size_t count, room;
};

static void add_object(void *ctx, const char *text, size_t len, const char *uid)
{
	struct objects *o = ctx;
	(void)uid;
	if (o->count == o->room) {
		o->room = o->room == 0 ? 256 : o->room * 2;
		const char **t = pool_alloc(o->pool, o->room * sizeof(*t));
		size_t *l = pool_alloc(o->pool, o->room * sizeof(*l));
		if (o->count > 0) {
			memcpy(t, o->text, o->count * sizeof(*t));
			memcpy(l, o->len, o->count * sizeof(*l));
		}
		o->text = t;
		o->len = l;
	}
	o->text[o->count] = text;
	o->len[o->count++] = len;
}

/* The file's objects: cards as they are, calendar objects grouped by UID. */
static int split(bool cards, struct buf *data, const char *path, struct objects *o)
{
	char error[300];
	if (cards) {
		struct vcard_slice *slices;
		size_t n;
		if (vcard_split(o->pool, data->data, data->len, OBJECTS_MAX, &slices, &n, error,
		                sizeof(error)) < 0)
			return ctl_error("%s: %s", path, error);
		for (size_t i = 0; i < n; i++)
			add_object(o, slices[i].text, slices[i].len, NULL);
		return 0;
	}
	if (cal_json_split(o->pool, data->data, data->len, OBJECTS_MAX, add_object, o, error,
	                   sizeof(error)) < 0)
		return ctl_error("%s: %s", path, error);
	return 0;
}

/* The text of objects [from, to): cards one after the other, calendar objects merged into one
   VCALENDAR. */
static void batch_text(bool cards, struct objects *o, size_t from, size_t to, struct buf *b)
{
	buf_reset(b);
	if (!cards) {
		buf_append_str(b, cal_json_merge(o->pool, o->text + from, to - from));
		return;
	}
	for (size_t i = from; i < to; i++) {
		buf_append(b, o->text[i], o->len[i]);
		if (o->len[i] > 0 && o->text[i][o->len[i] - 1] != '\n')
			buf_append_lit(b, "\r\n");
	}
}

/* One result line for a refused object. */
static void print_failure(const json_t *r)
{
	const json_t *e = json_object_get(r, "error");
	printf("object %" JSON_INTEGER_FORMAT "%s%s%s: %s %s\n", ctl_json_int(r, "object", 0),
	       json_object_get(r, "uid") != NULL ? " (UID " : "", ctl_json_str(r, "uid", ""),
	       json_object_get(r, "uid") != NULL ? ")" : "", ctl_json_str(e, "code", "?"),
	       ctl_json_str(e, "message", ""));
}

static int import(int argc, char **argv, bool cards)
{
	static const struct ctl_option options[] = {
	    CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1,
	            CTL_MAX_CID),
	    CTL_NUM('i', "userid", "ID", "the user's id", 0, 1, INT64_MAX),
	    CTL_OPT('u', "username", "LOGIN", "the user's login (instead of -i)", 0),
	    CTL_OPT('f', "file", "FILE", "the file to import", CTL_REQUIRED),
	    CTL_NUM(0, "folder", "ID", "the folder (default: the user's default one)", 0, 1,
	            INT64_MAX),
	    CTL_NUM(0, "batch", "N", "objects per request, 1..2000 (default 200)", 0, 1, 2000),
	    CTL_OPT(0, "tasks", NULL, "into the tasks module (default: calendar)", 0),
	    CTL_END,
	};
	static const struct ctl_command contacts_cmd = {
	    "importcontacts", "-c CID (-i ID | -u LOGIN) -f FILE.vcf [--folder ID] [--batch N]",
	    "Imports the vCards (3.0 or 4.0) of a .vcf file into a user's address book, as that "
	    "user, in batches; prints progress on stderr and a line per refused card (--json: "
	    "every card's result). Exit status 1 when any card was refused.",
	    options};
	static const struct ctl_command calendar_cmd = {
	    "importcalendar",
	    "-c CID (-i ID | -u LOGIN) -f FILE.ics [--folder ID] [--batch N] [--tasks]",
	    "Imports the events (or with --tasks the tasks) of an .ics file into a user's "
	    "calendar, one object per UID, as that user, in batches; prints progress on stderr "
	    "and a line per refused object (--json: every object's result). Exit status 1 when "
	    "any object was refused.",
	    options};
	struct ctl_args args;
	struct buf data, body, path;
	int ret;
	if (!ctl_parse(cards ? &contacts_cmd : &calendar_cmd, argc, argv, &args, &ret))
		return ret;
	if (cards && ctl_has(&args, "tasks"))
		return ctl_usage_error("--tasks is for importcalendar");
	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	size_t batch = (size_t)ctl_arg_number(&args, "batch", 200);
	const char *file = ctl_arg(&args, "file");
	const char *module = cards ? "contacts" : ctl_has(&args, "tasks") ? "tasks" : "calendar";
	int64_t uid;
	struct objects o = {.pool = pool_create(64 * 1024)};
	json_t *results = json_array(), *answer = NULL;
	json_int_t created = 0, failed = 0, folder = 0;
	buf_init(&data, (size_t)2 << 30);
	buf_init(&body, (size_t)256 << 20);
	buf_init(&path, 512);
	if ((ret = ctl_target_user(&args, cid, &uid)) != 0 ||
	    (ret = ctl_read_file(file, &data)) != 0 || (ret = split(cards, &data, file, &o)) != 0)
		goto out;
	buf_printf(&path, "/admin/v1/contexts/%llu/users/%lld/import?module=%s",
	           (unsigned long long)cid, (long long)uid, module);
	if (ctl_has(&args, "folder"))
		buf_printf(&path, "&folder=%llu",
		           (unsigned long long)ctl_arg_number(&args, "folder", 0));
	ctl_default_timeout(300);
	for (size_t from = 0; from < o.count; from += batch) {
		size_t to = from + batch < o.count ? from + batch : o.count;
		const char *error;
		batch_text(cards, &o, from, to, &body);
		json_decref(answer);
		if (ctl_request_raw("POST", path.data,
		                    cards ? "text/vcard; charset=utf-8"
		                          : "text/calendar; charset=utf-8",
		                    body.data, body.len, &answer, &error) < 0) {
			ret = ctl_error("objects %zu-%zu: %s (%" JSON_INTEGER_FORMAT
			                " imported before, the rest not sent)",
			                from + 1, to, error, created);
			goto out;
		}
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(answer, "results"), i, r)
		{
			json_object_del(r, "card");
			json_object_set_new(r, "object", json_integer((json_int_t)(from + i + 1)));
			json_array_append(results, r);
		}
		created += ctl_json_int(answer, "created", 0);
		failed += ctl_json_int(answer, "failed", 0);
		folder = ctl_json_int(answer, "folder", 0);
		ctl_note("%zu/%zu %s sent: %" JSON_INTEGER_FORMAT " imported, %" JSON_INTEGER_FORMAT
		         " refused",
		         to, o.count, cards ? "cards" : "objects", created, failed);
	}
	if (ctl_json_output()) {
		json_t *all = json_pack("{sI sI sI sO}", "folder", folder, "created", created,
		                        "failed", failed, "results", results);
		ctl_print_json(all);
		json_decref(all);
	} else {
		size_t i;
		json_t *r;
		json_array_foreach(results, i, r)
		{
			if (json_object_get(r, "error") != NULL)
				print_failure(r);
		}
		printf("%" JSON_INTEGER_FORMAT
		       " of %zu %s imported into folder %" JSON_INTEGER_FORMAT
		       ", %" JSON_INTEGER_FORMAT " refused\n",
		       created, o.count, cards ? "cards" : "objects", folder, failed);
	}
	ret = failed > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	json_decref(answer);
	json_decref(results);
	buf_free(&data);
	buf_free(&body);
	buf_free(&path);
	pool_destroy(&o.pool);
	return ret;
}

int cmd_importcontacts(int argc, char **argv)
{
	return import(argc, argv, true);
}

int cmd_importcalendar(int argc, char **argv)
{
	return import(argc, argv, false);
}
