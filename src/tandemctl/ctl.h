/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the tandemctl verbs: option parsing, admin API calls, output. */
#ifndef TANDEMCTL_CTL_H
#define TANDEMCTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "array.h"
#include "buf.h"

#define CTL_EXIT_OK    0
#define CTL_EXIT_FAIL  1 /* the server or the client said no */
#define CTL_EXIT_USAGE 2 /* bad command line; nothing was sent */

/* Every verb is `int cmd_<verb>(int argc, char **argv)`: argv[0] is the verb name, argv[1..] the
   arguments after it (global options given before the verb are already applied). It returns
   the process exit status. verbs.h lists them. */
#define CTL_VERB(name, summary) int cmd_##name(int argc, char **argv);
#include "verbs.h"
#undef CTL_VERB

/* ---------------------------------------------------------------- options */

enum ctl_option_flags {
	CTL_REQUIRED = 0x01, /* usage error when absent */
	CTL_NUMBER = 0x02,   /* whole decimal number in [min, max] */
	CTL_BOOL = 0x04,     /* true|false */
};

/* One option of a verb; tables end with an entry whose long_name is NULL. */
struct ctl_option {
	char short_name;       /* 0 = long form only */
	const char *long_name; /* without "--"; also the key for ctl_arg() */
	const char *arg_name;  /* "CID", "MB"…; NULL = a flag without a value */
	const char *help;
	unsigned flags;
	uint64_t min, max; /* CTL_NUMBER only */
};

/* Table entries: CTL_OPT for strings and flags, CTL_NUM for numbers in [min, max]. */
#define CTL_OPT(s, l, a, h, f)                                                                     \
	{                                                                                          \
		(s), (l), (a), (h), (f), 0, 0                                                      \
	}
#define CTL_NUM(s, l, a, h, f, lo, hi)                                                             \
	{                                                                                          \
		(s), (l), (a), (h), (f) | CTL_NUMBER, (lo), (hi)                                   \
	}
#define CTL_END                                                                                    \
	{                                                                                          \
		0, NULL, NULL, NULL, 0, 0, 0                                                       \
	}
#define CTL_MAX_CID 2147483647u
/* OX's --access-combination-name: a named set of modules (docs/provisioning.md). */
#define CTL_ACCESS_OPTION(help) CTL_OPT(0, "access-combination-name", "NAME", help, 0)

struct ctl_command {
	const char *name;     /* the verb */
	const char *synopsis; /* what follows the verb in the usage line */
	const char *description;
	const struct ctl_option *options;
};

#define CTL_MAX_OPTIONS 24

/* The parsed command line of one verb. */
struct ctl_args {
	const struct ctl_command *cmd;
	const char *value[CTL_MAX_OPTIONS]; /* per option; NULL = absent, "" for a given flag */
	uint64_t number[CTL_MAX_OPTIONS];   /* CTL_NUMBER and CTL_BOOL (0/1) values */
};

/* Parses argv[1..argc) against cmd->options and the global options (--url, -A, -P, --json,
   --timeout, --help); a verb option shadows a global one with the same name. Returns true when
   the verb should go on; otherwise it has printed help (*exit_r = 0) or a usage error
   (*exit_r = 2). Also makes cmd->name the prefix of error messages. */
bool ctl_parse(const struct ctl_command *cmd, int argc, char **argv, struct ctl_args *args_r,
               int *exit_r);

/* Applies one global option at argv[*i] (before the verb). Returns 1 and advances *i past it
   and its value, 0 if argv[*i] is not a global option, -1 after printing a usage error. */
int ctl_parse_global(int argc, char **argv, int *i);
/* Prints the global options for help texts. */
void ctl_print_global_help(FILE *out);

/* The option's value (NULL if absent); long_name must be in the verb's table. */
const char *ctl_arg(const struct ctl_args *args, const char *long_name);
bool ctl_has(const struct ctl_args *args, const char *long_name);
/* The parsed number (or 0/1 for CTL_BOOL); def when absent. */
uint64_t ctl_arg_number(const struct ctl_args *args, const char *long_name, uint64_t def);

/* "-c/--contextid" for messages; static storage valid until the next call. */
const char *ctl_option_label(const struct ctl_args *args, const char *long_name);

/* True if s[0..len) is valid UTF-8 (JSON strings must be). Option values are checked by
   ctl_parse(). */
bool ctl_utf8_valid(const char *s, size_t len);

/* ---------------------------------------------------------------- messages */

/* "tandemctl: <verb>: <message>" on stderr; returns CTL_EXIT_FAIL. */
int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same plus a hint to --help; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same form for progress and notes that are no error. */
void ctl_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when --json was given: verbs print the API's answer instead of text. */
bool ctl_json_output(void);

/* ---------------------------------------------------------------- admin API */

/* Calls the admin API: method on path ("/admin/v1/…") with body (may be NULL) as JSON. On a 2xx
   answer returns 0 and sets *answer_r to the parsed JSON (NULL for an empty body; the caller
   json_decref()s it). Otherwise returns -1 with *error_r the API's error message and code, or
   the client's error; valid until the next call. */
int ctl_request(const char *method, const char *path, json_t *body, json_t **answer_r,
                const char **error_r);
/* The same with a body that is not JSON: data[0..len) sent as content_type (NULL: no body). */
int ctl_request_raw(const char *method, const char *path, const char *content_type,
                    const char *data, size_t len, json_t **answer_r, const char **error_r);
/* The HTTP status of the last ctl_request(), 0 if no answer arrived (connection failed, timed
   out, garbage): then a changing request may or may not have been applied. */
unsigned ctl_last_status(void);
/* Raises the request timeout for a verb with slow calls, unless --timeout was given. */
void ctl_default_timeout(unsigned seconds);
/* ctl_request() that prints the error; returns 0 or CTL_EXIT_FAIL. */
int ctl_call(const char *method, const char *path, json_t *body, json_t **answer_r);

/* Appends s percent-encoded (everything but ALPHA DIGIT - . _ ~). */
void ctl_append_pct(struct buf *b, const char *s);
/* Copies --access-combination-name into body's "access_combination" when given. */
void ctl_set_access(const struct ctl_args *args, json_t *body);
/* Splits the option's "a,b" into a JSON array of strings; an empty element is a usage error
   naming what ("mapping", "member"). */
int ctl_parse_list(const struct ctl_args *args, const char *long_name, const char *what,
                   json_t **list_r);
/* The user id for login in context cid, looked up in the context's user list; prints the
   error and returns CTL_EXIT_FAIL when there is none. */
int ctl_resolve_login(uint64_t cid, const char *login, int64_t *id_r);

/* The user id from -i/--userid, or -u/--username looked up in context cid (exactly one of
   them; a usage error otherwise): 0, or the exit code after printing the error. */
int ctl_target_user(const struct ctl_args *args, uint64_t cid, int64_t *id_r);
/* Appends the whole file at path to data: 0, or CTL_EXIT_USAGE after printing why not. */
int ctl_read_file(const char *path, struct buf *data);

/* ---------------------------------------------------------------- output */

/* Prints v pretty (2-space indent) and a newline on stdout. */
void ctl_print_json(const json_t *v);
/* Text for a JSON value in a table: strings as is, numbers, true/false, "-" for null or
   missing, arrays joined with ",". Returned in b (reset first). */
const char *ctl_json_text(struct buf *b, const json_t *v);
/* Integer member or def. */
json_int_t ctl_json_int(const json_t *obj, const char *key, json_int_t def);
/* String member or def. */
const char *ctl_json_str(const json_t *obj, const char *key, const char *def);

/* An aligned text table: a header row, then cells added left to right, top to bottom. */
struct ctl_table {
	size_t columns;
	struct array cells; /* char *, row-major, header first */
};

void ctl_table_init(struct ctl_table *t, const char *const *titles, size_t columns);
void ctl_table_add(struct ctl_table *t, const char *text);
/* Adds the text of obj's member key (see ctl_json_text). */
void ctl_table_add_json(struct ctl_table *t, const json_t *obj, const char *key);
/* Prints and frees the table. */
void ctl_table_print(struct ctl_table *t, FILE *out);

/* ---------------------------------------------------------------- process */

/* Once at start: JSON allocator and defaults from the environment. */
void ctl_init(void);

#endif
