/* SPDX-License-Identifier: MIT */
/* addressbook-query's filter (RFC 6352 §10.5): prop-filter with is-not-defined, text-match
   (equals, contains, starts-with, ends-with; negate-condition; i;unicode-casemap,
   i;ascii-casemap, i;octet) and param-filter, combined anyof/allof, evaluated on the stored
   text: content lines unfolded, groups ("item1.") dropped, values unescaped, a vCard 3.0
   bare parameter ("TEL;WORK") taken as TYPE=WORK (docs/internals/dav.md "CardDAV"). */
#include "api-carddav-filter.h"

#include <string.h>
#include <strings.h>

#include "content-line.h"
#include "mem.h"

/* A byte that is not UTF-8, kept as it is. */
#define RAW_BYTE 0x80000000u

/* One code point of s at *i (advanced), or RAW_BYTE | the byte when it is not UTF-8. */
static unsigned next_cp(const unsigned char *s, size_t len, size_t *i)
{
	unsigned c = s[*i];
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n == 1 || *i + n > len) {
		(*i)++;
		return c < 0x80 ? c : RAW_BYTE | c;
	}
	unsigned cp = c & (0x3f >> (n - 1));
	for (size_t k = 1; k < n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return RAW_BYTE | c;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	*i += n;
	return cp;
}

static void put_cp(struct buf *out, unsigned cp)
{
	if (cp & RAW_BYTE) {
		buf_append_char(out, (char)(cp & 0xff));
	} else if (cp < 0x80) {
		buf_append_char(out, (char)cp);
	} else if (cp < 0x800) {
		buf_append_char(out, (char)(0xc0 | (cp >> 6)));
		buf_append_char(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_append_char(out, (char)(0xe0 | (cp >> 12)));
		buf_append_char(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_append_char(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_append_char(out, (char)(0xf0 | (cp >> 18)));
		buf_append_char(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_append_char(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_append_char(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Simple case folding of the scripts vCards mostly hold. */
static unsigned fold_cp(unsigned c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) || (c >= 0x410 && c <= 0x42f))
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	if (((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) && c % 2 == 0)
		return c + 1;
	if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && c % 2 == 1)
		return c + 1;
	if (c == 0x178)
		return 0xff;
	if (c == 0x3c2) /* final sigma */
		return 0x3c3;
	return c;
}

void carddav_fold(const char *s, size_t len, enum carddav_collation collation, struct buf *out)
{
	buf_reset(out);
	if (collation == CARDDAV_OCTET) {
		buf_append(out, s, len);
		return;
	}
	/* ASCII folds to ASCII in both collations: in place, up to the first other byte */
	buf_append(out, s, len);
	size_t i = 0;
	for (; i < out->len && (collation == CARDDAV_ASCII_CASEMAP || (s[i] & 0x80) == 0); i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			out->data[i] = (char)(s[i] + 32);
	if (i == out->len)
		return;
	out->len = i;
	out->data[i] = '\0';
	while (i < len)
		put_cp(out, fold_cp(next_cp((const unsigned char *)s, len, &i)));
}

/* Whether value passes tm. */
static bool text_match(const struct carddav_text_match *tm, const char *value, size_t len,
                       struct buf *folded)
{
	carddav_fold(value, len, tm->collation, folded);
	const char *h = folded->data != NULL ? folded->data : "";
	size_t n = folded->len, k = tm->len;
	bool r = false;
	switch (tm->match) {
	case CARDDAV_EQUALS:
		r = n == k && memcmp(h, tm->text, k) == 0;
		break;
	case CARDDAV_STARTS_WITH:
		r = n >= k && memcmp(h, tm->text, k) == 0;
		break;
	case CARDDAV_ENDS_WITH:
		r = n >= k && memcmp(h + n - k, tm->text, k) == 0;
		break;
	case CARDDAV_CONTAINS:
		r = k == 0;
		for (size_t i = 0; !r && i + k <= n; i++)
			r = memcmp(h + i, tm->text, k) == 0;
		break;
	}
	return r != tm->negate;
}

/* One content line, parsed in place: name, parameters, value (unescaped into value). */
struct line {
	const char *name;
	size_t name_len;
	const char *params; /* from the first ';' to the value's ':' */
	size_t params_len;
	struct buf value;
};

static void parse_line(const char *l, size_t n, struct line *out)
{
	size_t i = 0, dot = 0;
	while (i < n && l[i] != ';' && l[i] != ':') {
		if (l[i] == '.')
			dot = i + 1; /* a group prefix */
		i++;
	}
	out->name = l + dot;
	out->name_len = i - dot;
	size_t v = content_line_value_start(l + i, n - i) + i;
	out->params = l + i;
	out->params_len = v > i && l[v - 1] == ':' ? v - 1 - i : v - i;
	buf_reset(&out->value);
	content_line_unescape(l + v, n - v, &out->value);
}

/* Calls fn for each value of the parameters named name (a bare 3.0 parameter is a TYPE;
   comma-separated values one by one, quotes removed) until it returns true: whether one
   did, and *defined_r whether the parameter is there. */
static bool each_param(const struct line *ln, const char *name, bool *defined_r,
                       bool (*fn)(const void *arg, const char *v, size_t len, struct buf *tmp),
                       const void *arg, struct buf *tmp)
{
	const char *s = ln->params, *end = ln->params + ln->params_len;
	size_t want = strlen(name);
	*defined_r = false;
	while (s < end) {
		s++; /* the ';' */
		const char *q = s;
		bool quoted = false;
		while (q < end && (quoted || *q != ';')) {
			if (*q == '"')
				quoted = !quoted;
			q++;
		}
		const char *eq = memchr(s, '=', (size_t)(q - s));
		const char *pname = eq != NULL ? s : "TYPE", *v = eq != NULL ? eq + 1 : s;
		size_t plen = eq != NULL ? (size_t)(eq - s) : 4;
		if (plen == want && strncasecmp(pname, name, want) == 0) {
			*defined_r = true;
			if (fn == NULL)
				return true;
			/* a list, quoted as a whole or value by value: each value on its own */
			while (v <= q) {
				const char *c = memchr(v, ',', (size_t)(q - v));
				if (c == NULL)
					c = q;
				const char *a = v, *b = c;
				if (a < b && *a == '"')
					a++;
				if (a < b && b[-1] == '"')
					b--;
				if (fn(arg, a, (size_t)(b - a), tmp))
					return true;
				v = c + 1;
			}
		}
		s = q;
	}
	return false;
}

static bool param_text(const void *arg, const char *v, size_t len, struct buf *tmp)
{
	return text_match(arg, v, len, tmp);
}

static bool param_match(const struct carddav_param_filter *pf, const struct line *ln,
                        struct buf *tmp)
{
	bool defined;
	if (pf->is_not_defined) {
		each_param(ln, pf->name, &defined, NULL, NULL, tmp);
		return !defined;
	}
	if (pf->text == NULL) {
		each_param(ln, pf->name, &defined, NULL, NULL, tmp);
		return defined;
	}
	if (!pf->text->negate)
		return each_param(ln, pf->name, &defined, param_text, pf->text, tmp);
	/* negated: the parameter is there and none of its values matches */
	struct carddav_text_match plain = *pf->text;
	plain.negate = false;
	bool any = each_param(ln, pf->name, &defined, param_text, &plain, tmp);
	return defined && !any;
}

/* Whether one instance of the property passes the prop-filter's tests. */
static bool instance_match(const struct carddav_prop_filter *pf, const struct line *ln,
                           struct buf *tmp)
{
	size_t tests = pf->text_count + pf->param_count;
	if (tests == 0)
		return true;
	for (size_t i = 0; i < tests; i++) {
		bool ok =
		    i < pf->text_count
		        ? text_match(&pf->texts[i], ln->value.data != NULL ? ln->value.data : "",
		                     ln->value.len, tmp)
		        : param_match(&pf->params[i - pf->text_count], ln, tmp);
		if (ok && !pf->allof)
			return true;
		if (!ok && pf->allof)
			return false;
	}
	return pf->allof;
}

/* Whether the content line at text (len bytes to the card's end) may be one a prop-filter
   names: false only when its name, read up to ';' or ':' without a fold in between, is none
   of theirs (the line is then skipped without unfolding or unescaping it). */
static bool named(const struct carddav_filter *f, const char *text, size_t len)
{
	size_t i = 0, dot = 0;
	while (i < len && text[i] != ';' && text[i] != ':') {
		if (text[i] == '\r' || text[i] == '\n')
			return true; /* folded within the name, or no value: read it whole */
		if (text[i] == '.')
			dot = i + 1;
		i++;
	}
	if (i == len)
		return true;
	for (size_t k = 0; k < f->count; k++)
		if (strlen(f->props[k].name) == i - dot &&
		    strncasecmp(text + dot, f->props[k].name, i - dot) == 0)
			return true;
	return false;
}

/* Past the content line at *pos and its folded continuations. */
static void skip_line(const char *text, size_t len, size_t *pos)
{
	size_t i = *pos;
	do {
		const char *nl = memchr(text + i, '\n', len - i);
		i = nl != NULL ? (size_t)(nl - text) + 1 : len;
	} while (i < len && (text[i] == ' ' || text[i] == '\t'));
	*pos = i;
}

void carddav_filter_scratch_free(struct carddav_filter_scratch *s)
{
	if (s->count == 0)
		return;
	buf_free(&s->raw);
	buf_free(&s->tmp);
	buf_free(&s->value);
	mem_free(&s->defined);
	mem_free(&s->matched);
	s->count = 0;
}

bool carddav_filter_match(const struct carddav_filter *f, struct carddav_filter_scratch *s,
                          const char *text, size_t len)
{
	if (f->count == 0)
		return true;
	if (s->count == 0) {
		buf_init(&s->raw, CARDDAV_FILTER_TEXT_MAX);
		buf_init(&s->tmp, 4 * CARDDAV_FILTER_TEXT_MAX + 4);
		buf_init(&s->value, CARDDAV_FILTER_TEXT_MAX);
		s->defined = mem_calloc(f->count, sizeof(*s->defined));
		s->matched = mem_calloc(f->count, sizeof(*s->matched));
		s->count = f->count;
	}
	bool *defined = s->defined, *matched = s->matched;
	memset(defined, 0, f->count * sizeof(*defined));
	memset(matched, 0, f->count * sizeof(*matched));
	struct line ln = {.value = s->value};
	size_t pos = 0;
	while (pos < len) {
		if (!named(f, text + pos, len - pos)) {
			skip_line(text, len, &pos);
			continue;
		}
		content_line_next_line(text, len, &pos, &s->raw);
		parse_line(s->raw.data != NULL ? s->raw.data : "", s->raw.len, &ln);
		for (size_t i = 0; i < f->count; i++) {
			const struct carddav_prop_filter *pf = &f->props[i];
			if (ln.name_len != strlen(pf->name) ||
			    strncasecmp(ln.name, pf->name, ln.name_len) != 0)
				continue;
			defined[i] = true;
			if (!pf->is_not_defined && !matched[i])
				matched[i] = instance_match(pf, &ln, &s->tmp);
		}
	}
	s->value = ln.value; /* it may have grown */
	bool result = f->allof;
	for (size_t i = 0; i < f->count; i++) {
		const struct carddav_prop_filter *pf = &f->props[i];
		bool ok = pf->is_not_defined ? !defined[i] : matched[i];
		if (ok != f->allof) {
			result = ok;
			break;
		}
	}
	return result;
}
