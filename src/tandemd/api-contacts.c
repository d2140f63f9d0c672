/* SPDX-License-Identifier: MIT */
/* /api/v1/contacts: contacts in a JSON form or as vCard, search, changes since a folder
   revision, and import and export of .vcf files (docs/api.md "Contacts"). Parse, authorise
   through the storage layer, answer: no SQL here. */
#include "api-contacts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api-common.h"
#include "api-directory.h"
#include "buf.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node-access.h"
#include "node.h"
#include "pool.h"
#include "random.h"
#include "routes.h"
#include "storage-contacts.h"
#include "strv.h"

/* --------------------------------------------------------------- answers */

static void storage_failed(struct http_request *req, const struct storage_error *err,
                           enum storage_contact_problem problem)
{
	const char *what = err->what != NULL ? err->what : "contacts";
	if (api_storage_context_failed(req, err))
		return;
	if (err->status == STORAGE_READ_ONLY) {
		api_error(req, 503, API_CODE_READ_ONLY, "%s refused: %s", what, err->message);
		return;
	}
	if (err->status == STORAGE_REFUSED) {
		int status = problem == STORAGE_CONTACT_UID_CONFLICT   ? 409
		             : problem == STORAGE_CONTACT_PRECONDITION ? 412
		             : problem == STORAGE_CONTACT_TOO_LARGE    ? 413
		             : err->refusal == STORAGE_NOT_FOUND       ? 404
		             : err->refusal == STORAGE_FORBIDDEN       ? 403
		             : err->refusal == STORAGE_OVER_LIMIT      ? 413
		                                                       : 400;
		char code[16];
		snprintf(code, sizeof(code), "CON-0%d", status);
		api_error(req, status, code, "%s", err->message);
		return;
	}
	bool unavailable = err->status == STORAGE_UNAVAILABLE;
	log_error("contacts", "%s: %s (%s)", what, err->message,
	          err->kind != NULL ? err->kind : "none");
	api_error(req, unavailable ? 503 : 500, unavailable ? "CON-0503" : "CON-0500",
	          "%s failed: the database is %s", what, unavailable ? "unavailable" : "in error");
}

static bool wants_vcf(struct http_request *req)
{
	const char *f = api_query(req, "format");
	return f != NULL && strcmp(f, "vcf") == 0;
}

static void send_contact(struct http_request *req, int status, const struct storage_contact *c)
{
	http_response_headerf(req, "ETag", "\"%s\"", c->etag);
	if (!wants_vcf(req)) {
		http_response_json(req, status, storage_contact_json(c, false));
		return;
	}
	http_response_status(req, status);
	http_response_header(req, "Content-Type", "text/vcard; charset=utf-8");
	buf_append(http_response_body(req), c->vcard, c->vcard_len);
	http_response_send(req);
}

/* --------------------------------------------------------------- request parsing */

/* The caller as a storage user, with the contacts module (also on the folder paths); NULL
   after answering 401 or 403. */
static struct storage_user *caller(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user) || !api_module_check(node, req, &user, MODULE_CONTACTS))
		return NULL;
	return storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
}

static bool is_vcard(struct http_request *req)
{
	struct strv ct = http_request_header(req, "Content-Type");
	return (ct.len >= 10 && strncasecmp(ct.ptr, "text/vcard", 10) == 0) ||
	       (ct.len >= 12 && strncasecmp(ct.ptr, "text/x-vcard", 12) == 0);
}

/* A string member (absent: NULL): 0, or -1 with error. */
static int member_string(json_t *body, const char *key, const char **v_r, char *error, size_t size)
{
	json_t *v = json_object_get(body, key);
	*v_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(error, size, "\"%s\" must be a string", key);
		return -1;
	}
	*v_r = json_string_value(v);
	return 0;
}

/* A member that is a list of strings, NULL-terminated into the pool. */
static int member_list(struct pool *pool, json_t *body, const char *key, const char *const **v_r,
                       char *error, size_t size)
{
	json_t *v = json_object_get(body, key), *e;
	size_t i;
	*v_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > VCARD_MULTI_MAX) {
		snprintf(error, size, "\"%s\" must be a list of at most %d strings", key,
		         VCARD_MULTI_MAX);
		return -1;
	}
	const char **list = pool_calloc(pool, json_array_size(v) + 1, sizeof(*list));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			snprintf(error, size, "\"%s\" must be a list of strings", key);
			return -1;
		}
		list[i] = json_string_value(e);
	}
	*v_r = list;
	return 0;
}

/* The vCard text of a JSON body: its "vcard", or one built from its fields (uid: the
   contact's, or NULL for a new one: then the body's or a fresh one). NULL with error. */
static const char *json_card(struct pool *pool, json_t *body, const char *uid, char *error,
                             size_t size)
{
	static const char *const known[] = {"vcard", "uid",      "fn",     "family", "given",
	                                    "org",   "birthday", "emails", "phones"};
	struct vcard_fields f = {0};
	const char *key, *vcard, *body_uid;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (!ok) {
			snprintf(error, size, "unknown member \"%.60s\"", key);
			return NULL;
		}
	}
	if (member_string(body, "vcard", &vcard, error, size) < 0)
		return NULL;
	if (vcard != NULL) {
		if (json_object_size(body) != 1) {
			snprintf(error, size, "\"vcard\" goes alone, without other members");
			return NULL;
		}
		return vcard;
	}
	if (member_string(body, "uid", &body_uid, error, size) < 0 ||
	    member_string(body, "fn", &f.fn, error, size) < 0 ||
	    member_string(body, "family", &f.family, error, size) < 0 ||
	    member_string(body, "given", &f.given, error, size) < 0 ||
	    member_string(body, "org", &f.org, error, size) < 0 ||
	    member_string(body, "birthday", &f.birthday, error, size) < 0 ||
	    member_list(pool, body, "emails", &f.emails, error, size) < 0 ||
	    member_list(pool, body, "phones", &f.phones, error, size) < 0)
		return NULL;
	if (f.fn == NULL || f.fn[0] == '\0') {
		snprintf(error, size, "\"fn\" (the name to show) is required");
		return NULL;
	}
	if (uid != NULL && body_uid != NULL && strcmp(uid, body_uid) != 0) {
		snprintf(error, size, "the UID of a contact cannot change (it is \"%.100s\")", uid);
		return NULL;
	}
	f.uid = uid != NULL ? uid : body_uid;
	if (f.uid == NULL) {
		char hex[33];
		random_hex(hex, 16);
		f.uid = pool_printf(pool, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		                    hex + 12, hex + 16, hex + 20);
	}
	return vcard_build(pool, &f);
}

/* The card text of a POST or PUT: the body (text/vcard) or from its JSON form. NULL after
   answering 400. */
static const char *body_text(struct http_request *req, const char *uid, size_t *len_r)
{
	if (is_vcard(req)) {
		struct strv b = http_request_body(req);
		*len_r = b.len;
		return b.ptr != NULL ? b.ptr : "";
	}
	json_t *body = api_body_object(req);
	if (body == NULL)
		return NULL;
	char error[300];
	const char *text = json_card(http_request_pool(req), body, uid, error, sizeof(error));
	if (text != NULL)
		text = pool_strdup(http_request_pool(req), text);
	json_decref(body);
	if (text == NULL) {
		api_error(req, 400, "CON-0400", "invalid contact: %s", error);
		return NULL;
	}
	*len_r = strlen(text);
	return text;
}

/* --------------------------------------------------------------- handlers */

static void contacts_list(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_error err;
	int64_t folder, since = 0, limit = 0;
	int has_since;
	json_t *result = NULL;
	int r;
	if (su == NULL)
		return;
	const char *q = api_query(req, "q");
	if ((r = api_query_id(req, "folder", &folder)) <= 0) {
		if (r == 0 && q != NULL && q[0] != '\0') {
			/* a search without a folder: the global address book alone */
			result = json_pack("{s[] sb}", "contacts", "more", 0);
			if (api_directory_hits(req, su, q, result))
				http_response_json(req, 200, result);
			else
				json_decref(result);
			return;
		}
		if (r == 0)
			api_error(req, 400, "CON-0400",
			          "query parameter \"folder\" is required (or \"q\" to search the "
			          "global address book)");
		return;
	}
	has_since = api_query_count(req, "since", "CON-0400", &since);
	if (has_since < 0 || api_query_count(req, "limit", "CON-0400", &limit) < 0)
		return;
	if (has_since > 0 && q != NULL) {
		api_error(req, 400, "CON-0400", "\"since\" and \"q\" do not go together");
		return;
	}
	if (has_since > 0)
		r = storage_contact_changes(su, folder, since, (size_t)limit, &result, &err);
	else
		r = storage_contact_search(su, folder, q, (size_t)limit, &result, &err);
	if (r < 0) {
		storage_failed(req, &err, STORAGE_CONTACT_OK);
		return;
	}
	/* a search also answers the matching users of the context, marked read-only */
	if (q != NULL && q[0] != '\0' && !api_directory_hits(req, su, q, result)) {
		json_decref(result);
		return;
	}
	http_response_json(req, 200, result);
}

static int load(struct storage_user *su, struct http_request *req, struct storage_contact *c)
{
	struct storage_error err;
	if (storage_contact_get(su, http_request_param_id(req, "id"), c, &err) < 0) {
		storage_failed(req, &err, STORAGE_CONTACT_OK);
		return -1;
	}
	return 0;
}

static void contacts_get(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_contact c;
	if (su != NULL && load(su, req, &c) == 0)
		send_contact(req, 200, &c);
}

static void contacts_create(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_contact_put put = {0};
	struct storage_error err;
	if (su == NULL || api_query_folder(req, "CON-0400", &put.folder) < 0)
		return;
	if ((put.text = body_text(req, NULL, &put.len)) == NULL)
		return;
	put.if_none_match = true;
	if (storage_contact_put(su, &put, &err) < 0) {
		storage_failed(req, &err, put.problem);
		return;
	}
	send_contact(req, 201, &put.obj);
}

static void contacts_update(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_contact c;
	struct storage_error err;
	if (su == NULL || load(su, req, &c) < 0)
		return;
	struct storage_contact_put put = {
	    .folder = c.folder, .id = c.id, .if_match = api_if_match(req)};
	if ((put.text = body_text(req, c.uid, &put.len)) == NULL)
		return;
	if (storage_contact_put(su, &put, &err) < 0) {
		storage_failed(req, &err, put.problem);
		return;
	}
	send_contact(req, 200, &put.obj);
}

static void contacts_delete(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_error err;
	enum storage_contact_problem problem;
	if (su == NULL)
		return;
	if (storage_contact_delete(su, http_request_param_id(req, "id"), api_if_match(req),
	                           &problem, &err) < 0) {
		storage_failed(req, &err, problem);
		return;
	}
	http_response_status(req, 204);
	http_response_send(req);
}

/* --------------------------------------------------------------- import and export */

bool api_contacts_folder(struct storage_user *su, int64_t folder)
{
	struct storage_error err;
	int64_t rev;
	return storage_contact_revision(su, folder, &rev, &err) == 0;
}

json_t *api_contacts_import_text(struct storage_user *su, int64_t folder, struct pool *pool,
                                 const char *text, size_t len, char *error, size_t size)
{
	struct storage_error err;
	struct vcard_slice *cards;
	size_t count;
	if (vcard_split(pool, text, len, VCARD_SPLIT_MAX, &cards, &count, error, size) < 0)
		return NULL;
	json_t *results = json_array();
	size_t created = 0, failed = 0;
	for (size_t i = 0; i < count; i++) {
		struct storage_contact_put put = {
		    .folder = folder, .text = cards[i].text, .len = cards[i].len};
		json_t *r = json_pack("{sI}", "card", (json_int_t)i + 1);
		if (storage_contact_put(su, &put, &err) == 0) {
			created++;
			json_object_set_new(r, "id", json_integer(put.obj.id));
			json_object_set_new(r, "uid", json_string(put.obj.uid));
			json_object_set_new(r, "status", json_integer(201));
		} else {
			failed++;
			int status = err.status != STORAGE_REFUSED                 ? 500
			             : put.problem == STORAGE_CONTACT_UID_CONFLICT ? 409
			             : put.problem == STORAGE_CONTACT_TOO_LARGE ||
			                     err.refusal == STORAGE_OVER_LIMIT
			                 ? 413
			             : err.refusal == STORAGE_FORBIDDEN ? 403
			                                                : 400;
			char code[16];
			snprintf(code, sizeof(code), "CON-0%d", status);
			json_object_set_new(
			    r, "error", json_pack("{ss ss}", "code", code, "message", err.message));
		}
		json_array_append_new(results, r);
	}
	return json_pack("{so sI sI}", "results", results, "created", (json_int_t)created, "failed",
	                 (json_int_t)failed);
}

void api_contacts_import(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_error err;
	char error[300];
	int64_t rev;
	if (su == NULL)
		return;
	int64_t folder = http_request_param_id(req, "id");
	if (storage_contact_revision(su, folder, &rev, &err) < 0) {
		storage_failed(req, &err, STORAGE_CONTACT_OK);
		return;
	}
	struct strv body = http_request_body(req);
	json_t *result = api_contacts_import_text(su, folder, http_request_pool(req),
	                                          body.ptr != NULL ? body.ptr : "", body.len, error,
	                                          sizeof(error));
	if (result == NULL) {
		api_error(req, 400, "CON-0400", "import refused: %s", error);
		return;
	}
	http_response_json(req, 200, result);
}

void api_contacts_export(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_error err;
	const char **texts;
	size_t n;
	if (su == NULL)
		return;
	int64_t folder = http_request_param_id(req, "id");
	if (storage_contact_export(su, folder, STORAGE_CONTACT_EXPORT_MAX, &texts, &n, &err) < 0) {
		storage_failed(req, &err, STORAGE_CONTACT_OK);
		return;
	}
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", "text/vcard; charset=utf-8");
	http_response_headerf(req, "Content-Disposition", "attachment; filename=\"%lld.vcf\"",
	                      (long long)folder);
	struct buf *b = http_response_body(req);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(texts[i]);
		buf_append(b, texts[i], len);
		if (len > 0 && texts[i][len - 1] != '\n')
			buf_append_lit(b, "\r\n");
	}
	http_response_send(req);
}

const struct http_route api_contact_routes[] = {
    {"GET", "/api/v1/contacts", contacts_list, 0, NULL},
    {"POST", "/api/v1/contacts", contacts_create, 0, NULL},
    {"GET", "/api/v1/contacts/{id:id}", contacts_get, 0, NULL},
    {"PUT", "/api/v1/contacts/{id:id}", contacts_update, 0, NULL},
    {"DELETE", "/api/v1/contacts/{id:id}", contacts_delete, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
