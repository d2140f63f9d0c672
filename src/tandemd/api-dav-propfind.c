/* SPDX-License-Identifier: MIT */
/* PROPFIND on /dav/ (RFC 4918 §9.1): depth 0 and 1, the answer streamed with dav-stream: a
   folder's members are read a page at a time on workers while the client reads, so memory
   stays that of one page however large the folder. */
#include <stdio.h>
#include <string.h>

#include "api-dav.h"
#include "buf.h"
#include "dav-multistatus.h"
#include "dav-stream.h"
#include "dav-xml.h"
#include "http-server.h"
#include "lock-store.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "pool.h"
#include "storage-props.h"

#define PAGE 64

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
	/* not in allprop: RFC 5397, RFC 4331 */
	P_CURRENT_USER_PRINCIPAL,
	P_QUOTA_AVAILABLE,
	P_QUOTA_USED,
	P_COUNT,
	P_DEAD = P_COUNT,
};
#define P_ALLPROP_END P_CURRENT_USER_PRINCIPAL

static const char *const prop_names[P_COUNT] = {
    "resourcetype",
    "getcontentlength",
    "getcontenttype",
    "getlastmodified",
    "creationdate",
    "displayname",
    "getetag",
    "supportedlock",
    "lockdiscovery",
    "current-user-principal",
    "quota-available-bytes",
    "quota-used-bytes",
};

static enum prop prop_live(const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) != 0)
		return P_DEAD;
	for (int p = 0; p < P_COUNT; p++)
		if (strcmp(prop_names[p], name) == 0)
			return (enum prop)p;
	return P_DEAD;
}

bool dav_prop_is_live(const char *ns, const char *name)
{
	return prop_live(ns, name) != P_DEAD;
}

/* One resource of the answer. */
struct item {
	const char *path; /* the href: collections end in '/' */
	const char *name;
	bool collection, principal;
	bool member;                           /* a member of the target (depth 1) */
	const char *lock_path;                 /* members: its path in the lock store */
	const struct storage_dav_entry *entry; /* folders and files; NULL for the others */
	struct dav_prop *dead;                 /* its dead properties (of those asked for) */
	size_t dead_count;
};

struct propfind_stream {
	struct pool *pool; /* owns everything here */
	struct storage *storage;
	int64_t cid, uid;
	struct dav_lock_view view; /* lockdiscovery's */
	struct dav_propfind *pf;
	const char *principal_href;
	struct dav_res res; /* the target, strings in pool */
	bool members;
	int stage; /* 0: the target, 1: its members, 2: the end */
	struct storage_dav_cursor cursor;
	struct storage_dav_entry page[PAGE];
	bool want_dead;
	int64_t quota_used, quota_available; /* -1: unknown / no quota */
	/* lockdiscovery: the locks covering the target, and those rooted below it */
	const char *lock_parent; /* the target's path, for members' lock paths */
	struct lock *cover, *below;
	size_t cover_count, below_count;
};

static bool prop_applies(const struct propfind_stream *ps, const struct item *it, enum prop p)
{
	switch (p) {
	case P_GETCONTENTLENGTH:
	case P_GETCONTENTTYPE:
	case P_GETETAG:
		return !it->collection && it->entry != NULL;
	case P_GETLASTMODIFIED:
	case P_CREATIONDATE:
		return it->entry != NULL;
	case P_QUOTA_AVAILABLE:
		return it->collection && ps->quota_available >= 0;
	case P_QUOTA_USED:
		return it->collection && ps->quota_used >= 0;
	default:
		return p < P_COUNT;
	}
}

/* getlastmodified in HTTP's date format, creationdate in RFC 3339's (RFC 4918 §15.1, §15.7) */
static void date_text(struct buf *out, const char *name, bool http_date, int64_t t)
{
	char s[DAV_DATE_SIZE];
	dav_ms_prop_text(out, DAV_NS, name, strv_make(s, dav_date(s, t, http_date)));
}

static void number(struct buf *out, const char *name, int64_t v)
{
	char num[24];
	dav_ms_prop_text(out, DAV_NS, name, strv_make(num, buf_format_u64(num, (uint64_t)v)));
}

/* The locks covering it: the target's own, or for a member the target's of depth infinity
   and those rooted at the member. */
static void write_locks(struct propfind_stream *ps, struct buf *out, const struct item *it)
{
	for (size_t i = 0; i < ps->cover_count; i++)
		if (!it->member || ps->cover[i].depth == LOCK_DEPTH_INFINITY)
			dav_activelock_append(out, &ps->view, &ps->cover[i]);
	if (!it->member)
		return;
	for (size_t i = 0; i < ps->below_count; i++)
		if (strcmp(ps->below[i].path, it->lock_path) == 0)
			dav_activelock_append(out, &ps->view, &ps->below[i]);
}

static void write_prop(struct propfind_stream *ps, struct buf *out, const struct item *it,
                       enum prop p)
{
	const struct storage_dav_entry *e = it->entry;
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
		number(out, "getcontentlength", e->size);
		return;
	case P_GETCONTENTTYPE:
		dav_ms_prop_text(out, DAV_NS, "getcontenttype", strv_from_cstr(e->content_type));
		return;
	case P_GETLASTMODIFIED:
		date_text(out, "getlastmodified", true, e->modified);
		return;
	case P_CREATIONDATE:
		date_text(out, "creationdate", false, e->created > 0 ? e->created : e->modified);
		return;
	case P_DISPLAYNAME:
		dav_ms_prop_text(out, DAV_NS, "displayname", strv_from_cstr(it->name));
		return;
	case P_GETETAG:
		dav_ms_prop_text(out, DAV_NS, "getetag", strv_from_cstr(e->etag));
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
		write_locks(ps, out, it);
		dav_ms_prop_dav_end(out, "lockdiscovery");
		return;
	case P_CURRENT_USER_PRINCIPAL:
		dav_ms_prop_dav_begin(out, "current-user-principal");
		buf_append_str(out, "<D:href>");
		dav_href_append(out, ps->principal_href);
		buf_append_str(out, "</D:href>");
		dav_ms_prop_dav_end(out, "current-user-principal");
		return;
	case P_QUOTA_AVAILABLE:
		number(out, "quota-available-bytes", ps->quota_available);
		return;
	case P_QUOTA_USED:
		number(out, "quota-used-bytes", ps->quota_used);
		return;
	case P_DEAD:
		break;
	}
}

static const struct dav_prop *find_dead(const struct item *it, const struct dav_prop_name *n)
{
	for (size_t i = 0; i < it->dead_count; i++)
		if (strcmp(it->dead[i].ns, n->ns) == 0 && strcmp(it->dead[i].name, n->name) == 0)
			return &it->dead[i];
	return NULL;
}

/* Whether the requested property i is there for it. */
static bool requested_found(const struct propfind_stream *ps, const struct item *it, size_t i)
{
	const struct dav_prop_name *n = &ps->pf->names[i];
	enum prop p = prop_live(n->ns, n->name);
	return p != P_DEAD ? prop_applies(ps, it, p) : find_dead(it, n) != NULL;
}

static void write_item(struct propfind_stream *ps, struct buf *out, const struct item *it)
{
	const struct dav_propfind *pf = ps->pf;
	dav_ms_response_begin(out, it->path);
	if (pf->kind != DAV_PROPFIND_PROP) {
		bool names = pf->kind == DAV_PROPFIND_PROPNAME;
		dav_ms_propstat_begin(out);
		for (int p = 0; p < P_ALLPROP_END; p++) {
			if (!prop_applies(ps, it, (enum prop)p))
				continue;
			if (names)
				dav_ms_prop_empty(out, DAV_NS, prop_names[p]);
			else
				write_prop(ps, out, it, (enum prop)p);
		}
		for (size_t i = 0; i < it->dead_count; i++) {
			if (names)
				dav_ms_prop_empty(out, it->dead[i].ns, it->dead[i].name);
			else
				dav_ms_prop_raw(out, strv_from_cstr(it->dead[i].value));
		}
		dav_ms_propstat_end(out, 200);
		dav_ms_response_end(out);
		return;
	}
	bool missing = false, found = false;
	for (size_t i = 0; i < pf->count; i++) {
		if (!requested_found(ps, it, i)) {
			missing = true;
			continue;
		}
		if (!found)
			dav_ms_propstat_begin(out);
		found = true;
		const struct dav_prop_name *n = &pf->names[i];
		enum prop p = prop_live(n->ns, n->name);
		if (p != P_DEAD)
			write_prop(ps, out, it, p);
		else
			dav_ms_prop_raw(out, strv_from_cstr(find_dead(it, n)->value));
	}
	if (found)
		dav_ms_propstat_end(out, 200);
	if (missing) {
		dav_ms_propstat_begin(out);
		for (size_t i = 0; i < pf->count; i++)
			if (!requested_found(ps, it, i))
				dav_ms_prop_empty(out, pf->names[i].ns, pf->names[i].name);
		dav_ms_propstat_end(out, 404);
	}
	dav_ms_response_end(out);
}

/* The dead properties asked for (NULL: all of them) into *names_r and *n_r. */
static void dead_names(const struct propfind_stream *ps, struct pool *pool,
                       const struct dav_prop **names_r, size_t *n_r)
{
	*names_r = NULL;
	*n_r = 0;
	if (ps->pf->kind != DAV_PROPFIND_PROP)
		return;
	struct dav_prop *want = pool_calloc(pool, ps->pf->count, sizeof(*want));
	for (size_t i = 0; i < ps->pf->count; i++)
		if (prop_live(ps->pf->names[i].ns, ps->pf->names[i].name) == P_DEAD)
			want[(*n_r)++] =
			    (struct dav_prop){ps->pf->names[i].ns, ps->pf->names[i].name, NULL};
	*names_r = want;
}

/* The dead properties asked for of the target, into it (strings in the user's pool); the
   members' come with their page (storage_dav_children_props). */
static int load_dead(struct propfind_stream *ps, struct storage_user *su, struct pool *pool,
                     struct item *it)
{
	struct storage_error err;
	if (!ps->want_dead || it->entry == NULL)
		return 0;
	enum dav_props_kind kind = it->collection ? DAV_PROPS_FOLDER : DAV_PROPS_FILE;
	const struct dav_prop *names;
	size_t n;
	dead_names(ps, pool, &names, &n);
	if (storage_props_get(su, kind, it->entry->id, names, n, &it->dead, &it->dead_count, &err) <
	    0) {
		log_error("dav", "cid=%lld: reading dead properties of %s: %s", (long long)ps->cid,
		          it->path, err.message);
		return -1;
	}
	return 0;
}

static void entry_item(struct propfind_stream *ps, struct pool *pool, struct item *it,
                       const char *parent, const struct storage_dav_entry *e)
{
	it->member = true;
	if (ps->below_count > 0)
		it->lock_path = dav_lock_key(pool, &ps->view,
		                             pool_printf(pool, "%s/%s", ps->lock_parent, e->name));
	it->collection = e->collection;
	it->name = e->name;
	it->entry = e;
	it->dead = e->dead;
	it->dead_count = e->dead_count;
	it->path = pool_printf(pool, "%s/%s%s", parent, e->name, e->collection ? "/" : "");
}

static enum dav_fill_result fill(void *ctx, struct buf *out)
{
	struct propfind_stream *ps = ctx;
	struct dav_res *res = &ps->res;
	/* what one call reads lives until it returns */
	struct pool *tmp = pool_create(8192);
	struct storage_user *su = storage_user_create(ps->storage, tmp, ps->cid, ps->uid);
	enum dav_fill_result ret = DAV_FILL_ERROR;
	struct storage_error err;
	struct item it;

	if (ps->stage == 0) {
		dav_ms_begin(out);
		memset(&it, 0, sizeof(it));
		it.collection = res->kind != DAV_RES_FILE;
		it.principal = res->kind == DAV_RES_PRINCIPAL;
		it.name = res->kind == DAV_RES_FOLDER || res->kind == DAV_RES_FILE ? res->entry.name
		                                                                   : res->name;
		if (res->area_root || res->kind == DAV_RES_PRINCIPAL)
			it.name = res->name;
		it.entry =
		    res->kind == DAV_RES_FOLDER || res->kind == DAV_RES_FILE ? &res->entry : NULL;
		it.path = it.collection ? pool_printf(tmp, "%s/", res->path) : res->path;
		if (load_dead(ps, su, tmp, &it) < 0)
			goto out;
		write_item(ps, out, &it);
		ps->stage = ps->members && it.collection ? 1 : 2;
	} else if (ps->stage == 1 && res->kind == DAV_RES_VIRTUAL) {
		bool users = strcmp(res->path, "/dav/principals/users") == 0;
		for (size_t i = 0; res->children[i] != NULL; i++) {
			memset(&it, 0, sizeof(it));
			it.collection = true;
			it.principal = users;
			it.name = res->children[i];
			it.path = pool_printf(tmp, "%s/%s/", res->path, it.name);
			write_item(ps, out, &it);
		}
		ps->stage = 2;
	} else if (ps->stage == 1) {
		size_t count, n;
		const struct dav_prop *names;
		dead_names(ps, tmp, &names, &n);
		int r = ps->want_dead
		            ? storage_dav_children_props(su, res->entry.id, &ps->cursor, ps->page,
		                                         PAGE, names, n, &count, &err)
		            : storage_dav_children(su, res->entry.id, &ps->cursor, ps->page, PAGE,
		                                   &count, &err);
		if (r < 0) {
			log_error("dav", "cid=%lld: listing %s: %s", (long long)ps->cid, res->path,
			          err.message);
			goto out;
		}
		for (size_t i = 0; i < count; i++) {
			memset(&it, 0, sizeof(it));
			entry_item(ps, tmp, &it, res->path, &ps->page[i]);
			write_item(ps, out, &it);
		}
		if (ps->cursor.done)
			ps->stage = 2;
	}
	ret = DAV_FILL_MORE;
	if (ps->stage == 2) {
		dav_ms_end(out);
		ret = DAV_FILL_DONE;
	}
out:
	pool_destroy(&tmp);
	return ret;
}

static void finish(void *ctx, bool completed)
{
	(void)completed;
	struct propfind_stream *ps = ctx;
	struct pool *pool = ps->pool;
	pool_destroy(&pool);
}

/* What the answer needs beyond the listing: dead properties, the quota. */
static int prepare(struct dav_req *dr, struct propfind_stream *ps)
{
	const struct dav_propfind *pf = ps->pf;
	bool quota = false;
	ps->want_dead = pf->kind != DAV_PROPFIND_PROP;
	for (size_t i = 0; i < pf->count && pf->kind == DAV_PROPFIND_PROP; i++) {
		enum prop p = prop_live(pf->names[i].ns, pf->names[i].name);
		ps->want_dead |= p == P_DEAD;
		quota |= p == P_QUOTA_AVAILABLE || p == P_QUOTA_USED;
	}
	ps->quota_used = ps->quota_available = -1;
	bool discovery = pf->kind == DAV_PROPFIND_ALLPROP;
	for (size_t i = 0; i < pf->count && pf->kind == DAV_PROPFIND_PROP; i++)
		discovery |= prop_live(pf->names[i].ns, pf->names[i].name) == P_LOCKDISCOVERY;
	ps->lock_parent = ps->res.path;
	if (discovery && ps->res.kind != DAV_RES_VIRTUAL &&
	    (dav_lock_view(dr, &ps->res, ps->pool, &ps->view) < 0 ||
	     dav_lockdiscovery(dr, ps->pool, &ps->view, ps->res.path, false, &ps->cover,
	                       &ps->cover_count) < 0 ||
	     (ps->members && dav_lockdiscovery(dr, ps->pool, &ps->view, ps->res.path, true,
	                                       &ps->below, &ps->below_count) < 0)))
		return -1;
	struct storage_error err;
	if (quota && storage_dav_quota(dr->su, &ps->quota_used, &ps->quota_available, &err) < 0) {
		dav_storage_failed(dr, &err);
		return -1;
	}
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
	struct pool *pool = pool_create(8192);
	struct propfind_stream *ps = pool_calloc(pool, 1, sizeof(*ps));
	ps->pool = pool;
	ps->storage = dr->node->storage;
	ps->cid = dr->user.cid;
	ps->uid = dr->user.uid;
	ps->view.uid = dr->user.uid;
	ps->members = depth == DAV_DEPTH_1;
	struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_propfind(pool, dav_body(dr), &limits, &ps->pf, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		goto fail;
	}
	ps->principal_href = pool_printf(pool, "/dav/principals/users/%s/", dr->user.login);
	if (dav_map_resolve(dr, dr->path, &ps->res) < 0)
		goto fail;
	if (ps->res.kind == DAV_RES_NONE) {
		dav_fail(dr, 404, NULL, "DAV-0404", "nothing at %s", dr->path);
		goto fail;
	}
	/* the target's strings are in the request's pool, which may go before the stream ends */
	ps->res.path = pool_strdup(pool, ps->res.path);
	ps->res.name = pool_strdup(pool, ps->res.name);
	if (ps->res.kind == DAV_RES_VIRTUAL) {
		size_t n = 0;
		while (ps->res.children[n] != NULL)
			n++;
		const char **copy = pool_calloc(pool, n + 1, sizeof(*copy));
		for (size_t i = 0; i < n; i++)
			copy[i] = pool_strdup(pool, ps->res.children[i]);
		ps->res.children = copy;
	}
	if (prepare(dr, ps) < 0)
		goto fail;
	http_response_status(req, 207);
	http_response_header(req, "Content-Type", "application/xml; charset=utf-8");
	struct dav_stream_settings set = {0};
	dav_stream_start(req, dr->node->workers, &set, fill, finish, ps);
	return;
fail:
	pool_destroy(&pool);
}
