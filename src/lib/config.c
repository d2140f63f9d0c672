/* SPDX-License-Identifier: MIT */
/* INI configuration: inih does the tokenising, this file checks it against a schema. */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "hostport.h"
#include "buf.h"
#include "mem.h"
#include "pool.h"
#include "strv.h"

/* inih truncates section names to this many bytes minus one (MAX_SECTION in ini.c). */
#define INIH_MAX_SECTION 50
/* Longest raw line we buffer; anything longer is an error anyway. */
#define READ_LINE_MAX  4096
#define ERROR_BUF_SIZE 4096

struct config_slot {
	const char *section;
	const struct config_key *key;
	struct array values; /* const char *, file order */
	struct array wheres; /* const char *: "file:line" of each value */
	const char *where;   /* "file:line" of the last value */
	int first_line;
};

struct config_family {
	const char *prefix; /* "member" for "member *" */
	struct array names; /* const char * */
};

struct config {
	struct pool *pool;
	struct config_key *schema; /* private copy, so the config outlives the caller's schema */
	size_t schema_count;
	struct array slots;    /* struct config_slot */
	struct array families; /* struct config_family */
};

struct load_error {
	int line;
	const char *msg;
};

struct load_ctx {
	struct config *config;
	const char *path;
	FILE *file;
	struct pool *tmp;
	struct array errors; /* struct load_error */
	int line;
	bool in_section; /* a valid [section] header has been seen */
	bool skip;       /* the current section is unknown or broken: its keys are not checked */
	char raw[READ_LINE_MAX];
};

/* One buffer per thread keeps config_load callable from several threads at once (tests,
   reload) without the caller managing error memory; 4 KiB holds dozens of messages. */
static __thread char config_error_buf[ERROR_BUF_SIZE];

static bool family_pattern(const char *pattern, size_t *prefix_len_r)
{
	size_t len = strlen(pattern);

	if (len < 2 || strcmp(pattern + len - 2, " *") != 0)
		return false;
	*prefix_len_r = len - 2;
	return true;
}

static bool section_matches(const char *pattern, const char *section)
{
	size_t plen;

	if (!family_pattern(pattern, &plen))
		return strcmp(pattern, section) == 0;
	/* "member *" needs "member " plus a non-empty name that does not start with a blank. */
	return strncmp(section, pattern, plen + 1) == 0 && section[plen + 1] != '\0' &&
	       !isspace((unsigned char)section[plen + 1]);
}

static const struct config_key *schema_find(const struct config *config, const char *section,
                                            const char *key)
{
	for (size_t i = 0; i < config->schema_count; i++) {
		const struct config_key *k = &config->schema[i];

		if (strcmp(k->key, key) == 0 && section_matches(k->section, section))
			return k;
	}
	return NULL;
}

static bool schema_has_section(const struct config *config, const char *section)
{
	for (size_t i = 0; i < config->schema_count; i++) {
		if (section_matches(config->schema[i].section, section))
			return true;
	}
	return false;
}

static struct config_slot *slot_find(const struct config *config, const char *section,
                                     const char *key)
{
	for (size_t i = 0; i < config->slots.count; i++) {
		struct config_slot *slot = array_idx(&config->slots, i);

		if (strcmp(slot->key->key, key) == 0 && strcmp(slot->section, section) == 0)
			return slot;
	}
	return NULL;
}

static int check_value(enum config_type type, const char *value, const char **error_r)
{
	char host[256];
	uint64_t u;
	uint16_t port;
	bool b;

	switch (type) {
	case CONFIG_STRING:
		return 0;
	case CONFIG_BOOL:
		return config_parse_bool(value, &b, error_r);
	case CONFIG_UINT:
		return config_parse_uint(value, &u, error_r);
	case CONFIG_DURATION:
		return config_parse_duration_ms(value, &u, error_r);
	case CONFIG_SIZE:
		return config_parse_size(value, &u, error_r);
	case CONFIG_ADDRESS:
		return config_parse_address(value, host, sizeof(host), &port, error_r);
	}
	*error_r = "unknown value type";
	return -1;
}

struct config *config_defaults(const struct config_key *schema)
{
	struct config *config = mem_calloc(1, sizeof(*config));
	const char *error __attribute__((unused));

	config->pool = pool_create(0);
	array_init(&config->slots, sizeof(struct config_slot));
	array_init(&config->families, sizeof(struct config_family));
	while (schema[config->schema_count].section != NULL)
		config->schema_count++;
	config->schema = pool_calloc(config->pool, config->schema_count, sizeof(*config->schema));
	for (size_t i = 0; i < config->schema_count; i++) {
		const struct config_key *src = &schema[i];
		struct config_key *k = &config->schema[i];
		size_t plen;
		bool known = false;

		k->section = pool_strdup(config->pool, src->section);
		k->key = pool_strdup(config->pool, src->key);
		k->type = src->type;
		k->repeatable = src->repeatable;
		k->default_value = src->default_value == NULL
		                       ? NULL
		                       : pool_strdup(config->pool, src->default_value);
		/* A bad default is a bug in the program, not in the operator's file. */
		assert(k->default_value == NULL ||
		       check_value(k->type, k->default_value, &error) == 0);

		if (!family_pattern(k->section, &plen))
			continue;
		for (size_t j = 0; j < config->families.count && !known; j++) {
			struct config_family *f = array_idx(&config->families, j);

			known =
			    strncmp(f->prefix, k->section, plen) == 0 && f->prefix[plen] == '\0';
		}
		if (!known) {
			struct config_family *f = array_push(&config->families);

			f->prefix = pool_strndup(config->pool, k->section, plen);
			array_init(&f->names, sizeof(const char *));
		}
	}
	return config;
}

void config_free(struct config **configp)
{
	struct config *config = *configp;

	if (config == NULL)
		return;
	for (size_t i = 0; i < config->slots.count; i++) {
		struct config_slot *slot = ARRAY_IDX(&config->slots, struct config_slot, i);
		array_free(&slot->values);
		array_free(&slot->wheres);
	}
	for (size_t i = 0; i < config->families.count; i++)
		array_free(&ARRAY_IDX(&config->families, struct config_family, i)->names);
	array_free(&config->slots);
	array_free(&config->families);
	pool_destroy(&config->pool);
	mem_free(configp);
}

static void add_error(struct load_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(struct load_ctx *ctx, int line, const char *fmt, ...)
{
	struct load_error *e = array_push(&ctx->errors);
	va_list args;

	e->line = line;
	va_start(args, fmt);
	e->msg = pool_vprintf(ctx->tmp, fmt, args);
	va_end(args);
}

static void note_section(struct load_ctx *ctx, const char *name)
{
	struct config *config = ctx->config;

	for (size_t i = 0; i < config->families.count; i++) {
		struct config_family *f = array_idx(&config->families, i);
		size_t plen = strlen(f->prefix);
		const char **slot;

		if (strncmp(name, f->prefix, plen) != 0 || name[plen] != ' ' ||
		    name[plen + 1] == '\0' || isspace((unsigned char)name[plen + 1]))
			continue;
		for (size_t j = 0; j < f->names.count; j++) {
			if (strcmp(*ARRAY_IDX(&f->names, const char *, j), name) == 0)
				return;
		}
		slot = array_push(&f->names);
		*slot = pool_strdup(config->pool, name);
		return;
	}
}

/* Same scan as inih's find_chars_or_comment(): stops at one of chars or at an inline ';'
   comment that follows whitespace. Mirroring it lets the reader predict what inih will do. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	       !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Checks a stripped line the way inih will read it. Returns false if the line is broken
   (the error is recorded) so the reader hides it from inih. */
static bool check_line(struct load_ctx *ctx, const char *s)
{
	const char *end, *rest;
	char name[INIH_MAX_SECTION];
	size_t len;

	if (*s == '\0' || *s == ';' || *s == '#')
		return true;
	if (*s != '[') {
		end = find_chars_or_comment(s, "=:");
		if (*end != '=' && *end != ':') {
			add_error(ctx, ctx->line, "expected \"key = value\" or \"[section]\"");
			return false;
		}
		return true;
	}

	/* Whatever happens, keys after a broken header must not be blamed on the old section. */
	ctx->skip = true;
	end = find_chars_or_comment(s + 1, "]");
	if (*end != ']') {
		add_error(ctx, ctx->line, "section header is missing ']'");
		return false;
	}
	for (rest = end + 1; isspace((unsigned char)*rest); rest++) {
	}
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		add_error(ctx, ctx->line, "unexpected text after ']'");
		return false;
	}
	len = (size_t)(end - (s + 1));
	if (len >= INIH_MAX_SECTION) {
		add_error(ctx, ctx->line, "section name longer than %d characters",
		          INIH_MAX_SECTION - 1);
		return false;
	}
	memcpy(name, s + 1, len);
	name[len] = '\0';
	if (!schema_has_section(ctx->config, name)) {
		add_error(ctx, ctx->line, "unknown section [%s]", name);
		return true;
	}
	ctx->skip = false;
	ctx->in_section = true;
	note_section(ctx, name);
	return true;
}

/* fgets() replacement for inih that counts lines, so every message can name its line, and
   pre-checks them: inih reports only the first syntax error, silently truncates long lines
   and section names, and treats indented lines as continuations of the previous value. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	size_t len = 0, total = 0;
	bool nul = false;
	char *s, *e;
	int c;

	while ((c = getc_unlocked(ctx->file)) != EOF && c != '\n') {
		if (c == '\0')
			nul = true;
		if (len < sizeof(ctx->raw) - 1)
			ctx->raw[len++] = (char)c;
		total++;
	}
	if (c == EOF && total == 0)
		return NULL;
	ctx->raw[len] = '\0';
	ctx->line++;

	s = ctx->raw;
	if (ctx->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';

	if (nul) {
		add_error(ctx, ctx->line, "line contains a NUL byte");
		ctx->skip = ctx->skip || *s == '[';
		s = e = ctx->raw + len; /* hand inih an empty line */
	} else if (total >= sizeof(ctx->raw) || (size_t)(e - s) + 2 > (size_t)num) {
		add_error(ctx, ctx->line, "line longer than %d characters", num - 2);
		ctx->skip = ctx->skip || *s == '[';
		s = e = ctx->raw + len;
	} else if (!check_line(ctx, s)) {
		s = e = ctx->raw + len;
	}
	memcpy(str, s, (size_t)(e - s));
	str[e - s] = '\n';
	str[e - s + 1] = '\0';
	return str;
}

static int handle_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	struct config *config = ctx->config;
	const struct config_key *k;
	struct config_slot *slot;
	const char *error;

	/* Always return 1: problems are recorded here with better messages than inih's. */
	if (ctx->skip)
		return 1;
	if (!ctx->in_section) {
		add_error(ctx, ctx->line, "%s: key outside any section", name);
		return 1;
	}
	k = schema_find(config, section, name);
	if (k == NULL) {
		add_error(ctx, ctx->line, "[%s] %s: unknown key", section, name);
		return 1;
	}
	if (check_value(k->type, value, &error) < 0) {
		add_error(ctx, ctx->line, "[%s] %s: %s, got \"%s\"", section, name, error, value);
		return 1;
	}
	slot = slot_find(config, section, name);
	if (slot != NULL && !k->repeatable) {
		add_error(ctx, ctx->line, "[%s] %s: already set on line %d", section, name,
		          slot->first_line);
		return 1;
	}
	if (slot == NULL) {
		slot = array_push(&config->slots);
		slot->section = pool_strdup(config->pool, section);
		slot->key = k;
		slot->first_line = ctx->line;
		array_init(&slot->values, sizeof(const char *));
		array_init(&slot->wheres, sizeof(const char *));
	}
	*(const char **)array_push(&slot->values) = pool_strdup(config->pool, value);
	slot->where = pool_printf(config->pool, "%s:%d", ctx->path, ctx->line);
	*(const char **)array_push(&slot->wheres) = slot->where;
	return 1;
}

static int error_cmp(const void *a, const void *b)
{
	const struct load_error *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* Joins the errors in line order; stops with a count when the buffer would overflow. */
static const char *format_errors(struct load_ctx *ctx)
{
	struct buf b;
	size_t n = ctx->errors.count;

	/* Insertion sort: errors arrive in line order except the rare safety-net entry, and
	   messages for one line keep the order in which they were found. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			struct load_error *x = array_idx(&ctx->errors, j - 1);
			struct load_error *y = array_idx(&ctx->errors, j);
			struct load_error t;

			if (error_cmp(x, y) <= 0)
				break;
			t = *x;
			*x = *y;
			*y = t;
		}
	}
	buf_init_fixed(&b, config_error_buf, sizeof(config_error_buf) - 64);
	for (size_t i = 0; i < n; i++) {
		const struct load_error *e = array_idx(&ctx->errors, i);
		size_t before = b.len;

		if (i > 0)
			buf_append_char(&b, '\n');
		if (e->line > 0)
			buf_printf(&b, "%s:%d: %s", ctx->path, e->line, e->msg);
		else
			buf_printf(&b, "%s: %s", ctx->path, e->msg);
		if (buf_overflowed(&b)) {
			/* The reserved tail of the buffer holds this note. */
			b.len = before;
			snprintf(config_error_buf + b.len, sizeof(config_error_buf) - b.len,
			         "\n(%zu more errors)", n - i);
			break;
		}
	}
	return config_error_buf;
}

int config_load(const char *path, const struct config_key *schema, struct config **config_r,
                const char **error_r)
{
	struct load_ctx *ctx = mem_calloc(1, sizeof(*ctx));
	int ret = -1, first_error;
	bool seen = false;

	*config_r = NULL;
	ctx->path = path;
	ctx->tmp = pool_create(0);
	array_init(&ctx->errors, sizeof(struct load_error));
	ctx->file = fopen(path, "re");
	if (ctx->file == NULL) {
		snprintf(config_error_buf, sizeof(config_error_buf), "%s: %s", path,
		         strerror(errno));
		*error_r = config_error_buf;
		goto out;
	}
	ctx->config = config_defaults(schema);

	first_error = ini_parse_stream(read_line, ctx, handle_entry, ctx);
	if (ferror(ctx->file))
		add_error(ctx, ctx->line, "read error: %s", strerror(errno));
	/* The reader should have caught every syntax error inih can see; this is the safety net
	   in case inih's rules ever differ from ours. */
	if (first_error > 0) {
		for (size_t i = 0; i < ctx->errors.count && !seen; i++)
			seen = ARRAY_IDX(&ctx->errors, struct load_error, i)->line == first_error;
		if (!seen)
			add_error(ctx, first_error, "syntax error");
	} else if (first_error < 0) {
		add_error(ctx, 0, "parser failed (%d)", first_error);
	}
	if (ctx->errors.count > 0) {
		*error_r = format_errors(ctx);
		goto out;
	}
	*config_r = ctx->config;
	ctx->config = NULL;
	ret = 0;
out:
	if (ctx->file != NULL)
		fclose(ctx->file);
	config_free(&ctx->config);
	array_free(&ctx->errors);
	pool_destroy(&ctx->tmp);
	mem_free(&ctx);
	return ret;
}

static const struct config_key *key_lookup(const struct config *config, const char *section,
                                           const char *key)
{
	const struct config_key *k = schema_find(config, section, key);

	/* Asking for a key the schema does not know is a typo in the program. */
	assert(k != NULL);
	return k;
}

const char *config_get_str(const struct config *config, const char *section, const char *key)
{
	const struct config_key *k = key_lookup(config, section, key);
	const struct config_slot *slot = slot_find(config, section, key);

	if (slot != NULL)
		return *ARRAY_IDX(&slot->values, const char *, slot->values.count - 1);
	return k->default_value;
}

static const char *typed_value(const struct config *config, const char *section, const char *key,
                               enum config_type type)
{
	const struct config_key *k = key_lookup(config, section, key);

	assert(k->type == type);
	(void)k;
	(void)type;
	return config_get_str(config, section, key);
}

bool config_get_bool(const struct config *config, const char *section, const char *key)
{
	const char *s = typed_value(config, section, key, CONFIG_BOOL), *error;
	bool v = false;

	if (s != NULL && config_parse_bool(s, &v, &error) < 0)
		assert(!"validated value fails to parse");
	return v;
}

uint64_t config_get_uint(const struct config *config, const char *section, const char *key)
{
	const char *s = typed_value(config, section, key, CONFIG_UINT), *error;
	uint64_t v = 0;

	if (s != NULL && config_parse_uint(s, &v, &error) < 0)
		assert(!"validated value fails to parse");
	return v;
}

uint64_t config_get_duration_ms(const struct config *config, const char *section, const char *key)
{
	const char *s = typed_value(config, section, key, CONFIG_DURATION), *error;
	uint64_t v = 0;

	if (s != NULL && config_parse_duration_ms(s, &v, &error) < 0)
		assert(!"validated value fails to parse");
	return v;
}

uint64_t config_get_size(const struct config *config, const char *section, const char *key)
{
	const char *s = typed_value(config, section, key, CONFIG_SIZE), *error;
	uint64_t v = 0;

	if (s != NULL && config_parse_size(s, &v, &error) < 0)
		assert(!"validated value fails to parse");
	return v;
}

bool config_is_set(const struct config *config, const char *section, const char *key)
{
	(void)key_lookup(config, section, key);
	return slot_find(config, section, key) != NULL;
}

const char *const *config_get_all(const struct config *config, const char *section, const char *key,
                                  size_t *count_r)
{
	static const char *const none[1] = {NULL};
	const struct config_key *k = key_lookup(config, section, key);
	const struct config_slot *slot = slot_find(config, section, key);

	if (slot != NULL) {
		*count_r = slot->values.count;
		return slot->values.data;
	}
	if (k->default_value != NULL) {
		/* The schema copy belongs to the config, so this one-element array lives as long.
		 */
		*count_r = 1;
		return &k->default_value;
	}
	*count_r = 0;
	return none;
}

const char *const *config_sections(const struct config *config, const char *family, size_t *count_r)
{
	static const char *const none[1] = {NULL};

	for (size_t i = 0; i < config->families.count; i++) {
		const struct config_family *f = array_idx(&config->families, i);

		if (strcmp(f->prefix, family) == 0 && f->names.count > 0) {
			*count_r = f->names.count;
			return f->names.data;
		}
	}
	*count_r = 0;
	return none;
}

const char *config_where(const struct config *config, const char *section, const char *key)
{
	const struct config_slot *slot;

	(void)key_lookup(config, section, key);
	slot = slot_find(config, section, key);
	return slot == NULL ? NULL : slot->where;
}

const char *config_where_nth(const struct config *config, const char *section, const char *key,
                             size_t i)
{
	const struct config_slot *slot;

	(void)key_lookup(config, section, key);
	slot = slot_find(config, section, key);
	return slot == NULL || i >= slot->wheres.count
	           ? NULL
	           : *(const char *const *)array_idx(&slot->wheres, i);
}

/* Splits s into leading digits and the rest; fails when there are no digits or they
   overflow. */
static int parse_number_prefix(const char *s, uint64_t *value_r, const char **rest_r,
                               bool *overflow_r)
{
	size_t n = 0;

	*overflow_r = false;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0)
		return -1;
	*rest_r = s + n;
	if (strv_to_u64(strv_make(s, n), value_r) < 0) {
		*overflow_r = true;
		return -1;
	}
	return 0;
}

int config_parse_uint(const char *s, uint64_t *value_r, const char **error_r)
{
	const char *rest;
	bool overflow;

	if (parse_number_prefix(s, value_r, &rest, &overflow) < 0 || *rest != '\0') {
		*error_r = overflow ? "number too large" : "expected a whole number";
		return -1;
	}
	return 0;
}

int config_parse_duration_ms(const char *s, uint64_t *ms_r, const char **error_r)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
	    {"", 1000},
	    {"ms", 1},
	    {"s", 1000},
	    {"m", 60 * 1000},
	    {"h", 3600 * 1000},
	    {"d", 86400 * 1000},
	    {"w", 7 * 86400 * 1000},
	};
	const char *rest;
	uint64_t v;
	bool overflow;

	if (parse_number_prefix(s, &v, &rest, &overflow) < 0) {
		*error_r = overflow ? "duration too large"
		                    : "expected a duration such as 500ms, 30s, 5m, 2h, 1d or 1w";
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].unit) != 0)
			continue;
		if (__builtin_mul_overflow(v, units[i].ms, ms_r)) {
			*error_r = "duration too large";
			return -1;
		}
		return 0;
	}
	*error_r = *rest == '.' || *rest == ',' ? "expected a whole number of ms, s, m, h, d or w"
	                                        : "unknown duration unit (use ms, s, m, h, d or w)";
	return -1;
}

int config_parse_size(const char *s, uint64_t *bytes_r, const char **error_r)
{
	const char *rest;
	uint64_t v, mult = 1;
	bool overflow;

	if (parse_number_prefix(s, &v, &rest, &overflow) < 0) {
		*error_r =
		    overflow ? "size too large" : "expected a size such as 4096, 64K, 16M or 1G";
		return -1;
	}
	if (*rest != '\0') {
		switch (*rest) {
		case 'K':
		case 'k':
			mult = 1024;
			break;
		case 'M':
		case 'm':
			mult = 1024 * 1024;
			break;
		case 'G':
		case 'g':
			mult = 1024 * 1024 * 1024;
			break;
		default:
			mult = 0;
			break;
		}
		if (mult == 0 || rest[1] != '\0') {
			*error_r = "unknown size unit (use K, M or G)";
			return -1;
		}
	}
	if (__builtin_mul_overflow(v, mult, bytes_r)) {
		*error_r = "size too large";
		return -1;
	}
	return 0;
}

int config_parse_bool(const char *s, bool *value_r, const char **error_r)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	*error_r = "expected true, false, yes, no, on, off, 1 or 0";
	return -1;
}

int config_parse_address(const char *s, char *host, size_t host_size, uint16_t *port_r,
                         const char **error_r)
{
	struct hostport hp;

	if (hostport_parse(strv_from_cstr(s), HOSTPORT_PORT_ZERO, 0, &hp, error_r) != HOSTPORT_OK)
		return -1;
	if (strlen(hp.host) >= host_size) {
		*error_r = "host name too long";
		return -1;
	}
	memcpy(host, hp.host, strlen(hp.host) + 1);
	*port_r = hp.port;
	return 0;
}
