/* SPDX-License-Identifier: MIT */
/* vCard 3.0 and 4.0: parsing one card into its columns, splitting files, building a card. */
#include "vcard.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "strv.h"

#define PARAMS_MAX 32

struct param {
	const char *name; /* NULL for a 3.0 bare type ("TEL;WORK:") */
	const char *value;
};

/* One content line, unfolded: group.name;params:value (pointers into the line buffer). */
struct line {
	const char *group, *name, *value;
	size_t value_len;
	struct param params[PARAMS_MAX];
	size_t param_count;
};

struct parser {
	struct pool *pool;
	const char *text;
	size_t len, pos;
	unsigned lineno; /* physical line of the current content line's start */
	char *buf;       /* the unfolded line (room for len + 1) */
	char *error;
	size_t error_size;
	bool v4, has_version, ended;
	struct buf emails, phones;
	size_t email_count, phone_count, props;
	struct vcard_info *info;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[200];
	va_list args;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (p->lineno > 0)
		snprintf(p->error, p->error_size, "line %u: %s", p->lineno, msg);
	else
		snprintf(p->error, p->error_size, "%s", msg);
	return -1;
}

/* Whether s[0..len) is well-formed UTF-8 without NUL; when not, *bad_r is where. */
static bool utf8_valid(const unsigned char *s, size_t len, size_t *bad_r)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;
		if (c == 0)
			goto bad;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			goto bad;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	*bad_r = i;
	return false;
}

/* The next physical line from p->pos (without CR LF) into *start and *n; false at the end. */
static bool physical(struct parser *p, const char **start, size_t *n)
{
	if (p->pos >= p->len)
		return false;
	const char *s = p->text + p->pos;
	const char *nl = memchr(s, '\n', p->len - p->pos);
	size_t l = nl != NULL ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += l + (nl != NULL ? 1 : 0);
	if (l > 0 && s[l - 1] == '\r')
		l--;
	*start = s;
	*n = l;
	return true;
}

static bool continues(const struct parser *p)
{
	return p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t');
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* The next logical line unfolded into p->buf and split into *l: 1, 0 at the end, -1. */
static int next_line(struct parser *p, struct line *l)
{
	const char *s;
	size_t n, used = 0;
	do {
		if (!physical(p, &s, &n))
			return 0;
		p->lineno++;
	} while (n == 0); /* blank lines between properties are tolerated */
	memcpy(p->buf, s, n);
	used = n;
	while (continues(p)) {
		physical(p, &s, &n);
		p->lineno++;
		memcpy(p->buf + used, s + 1, n - 1);
		used += n - 1;
	}
	p->buf[used] = '\0';
	if (++p->props > VCARD_PROPS_MAX)
		return fail(p, "more than %d content lines", VCARD_PROPS_MAX);

	memset(l, 0, sizeof(*l));
	char *c = p->buf, *name = c;
	while (name_char(*c) || *c == '.')
		c++;
	if (*c != ';' && *c != ':')
		return fail(p, "a content line must be NAME[;PARAM…]:VALUE (\"%.40s\")", p->buf);
	char sep = *c;
	*c++ = '\0';
	char *dot = strchr(name, '.');
	if (dot != NULL) {
		*dot = '\0';
		l->group = name;
		name = dot + 1;
		if (l->group[0] == '\0' || strchr(name, '.') != NULL)
			return fail(p, "bad property group in \"%.40s\"", l->group);
	}
	if (name[0] == '\0')
		return fail(p, "a content line without a property name");
	l->name = name;
	while (sep == ';') {
		if (l->param_count == PARAMS_MAX)
			return fail(p, "%s has more than %d parameters", name, PARAMS_MAX);
		struct param *pa = &l->params[l->param_count++];
		char *pn = c;
		while (name_char(*c))
			c++;
		if (c == pn)
			return fail(p, "%s: an empty parameter name", name);
		if (*c == ';' || *c == ':') { /* a bare type (3.0) */
			sep = *c;
			*c++ = '\0';
			pa->value = pn;
			continue;
		}
		if (*c != '=')
			return fail(p, "%s: parameter %.40s without '='", name, pn);
		*c++ = '\0';
		pa->name = pn;
		pa->value = c;
		/* values, comma-separated, each quoted or not; the raw text is kept */
		for (;;) {
			if (*c == '"') {
				char *q = strchr(c + 1, '"');
				if (q == NULL)
					return fail(p, "%s: an unterminated quoted parameter value",
					            name);
				c = q + 1;
			} else {
				while (*c != '\0' && *c != ';' && *c != ':' && *c != ',' &&
				       *c != '"')
					c++;
			}
			if (*c != ',')
				break;
			c++;
		}
		if (*c != ';' && *c != ':')
			return fail(p, "%s: bad value of parameter %s", name, pa->name);
		/* one quoted value is read without its quotes */
		size_t vl = (size_t)(c - pa->value);
		if (vl >= 2 && pa->value[0] == '"' && c[-1] == '"' &&
		    memchr(pa->value + 1, '"', vl - 2) == NULL) {
			c[-1] = '\0';
			pa->value++;
		}
		sep = *c;
		*c++ = '\0';
	}
	l->value = c;
	l->value_len = strlen(c);
	for (size_t i = 0; i < l->value_len; i++)
		if ((unsigned char)c[i] < 0x20 && c[i] != '\t')
			return fail(p, "%s: a control character in the value", name);
	return 1;
}

static const char *param(const struct line *l, const char *name)
{
	for (size_t i = 0; i < l->param_count; i++)
		if (l->params[i].name != NULL && strcasecmp(l->params[i].name, name) == 0)
			return l->params[i].value;
	return NULL;
}

/* 3.0 quoted-printable: soft line breaks joined (the following physical lines appended to
   the value), then =XX decoded in place. */
static int quoted_printable(struct parser *p, struct line *l)
{
	char *v = (char *)l->value;
	size_t n = l->value_len;
	const char *s;
	size_t sn;
	while (n > 0 && v[n - 1] == '=' && physical(p, &s, &sn)) {
		p->lineno++;
		memcpy(v + n - 1, s, sn); /* fits: the value came from the same text */
		n += sn - 1;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] != '=') {
			v[o++] = v[i];
			continue;
		}
		int hi = i + 2 < n ? strv_hex_digit(v[i + 1]) : -1,
		    lo = i + 2 < n ? strv_hex_digit(v[i + 2]) : -1;
		if (hi < 0 || lo < 0 || hi + lo == 0)
			return fail(p, "%s: bad quoted-printable escape (=XX, not =00)", l->name);
		v[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	v[o] = '\0';
	l->value_len = o;
	for (size_t i = 0; i < o; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
			return fail(p, "%s: a control character in the quoted-printable value",
			            l->name);
	size_t bad;
	if (!utf8_valid((const unsigned char *)v, o, &bad))
		return fail(p, "%s: the quoted-printable value is not UTF-8", l->name);
	return 0;
}

/* The value's text decoded (ENCODING, CHARSET), in place. */
static int decode(struct parser *p, struct line *l)
{
	const char *enc = param(l, "ENCODING"), *charset = param(l, "CHARSET");
	for (size_t i = 0; i < l->param_count && enc == NULL; i++)
		if (l->params[i].name == NULL &&
		    strcasecmp(l->params[i].value, "QUOTED-PRINTABLE") == 0)
			enc = l->params[i].value;
	if (charset != NULL && strcasecmp(charset, "UTF-8") != 0 &&
	    strcasecmp(charset, "US-ASCII") != 0)
		return fail(p, "%s: CHARSET %.40s is not supported (UTF-8 only)", l->name, charset);
	if (enc == NULL || strcasecmp(enc, "b") == 0 || strcasecmp(enc, "BASE64") == 0)
		return 0;
	if (strcasecmp(enc, "QUOTED-PRINTABLE") != 0)
		return fail(p, "%s: unknown ENCODING %.40s", l->name, enc);
	if (p->v4)
		return fail(p, "%s: quoted-printable is not allowed in vCard 4.0", l->name);
	return quoted_printable(p, l);
}

/* A text value unescaped into the pool: \n \N newline, \\ \, \; \: themselves; with
   structured, unescaped ';' become sep (components). */
static char *unescape(struct parser *p, const char *v, size_t n, const char *sep)
{
	struct buf b;
	buf_init(&b, n * 2 + 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n) {
			char c = v[++i];
			buf_append_char(&b, c == 'n' || c == 'N' ? '\n' : c);
		} else if (v[i] == ';' && sep != NULL) {
			buf_append_str(&b, sep);
		} else {
			buf_append_char(&b, v[i]);
		}
	}
	char *out = pool_strndup(p->pool, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

/* Trims separators from both ends (an ORG or N with empty components). */
static const char *trim(char *s, const char *chars)
{
	size_t n = strlen(s);
	while (n > 0 && strchr(chars, s[n - 1]) != NULL)
		s[--n] = '\0';
	while (*s != '\0' && strchr(chars, *s) != NULL)
		s++;
	return s;
}

static int single(struct parser *p, const char **slot, const char *name, const char *value,
                  size_t max)
{
	if (*slot != NULL)
		return fail(p, "%s appears more than once", name);
	if (strlen(value) > max)
		return fail(p, "%s is longer than %zu bytes", name, max);
	*slot = value;
	return 0;
}

static int multi(struct parser *p, struct buf *b, size_t *count, const char *name,
                 const char *value)
{
	if (*count >= VCARD_MULTI_MAX)
		return fail(p, "more than %d %s properties", VCARD_MULTI_MAX, name);
	if (strlen(value) > 256)
		return fail(p, "%s is longer than 256 bytes", name);
	if (strchr(value, '\n') != NULL)
		return fail(p, "%s holds a line break", name);
	if (value[0] == '\0')
		return 0;
	if ((*count)++ > 0)
		buf_append_char(b, '\n');
	buf_append_str(b, value);
	return 0;
}

static int property(struct parser *p, struct line *l)
{
	struct vcard_info *in = p->info;
	const char *name = l->name;
	if (strcasecmp(name, "BEGIN") == 0)
		return fail(p, "BEGIN:%.20s inside a card (one card per object)", l->value);
	if (strcasecmp(name, "VERSION") == 0) {
		if (p->has_version)
			return fail(p, "VERSION appears more than once");
		p->has_version = true;
		if (strcmp(l->value, "4.0") == 0)
			p->v4 = true;
		else if (strcmp(l->value, "3.0") != 0)
			return fail(p, "vCard version %.20s is not supported (3.0 or 4.0)",
			            l->value);
		in->version = p->v4 ? "4.0" : "3.0";
		return 0;
	}
	bool photo = strcasecmp(name, "PHOTO") == 0 || strcasecmp(name, "LOGO") == 0;
	if (photo) {
		if (l->value_len > VCARD_PHOTO_MAX) {
			fail(p, "%s of %zu bytes is larger than the limit of %d bytes", name,
			     l->value_len, VCARD_PHOTO_MAX);
			return VCARD_TOO_LARGE;
		}
		in->has_photo |= strcasecmp(name, "PHOTO") == 0;
		return 0;
	}
	bool want = strcasecmp(name, "FN") == 0 || strcasecmp(name, "N") == 0 ||
	            strcasecmp(name, "UID") == 0 || strcasecmp(name, "EMAIL") == 0 ||
	            strcasecmp(name, "TEL") == 0 || strcasecmp(name, "ORG") == 0 ||
	            strcasecmp(name, "BDAY") == 0;
	if (decode(p, l) < 0)
		return -1;
	if (!want)
		return 0;
	if (strcasecmp(name, "N") == 0)
		return single(p, &in->n, "N", trim(unescape(p, l->value, l->value_len, ";"), ";"),
		              VCARD_FIELD_MAX);
	if (strcasecmp(name, "ORG") == 0)
		return single(p, &in->org, "ORG",
		              trim(unescape(p, l->value, l->value_len, ", "), ", "),
		              VCARD_FIELD_MAX);
	const char *v = unescape(p, l->value, l->value_len, NULL);
	if (strcasecmp(name, "FN") == 0) /* 4.0 allows several (ALTID): the first counts */
		return in->fn != NULL && p->v4 ? 0 : single(p, &in->fn, "FN", v, VCARD_FIELD_MAX);
	if (strcasecmp(name, "UID") == 0)
		return v[0] == '\0' ? fail(p, "UID is empty")
		                    : single(p, &in->uid, "UID", v, VCARD_UID_MAX);
	if (strcasecmp(name, "BDAY") == 0)
		return single(p, &in->birthday, "BDAY", v, VCARD_BDAY_MAX);
	if (strcasecmp(name, "EMAIL") == 0)
		return multi(p, &p->emails, &p->email_count, "EMAIL", v);
	if (strncasecmp(v, "tel:", 4) == 0)
		v += 4;
	return multi(p, &p->phones, &p->phone_count, "TEL", v);
}

static const char *joined(struct parser *p, struct buf *b)
{
	return pool_strndup(p->pool, b->data != NULL ? b->data : "", b->len);
}

/* FN from a 3.0 card's N: "Given Family". */
static const char *fn_of_n(struct parser *p, const char *n)
{
	const char *semi = strchr(n, ';');
	if (semi == NULL)
		return n;
	const char *given = semi + 1, *end = strchr(given, ';');
	size_t gl = end != NULL ? (size_t)(end - given) : strlen(given);
	if (gl == 0)
		return pool_strndup(p->pool, n, (size_t)(semi - n));
	return pool_printf(p->pool, "%.*s %.*s", (int)gl, given, (int)(semi - n), n);
}

static int parse_card(struct parser *p)
{
	struct line l;
	size_t at = 0;
	while (at < p->len && (p->text[at] == '\r' || p->text[at] == '\n'))
		at++;
	if (at + 11 > p->len || strncasecmp(p->text + at, "BEGIN:VCARD", 11) != 0)
		return fail(p, "a vCard starts with BEGIN:VCARD");
	int r = next_line(p, &l);
	if (r < 0)
		return -1;
	if (r == 0 || strcasecmp(l.name, "BEGIN") != 0 || strcasecmp(l.value, "VCARD") != 0)
		return fail(p, "a vCard starts with BEGIN:VCARD");
	while ((r = next_line(p, &l)) > 0) {
		if (strcasecmp(l.name, "END") == 0) {
			if (strcasecmp(l.value, "VCARD") != 0)
				return fail(p, "END:%.20s where END:VCARD was expected", l.value);
			p->ended = true;
			break;
		}
		if ((r = property(p, &l)) < 0)
			return r;
	}
	if (r < 0)
		return -1;
	if (!p->ended)
		return fail(p, "the card has no END:VCARD");
	const char *s;
	size_t n;
	while (physical(p, &s, &n)) {
		p->lineno++;
		if (n > 0)
			return fail(p, "text after END:VCARD (one card per object)");
	}
	p->lineno = 0;
	struct vcard_info *in = p->info;
	if (!p->has_version)
		return fail(p, "VERSION is missing");
	if (in->uid == NULL)
		return fail(p, "UID is missing");
	if (in->fn == NULL && (p->v4 || in->n == NULL))
		return fail(p, p->v4 ? "FN is missing (required in vCard 4.0)"
		                     : "FN and N are missing");
	if (in->fn == NULL)
		in->fn = fn_of_n(p, in->n);
	return 0;
}

int vcard_parse(struct pool *pool, const char *text, size_t len, struct vcard_info *info_r,
                char *error, size_t error_size)
{
	struct parser p = {.pool = pool,
	                   .text = text,
	                   .len = len,
	                   .error = error,
	                   .error_size = error_size,
	                   .info = info_r};
	size_t bad;
	memset(info_r, 0, sizeof(*info_r));
	if (len > VCARD_MAX_SIZE) {
		fail(&p, "the card of %zu bytes is larger than the limit of %d bytes", len,
		     VCARD_MAX_SIZE);
		return VCARD_TOO_LARGE;
	}
	if (!utf8_valid((const unsigned char *)text, len, &bad))
		return fail(&p, "byte %zu: not UTF-8 text (or a NUL byte)", bad);
	p.buf = mem_alloc(len + 1);
	buf_init(&p.emails, VCARD_MAX_SIZE);
	buf_init(&p.phones, VCARD_MAX_SIZE);
	int ret = parse_card(&p);
	info_r->emails = joined(&p, &p.emails);
	info_r->phones = joined(&p, &p.phones);
	buf_free(&p.emails);
	buf_free(&p.phones);
	mem_free(&p.buf);
	const char **strs[] = {&info_r->uid, &info_r->fn, &info_r->n, &info_r->org,
	                       &info_r->birthday};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (*strs[i] == NULL)
			*strs[i] = "";
	if (info_r->version == NULL)
		info_r->version = "";
	return ret;
}

/* --- files of many cards --- */

static bool line_is(const char *s, size_t n, const char *what)
{
	size_t w = strlen(what);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == w && strncasecmp(s, what, w) == 0;
}

int vcard_split(struct pool *pool, const char *text, size_t len, size_t max,
                struct vcard_slice **cards_r, size_t *count_r, char *error, size_t error_size)
{
	struct parser p = {.text = text, .len = len, .error = error, .error_size = error_size};
	size_t count = 0, room = 16, start = 0;
	struct vcard_slice *cards = pool_alloc(pool, room * sizeof(*cards));
	bool in_card = false;
	const char *s;
	size_t n, at;
	*count_r = 0;
	while (at = p.pos, physical(&p, &s, &n)) {
		p.lineno++;
		if (!in_card) {
			if (n == 0 || line_is(s, n, ""))
				continue;
			if (!line_is(s, n, "BEGIN:VCARD"))
				return fail(&p, "BEGIN:VCARD expected between cards");
			if (count == max)
				return fail(&p, "the file holds more than %zu cards", max);
			in_card = true;
			start = at;
		} else if (line_is(s, n, "END:VCARD") && !continues(&p)) {
			if (count == room) {
				struct vcard_slice *more =
				    pool_alloc(pool, 2 * room * sizeof(*more));
				memcpy(more, cards, room * sizeof(*more));
				cards = more;
				room *= 2;
			}
			cards[count].text = text + start;
			cards[count].len = p.pos - start;
			count++;
			in_card = false;
		}
	}
	if (in_card)
		return fail(&p, "the last card has no END:VCARD");
	if (count == 0)
		return fail(&p, "the file holds no BEGIN:VCARD");
	*cards_r = cards;
	*count_r = count;
	return 0;
}

/* --- writing --- */

/* name:value with the value escaped (structured: ';' kept between components given as
   separate values), folded at 75 bytes without splitting a UTF-8 sequence. */
static void content_line(struct buf *b, const char *name, const char *const *parts, size_t n)
{
	struct buf line;
	buf_init(&line, VCARD_MAX_SIZE);
	buf_append_str(&line, name);
	buf_append_char(&line, ':');
	for (size_t k = 0; k < n; k++) {
		if (k > 0)
			buf_append_char(&line, ';');
		for (const char *c = parts[k] != NULL ? parts[k] : ""; *c != '\0'; c++) {
			if (*c == '\n')
				buf_append_lit(&line, "\\n");
			else if (*c == '\r')
				continue;
			else {
				if (*c == '\\' || *c == ',' || *c == ';')
					buf_append_char(&line, '\\');
				buf_append_char(&line, *c);
			}
		}
	}
	size_t col = 0;
	for (size_t i = 0; i < line.len; i++) {
		unsigned char c = (unsigned char)line.data[i];
		if (col >= 75 && (c & 0xc0) != 0x80) {
			buf_append_lit(b, "\r\n ");
			col = 1;
		}
		buf_append_char(b, (char)c);
		col++;
	}
	buf_append_lit(b, "\r\n");
	buf_free(&line);
}

const char *vcard_build(struct pool *pool, const struct vcard_fields *f)
{
	struct buf b;
	buf_init(&b, VCARD_MAX_SIZE * 2);
	buf_append_lit(&b, "BEGIN:VCARD\r\nVERSION:4.0\r\n");
	content_line(&b, "UID", &f->uid, 1);
	content_line(&b, "FN", &f->fn, 1);
	if (f->family != NULL || f->given != NULL) {
		const char *n[] = {f->family, f->given, "", "", ""};
		content_line(&b, "N", n, 5);
	}
	if (f->org != NULL && f->org[0] != '\0')
		content_line(&b, "ORG", &f->org, 1);
	if (f->birthday != NULL && f->birthday[0] != '\0')
		content_line(&b, "BDAY", &f->birthday, 1);
	for (size_t i = 0; f->emails != NULL && f->emails[i] != NULL; i++)
		content_line(&b, "EMAIL", &f->emails[i], 1);
	for (size_t i = 0; f->phones != NULL && f->phones[i] != NULL; i++)
		content_line(&b, "TEL", &f->phones[i], 1);
	buf_append_lit(&b, "END:VCARD\r\n");
	const char *out = pool_strndup(pool, b.data, b.len);
	buf_free(&b);
	return out;
}
