/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the /api/v1 modules (the session check itself lives in sessions.c). */
#include "api-common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin-auth.h"
#include "http-json.h"
#include "http-params.h"
#include "http-server.h"
#include "node.h"
#include "pool.h"
#include "storage.h"
#include "strv.h"

bool api_storage_context_failed(struct http_request *req, const struct storage_error *err)
{
	if (err->status != STORAGE_NO_CONTEXT && err->status != STORAGE_DOWN)
		return false;
	bool missing = err->status == STORAGE_NO_CONTEXT;
	api_error(req, missing ? 404 : 503, missing ? "API-0404" : "API-0503", "%s", err->message);
	return true;
}

bool api_master_only(struct node *node, struct http_request *req, const char *what)
{
	struct prov_error perr = {0};
	struct provision *prov = node_provision(node, &perr);
	if (prov == NULL) {
		http_response_error(req, 503, "ADM-0503", perr.message);
		return false;
	}
	char needs[160];
	snprintf(needs, sizeof(needs), "only the master admin %s", what);
	enum admin_identity who = admin_auth_check(node->admin_auth, prov, req, 0, needs);
	if (who == ADMIN_NONE)
		return false;
	if (who != ADMIN_MASTER) {
		api_error(req, 403, "ADM-0403", "only the master admin %s", what);
		return false;
	}
	return true;
}

void api_error(struct http_request *req, int status, const char *code, const char *fmt, ...)
{
	char msg[400];
	va_list args;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	http_response_error(req, status, code, msg);
}

json_t *api_body_object(struct http_request *req)
{
	struct strv body = http_request_body(req);
	json_error_t jerr;
	if (body.len == 0) {
		api_error(req, 400, "API-0400", "a JSON object body is required");
		return NULL;
	}
	json_t *v = json_loadb(body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL || !json_is_object(v)) {
		api_error(req, 400, "API-0400", "request body is not a JSON object: %s",
		          v == NULL ? jerr.text : "wrong type");
		json_decref(v);
		return NULL;
	}
	return v;
}

const char *api_query(struct http_request *req, const char *name)
{
	struct strv raw;
	if (!http_query_get(http_request_head(req)->query, name, &raw))
		return NULL;
	char *out = pool_alloc(http_request_pool(req), raw.len + 1);
	http_url_decode(raw, out);
	return out;
}

static bool parse_id(const char *s, size_t len, int64_t *id_r)
{
	uint64_t v;
	if (strv_to_u64(strv_make(s, len), &v) < 0 || v == 0 || v > INT64_MAX)
		return false;
	*id_r = (int64_t)v;
	return true;
}

int api_query_id(struct http_request *req, const char *name, int64_t *id_r)
{
	const char *v = api_query(req, name);
	if (v == NULL)
		return 0;
	if (!parse_id(v, strlen(v), id_r)) {
		api_error(req, 400, "API-0400", "query parameter \"%s\" must be a positive id",
		          name);
		return -1;
	}
	return 1;
}

int api_query_count(struct http_request *req, const char *name, const char *code, int64_t *v_r)
{
	const char *v = api_query(req, name);
	uint64_t n;
	if (v == NULL)
		return 0;
	if (strv_to_u64(strv_from_cstr(v), &n) < 0 || n > INT64_MAX) {
		api_error(req, 400, code, "query parameter \"%s\" must be a number", name);
		return -1;
	}
	*v_r = (int64_t)n;
	return 1;
}

int api_query_folder(struct http_request *req, const char *code, int64_t *folder_r)
{
	int r = api_query_id(req, "folder", folder_r);
	if (r == 0)
		api_error(req, 400, code, "query parameter \"folder\" is required");
	return r > 0 ? 0 : -1;
}

int api_query_folder_cursor(struct http_request *req, const char *code, int64_t *folder_r,
                            int *has_since_r, int64_t *since_r, int64_t *limit_r)
{
	*since_r = 0;
	*limit_r = 0;
	if (api_query_folder(req, code, folder_r) < 0 ||
	    (*has_since_r = api_query_count(req, "since", code, since_r)) < 0 ||
	    api_query_count(req, "limit", code, limit_r) < 0)
		return -1;
	return 0;
}

const char *api_if_match(struct http_request *req)
{
	struct strv v = http_request_header(req, "If-Match");
	if (v.ptr == NULL)
		return NULL;
	if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
		return pool_strndup(http_request_pool(req), v.ptr + 1, v.len - 2);
	return pool_strndup(http_request_pool(req), v.ptr, v.len);
}
