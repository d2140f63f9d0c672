/* SPDX-License-Identifier: MIT */
/* calendar-data as a REPORT asks for it (RFC 4791 §9.6): expand and limit-recurrence-set
   through cal-ical.c, limit-freebusy-set (no VFREEBUSY is stored: nothing to limit), and the
   comp/prop selection applied line by line so what is kept stays byte-equal to what was
   stored (docs/internals/calendar.md "CalDAV"). */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api-caldav-data.h"
#include "buf.h"
#include "cal-ical.h"
#include "mem.h"
#include "pool.h"

bool caldav_utc_time(const char *s, int64_t *t_r)
{
	struct tm tm = {0};
	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	const char *end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*t_r = (int64_t)timegm(&tm);
	return true;
}

bool caldav_time_range(struct pool *pool, xmlNode *range, int64_t *start_r, int64_t *end_r)
{
	const char *s = davobj_attr(pool, range, "start");
	const char *e = davobj_attr(pool, range, "end");
	*start_r = INT32_MIN * (int64_t)4; /* open */
	*end_r = INT32_MAX * (int64_t)4;
	return (s != NULL || e != NULL) && (s == NULL || caldav_utc_time(s, start_r)) &&
	       (e == NULL || caldav_utc_time(e, end_r));
}

/* ---------------------------------------------------------------------------- parsing */

/* Selections nest no deeper than iCalendar objects may (CAL_ICAL_MAX_DEPTH). */
static int parse_comp(struct pool *pool, xmlNode *el, unsigned depth, struct caldav_comp_sel *sel,
                      const char **error_r)
{
	sel->name = davobj_attr(pool, el, "name");
	if (sel->name == NULL) {
		*error_r = "a comp in calendar-data needs a name";
		return -1;
	}
	if (depth > CAL_ICAL_MAX_DEPTH) {
		*error_r = "comp elements in calendar-data nest too deep";
		return -1;
	}
	size_t np = 0, nc = 0;
	for (xmlNode *c = el->children; c != NULL; c = c->next) {
		np += davobj_elem(c, CALDAV_NS, "prop");
		nc += davobj_elem(c, CALDAV_NS, "comp");
		sel->allprop = sel->allprop || davobj_elem(c, CALDAV_NS, "allprop");
		sel->allcomp = sel->allcomp || davobj_elem(c, CALDAV_NS, "allcomp");
	}
	sel->props = pool_calloc(pool, np + 1, sizeof(*sel->props));
	sel->comps = pool_calloc(pool, nc + 1, sizeof(*sel->comps));
	for (xmlNode *c = el->children; c != NULL; c = c->next) {
		if (davobj_elem(c, CALDAV_NS, "prop")) {
			const char *name = davobj_attr(pool, c, "name");
			if (name == NULL) {
				*error_r = "a prop in calendar-data needs a name";
				return -1;
			}
			sel->props[sel->prop_count++] = name;
		} else if (davobj_elem(c, CALDAV_NS, "comp") &&
		           parse_comp(pool, c, depth + 1, &sel->comps[sel->comp_count++], error_r) <
		               0) {
			return -1;
		}
	}
	return 0;
}

int caldav_data_parse(struct pool *pool, xmlNode *el, struct caldav_data *cd_r,
                      const char **error_r)
{
	memset(cd_r, 0, sizeof(*cd_r));
	xmlNode *expand = davobj_child(el, CALDAV_NS, "expand");
	xmlNode *limit = davobj_child(el, CALDAV_NS, "limit-recurrence-set");
	xmlNode *fb = davobj_child(el, CALDAV_NS, "limit-freebusy-set");
	xmlNode *comp = davobj_child(el, CALDAV_NS, "comp");
	if (expand != NULL && limit != NULL) {
		*error_r = "calendar-data takes expand or limit-recurrence-set, not both";
		return -1;
	}
	xmlNode *range = expand != NULL ? expand : limit;
	int64_t s, e;
	if ((range != NULL && !caldav_time_range(pool, range, &cd_r->start, &cd_r->end)) ||
	    (fb != NULL && !caldav_time_range(pool, fb, &s, &e))) {
		*error_r = "expand, limit-recurrence-set and limit-freebusy-set take start and "
		           "end as UTC date-times (20260302T090000Z)";
		return -1;
	}
	cd_r->expand = expand != NULL;
	cd_r->limit = limit != NULL;
	if (comp != NULL) {
		cd_r->sel = pool_calloc(pool, 1, sizeof(*cd_r->sel));
		if (parse_comp(pool, comp, 0, cd_r->sel, error_r) < 0)
			return -1;
	}
	return 0;
}

/* -------------------------------------------------------------------------- selection */

static const struct caldav_comp_sel keep_all = {.allprop = true, .allcomp = true};

/* The length of the content line at text (its folded continuations with it, line ends
   included). */
static size_t line_len(const char *text, size_t len)
{
	size_t i = 0;
	for (;;) {
		const char *nl = memchr(text + i, '\n', len - i);
		i = nl != NULL ? (size_t)(nl - text) + 1 : len;
		if (i >= len || (text[i] != ' ' && text[i] != '\t'))
			return i;
	}
}

/* Whether line begins with the name (followed by ':' or ';'). */
static bool named(const char *line, size_t n, const char *name)
{
	size_t l = strlen(name);
	return n > l && strncasecmp(line, name, l) == 0 && (line[l] == ':' || line[l] == ';');
}

/* The component a BEGIN line opens (its name in out, cut at 63 bytes). */
static void begin_name(const char *line, size_t n, char out[64])
{
	size_t l = 0;
	for (size_t i = 6; i < n && line[i] != '\r' && line[i] != '\n' && l < 63; i++)
		out[l++] = line[i];
	out[l] = '\0';
}

static const struct caldav_comp_sel *sub_sel(const struct caldav_comp_sel *sel, const char *name)
{
	if (sel->allcomp)
		return &keep_all;
	for (size_t i = 0; i < sel->comp_count; i++)
		if (strcasecmp(sel->comps[i].name, name) == 0)
			return &sel->comps[i];
	return NULL;
}

static bool prop_kept(const struct caldav_comp_sel *sel, const char *line, size_t n)
{
	if (sel->allprop)
		return true;
	for (size_t i = 0; i < sel->prop_count; i++)
		if (named(line, n, sel->props[i]))
			return true;
	return false;
}

/* text with only what sel keeps, into out. */
static void select_text(const struct caldav_comp_sel *sel, const char *text, size_t len,
                        struct buf *out)
{
	const struct caldav_comp_sel *stack[CAL_ICAL_MAX_DEPTH + 2];
	size_t depth = 0; /* stack[depth - 1]: the open component's selection (NULL: left out) */
	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		size_t n = line_len(line, len - pos);
		pos += n;
		const struct caldav_comp_sel *top = depth > 0 ? stack[depth - 1] : NULL;
		if (n >= 6 && strncasecmp(line, "BEGIN:", 6) == 0) {
			char name[64];
			begin_name(line, n, name);
			const struct caldav_comp_sel *s =
			    depth == 0    ? (strcasecmp(sel->name, name) == 0 ? sel : NULL)
			    : top != NULL ? sub_sel(top, name)
			                  : NULL;
			if (depth < sizeof(stack) / sizeof(stack[0]))
				stack[depth++] = s;
			if (s != NULL)
				buf_append(out, line, n);
		} else if (n >= 4 && strncasecmp(line, "END:", 4) == 0) {
			if (top != NULL)
				buf_append(out, line, n);
			if (depth > 0)
				depth--;
		} else if (top != NULL && prop_kept(top, line, n)) {
			buf_append(out, line, n);
		}
	}
}

int caldav_data_render(struct pool *pool, const struct caldav_data *cd, const char *text,
                       size_t len, struct strv *out_r, const char **error_r)
{
	*out_r = strv_make(text, len);
	if (cd->expand || cd->limit) {
		char *rewritten, error[256];
		size_t n;
		if (cal_ical_limit(text, len, cd->start, cd->end, cd->expand, &rewritten, &n, error,
		                   sizeof(error)) < 0) {
			*error_r = pool_strdup(pool, error);
			return -1;
		}
		*out_r = strv_make(pool_strndup(pool, rewritten, n), n);
		mem_free(&rewritten);
	}
	if (cd->sel != NULL) {
		struct buf b;
		buf_init(&b, out_r->len + 1);
		select_text(cd->sel, out_r->ptr, out_r->len, &b);
		*out_r = strv_make(pool_strndup(pool, b.data, b.len), b.len);
		buf_free(&b);
	}
	return 0;
}
