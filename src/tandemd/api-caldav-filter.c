/* SPDX-License-Identifier: MIT */
/* calendar-query's prop-filter (RFC 4791 §9.7.2) with is-not-defined, text-match (§9.7.5) and
   param-filter (§9.7.3),
   evaluated on an object's stored text: the properties of its components of the queried kind
   (the master and its overrides; not those of a VALARM inside), unfolded and unescaped
   (docs/internals/calendar.md "CalDAV"). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api-caldav-filter.h"
#include "buf.h"
#include "content-line.h"

/* Whether hay holds needle (octet: byte for byte, else ASCII case ignored). */
static bool contains(const char *hay, size_t hay_len, const char *needle, bool octet)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= hay_len; i++)
		if (octet ? memcmp(hay + i, needle, n) == 0 : strncasecmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

/* One content line's value (after the ':' that ends the name and parameters, quotes
   respected), unescaped into out. */
static void line_value(const char *line, size_t len, struct buf *out)
{
	size_t i = content_line_value_start(line, len);
	content_line_unescape(line + i, len - i, out);
}

/* Whether parameter p (is-not-defined, or a text-match on any of its values) holds on the
   content line. */
static bool param_match(const struct caldav_match *p, const char *line, size_t len)
{
	size_t n = strlen(p->name), i = 0;
	bool quoted = false, defined = false, matched = false;
	while (i < len && line[i] != ';' && line[i] != ':')
		i++; /* the property's name */
	while (i < len && line[i] == ';') {
		size_t name = ++i;
		while (i < len && line[i] != '=' && line[i] != ';' && line[i] != ':')
			i++;
		bool this = i - name == n && strncasecmp(line + name, p->name, n) == 0;
		if (i >= len || line[i] != '=')
			continue;
		/* its values: comma-separated, each maybe quoted */
		for (i++;;) {
			size_t v = i;
			quoted = i < len && line[i] == '"';
			if (quoted) {
				v = ++i;
				while (i < len && line[i] != '"')
					i++;
			} else {
				while (i < len && line[i] != ',' && line[i] != ';' &&
				       line[i] != ':')
					i++;
			}
			if (this) {
				defined = true;
				if (p->text != NULL &&
				    contains(line + v, i - v, p->text, p->octet) != p->negate)
					matched = true;
			}
			if (quoted && i < len)
				i++;
			if (i >= len || line[i] != ',')
				break;
			i++;
		}
	}
	if (p->is_not_defined)
		return !defined;
	return p->text != NULL ? matched : defined;
}

static bool line_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

bool caldav_filter_match(const struct caldav_prop_filter *f, const char *component,
                         const char *text, size_t len)
{
	struct buf line, value;
	buf_init(&line, len + 1);
	buf_init(&value, len + 1);
	size_t pos = 0;
	unsigned depth = 0; /* inside a component of the queried kind: 1; in its VALARM: 2 */
	bool defined = false, matched = false;
	char begin[64], end[64];
	snprintf(begin, sizeof(begin), "BEGIN:%s", component);
	snprintf(end, sizeof(end), "END:%s", component);
	while (content_line_next_line(text, len, &pos, &line)) {
		const char *l = line.data;
		size_t n = line.len;
		if (depth == 0) {
			if (n == strlen(begin) && strncasecmp(l, begin, n) == 0)
				depth = 1;
			continue;
		}
		if (n == strlen(end) && strncasecmp(l, end, n) == 0 && depth == 1) {
			depth = 0;
			continue;
		}
		if (n >= 6 && strncasecmp(l, "BEGIN:", 6) == 0) {
			depth++;
			continue;
		}
		if (n >= 4 && strncasecmp(l, "END:", 4) == 0) {
			depth--;
			continue;
		}
		if (depth != 1 || !line_is(l, n, f->m.name))
			continue;
		defined = true;
		bool ok = true;
		if (f->m.text != NULL) {
			buf_reset(&value);
			line_value(l, n, &value);
			ok = contains(value.data, value.len, f->m.text, f->m.octet) != f->m.negate;
		}
		for (size_t k = 0; ok && k < f->param_count; k++)
			ok = param_match(&f->params[k], l, n);
		matched = matched || ok;
	}
	buf_free(&line);
	buf_free(&value);
	if (f->m.is_not_defined)
		return !defined;
	return matched;
}
