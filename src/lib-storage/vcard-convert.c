/* SPDX-License-Identifier: MIT */
/* vCard 3.0 ⇄ 4.0, line by line: each content line unfolded, split into group, name,
   parameters and raw value, changed by the rules in vcard-convert.h and written folded. */
#include "vcard-convert.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "content-line.h"
#include "strv.h"
#include "vcard.h"

#define PARAMS_MAX 32
#define TYPES_MAX  16

struct param {
	const char *name, *value; /* value raw: quotes and commas as written */
};

/* One content line, split; strings in the pool. */
struct cline {
	const char *group; /* "item1." or "" */
	const char *name;  /* upper-cased */
	struct param params[PARAMS_MAX];
	size_t param_count;
	const char *types[TYPES_MAX]; /* TYPE values one by one (bare 3.0 ones too) */
	size_t type_count;
	bool pref;
	const char *value;
};

static char *upper(struct pool *pool, const char *s, size_t n)
{
	char *u = pool_strndup(pool, s, n);
	for (char *c = u; *c != '\0'; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	return u;
}

static void add_type(struct cline *l, struct pool *pool, const char *v, size_t n)
{
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n == 4 && strncasecmp(v, "pref", 4) == 0)
		l->pref = true;
	else if (n > 0 && l->type_count < TYPES_MAX)
		l->types[l->type_count++] = pool_strndup(pool, v, n);
}

/* The parameters between ';' … ':' (raw) into l: TYPE lists split, PREF noted. */
static void split_params(struct pool *pool, const char *s, size_t n, struct cline *l)
{
	size_t i = 0;
	while (i < n) {
		i++; /* the ';' */
		size_t start = i;
		bool quoted = false;
		while (i < n && (quoted || s[i] != ';')) {
			if (s[i] == '"')
				quoted = !quoted;
			i++;
		}
		const char *p = s + start, *eq = memchr(p, '=', i - start);
		size_t plen = eq != NULL ? (size_t)(eq - p) : i - start;
		const char *v = eq != NULL ? eq + 1 : p;
		size_t vlen = eq != NULL ? i - start - plen - 1 : i - start;
		if (eq == NULL || (plen == 4 && strncasecmp(p, "TYPE", 4) == 0)) {
			/* a bare 3.0 parameter is a TYPE; a list, quoted whole or not */
			for (size_t a = 0; a <= vlen;) {
				const char *c = memchr(v + a, ',', vlen - a);
				size_t b = c != NULL ? (size_t)(c - v) : vlen;
				size_t x = a, y = b;
				if (x < y && v[x] == '"')
					x++;
				if (x < y && v[y - 1] == '"')
					y--;
				add_type(l, pool, v + x, y - x);
				a = b + 1;
			}
		} else if (plen == 4 && strncasecmp(p, "PREF", 4) == 0) {
			l->pref = true;
		} else if (l->param_count < PARAMS_MAX) {
			l->params[l->param_count].name = upper(pool, p, plen);
			l->params[l->param_count++].value = pool_strndup(pool, v, vlen);
		}
	}
}

static void split_line(struct pool *pool, const char *s, size_t n, struct cline *l)
{
	memset(l, 0, sizeof(*l));
	size_t i = 0, dot = 0;
	while (i < n && s[i] != ';' && s[i] != ':') {
		if (s[i] == '.')
			dot = i + 1;
		i++;
	}
	l->group = pool_strndup(pool, s, dot);
	l->name = upper(pool, s + dot, i - dot);
	size_t v = content_line_value_start(s + i, n - i) + i;
	size_t pend = v > i && s[v - 1] == ':' ? v - 1 : v;
	split_params(pool, s + i, pend - i, l);
	l->value = pool_strndup(pool, s + v, n - v);
}

static const char *param(const struct cline *l, const char *name)
{
	for (size_t i = 0; i < l->param_count; i++)
		if (strcmp(l->params[i].name, name) == 0)
			return l->params[i].value;
	return NULL;
}

static void drop_param(struct cline *l, const char *name)
{
	for (size_t i = 0; i < l->param_count; i++)
		if (strcmp(l->params[i].name, name) == 0) {
			memmove(&l->params[i], &l->params[i + 1],
			        (l->param_count - i - 1) * sizeof(l->params[0]));
			l->param_count--;
			i--;
		}
}

static bool is(const char *a, const char *b)
{
	return a != NULL && strcasecmp(a, b) == 0;
}

static bool is_binary_prop(const char *name)
{
	return is(name, "PHOTO") || is(name, "LOGO") || is(name, "SOUND") || is(name, "KEY");
}

/* The media type family of a binary property. */
static const char *family(const char *name)
{
	return is(name, "SOUND") ? "audio" : is(name, "KEY") ? "application" : "image";
}

/* Well-formed UTF-8 without NUL (RFC 3629: no overlong forms, surrogates or values past
   U+10FFFF), as vcard_parse wants it. */
static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		size_t k = c >= 0xc2 && c <= 0xdf   ? 2
		           : c >= 0xe0 && c <= 0xef ? 3
		           : c >= 0xf0 && c <= 0xf4 ? 4
		                                    : 1;
		if (c == 0 || (k == 1 && c >= 0x80) || i + k > n)
			return false;
		unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		for (size_t j = 1; j < k; j++) {
			unsigned x = u[i + j];
			if (x < (j == 1 ? lo : 0x80) || x > (j == 1 ? hi : 0xbf))
				return false;
		}
		i += k;
	}
	return true;
}

/* Quoted-printable decoded (soft breaks already joined); s itself when that is not UTF-8
   text. */
static const char *qp_decode(struct pool *pool, const char *s)
{
	struct buf b;
	size_t n = strlen(s);
	buf_init(&b, n + 1);
	for (size_t i = 0; i < n; i++) {
		int hi = s[i] == '=' && i + 2 < n + 1 ? strv_hex_digit(s[i + 1]) : -1;
		int lo = hi >= 0 ? strv_hex_digit(s[i + 2]) : -1;
		if (lo >= 0) {
			buf_append_char(&b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_append_char(&b, s[i]);
		}
	}
	const char *out = valid_utf8(b.data != NULL ? b.data : "", b.len)
	                      ? pool_strndup(pool, b.data != NULL ? b.data : "", b.len)
	                      : s;
	buf_free(&b);
	return out;
}

/* Whether a raw line says its value is quoted-printable. */
static bool says_qp(const struct buf *raw)
{
	static const char qp[] = "QUOTED-PRINTABLE";
	size_t n = sizeof(qp) - 1;
	for (size_t i = 0; i + n <= raw->len; i++)
		if (strncasecmp(raw->data + i, qp, n) == 0)
			return true;
	return false;
}

/* A text value escaped (RFC 6350 §3.4). */
static const char *escape(struct pool *pool, const char *s)
{
	struct buf b;
	buf_init(&b, 2 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			buf_append_str(&b, "\\n");
			continue;
		}
		if (*s == ',' || *s == ';' || *s == '\\')
			buf_append_char(&b, '\\');
		buf_append_char(&b, *s);
	}
	const char *out = pool_strndup(pool, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

/* A 3.0 line as 4.0: false when 4.0 has no place for it. */
static bool to_v4(struct pool *pool, struct cline *l)
{
	static const char *const gone[] = {"NAME",  "PROFILE", "MAILER",     "CLASS",
	                                   "LABEL", "AGENT",   "SORT-STRING"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (is(l->name, gone[i]))
			return false;
	if (is(l->name, "VERSION"))
		l->value = "4.0";
	if (is(l->name, "X-ADDRESSBOOKSERVER-KIND"))
		l->name = "KIND";
	else if (is(l->name, "X-GENDER"))
		l->name = "GENDER";
	else if (is(l->name, "X-ANNIVERSARY"))
		l->name = "ANNIVERSARY";
	const char *enc = param(l, "ENCODING");
	if (is(enc, "QUOTED-PRINTABLE"))
		l->value = qp_decode(pool, l->value);
	drop_param(l, "CHARSET");
	drop_param(l, "ENCODING");
	if (is_binary_prop(l->name) && (is(enc, "b") || is(enc, "BASE64"))) {
		const char *sub = l->type_count > 0 ? l->types[0] : "jpeg";
		char *lower = pool_strdup(pool, sub);
		bool token = true;
		for (char *c = lower; *c != '\0'; c++) {
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
			token &= (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			         strchr(".+-", *c) != NULL;
		}
		l->value = pool_printf(pool, "data:%s/%s;base64,%s", family(l->name),
		                       token ? lower : "octet-stream", l->value);
		l->type_count = 0;
	}
	if (is_binary_prop(l->name))
		drop_param(l, "VALUE"); /* a URI is 4.0's default for them */
	for (size_t i = 0; i < l->type_count; i++)
		if (is(l->types[i], "internet")) /* 4.0 has no such EMAIL type */
			l->types[i--] = l->types[--l->type_count];
	return true;
}

/* A 4.0 line as 3.0: false when 3.0 has no place for it. */
static bool to_v3(struct pool *pool, struct cline *l)
{
	static const char *const gone[] = {"CLIENTPIDMAP", "XML"};
	static const char *const params[] = {"PID", "ALTID", "SORT-AS", "CALSCALE",  "GEO",
	                                     "TZ",  "LABEL", "INDEX",   "MEDIATYPE", "LEVEL"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (is(l->name, gone[i]))
			return false;
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		drop_param(l, params[i]);
	if (is(l->name, "VERSION"))
		l->value = "3.0";
	if (is(l->name, "KIND"))
		l->name = "X-ADDRESSBOOKSERVER-KIND";
	else if (is(l->name, "GENDER"))
		l->name = "X-GENDER";
	else if (is(l->name, "ANNIVERSARY"))
		l->name = "X-ANNIVERSARY";
	if (is(l->name, "TEL") && strncasecmp(l->value, "tel:", 4) == 0) {
		l->value += 4;
		drop_param(l, "VALUE");
	}
	const char *comma = strchr(l->value, ',');
	if (is_binary_prop(l->name) && strncasecmp(l->value, "data:", 5) == 0 && comma != NULL) {
		/* data:image/jpeg;base64,… → ENCODING=b;TYPE=JPEG:… */
		const char *slash = memchr(l->value, '/', (size_t)(comma - l->value));
		const char *semi = memchr(l->value, ';', (size_t)(comma - l->value));
		const char *sub_end = semi != NULL ? semi : comma;
		if (slash != NULL && slash < sub_end && l->param_count < PARAMS_MAX) {
			l->type_count = 0;
			l->types[l->type_count++] =
			    upper(pool, slash + 1, (size_t)(sub_end - slash - 1));
			l->params[l->param_count].name = "ENCODING";
			l->params[l->param_count++].value = "b";
			drop_param(l, "VALUE");
			l->value = comma + 1;
		}
	} else if (is_binary_prop(l->name) && param(l, "VALUE") == NULL &&
	           param(l, "ENCODING") == NULL && l->param_count < PARAMS_MAX) {
		l->params[l->param_count].name = "VALUE";
		l->params[l->param_count++].value = "uri";
	}
	return true;
}

/* Appends one content line, folded at 75 octets (never inside a UTF-8 sequence). */
static void put_line(struct buf *out, const char *s, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		bool starts = ((unsigned char)s[i] & 0xc0) != 0x80;
		if (col >= 75 && starts) {
			buf_append_str(out, "\r\n ");
			col = 1;
		}
		buf_append_char(out, s[i]);
		col++;
	}
	buf_append_str(out, "\r\n");
}

static void write_line(struct buf *out, struct buf *tmp, const struct cline *l, bool v4)
{
	buf_reset(tmp);
	buf_append_str(tmp, l->group);
	buf_append_str(tmp, l->name);
	for (size_t i = 0; i < l->param_count; i++) {
		buf_append_char(tmp, ';');
		buf_append_str(tmp, l->params[i].name);
		buf_append_char(tmp, '=');
		buf_append_str(tmp, l->params[i].value);
	}
	if (l->type_count > 0 || (l->pref && !v4)) {
		buf_append_str(tmp, ";TYPE=");
		for (size_t i = 0; i < l->type_count; i++) {
			if (i > 0)
				buf_append_char(tmp, ',');
			buf_append_str(tmp, l->types[i]);
		}
		if (l->pref && !v4)
			buf_append_str(tmp, l->type_count > 0 ? ",pref" : "pref");
	}
	if (l->pref && v4)
		buf_append_str(tmp, ";PREF=1");
	buf_append_char(tmp, ':');
	buf_append_str(tmp, l->value);
	put_line(out, tmp->data, tmp->len);
}

const char *vcard_version_of(struct pool *pool, const char *text, size_t len)
{
	struct buf raw;
	size_t pos = 0;
	const char *version = "";
	buf_init(&raw, len + 1);
	while (version[0] == '\0' && content_line_next_line(text, len, &pos, &raw))
		if (raw.len > 8 && strncasecmp(raw.data, "VERSION:", 8) == 0)
			version = pool_strndup(pool, raw.data + 8, raw.len - 8);
	buf_free(&raw);
	return version;
}

void vcard_convert(struct pool *pool, const char *text, size_t len, const char *to,
                   const char **out_r, size_t *len_r)
{
	*out_r = text;
	*len_r = len;
	if (strcmp(vcard_version_of(pool, text, len), to) == 0)
		return;
	struct vcard_info info;
	char error[256];
	if (vcard_parse(pool, text, len, &info, error, sizeof(error)) < 0)
		return; /* not a card this converts: as it is */
	bool v4 = strcmp(to, "4.0") == 0, has_n = false, has_fn = false;
	struct buf out, raw, tmp;
	buf_init(&out, 2 * len + 64);
	buf_init(&raw, len + 1);
	buf_init(&tmp, 2 * len + 64);
	size_t pos = 0;
	struct cline l;
	while (content_line_next_line(text, len, &pos, &raw)) {
		if (raw.len == 0)
			continue;
		/* a 3.0 quoted-printable value goes on after a soft line break ("=" at the end) */
		while (raw.data[raw.len - 1] == '=' && pos < len && says_qp(&raw)) {
			struct buf next;
			buf_init(&next, len + 1);
			content_line_next_line(text, len, &pos, &next);
			raw.len--;
			buf_append(&raw, next.data != NULL ? next.data : "", next.len);
			buf_free(&next);
		}
		buf_append_char(&raw, '\0');
		split_line(pool, raw.data, raw.len - 1, &l);
		has_n |= is(l.name, "N");
		if (is(l.name, "FN") && has_fn && !v4)
			continue; /* 4.0 may have several, 3.0 one */
		has_fn |= is(l.name, "FN");
		if (is(l.name, "END") && !v4 && !has_n) {
			struct cline n = {.group = "", .name = "N", .value = ";;;;"};
			write_line(&out, &tmp, &n, v4);
		}
		if (is(l.name, "END") && v4 && !has_fn) { /* 3.0 may give only N: FN made of it */
			struct cline fn = {
			    .group = "", .name = "FN", .value = escape(pool, info.fn)};
			write_line(&out, &tmp, &fn, v4);
		}
		if (v4 ? to_v4(pool, &l) : to_v3(pool, &l))
			write_line(&out, &tmp, &l, v4);
	}
	/* a card the rules cannot carry over whole (what vcard_parse reads differently from
	   them) stays as it is rather than going out broken */
	const char *conv = pool_strndup(pool, out.data != NULL ? out.data : "", out.len);
	struct vcard_info check;
	if (vcard_parse(pool, conv, out.len, &check, error, sizeof(error)) == 0 &&
	    strcmp(check.version, to) == 0 && strcmp(check.uid, info.uid) == 0) {
		*out_r = conv;
		*len_r = out.len;
	}
	buf_free(&out);
	buf_free(&raw);
	buf_free(&tmp);
}
