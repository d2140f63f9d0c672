/* SPDX-License-Identifier: MIT */
/* Streamed uploads into the filestore with quota holds, versions and the object limit, shared
   by PUT /api/v1/files (api-files.c) and WebDAV's PUT (api-dav-put.c). */
#include "file-upload.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "filestore.h"
#include "folder.h"
#include "http-server.h"
#include "ioloop.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "pool.h"
#include "random.h"
#include "worker-pool.h"

#define MIB (INT64_C(1024) * 1024)
/* A hold grows by a quarter of what the upload has so far, within these bounds: few
   transactions for a large upload, little held beyond the bytes of a small one. */
#define HOLD_STEP_MIN MIB
#define HOLD_STEP_MAX (64 * MIB)

void file_refusal_set(struct file_refusal *r, int status, const char *code, const char *fmt, ...)
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

void file_refusal_storage(struct file_refusal *r, const struct storage_error *err)
{
	const char *what = err->what != NULL ? err->what : "upload";
	const char *code;
	switch (err->status) {
	case STORAGE_NO_CONTEXT:
		file_refusal_set(r, 404, "API-0404", "%s", err->message);
		return;
	case STORAGE_DOWN:
		file_refusal_set(r, 503, "API-0503", "%s", err->message);
		return;
	case STORAGE_READ_ONLY:
		file_refusal_set(r, 503, API_CODE_READ_ONLY, "%s refused: %s", what, err->message);
		return;
	case STORAGE_REFUSED: {
		int status = refusal_status(err->refusal, &code);
		file_refusal_set(r, status, code, "%s", err->message);
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
	file_refusal_set(r, unavailable ? 503 : 500, unavailable ? "FIL-0503" : "FIL-0500",
	                 "%s failed: the database is %s", what,
	                 unavailable ? "unavailable" : "in error");
}

/* --------------------------------------------------------------- upload */

/* An upload lives in its request's pool. Its body goes to a temp file as it arrives; with a
   quota, only as far as the upload's hold on the quota reaches (docs/internals/filestore.md
   "Quota holds"): bytes beyond it wait in the stash, the body is held, and a worker grows the
   hold. Fields are the loop thread's, except that file_upload_store (on a worker, once the body
   is over) owns the upload until it returns. */
struct hold_job;

struct file_upload {
	struct node *node;
	struct http_request *req;
	struct api_user user;
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
	struct file_refusal refusal;
};

/* One trip to a worker for an upload's hold. The worker has its own copy of what it needs;
   the loop thread takes the outcome over in hold_done(). The upload may end meanwhile (its
   connection closes): whichever side comes second then cleans up (hold_abandon), so no
   memory, temp file or hold outlives it. */
enum job_state { JOB_RUNNING, JOB_DONE, JOB_DETACHED };

struct hold_job {
	_Atomic int state;
	struct file_upload *up; /* loop thread only */
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
	struct file_refusal refusal;
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

static void write_body(struct file_upload *up, const char *data, size_t len)
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
	struct file_upload *up = job->up;
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
			file_refusal_storage(&job->refusal, &err);
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
			file_refusal_storage(&job->refusal, &err);
			goto done;
		}
		job->held = true;
	}
	if (job->open &&
	    filestore_temp_create(loc.filestore_root, job->cid, &job->temp, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)job->cid, error);
		file_refusal_set(&job->refusal, 507, "FIL-0507",
		                 "the file store cannot take the upload");
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
static int start_hold(struct file_upload *up, bool open, int64_t need, int64_t want)
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
	struct file_upload *up = ctx;
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
	struct file_upload *up = ctx;
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
		file_refusal_set(&up->refusal, 503, "FIL-0503", "the server is shutting down");
		up->refused = true;
		return -1;
	}
	http_request_pause_body(up->req);
	return 0;
}

/* Everything after the body: folder checks, publish (fsync + rename), then the rows. 0, or -1
   with the refusal. buffered: the body when it was not streamed. */
static int store_upload(struct node *node, struct file_upload *up, struct strv buffered,
                        const struct file_upload_dest *dest, struct storage_file_upload *result,
                        struct file_refusal *why)
{
	struct folder_perm perm;
	struct storage_error err;
	const char *error;

	if (up->refused) {
		*why = up->refusal;
		return -1;
	}
	if (up->write_error != 0)
		goto write_failed;
	struct storage_user *su = storage_user_create(node->storage, http_request_pool(up->req),
	                                              up->user.cid, up->user.uid);
	const struct storage_context *loc = storage_user_context(su, &err);
	if (loc == NULL) {
		file_refusal_storage(why, &err);
		return -1;
	}
	if (up->temp == NULL &&
	    filestore_temp_create(loc->filestore_root, up->user.cid, &up->temp, &error) < 0) {
		log_error("files", "cid=%lld: %s", (long long)up->user.cid, error);
		file_refusal_set(why, 507, "FIL-0507", "the file store cannot take the upload");
		return -1;
	}
	if (buffered.len > 0)
		write_body(up, buffered.ptr, buffered.len);
	if (up->write_error != 0)
		goto write_failed;
	if (storage_file_upload_check(su, dest->folder, &perm, &err) < 0) {
		file_refusal_storage(why, &err);
		return -1;
	}
	*result = (struct storage_file_upload){
	    .folder = dest->folder,
	    .name = dest->name,
	    .content_type = dest->content_type,
	    .hold = up->holding ? up->hold_id : NULL,
	    .perm = &perm,
	    .temp = up->temp,
	};
	if (storage_file_upload_publish(su, result, &err) < 0) {
		file_refusal_storage(why, &err);
		return -1;
	}
	up->holding = false; /* the commit dropped it */
	return 0;
write_failed:
	log_error("files", "cid=%lld: writing an upload failed: %s", (long long)up->user.cid,
	          strerror(up->write_error));
	file_refusal_set(why, 507, "FIL-0507", "the file store cannot take the upload");
	return -1;
}

struct file_upload *file_upload_start(struct node *node, struct http_request *req,
                                      const struct api_user *user)
{
	struct pool *pool = http_request_pool(req);
	struct file_upload *up = pool_calloc(pool, 1, sizeof(*up));
	up->user = *user;
	up->node = node;
	up->req = req;
	random_hex(up->hold_id, 16);
	const struct http_request_head *head = http_request_head(req);
	up->announced = head->body_kind == HTTP_BODY_CHUNKED ? -1 : (int64_t)head->content_length;
	pool_add_cleanup(pool, upload_cleanup, up);
	if (head->body_kind == HTTP_BODY_NONE)
		return up; /* an empty file: file_upload_store does it all */
	if (start_hold(up, true, 0, 0) < 0) {
		api_error(req, 503, "FIL-0503", "the server is shutting down");
		return NULL;
	}
	http_request_set_body_sink(req, upload_sink, up);
	http_request_pause_body(req);
	return up;
}

int file_upload_store(struct node *node, struct http_request *req, struct file_upload *up,
                      const struct api_user *user, struct strv buffered,
                      const struct file_upload_dest *dest, struct storage_file_upload *result_r,
                      struct file_refusal *why)
{
	if (up == NULL) {
		up = pool_calloc(http_request_pool(req), 1, sizeof(*up));
		up->node = node;
		up->req = req;
		up->user = *user;
	}
	int ret = store_upload(node, up, buffered, dest, result_r, why);
	filestore_temp_destroy(&up->temp);
	if (up->holding && release_hold(node, up->user.cid, up->hold_id))
		up->holding = false;
	return ret;
}
