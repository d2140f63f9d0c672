/* SPDX-License-Identifier: MIT */
/* CardDAV's REPORTs on an address book: addressbook-multiget (RFC 6352 §8.7),
   addressbook-query with its filter (api-carddav-filter.c) and limit (§8.6), and
   sync-collection with counter tokens (RFC 6578); multiget and sync are api-davobj.c's
   (docs/internals/dav.md "CardDAV"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "api-carddav-filter.h"
#include "api-carddav.h"
#include "api-davobj.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "pool.h"
#include "vcard-convert.h"

/* The properties an address-data element may ask for (its <C:prop name=…/>), at most. */
#define ADDRESS_DATA_PROPS_MAX 64

struct report {
	struct davobj_report base;
	bool etag;           /* what <D:prop> asks for */
	const char **props;  /* address-data's <C:prop name>s (NULL-terminated), or NULL */
	const char *version; /* address-data's version ("3.0", "4.0"), or NULL: as stored */
	struct carddav_filter filter;
	struct carddav_filter_scratch scratch;
	bool gab;                /* on the global address book */
	int64_t limit, answered; /* addressbook-query's cards: at most (0: all), so far */
	size_t mark;             /* where the query's responses begin in the body */
};

/* The card's text into buf, only the properties r->props names (and BEGIN, END, VERSION,
   UID) when address-data asks for some. */
static struct strv card_text(struct report *r, const char *text, size_t len, struct buf *out)
{
	if (r->props == NULL)
		return strv_make(text, len);
	buf_reset(out);
	size_t i = 0;
	bool keep = false;
	while (i < len) {
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		if (text[i] != ' ' && text[i] != '\t') { /* not a folded continuation */
			size_t n = strcspn(text + i, ";:\r\n");
			const char *dot = memchr(text + i, '.', n);
			const char *name = dot != NULL ? dot + 1 : text + i;
			size_t nl = n - (size_t)(name - (text + i));
			keep = false;
			static const char *const always[] = {"BEGIN", "END", "VERSION", "UID"};
			for (size_t k = 0; k < 4 && !keep; k++)
				keep = nl == strlen(always[k]) &&
				       strncasecmp(name, always[k], nl) == 0;
			for (size_t k = 0; r->props[k] != NULL && !keep; k++)
				keep = nl == strlen(r->props[k]) &&
				       strncasecmp(name, r->props[k], nl) == 0;
		}
		if (keep)
			buf_append(out, text + i, end < len ? end + 1 - i : end - i);
		i = end < len ? end + 1 : end;
	}
	return buf_strv(out);
}

static void card_response(struct report *r, const char *href, const char *etag, const char *text,
                          size_t len)
{
	struct davobj_report *b = &r->base;
	dav_ms_response_begin(b->out, href);
	dav_ms_propstat_begin(b->out);
	if (r->etag)
		dav_ms_prop_text(b->out, DAV_NS, "getetag",
		                 strv_from_cstr(pool_printf(b->dr->pool, "\"%s\"", etag)));
	if (b->data) {
		struct buf tmp;
		if (r->version != NULL)
			vcard_convert(b->dr->pool, text, len, r->version, &text, &len);
		buf_init(&tmp, len + 1);
		dav_ms_prop_text(b->out, CARDDAV_NS, "address-data", card_text(r, text, len, &tmp));
		buf_free(&tmp);
	}
	dav_ms_propstat_end(b->out, 200);
	dav_ms_response_end(b->out);
}

static bool by_name(struct davobj_report *b, const char *href, const char *name, bool missing404)
{
	struct report *r = (struct report *)b;
	struct storage_contact o;
	struct carddav_card card;
	struct storage_error err;
	if (r->gab && carddav_gab_get(b->dr, name, &card, &err) == 0) {
		card_response(r, href, card.etag, card.text, card.len);
		return true;
	}
	if (!r->gab && storage_contact_get_by_name(b->dr->su, b->folder, name, &o, &err) == 0) {
		card_response(r, href, o.etag, o.vcard, o.vcard_len);
		return true;
	}
	if (err.status != STORAGE_REFUSED) {
		carddav_storage_failed(b->dr, &err, STORAGE_CONTACT_OK);
		return false;
	}
	if (missing404)
		dav_ms_response_status(b->out, href, 404, NULL);
	return true;
}

static int resolve(struct davobj_report *b, const char *path, const char **name_r)
{
	/* below the REPORT's own book (the usual multiget): carddav_resolve's answer without
	   looking the folder up again */
	size_t n = strlen(b->base);
	if (strncmp(path, b->base, n) == 0) {
		const char *p = path + n;
		while (*p == '/')
			p++;
		const char *slash = strchr(p, '/');
		if (*p == '\0' || (slash != NULL && slash[1] != '\0'))
			return 0;
		*name_r = pool_strndup(b->dr->pool, p, strcspn(p, "/"));
		return 1;
	}
	struct carddav_res res;
	if (carddav_resolve(b->dr, path, &res) < 0)
		return -1;
	if (res.kind != CARDDAV_CARD || res.gab != ((struct report *)b)->gab ||
	    (!res.gab && res.folder->id != b->folder))
		return 0;
	*name_r = res.name;
	return 1;
}

static int changes(struct davobj_report *b, int64_t since, json_t **changes_r,
                   struct storage_error *err)
{
	if (((struct report *)b)->gab)
		return carddav_gab_changes(b->dr, since, changes_r, err);
	return storage_contact_changes(b->dr->su, b->folder, since, STORAGE_CONTACT_CHANGES_MAX,
	                               changes_r, err);
}

static void storage_failed(struct davobj_report *b, const struct storage_error *err)
{
	carddav_storage_failed(b->dr, err, STORAGE_CONTACT_OK);
}

/* <D:prop>: getetag (also when there is no prop), address-data with its content-type,
   version and <C:prop>s. false after answering an unsupported media type. */
static bool props(struct report *r, xmlNode *root)
{
	struct dav_req *dr = r->base.dr;
	xmlNode *prop = davobj_child(root, DAV_NS, "prop");
	r->etag = prop == NULL || davobj_child(prop, DAV_NS, "getetag") != NULL;
	xmlNode *ad = prop != NULL ? davobj_child(prop, CARDDAV_NS, "address-data") : NULL;
	r->base.data = ad != NULL;
	if (ad == NULL)
		return true;
	const char *type = davobj_attr(dr->pool, ad, "content-type");
	const char *version = davobj_attr(dr->pool, ad, "version");
	if ((type != NULL && strcasecmp(type, "text/vcard") != 0) ||
	    (version != NULL && strcmp(version, "3.0") != 0 && strcmp(version, "4.0") != 0)) {
		davobj_fail(dr, 403, CARDDAV_NS, "supported-address-data",
		            "address-data is text/vcard, version 3.0 or 4.0");
		return false;
	}
	r->version = version;
	size_t n = 0;
	for (xmlNode *c = ad->children; c != NULL; c = c->next)
		n += davobj_elem(c, CARDDAV_NS, "prop");
	if (n == 0)
		return true;
	if (n > ADDRESS_DATA_PROPS_MAX) {
		davobj_fail(dr, 403, CARDDAV_NS, "supported-address-data",
		            "address-data names at most 64 properties");
		return false;
	}
	r->props = pool_calloc(dr->pool, n + 1, sizeof(*r->props));
	n = 0;
	for (xmlNode *c = ad->children; c != NULL; c = c->next) {
		const char *name =
		    davobj_elem(c, CARDDAV_NS, "prop") ? davobj_attr(dr->pool, c, "name") : NULL;
		if (name != NULL)
			r->props[n++] = name;
	}
	return true;
}

/* A test="anyof|allof" attribute: false after answering another value. */
static bool test_attr(struct report *r, xmlNode *n, bool *allof_r)
{
	const char *t = davobj_attr(r->base.dr->pool, n, "test");
	*allof_r = t != NULL && strcmp(t, "allof") == 0;
	if (t == NULL || *allof_r || strcmp(t, "anyof") == 0)
		return true;
	davobj_fail(r->base.dr, 400, CARDDAV_NS, "valid-filter",
	            "test is \"anyof\" (the default) or \"allof\"");
	return false;
}

/* A <C:text-match> into tm: false after answering what is not supported. */
static bool text_match(struct report *r, xmlNode *n, struct carddav_text_match *tm)
{
	struct dav_req *dr = r->base.dr;
	const char *coll = davobj_attr(dr->pool, n, "collation");
	const char *mt = davobj_attr(dr->pool, n, "match-type");
	const char *neg = davobj_attr(dr->pool, n, "negate-condition");
	if (coll == NULL || strcmp(coll, "i;unicode-casemap") == 0)
		tm->collation = CARDDAV_UNICODE_CASEMAP;
	else if (strcmp(coll, "i;ascii-casemap") == 0)
		tm->collation = CARDDAV_ASCII_CASEMAP;
	else if (strcmp(coll, "i;octet") == 0)
		tm->collation = CARDDAV_OCTET;
	else {
		davobj_fail(dr, 403, CARDDAV_NS, "supported-collation",
		            "text-match collations are i;unicode-casemap, i;ascii-casemap and "
		            "i;octet");
		return false;
	}
	static const char *const types[] = {"contains", "equals", "starts-with", "ends-with"};
	tm->match = CARDDAV_CONTAINS;
	bool known = mt == NULL;
	for (size_t i = 0; i < 4 && !known; i++)
		if (strcmp(mt, types[i]) == 0) {
			tm->match = (enum carddav_match_type)i;
			known = true;
		}
	if (!known || (neg != NULL && strcmp(neg, "yes") != 0 && strcmp(neg, "no") != 0)) {
		davobj_fail(dr, 400, CARDDAV_NS, "valid-filter",
		            "match-type is equals, contains, starts-with or ends-with; "
		            "negate-condition yes or no");
		return false;
	}
	tm->negate = neg != NULL && strcmp(neg, "yes") == 0;
	const char *t = davobj_content(dr->pool, n);
	struct buf folded;
	buf_init(&folded, 4 * strlen(t) + 4);
	carddav_fold(t, strlen(t), tm->collation, &folded);
	tm->text = pool_strndup(dr->pool, folded.data != NULL ? folded.data : "", folded.len);
	tm->len = folded.len;
	buf_free(&folded);
	return true;
}

static bool param_filter(struct report *r, xmlNode *n, struct carddav_param_filter *pf)
{
	pf->name = davobj_attr(r->base.dr->pool, n, "name");
	pf->is_not_defined = davobj_child(n, CARDDAV_NS, "is-not-defined") != NULL;
	xmlNode *tm = davobj_child(n, CARDDAV_NS, "text-match");
	if (pf->name == NULL || (pf->is_not_defined && tm != NULL)) {
		davobj_fail(r->base.dr, 400, CARDDAV_NS, "valid-filter",
		            "a param-filter has a name and is-not-defined or a text-match");
		return false;
	}
	if (tm == NULL)
		return true;
	pf->text = pool_calloc(r->base.dr->pool, 1, sizeof(*pf->text));
	return text_match(r, tm, pf->text);
}

static size_t count_children(xmlNode *n, const char *name)
{
	size_t k = 0;
	for (xmlNode *c = n->children; c != NULL; c = c->next)
		k += davobj_elem(c, CARDDAV_NS, name);
	return k;
}

static bool prop_filter(struct report *r, xmlNode *n, struct carddav_prop_filter *pf)
{
	struct pool *pool = r->base.dr->pool;
	pf->name = davobj_attr(r->base.dr->pool, n, "name");
	pf->is_not_defined = davobj_child(n, CARDDAV_NS, "is-not-defined") != NULL;
	pf->texts = pool_calloc(pool, count_children(n, "text-match") + 1, sizeof(*pf->texts));
	pf->params = pool_calloc(pool, count_children(n, "param-filter") + 1, sizeof(*pf->params));
	if (!test_attr(r, n, &pf->allof))
		return false;
	if (pf->name == NULL) {
		davobj_fail(r->base.dr, 400, CARDDAV_NS, "valid-filter",
		            "a prop-filter needs a name");
		return false;
	}
	for (xmlNode *c = n->children; c != NULL; c = c->next) {
		if (davobj_elem(c, CARDDAV_NS, "text-match")) {
			if (!text_match(r, c, &pf->texts[pf->text_count++]))
				return false;
		} else if (davobj_elem(c, CARDDAV_NS, "param-filter")) {
			if (!param_filter(r, c, &pf->params[pf->param_count++]))
				return false;
		} else if (c->type == XML_ELEMENT_NODE &&
		           !davobj_elem(c, CARDDAV_NS, "is-not-defined")) {
			davobj_fail(
			    r->base.dr, 403, CARDDAV_NS, "supported-filter",
			    "a prop-filter holds is-not-defined, text-match and param-filter");
			return false;
		}
	}
	if (pf->is_not_defined && pf->text_count + pf->param_count > 0) {
		davobj_fail(r->base.dr, 400, CARDDAV_NS, "valid-filter",
		            "is-not-defined goes alone in its prop-filter");
		return false;
	}
	return true;
}

/* <C:limit><C:nresults>: 0 when there is none; -1 after answering a bad one. */
static int64_t nresults(struct report *r, xmlNode *root)
{
	xmlNode *limit = davobj_child(root, CARDDAV_NS, "limit");
	xmlNode *nr = limit != NULL ? davobj_child(limit, CARDDAV_NS, "nresults") : NULL;
	if (nr == NULL)
		return 0;
	const char *v = davobj_content(r->base.dr->pool, nr);
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || n <= 0) {
		davobj_fail(r->base.dr, 400, CARDDAV_NS, "valid-filter",
		            "nresults is a positive number");
		return -1;
	}
	return n;
}

/* One card for addressbook-query: answered when it passes the filter; false once the
   limit is passed (507 answered). */
static bool query_card(void *ctx, const struct carddav_card *card)
{
	struct report *r = ctx;
	if (!carddav_filter_match(&r->filter, &r->scratch, card->text, card->len))
		return true;
	if (r->limit > 0 && r->answered == r->limit) {
		davobj_truncated(&r->base); /* RFC 6352 §8.6.1 */
		return false;
	}
	card_response(r, pool_printf(card->pool, "%s%s", r->base.base, card->name), card->etag,
	              card->text, card->len);
	r->answered++;
	return true;
}

/* storage_contact_each's callback: NULL when the read starts (again) from the first card. */
static bool query_stored(void *ctx, const struct storage_obj_text *t)
{
	struct report *r = ctx;
	if (t == NULL) {
		r->base.out->len = r->mark;
		r->base.out->data[r->mark] = '\0';
		r->answered = 0;
		return true;
	}
	struct carddav_card card = {r->base.dr->pool, t->name, t->etag, t->text, t->len};
	return query_card(r, &card);
}

static int query(struct report *r, xmlNode *root)
{
	struct dav_req *dr = r->base.dr;
	xmlNode *filter = davobj_child(root, CARDDAV_NS, "filter");
	if (filter == NULL) {
		davobj_fail(dr, 400, CARDDAV_NS, "valid-filter",
		            "an addressbook-query holds one CARDDAV:filter");
		return -1;
	}
	if (!test_attr(r, filter, &r->filter.allof))
		return -1;
	r->filter.props = pool_calloc(dr->pool, count_children(filter, "prop-filter") + 1,
	                              sizeof(*r->filter.props));
	for (xmlNode *c = filter->children; c != NULL; c = c->next)
		if (davobj_elem(c, CARDDAV_NS, "prop-filter") &&
		    !prop_filter(r, c, &r->filter.props[r->filter.count++]))
			return -1;
	r->limit = nresults(r, root);
	if (r->limit < 0)
		return -1;
	struct storage_error err;
	int rc;
	if (r->gab) { /* rendered card by card, the answer bounded */
		if (r->limit == 0 || r->limit > CARDDAV_GAB_QUERY_MAX)
			r->limit = CARDDAV_GAB_QUERY_MAX;
		int64_t revision;
		rc = carddav_gab_each(dr, query_card, r, &revision, &err);
	} else {
		r->mark = r->base.out->len;
		rc = storage_contact_each(dr->su, r->base.folder, query_stored, r, &err);
	}
	carddav_filter_scratch_free(&r->scratch);
	if (rc < 0)
		carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
	return rc;
}

void carddav_report(struct dav_req *dr, const struct carddav_res *res)
{
	if (res->kind != CARDDAV_BOOK) {
		davobj_fail(dr, 403, DAV_NS, "supported-report",
		            "REPORTs are answered on an address book");
		return;
	}
	xmlDocPtr doc = davobj_parse_body(dr);
	if (doc == NULL)
		return;
	xmlNode *root = xmlDocGetRootElement(doc);
	struct report r = {.base = {.dr = dr,
	                            .folder = res->gab ? CARDDAV_GAB_FOLDER : res->folder->id,
	                            .out = http_response_body(dr->req),
	                            .by_name = by_name,
	                            .resolve = resolve,
	                            .changes = changes,
	                            .storage_failed = storage_failed}};
	r.base.base = davobj_collection_href(dr);
	r.gab = res->gab;
	int rc = -1;
	if (props(&r, root)) {
		dav_ms_begin(r.base.out);
		if (davobj_elem(root, CARDDAV_NS, "addressbook-multiget")) {
			rc = davobj_multiget(&r.base, root);
		} else if (davobj_elem(root, CARDDAV_NS, "addressbook-query")) {
			rc = query(&r, root);
		} else if (davobj_elem(root, DAV_NS, "sync-collection")) {
			r.etag = true;
			rc = davobj_sync_collection(&r.base, root);
		} else {
			davobj_fail(dr, 403, DAV_NS, "supported-report",
			            "this REPORT is not supported here (addressbook-multiget, "
			            "addressbook-query, sync-collection are)");
		}
	}
	xmlFreeDoc(doc);
	if (rc < 0)
		return;
	dav_ms_end(r.base.out);
	davobj_send_207(dr);
}
