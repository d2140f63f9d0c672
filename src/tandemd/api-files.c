/* SPDX-License-Identifier: MIT */
/* /api/v1/files: streamed uploads into the filestore with versions, quota holds and the
   object limit, listing, metadata, downloads (sendfile, Range, ETag) and deletion (docs/api.md
   "Files"). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api-common.h"
#include "api-files.h"
#include "file-upload.h"
#include "filestore.h"
#include "folder.h"
#include "http-json.h"
#include "http-server.h"
#include "infostore.h"
#include "node.h"
#include "pool.h"
#include "routes.h"
#include "storage-dav.h"
#include "storage-file.h"

/* --------------------------------------------------------------- shared helpers */

static void send_refusal(struct http_request *req, const struct file_refusal *r)
{
	api_error(req, r->status, r->code, "%s", r->message);
}

static void storage_failed(struct http_request *req, const struct storage_error *err)
{
	struct file_refusal r;
	file_refusal_storage(&r, err);
	send_refusal(req, &r);
}

/* The raw value of a query parameter (still percent-encoded), or STRV_NULL. */
static struct strv raw_query(struct http_request *req, const char *name)
{
	struct strv q = http_request_head(req)->query, pair;
	size_t nlen = strlen(name);
	while (q.len > 0) {
		strv_split(q, '&', &pair, &q);
		if (pair.len >= nlen && memcmp(pair.ptr, name, nlen) == 0 &&
		    (pair.len == nlen || pair.ptr[nlen] == '='))
			return pair.len > nlen ? strv_make(pair.ptr + nlen + 1, pair.len - nlen - 1)
			                       : STRV_LIT("");
	}
	return STRV_NULL;
}

/* --------------------------------------------------------------- upload */

/* What an upload's query and headers say; false after answering 400. */
struct upload_target {
	struct api_user user;
	struct file_upload *up; /* NULL for an empty body */
	struct file_upload_dest dest;
};

/* folder, name and Content-Type of an upload; false after answering 400. */
static bool upload_params(struct http_request *req, struct file_upload_dest *dest)
{
	int r = api_query_id(req, "folder", &dest->folder);
	if (r <= 0) {
		if (r == 0)
			api_error(req, 400, "FIL-0400", "query parameter \"folder\" is required");
		return false;
	}
	struct strv raw = raw_query(req, "name");
	dest->name = api_query(req, "name");
	if (dest->name == NULL) {
		api_error(req, 400, "FIL-0400", "query parameter \"name\" is required");
		return false;
	}
	/* api_query leaves %00 undecoded; a NUL in a name is refused, not stored as "%00" */
	for (size_t i = 0; i + 2 < raw.len; i++) {
		if (raw.ptr[i] == '%' && raw.ptr[i + 1] == '0' && raw.ptr[i + 2] == '0') {
			api_error(req, 400, "FIL-0400", "the file name contains NUL");
			return false;
		}
	}
	const char *problem = infostore_check_name(dest->name, strlen(dest->name));
	if (problem != NULL) {
		api_error(req, 400, "FIL-0400", "%s", problem);
		return false;
	}
	struct strv type = strv_trim(http_request_header(req, "Content-Type"));
	if (type.ptr == NULL || type.len == 0) {
		dest->content_type = INFOSTORE_DEFAULT_TYPE;
	} else if ((problem = infostore_check_content_type(type)) != NULL) {
		api_error(req, 400, "FIL-0400", "%s", problem);
		return false;
	} else {
		dest->content_type = pool_strndup(http_request_pool(req), type.ptr, type.len);
	}
	return true;
}

/* Loop thread, before the body: authenticate and check what needs no SQL, then take the body
   as a stream (file-upload.h). */
static void files_put_head(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct upload_target *t = pool_calloc(http_request_pool(req), 1, sizeof(*t));
	if (!api_auth(node, req, &t->user) || !upload_params(req, &t->dest))
		return;
	t->up = file_upload_start(node, req, &t->user);
	if (t->up != NULL)
		http_request_set_context(req, t);
}

/* Worker, after the body (or once a hold was refused). */
static void files_put(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct upload_target *t = http_request_get_context(req);
	struct storage_file_upload result;
	struct file_refusal why;

	if (t == NULL) {
		api_error(req, 500, "FIL-0500", "upload was not prepared");
		return;
	}
	if (file_upload_store(node, req, t->up, &t->user, STRV_NULL, &t->dest, &result, &why) < 0)
		send_refusal(req, &why);
	else
		http_response_json(req, result.created ? 201 : 200,
		                   infostore_file_json(&result.file));
}

/* --------------------------------------------------------------- list, metadata */

static void files_list(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct storage_error err;
	int64_t folder;
	json_t *files;

	if (!api_auth(node, req, &user))
		return;
	int r = api_query_id(req, "folder", &folder);
	if (r <= 0) {
		if (r == 0)
			api_error(req, 400, "FIL-0400", "query parameter \"folder\" is required");
		return;
	}
	struct storage_user *su =
	    storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
	if (storage_file_list(su, folder, &files, &err) < 0) {
		storage_failed(req, &err);
		return;
	}
	http_response_json(req, 200, json_pack("{s:o}", "files", files));
}

static void file_metadata(struct storage_user *su, struct http_request *req, int64_t id)
{
	struct infostore_file file;
	struct storage_error err;
	json_t *versions;

	if (storage_file_info(su, id, &file, &versions, &err) < 0) {
		storage_failed(req, &err);
		return;
	}
	json_t *v = infostore_file_json(&file);
	json_object_set_new(v, "versions", versions);
	http_response_json(req, 200, v);
}

/* --------------------------------------------------------------- download */

/* The single range of a Range header against size. 1 with the range, 0 to send everything
   (no header, another unit, several ranges or a malformed one: RFC 9110 lets us ignore it),
   -1 when unsatisfiable (416). */
static int parse_range(struct strv h, uint64_t size, uint64_t *start_r, uint64_t *len_r)
{
	struct strv unit, spec, first, last;
	h = strv_trim(h);
	if (h.ptr == NULL || !strv_split(h, '=', &unit, &spec) ||
	    !strv_eq_ci_cstr(strv_trim(unit), "bytes"))
		return 0;
	spec = strv_trim(spec);
	if (strv_find_char(spec, ',') >= 0 || !strv_split(spec, '-', &first, &last))
		return 0;
	uint64_t a, b;
	if (first.len == 0) {
		/* suffix: the last n bytes */
		if (strv_to_u64(last, &b) < 0)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*start_r = b >= size ? 0 : size - b;
		*len_r = size - *start_r;
		return 1;
	}
	if (strv_to_u64(first, &a) < 0)
		return 0;
	if (last.len == 0) {
		b = UINT64_MAX;
	} else if (strv_to_u64(last, &b) < 0 || b < a) {
		return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*start_r = a;
	*len_r = b - a + 1;
	return 1;
}

/* If-None-Match: "*" or a list of entity tags, compared weakly (W/ ignored). */
static bool etag_matches(struct strv header, const char *etag)
{
	struct strv item;
	header = strv_trim(header);
	if (strv_eq_cstr(header, "*"))
		return true;
	while (header.len > 0) {
		strv_split(header, ',', &item, &header);
		item = strv_trim(item);
		if (item.len > 2 && item.ptr[0] == 'W' && item.ptr[1] == '/')
			item = strv_make(item.ptr + 2, item.len - 2);
		if (strv_eq_cstr(item, etag))
			return true;
	}
	return false;
}

/* attachment; filename="<ASCII stand-in>"; filename*=UTF-8''<percent-encoded> (RFC 6266). */
static void content_disposition(struct http_request *req, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	buf_init(&b, 4096);
	buf_append_lit(&b, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		buf_append_char(&b, *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '%'
		                        ? (char)*p
		                        : '_');
	buf_append_lit(&b, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p) != NULL) {
			buf_append_char(&b, (char)*p);
		} else {
			buf_append_char(&b, '%');
			buf_append_char(&b, hex[*p >> 4]);
			buf_append_char(&b, hex[*p & 0xf]);
		}
	}
	http_response_header(req, "Content-Disposition", b.data);
	buf_free(&b);
}

static void file_content(struct storage_user *su, struct http_request *req, int64_t id)
{
	int64_t version;
	int r = api_query_id(req, "version", &version);
	if (r >= 0)
		api_files_send_content(su, req, id, r > 0 ? version : 0, NULL, true);
}

void api_files_send_content(struct storage_user *su, struct http_request *req, int64_t id,
                            int64_t version, const char *etag_as, bool attachment)
{
	struct infostore_file file;
	struct infostore_version v;
	struct storage_error err;
	int fd = -1;

	if (storage_file_open(su, id, version, &file, &v, &fd, &err) < 0) {
		storage_failed(req, &err);
		return;
	}
	api_files_send_open(req, &v, attachment ? file.name : NULL, fd, etag_as);
}

void api_files_send_open(struct http_request *req, const struct infostore_version *v,
                         const char *attachment_name, int fd, const char *etag_as)
{
	int r;
	char etag[STORAGE_DAV_ETAG_SIZE];
	if (etag_as != NULL)
		snprintf(etag, sizeof(etag), "%s", etag_as);
	else
		snprintf(etag, sizeof(etag), "\"%s-%lld\"", v->md5, (long long)v->version);
	http_response_header(req, "ETag", etag);
	http_response_header(req, "Cache-Control", "private, no-cache");
	struct strv inm = http_request_header(req, "If-None-Match");
	if (inm.ptr != NULL && etag_matches(inm, etag)) {
		close(fd);
		http_response_status(req, 304);
		http_response_send(req);
		return;
	}
	uint64_t size = (uint64_t)v->size, start = 0, len = size;
	/* If-Range with another tag (or a date: we keep none) means "send it all" */
	struct strv if_range = strv_trim(http_request_header(req, "If-Range"));
	r = if_range.ptr == NULL || strv_eq_cstr(if_range, etag)
	        ? parse_range(http_request_header(req, "Range"), size, &start, &len)
	        : 0;
	if (r < 0) {
		close(fd);
		http_response_headerf(req, "Content-Range", "bytes */%llu",
		                      (unsigned long long)size);
		api_error(req, 416, "FIL-0416", "the range is outside the file's %llu bytes",
		          (unsigned long long)size);
		return;
	}
	http_response_status(req, r > 0 ? 206 : 200);
	if (r > 0)
		http_response_headerf(
		    req, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)start,
		    (unsigned long long)(start + len - 1), (unsigned long long)size);
	http_response_header(req, "Accept-Ranges", "bytes");
	http_response_header(req, "Content-Type", v->content_type);
	/* stored types come from uploaders: never let a browser run them in our origin */
	http_response_header(req, "X-Content-Type-Options", "nosniff");
	http_response_header(req, "Content-Security-Policy", "sandbox");
	if (attachment_name != NULL)
		content_disposition(req, attachment_name);
	http_response_file(req, fd, (off_t)start, len);
	http_response_send(req);
}

/* --------------------------------------------------------------- delete */

static void file_delete(struct storage_user *su, struct http_request *req, int64_t id)
{
	struct storage_error err;
	if (storage_file_delete(su, id, &err) < 0) {
		storage_failed(req, &err);
		return;
	}
	http_response_status(req, 204);
	http_response_send(req);
}

/* --------------------------------------------------------------- rename and move */

/* A string member of a PATCH body, checked as a file name; false after answering 400. */
static bool patch_name(struct http_request *req, json_t *body, const char **name_r)
{
	json_t *v = json_object_get(body, "name");
	if (v == NULL)
		return true;
	if (!json_is_string(v)) {
		api_error(req, 400, "FIL-0400", "\"name\" must be a string");
		return false;
	}
	/* the length, not the C string: a NUL never hides what follows it */
	const char *problem = infostore_check_name(json_string_value(v), json_string_length(v));
	if (problem != NULL) {
		api_error(req, 400, "FIL-0400", "%s", problem);
		return false;
	}
	*name_r = pool_strdup(http_request_pool(req), json_string_value(v));
	return true;
}

/* PATCH {"name"?, "folder"?}: renames or moves a file (storage_file_move(): its id and
   versions stay; the right to delete it where it is and to create in the target); a file of
   that name in the target is a 409, never replaced. */
static void file_patch(struct storage_user *su, struct http_request *req, int64_t id)
{
	struct infostore_file file;
	struct storage_error err;
	json_t *versions;
	struct storage_file_place to = {0};
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	json_t *folder = json_object_get(body, "folder");
	if (folder != NULL && (!json_is_integer(folder) || json_integer_value(folder) <= 0)) {
		api_error(req, 400, "FIL-0400", "\"folder\" must be a folder id");
		goto out;
	}
	if (!patch_name(req, body, &to.name))
		goto out;
	if (folder == NULL && to.name == NULL) {
		api_error(req, 400, "FIL-0400", "nothing to change: give \"name\" or \"folder\"");
		goto out;
	}
	if (storage_file_info(su, id, &file, &versions, &err) < 0) {
		storage_failed(req, &err);
		goto out;
	}
	json_decref(versions);
	to.folder = folder != NULL ? (int64_t)json_integer_value(folder) : file.folder;
	if (to.name == NULL)
		to.name = file.name;
	if (storage_file_move(su, id, &to, &err) < 0) {
		if (err.status == STORAGE_REFUSED && err.detail == STORAGE_DETAIL_EXISTS)
			api_error(req, 409, "FIL-0409", "%s", err.message);
		else
			storage_failed(req, &err);
		goto out;
	}
	http_response_json(req, 200, infostore_file_json(&to.file));
out:
	json_decref(body);
}

/* The caller of a /api/v1/files/{id} route and the file's id; NULL after answering 401. */
static struct storage_user *item_user(void *ctx, struct http_request *req, int64_t *id_r)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user))
		return NULL;
	*id_r = http_request_param_id(req, "id");
	return storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
}

static void files_get(void *ctx, struct http_request *req)
{
	int64_t id;
	struct storage_user *su = item_user(ctx, req, &id);
	if (su != NULL)
		file_metadata(su, req, id);
}

static void files_get_content(void *ctx, struct http_request *req)
{
	int64_t id;
	struct storage_user *su = item_user(ctx, req, &id);
	if (su != NULL)
		file_content(su, req, id);
}

static void files_delete(void *ctx, struct http_request *req)
{
	int64_t id;
	struct storage_user *su = item_user(ctx, req, &id);
	if (su != NULL)
		file_delete(su, req, id);
}

static void files_patch(void *ctx, struct http_request *req)
{
	int64_t id;
	struct storage_user *su = item_user(ctx, req, &id);
	if (su != NULL)
		file_patch(su, req, id);
}

const struct http_route api_file_routes[] = {
    {"PUT", "/api/v1/files", files_put, 0, files_put_head},
    {"GET", "/api/v1/files", files_list, 0, NULL},
    {"GET", "/api/v1/files/{id:id}", files_get, 0, NULL},
    {"DELETE", "/api/v1/files/{id:id}", files_delete, 0, NULL},
    {"PATCH", "/api/v1/files/{id:id}", files_patch, 0, NULL},
    {"GET", "/api/v1/files/{id:id}/content", files_get_content, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
