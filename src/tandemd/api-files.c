/* SPDX-License-Identifier: MIT */
/* /api/v1/files: streamed uploads into the filestore with versions and quota, listing,
   metadata, downloads (sendfile, Range, ETag) and deletion (docs/api.md "Files"). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api-common.h"
#include "clock.h"
#include "filestore.h"
#include "folder.h"
#include "http-server.h"
#include "infostore.h"
#include "log.h"
#include "node.h"
#include "pool.h"
#include "routes.h"
#include "sql.h"

#define MIB              (INT64_C(1024) * 1024)
#define ROOT_CACHE_SIZE  256
#define QUOTA_FRESH_MS   10000
#define PUBLISH_ATTEMPTS 2

/* --------------------------------------------------------------- where contexts live */

/* The loop thread must not wait for SQL, but an upload's head needs the context's filestore
   root to open its temp file there (the final rename must stay on one filesystem). Roots never
   change, so workers remember them here whenever they resolve a context; only a context's very
   first upload on this process resolves it on the loop thread. The quota is kept too, as a
   hint for cutting a too-large upload short; the worker checks the real one. */
struct root_entry {
	int64_t cid;
	int64_t quota_bytes;
	uint64_t quota_at_ms;
	char root[sizeof(((struct prov_location *)0)->filestore_root)];
};

static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static struct root_entry root_cache[ROOT_CACHE_SIZE];

static void remember_location(const struct prov_location *loc)
{
	struct root_entry *e = &root_cache[(uint64_t)loc->cid % ROOT_CACHE_SIZE];
	pthread_mutex_lock(&root_lock);
	e->cid = loc->cid;
	e->quota_bytes = loc->quota_mb * MIB;
	e->quota_at_ms = clock_mono_ms();
	snprintf(e->root, sizeof(e->root), "%s", loc->filestore_root);
	pthread_mutex_unlock(&root_lock);
}

static bool cached_location(int64_t cid, char *root, size_t size, int64_t *quota_r)
{
	const struct root_entry *e = &root_cache[(uint64_t)cid % ROOT_CACHE_SIZE];
	bool found = false;
	pthread_mutex_lock(&root_lock);
	if (e->cid == cid) {
		snprintf(root, size, "%s", e->root);
		*quota_r = clock_mono_ms() - e->quota_at_ms < QUOTA_FRESH_MS ? e->quota_bytes : -1;
		found = true;
	}
	pthread_mutex_unlock(&root_lock);
	return found;
}

/* api_userdb that also refreshes the cache above. */
static struct sql_db *userdb(struct node *node, struct http_request *req, int64_t cid,
                             struct prov_location *loc)
{
	struct sql_db *db = api_userdb(node, req, cid, loc);
	if (db != NULL)
		remember_location(loc);
	return db;
}

/* --------------------------------------------------------------- shared helpers */

/* A refusal decided before it is sent: an upload must drop its temp file first, so that a
   client never sees it left behind after the answer. */
struct refusal {
	int status;
	const char *code;
	char message[300];
};

static void refuse(struct refusal *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void refuse(struct refusal *r, int status, const char *code, const char *fmt, ...)
{
	va_list args;
	r->status = status;
	r->code = code;
	va_start(args, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, args);
	va_end(args);
}

static void refuse_sql(struct refusal *r, const char *what, const struct sql_error *err)
{
	if (err->kind == SQL_ERR_READ_ONLY) {
		refuse(r, 503, API_CODE_READ_ONLY, "%s refused: %s", what, err->message);
		return;
	}
	bool unavailable = err->kind == SQL_ERR_CONNECTION || err->kind == SQL_ERR_BUSY;
	log_error("files", "%s: %s (%s)", what, err->message, sql_error_kind_name(err->kind));
	refuse(r, unavailable ? 503 : 500, unavailable ? "FIL-0503" : "FIL-0500",
	       "%s failed: the database is %s", what, unavailable ? "unavailable" : "in error");
}

static void send_refusal(struct http_request *req, const struct refusal *r)
{
	api_error(req, r->status, r->code, "%s", r->message);
}

static void sql_failed(struct http_request *req, const char *what, const struct sql_error *err)
{
	struct refusal r;
	refuse_sql(&r, what, err);
	send_refusal(req, &r);
}

/* The caller's rights on an infostore folder: true with *perm_r, or false with the refusal
   (404 when it is not visible, 400 when it holds no files). */
static bool files_folder(struct sql_conn *conn, const struct api_user *user, int64_t folder,
                         struct folder_perm *perm_r, struct refusal *why)
{
	struct sql_error err = {0};
	char module[FOLDER_MODULE_MAX];
	int r = folder_access(conn, user->cid, user->uid, folder, perm_r, &err);
	if (r > 0)
		r = folder_module(conn, user->cid, folder, module, &err);
	if (r < 0) {
		refuse_sql(why, "folder lookup", &err);
		return false;
	}
	if (r == 0) {
		refuse(why, 404, "FIL-0404", "folder %lld not found", (long long)folder);
		return false;
	}
	if (strcmp(module, "infostore") != 0) {
		refuse(why, 400, "FIL-0400", "folder %lld holds %s, not files", (long long)folder,
		       module);
		return false;
	}
	return true;
}

/* Loads file id if the caller may see it (its folder is visible and the caller may read it):
   true with *file_r and *perm_r, or false after answering 404 (the same as for a file that
   does not exist, so ids of others' files reveal nothing). */
static bool visible_file(struct http_request *req, struct sql_conn *conn,
                         const struct api_user *user, int64_t id, struct infostore_file *file_r,
                         struct folder_perm *perm_r)
{
	struct sql_error err = {0};
	int r = infostore_get(conn, user->cid, id, file_r, &err);
	if (r < 0) {
		sql_failed(req, "file lookup", &err);
		return false;
	}
	if (r > 0)
		r = folder_access(conn, user->cid, user->uid, file_r->folder, perm_r, &err);
	if (r < 0) {
		sql_failed(req, "folder lookup", &err);
		return false;
	}
	/* a file I may not read is hidden, as in listings: its id reveals nothing either */
	if (r == 0 || !folder_perm_may_read(perm_r, file_r->created_by == user->uid)) {
		api_error(req, 404, "FIL-0404", "file %lld not found", (long long)id);
		return false;
	}
	return true;
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

struct upload {
	struct api_user user;
	int64_t folder;
	const char *name;
	const char *content_type;
	char root[sizeof(((struct prov_location *)0)->filestore_root)];
	struct filestore_temp *temp;
	uint64_t cap; /* 0 = only the server's max_body */
	bool over_cap;
	int write_error;
};

static void upload_cleanup(void *ctx)
{
	struct upload *up = ctx;
	filestore_temp_destroy(&up->temp);
}

static int upload_sink(void *ctx, const char *data, size_t len)
{
	struct upload *up = ctx;
	if (len == 0)
		return 0;
	if (up->cap > 0 && filestore_temp_size(up->temp) + len > up->cap) {
		up->over_cap = true;
		return -1;
	}
	int r = filestore_temp_write(up->temp, data, len);
	if (r < 0) {
		up->write_error = -r;
		return -1;
	}
	return 0;
}

/* folder, name and Content-Type of an upload; false after answering 400. */
static bool upload_params(struct http_request *req, struct upload *up)
{
	int r = api_query_id(req, "folder", &up->folder);
	if (r <= 0) {
		if (r == 0)
			api_error(req, 400, "FIL-0400", "query parameter \"folder\" is required");
		return false;
	}
	struct strv raw = raw_query(req, "name");
	up->name = api_query(req, "name");
	if (up->name == NULL) {
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
	const char *problem = infostore_check_name(up->name, strlen(up->name));
	if (problem != NULL) {
		api_error(req, 400, "FIL-0400", "%s", problem);
		return false;
	}
	struct strv type = strv_trim(http_request_header(req, "Content-Type"));
	if (type.ptr == NULL || type.len == 0) {
		up->content_type = INFOSTORE_DEFAULT_TYPE;
	} else if ((problem = infostore_check_content_type(type)) != NULL) {
		api_error(req, 400, "FIL-0400", "%s", problem);
		return false;
	} else {
		up->content_type = pool_strndup(http_request_pool(req), type.ptr, type.len);
	}
	return true;
}

static void quota_exceeded(struct http_request *req, int64_t quota_bytes)
{
	api_error(req, 413, "FIL-0413", "the upload exceeds the context's quota of %lld MiB",
	          (long long)(quota_bytes / MIB));
}

/* Loop thread, before the body: authenticate, check what needs no SQL, open the temp file and
   stream the body into it. */
static void files_put_head(struct node *node, struct http_request *req)
{
	struct pool *pool = http_request_pool(req);
	struct upload *up = pool_calloc(pool, 1, sizeof(*up));
	int64_t quota = -1;
	const char *error;

	if (!api_auth(node, req, &up->user) || !upload_params(req, up))
		return;
	if (!cached_location(up->user.cid, up->root, sizeof(up->root), &quota)) {
		/* first upload of this context on this process: resolve it here, once */
		struct prov_location loc;
		if (userdb(node, req, up->user.cid, &loc) == NULL)
			return;
		snprintf(up->root, sizeof(up->root), "%s", loc.filestore_root);
		quota = loc.quota_mb * MIB;
	}
	const struct http_request_head *head = http_request_head(req);
	if (quota > 0) {
		up->cap = (uint64_t)quota;
		if (head->body_kind == HTTP_BODY_LENGTH && head->content_length > up->cap) {
			quota_exceeded(req, quota);
			return;
		}
	}
	int r = filestore_temp_create(up->root, up->user.cid, &up->temp, &error);
	if (r < 0) {
		log_error("files", "cid=%lld: %s", (long long)up->user.cid, error);
		api_error(req, 507, "FIL-0507", "the file store cannot take the upload");
		return;
	}
	pool_add_cleanup(pool, upload_cleanup, up);
	http_request_set_body_sink(req, upload_sink, up);
	http_request_set_context(req, up);
}

struct publish {
	const struct folder_perm *perm;
	struct infostore_upload row;
	int64_t quota_bytes;
	int status; /* HTTP status of a refusal decided inside the transaction */
	bool created;
	struct infostore_file file;
};

/* The one write transaction of an upload. The usage row is updated first, so concurrent
   uploads to a context queue up here and each sees the others' sizes. */
static int publish_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct publish *p = ctx;
	struct infostore_file existing;
	int64_t used, id, version;

	p->status = 0;
	int r = infostore_charge(conn, p->row.cid, p->row.size, p->quota_bytes, &used, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		p->status = 413;
		goto refuse;
	}
	if ((r = infostore_find(conn, p->row.cid, p->row.folder, p->row.name, &existing, err)) < 0)
		return -1;
	if (r > 0 ? !folder_perm_may_write(p->perm, existing.created_by == p->row.uid)
	          : !folder_perm_may_create(p->perm)) {
		p->status = 403;
		goto refuse;
	}
	if (infostore_add_version(conn, &p->row, r > 0 ? &existing : NULL, &id, &version, err) < 0)
		return -1;
	p->created = r == 0;
	if ((r = infostore_get(conn, p->row.cid, id, &p->file, err)) <= 0) {
		if (r == 0)
			sql_error_set(err, SQL_ERR_OTHER, 0, "file %lld vanished", (long long)id);
		return -1;
	}
	return 0;
refuse:
	err->kind = SQL_ERR_NONE;
	return -1;
}

/* The context's database without answering (api_userdb answers at once, but an upload has
   its temp file to drop first). */
static struct sql_db *upload_db(struct node *node, int64_t cid, struct prov_location *loc,
                                struct refusal *why)
{
	struct prov_error err = {0};
	struct provision *prov = node_provision(node, &err);
	struct sql_db *db = prov != NULL ? provision_context_db(prov, cid, loc, &err) : NULL;
	if (db == NULL)
		refuse(why, err.status == PROV_NOT_FOUND ? 404 : 503,
		       err.status == PROV_NOT_FOUND ? "API-0404" : "API-0503", "%s", err.message);
	else
		remember_location(loc);
	return db;
}

/* Everything after the body: folder checks, publish (fsync + rename), then the rows. Returns
   the stored file's JSON, or NULL with the refusal. */
static json_t *store_upload(struct node *node, struct upload *up, int *status_r,
                            struct refusal *why)
{
	struct prov_location loc;
	struct folder_perm perm;
	struct sql_conn *conn;
	struct sql_error err = {0};
	char md5[33], location[FILESTORE_LOCATION_SIZE];
	const char *error;

	if (up->over_cap) {
		refuse(why, 413, "FIL-0413", "the upload exceeds the context's quota of %lld MiB",
		       (long long)(up->cap / MIB));
		return NULL;
	}
	if (up->write_error != 0) {
		log_error("files", "cid=%lld: writing an upload failed: %s",
		          (long long)up->user.cid, strerror(up->write_error));
		refuse(why, 507, "FIL-0507", "the file store cannot take the upload");
		return NULL;
	}
	struct sql_db *db = upload_db(node, up->user.cid, &loc, why);
	if (db == NULL)
		return NULL;
	if (sql_conn_get(db, SQL_WRITE, up->user.cid, &conn, &err) < 0) {
		refuse_sql(why, "upload", &err);
		return NULL;
	}
	bool ok = files_folder(conn, &up->user, up->folder, &perm, why);
	sql_conn_put(&conn);
	if (!ok)
		return NULL;
	if (up->folder <= FOLDER_ID_MAX_SYSTEM) {
		refuse(why, 403, "FIL-0403", "system folders hold no files");
		return NULL;
	}
	/* the transaction decides create vs. write; someone who may do neither is refused before
	   the body is synced and published for nothing */
	if (!folder_perm_may_create(&perm) && !folder_perm_may_write(&perm, true)) {
		refuse(why, 403, "FIL-0403", "no permission to store files in folder %lld",
		       (long long)up->folder);
		return NULL;
	}

	filestore_temp_md5(up->temp, md5);
	if (filestore_temp_publish(up->temp, location, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)up->user.cid, error);
		refuse(why, 507, "FIL-0507", "the file store cannot take the upload");
		return NULL;
	}
	struct publish p = {
	    .perm = &perm,
	    .row = {.cid = up->user.cid,
	            .folder = up->folder,
	            .uid = up->user.uid,
	            .name = up->name,
	            .size = (int64_t)filestore_temp_size(up->temp),
	            .md5 = md5,
	            .content_type = up->content_type,
	            .location = location,
	            .now = (int64_t)time(NULL)},
	    .quota_bytes = loc.quota_mb * MIB,
	};
	/* a constraint error means a concurrent upload created the same name: run again, and
	   this upload becomes its next version */
	int r;
	for (int attempt = 1;; attempt++) {
		r = sql_transaction(db, SQL_WRITE, up->user.cid, publish_txn, &p, &err);
		if (r == 0 || err.kind != SQL_ERR_CONSTRAINT || attempt == PUBLISH_ATTEMPTS)
			break;
	}
	if (r < 0) {
		filestore_temp_unpublish(up->temp);
		if (p.status == 413)
			refuse(why, 413, "FIL-0413",
			       "the upload exceeds the context's quota of %lld MiB",
			       (long long)loc.quota_mb);
		else if (p.status == 403)
			refuse(why, 403, "FIL-0403", "no permission to store \"%s\" in folder %lld",
			       up->name, (long long)up->folder);
		else
			refuse_sql(why, "upload", &err);
		return NULL;
	}
	log_info("files", "cid=%lld uid=%lld stored file=%lld version=%lld size=%lld",
	         (long long)up->user.cid, (long long)up->user.uid, (long long)p.file.id,
	         (long long)p.file.version, (long long)p.file.size);
	*status_r = p.created ? 201 : 200;
	return infostore_file_json(&p.file);
}

/* Worker, after the body. The temp file is closed (and unlinked unless published) before the
   answer goes out: whoever reads the answer finds the store as it will stay. */
static void files_put(struct node *node, struct http_request *req)
{
	struct upload *up = http_request_get_context(req);
	struct refusal why;
	int status = 0;

	if (up == NULL || up->temp == NULL) {
		api_error(req, 500, "FIL-0500", "upload was not prepared");
		return;
	}
	json_t *file = store_upload(node, up, &status, &why);
	filestore_temp_destroy(&up->temp);
	if (file == NULL)
		send_refusal(req, &why);
	else
		api_reply_json(req, status, file);
}

/* --------------------------------------------------------------- list, metadata */

static void files_list(struct node *node, struct http_request *req)
{
	struct api_user user;
	struct prov_location loc;
	struct folder_perm perm;
	struct sql_conn *conn;
	struct sql_error err = {0};
	int64_t folder;

	if (!api_auth(node, req, &user))
		return;
	int r = api_query_id(req, "folder", &folder);
	if (r <= 0) {
		if (r == 0)
			api_error(req, 400, "FIL-0400", "query parameter \"folder\" is required");
		return;
	}
	struct sql_db *db = userdb(node, req, user.cid, &loc);
	if (db == NULL)
		return;
	if (sql_conn_get(db, SQL_READ, user.cid, &conn, &err) < 0) {
		sql_failed(req, "listing", &err);
		return;
	}
	struct refusal why;
	if (!files_folder(conn, &user, folder, &perm, &why)) {
		send_refusal(req, &why);
		goto out;
	}
	if (!folder_perm_may_read(&perm, true)) {
		api_error(req, 403, "FIL-0403", "no permission to read folder %lld",
		          (long long)folder);
		goto out;
	}
	/* "read own" lists only what the caller created */
	json_t *files = infostore_list(conn, user.cid, folder,
	                               folder_perm_may_read(&perm, false) ? 0 : user.uid, &err);
	if (files == NULL) {
		sql_failed(req, "listing", &err);
		goto out;
	}
	api_reply_json(req, 200, json_pack("{s:o}", "files", files));
out:
	sql_conn_put(&conn);
}

static void file_metadata(struct node *node, struct http_request *req, const struct api_user *user,
                          int64_t id)
{
	struct prov_location loc;
	struct folder_perm perm;
	struct infostore_file file;
	struct sql_conn *conn;
	struct sql_error err = {0};

	struct sql_db *db = userdb(node, req, user->cid, &loc);
	if (db == NULL)
		return;
	if (sql_conn_get(db, SQL_READ, user->cid, &conn, &err) < 0) {
		sql_failed(req, "file lookup", &err);
		return;
	}
	if (visible_file(req, conn, user, id, &file, &perm)) {
		json_t *versions = infostore_versions_json(conn, user->cid, id, &err);
		if (versions == NULL) {
			sql_failed(req, "file lookup", &err);
		} else {
			json_t *v = infostore_file_json(&file);
			json_object_set_new(v, "versions", versions);
			api_reply_json(req, 200, v);
		}
	}
	sql_conn_put(&conn);
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

static void file_content(struct node *node, struct http_request *req, const struct api_user *user,
                         int64_t id)
{
	struct prov_location loc;
	struct folder_perm perm;
	struct infostore_file file;
	struct infostore_version v;
	struct sql_conn *conn;
	struct sql_error err = {0};
	int64_t version;
	int fd = -1;

	int r = api_query_id(req, "version", &version);
	if (r < 0)
		return;
	struct sql_db *db = userdb(node, req, user->cid, &loc);
	if (db == NULL)
		return;
	if (sql_conn_get(db, SQL_READ, user->cid, &conn, &err) < 0) {
		sql_failed(req, "file lookup", &err);
		return;
	}
	bool ok = visible_file(req, conn, user, id, &file, &perm);
	if (ok) {
		int found = infostore_get_version(conn, user->cid, id,
		                                  r > 0 ? version : file.version, &v, &err);
		if (found < 0)
			sql_failed(req, "file lookup", &err);
		else if (found == 0)
			api_error(req, 404, "FIL-0404", "file %lld has no version %lld",
			          (long long)id, (long long)version);
		ok = found > 0;
	}
	sql_conn_put(&conn);
	if (!ok)
		return;

	struct stat st;
	r = filestore_open(loc.filestore_root, user->cid, v.location, &fd);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && (uint64_t)st.st_size != (uint64_t)v.size)
		r = -EIO;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		log_error("files",
		          "cid=%lld file=%lld version=%lld at %s: %s (run "
		          "checkconsistency)",
		          (long long)user->cid, (long long)id, (long long)v.version, v.location,
		          r == -EIO ? "size differs from the database" : strerror(-r));
		api_error(req, 500, "FIL-0500", "the content of file %lld is not available",
		          (long long)id);
		return;
	}

	char etag[64];
	snprintf(etag, sizeof(etag), "\"%s-%lld\"", v.md5, (long long)v.version);
	http_response_header(req, "ETag", etag);
	http_response_header(req, "Cache-Control", "private, no-cache");
	struct strv inm = http_request_header(req, "If-None-Match");
	if (inm.ptr != NULL && etag_matches(inm, etag)) {
		close(fd);
		http_response_status(req, 304);
		http_response_send(req);
		return;
	}
	uint64_t size = (uint64_t)v.size, start = 0, len = size;
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
	http_response_header(req, "Content-Type", v.content_type);
	/* stored types come from uploaders: never let a browser run them in our origin */
	http_response_header(req, "X-Content-Type-Options", "nosniff");
	http_response_header(req, "Content-Security-Policy", "sandbox");
	content_disposition(req, file.name);
	http_response_file(req, fd, (off_t)start, len);
	http_response_send(req);
}

/* --------------------------------------------------------------- delete */

struct delete_txn {
	int64_t cid, id;
	struct array *locations;
	int found; /* infostore_delete's answer: 1 deleted, 0 no such file */
};

static int delete_file_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct delete_txn *dt = ctx;
	array_clear(dt->locations); /* a retried attempt starts over */
	dt->found =
	    infostore_delete(conn, dt->cid, dt->id, (int64_t)time(NULL), dt->locations, err);
	return dt->found < 0 ? -1 : 0;
}

static void file_delete(struct node *node, struct http_request *req, const struct api_user *user,
                        int64_t id)
{
	struct prov_location loc;
	struct folder_perm perm;
	struct infostore_file file;
	struct sql_conn *conn;
	struct sql_error err = {0};
	struct array locations;

	struct sql_db *db = userdb(node, req, user->cid, &loc);
	if (db == NULL)
		return;
	if (sql_conn_get(db, SQL_WRITE, user->cid, &conn, &err) < 0) {
		sql_failed(req, "delete", &err);
		return;
	}
	array_init(&locations, FILESTORE_LOCATION_SIZE);
	if (!visible_file(req, conn, user, id, &file, &perm))
		goto out;
	if (!folder_perm_may_delete(&perm, file.created_by == user->uid)) {
		api_error(req, 403, "FIL-0403", "no permission to delete file %lld", (long long)id);
		goto out;
	}
	struct delete_txn dt = {.cid = user->cid, .id = id, .locations = &locations};
	int r = sql_conn_transaction(conn, true, delete_file_txn, &dt, &err) < 0 ? -1 : dt.found;
	if (r < 0) {
		sql_failed(req, "delete", &err);
		goto out;
	}
	if (r == 0) {
		api_error(req, 404, "FIL-0404", "file %lld not found", (long long)id);
		goto out;
	}
	/* only now, after the commit: a failure leaves an orphan for checkconsistency, never a
	   row without its file */
	for (size_t i = 0; i < locations.count; i++) {
		const char *l = array_idx(&locations, i);
		int rr = filestore_remove(loc.filestore_root, user->cid, l);
		if (rr < 0)
			log_warn("files", "cid=%lld: removing %s failed: %s (an orphan now)",
			         (long long)user->cid, l, strerror(-rr));
	}
	log_info("files", "cid=%lld uid=%lld deleted file=%lld (%zu versions)",
	         (long long)user->cid, (long long)user->uid, (long long)id, locations.count);
	http_response_status(req, 204);
	http_response_send(req);
out:
	array_free(&locations);
	sql_conn_put(&conn);
}

/* /api/v1/files/ID and /api/v1/files/ID/content */
static void files_item(struct node *node, struct http_request *req)
{
	struct api_user user;
	const char *rest;
	int64_t id;

	if (!api_auth(node, req, &user))
		return;
	int r = api_path_id(req, "/api/v1/files/", &id, &rest);
	if (r <= 0) {
		if (r == 0)
			api_error(req, 404, "FIL-0404", "no such resource");
		return;
	}
	bool get = !strv_eq_cstr(http_request_head(req)->method, "DELETE");
	if (rest[0] == '\0') {
		if (get)
			file_metadata(node, req, &user, id);
		else
			file_delete(node, req, &user, id);
	} else if (strcmp(rest, "content") == 0 && get) {
		file_content(node, req, &user, id);
	} else if (strcmp(rest, "content") == 0) {
		http_response_header(req, "Allow", "GET, HEAD");
		api_error(req, 405, "FIL-0405", "use GET for file content");
	} else {
		api_error(req, 404, "FIL-0404", "no such resource");
	}
}

const struct route api_file_routes[] = {
    {"PUT", "/api/v1/files", files_put, 0, files_put_head},
    {"GET", "/api/v1/files", files_list, 0, NULL},
    {"GET", "/api/v1/files/", files_item, ROUTE_PREFIX, NULL},
    {"DELETE", "/api/v1/files/", files_item, ROUTE_PREFIX, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
