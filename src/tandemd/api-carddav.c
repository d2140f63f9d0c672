/* SPDX-License-Identifier: MIT */
/* CardDAV: the address-book home and its collections (PROPFIND), extended MKCOL, and cards
   (GET, PUT, DELETE) over storage-contacts.h (docs/internals/dav.md "CardDAV"). REPORTs are
   in api-carddav-report.c; what CalDAV shares is in api-davobj.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "api-carddav.h"
#include "api-davobj.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "node-access.h"
#include "pool.h"
#include "storage-folder.h"
#include "storage-props.h"
#include "vcard-convert.h"

#define CARDDAV_ALLOW_COLLECTION "OPTIONS, PROPFIND, REPORT, MKCOL"
#define CARDDAV_ALLOW_OBJECT     "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND"
#define CARDDAV_SEGMENT_MAX      200

bool carddav_path(const char *path)
{
	return davobj_under(path, "/dav/addressbooks");
}

bool carddav_path_target(struct strv target)
{
	return davobj_under_target(target, "/dav/addressbooks");
}

static bool contacts_module(const struct folder *f)
{
	return f->module != NULL && strcmp(f->module, "contacts") == 0;
}

static const char *home_href(struct dav_req *dr)
{
	return pool_printf(dr->pool, "%s%s/", CARDDAV_HOME, dr->user.login);
}

/* The segment an extended MKCOL gave folder f, or NULL. */
static const char *folder_segment(struct dav_req *dr, const struct folder *f)
{
	return davobj_segment(dr->su, f->id, CARDDAV_SEGMENT_NS);
}

const char *carddav_folder_href(struct dav_req *dr, int64_t folder)
{
	return pool_printf(dr->pool, "%s%lld/", home_href(dr), (long long)folder);
}

/* The href a listing shows for f: its MKCOL segment, else its id. */
static const char *listing_href(struct dav_req *dr, const struct folder *f)
{
	const char *seg = folder_segment(dr, f);
	return seg != NULL ? pool_printf(dr->pool, "%s%s/", home_href(dr), seg)
	                   : carddav_folder_href(dr, f->id);
}

/* Answers a failed storage call (any multistatus begun is dropped). */
void carddav_storage_failed(struct dav_req *dr, const struct storage_error *err,
                            enum storage_contact_problem problem)
{
	static const struct davobj_problem problems[] = {
	    [STORAGE_CONTACT_BAD_DATA] = {400, CARDDAV_NS, "valid-address-data"},
	    [STORAGE_CONTACT_UID_CONFLICT] = {409, CARDDAV_NS, "no-uid-conflict"},
	    [STORAGE_CONTACT_PRECONDITION] = {412, DAV_NS, NULL},
	    [STORAGE_CONTACT_TOO_LARGE] = {413, CARDDAV_NS, "max-resource-size"},
	};
	davobj_storage_failed(dr, err, problems, sizeof(problems) / sizeof(problems[0]), problem,
	                      CARDDAV_NS, "valid-address-data");
}

/* The address book of the user's home named by a segment that is not a folder id (one an
   extended MKCOL made): 0 with *folder_r (NULL when none), -1 after answering. */
static int book_by_segment(struct dav_req *dr, const char *seg, size_t len,
                           struct folder **folder_r)
{
	struct folder **fs;
	size_t n;
	*folder_r = NULL;
	if (len > CARDDAV_SEGMENT_MAX)
		return 0;
	if (davobj_home_folders(dr, contacts_module, &fs, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *s = folder_segment(dr, fs[i]);
		if (s != NULL && strlen(s) == len && memcmp(s, seg, len) == 0) {
			*folder_r = fs[i];
			break;
		}
	}
	return 0;
}

/* /dav/addressbooks/<login>/<folder id or segment>/<name>: 0 with res_r (kind NONE when
   nothing is there; a BOOK without folder names a segment free for MKCOL), -1 after
   answering. */
int carddav_resolve(struct dav_req *dr, const char *path, struct carddav_res *res_r)
{
	memset(res_r, 0, sizeof(*res_r));
	const char *p = NULL;
	switch (davobj_level(dr, path, "/dav/addressbooks", &p)) {
	case DAVOBJ_NONE:
		return 0;
	case DAVOBJ_ROOT:
		res_r->kind = CARDDAV_ROOT;
		return 0;
	case DAVOBJ_HOME:
		res_r->kind = CARDDAV_HOME_SET;
		return 0;
	case DAVOBJ_BELOW:
		break;
	}
	size_t seg = strcspn(p, "/");
	char *end;
	long long id = strtoll(p, &end, 10);
	res_r->gab = seg == strlen(CARDDAV_GAB_SEGMENT) && memcmp(p, CARDDAV_GAB_SEGMENT, seg) == 0;
	if (res_r->gab) {
		/* the global address book: no folder (a MKCOL "gab" is refused) */
	} else if (end == p + seg && id > FOLDER_ID_MAX_SYSTEM) {
		struct folder_error fe;
		struct storage_error err;
		if (storage_folder_get(dr->su, id, &res_r->folder, &fe, &err) < 0) {
			if (err.status == STORAGE_REFUSED)
				return 0;
			carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
			return -1;
		}
	} else {
		if (book_by_segment(dr, p, seg, &res_r->folder) < 0)
			return -1;
		if (res_r->folder == NULL && (p[seg] == '\0' || p[seg + 1] == '\0')) {
			res_r->kind = CARDDAV_BOOK; /* nothing there: MKCOL may make it */
			res_r->name = pool_strndup(dr->pool, p, seg);
			return 0;
		}
	}
	if (!res_r->gab && (res_r->folder == NULL || !contacts_module(res_r->folder)))
		return 0;
	switch (davobj_member(dr, p + seg, &res_r->name)) {
	case DAVOBJ_MEMBER_NONE:
		break;
	case DAVOBJ_MEMBER_COLLECTION:
		res_r->kind = CARDDAV_BOOK;
		break;
	case DAVOBJ_MEMBER_OBJECT:
		res_r->kind = CARDDAV_CARD;
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------------------- PROPFIND */

static const struct dav_prop_name allprop[] = {
    {DAV_NS, "resourcetype"},           {DAV_NS, "displayname"},   {DAV_NS, "getetag"},
    {DAV_NS, "getcontenttype"},         {DAVOBJ_CS_NS, "getctag"}, {DAV_NS, "sync-token"},
    {DAV_NS, "current-user-principal"},
};

struct pf {
	struct dav_req *dr;
	const struct folder *f;            /* a book, or NULL: the root, home or gab */
	bool gab;                          /* the global address book */
	const struct storage_contact *obj; /* a card */
};

static void text(struct buf *out, const char *ns, const char *name, const char *value)
{
	dav_ms_prop_text(out, ns, name, strv_from_cstr(value));
}

static void raw(struct buf *out, const char *xml)
{
	dav_ms_prop_raw(out, strv_from_cstr(xml));
}

/* One property of the root, the home or a book: false when it has none. */
static bool collection_prop(void *ctx, struct buf *out, const struct dav_prop_name *n)
{
	struct pf *pf = ctx;
	struct dav_req *dr = pf->dr;
	const struct folder *f = pf->f;
	bool book = f != NULL || pf->gab;
	const char *title = pf->gab ? CARDDAV_GAB_TITLE : f != NULL ? f->title : dr->user.login;
	const char *me = pool_printf(dr->pool, "/dav/principals/users/%s/", dr->user.login);
	if (davobj_is(n, DAV_NS, "current-user-principal")) {
		davobj_href_prop(out, DAV_NS, "current-user-principal", me);
	} else if (davobj_is(n, DAV_NS, "owner") && f == NULL) {
		davobj_href_prop(out, DAV_NS, "owner", me);
	} else if (davobj_is(n, CARDDAV_NS, "addressbook-home-set")) {
		davobj_href_prop(out, CARDDAV_NS, "addressbook-home-set", home_href(dr));
	} else if (davobj_is(n, DAV_NS, "resourcetype")) {
		raw(out, book
		             ? "<D:resourcetype><D:collection/><C:addressbook xmlns:C=\"" CARDDAV_NS
		               "\"/></D:resourcetype>"
		             : "<D:resourcetype><D:collection/></D:resourcetype>");
	} else if (davobj_is(n, DAV_NS, "displayname")) {
		text(out, DAV_NS, "displayname", title);
	} else if (!book) {
		return false;
	} else if (davobj_is(n, CARDDAV_NS, "addressbook-description")) {
		text(out, CARDDAV_NS, "addressbook-description", title);
	} else if (davobj_is(n, CARDDAV_NS, "supported-address-data")) {
		raw(out, "<C:supported-address-data xmlns:C=\"" CARDDAV_NS "\">"
		         "<C:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>"
		         "<C:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
		         "</C:supported-address-data>");
	} else if (davobj_is(n, CARDDAV_NS, "max-resource-size")) {
		text(out, CARDDAV_NS, "max-resource-size",
		     pool_printf(dr->pool, "%u", (unsigned)VCARD_MAX_SIZE));
	} else if (davobj_is(n, DAV_NS, "current-user-privilege-set") && pf->gab) {
		raw(out, "<D:current-user-privilege-set><D:privilege><D:read/></D:privilege>"
		         "</D:current-user-privilege-set>");
	} else if (davobj_is(n, DAV_NS, "current-user-privilege-set")) {
		davobj_privileges(out, f, NULL);
	} else if (davobj_is(n, DAV_NS, "supported-report-set")) {
		raw(out, "<D:supported-report-set><D:supported-report><D:report><C:addressbook-"
		         "multiget xmlns:C=\"" CARDDAV_NS "\"/></D:report></D:supported-report>"
		         "<D:supported-report><D:report><C:addressbook-query xmlns:C=\"" CARDDAV_NS
		         "\"/></D:report></D:supported-report><D:supported-report><D:report>"
		         "<D:sync-collection/></D:report></D:supported-report>"
		         "</D:supported-report-set>");
	} else if (davobj_is_revision_prop(n)) {
		int64_t rev, folder = pf->gab ? CARDDAV_GAB_FOLDER : f->id;
		struct storage_error err;
		if ((pf->gab ? storage_gab_revision(dr->su, &rev, &err)
		             : storage_contact_revision(dr->su, f->id, &rev, &err)) < 0)
			return false;
		davobj_revision_prop(dr, out, n, folder, rev);
	} else {
		return false;
	}
	return true;
}

static bool card_prop(void *ctx, struct buf *out, const struct dav_prop_name *n)
{
	struct pf *pf = ctx;
	const struct storage_contact *o = pf->obj;
	if (davobj_is(n, DAV_NS, "getetag"))
		text(out, DAV_NS, "getetag", pool_printf(pf->dr->pool, "\"%s\"", o->etag));
	else if (davobj_is(n, DAV_NS, "getcontenttype"))
		text(out, DAV_NS, "getcontenttype", "text/vcard; charset=utf-8");
	else if (davobj_is(n, DAV_NS, "resourcetype"))
		raw(out, "<D:resourcetype/>");
	else if (davobj_is(n, DAV_NS, "getcontentlength") && o->vcard_len > 0)
		text(out, DAV_NS, "getcontentlength",
		     pool_printf(pf->dr->pool, "%zu", o->vcard_len));
	else if (davobj_is(n, CARDDAV_NS, "address-data") && o->vcard_len > 0)
		dav_ms_prop_text(out, CARDDAV_NS, "address-data",
		                 strv_make(o->vcard, o->vcard_len));
	else
		return false;
	return true;
}

#define ALLPROP_COUNT (sizeof(allprop) / sizeof(allprop[0]))

/* The members of a book: names and ETags, page by page of the changes since 0. */
static int book_members(struct dav_req *dr, const struct dav_propfind *req, struct buf *out,
                        const struct folder *f, const char *base)
{
	int64_t since = 0;
	bool more = true;
	while (more) {
		json_t *list;
		struct storage_error err;
		if (storage_contact_changes(dr->su, f->id, since, STORAGE_CONTACT_CHANGES_MAX,
		                            &list, &err) < 0) {
			carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
			return -1;
		}
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(list, "changed"), i, e)
		{
			struct storage_contact o = {
			    .etag = json_string_value(json_object_get(e, "etag")), .vcard = ""};
			struct pf pf = {.dr = dr, .obj = &o};
			const char *name = json_string_value(json_object_get(e, "name"));
			davobj_response(dr, out, req, allprop, ALLPROP_COUNT,
			                pool_printf(dr->pool, "%s%s", base, name), card_prop, &pf);
		}
		more = json_is_true(json_object_get(list, "more"));
		since = json_integer_value(json_object_get(list, "revision"));
		json_decref(list);
	}
	return 0;
}

struct gab_members {
	struct dav_req *dr;
	const struct dav_propfind *req;
	struct buf *out;
	const char *base;
};

static bool gab_member(void *ctx, const struct carddav_card *card)
{
	struct gab_members *m = ctx;
	struct storage_contact o = {
	    .etag = card->etag, .vcard = card->text, .vcard_len = card->len};
	struct pf pf = {.dr = m->dr, .obj = &o};
	davobj_response(m->dr, m->out, m->req, allprop, ALLPROP_COUNT,
	                pool_printf(card->pool, "%s%s", m->base, card->name), card_prop, &pf);
	return true;
}

/* The global address book (depth 0 or 1) or one of its cards: 0, or -1 after answering. */
static int gab_propfind(struct dav_req *dr, const struct dav_propfind *req, bool members,
                        struct buf *out, const struct carddav_res *res)
{
	struct storage_error err;
	if (res->kind == CARDDAV_CARD) {
		struct carddav_card card;
		if (carddav_gab_get(dr, res->name, &card, &err) < 0) {
			carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
			return -1;
		}
		struct storage_contact o = {
		    .etag = card.etag, .vcard = card.text, .vcard_len = card.len};
		struct pf pf = {.dr = dr, .obj = &o};
		davobj_response(dr, out, req, allprop, ALLPROP_COUNT, dr->path, card_prop, &pf);
		return 0;
	}
	struct pf pf = {.dr = dr, .gab = true};
	struct gab_members m = {
	    .dr = dr, .req = req, .out = out, .base = davobj_collection_href(dr)};
	davobj_response(dr, out, req, allprop, ALLPROP_COUNT, m.base, collection_prop, &pf);
	int64_t revision;
	if (members && carddav_gab_each(dr, gab_member, &m, &revision, &err) < 0) {
		carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
		return -1;
	}
	return 0;
}

static void propfind(struct dav_req *dr, const struct carddav_res *res)
{
	struct dav_propfind *req;
	bool members;
	if (davobj_propfind_parse(dr, &req, &members) < 0)
		return;
	struct buf *out = http_response_body(dr->req);
	struct pf pf = {.dr = dr};
	dav_ms_begin(out);
	if (res->gab) {
		if (gab_propfind(dr, req, members, out, res) < 0)
			return;
	} else if (res->kind == CARDDAV_ROOT) {
		davobj_response(dr, out, req, allprop, ALLPROP_COUNT, CARDDAV_HOME, collection_prop,
		                &pf);
		if (members)
			davobj_response(dr, out, req, allprop, ALLPROP_COUNT, home_href(dr),
			                collection_prop, &pf);
	} else if (res->kind == CARDDAV_HOME_SET) {
		davobj_response(dr, out, req, allprop, ALLPROP_COUNT, home_href(dr),
		                collection_prop, &pf);
		struct folder **fs;
		size_t n = 0;
		if (members && davobj_home_folders(dr, contacts_module, &fs, &n) < 0)
			return;
		for (size_t i = 0; i < n; i++) {
			struct pf book = {.dr = dr, .f = fs[i]};
			davobj_response(dr, out, req, allprop, ALLPROP_COUNT,
			                listing_href(dr, fs[i]), collection_prop, &book);
		}
		bool gab = false; /* and the context's global address book */
		if (members && carddav_gab_listed(dr, &gab) < 0)
			return;
		struct pf book = {.dr = dr, .gab = true};
		if (gab)
			davobj_response(
			    dr, out, req, allprop, ALLPROP_COUNT,
			    pool_printf(dr->pool, "%s%s/", home_href(dr), CARDDAV_GAB_SEGMENT),
			    collection_prop, &book);
	} else if (res->kind == CARDDAV_BOOK) {
		pf.f = res->folder;
		davobj_response(dr, out, req, allprop, ALLPROP_COUNT, davobj_collection_href(dr),
		                collection_prop, &pf);
		if (members &&
		    book_members(dr, req, out, res->folder, davobj_collection_href(dr)) < 0)
			return;
	} else {
		struct storage_contact o;
		struct storage_error err;
		if (storage_contact_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0) {
			carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
			return;
		}
		pf.obj = &o;
		davobj_response(dr, out, req, allprop, ALLPROP_COUNT, dr->path, card_prop, &pf);
	}
	dav_ms_end(out);
	davobj_send_207(dr);
}

/* ------------------------------------------------------------------------ GET, PUT, DELETE */

/* Whether an Accept header takes a card of version: absent, any type, any text type, or
   text/vcard without a version or with this one (q=0 refuses). */
static bool accepts(struct strv accept, const char *version)
{
	if (accept.ptr == NULL)
		return true;
	const char *s = accept.ptr, *end = accept.ptr + accept.len;
	while (s < end) {
		const char *e = memchr(s, ',', (size_t)(end - s));
		if (e == NULL)
			e = end;
		char item[256];
		size_t n = 0;
		for (; s < e && n < sizeof(item) - 1; s++)
			if (*s != ' ' && *s != '\t')
				item[n++] = *s;
		item[n] = '\0';
		s = e + 1;
		if (strstr(item, ";q=0") != NULL && strstr(item, ";q=0.") == NULL)
			continue;
		if (strncasecmp(item, "*/*", 3) == 0 || strncasecmp(item, "text/*", 6) == 0)
			return true;
		if (strncasecmp(item, "text/vcard", 10) != 0 &&
		    strncasecmp(item, "text/x-vcard", 12) != 0)
			continue;
		const char *v = strcasestr(item, ";version=");
		if (v == NULL)
			return true;
		v += 9;
		if (*v == '"')
			v++;
		if (strncmp(v, version, strlen(version)) == 0)
			return true;
	}
	return false;
}

/* GET or HEAD of a card stored as version stored ("3.0", "4.0"): as it is when Accept takes
   that, else converted to the other version when Accept takes it, else 406. */
static void send_card(struct dav_req *dr, const char *etag, const char *stored, const char *vcard,
                      size_t vcard_len)
{
	/* as stored when the client takes that, else converted when it takes the other
	   version (the ETag stays the stored card's, so If-Match works either way) */
	struct strv accept = http_request_header(dr->req, "Accept");
	const char *other = strcmp(stored, "4.0") == 0 ? "3.0" : "4.0";
	const char *version = accepts(accept, stored)  ? stored
	                      : accepts(accept, other) ? other
	                                               : NULL;
	if (version == NULL) {
		dav_fail(dr, 406, NULL, "DAV-0406",
		         "a card is served as text/vcard, version 3.0 or 4.0 (Accept: %.*s)",
		         (int)accept.len, accept.ptr);
		return;
	}
	const char *text;
	size_t len;
	vcard_convert(dr->pool, vcard, vcard_len, version, &text, &len);
	http_response_header(dr->req, "Vary", "Accept");
	davobj_send_object(dr, etag,
	                   pool_printf(dr->pool, "text/vcard; charset=utf-8; version=%s", version),
	                   text, len);
}

static void get(struct dav_req *dr, const struct carddav_res *res)
{
	struct storage_contact o;
	struct carddav_card card;
	struct storage_error err;
	if (res->gab
	        ? carddav_gab_get(dr, res->name, &card, &err) < 0
	        : storage_contact_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0) {
		carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
		return;
	}
	if (res->gab)
		send_card(dr, card.etag, "4.0", card.text, card.len);
	else
		send_card(dr, o.etag, o.version, o.vcard, o.vcard_len);
}

static bool vcard_type(struct dav_req *dr)
{
	struct strv ct = http_request_header(dr->req, "Content-Type");
	return ct.ptr == NULL || (ct.len >= 10 && strncasecmp(ct.ptr, "text/vcard", 10) == 0) ||
	       (ct.len >= 12 && strncasecmp(ct.ptr, "text/x-vcard", 12) == 0);
}

/* The href of the card of res's book that has the UID of text (RFC 6352 §6.3.2.1), or NULL. */
static const char *uid_holder(struct dav_req *dr, const struct carddav_res *res, const char *text,
                              size_t len)
{
	struct vcard_info info;
	struct storage_contact o;
	struct storage_error err;
	char error[256];
	if (vcard_parse(dr->pool, text, len, &info, error, sizeof(error)) < 0 ||
	    storage_contact_get_by_uid(dr->su, res->folder->id, info.uid, &o, &err) < 0)
		return NULL;
	/* the book's href as the request named it: the path without the card's name */
	size_t n = strlen(dr->path);
	while (n > 0 && dr->path[n - 1] == '/')
		n--;
	while (n > 0 && dr->path[n - 1] != '/')
		n--;
	const char *base = pool_strndup(dr->pool, dr->path, n);
	return pool_printf(dr->pool, "%s%s", base, o.name);
}

static void put(struct dav_req *dr, const struct carddav_res *res)
{
	if (dr->body->too_large) {
		davobj_fail(
		    dr, 413, CARDDAV_NS, "max-resource-size",
		    pool_printf(dr->pool, "a vCard is at most %u bytes", (unsigned)VCARD_MAX_SIZE));
		return;
	}
	if (!vcard_type(dr)) {
		davobj_fail(dr, 415, CARDDAV_NS, "supported-address-data",
		            "an address object is text/vcard (vCard 3.0 or 4.0)");
		return;
	}
	struct strv body = dav_body(dr);
	const char *inm = davobj_etag_header(dr, "If-None-Match");
	struct storage_contact_put p = {
	    .folder = res->folder->id,
	    .name = res->name,
	    .text = body.ptr != NULL ? body.ptr : "",
	    .len = body.len,
	    .if_match = davobj_etag_header(dr, "If-Match"),
	    .if_none_match = inm != NULL && strcmp(inm, "*") == 0,
	};
	struct storage_error err;
	if (storage_contact_put(dr->su, &p, &err) < 0) {
		const char *other = p.problem == STORAGE_CONTACT_UID_CONFLICT
		                        ? uid_holder(dr, res, p.text, p.len)
		                        : NULL;
		if (other != NULL)
			davobj_fail_at(dr, 409, CARDDAV_NS, "no-uid-conflict", other, err.message);
		else
			carddav_storage_failed(dr, &err, p.problem);
		return;
	}
	davobj_stored(dr, p.created, p.obj.etag);
}

static void delete (struct dav_req *dr, const struct carddav_res *res)
{
	struct storage_contact o;
	struct storage_error err;
	enum storage_contact_problem problem = STORAGE_CONTACT_OK;
	if (storage_contact_get_by_name(dr->su, res->folder->id, res->name, &o, &err) < 0 ||
	    storage_contact_delete(dr->su, o.id, davobj_etag_header(dr, "If-Match"), &problem,
	                           &err) < 0) {
		carddav_storage_failed(dr, &err, problem);
		return;
	}
	davobj_stored(dr, false, NULL);
}

/* ---------------------------------------------------------------------------------- MKCOL */

/* An extended MKCOL body (RFC 5689): its displayname into *title_r; false after answering
   what it asks that is not an address book. An empty body makes one too. */
static bool mkcol_body(struct dav_req *dr, const char **title_r)
{
	*title_r = NULL;
	if (dav_xml_body_empty(dav_body(dr)))
		return true;
	xmlDocPtr doc = davobj_parse_body(dr);
	if (doc == NULL)
		return false;
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *set =
	    davobj_elem(root, DAV_NS, "mkcol") ? davobj_child(root, DAV_NS, "set") : NULL;
	xmlNode *prop = set != NULL ? davobj_child(set, DAV_NS, "prop") : NULL;
	xmlNode *rt = prop != NULL ? davobj_child(prop, DAV_NS, "resourcetype") : NULL;
	bool ok = rt != NULL && davobj_child(rt, CARDDAV_NS, "addressbook") != NULL;
	for (xmlNode *c = prop != NULL ? prop->children : NULL; ok && c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || davobj_elem(c, DAV_NS, "resourcetype"))
			continue;
		if (davobj_elem(c, DAV_NS, "displayname"))
			*title_r = davobj_content(dr->pool, c);
		else if (!davobj_elem(c, CARDDAV_NS, "addressbook-description"))
			ok = false;
	}
	xmlFreeDoc(doc);
	if (!ok)
		davobj_fail(dr, 403, DAV_NS, "valid-resourcetype",
		            "an extended MKCOL here makes an address book: DAV:mkcol/set/prop with "
		            "resourcetype collection and CARDDAV:addressbook, displayname and "
		            "addressbook-description");
	return ok;
}

static void mkcol(struct dav_req *dr, const struct carddav_res *res)
{
	if (res->kind != CARDDAV_BOOK || res->folder != NULL) {
		davobj_fail(dr, 405, DAV_NS, "resource-must-be-null",
		            res->kind == CARDDAV_BOOK ? "that address book exists"
		                                      : "address books are made in the home, "
		                                        "/dav/addressbooks/<login>/<name>/");
		return;
	}
	const char *title;
	if (!mkcol_body(dr, &title))
		return;
	if (title == NULL || title[0] == '\0')
		title = res->name;
	struct folder *f;
	struct folder_error fe;
	struct storage_error err;
	if (storage_folder_create(dr->su, FOLDER_ID_PRIVATE, title, "contacts", NULL, &f, &fe,
	                          &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return;
	}
	const struct dav_prop seg = {CARDDAV_SEGMENT_NS, DAVOBJ_SEGMENT, res->name};
	if (storage_props_patch(dr->su, DAV_PROPS_FOLDER, f->id, &seg, 1, NULL, &err) < 0) {
		carddav_storage_failed(dr, &err, STORAGE_CONTACT_OK);
		return;
	}
	http_response_status(dr->req, 201);
	http_response_header(dr->req, "Location", davobj_collection_href(dr));
	http_response_send(dr->req);
}

#define CARDDAV_GAB_ALLOW_COLLECTION "OPTIONS, PROPFIND, REPORT"
#define CARDDAV_GAB_ALLOW_OBJECT     "OPTIONS, GET, HEAD, PROPFIND"

/* The global address book: read-only, for users with the contacts module too. */
static void gab_dispatch(struct dav_req *dr, const struct carddav_res *res)
{
	struct strv m = http_request_head(dr->req)->method;
	bool object = res->kind == CARDDAV_CARD;
	const char *allow = object ? CARDDAV_GAB_ALLOW_OBJECT : CARDDAV_GAB_ALLOW_COLLECTION;
	if (!api_module_check(dr->node, dr->req, &dr->user, MODULE_CONTACTS))
		return;
	if (strv_eq_cstr(m, "OPTIONS")) {
		davobj_options(dr, "1, 2, 3, addressbook, extended-mkcol", allow);
	} else if (strv_eq_cstr(m, "PROPFIND")) {
		propfind(dr, res);
	} else if (strv_eq_cstr(m, "REPORT")) {
		carddav_report(dr, res);
	} else if (object && (strv_eq_cstr(m, "GET") || strv_eq_cstr(m, "HEAD"))) {
		get(dr, res);
	} else if (strv_eq_cstr(m, "PUT") || strv_eq_cstr(m, "DELETE") ||
	           strv_eq_cstr(m, "PROPPATCH") || strv_eq_cstr(m, "MKCOL") ||
	           strv_eq_cstr(m, "MOVE") || strv_eq_cstr(m, "COPY")) {
		davobj_fail(dr, 403, DAV_NS, "need-privileges",
		            "the global address book is read-only: its entries are the context's "
		            "users");
	} else {
		davobj_not_allowed(dr, allow);
	}
}

void carddav_dispatch(struct dav_req *dr)
{
	struct strv m = http_request_head(dr->req)->method;
	struct carddav_res res;
	if (carddav_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.gab) {
		gab_dispatch(dr, &res);
		return;
	}
	bool object = res.kind == CARDDAV_CARD;
	if (strv_eq_cstr(m, "OPTIONS")) {
		davobj_options(dr, "1, 2, 3, addressbook, extended-mkcol",
		               object ? CARDDAV_ALLOW_OBJECT : CARDDAV_ALLOW_COLLECTION);
		return;
	}
	if (strv_eq_cstr(m, "MKCOL")) {
		mkcol(dr, &res);
		return;
	}
	if (res.kind == CARDDAV_NONE || (res.kind == CARDDAV_BOOK && res.folder == NULL)) {
		dav_fail(dr, 404, NULL, "DAV-0404", "%s is not an address book resource", dr->path);
		return;
	}
	if (strv_eq_cstr(m, "PROPFIND")) {
		propfind(dr, &res);
	} else if (strv_eq_cstr(m, "REPORT")) {
		carddav_report(dr, &res);
	} else if (object && (strv_eq_cstr(m, "GET") || strv_eq_cstr(m, "HEAD"))) {
		get(dr, &res);
	} else if (object && strv_eq_cstr(m, "PUT")) {
		put(dr, &res);
	} else if (object && strv_eq_cstr(m, "DELETE")) {
		delete (dr, &res);
	} else {
		davobj_not_allowed(dr, object ? CARDDAV_ALLOW_OBJECT : CARDDAV_ALLOW_COLLECTION);
	}
}
