/* SPDX-License-Identifier: MIT */
/* The parts of CalDAV and CardDAV that do not depend on the object's format
   (docs/internals/dav.md "Calendars and address books"). */
#include "api-davobj.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "dav-multistatus.h"
#include "http-server.h"
#include "pool.h"
#include "storage-folder.h"
#include "storage-props.h"

void davobj_fail(struct dav_req *dr, int status, const char *ns, const char *precondition,
                 const char *message)
{
	davobj_fail_at(dr, status, ns, precondition, NULL, message);
}

void davobj_fail_at(struct dav_req *dr, int status, const char *ns, const char *precondition,
                    const char *href, const char *message)
{
	struct buf *out = http_response_body(dr->req);
	buf_reset(out); /* a multistatus begun before the failure */
	http_response_status(dr->req, status);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	bool dav = ns == NULL || strcmp(ns, DAV_NS) == 0;
	buf_append_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                    "<D:error xmlns:D=\"DAV:\"");
	if (!dav) {
		buf_append_str(out, " xmlns:C=\"");
		buf_append_str(out, ns);
		buf_append_str(out, "\"");
	}
	buf_append_str(out, ">");
	if (precondition != NULL && href != NULL) {
		buf_append_str(out, dav ? "<D:" : "<C:");
		buf_append_str(out, precondition);
		buf_append_str(out, "><D:href>");
		dav_href_append(out, href);
		buf_append_str(out, dav ? "</D:href></D:" : "</D:href></C:");
		buf_append_str(out, precondition);
		buf_append_str(out, ">");
	} else if (precondition != NULL) {
		buf_append_str(out, dav ? "<D:" : "<C:");
		buf_append_str(out, precondition);
		buf_append_str(out, "/>");
	}
	buf_append_str(out, "<D:responsedescription>");
	dav_xml_text_append(out, strv_from_cstr(message));
	buf_append_str(out, "</D:responsedescription></D:error>");
	http_response_send(dr->req);
}

void davobj_refused(struct dav_req *dr, const struct storage_error *err, const char *ns,
                    const char *invalid)
{
	buf_reset(http_response_body(dr->req));
	if (err->status != STORAGE_REFUSED) {
		dav_storage_failed(dr, err);
		return;
	}
	switch (err->refusal) {
	case STORAGE_NOT_FOUND:
		davobj_fail(dr, 404, DAV_NS, NULL, err->message);
		return;
	case STORAGE_FORBIDDEN:
		davobj_fail(dr, 403, DAV_NS, "need-privileges", err->message);
		return;
	case STORAGE_INVALID:
		davobj_fail(dr, 400, ns, invalid, err->message);
		return;
	default:
		dav_storage_failed(dr, err);
	}
}

void davobj_storage_failed(struct dav_req *dr, const struct storage_error *err,
                           const struct davobj_problem *problems, size_t count, unsigned problem,
                           const char *ns, const char *invalid)
{
	if (err->status == STORAGE_REFUSED && problem < count && problems[problem].status != 0)
		davobj_fail(dr, problems[problem].status, problems[problem].ns,
		            problems[problem].precondition, err->message);
	else
		davobj_refused(dr, err, ns, invalid);
}

bool davobj_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool davobj_under_target(struct strv target, const char *prefix)
{
	struct strv pre = strv_from_cstr(prefix);
	return strv_starts_with(target, pre) &&
	       (target.len == pre.len || target.ptr[pre.len] == '/' || target.ptr[pre.len] == '?');
}

enum davobj_level davobj_level(struct dav_req *dr, const char *path, const char *prefix,
                               const char **rest_r)
{
	if (!davobj_under(path, prefix))
		return DAVOBJ_NONE;
	const char *p = path + strlen(prefix);
	while (*p == '/')
		p++;
	if (*p == '\0')
		return DAVOBJ_ROOT;
	size_t l = strlen(dr->user.login);
	if (strncmp(p, dr->user.login, l) != 0 || (p[l] != '\0' && p[l] != '/'))
		return DAVOBJ_NONE;
	p += l;
	while (*p == '/')
		p++;
	*rest_r = p;
	return *p == '\0' ? DAVOBJ_HOME : DAVOBJ_BELOW;
}

void davobj_send_object(struct dav_req *dr, const char *etag, const char *type, const char *text,
                        size_t len)
{
	const char *inm = davobj_etag_header(dr, "If-None-Match");
	davobj_etag_out(dr, etag);
	if (inm != NULL && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0)) {
		http_response_status(dr->req, 304);
		http_response_send(dr->req);
		return;
	}
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "Content-Type", type);
	if (!strv_eq_cstr(http_request_head(dr->req)->method, "HEAD"))
		buf_append(http_response_body(dr->req), text, len);
	http_response_send(dr->req);
}

void davobj_stored(struct dav_req *dr, bool created, const char *etag)
{
	http_response_status(dr->req, created ? 201 : 204);
	if (etag != NULL)
		davobj_etag_out(dr, etag);
	http_response_send(dr->req);
}

void davobj_options(struct dav_req *dr, const char *dav, const char *allow)
{
	http_response_status(dr->req, 200);
	http_response_header(dr->req, "DAV", dav);
	http_response_header(dr->req, "Allow", allow);
	http_response_send(dr->req);
}

void davobj_not_allowed(struct dav_req *dr, const char *allow)
{
	struct strv m = http_request_head(dr->req)->method;
	http_response_header(dr->req, "Allow", allow);
	dav_fail(dr, 405, NULL, "DAV-0405", "%.*s is not allowed on %s", (int)m.len, m.ptr,
	         dr->path);
}

void davobj_send_207(struct dav_req *dr)
{
	http_response_status(dr->req, 207);
	http_response_header(dr->req, "Content-Type", "application/xml; charset=utf-8");
	http_response_send(dr->req);
}

const char *davobj_sync_token(struct dav_req *dr, int64_t folder, int64_t revision)
{
	return pool_printf(dr->pool, "urn:tandem:sync:%lld:%lld", (long long)folder,
	                   (long long)revision);
}

int davobj_sync_parse(struct dav_req *dr, int64_t folder, const char *token, int64_t *since_r)
{
	*since_r = 0;
	if (token[0] == '\0')
		return 0;
	const char *prefix = davobj_sync_token(dr, folder, 0);
	size_t pl = strlen(prefix) - 1; /* without the "0" */
	char *end = NULL;
	if (strncmp(token, prefix, pl) != 0 || token[pl] < '0' || token[pl] > '9')
		return -1;
	long long v = strtoll(token + pl, &end, 10);
	if (v < 0 || *end != '\0')
		return -1;
	*since_r = v;
	return 0;
}

const char *davobj_etag_header(struct dav_req *dr, const char *name)
{
	struct strv v = http_request_header(dr->req, name);
	if (v.ptr == NULL)
		return NULL;
	if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
		return pool_strndup(dr->pool, v.ptr + 1, v.len - 2);
	return pool_strndup(dr->pool, v.ptr, v.len);
}

void davobj_etag_out(struct dav_req *dr, const char *etag)
{
	http_response_header(dr->req, "ETag", pool_printf(dr->pool, "\"%s\"", etag));
}

void davobj_href_prop(struct buf *out, const char *ns, const char *name, const char *href)
{
	buf_append_str(out, "<");
	buf_append_str(out, name);
	buf_append_str(out, " xmlns=\"");
	buf_append_str(out, ns);
	buf_append_str(out, "\"><D:href>");
	dav_href_append(out, href);
	buf_append_str(out, "</D:href></");
	buf_append_str(out, name);
	buf_append_str(out, ">");
}

void davobj_privileges(struct buf *out, const struct folder *f, const char *extra)
{
	buf_append_str(out, "<D:current-user-privilege-set><D:privilege><D:read/></D:privilege>");
	if (extra != NULL)
		buf_append_str(out, extra);
	if (f->rights.folder >= 2)
		buf_append_str(out, "<D:privilege><D:bind/></D:privilege>");
	if (f->rights.write > 0)
		buf_append_str(out, "<D:privilege><D:write-content/></D:privilege>"
		                    "<D:privilege><D:write-properties/></D:privilege>");
	if (f->rights.del > 0)
		buf_append_str(out, "<D:privilege><D:unbind/></D:privilege>");
	if (f->rights.folder >= 2 && f->rights.write > 0 && f->rights.del > 0)
		buf_append_str(out, "<D:privilege><D:write/></D:privilege>");
	buf_append_str(out, "</D:current-user-privilege-set>");
}

enum davobj_member davobj_member(struct dav_req *dr, const char *rest, const char **name_r)
{
	const char *p = rest;
	while (*p == '/')
		p++;
	if (*p == '\0')
		return DAVOBJ_MEMBER_COLLECTION;
	const char *slash = strchr(p, '/');
	if (slash != NULL && slash[1] != '\0')
		return DAVOBJ_MEMBER_NONE;
	*name_r = pool_strndup(dr->pool, p, strcspn(p, "/"));
	return DAVOBJ_MEMBER_OBJECT;
}

bool davobj_is_revision_prop(const struct dav_prop_name *n)
{
	return davobj_is(n, DAVOBJ_CS_NS, "getctag") || davobj_is(n, DAV_NS, "sync-token");
}

void davobj_revision_prop(struct dav_req *dr, struct buf *out, const struct dav_prop_name *n,
                          int64_t folder, int64_t revision)
{
	if (davobj_is(n, DAV_NS, "sync-token"))
		dav_ms_prop_text(out, DAV_NS, "sync-token",
		                 strv_from_cstr(davobj_sync_token(dr, folder, revision)));
	else
		dav_ms_prop_text(
		    out, DAVOBJ_CS_NS, "getctag",
		    strv_from_cstr(pool_printf(dr->pool, "%lld", (long long)revision)));
}

const char *davobj_segment(struct storage_user *su, int64_t folder, const char *ns)
{
	const struct dav_prop want = {ns, DAVOBJ_SEGMENT, NULL};
	struct dav_prop *props;
	size_t n;
	struct storage_error err;
	if (storage_props_get(su, DAV_PROPS_FOLDER, folder, &want, 1, &props, &n, &err) < 0 ||
	    n == 0)
		return NULL;
	return props[0].value;
}

int davobj_home_folders(struct dav_req *dr, bool (*module)(const struct folder *f),
                        struct folder ***folders_r, size_t *count_r)
{
	struct folder **own, **all;
	size_t nown, n = 0;
	struct folder_sharer *sharers;
	size_t nsharers;
	struct folder_error fe;
	struct storage_error err;
	if (storage_folder_list(dr->su, FOLDER_ID_PRIVATE, &own, &nown, &fe, &err) < 0 ||
	    storage_folder_list_sharers(dr->su, &sharers, &nsharers, &fe, &err) < 0) {
		buf_reset(http_response_body(dr->req));
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	struct folder ***shared = pool_calloc(dr->pool, nsharers + 1, sizeof(*shared));
	size_t *nshared = pool_calloc(dr->pool, nsharers + 1, sizeof(*nshared));
	size_t total = nown;
	for (size_t i = 0; i < nsharers; i++) {
		struct folder_sharer s;
		if (storage_folder_list_shared_by(dr->su, sharers[i].uid, &s, &shared[i],
		                                  &nshared[i], &fe, &err) < 0) {
			nshared[i] = 0; /* unshared meanwhile */
			continue;
		}
		total += nshared[i];
	}
	all = pool_calloc(dr->pool, total + 1, sizeof(*all));
	for (size_t i = 0; i < nown; i++)
		if (module(own[i]))
			all[n++] = own[i];
	for (size_t i = 0; i < nsharers; i++)
		for (size_t j = 0; j < nshared[i]; j++)
			if (module(shared[i][j]))
				all[n++] = shared[i][j];
	*folders_r = all;
	*count_r = n;
	return 0;
}

bool davobj_is(const struct dav_prop_name *n, const char *ns, const char *name)
{
	return strcmp(n->ns, ns) == 0 && strcmp(n->name, name) == 0;
}

void davobj_response(struct dav_req *dr, struct buf *out, const struct dav_propfind *req,
                     const struct dav_prop_name *allprop, size_t allprop_count, const char *href,
                     davobj_prop_fn *prop, void *ctx)
{
	const struct dav_prop_name *names = req->names;
	size_t count = req->count;
	if (req->kind != DAV_PROPFIND_PROP) {
		names = allprop;
		count = allprop_count;
	}
	bool *missing = pool_calloc(dr->pool, count + 1, sizeof(*missing));
	size_t nmissing = 0;
	dav_ms_response_begin(out, href);
	dav_ms_propstat_begin(out);
	for (size_t i = 0; i < count; i++) {
		if (!prop(ctx, out, &names[i])) {
			missing[i] = true;
			nmissing++;
		}
	}
	dav_ms_propstat_end(out, 200);
	if (nmissing > 0 && req->kind == DAV_PROPFIND_PROP) {
		dav_ms_propstat_begin(out);
		for (size_t i = 0; i < count; i++)
			if (missing[i])
				dav_ms_prop_empty(out, names[i].ns, names[i].name);
		dav_ms_propstat_end(out, 404);
	}
	dav_ms_response_end(out);
}

int davobj_propfind_parse(struct dav_req *dr, struct dav_propfind **req_r, bool *members_r)
{
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_propfind(dr->pool, dav_body(dr), &limits, req_r, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return -1;
	}
	enum dav_depth depth;
	struct strv dh = http_request_header(dr->req, "Depth");
	if (dav_depth_parse(dh, DAV_DEPTH_INFINITY, &depth, &error) < 0) {
		dav_fail(dr, 400, NULL, "DAV-0400", "%s", error);
		return -1;
	}
	*members_r = depth != DAV_DEPTH_0;
	return 0;
}

/* ---------------------------------------------------------------------------------- XML */

xmlDocPtr davobj_parse_body(struct dav_req *dr)
{
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	xmlDocPtr doc = dav_xml_parse_doc(dr->pool, dav_body(dr), &limits, &status, &error);
	if (doc == NULL)
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
	return doc;
}

const char *davobj_collection_href(struct dav_req *dr)
{
	size_t n = strlen(dr->path);
	return n > 0 && dr->path[n - 1] == '/' ? dr->path : pool_printf(dr->pool, "%s/", dr->path);
}

bool davobj_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

xmlNode *davobj_child(const xmlNode *parent, const char *ns, const char *name)
{
	for (xmlNode *c = parent->children; c != NULL; c = c->next)
		if (davobj_elem(c, ns, name))
			return c;
	return NULL;
}

const char *davobj_attr(struct pool *pool, xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (v == NULL)
		return NULL;
	const char *s = pool_strdup(pool, (const char *)v);
	xmlFree(v);
	return s;
}

const char *davobj_content(struct pool *pool, xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	const char *s = pool_strdup(pool, v != NULL ? (const char *)v : "");
	xmlFree(v);
	return s;
}

/* ------------------------------------------------------------------------------ REPORTs */

void davobj_etag_response(struct davobj_report *r, const char *name, const char *etag)
{
	dav_ms_response_begin(r->out, pool_printf(r->dr->pool, "%s%s", r->base, name));
	dav_ms_propstat_begin(r->out);
	dav_ms_prop_text(r->out, DAV_NS, "getetag",
	                 strv_from_cstr(pool_printf(r->dr->pool, "\"%s\"", etag)));
	dav_ms_propstat_end(r->out, 200);
	dav_ms_response_end(r->out);
}

void davobj_truncated(struct davobj_report *r)
{
	dav_ms_response_status(r->out, r->base, 507, "number-of-matches-within-limits");
}

int davobj_multiget(struct davobj_report *r, xmlNode *root)
{
	for (xmlNode *h = root->children; h != NULL; h = h->next) {
		if (!davobj_elem(h, DAV_NS, "href"))
			continue;
		const char *uri = davobj_content(r->dr->pool, h), *path, *error, *name;
		int status;
		if (dav_uri_to_path(r->dr->pool, strv_from_cstr(uri), &r->dr->origin, &path,
		                    &status, &error) < 0) {
			dav_ms_response_status(r->out, uri, 404, NULL);
			continue;
		}
		int found = r->resolve(r, path, &name);
		if (found < 0)
			return -1;
		if (found == 0) {
			dav_ms_response_status(r->out, path, 404, NULL);
			continue;
		}
		if (!r->by_name(r, path, name, true))
			return -1;
	}
	return 0;
}

int davobj_sync_collection(struct davobj_report *r, xmlNode *root)
{
	struct dav_req *dr = r->dr;
	xmlNode *t = davobj_child(root, DAV_NS, "sync-token");
	int64_t since;
	if (davobj_sync_parse(dr, r->folder, t != NULL ? davobj_content(dr->pool, t) : "", &since) <
	    0) {
		davobj_fail(dr, 403, DAV_NS, "valid-sync-token",
		            "the sync-token is not one this collection gave out");
		return -1;
	}
	json_t *changes;
	struct storage_error err;
	if (r->changes(r, since, &changes, &err) < 0) {
		if (err.status == STORAGE_REFUSED && err.refusal == STORAGE_INVALID)
			davobj_fail(
			    dr, 403, DAV_NS, "valid-sync-token",
			    "the sync-token is newer than the collection, or older than the "
			    "deletions it keeps: sync again without a token");
		else
			r->storage_failed(r, &err);
		return -1;
	}
	size_t i;
	json_t *e;
	int rc = 0;
	json_array_foreach(json_object_get(changes, "changed"), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!r->data) {
			davobj_etag_response(r, name,
			                     json_string_value(json_object_get(e, "etag")));
		} else if (!r->by_name(r, pool_printf(dr->pool, "%s%s", r->base, name), name,
		                       true)) {
			rc = -1;
			break;
		}
	}
	json_array_foreach(json_object_get(changes, "deleted"), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		dav_ms_response_status(r->out, pool_printf(dr->pool, "%s%s", r->base, name), 404,
		                       NULL);
	}
	/* more than one answer holds: the client asks again from the token (RFC 6578 §3.6) */
	if (json_is_true(json_object_get(changes, "more")))
		davobj_truncated(r);
	int64_t now = json_integer_value(json_object_get(changes, "revision"));
	json_decref(changes);
	if (rc == 0) {
		buf_append_str(r->out, "<D:sync-token>");
		dav_xml_text_append(r->out, strv_from_cstr(davobj_sync_token(dr, r->folder, now)));
		buf_append_str(r->out, "</D:sync-token>");
	}
	return rc;
}
