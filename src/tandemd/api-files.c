/* SPDX-License-Identifier: MIT */
/* /api/v1/files: streamed uploads into the filestore with versions, quota holds and the
   object limit, listing, metadata, downloads (sendfile, Range, ETag) and deletion (docs/api.md
   "Files"). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api-common.h"
#include "filestore.h"
#include "folder.h"
#include "http-json.h"
#include "http-server.h"
#include "infostore.h"
#include "ioloop.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "pool.h"
#include "random.h"
#include "routes.h"
#include "storage-file.h"
#include "worker-pool.h"

#define MIB (INT64_C(1024) * 1024)
/* A hold grows by a quarter of what the upload has so far, within these bounds: few
   transactions for a large upload, little held beyond the bytes of a small one. */
#define HOLD_STEP_MIN MIB
#define HOLD_STEP_MAX (64 * MIB)

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

/* The HTTP answer to a refusal of storage-file.h. */
static int refusal_status(enum storage_refusal why, const char **code_r)
{
	switch (why) {
	case STORAGE_NOT_FOUND:
		*code_r = "FIL-0404";
		return 404;
	case STORAGE_INVALID:
		*code_r = "FIL-0400";
		return 400;
	case STORAGE_FORBIDDEN:
		*code_r = "FIL-0403";
		return 403;
	case STORAGE_OVER_LIMIT:
		*code_r = "FIL-0413";
		return 413;
	case STORAGE_NO_SPACE:
		*code_r = "FIL-0507";
		return 507;
	case STORAGE_REFUSAL_NONE:
	case STORAGE_BROKEN:
		break;
	}
	*code_r = "FIL-0500";
	return 500;
}

static void refuse_storage(struct refusal *r, const struct storage_error *err)
{
	const char *what = err->what != NULL ? err->what : "upload";
	const char *code;
	switch (err->status) {
	case STORAGE_NO_CONTEXT:
		refuse(r, 404, "API-0404", "%s", err->message);
		return;
	case STORAGE_DOWN:
		refuse(r, 503, "API-0503", "%s", err->message);
		return;
	case STORAGE_READ_ONLY:
		refuse(r, 503, API_CODE_READ_ONLY, "%s refused: %s", what, err->message);
		return;
	case STORAGE_REFUSED: {
		int status = refusal_status(err->refusal, &code);
		refuse(r, status, code, "%s", err->message);
		return;
	}
	case STORAGE_OK:
	case STORAGE_UNAVAILABLE:
	case STORAGE_FAILED:
		break;
	}
	bool unavailable = err->status == STORAGE_UNAVAILABLE;
	log_error("files", "%s: %s (%s)", what, err->message,
	          err->kind != NULL ? err->kind : "none");
	refuse(r, unavailable ? 503 : 500, unavailable ? "FIL-0503" : "FIL-0500",
	       "%s failed: the database is %s", what, unavailable ? "unavailable" : "in error");
}

static void send_refusal(struct http_request *req, const struct refusal *r)
{
	api_error(req, r->status, r->code, "%s", r->message);
}

static void storage_failed(struct http_request *req, const struct storage_error *err)
{
	struct refusal r;
	refuse_storage(&r, err);
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

/* An upload lives in its request's pool. Its body goes to a temp file as it arrives; with a
   quota, only as far as the upload's hold on the quota reaches (docs/internals/filestore.md
   "Quota holds"): bytes beyond it wait in the stash, the body is held, and a worker grows the
   hold. Fields are the loop thread's, except that files_put (on a worker, once the body is
   over) owns the upload until it answers. */
struct hold_job;

struct upload {
	struct node *node;
	struct http_request *req;
	struct api_user user;
	int64_t folder;
	const char *name;
	const char *content_type;
	int64_t announced; /* Content-Length, or -1 for a chunked body */
	struct filestore_temp *temp;
	int write_error;
	int64_t quota_bytes; /* 0: no quota, so no hold */
	int64_t quota_mb;
	char hold_id[INFOSTORE_HOLD_ID_MAX + 1];
	bool holding;         /* a hold row may exist */
	int64_t held;         /* bytes it covers */
	int64_t held_at;      /* unix seconds it was last set */
	struct hold_job *job; /* in flight (the body is held meanwhile), or NULL */
	char *stash;          /* bytes beyond the hold, written once it has grown */
	size_t stash_len, stash_cap;
	bool refused; /* the hold was refused: refusal says why */
	struct refusal refusal;
};

/* One trip to a worker for an upload's hold. The worker has its own copy of what it needs;
   the loop thread takes the outcome over in hold_done(). The upload may end meanwhile (its
   connection closes): whichever side comes second then cleans up (hold_abandon), so no
   memory, temp file or hold outlives it. */
enum job_state { JOB_RUNNING, JOB_DONE, JOB_DETACHED };

struct hold_job {
	_Atomic int state;
	struct upload *up; /* loop thread only */
	struct node *node;
	struct ioloop *loop;
	int64_t cid;
	char id[INFOSTORE_HOLD_ID_MAX + 1];
	bool open;           /* the upload's first: find its context, make the temp file */
	int64_t announced;   /* open: the hold it starts with comes from this */
	int64_t quota_bytes; /* the upload's (open: found here) */
	int64_t quota_mb;
	int64_t need, want; /* as in struct infostore_hold */
	int64_t now;
	/* outcome */
	bool held;
	int64_t held_bytes;
	struct filestore_temp *temp; /* open */
	bool refused;
	struct refusal refusal;
};

/* What to hold once size bytes have arrived: a step more, never beyond the announced length
   (the HTTP layer lets no more through). */
static int64_t hold_target(int64_t size, int64_t announced)
{
	int64_t step = size / 4;
	step = step < HOLD_STEP_MIN ? HOLD_STEP_MIN : step > HOLD_STEP_MAX ? HOLD_STEP_MAX : step;
	int64_t target = size + step;
	return announced >= 0 && target > announced ? announced : target;
}

/* Drops a hold (worker). False when it may still be there: it lapses by itself then. */
static bool release_hold(struct node *node, int64_t cid, const char *id)
{
	struct storage_error err;
	if (storage_file_hold_release(node->storage, cid, id, &err) == 0)
		return true;
	log_warn("files", "cid=%lld: dropping quota hold %s failed (%s); it lapses by itself",
	         (long long)cid, id, err.message);
	return false;
}

/* The upload ended while its job ran: drop what the job made and the hold (worker). */
static void hold_abandon(void *ctx)
{
	struct hold_job *job = ctx;
	filestore_temp_destroy(&job->temp);
	if (job->quota_bytes > 0)
		release_hold(job->node, job->cid, job->id);
	mem_free(&job);
}

static void write_body(struct upload *up, const char *data, size_t len)
{
	int r = filestore_temp_write(up->temp, data, len);
	if (r < 0)
		up->write_error = -r;
}

/* Loop thread: the worker is done with job. */
static void hold_done(void *ctx)
{
	struct hold_job *job = ctx;
	if (atomic_load(&job->state) == JOB_DETACHED) {
		/* the upload ended after the worker had finished */
		if (worker_pool_submit(job->node->workers, hold_abandon, job) < 0) {
			filestore_temp_destroy(&job->temp);
			mem_free(&job); /* shutting down: the hold lapses */
		}
		return;
	}
	struct upload *up = job->up;
	up->job = NULL;
	if (job->open) {
		up->temp = job->temp;
		up->quota_bytes = job->quota_bytes;
		up->quota_mb = job->quota_mb;
	}
	if (job->held) {
		up->holding = true;
		up->held = job->held_bytes;
		up->held_at = job->now;
	}
	up->refused = job->refused;
	up->refusal = job->refusal;
	mem_free(&job);
	if (!up->refused && up->stash_len > 0) {
		write_body(up, up->stash, up->stash_len);
		up->stash_len = 0;
	}
	/* last: both may run the request on (sink, files_put) before they return */
	if (up->refused || up->write_error != 0)
		http_request_stop_body(up->req);
	else
		http_request_resume_body(up->req);
}

/* Worker: find the context (open), set the hold, make the temp file (open). */
static void hold_run(void *ctx)
{
	struct hold_job *job = ctx;
	struct storage_context loc;
	struct storage_error err;
	const char *error;

	if (job->open) {
		if (storage_context_find(job->node->storage, job->cid, &loc, &err) < 0) {
			refuse_storage(&job->refusal, &err);
			job->refused = true;
			goto done;
		}
		/* an upload that announced its length must fit whole from the start, a chunked
		   one needs room for a byte */
		job->quota_bytes = loc.quota_bytes;
		job->quota_mb = loc.quota_mb;
		job->need = job->announced >= 0 ? job->announced : 1;
		job->want = hold_target(0, job->announced);
	}
	if (job->quota_bytes > 0) {
		struct storage_file_hold h = {.cid = job->cid,
		                              .id = job->id,
		                              .need = job->need,
		                              .want = job->want,
		                              .quota_bytes = job->quota_bytes,
		                              .quota_mb = job->quota_mb,
		                              .now = (int64_t)time(NULL)};
		job->now = h.now;
		if (storage_file_hold_set(job->node->storage, &h, &job->held_bytes, &err) < 0) {
			job->refused = true;
			refuse_storage(&job->refusal, &err);
			goto done;
		}
		job->held = true;
	}
	if (job->open &&
	    filestore_temp_create(loc.filestore_root, job->cid, &job->temp, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)job->cid, error);
		refuse(&job->refusal, 507, "FIL-0507", "the file store cannot take the upload");
		job->refused = true;
	}
done:
	if (atomic_exchange(&job->state, JOB_DONE) == JOB_DETACHED)
		hold_abandon(job);
	else
		ioloop_post(job->loop, hold_done, job);
}

/* Sends the upload's hold to a worker (open: the first, else between need and want). -1 when
   the pool is shutting down. */
static int start_hold(struct upload *up, bool open, int64_t need, int64_t want)
{
	struct hold_job *job = mem_calloc(1, sizeof(*job));
	atomic_init(&job->state, JOB_RUNNING);
	job->up = up;
	job->node = up->node;
	job->loop = http_request_loop(up->req);
	job->cid = up->user.cid;
	memcpy(job->id, up->hold_id, sizeof(job->id));
	job->open = open;
	job->announced = up->announced;
	job->quota_bytes = up->quota_bytes;
	job->quota_mb = up->quota_mb;
	job->need = need;
	job->want = want;
	if (worker_pool_submit(up->node->workers, hold_run, job) < 0) {
		mem_free(&job);
		return -1;
	}
	up->job = job;
	return 0;
}

/* The request is over (answered, or its connection gone): loop thread. */
static void upload_cleanup(void *ctx)
{
	struct upload *up = ctx;
	mem_free(&up->stash);
	filestore_temp_destroy(&up->temp);
	if (up->job != NULL) {
		/* the job's other side drops the hold and what the job made */
		atomic_exchange(&up->job->state, JOB_DETACHED);
		up->job = NULL;
	} else if (up->holding) {
		/* an upload cut off (client gone, body timeout): its hold goes now, not at expiry
		 */
		struct hold_job *job = mem_calloc(1, sizeof(*job));
		job->node = up->node;
		job->cid = up->user.cid;
		job->quota_bytes = up->quota_bytes;
		memcpy(job->id, up->hold_id, sizeof(job->id));
		if (worker_pool_submit(up->node->workers, hold_abandon, job) < 0)
			mem_free(&job);
	}
}

static int upload_sink(void *ctx, const char *data, size_t len)
{
	struct upload *up = ctx;
	if (len == 0)
		return 0;
	if (up->quota_bytes == 0) {
		write_body(up, data, len);
		return up->write_error != 0 ? -1 : 0;
	}
	/* what the hold covers goes to disk now, the rest once it has grown */
	int64_t size = (int64_t)filestore_temp_size(up->temp);
	int64_t room = up->held > size ? up->held - size : 0;
	size_t fits = (uint64_t)room < len ? (size_t)room : len;
	if (fits > 0)
		write_body(up, data, fits);
	if (up->write_error != 0)
		return -1;
	if (fits == len && (int64_t)time(NULL) - up->held_at < STORAGE_FILE_HOLD_REFRESH_S)
		return 0;
	size_t rest = len - fits;
	if (rest > up->stash_cap) {
		up->stash = mem_realloc(up->stash, rest);
		up->stash_cap = rest;
	}
	if (rest > 0)
		memcpy(up->stash, data + fits, rest);
	up->stash_len = rest;
	int64_t need = size + (int64_t)len, want = hold_target(need, up->announced);
	if (start_hold(up, false, need, want > up->held ? want : up->held) < 0) {
		refuse(&up->refusal, 503, "FIL-0503", "the server is shutting down");
		up->refused = true;
		return -1;
	}
	http_request_pause_body(up->req);
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

/* Loop thread, before the body: authenticate and check what needs no SQL; then hold the body
   (no 100 Continue either) until a worker has found the context, held quota for the first
   bytes (an announced length must fit whole) and made the temp file. */
static void files_put_head(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct pool *pool = http_request_pool(req);
	struct upload *up = pool_calloc(pool, 1, sizeof(*up));

	if (!api_auth(node, req, &up->user) || !upload_params(req, up))
		return;
	up->node = node;
	up->req = req;
	random_hex(up->hold_id, 16);
	const struct http_request_head *head = http_request_head(req);
	up->announced = head->body_kind == HTTP_BODY_CHUNKED ? -1 : (int64_t)head->content_length;
	pool_add_cleanup(pool, upload_cleanup, up);
	http_request_set_context(req, up);
	if (head->body_kind == HTTP_BODY_NONE)
		return; /* an empty file: files_put does it all */
	if (start_hold(up, true, 0, 0) < 0) {
		api_error(req, 503, "FIL-0503", "the server is shutting down");
		return;
	}
	http_request_set_body_sink(req, upload_sink, up);
	http_request_pause_body(req);
}

/* Everything after the body: folder checks, publish (fsync + rename), then the rows. Returns
   the stored file's JSON, or NULL with the refusal. */
static json_t *store_upload(struct node *node, struct upload *up, int *status_r,
                            struct refusal *why)
{
	struct folder_perm perm;
	struct storage_error err;
	const char *error;

	if (up->refused) {
		*why = up->refusal;
		return NULL;
	}
	if (up->write_error != 0) {
		log_error("files", "cid=%lld: writing an upload failed: %s",
		          (long long)up->user.cid, strerror(up->write_error));
		refuse(why, 507, "FIL-0507", "the file store cannot take the upload");
		return NULL;
	}
	struct storage_user *su = storage_user_create(node->storage, http_request_pool(up->req),
	                                              up->user.cid, up->user.uid);
	const struct storage_context *loc = storage_user_context(su, &err);
	if (loc == NULL) {
		refuse_storage(why, &err);
		return NULL;
	}
	if (up->temp == NULL &&
	    filestore_temp_create(loc->filestore_root, up->user.cid, &up->temp, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)up->user.cid, error);
		refuse(why, 507, "FIL-0507", "the file store cannot take the upload");
		return NULL;
	}
	if (storage_file_upload_check(su, up->folder, &perm, &err) < 0) {
		refuse_storage(why, &err);
		return NULL;
	}
	struct storage_file_upload su_up = {
	    .folder = up->folder,
	    .name = up->name,
	    .content_type = up->content_type,
	    .hold = up->holding ? up->hold_id : NULL,
	    .perm = &perm,
	    .temp = up->temp,
	};
	if (storage_file_upload_publish(su, &su_up, &err) < 0) {
		refuse_storage(why, &err);
		return NULL;
	}
	up->holding = false; /* the commit dropped it */
	*status_r = su_up.created ? 201 : 200;
	return infostore_file_json(&su_up.file);
}

/* Worker, after the body (or once a hold was refused). The temp file is closed (and unlinked
   unless published) and the hold dropped before the answer goes out: whoever reads the answer
   finds the store and the quota as they will stay. */
static void files_put(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct upload *up = http_request_get_context(req);
	struct refusal why;
	int status = 0;

	if (up == NULL) {
		api_error(req, 500, "FIL-0500", "upload was not prepared");
		return;
	}
	json_t *file = store_upload(node, up, &status, &why);
	filestore_temp_destroy(&up->temp);
	if (up->holding && release_hold(node, up->user.cid, up->hold_id))
		up->holding = false;
	if (file == NULL)
		send_refusal(req, &why);
	else
		http_response_json(req, status, file);
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
	struct infostore_file file;
	struct infostore_version v;
	struct storage_error err;
	int64_t version;
	int fd = -1;

	int r = api_query_id(req, "version", &version);
	if (r < 0)
		return;
	if (storage_file_open(su, id, r > 0 ? version : 0, &file, &v, &fd, &err) < 0) {
		storage_failed(req, &err);
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

const struct http_route api_file_routes[] = {
    {"PUT", "/api/v1/files", files_put, 0, files_put_head},
    {"GET", "/api/v1/files", files_list, 0, NULL},
    {"GET", "/api/v1/files/{id:id}", files_get, 0, NULL},
    {"DELETE", "/api/v1/files/{id:id}", files_delete, 0, NULL},
    {"GET", "/api/v1/files/{id:id}/content", files_get_content, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
