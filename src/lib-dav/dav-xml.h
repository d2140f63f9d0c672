/* SPDX-License-Identifier: MIT */
/* WebDAV request bodies (PROPFIND, PROPPATCH, LOCK) parsed with libxml2 into plain structs. */
#ifndef TANDEM_DAV_XML_H
#define TANDEM_DAV_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

struct pool;

#define DAV_NS                    "DAV:"
#define DAV_XML_DEFAULT_MAX_DEPTH 64

/* Every body is refused (with its HTTP status) when it is larger than max_size bytes (413),
   nests elements deeper than max_depth (400), carries a DOCTYPE of any kind (400), is not
   namespace-well-formed XML (400), or is well-formed but not the request the method needs
   (422, RFC 4918 §11.2: wrong root element, a required element missing). Entities are never
   expanded, nothing is loaded from the network or the file system, no DTD is read. */
struct dav_xml_limits {
	size_t max_size;    /* bytes; 0 = no body is accepted at all */
	unsigned max_depth; /* element nesting; 0 = DAV_XML_DEFAULT_MAX_DEPTH */
};

/* A property name: namespace URI ("" when the element has none) and local name. */
struct dav_prop_name {
	const char *ns;
	const char *name;
};

enum dav_propfind_kind {
	DAV_PROPFIND_ALLPROP, /* also an empty body (RFC 4918 §9.1); names = the include list */
	DAV_PROPFIND_PROPNAME,
	DAV_PROPFIND_PROP, /* names = the requested properties, in order, duplicates kept */
};

struct dav_propfind {
	enum dav_propfind_kind kind;
	struct dav_prop_name *names;
	size_t count;
};

enum dav_patch_op {
	DAV_PATCH_SET,
	DAV_PATCH_REMOVE,
};

/* One instruction of a PROPPATCH, in document order (RFC 4918 §9.2: applied in order). */
struct dav_patch {
	enum dav_patch_op op;
	struct dav_prop_name name;
	/* DAV_PATCH_SET: the whole property element serialised as a standalone fragment: the
	   namespace declarations it uses are declared on it and an inherited xml:lang is copied
	   onto it, so storing xml and writing it back inside <D:prop> returns the property exactly
	   (RFC 4918 §4.3, §4.9). NULL for DAV_PATCH_REMOVE. */
	const char *xml;
	size_t xml_len;
	const char *lang; /* the property's xml:lang in scope, or NULL */
	const char *text; /* DAV_PATCH_SET: the element's text content (NULL for REMOVE) */
};

struct dav_proppatch {
	struct dav_patch *patches;
	size_t count;
};

enum dav_lock_scope {
	DAV_LOCK_EXCLUSIVE,
	DAV_LOCK_SHARED,
};

struct dav_lockinfo {
	bool refresh; /* empty body: refresh the locks named in the If header (RFC 4918 §9.10.2) */
	enum dav_lock_scope scope;
	/* The DAV:owner element serialised like a property value (NULL when absent), to be
	   returned as is in DAV:lockdiscovery. */
	const char *owner_xml;
	size_t owner_len;
};

/* Each parser allocates its result and error message from pool. On failure returns -1 with
   *status_r (400, 413 or 422) and *error_r naming what is wrong; *result_r is untouched. An
   empty body is valid for PROPFIND (allprop) and LOCK (refresh), not for PROPPATCH. */
int dav_xml_parse_propfind(struct pool *pool, struct strv body, const struct dav_xml_limits *limits,
                           struct dav_propfind **result_r, int *status_r, const char **error_r);
int dav_xml_parse_proppatch(struct pool *pool, struct strv body,
                            const struct dav_xml_limits *limits, struct dav_proppatch **result_r,
                            int *status_r, const char **error_r);
/* The body of an extended MKCOL (RFC 5689, root {DAV:}mkcol) or a MKCALENDAR (RFC 4791 §5.3.1,
   root {urn:ietf:params:xml:ns:caldav}mkcalendar): the properties of its DAV:set elements as
   DAV_PATCH_SET patches. An empty body gives none. */
int dav_xml_parse_mkcol(struct pool *pool, struct strv body, const struct dav_xml_limits *limits,
                        struct dav_proppatch **result_r, int *status_r, const char **error_r);
int dav_xml_parse_lockinfo(struct pool *pool, struct strv body, const struct dav_xml_limits *limits,
                           struct dav_lockinfo **result_r, int *status_r, const char **error_r);

/* Any other body (REPORT …) parsed under the same rules into a libxml2 tree for the caller
   to walk: the document (free it with xmlFreeDoc()), or NULL with *status_r and *error_r. */
struct _xmlDoc;
struct _xmlDoc *dav_xml_parse_doc(struct pool *pool, struct strv body,
                                  const struct dav_xml_limits *limits, int *status_r,
                                  const char **error_r);
/* True for a body that counts as empty: no bytes or only XML white space. */
bool dav_xml_body_empty(struct strv body);

#endif
