/* SPDX-License-Identifier: MIT */
/* If header grammar (RFC 4918 §10.4.2) and its evaluation (§10.4.3, §10.4.4). */
#include <string.h>

#include "array.h"
#include "dav-headers.h"
#include "dav-if.h"
#include "pool.h"

/* Bounds the work one header can ask for; a real client sends a handful. */
#define IF_MAX_LISTS      256
#define IF_MAX_CONDITIONS 1024

static struct strv skip_lws(struct strv s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
		s = strv_make(s.ptr + 1, s.len - 1);
	return s;
}

static struct strv advance(struct strv s, size_t n)
{
	return strv_make(s.ptr + n, s.len - n);
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, then "]" with no space before it. */
static bool etag_take(struct strv *in, struct strv *etag_r)
{
	struct strv s = *in;
	size_t i = 0;
	if (s.len >= 2 && s.ptr[0] == 'W' && s.ptr[1] == '/')
		i = 2;
	if (i >= s.len || s.ptr[i] != '"')
		return false;
	for (size_t j = i + 1; j < s.len; j++) {
		unsigned char c = (unsigned char)s.ptr[j];
		if (c == '"') {
			if (j + 1 >= s.len || s.ptr[j + 1] != ']')
				return false;
			*etag_r = strv_make(s.ptr, j + 1);
			*in = advance(s, j + 2);
			return true;
		}
		/* etagc = %x21 / %x23-7E / obs-text, and SP as in the RFC's own examples */
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return false;
}

/* One List after its "(": conditions until ")". */
static int list_parse(struct strv *in, struct array *conds, const char **error_r)
{
	struct strv s = *in;
	size_t n = 0;
	for (;;) {
		s = skip_lws(s);
		if (s.len > 0 && s.ptr[0] == ')') {
			if (n == 0) {
				*error_r = "If: an empty list \"()\"";
				return -1;
			}
			*in = advance(s, 1);
			return 0;
		}
		if (conds->count >= IF_MAX_CONDITIONS) {
			*error_r = "If: too many conditions";
			return -1;
		}
		struct dav_if_condition *c = array_push(conds);
		n++;
		if (s.len >= 3 && strv_eq_ci(strv_make(s.ptr, 3), STRV_LIT("Not"))) {
			c->negated = true;
			s = skip_lws(advance(s, 3));
		}
		if (s.len > 0 && s.ptr[0] == '[') {
			s = advance(s, 1);
			c->is_etag = true;
			if (!etag_take(&s, &c->value)) {
				*error_r = "If: a malformed [entity-tag]";
				return -1;
			}
		} else if (!dav_coded_url_take(&s, &c->value)) {
			*error_r = s.len == 0 ? "If: a list without its \")\""
			                      : "If: expected a <state-token> or [entity-tag]";
			return -1;
		}
	}
}

int dav_if_parse(struct pool *pool, struct strv value, struct dav_if **if_r, const char **error_r)
{
	struct array lists = ARRAY_INIT(struct dav_if_list);
	struct array conds = ARRAY_INIT(struct dav_if_condition);
	struct array starts = ARRAY_INIT(size_t); /* each list's first condition */
	struct strv s = value, tag = STRV_NULL;
	int ret = -1;
	bool tagged = false;

	s = skip_lws(s);
	if (s.len == 0) {
		*error_r = "If: an empty header";
		goto out;
	}
	while ((s = skip_lws(s)).len > 0) {
		if (s.ptr[0] == '<') {
			if (lists.count > 0 && !tagged) {
				*error_r = "If: a resource tag after untagged lists";
				goto out;
			}
			if (!dav_coded_url_take(&s, &tag)) {
				*error_r = "If: a malformed <resource-tag>";
				goto out;
			}
			tagged = true;
			s = skip_lws(s);
			if (s.len == 0 || s.ptr[0] != '(') {
				*error_r = "If: a resource tag without a list";
				goto out;
			}
			continue;
		}
		if (s.ptr[0] != '(') {
			*error_r = "If: expected \"(\" or a <resource-tag>";
			goto out;
		}
		if (lists.count >= IF_MAX_LISTS) {
			*error_r = "If: too many lists";
			goto out;
		}
		s = advance(s, 1);
		*(size_t *)array_push(&starts) = conds.count;
		struct dav_if_list *l = array_push(&lists);
		l->resource = tag;
		if (list_parse(&s, &conds, error_r) < 0)
			goto out;
	}

	struct dav_if *h = pool_calloc(pool, 1, sizeof(*h));
	h->tagged = tagged;
	h->count = lists.count;
	h->lists = pool_calloc(pool, lists.count, sizeof(*h->lists));
	memcpy(h->lists, lists.data, lists.count * sizeof(*h->lists));
	struct dav_if_condition *all = pool_calloc(pool, conds.count, sizeof(*all));
	memcpy(all, conds.data, conds.count * sizeof(*all));
	for (size_t i = 0; i < h->count; i++) {
		size_t start = *ARRAY_IDX(&starts, size_t, i);
		size_t end = i + 1 < h->count ? *ARRAY_IDX(&starts, size_t, i + 1) : conds.count;
		h->lists[i].conditions = all + start;
		h->lists[i].count = end - start;
	}
	*if_r = h;
	ret = 0;
out:
	array_free(&lists);
	array_free(&conds);
	array_free(&starts);
	return ret;
}

/* Strong comparison (RFC 7232 §2.3.2): neither weak, same opaque tag. */
static bool etag_strong_eq(struct strv a, const char *b)
{
	return b != NULL && !strv_starts_with(a, STRV_LIT("W/")) && b[0] != 'W' &&
	       strv_eq_cstr(a, b);
}

static bool resource_eq(struct strv a, struct strv b)
{
	return a.ptr == NULL ? b.ptr == NULL : b.ptr != NULL && strv_eq(a, b);
}

static void seen_add(struct array *seen, struct strv resource, struct strv token)
{
	for (size_t i = 0; i < seen->count; i++) {
		const struct dav_if_token *t = ARRAY_IDX(seen, struct dav_if_token, i);
		if (resource_eq(t->resource, resource) && strv_eq(t->token, token))
			return;
	}
	struct dav_if_token *t = array_push(seen);
	t->resource = resource;
	t->token = token;
}

bool dav_if_evaluate(const struct dav_if *ifh, const struct dav_if_callbacks *cb, struct pool *pool,
                     struct dav_if_token **seen_r, size_t *seen_count_r)
{
	struct array seen = ARRAY_INIT(struct dav_if_token);
	bool any = false;
	for (size_t i = 0; i < ifh->count; i++) {
		const struct dav_if_list *l = &ifh->lists[i];
		bool all = true;
		const char *etag = NULL;
		bool etag_known = false;
		for (size_t j = 0; j < l->count; j++) {
			const struct dav_if_condition *c = &l->conditions[j];
			bool match;
			if (c->is_etag) {
				if (!etag_known) {
					etag = cb->etag(cb->ctx, l->resource);
					etag_known = true;
				}
				match = etag_strong_eq(c->value, etag);
			} else {
				match = cb->has_lock(cb->ctx, l->resource, c->value);
				if (match && !c->negated)
					seen_add(&seen, l->resource, c->value);
			}
			if (match == c->negated)
				all = false;
		}
		any = any || all;
	}
	*seen_count_r = seen.count;
	*seen_r = pool_calloc(pool, seen.count == 0 ? 1 : seen.count, sizeof(**seen_r));
	if (seen.count > 0)
		memcpy(*seen_r, seen.data, seen.count * sizeof(**seen_r));
	array_free(&seen);
	return any;
}
