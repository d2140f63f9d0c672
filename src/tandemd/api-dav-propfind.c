/* SPDX-License-Identifier: MIT */
/* PROPFIND on /dav/ (RFC 4918 §9.1): depth 0 and 1, the answer streamed with dav-stream so a
   large folder is written piece by piece on workers while the client reads. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api-dav.h"
#include "buf.h"
#include "dav-multistatus.h"
#include "dav-stream.h"
#include "dav-xml.h"
#include "http-server.h"
#include "mem.h"
#include "node.h"
#include "pool.h"

#define DAV_XML_MAX_SIZE   (1024 * 1024)
#define RESPONSES_PER_FILL 64

/* One resource of the answer, in the stream's own pool. */
struct item {
	const char *path; /* the href: collections end in '/' */
	const char *name;
	bool collection, principal;
	int64_t size, created, modified; /* size, etag and type: files only */
	const char *etag, *type;
};

struct propfind_stream {
	struct pool *pool; /* owns everything here */
	struct dav_propfind *pf;
	const char *principal_href;
	struct item *items;
	size_t count, next;
	bool begun;
};

enum prop {
	P_RESOURCETYPE,
	P_GETCONTENTLENGTH,
	P_GETCONTENTTYPE,
	P_GETLASTMODIFIED,
	P_CREATIONDATE,
	P_DISPLAYNAME,
	P_GETETAG,
	P_SUPPORTEDLOCK,
	P_LOCKDISCOVERY,
	P_CURRENT_USER_PRINCIPAL, /* RFC 5397: not in allprop */
	P_COUNT,
	P_UNKNOWN = P_COUNT,
};
#define P_ALLPROP_END P_CURRENT_USER_PRINCIPAL

static const char *const prop_names[P_COUNT] = {
    "resourcetype",   "getcontentlength",
    "getcontenttype", "getlastmodified",
    "creationdate",   "displayname",
    "getetag",        "supportedlock",
    "lockdiscovery",  "current-user-principal",
};

static enum prop prop_lookup(const struct dav_prop_name *n)
{
	if (strcmp(n->ns, DAV_NS) != 0)
		return P_UNKNOWN;
	for (int p = 0; p < P_COUNT; p++)
		if (strcmp(prop_names[p], n->name) == 0)
			return (enum prop)p;
	return P_UNKNOWN;
}

static bool prop_applies(const struct item *it, enum prop p)
{
	switch (p) {
	case P_GETCONTENTLENGTH:
	case P_GETCONTENTTYPE:
	case P_GETETAG:
		return !it->collection;
	case P_GETLASTMODIFIED:
	case P_CREATIONDATE:
		return it->modified > 0;
	default:
		return p < P_COUNT;
	}
}

/* getlastmodified in HTTP's date format, creationdate in RFC 3339's (RFC 4918 §15.1, §15.7) */
static void date_text(struct buf *out, const char *name, bool http_date, int64_t t)
{
	char s[64];
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	size_t n = http_date ? strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT", &tm)
	                     : strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dav_ms_prop_text(out, DAV_NS, name, strv_make(s, n));
}

static void write_prop(struct propfind_stream *ps, struct buf *out, const struct item *it,
                       enum prop p)
{
	char num[24];
	switch (p) {
	case P_RESOURCETYPE:
		dav_ms_prop_dav_begin(out, "resourcetype");
		if (it->collection)
			buf_append_str(out, "<D:collection/>");
		if (it->principal)
			buf_append_str(out, "<D:principal/>");
		dav_ms_prop_dav_end(out, "resourcetype");
		return;
	case P_GETCONTENTLENGTH:
		dav_ms_prop_text(out, DAV_NS, "getcontentlength",
		                 strv_make(num, buf_format_u64(num, (uint64_t)it->size)));
		return;
	case P_GETCONTENTTYPE:
		dav_ms_prop_text(out, DAV_NS, "getcontenttype", strv_from_cstr(it->type));
		return;
	case P_GETLASTMODIFIED:
		date_text(out, "getlastmodified", true, it->modified);
		return;
	case P_CREATIONDATE:
		date_text(out, "creationdate", false, it->created > 0 ? it->created : it->modified);
		return;
	case P_DISPLAYNAME:
		dav_ms_prop_text(out, DAV_NS, "displayname", strv_from_cstr(it->name));
		return;
	case P_GETETAG:
		dav_ms_prop_text(out, DAV_NS, "getetag", strv_from_cstr(it->etag));
		return;
	case P_SUPPORTEDLOCK:
		dav_ms_prop_dav_begin(out, "supportedlock");
		buf_append_str(out, "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
		                    "<D:locktype><D:write/></D:locktype></D:lockentry>"
		                    "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
		                    "<D:locktype><D:write/></D:locktype></D:lockentry>");
		dav_ms_prop_dav_end(out, "supportedlock");
		return;
	case P_LOCKDISCOVERY:
		dav_ms_prop_dav_begin(out, "lockdiscovery");
		dav_ms_prop_dav_end(out, "lockdiscovery");
		return;
	case P_CURRENT_USER_PRINCIPAL:
		dav_ms_prop_dav_begin(out, "current-user-principal");
		buf_append_str(out, "<D:href>");
		dav_href_append(out, ps->principal_href);
		buf_append_str(out, "</D:href>");
		dav_ms_prop_dav_end(out, "current-user-principal");
		return;
	case P_UNKNOWN:
		break;
	}
}

static void write_item(struct propfind_stream *ps, struct buf *out, const struct item *it)
{
	const struct dav_propfind *pf = ps->pf;
	dav_ms_response_begin(out, it->path);
	if (pf->kind != DAV_PROPFIND_PROP) {
		dav_ms_propstat_begin(out);
		for (int p = 0; p < P_ALLPROP_END; p++) {
			if (!prop_applies(it, (enum prop)p))
				continue;
			if (pf->kind == DAV_PROPFIND_PROPNAME)
				dav_ms_prop_empty(out, DAV_NS, prop_names[p]);
			else
				write_prop(ps, out, it, (enum prop)p);
		}
		dav_ms_propstat_end(out, 200);
		dav_ms_response_end(out);
		return;
	}
	bool missing = false, found = false;
	for (size_t i = 0; i < pf->count; i++) {
		enum prop p = prop_lookup(&pf->names[i]);
		if (p == P_UNKNOWN || !prop_applies(it, p)) {
			missing = true;
			continue;
		}
		if (!found)
			dav_ms_propstat_begin(out);
		found = true;
		write_prop(ps, out, it, p);
	}
	if (found)
		dav_ms_propstat_end(out, 200);
	if (missing) {
		dav_ms_propstat_begin(out);
		for (size_t i = 0; i < pf->count; i++) {
			enum prop p = prop_lookup(&pf->names[i]);
			if (p == P_UNKNOWN || !prop_applies(it, p))
				dav_ms_prop_empty(out, pf->names[i].ns, pf->names[i].name);
		}
		dav_ms_propstat_end(out, 404);
	}
	dav_ms_response_end(out);
}

static enum dav_fill_result fill(void *ctx, struct buf *out)
{
	struct propfind_stream *ps = ctx;
	if (!ps->begun) {
		dav_ms_begin(out);
		ps->begun = true;
	}
	for (size_t n = 0; n < RESPONSES_PER_FILL && ps->next < ps->count; n++)
		write_item(ps, out, &ps->items[ps->next++]);
	if (ps->next < ps->count)
		return DAV_FILL_MORE;
	dav_ms_end(out);
	return DAV_FILL_DONE;
}

static void finish(void *ctx, bool completed)
{
	(void)completed;
	struct propfind_stream *ps = ctx;
	struct pool *pool = ps->pool;
	pool_destroy(&pool);
}

/* --------------------------------------------------------------- gathering */

static const char *join(struct pool *pool, const char *parent, const char *name, bool coll)
{
	return pool_printf(pool, "%s/%s%s", parent, name, coll ? "/" : "");
}

static void item_folder(struct pool *pool, struct item *it, const char *path,
                        const struct folder *f)
{
	it->path = pool_strdup(pool, path);
	it->name = pool_strdup(pool, f->title);
	it->collection = true;
	it->created = f->created;
	it->modified = f->modified;
}

static void item_file(struct dav_req *dr, struct pool *pool, struct item *it, const char *path,
                      const struct infostore_file *f)
{
	it->path = pool_strdup(pool, path);
	it->name = pool_strdup(pool, f->name);
	it->size = f->size;
	it->created = f->created;
	it->modified = f->modified;
	it->etag = pool_strdup(pool, dav_map_etag(dr, f->md5, f->version));
	it->type = pool_strdup(pool, f->content_type);
}

static void item_virtual(struct pool *pool, struct item *it, const char *path, const char *name,
                         bool principal)
{
	it->path = pool_strdup(pool, path);
	it->name = pool_strdup(pool, name);
	it->collection = true;
	it->principal = principal;
}

/* The target and, with depth 1, its members into ps->items. 0, or -1 after answering. */
static int gather(struct dav_req *dr, const struct dav_res *res, bool members,
                  struct propfind_stream *ps)
{
	struct pool *pool = ps->pool;
	struct folder **folders = NULL;
	size_t nfolders = 0, nfiles = 0, nchildren = 0;
	json_t *files = NULL;
	if (members && res->kind == DAV_RES_FOLDER &&
	    dav_map_members(dr, res, &folders, &nfolders, &files) < 0)
		return -1;
	if (files != NULL)
		nfiles = json_array_size(files);
	if (members && res->kind == DAV_RES_VIRTUAL)
		while (res->children[nchildren] != NULL)
			nchildren++;
	ps->items = pool_calloc(pool, 1 + nfolders + nfiles + nchildren, sizeof(*ps->items));
	struct item *it = &ps->items[0];
	const char *self =
	    res->kind == DAV_RES_FILE ? res->path : pool_printf(pool, "%s/", res->path);
	switch (res->kind) {
	case DAV_RES_FOLDER:
		item_folder(pool, it, self, res->folder);
		it->name = pool_strdup(pool, res->name);
		break;
	case DAV_RES_FILE:
		item_file(dr, pool, it, self, &res->file);
		break;
	case DAV_RES_PRINCIPAL:
		item_virtual(pool, it, self, dr->user.login, true);
		break;
	default:
		item_virtual(pool, it, self, res->name, false);
		break;
	}
	ps->count = 1;
	for (size_t i = 0; i < nchildren; i++) {
		const char *name = res->children[i];
		bool principal = strcmp(res->path, "/dav/principals/users") == 0;
		item_virtual(pool, &ps->items[ps->count++], join(pool, res->path, name, true), name,
		             principal);
	}
	for (size_t i = 0; i < nfolders; i++)
		item_folder(pool, &ps->items[ps->count++],
		            join(pool, res->path, folders[i]->title, true), folders[i]);
	for (size_t i = 0; i < nfiles; i++) {
		json_t *o = json_array_get(files, i);
		struct infostore_file f;
		memset(&f, 0, sizeof(f));
		f.size = (int64_t)json_integer_value(json_object_get(o, "size"));
		f.version = (int64_t)json_integer_value(json_object_get(o, "version"));
		f.created = (int64_t)json_integer_value(json_object_get(o, "created"));
		f.modified = (int64_t)json_integer_value(json_object_get(o, "modified"));
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *md5 = json_string_value(json_object_get(o, "md5"));
		const char *type = json_string_value(json_object_get(o, "content_type"));
		snprintf(f.name, sizeof(f.name), "%s", name != NULL ? name : "");
		snprintf(f.md5, sizeof(f.md5), "%s", md5 != NULL ? md5 : "");
		snprintf(f.content_type, sizeof(f.content_type), "%s",
		         type != NULL ? type : INFOSTORE_DEFAULT_TYPE);
		item_file(dr, pool, &ps->items[ps->count++], join(pool, res->path, f.name, false),
		          &f);
	}
	json_decref(files);
	return 0;
}

void dav_propfind(struct dav_req *dr)
{
	struct http_request *req = dr->req;
	enum dav_depth depth;
	const char *error;
	int status;
	if (dav_depth_parse(http_request_header(req, "Depth"), DAV_DEPTH_INFINITY, &depth, &error) <
	    0) {
		dav_fail(dr, 400, NULL, "DAV-0400", "%s", error);
		return;
	}
	if (depth == DAV_DEPTH_INFINITY) {
		dav_fail(dr, 403, "propfind-finite-depth", NULL, "Depth: infinity");
		return;
	}
	struct pool *pool = pool_create(16384);
	struct propfind_stream *ps = pool_calloc(pool, 1, sizeof(*ps));
	ps->pool = pool;
	struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_propfind(pool, http_request_body(req), &limits, &ps->pf, &status,
	                           &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		goto fail;
	}
	ps->principal_href = pool_printf(pool, "/dav/principals/users/%s/", dr->user.login);
	struct dav_res res;
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		goto fail;
	if (res.kind == DAV_RES_NONE) {
		dav_fail(dr, 404, NULL, "DAV-0404", "nothing at %s", dr->path);
		goto fail;
	}
	if (gather(dr, &res, depth == DAV_DEPTH_1, ps) < 0)
		goto fail;
	http_response_status(req, 207);
	http_response_header(req, "Content-Type", "application/xml; charset=utf-8");
	struct dav_stream_settings set = {0};
	dav_stream_start(req, dr->node->workers, &set, fill, finish, ps);
	return;
fail:
	pool_destroy(&pool);
}
