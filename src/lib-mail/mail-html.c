/* SPDX-License-Identifier: MIT */
/* The HTML sanitiser: libxml2 builds the tree as a browser would recover it (unclosed tags,
   stray end tags, entities decoded); the walk below writes it again from allow-lists only,
   iteratively, so neither depth nor size of the input can exhaust the stack
   (fuzz-mail-html checks the output's invariants). */
#include "mail-html.h"

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"

/* ------------------------------------------------------------------ the allow-lists */

enum element_action {
	ELEMENT_KEEP, /* written with its allowed attributes */
	ELEMENT_DROP, /* dropped with everything inside it */
};

#define F_VOID  0x1 /* no content, written as <x/> */
#define F_BLOCK 0x2 /* a line break before and after in the text rendering */

struct element {
	const char *name;
	enum element_action action;
	unsigned flags;
	const char *attrs; /* allowed attributes besides the global ones, space separated */
};

/* Elements not listed are unwrapped: their tags go, their content stays (html, body, form,
   custom and Office tags, …). */
static const struct element elements[] = {
    {"a", ELEMENT_KEEP, 0, " href "},
    {"abbr", ELEMENT_KEEP, 0, ""},
    {"address", ELEMENT_KEEP, F_BLOCK, ""},
    {"applet", ELEMENT_DROP, 0, ""},
    {"area", ELEMENT_DROP, 0, ""},
    {"article", ELEMENT_KEEP, F_BLOCK, ""},
    {"aside", ELEMENT_KEEP, F_BLOCK, ""},
    {"audio", ELEMENT_DROP, 0, ""},
    {"b", ELEMENT_KEEP, 0, ""},
    {"base", ELEMENT_DROP, 0, ""},
    {"basefont", ELEMENT_DROP, 0, ""},
    {"bdi", ELEMENT_KEEP, 0, ""},
    {"bdo", ELEMENT_KEEP, 0, ""},
    {"bgsound", ELEMENT_DROP, 0, ""},
    {"big", ELEMENT_KEEP, 0, ""},
    {"blockquote", ELEMENT_KEEP, F_BLOCK, ""},
    {"br", ELEMENT_KEEP, F_VOID, ""},
    {"button", ELEMENT_DROP, 0, ""},
    {"canvas", ELEMENT_DROP, 0, ""},
    {"caption", ELEMENT_KEEP, F_BLOCK, ""},
    {"center", ELEMENT_KEEP, F_BLOCK, ""},
    {"cite", ELEMENT_KEEP, 0, ""},
    {"code", ELEMENT_KEEP, 0, ""},
    {"col", ELEMENT_KEEP, F_VOID, " span width "},
    {"colgroup", ELEMENT_KEEP, 0, " span width "},
    {"datalist", ELEMENT_DROP, 0, ""},
    {"dd", ELEMENT_KEEP, F_BLOCK, ""},
    {"del", ELEMENT_KEEP, 0, ""},
    {"dfn", ELEMENT_KEEP, 0, ""},
    {"dialog", ELEMENT_DROP, 0, ""},
    {"div", ELEMENT_KEEP, F_BLOCK, ""},
    {"dl", ELEMENT_KEEP, F_BLOCK, ""},
    {"dt", ELEMENT_KEEP, F_BLOCK, ""},
    {"em", ELEMENT_KEEP, 0, ""},
    {"embed", ELEMENT_DROP, 0, ""},
    {"figcaption", ELEMENT_KEEP, F_BLOCK, ""},
    {"figure", ELEMENT_KEEP, F_BLOCK, ""},
    {"font", ELEMENT_KEEP, 0, " color face size "},
    {"footer", ELEMENT_KEEP, F_BLOCK, ""},
    {"frame", ELEMENT_DROP, 0, ""},
    {"frameset", ELEMENT_DROP, 0, ""},
    {"h1", ELEMENT_KEEP, F_BLOCK, ""},
    {"h2", ELEMENT_KEEP, F_BLOCK, ""},
    {"h3", ELEMENT_KEEP, F_BLOCK, ""},
    {"h4", ELEMENT_KEEP, F_BLOCK, ""},
    {"h5", ELEMENT_KEEP, F_BLOCK, ""},
    {"h6", ELEMENT_KEEP, F_BLOCK, ""},
    {"head", ELEMENT_DROP, 0, ""},
    {"header", ELEMENT_KEEP, F_BLOCK, ""},
    {"hr", ELEMENT_KEEP, F_VOID | F_BLOCK, " size noshade color "},
    {"i", ELEMENT_KEEP, 0, ""},
    {"iframe", ELEMENT_DROP, 0, ""},
    {"ilayer", ELEMENT_DROP, 0, ""},
    {"img", ELEMENT_KEEP, F_VOID, " src alt border hspace vspace "},
    {"input", ELEMENT_DROP, 0, ""},
    {"ins", ELEMENT_KEEP, 0, ""},
    {"isindex", ELEMENT_DROP, 0, ""},
    {"kbd", ELEMENT_KEEP, 0, ""},
    {"keygen", ELEMENT_DROP, 0, ""},
    {"layer", ELEMENT_DROP, 0, ""},
    {"li", ELEMENT_KEEP, F_BLOCK, " type value "},
    {"link", ELEMENT_DROP, 0, ""},
    {"main", ELEMENT_KEEP, F_BLOCK, ""},
    {"map", ELEMENT_DROP, 0, ""},
    {"mark", ELEMENT_KEEP, 0, ""},
    {"math", ELEMENT_DROP, 0, ""},
    {"meta", ELEMENT_DROP, 0, ""},
    {"nav", ELEMENT_KEEP, F_BLOCK, ""},
    {"noembed", ELEMENT_DROP, 0, ""},
    {"noframes", ELEMENT_DROP, 0, ""},
    {"noscript", ELEMENT_DROP, 0, ""},
    {"object", ELEMENT_DROP, 0, ""},
    {"ol", ELEMENT_KEEP, F_BLOCK, " start type reversed "},
    {"optgroup", ELEMENT_DROP, 0, ""},
    {"option", ELEMENT_DROP, 0, ""},
    {"p", ELEMENT_KEEP, F_BLOCK, ""},
    {"param", ELEMENT_DROP, 0, ""},
    {"picture", ELEMENT_DROP, 0, ""},
    {"portal", ELEMENT_DROP, 0, ""},
    {"pre", ELEMENT_KEEP, F_BLOCK, ""},
    {"q", ELEMENT_KEEP, 0, ""},
    {"s", ELEMENT_KEEP, 0, ""},
    {"samp", ELEMENT_KEEP, 0, ""},
    {"script", ELEMENT_DROP, 0, ""},
    {"section", ELEMENT_KEEP, F_BLOCK, ""},
    {"select", ELEMENT_DROP, 0, ""},
    {"small", ELEMENT_KEEP, 0, ""},
    {"source", ELEMENT_DROP, 0, ""},
    {"span", ELEMENT_KEEP, 0, ""},
    {"strike", ELEMENT_KEEP, 0, ""},
    {"strong", ELEMENT_KEEP, 0, ""},
    {"style", ELEMENT_DROP, 0, ""},
    {"sub", ELEMENT_KEEP, 0, ""},
    {"sup", ELEMENT_KEEP, 0, ""},
    {"svg", ELEMENT_DROP, 0, ""},
    {"table", ELEMENT_KEEP, F_BLOCK,
     " border cellpadding cellspacing width height bgcolor summary "},
    {"tbody", ELEMENT_KEEP, 0, ""},
    {"td", ELEMENT_KEEP, 0, " colspan rowspan width height bgcolor nowrap "},
    {"template", ELEMENT_DROP, 0, ""},
    {"textarea", ELEMENT_DROP, 0, ""},
    {"tfoot", ELEMENT_KEEP, 0, ""},
    {"th", ELEMENT_KEEP, 0, " colspan rowspan width height bgcolor nowrap scope "},
    {"thead", ELEMENT_KEEP, 0, ""},
    {"title", ELEMENT_DROP, 0, ""},
    {"tr", ELEMENT_KEEP, F_BLOCK, " bgcolor height "},
    {"track", ELEMENT_DROP, 0, ""},
    {"tt", ELEMENT_KEEP, 0, ""},
    {"u", ELEMENT_KEEP, 0, ""},
    {"ul", ELEMENT_KEEP, F_BLOCK, " type "},
    {"var", ELEMENT_KEEP, 0, ""},
    {"video", ELEMENT_DROP, 0, ""},
    {"wbr", ELEMENT_KEEP, F_VOID, ""},
    {"xml", ELEMENT_DROP, 0, ""},
    {"xmp", ELEMENT_KEEP, F_BLOCK, ""},
};

/* Attributes every kept element may carry (none of them loads or runs anything). */
static const char global_attrs[] = " title dir lang align valign width height style ";

/* CSS properties kept in style attributes: layout and typography, nothing that positions
   over the page, loads (background-image, list-style-image, content, cursor) or animates. */
static const char css_properties[] =
    " color background-color border border-top border-right border-bottom border-left"
    " border-color border-style border-width border-collapse border-spacing border-radius"
    " border-top-color border-right-color border-bottom-color border-left-color"
    " border-top-style border-right-style border-bottom-style border-left-style"
    " border-top-width border-right-width border-bottom-width border-left-width"
    " clear direction display float font font-family font-size font-style font-variant"
    " font-weight height letter-spacing line-height list-style-type margin margin-top"
    " margin-right margin-bottom margin-left max-height max-width min-height min-width"
    " padding padding-top padding-right padding-bottom padding-left table-layout"
    " text-align text-decoration text-indent text-transform vertical-align white-space"
    " width word-break word-spacing word-wrap overflow-wrap ";

/* name[0..len) a word of the space separated list. */
static bool in_list(const char *list, const char *name, size_t len)
{
	if (len == 0 || len > 40)
		return false;
	char word[44];
	word[0] = ' ';
	memcpy(word + 1, name, len);
	word[len + 1] = ' ';
	word[len + 2] = '\0';
	return strstr(list, word) != NULL;
}

static int element_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct element *)elem)->name);
}

static const struct element *element_find(const char *name)
{
	return bsearch(name, elements, sizeof(elements) / sizeof(elements[0]), sizeof(elements[0]),
	               element_cmp);
}

/* ------------------------------------------------------------------ URLs and CSS */

static const char *skip_space(const char *s)
{
	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	return s;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool link_allowed(const char *url)
{
	return has_prefix_ci(url, "http://") || has_prefix_ci(url, "https://") ||
	       has_prefix_ci(url, "mailto:");
}

static bool data_image_allowed(const char *url)
{
	static const char *const types[] = {"png", "gif", "jpeg", "jpg", "webp"};
	if (!has_prefix_ci(url, "data:image/"))
		return false;
	const char *t = url + strlen("data:image/");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i]);
		if (strncasecmp(t, types[i], n) == 0 && (t[n] == ';' || t[n] == ','))
			return true;
	}
	return false;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The attachment URL of cid:{id} (RFC 2392: the id percent-encoded), or NULL. */
static const char *cid_url(struct pool *pool, const char *url, const struct mail_html_cid *cids,
                           size_t count)
{
	const char *s = url + strlen("cid:");
	size_t n = strlen(s);
	char *id = pool_alloc(pool, n + 1), *o = id;
	for (size_t i = 0; i < n; i++) {
		int hi = s[i] == '%' && i + 2 < n ? hex_value(s[i + 1]) : -1;
		int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
		if (lo >= 0) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	for (size_t i = 0; i < count; i++)
		if (cids[i].cid != NULL && strcasecmp(cids[i].cid, id) == 0)
			return cids[i].url;
	return NULL;
}

/* A CSS value with nothing that could load or run: no escapes or comments (which could hide
   "url(" from this check), no braces, at-rules or markup, and no function but colours and
   calc(). */
static bool css_value_ok(const char *v, size_t len)
{
	static const char *const funcs[] = {"rgb", "rgba", "hsl", "hsla", "calc"};
	size_t ident = 0; /* length of the identifier just before i */
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (strchr("\\<>{}@&;`", c) != NULL ||
		    (c == '/' && i + 1 < len && v[i + 1] == '*') ||
		    (c == '*' && i + 1 < len && v[i + 1] == '/') ||
		    ((unsigned char)c < ' ' && c != '\t'))
			return false;
		if (c == '(') {
			bool ok = false;
			for (size_t f = 0; f < sizeof(funcs) / sizeof(funcs[0]); f++)
				ok |= ident == strlen(funcs[f]) &&
				      strncasecmp(v + i - ident, funcs[f], ident) == 0;
			if (!ok)
				return false;
		}
		bool word = g_ascii_isalnum(c) || c == '-' || c == '_';
		ident = word ? ident + 1 : 0;
	}
	return true;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && g_ascii_isspace(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && g_ascii_isspace((*s)[*len - 1]))
		(*len)--;
}

/* The allowed declarations of a style attribute, "name: value; …", into out. */
static void css_filter(struct buf *out, const char *style)
{
	const char *p = style;
	bool first = true;
	while (*p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (colon != NULL) {
			const char *name = p, *value = colon + 1;
			size_t nlen = (size_t)(colon - p), vlen = len - nlen - 1;
			trim(&name, &nlen);
			trim(&value, &vlen);
			char lower[44];
			for (size_t i = 0; i < nlen && i < sizeof(lower); i++)
				lower[i] = g_ascii_tolower(name[i]);
			if (nlen < sizeof(lower) && in_list(css_properties, lower, nlen) &&
			    vlen > 0 && css_value_ok(value, vlen)) {
				if (!first)
					buf_append_lit(out, "; ");
				buf_append(out, lower, nlen);
				buf_append_lit(out, ": ");
				buf_append(out, value, vlen);
				first = false;
			}
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
}

/* ------------------------------------------------------------------ writing */

struct sanitize {
	struct pool *pool;
	struct buf out, text;
	const struct mail_html_cid *cids;
	size_t cid_count;
	unsigned depth; /* elements written and open */
	unsigned pre;   /* <pre> elements open (whitespace kept in the text) */
	bool remote, truncated;
	bool text_space; /* the text rendering owes a space before its next word */
};

static void escape(struct buf *b, const char *s, bool attr)
{
	const char *run = s;
	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		default:
			break;
		}
		if (rep != NULL) {
			buf_append(b, run, (size_t)(s - run));
			buf_append_str(b, rep);
			run = s + 1;
		}
	}
	buf_append(b, run, (size_t)(s - run));
}

static void write_attr(struct buf *b, const char *name, const char *value)
{
	buf_append_char(b, ' ');
	buf_append_str(b, name);
	buf_append_lit(b, "=\"");
	escape(b, value, true);
	buf_append_char(b, '"');
}

static void text_newline(struct sanitize *s)
{
	if (s->text.len > 0 && s->text.data[s->text.len - 1] != '\n')
		buf_append_char(&s->text, '\n');
	s->text_space = false;
}

static void write_text(struct sanitize *s, const char *t)
{
	escape(&s->out, t, false);
	if (s->pre > 0) {
		buf_append_str(&s->text, t);
		return;
	}
	/* whitespace runs become one space, none at the start of a line */
	for (const char *p = t; *p != '\0'; p++) {
		if (g_ascii_isspace(*p)) {
			s->text_space = true;
			continue;
		}
		if (s->text_space && s->text.len > 0 && s->text.data[s->text.len - 1] != '\n')
			buf_append_char(&s->text, ' ');
		s->text_space = false;
		buf_append_char(&s->text, *p);
	}
}

/* The attribute a (of element e) written as allowed, or not at all. */
static void write_attribute(struct sanitize *s, xmlNode *n, xmlAttr *a)
{
	const char *name = (const char *)a->name;
	const struct element *e = n->_private;
	size_t nlen = strlen(name);
	if (!in_list(global_attrs, name, nlen) && !in_list(e->attrs, name, nlen))
		return;
	xmlChar *raw = xmlNodeListGetString(n->doc, a->children, 1);
	const char *value = raw != NULL ? (const char *)raw : "";
	if (strcmp(name, "style") == 0) {
		struct buf css;
		buf_init(&css, 64 * 1024);
		css_filter(&css, value);
		if (css.len > 0 && !buf_overflowed(&css))
			write_attr(&s->out, "style", css.data);
		buf_free(&css);
	} else if (strcmp(name, "href") == 0) {
		const char *url = skip_space(value);
		if (link_allowed(url)) {
			write_attr(&s->out, "href", url);
			buf_append_lit(&s->out, " target=\"_blank\" rel=\"noopener noreferrer\"");
		}
	} else if (strcmp(name, "src") == 0) {
		const char *url = skip_space(value);
		const char *local = has_prefix_ci(url, "cid:")
		                        ? cid_url(s->pool, url, s->cids, s->cid_count)
		                        : NULL;
		if (local != NULL) {
			write_attr(&s->out, "src", local);
		} else if (data_image_allowed(url)) {
			write_attr(&s->out, "src", url);
		} else if (has_prefix_ci(url, "http://") || has_prefix_ci(url, "https://")) {
			write_attr(&s->out, "data-tandem-src", url);
			s->remote = true;
		}
	} else {
		write_attr(&s->out, name, value);
	}
	xmlFree(raw);
}

static void open_element(struct sanitize *s, xmlNode *n, const struct element *e)
{
	n->_private = (void *)e;
	buf_append_char(&s->out, '<');
	buf_append_str(&s->out, e->name);
	for (xmlAttr *a = n->properties; a != NULL; a = a->next)
		write_attribute(s, n, a);
	if ((e->flags & F_VOID) != 0) {
		buf_append_lit(&s->out, "/>");
		n->_private = NULL;
		return;
	}
	buf_append_char(&s->out, '>');
	s->depth++;
}

static bool is_pre(const struct element *e)
{
	return e != NULL && (strcmp(e->name, "pre") == 0 || strcmp(e->name, "xmp") == 0);
}

/* Entering element n: true when its content is to be walked. */
static bool enter_element(struct sanitize *s, xmlNode *n)
{
	const struct element *e = element_find((const char *)n->name);
	if (e != NULL && e->action == ELEMENT_DROP)
		return false;
	if (e != NULL && (e->flags & F_BLOCK) != 0)
		text_newline(s);
	if (e != NULL && strcmp(e->name, "br") == 0) {
		buf_append_char(&s->text, '\n');
		s->text_space = false;
	}
	if (e != NULL && strcmp(e->name, "li") == 0)
		buf_append_lit(&s->text, "* ");
	if (e != NULL && (strcmp(e->name, "td") == 0 || strcmp(e->name, "th") == 0))
		s->text_space = true;
	if (is_pre(e))
		s->pre++;
	if (e != NULL && s->depth < MAIL_HTML_DEPTH_MAX)
		open_element(s, n, e);
	return true;
}

static void leave_element(struct sanitize *s, xmlNode *n)
{
	const struct element *e = element_find((const char *)n->name);
	if (e == NULL || e->action == ELEMENT_DROP)
		return;
	if (is_pre(e) && s->pre > 0)
		s->pre--;
	if ((e->flags & F_BLOCK) != 0)
		text_newline(s);
	if (n->_private == NULL)
		return;
	n->_private = NULL;
	s->depth--;
	buf_append_lit(&s->out, "</");
	buf_append_str(&s->out, e->name);
	buf_append_char(&s->out, '>');
}

/* Writes the tree below root, without recursion. */
static void walk(struct sanitize *s, xmlNode *root)
{
	xmlNode *n = root->children;
	while (n != NULL) {
		if (s->out.len > MAIL_HTML_OUTPUT_MAX || s->text.len > MAIL_HTML_OUTPUT_MAX) {
			/* close what is open and stop: the fragment stays well-formed */
			s->truncated = true;
			for (xmlNode *p = n->parent; p != NULL && p != root; p = p->parent)
				leave_element(s, p);
			return;
		}
		bool descend = false;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL)
				write_text(s, (const char *)n->content);
		} else if (n->type == XML_ELEMENT_NODE) {
			descend = enter_element(s, n);
		}
		if (descend && n->children != NULL) {
			n = n->children;
			continue;
		}
		for (;;) {
			if (n->type == XML_ELEMENT_NODE)
				leave_element(s, n);
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
			if (n == NULL || n == root)
				return;
		}
	}
}

/* ------------------------------------------------------------------ the entry point */

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	xmlInitParser();
}

void mail_html_sanitize(struct pool *pool, const char *html, size_t size,
                        const struct mail_html_cid *cids, size_t cid_count,
                        struct mail_html_result *r)
{
	pthread_once(&once, init_once);
	memset(r, 0, sizeof(*r));
	struct sanitize s = {.pool = pool, .cids = cids, .cid_count = cid_count};
	if (size > MAIL_HTML_INPUT_MAX) {
		size = MAIL_HTML_INPUT_MAX;
		s.truncated = true;
	}
	/* valid UTF-8 only: libxml2 would otherwise guess another charset for all of it */
	char *valid = g_utf8_make_valid(html, (gssize)size);
	/* the walk stops at the output limit between nodes; one node can still add its escaped
	   text (up to 6 times its input), which these hold */
	buf_init(&s.out, MAIL_HTML_OUTPUT_MAX + 8 * MAIL_HTML_INPUT_MAX);
	buf_init(&s.text, MAIL_HTML_OUTPUT_MAX + 8 * MAIL_HTML_INPUT_MAX);
	htmlDocPtr doc = htmlReadMemory(valid, (int)strlen(valid), NULL, "UTF-8",
	                                HTML_PARSE_NONET | HTML_PARSE_NOERROR |
	                                    HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
	g_free(valid);
	if (doc != NULL) {
		walk(&s, (xmlNode *)doc);
		xmlFreeDoc(doc);
	}
	/* the text without the blank lines the block elements leave at its ends */
	size_t start = 0, end = s.text.len;
	while (start < end && s.text.data[start] == '\n')
		start++;
	while (end > start && (s.text.data[end - 1] == '\n' || s.text.data[end - 1] == ' '))
		end--;
	while (end > start && ((unsigned char)s.text.data[end - 1] & 0x80) != 0 &&
	       !g_utf8_validate(s.text.data + start, (gssize)(end - start), NULL))
		end--; /* a character the size limit cut */
	bool cut = buf_overflowed(&s.out) || buf_overflowed(&s.text);
	if (buf_overflowed(&s.out))
		buf_reset(&s.out); /* cut somewhere inside a tag: nothing rather than that */
	r->html = pool_strndup(pool, s.out.data != NULL ? s.out.data : "", s.out.len);
	r->text = pool_strndup(pool, s.text.data != NULL ? s.text.data + start : "", end - start);
	r->remote_content = s.remote;
	r->truncated = s.truncated || cut;
	buf_free(&s.out);
	buf_free(&s.text);
}
