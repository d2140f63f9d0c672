/* SPDX-License-Identifier: MIT */
/* createusers: bulk creation from CSV through the batch endpoint, with progress. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
#include "ctl.h"
#include "password.h"

#define MAX_CSV_BYTES (2ull * 1024 * 1024 * 1024)
#define BATCH_MAX     1000 /* the API's limit per batch */
/* A batch hashes up to 1000 passwords on the server: give it longer than other calls. */
#define BATCH_TIMEOUT_S 600

/* CSV columns, named like the user fields they fill; exactly one of the password columns.
   From COL_OPTIONAL on they may be left out, or empty for a user (docs/mail.md "Per-user mail
   servers": empty = [mail]'s default). */
enum column {
	COL_LOGIN,
	COL_DISPLAY,
	COL_GIVEN,
	COL_SUR,
	COL_PASSWORD,
	COL_HASH,
	COL_EMAIL,
	COL_OPTIONAL,
	COL_IMAP_SERVER = COL_OPTIONAL,
	COL_SMTP_SERVER,
	COL_IMAP_LOGIN,
};
static const char *const column_names[] = {
    [COL_LOGIN] = "login",
    [COL_DISPLAY] = "display_name",
    [COL_GIVEN] = "given_name",
    [COL_SUR] = "sur_name",
    [COL_PASSWORD] = "password",
    [COL_HASH] = "password_hash",
    [COL_EMAIL] = "email",
    [COL_IMAP_SERVER] = "imap_server",
    [COL_SMTP_SERVER] = "smtp_server",
    [COL_IMAP_LOGIN] = "imap_login",
};
#define COLUMN_COUNT (sizeof(column_names) / sizeof(column_names[0]))

struct csv_file {
	const char *path;
	struct buf data;
	int column_of[COLUMN_COUNT]; /* CSV field index per column name, -1 = absent */
	size_t field_count;
};

static int parse_header(struct csv_file *f, const struct csv_record *rec)
{
	for (size_t c = 0; c < COLUMN_COUNT; c++)
		f->column_of[c] = -1;
	for (size_t i = 0; i < rec->count; i++) {
		struct strv name = strv_trim(rec->fields[i]);
		size_t c;
		for (c = 0; c < COLUMN_COUNT; c++) {
			if (strv_eq_cstr(name, column_names[c]))
				break;
		}
		if (c == COLUMN_COUNT)
			return ctl_usage_error("%s:%zu: unknown column '%.*s' (expected login, "
			                       "display_name, given_name, sur_name, password or "
			                       "password_hash, email; optional imap_server, "
			                       "smtp_server, imap_login)",
			                       f->path, rec->line, STRV_FMT(name));
		if (f->column_of[c] >= 0)
			return ctl_usage_error("%s:%zu: column '%s' appears twice", f->path,
			                       rec->line, column_names[c]);
		f->column_of[c] = (int)i;
	}
	for (size_t c = 0; c < COLUMN_COUNT; c++) {
		if (c != COL_PASSWORD && c != COL_HASH && c < COL_OPTIONAL && f->column_of[c] < 0)
			return ctl_usage_error("%s:%zu: missing column '%s'", f->path, rec->line,
			                       column_names[c]);
	}
	if ((f->column_of[COL_PASSWORD] >= 0) == (f->column_of[COL_HASH] >= 0))
		return ctl_usage_error("%s:%zu: need exactly one of the columns 'password' and "
		                       "'password_hash'",
		                       f->path, rec->line);
	f->field_count = rec->count;
	return 0;
}

/* Checks a data record: field count, non-empty UTF-8 values, password hashes the server
   accepts (the same check as the admin API's, so a bad one is found before any batch). */
static int check_record(const struct csv_file *f, const struct csv_record *rec)
{
	if (rec->count != f->field_count)
		return ctl_usage_error("%s:%zu: expected %zu fields, found %zu", f->path, rec->line,
		                       f->field_count, rec->count);
	for (size_t c = 0; c < COLUMN_COUNT; c++) {
		if (f->column_of[c] < 0)
			continue;
		struct strv v = rec->fields[f->column_of[c]];
		if (v.len == 0 && c >= COL_OPTIONAL)
			continue;
		if (v.len == 0)
			return ctl_usage_error("%s:%zu: empty %s", f->path, rec->line,
			                       column_names[c]);
		if (!ctl_utf8_valid(v.ptr, v.len))
			return ctl_usage_error("%s:%zu: %s is not valid UTF-8", f->path, rec->line,
			                       column_names[c]);
		if (c == COL_HASH) {
			char hash[PASSWORD_HASH_MAX];
			const char *problem = "password_hash is longer than 127 characters";
			if (v.len < sizeof(hash)) {
				memcpy(hash, v.ptr, v.len);
				hash[v.len] = '\0';
				problem = password_hash_problem(hash);
			}
			if (problem != NULL)
				return ctl_usage_error("%s:%zu: %s", f->path, rec->line, problem);
		}
	}
	return 0;
}

static json_t *record_user(const struct csv_file *f, const struct csv_record *rec)
{
	json_t *user = json_object();
	for (size_t c = 0; c < COLUMN_COUNT; c++) {
		if (f->column_of[c] < 0)
			continue;
		struct strv v = rec->fields[f->column_of[c]];
		if (v.len > 0)
			json_object_set_new(user, column_names[c], json_stringn(v.ptr, v.len));
	}
	return user;
}

/* Reads the whole file once so a bad line is reported before anything is created. Returns
   the number of users or -1 after a usage error. */
static long long validate(struct csv_file *f)
{
	struct csv_reader r;
	struct csv_record rec;
	const char *error;
	long long users = 0;
	int ret;

	csv_reader_init(&r, f->data.data, f->data.len);
	ret = csv_read(&r, &rec, &error);
	if (ret == 0) {
		ctl_usage_error("%s: empty file (the first line names the columns)", f->path);
		goto fail;
	}
	if (ret < 0 || parse_header(f, &rec) != 0)
		goto fail_csv;
	while ((ret = csv_read(&r, &rec, &error)) > 0) {
		if (check_record(f, &rec) != 0)
			goto fail;
		users++;
	}
	if (ret < 0)
		goto fail_csv;
	if (users == 0) {
		ctl_usage_error("%s: no users after the header line", f->path);
		goto fail;
	}
	csv_reader_deinit(&r);
	return users;
fail_csv:
	if (ret < 0)
		ctl_usage_error("%s:%zu: %s", f->path, r.error_line, error);
fail:
	csv_reader_deinit(&r);
	return -1;
}

struct progress {
	long long total, done, shown;
	uint64_t start_ms, last_ms;
};

/* At most one line a second; the final call (force) adds the last count if not yet shown. */
static void progress_print(struct progress *p, bool force)
{
	uint64_t now = clock_mono_ms();
	if (force ? p->shown == p->done : now - p->last_ms < 1000)
		return;
	uint64_t elapsed = now - p->start_ms;
	long long rate = elapsed > 0 ? (long long)(p->done * 1000 / (long long)elapsed) : p->done;
	fprintf(stderr, "createusers: %lld/%lld users (%lld/s)\n", p->done, p->total, rate);
	p->last_ms = now;
	p->shown = p->done;
}

static int send_users(struct csv_file *f, uint64_t cid, size_t batch_size, long long total)
{
	struct csv_reader r;
	struct csv_record rec;
	struct progress prog = {.total = total};
	const char *error;
	json_t *created = json_array(), *batch = NULL;
	char path[96];
	size_t first_line = 0, last_line = 0, batches = 0, created_first = 0, created_last = 0;
	int ret = CTL_EXIT_FAIL;

	snprintf(path, sizeof(path), "/admin/v1/contexts/%llu/users/batch",
	         (unsigned long long)cid);
	prog.start_ms = prog.last_ms = clock_mono_ms();
	csv_reader_init(&r, f->data.data, f->data.len);
	(void)csv_read(&r, &rec, &error); /* the header, checked by validate() */
	for (;;) {
		int more = csv_read(&r, &rec, &error);
		if (more > 0) {
			if (batch == NULL) {
				batch = json_array();
				first_line = rec.line;
			}
			json_array_append_new(batch, record_user(f, &rec));
			last_line = rec.line;
		}
		if (batch == NULL)
			break;
		if (more > 0 && json_array_size(batch) < batch_size)
			continue;

		json_t *body = json_pack("{s:o}", "users", batch), *answer;
		size_t n = json_array_size(batch);
		batch = NULL;
		batches++;
		int failed = ctl_request("POST", path, body, &answer, &error);
		json_decref(body);
		if (failed != 0) {
			/* Without an answer the batch may have been created all the same. */
			bool unknown = ctl_last_status() == 0;
			const char *outcome =
			    unknown ? " (its outcome is unknown: check with listuser)" : "";
			if (prog.done == 0)
				ctl_error("batch %zu (CSV lines %zu-%zu) failed: %s%s", batches,
				          first_line, last_line, error,
				          unknown ? outcome : "; no users were created");
			else
				ctl_error(
				    "batch %zu (CSV lines %zu-%zu) failed: %s%s; the %lld users of "
				    "the earlier batches (CSV lines %zu-%zu) were created",
				    batches, first_line, last_line, error, outcome, prog.done,
				    created_first, created_last);
			goto out;
		}
		json_array_extend(created, json_object_get(answer, "users"));
		json_decref(answer);
		if (prog.done == 0)
			created_first = first_line;
		created_last = last_line;
		prog.done += (long long)n;
		progress_print(&prog, false);
		if (more == 0)
			break;
	}
	progress_print(&prog, true);
	if (ctl_json_output()) {
		json_t *summary =
		    json_pack("{s:I, s:O}", "created", (json_int_t)prog.done, "users", created);
		ctl_print_json(summary);
		json_decref(summary);
	} else {
		uint64_t ms = clock_mono_ms() - prog.start_ms;
		printf("%lld users created in context %llu (%zu batches, %llu.%01llu s)\n",
		       prog.done, (unsigned long long)cid, batches, (unsigned long long)(ms / 1000),
		       (unsigned long long)(ms % 1000 / 100));
	}
	ret = CTL_EXIT_OK;
out:
	json_decref(created);
	csv_reader_deinit(&r);
	return ret;
}

int cmd_createusers(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1,
	            CTL_MAX_CID),
	    CTL_OPT(0, "csv", "FILE", "the users, one per line after a header line", CTL_REQUIRED),
	    CTL_NUM(0, "batch", "N", "users per request, 1..1000 (default 1000)", 0, 1, BATCH_MAX),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "createusers", "-c CID --csv FILE [--batch N]",
	    "Creates the users of a CSV file (RFC 4180) in batches; each batch is all or nothing.\n"
	    "The header line names the columns, in any order:\n"
	    "  login,display_name,given_name,sur_name,password,email\n"
	    "(password_hash, an argon2id string, may replace password; imap_server,\n"
	    "smtp_server and imap_login may be added, empty for [mail]'s defaults). The whole file "
	    "is\n"
	    "checked before the first batch is sent; progress goes to stderr.",
	    options};
	struct ctl_args args;
	struct csv_file f;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	ctl_default_timeout(BATCH_TIMEOUT_S);
	memset(&f, 0, sizeof(f));
	f.path = ctl_arg(&args, "csv");
	buf_init(&f.data, MAX_CSV_BYTES);
	ret = ctl_read_file(f.path, &f.data);
	if (ret == 0) {
		long long total = validate(&f);
		if (total < 0)
			ret = CTL_EXIT_USAGE;
		else
			ret = send_users(&f, ctl_arg_number(&args, "contextid", 0),
			                 (size_t)ctl_arg_number(&args, "batch", BATCH_MAX), total);
	}
	buf_free(&f.data);
	return ret;
}
