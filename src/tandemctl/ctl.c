/* SPDX-License-Identifier: MIT */
/* Option parsing, admin API calls and output shared by the tandemctl verbs. */
#include "ctl.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-client.h"
#include "mem.h"

#define DEFAULT_URL        "http://127.0.0.1:8009"
#define DEFAULT_TIMEOUT_MS 60000u
#define MAX_REQUEST_BODY   (256u * 1024 * 1024)

/* A CLI runs one verb per process, so the settings are simply process state. */
static struct {
	const char *verb; /* prefix of messages; NULL before the verb is known */
	const char *url;
	const char *admin_user;
	const char *admin_pass;
	bool json;
	bool timeout_given;
	unsigned timeout_ms;
	unsigned last_status;
} settings = {.url = DEFAULT_URL, .timeout_ms = DEFAULT_TIMEOUT_MS};

static const struct ctl_option global_options[] = {
    {0, "url", "URL", "admin API base URL (env TANDEM_URL, default " DEFAULT_URL ")", 0, 0, 0},
    {'A', "adminuser", "USER",
     "admin login; a context admin for user verbs (env TANDEM_ADMIN_USER)", 0, 0, 0},
    {'P', "adminpass", "PW", "the admin's password (env TANDEM_ADMIN_PASS)", 0, 0, 0},
    {0, "json", NULL, "print the API's JSON answer (pretty) instead of text", 0, 0, 0},
    {0, "timeout", "SECONDS", "give up on the server after this long (default 60)", CTL_NUMBER, 1,
     86400},
    {'h', "help", NULL, "print help and exit", 0, 0, 0},
    {0, NULL, NULL, NULL, 0, 0, 0},
};

/* ---------------------------------------------------------------- messages */

static void vmessage(const char *fmt, va_list args) __attribute__((format(printf, 1, 0)));

static void vmessage(const char *fmt, va_list args)
{
	fputs("tandemctl: ", stderr);
	if (settings.verb != NULL)
		fprintf(stderr, "%s: ", settings.verb);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

int ctl_error(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vmessage(fmt, args);
	va_end(args);
	return CTL_EXIT_FAIL;
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vmessage(fmt, args);
	va_end(args);
	if (settings.verb != NULL)
		fprintf(stderr, "Try 'tandemctl %s --help'.\n", settings.verb);
	else
		fputs("Try 'tandemctl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

void ctl_note(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vmessage(fmt, args);
	va_end(args);
}

bool ctl_json_output(void)
{
	return settings.json;
}

/* ---------------------------------------------------------------- options */

static size_t option_count(const struct ctl_option *opts)
{
	size_t n = 0;
	while (opts != NULL && opts[n].long_name != NULL)
		n++;
	return n;
}

static const struct ctl_option *find_long(const struct ctl_option *opts, const char *name,
                                          size_t name_len)
{
	for (size_t i = 0; opts != NULL && opts[i].long_name != NULL; i++) {
		if (strlen(opts[i].long_name) == name_len &&
		    memcmp(opts[i].long_name, name, name_len) == 0)
			return &opts[i];
	}
	return NULL;
}

static const struct ctl_option *find_short(const struct ctl_option *opts, char c)
{
	for (size_t i = 0; opts != NULL && opts[i].long_name != NULL; i++) {
		if (opts[i].short_name != 0 && opts[i].short_name == c)
			return &opts[i];
	}
	return NULL;
}

/* A global option is hidden after the verb when the verb uses its name or letter
   (registerdatabase --url is the database's URL). */
static bool shadowed(const struct ctl_option *verb_opts, const struct ctl_option *g)
{
	return find_long(verb_opts, g->long_name, strlen(g->long_name)) != NULL ||
	       (g->short_name != 0 && find_short(verb_opts, g->short_name) != NULL);
}

bool ctl_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			if (c == 0)
				return false; /* a NUL cannot survive the trip through C strings */
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static const char *label(const struct ctl_option *o)
{
	static char text[80];
	if (o->short_name != 0)
		snprintf(text, sizeof(text), "-%c/--%s", o->short_name, o->long_name);
	else
		snprintf(text, sizeof(text), "--%s", o->long_name);
	return text;
}

struct match {
	const struct ctl_option *opt;
	bool global;
	const char *value; /* "" for a flag */
};

/* Matches argv[*i] against the verb's options (may be NULL) and the visible global ones; takes
   the value ("--name=V", "--name V", "-xV", "-x V") and moves *i past what was used. Returns 1,
   0 when argv[*i] is not an option at all, or -1 after a usage error. */
static int match_option(const struct ctl_option *verb_opts, int argc, char **argv, int *i,
                        struct match *m_r)
{
	const char *arg = argv[*i], *inline_value = NULL;
	const struct ctl_option *o = NULL;

	memset(m_r, 0, sizeof(*m_r));
	if (arg[0] != '-' || arg[1] == '\0')
		return 0;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if (len == 0) {
			ctl_usage_error("unexpected argument '%s'", arg);
			return -1;
		}
		o = find_long(verb_opts, name, len);
		if (o == NULL) {
			o = find_long(global_options, name, len);
			if (o != NULL && shadowed(verb_opts, o))
				o = NULL;
			m_r->global = o != NULL;
		}
		if (eq != NULL)
			inline_value = eq + 1;
	} else {
		o = find_short(verb_opts, arg[1]);
		if (o == NULL) {
			o = find_short(global_options, arg[1]);
			if (o != NULL && shadowed(verb_opts, o))
				o = NULL;
			m_r->global = o != NULL;
		}
		if (arg[2] != '\0')
			inline_value = arg + 2;
	}
	if (o == NULL) {
		ctl_usage_error("unknown option '%s'", arg);
		return -1;
	}
	m_r->opt = o;
	if (o->arg_name == NULL) {
		if (inline_value != NULL) {
			ctl_usage_error("%s takes no value", label(o));
			return -1;
		}
		m_r->value = "";
	} else if (inline_value != NULL) {
		m_r->value = inline_value;
	} else if (*i + 1 < argc) {
		m_r->value = argv[++*i];
	} else {
		ctl_usage_error("%s needs a value (%s)", label(o), o->arg_name);
		return -1;
	}
	++*i;
	return 1;
}

/* Checks a CTL_NUMBER or CTL_BOOL value; prints a usage error naming the option. */
static int convert_value(const struct ctl_option *o, const char *value, uint64_t *number_r)
{
	*number_r = 0;
	if ((o->flags & CTL_BOOL) != 0) {
		if (strcmp(value, "true") == 0)
			*number_r = 1;
		else if (strcmp(value, "false") != 0)
			return ctl_usage_error("%s: expected true or false, got '%s'", label(o),
			                       value);
	}
	if ((o->flags & CTL_NUMBER) == 0)
		return 0;
	uint64_t v;
	if (value[0] == '-' && value[1] >= '0' && value[1] <= '9')
		return ctl_usage_error("%s: must not be negative, got '%s'", label(o), value);
	if (strv_to_u64(strv_from_cstr(value), &v) < 0)
		return ctl_usage_error("%s: expected a whole number, got '%s'", label(o), value);
	if (v < o->min || v > o->max)
		return ctl_usage_error("%s: must be between %llu and %llu, got %s", label(o),
		                       (unsigned long long)o->min, (unsigned long long)o->max,
		                       value);
	*number_r = v;
	return 0;
}

static int apply_global(const struct match *m)
{
	const char *name = m->opt->long_name;
	uint64_t n;

	if (strcmp(name, "url") == 0) {
		settings.url = m->value;
	} else if (strcmp(name, "adminuser") == 0) {
		settings.admin_user = m->value;
	} else if (strcmp(name, "adminpass") == 0) {
		settings.admin_pass = m->value;
	} else if (strcmp(name, "json") == 0) {
		settings.json = true;
	} else if (strcmp(name, "timeout") == 0) {
		if (convert_value(m->opt, m->value, &n) != 0)
			return -1;
		settings.timeout_ms = (unsigned)n * 1000u;
		settings.timeout_given = true;
	}
	return 0;
}

int ctl_parse_global(int argc, char **argv, int *i)
{
	struct match m;
	int start = *i;
	int r = match_option(NULL, argc, argv, i, &m);
	if (r <= 0)
		return r;
	if (strcmp(m.opt->long_name, "help") == 0) {
		/* main handles --help itself; anything else here is not ours. */
		*i = start;
		return 0;
	}
	return apply_global(&m) < 0 ? -1 : 1;
}

static void print_options(FILE *out, const struct ctl_option *opts, const struct ctl_option *hide)
{
	for (size_t i = 0; opts[i].long_name != NULL; i++) {
		const struct ctl_option *o = &opts[i];
		char left[64];
		if (hide != NULL && shadowed(hide, o))
			continue;
		const char *arg = o->arg_name != NULL ? o->arg_name : "";
		const char *sep = o->arg_name != NULL ? " " : "";
		if (o->short_name != 0)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
			         sep, arg);
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, sep, arg);
		if (strlen(left) > 28) {
			fprintf(out, "  %s\n", left);
			left[0] = '\0';
		}
		fprintf(out, "  %-28s %s%s\n", left, o->help,
		        (o->flags & CTL_REQUIRED) != 0 ? " (required)" : "");
	}
}

void ctl_print_global_help(FILE *out)
{
	print_options(out, global_options, NULL);
}

static void print_help(const struct ctl_command *cmd, FILE *out)
{
	fprintf(out, "Usage: tandemctl %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->synopsis,
	        cmd->description);
	print_options(out, cmd->options, NULL);
	fputs("\nGlobal options (before or after the verb):\n", out);
	print_options(out, global_options, cmd->options);
	if (find_long(cmd->options, "url", 3) != NULL)
		fputs("  (after this verb --url is its own option: give the admin API URL before "
		      "the\n"
		      "   verb or in TANDEM_URL)\n",
		      out);
}

bool ctl_parse(const struct ctl_command *cmd, int argc, char **argv, struct ctl_args *args_r,
               int *exit_r)
{
	size_t count = option_count(cmd->options);
	assert(count <= CTL_MAX_OPTIONS);

	memset(args_r, 0, sizeof(*args_r));
	args_r->cmd = cmd;
	settings.verb = cmd->name;
	*exit_r = CTL_EXIT_USAGE;

	for (int i = 1; i < argc;) {
		struct match m;
		int r = match_option(cmd->options, argc, argv, &i, &m);
		if (r < 0)
			return false;
		if (r == 0) {
			ctl_usage_error("unexpected argument '%s'", argv[i]);
			return false;
		}
		if (m.global) {
			if (strcmp(m.opt->long_name, "help") == 0) {
				print_help(cmd, stdout);
				*exit_r = CTL_EXIT_OK;
				return false;
			}
			if (apply_global(&m) < 0)
				return false;
			continue;
		}
		size_t idx = (size_t)(m.opt - cmd->options);
		if (args_r->value[idx] != NULL) {
			ctl_usage_error("%s given more than once", label(m.opt));
			return false;
		}
		if (!ctl_utf8_valid(m.value, strlen(m.value))) {
			ctl_usage_error("%s: the value is not valid UTF-8", label(m.opt));
			return false;
		}
		if (convert_value(m.opt, m.value, &args_r->number[idx]) != 0)
			return false;
		args_r->value[idx] = m.value;
	}
	for (size_t i = 0; i < count; i++) {
		if ((cmd->options[i].flags & CTL_REQUIRED) != 0 && args_r->value[i] == NULL) {
			ctl_usage_error("missing required option %s", label(&cmd->options[i]));
			return false;
		}
	}
	if (settings.admin_user != NULL && settings.admin_pass == NULL) {
		ctl_usage_error("-A/--adminuser needs -P/--adminpass (or TANDEM_ADMIN_PASS)");
		return false;
	}
	*exit_r = CTL_EXIT_OK;
	return true;
}

static size_t option_index(const struct ctl_args *args, const char *long_name)
{
	const struct ctl_option *o = find_long(args->cmd->options, long_name, strlen(long_name));
	assert(o != NULL);
	return (size_t)(o - args->cmd->options);
}

const char *ctl_arg(const struct ctl_args *args, const char *long_name)
{
	return args->value[option_index(args, long_name)];
}

bool ctl_has(const struct ctl_args *args, const char *long_name)
{
	return ctl_arg(args, long_name) != NULL;
}

uint64_t ctl_arg_number(const struct ctl_args *args, const char *long_name, uint64_t def)
{
	size_t i = option_index(args, long_name);
	return args->value[i] != NULL ? args->number[i] : def;
}

const char *ctl_option_label(const struct ctl_args *args, const char *long_name)
{
	return label(&args->cmd->options[option_index(args, long_name)]);
}

/* ---------------------------------------------------------------- admin API */

static int dump_to_buf(const char *data, size_t size, void *context)
{
	struct buf *b = context;
	buf_append(b, data, size);
	return buf_overflowed(b) ? -1 : 0;
}

void ctl_append_pct(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_append_char(b, (char)c);
		} else {
			buf_append_char(b, '%');
			buf_append_char(b, hex[c >> 4]);
			buf_append_char(b, hex[c & 15]);
		}
	}
}

static void add_auth_header(struct buf *b)
{
	struct buf cred;
	buf_init(&cred, 4096);
	buf_printf(&cred, "%s:%s", settings.admin_user, settings.admin_pass);
	size_t enc_len = sodium_base64_ENCODED_LEN(cred.len, sodium_base64_VARIANT_ORIGINAL);
	char *enc = mem_alloc(enc_len);
	sodium_bin2base64(enc, enc_len, (const unsigned char *)cred.data, cred.len,
	                  sodium_base64_VARIANT_ORIGINAL);
	buf_printf(b, "Authorization: Basic %s", enc);
	sodium_memzero(cred.data, cred.len);
	sodium_memzero(enc, enc_len);
	mem_free(&enc);
	buf_free(&cred);
}

/* A readable excerpt of a non-JSON error body: first line, control bytes dropped. */
static void append_excerpt(struct buf *b, const struct buf *body)
{
	size_t n = 0;
	for (size_t i = 0; i < body->len && n < 200; i++) {
		unsigned char c = (unsigned char)body->data[i];
		if (c == '\n' || c == '\r')
			break;
		if (c < 0x20 || c == 0x7f)
			continue;
		buf_append_char(b, (char)c);
		n++;
	}
}

static const char *api_error(const struct http_client_response *resp)
{
	static char text[1024];
	struct buf b;
	json_t *root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	json_t *err = json_object_get(root, "error");
	const char *message = json_string_value(json_object_get(err, "message"));
	const char *code = json_string_value(json_object_get(err, "code"));

	buf_init_fixed(&b, text, sizeof(text));
	if (message != NULL) {
		buf_append_str(&b, message);
		if (code != NULL)
			buf_printf(&b, " (%s)", code);
	} else {
		buf_printf(&b, "HTTP %u %.*s from %s", resp->status, STRV_FMT(resp->reason),
		           settings.url);
		if (resp->body.len > 0) {
			buf_append_lit(&b, ": ");
			append_excerpt(&b, &resp->body);
		}
	}
	struct strv retry = http_client_response_header(resp, "Retry-After");
	if (resp->status == 429 && retry.len > 0)
		buf_printf(&b, "; retry after %.*s s", STRV_FMT(retry));
	json_decref(root);
	return text;
}

int ctl_request(const char *method, const char *path, json_t *body, json_t **answer_r,
                const char **error_r)
{
	struct buf body_text;
	int ret = -1;
	*answer_r = NULL;
	buf_init(&body_text, MAX_REQUEST_BODY);
	if (body != NULL && json_dump_callback(body, dump_to_buf, &body_text, JSON_COMPACT) < 0) {
		settings.last_status = 0;
		*error_r = "request body too large";
		goto out;
	}
	ret = ctl_request_raw(method, path, body != NULL ? "application/json; charset=utf-8" : NULL,
	                      body_text.data, body_text.len, answer_r, error_r);
out:
	buf_free(&body_text);
	return ret;
}

int ctl_request_raw(const char *method, const char *path, const char *content_type,
                    const char *data, size_t len, json_t **answer_r, const char **error_r)
{
	static char err[1024];
	static __thread char ctype[160];
	struct http_client_response resp;
	struct buf auth;
	const char *headers[6];
	size_t nh = 0;
	int ret = -1;

	*answer_r = NULL;
	settings.last_status = 0;
	buf_init(&auth, 8192);
	memset(&resp, 0, sizeof(resp));

	headers[nh++] = "Accept: application/json";
	headers[nh++] = "User-Agent: tandemctl/" TANDEMCTL_VERSION;
	if (content_type != NULL) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		headers[nh++] = ctype;
	}
	if (settings.admin_user != NULL) {
		add_auth_header(&auth);
		headers[nh++] = auth.data;
	}
	headers[nh] = NULL;

	if (http_client_request(settings.url, method, path, headers,
	                        content_type != NULL ? data : NULL, content_type != NULL ? len : 0,
	                        settings.timeout_ms, &resp, error_r) < 0)
		goto out;
	settings.last_status = resp.status;
	if (resp.status < 200 || resp.status > 299) {
		*error_r = api_error(&resp);
		goto out;
	}
	if (resp.body.len > 0) {
		json_error_t jerr;
		*answer_r = json_loadb(resp.body.data, resp.body.len, 0, &jerr);
		if (*answer_r == NULL) {
			snprintf(err, sizeof(err), "invalid JSON in the answer from %s: %s",
			         settings.url, jerr.text);
			*error_r = err;
			goto out;
		}
	}
	ret = 0;
out:
	if (auth.len > 0)
		sodium_memzero(auth.data, auth.len);
	http_client_response_free(&resp);
	buf_free(&auth);
	return ret;
}

unsigned ctl_last_status(void)
{
	return settings.last_status;
}

void ctl_default_timeout(unsigned seconds)
{
	if (!settings.timeout_given)
		settings.timeout_ms = seconds * 1000u;
}

int ctl_call(const char *method, const char *path, json_t *body, json_t **answer_r)
{
	const char *error;
	if (ctl_request(method, path, body, answer_r, &error) < 0)
		return ctl_error("%s", error);
	return 0;
}

void ctl_set_access(const struct ctl_args *args, json_t *body)
{
	if (ctl_has(args, "access-combination-name"))
		json_object_set_new(body, "access_combination",
		                    json_string(ctl_arg(args, "access-combination-name")));
}

int ctl_parse_list(const struct ctl_args *args, const char *long_name, const char *what,
                   json_t **list_r)
{
	const char *s = ctl_arg(args, long_name);
	json_t *list = json_array();

	for (;;) {
		size_t len = strcspn(s, ",");
		struct strv item = strv_trim(strv_make(s, len));
		if (item.len == 0) {
			json_decref(list);
			return ctl_usage_error("%s: empty %s in '%s'",
			                       ctl_option_label(args, long_name), what,
			                       ctl_arg(args, long_name));
		}
		json_array_append_new(list, json_stringn(item.ptr, item.len));
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	*list_r = list;
	return 0;
}

int ctl_target_user(const struct ctl_args *args, uint64_t cid, int64_t *id_r)
{
	bool by_id = ctl_has(args, "userid"), by_login = ctl_has(args, "username");
	if (by_id && by_login)
		return ctl_usage_error("-i/--userid and -u/--username exclude each other");
	if (!by_id && !by_login)
		return ctl_usage_error("missing required option -i/--userid or -u/--username");
	if (by_id) {
		*id_r = (int64_t)ctl_arg_number(args, "userid", 0);
		return 0;
	}
	return ctl_resolve_login(cid, ctl_arg(args, "username"), id_r);
}

int ctl_read_file(const char *path, struct buf *data)
{
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL)
		return ctl_usage_error("cannot open %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(data, chunk, n);
	int failed = ferror(fp);
	fclose(fp);
	if (failed)
		return ctl_usage_error("cannot read %s", path);
	if (buf_overflowed(data))
		return ctl_usage_error("%s: larger than 2 GiB", path);
	return 0;
}

int ctl_resolve_login(uint64_t cid, const char *login, int64_t *id_r)
{
	char path[128];
	json_t *answer, *user;
	size_t i;
	int ret = CTL_EXIT_FAIL;

	snprintf(path, sizeof(path), "/admin/v1/contexts/%llu/users", (unsigned long long)cid);
	if (ctl_call("GET", path, NULL, &answer) != 0)
		return CTL_EXIT_FAIL;
	json_array_foreach(json_object_get(answer, "users"), i, user)
	{
		const char *l = json_string_value(json_object_get(user, "login"));
		json_t *id = json_object_get(user, "id");
		if (l != NULL && strcmp(l, login) == 0 && json_is_integer(id)) {
			*id_r = json_integer_value(id);
			ret = 0;
			goto out;
		}
	}
	ctl_error("no user with login '%s' in context %llu", login, (unsigned long long)cid);
out:
	json_decref(answer);
	return ret;
}

/* ---------------------------------------------------------------- output */

void ctl_print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

json_int_t ctl_json_int(const json_t *obj, const char *key, json_int_t def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

const char *ctl_json_str(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : def;
}

static void append_json_text(struct buf *b, const json_t *v)
{
	size_t i;
	const json_t *elem;

	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_append(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		buf_printf(b, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		buf_append_lit(b, "true");
		break;
	case JSON_FALSE:
		buf_append_lit(b, "false");
		break;
	case JSON_NULL:
		buf_append_lit(b, "-");
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, elem)
		{
			if (i > 0)
				buf_append_char(b, ',');
			append_json_text(b, elem);
		}
		break;
	case JSON_OBJECT:
		json_dump_callback(v, dump_to_buf, b, JSON_COMPACT);
		break;
	}
}

const char *ctl_json_text(struct buf *b, const json_t *v)
{
	buf_reset(b);
	if (v == NULL)
		buf_append_lit(b, "-");
	else
		append_json_text(b, v);
	return b->data;
}

void ctl_table_init(struct ctl_table *t, const char *const *titles, size_t columns)
{
	t->columns = columns;
	array_init(&t->cells, sizeof(char *));
	for (size_t i = 0; i < columns; i++)
		ctl_table_add(t, titles[i]);
}

void ctl_table_add(struct ctl_table *t, const char *text)
{
	*(char **)array_push(&t->cells) = mem_strdup(text);
}

void ctl_table_add_json(struct ctl_table *t, const json_t *obj, const char *key)
{
	struct buf b;
	buf_init(&b, 1024 * 1024);
	ctl_table_add(t, ctl_json_text(&b, json_object_get(obj, key)));
	buf_free(&b);
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	}
	return w;
}

void ctl_table_print(struct ctl_table *t, FILE *out)
{
	size_t cols = t->columns, n = t->cells.count;
	size_t *width = mem_calloc(cols, sizeof(size_t));

	for (size_t i = 0; i < n; i++) {
		size_t w = text_width(*ARRAY_IDX(&t->cells, char *, i));
		if (w > width[i % cols])
			width[i % cols] = w;
	}
	for (size_t i = 0; i < n; i++) {
		char **cell = ARRAY_IDX(&t->cells, char *, i);
		size_t col = i % cols;
		fputs(*cell, out);
		if (col + 1 == cols || i + 1 == n) {
			fputc('\n', out);
		} else {
			for (size_t pad = text_width(*cell); pad < width[col] + 2; pad++)
				fputc(' ', out);
		}
		mem_free(cell);
	}
	mem_free(&width);
	array_free(&t->cells);
}

/* ---------------------------------------------------------------- process */

static void *json_alloc(size_t size)
{
	return mem_alloc(size);
}

static void json_release(void *ptr)
{
	mem_free(&ptr);
}

void ctl_init(void)
{
	const char *v;

	json_set_alloc_funcs(json_alloc, json_release);
	if ((v = getenv("TANDEM_URL")) != NULL && v[0] != '\0')
		settings.url = v;
	if ((v = getenv("TANDEM_ADMIN_USER")) != NULL && v[0] != '\0')
		settings.admin_user = v;
	if ((v = getenv("TANDEM_ADMIN_PASS")) != NULL)
		settings.admin_pass = v;
}
