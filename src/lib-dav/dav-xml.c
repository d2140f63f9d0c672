/* SPDX-License-Identifier: MIT */
/* WebDAV request bodies parsed with libxml2 under a strict configuration: no DOCTYPE, no
   entities, no network, bounded size and depth (docs/decisions/0009-dav-core.md). */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "dav-xml.h"
#include "pool.h"

/* What the SAX hooks saw; ctxt->_private points here. */
struct parse_state {
	unsigned depth;
	unsigned max_depth;
	const char *refusal; /* why the parser was stopped, NULL when it was not */
};

struct parse_error {
	struct pool *pool;
	int *status_r;
	const char **error_r;
};

static pthread_once_t libxml_once = PTHREAD_ONCE_INIT;

static void libxml_init(void)
{
	/* Once per process before any thread parses: libxml2's globals are set up here. */
	xmlInitParser();
}

static int fail(const struct parse_error *pe, int status, const char *message)
{
	*pe->status_r = status;
	*pe->error_r = pool_strdup(pe->pool, message);
	return -1;
}

static void refuse(xmlParserCtxtPtr ctxt, const char *why)
{
	struct parse_state *st = ctxt->_private;
	if (st->refusal == NULL)
		st->refusal = why;
	xmlStopParser(ctxt);
}

/* Called for any <!DOCTYPE …> before its internal subset is read: nothing of a DTD (entity
   declarations included) is ever parsed. */
static void sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                                const xmlChar *system_id)
{
	refuse(ctx, "a DOCTYPE is not accepted in a WebDAV request body");
}

static void sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                            const xmlChar *system_id, xmlChar *content)
{
	refuse(ctx, "entity declarations are not accepted in a WebDAV request body");
}

static void sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                              const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                              int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;
	if (++st->depth > st->max_depth) {
		refuse(ctxt, "the XML body nests elements too deeply");
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
	                      nb_defaulted, attributes);
}

static void sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                            const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;
	st->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

bool dav_xml_body_empty(struct strv body)
{
	for (size_t i = 0; i < body.len; i++) {
		char c = body.ptr[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return false;
	}
	return true;
}

/* The parsed document, or NULL after fail(). Free it with xmlFreeDoc(). */
static xmlDocPtr parse(const struct parse_error *pe, struct strv body,
                       const struct dav_xml_limits *limits)
{
	struct parse_state st = {.max_depth = limits->max_depth != 0 ? limits->max_depth
	                                                             : DAV_XML_DEFAULT_MAX_DEPTH};
	if (body.len > limits->max_size || body.len > INT_MAX) {
		*pe->status_r = 413;
		*pe->error_r =
		    pool_printf(pe->pool, "the XML body has %zu bytes, more than the %zu allowed",
		                body.len, limits->max_size);
		return NULL;
	}
	pthread_once(&libxml_once, libxml_init);
	xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(body.ptr, (int)body.len);
	if (ctxt == NULL) {
		fail(pe, 400, "the XML body cannot be parsed");
		return NULL;
	}
	ctxt->_private = &st;
	ctxt->sax->internalSubset = sax_internal_subset;
	ctxt->sax->externalSubset = sax_internal_subset;
	ctxt->sax->entityDecl = sax_entity_decl;
	ctxt->sax->startElementNs = sax_start_element;
	ctxt->sax->endElementNs = sax_end_element;
	/* No XML_PARSE_NOENT (entities stay references), DTDLOAD, DTDATTR, DTDVALID, XINCLUDE
	   or HUGE; no network; libxml2 keeps its messages in ctxt instead of printing them. */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlParseDocument(ctxt);

	xmlDocPtr doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (st.refusal != NULL) {
		fail(pe, 400, st.refusal);
	} else if (!ctxt->wellFormed || !ctxt->nsWellFormed || doc == NULL ||
	           xmlDocGetRootElement(doc) == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		const char *msg = e != NULL && e->message != NULL ? e->message : "not well-formed";
		size_t n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		*pe->status_r = 400;
		*pe->error_r = pool_printf(pe->pool, "malformed XML body (line %d): %.*s",
		                           e != NULL ? e->line : 0, (int)n, msg);
	} else {
		xmlFreeParserCtxt(ctxt);
		return doc;
	}
	if (doc != NULL)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return NULL;
}

xmlDocPtr dav_xml_parse_doc(struct pool *pool, struct strv body,
                            const struct dav_xml_limits *limits, int *status_r,
                            const char **error_r)
{
	const struct parse_error pe = {pool, status_r, error_r};
	return parse(&pe, body, limits);
}

static bool is_dav(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, DAV_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* The next element sibling from n on (n itself when it is one), or NULL. */
static xmlNode *element_from(xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

#define FOR_EACH_ELEMENT(var, parent)                                                              \
	for (xmlNode *var = element_from((parent)->children); var != NULL;                         \
	     var = element_from(var->next))

static xmlNode *dav_child(xmlNode *parent, const char *name)
{
	FOR_EACH_ELEMENT(c, parent)
	{
		if (is_dav(c, name))
			return c;
	}
	return NULL;
}

static size_t count_elements(xmlNode *parent)
{
	size_t n = 0;
	FOR_EACH_ELEMENT(c, parent)
	{
		n++;
	}
	return n;
}

static void prop_name(struct pool *pool, const xmlNode *n, struct dav_prop_name *name_r)
{
	name_r->ns = pool_strdup(pool, n->ns != NULL ? (const char *)n->ns->href : "");
	name_r->name = pool_strdup(pool, (const char *)n->name);
}

/* The element names under parent (any namespace), in order. */
static void collect_names(struct pool *pool, xmlNode *parent, struct dav_prop_name **names_r,
                          size_t *count_r)
{
	size_t n = count_elements(parent), i = 0;
	struct dav_prop_name *names = pool_calloc(pool, n == 0 ? 1 : n, sizeof(*names));
	FOR_EACH_ELEMENT(c, parent)
	{
		prop_name(pool, c, &names[i++]);
	}
	*names_r = names;
	*count_r = n;
}

/* Whether n or an element below it has no namespace (the depth limit bounds the recursion). */
static bool in_no_namespace(xmlNode *n)
{
	if (n->ns == NULL)
		return true;
	FOR_EACH_ELEMENT(c, n)
	{
		if (in_no_namespace(c))
			return true;
	}
	return false;
}

/* node as a standalone fragment: libxml2's copy declares on the copy the namespaces it and
   its descendants use (found in the original's scope), xmlns="" when an element in it has
   no namespace and no default is declared, and the xml:lang in scope is set on it when it does not
   carry its own. */
static void serialise(struct pool *pool, xmlNode *node, const char **xml_r, size_t *len_r,
                      const char **lang_r)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);
	xmlDocSetRootElement(doc, copy);
	/* Elements in no namespace say so, or a default namespace where the fragment is
	   written back would capture them. */
	if (in_no_namespace(copy) && xmlSearchNs(doc, copy, NULL) == NULL)
		xmlNewNs(copy, BAD_CAST "", NULL);
	xmlChar *lang = xmlNodeGetLang(node);
	if (lang != NULL) {
		xmlChar *own = xmlGetNsProp(node, BAD_CAST "lang", XML_XML_NAMESPACE);
		if (own == NULL)
			xmlNodeSetLang(copy, lang);
		xmlFree(own);
		*lang_r = pool_strdup(pool, (const char *)lang);
		xmlFree(lang);
	} else {
		*lang_r = NULL;
	}
	xmlBufferPtr b = xmlBufferCreate();
	xmlNodeDump(b, doc, copy, 0, 0);
	*len_r = (size_t)xmlBufferLength(b);
	*xml_r = pool_strndup(pool, (const char *)xmlBufferContent(b), *len_r);
	xmlBufferFree(b);
	xmlFreeDoc(doc);
}

/* A DAV_PATCH_SET of the property element p: its fragment and its text. */
static void set_patch(struct pool *pool, xmlNode *p, struct dav_patch *patch)
{
	serialise(pool, p, &patch->xml, &patch->xml_len, &patch->lang);
	xmlChar *text = xmlNodeGetContent(p);
	patch->text = pool_strdup(pool, text != NULL ? (const char *)text : "");
	xmlFree(text);
}

/* The parsed document whose root must be {DAV:}name, with *root_r; NULL after fail(). */
static xmlDocPtr parse_root(const struct parse_error *pe, struct strv body,
                            const struct dav_xml_limits *limits, const char *name, xmlNode **root_r)
{
	xmlDocPtr doc = parse(pe, body, limits);
	if (doc == NULL)
		return NULL;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (is_dav(root, name)) {
		*root_r = root;
		return doc;
	}
	*pe->status_r = 422;
	*pe->error_r = pool_printf(pe->pool, "the root element is {%s}%s, not {DAV:}%s",
	                           root->ns != NULL ? (const char *)root->ns->href : "",
	                           (const char *)root->name, name);
	xmlFreeDoc(doc);
	return NULL;
}

int dav_xml_parse_propfind(struct pool *pool, struct strv body, const struct dav_xml_limits *limits,
                           struct dav_propfind **result_r, int *status_r, const char **error_r)
{
	const struct parse_error pe = {pool, status_r, error_r};
	struct dav_propfind *pf = pool_calloc(pool, 1, sizeof(*pf));
	if (dav_xml_body_empty(body)) {
		pf->kind = DAV_PROPFIND_ALLPROP;
		*result_r = pf;
		return 0;
	}
	xmlNode *root;
	xmlDocPtr doc = parse_root(&pe, body, limits, "propfind", &root);
	if (doc == NULL)
		return -1;
	int ret = -1;
	xmlNode *allprop = dav_child(root, "allprop"), *propname = dav_child(root, "propname");
	xmlNode *prop = dav_child(root, "prop"), *include = dav_child(root, "include");
	if ((allprop != NULL) + (propname != NULL) + (prop != NULL) != 1) {
		fail(&pe, 422,
		     "DAV:propfind must hold exactly one of DAV:allprop, DAV:propname "
		     "and DAV:prop");
		goto out;
	}
	if (include != NULL && allprop == NULL) {
		fail(&pe, 422, "DAV:include is only allowed beside DAV:allprop");
		goto out;
	}
	if (prop != NULL) {
		pf->kind = DAV_PROPFIND_PROP;
		collect_names(pool, prop, &pf->names, &pf->count);
	} else if (propname != NULL) {
		pf->kind = DAV_PROPFIND_PROPNAME;
	} else {
		pf->kind = DAV_PROPFIND_ALLPROP;
		if (include != NULL)
			collect_names(pool, include, &pf->names, &pf->count);
	}
	*result_r = pf;
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}

int dav_xml_parse_proppatch(struct pool *pool, struct strv body,
                            const struct dav_xml_limits *limits, struct dav_proppatch **result_r,
                            int *status_r, const char **error_r)
{
	const struct parse_error pe = {pool, status_r, error_r};
	if (dav_xml_body_empty(body))
		return fail(&pe, 422, "PROPPATCH needs a DAV:propertyupdate body");
	xmlNode *root;
	xmlDocPtr doc = parse_root(&pe, body, limits, "propertyupdate", &root);
	if (doc == NULL)
		return -1;
	int ret = -1;
	/* Two passes: count, then fill an array of the right size from the pool. */
	size_t n = 0, ops = 0;
	FOR_EACH_ELEMENT(op, root)
	{
		if (!is_dav(op, "set") && !is_dav(op, "remove"))
			continue; /* unknown elements are ignored (RFC 4918 §17) */
		xmlNode *prop = dav_child(op, "prop");
		if (prop == NULL) {
			fail(&pe, 422,
			     is_dav(op, "set") ? "DAV:set without DAV:prop"
			                       : "DAV:remove without "
			                         "DAV:prop");
			goto out;
		}
		ops++;
		n += count_elements(prop);
	}
	if (ops == 0) {
		fail(&pe, 422, "DAV:propertyupdate holds no DAV:set or DAV:remove");
		goto out;
	}
	struct dav_proppatch *pp = pool_calloc(pool, 1, sizeof(*pp));
	pp->patches = pool_calloc(pool, n == 0 ? 1 : n, sizeof(*pp->patches));
	FOR_EACH_ELEMENT(op, root)
	{
		bool set = is_dav(op, "set");
		if (!set && !is_dav(op, "remove"))
			continue;
		FOR_EACH_ELEMENT(p, dav_child(op, "prop"))
		{
			struct dav_patch *patch = &pp->patches[pp->count++];
			patch->op = set ? DAV_PATCH_SET : DAV_PATCH_REMOVE;
			prop_name(pool, p, &patch->name);
			if (set)
				set_patch(pool, p, patch);
		}
	}
	*result_r = pp;
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}

int dav_xml_parse_mkcol(struct pool *pool, struct strv body, const struct dav_xml_limits *limits,
                        struct dav_proppatch **result_r, int *status_r, const char **error_r)
{
	const struct parse_error pe = {pool, status_r, error_r};
	struct dav_proppatch *pp = pool_calloc(pool, 1, sizeof(*pp));
	*result_r = pp;
	if (dav_xml_body_empty(body))
		return 0;
	xmlDocPtr doc = parse(&pe, body, limits);
	if (doc == NULL)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	bool mkcalendar =
	    root->ns != NULL &&
	    strcmp((const char *)root->ns->href, "urn:ietf:params:xml:ns:caldav") == 0 &&
	    strcmp((const char *)root->name, "mkcalendar") == 0;
	if (!mkcalendar && !is_dav(root, "mkcol")) {
		xmlFreeDoc(doc);
		return fail(&pe, 422, "the body's root is not {DAV:}mkcol or {CalDAV}mkcalendar");
	}
	size_t n = 0;
	FOR_EACH_ELEMENT(op, root)
	{
		if (is_dav(op, "set") && dav_child(op, "prop") != NULL)
			n += count_elements(dav_child(op, "prop"));
	}
	pp->patches = pool_calloc(pool, n + 1, sizeof(*pp->patches));
	FOR_EACH_ELEMENT(op, root)
	{
		if (!is_dav(op, "set") || dav_child(op, "prop") == NULL)
			continue;
		FOR_EACH_ELEMENT(p, dav_child(op, "prop"))
		{
			struct dav_patch *patch = &pp->patches[pp->count++];
			patch->op = DAV_PATCH_SET;
			prop_name(pool, p, &patch->name);
			set_patch(pool, p, patch);
		}
	}
	xmlFreeDoc(doc);
	return 0;
}

/* The single element inside a DAV:lockscope or DAV:locktype, or NULL. */
static xmlNode *only_child(xmlNode *parent)
{
	xmlNode *c = element_from(parent->children);
	return c != NULL && element_from(c->next) == NULL ? c : NULL;
}

int dav_xml_parse_lockinfo(struct pool *pool, struct strv body, const struct dav_xml_limits *limits,
                           struct dav_lockinfo **result_r, int *status_r, const char **error_r)
{
	const struct parse_error pe = {pool, status_r, error_r};
	struct dav_lockinfo *li = pool_calloc(pool, 1, sizeof(*li));
	if (dav_xml_body_empty(body)) {
		li->refresh = true;
		*result_r = li;
		return 0;
	}
	xmlNode *root;
	xmlDocPtr doc = parse_root(&pe, body, limits, "lockinfo", &root);
	if (doc == NULL)
		return -1;
	int ret = -1;
	xmlNode *scope = dav_child(root, "lockscope"), *type = dav_child(root, "locktype");
	if (scope == NULL || type == NULL) {
		fail(&pe, 422,
		     scope == NULL ? "DAV:lockinfo has no DAV:lockscope"
		                   : "DAV:lockinfo has no "
		                     "DAV:locktype");
		goto out;
	}
	xmlNode *s = only_child(scope), *t = only_child(type);
	if (s != NULL && is_dav(s, "exclusive")) {
		li->scope = DAV_LOCK_EXCLUSIVE;
	} else if (s != NULL && is_dav(s, "shared")) {
		li->scope = DAV_LOCK_SHARED;
	} else {
		fail(&pe, 422, "DAV:lockscope must hold DAV:exclusive or DAV:shared");
		goto out;
	}
	if (t == NULL || !is_dav(t, "write")) {
		fail(&pe, 422, "DAV:locktype must hold DAV:write (the only lock type)");
		goto out;
	}
	xmlNode *owner = dav_child(root, "owner");
	if (owner != NULL) {
		const char *lang;
		serialise(pool, owner, &li->owner_xml, &li->owner_len, &lang);
	}
	*result_r = li;
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}
