/* SPDX-License-Identifier: MIT */
/* PUT on /dav/ (RFC 4918 §9.7): an upload as the JSON API makes it (file-upload.h: streamed
   to disk under a quota hold, versions, the object limit), into the folder the URL names. */
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "api-dav.h"
#include "api-session.h"
#include "buf.h"
#include "dav-auth.h"
#include "file-upload.h"
#include "http-server.h"
#include "ioloop.h"
#include "mem.h"
#include "node-access.h"
#include "node.h"
#include "pool.h"
#include "worker-pool.h"

/* A PUT whose sender the loop does not know yet (credentials or module access not cached):
   its body is held, not a byte read and a 100 Continue not sent, while a worker checks the
   password and the webdav module (docs/internals/dav.md "Bodies"). Shared by the loop and the
   worker: whoever sees the other side gone frees it. */
enum gate_state {
	GATE_RUNNING,  /* the worker checks */
	GATE_POSTED,   /* checked, gate_done() is on its way to the loop */
	GATE_CLOSED,   /* the loop acted on it; the request's cleanup frees it */
	GATE_DETACHED, /* the request ended first */
};

struct put_gate {
	atomic_int state;
	struct node *node;
	struct ioloop *loop;
	struct http_request *req; /* loop side only */
	struct dav_body *body;    /* loop side only */
	struct dav_auth_input in;
	bool ok;
	struct api_user user;
	struct api_refusal why;
};

static void gate_free(struct put_gate *g)
{
	sodium_memzero(&g->in, sizeof(g->in));
	mem_free(&g);
}

/* The request is over (loop thread). */
static void gate_cleanup(void *ctx)
{
	struct put_gate *g = ctx;
	int prev = atomic_exchange(&g->state, GATE_DETACHED);
	if (prev == GATE_CLOSED)
		gate_free(g); /* else the worker or gate_done() still has it */
}

/* The body is held: nothing reaches a sink until file_upload_start() sets its own. */
static int held_sink(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return -1;
}

static void gate_done(void *ctx)
{
	struct put_gate *g = ctx;
	if (atomic_load(&g->state) == GATE_DETACHED) {
		gate_free(g);
		return;
	}
	atomic_store(&g->state, GATE_CLOSED);
	struct http_request *req = g->req;
	if (!g->ok) {
		/* goes out at once; the held body is never read */
		api_refusal_send(req, &g->why, DAV_AUTH_CHALLENGE);
		return;
	}
	g->body->user = g->user;
	g->body->authed = true;
	dav_auth_log_user(req, &g->user);
	/* streams from here on; its first hold resumes the body (last: it may run the request) */
	g->body->up = file_upload_start(g->node, req, &g->user);
}

/* Worker: the password (unless cached), then the module. */
static void gate_run(void *ctx)
{
	struct put_gate *g = ctx;
	g->ok = dav_auth_verify(g->node, &g->in, &g->user, &g->why);
	sodium_memzero(&g->in, sizeof(g->in));
	uint32_t modules;
	const char *error;
	if (g->ok && node_access_user_modules(g->node, &g->user, true, &modules, &error) < 0) {
		api_refusal_set(&g->why, 503, "API-0503", "%s", error);
		g->ok = false;
	} else if (g->ok && !access_allows(modules, MODULE_WEBDAV)) {
		api_module_refusal(&g->why, g->user.login, MODULE_WEBDAV);
		g->ok = false;
	}
	int expected = GATE_RUNNING;
	if (atomic_compare_exchange_strong(&g->state, &expected, GATE_POSTED))
		ioloop_post(g->loop, gate_done, g);
	else
		gate_free(g);
}

bool dav_put_head(struct node *node, struct http_request *req, struct dav_body *body)
{
	struct api_user user;
	uint32_t modules;
	const char *error;
	if (dav_auth_cached(node, req, &user) &&
	    node_access_user_modules(node, &user, false, &modules, &error) > 0) {
		/* ACC-0403 before a byte of the body is read */
		if (!access_allows(modules, MODULE_WEBDAV)) {
			api_module_refuse(req, user.login, MODULE_WEBDAV);
			return true;
		}
		body->user = user;
		body->authed = true;
		body->up = file_upload_start(node, req, &user);
		return body->up != NULL;
	}
	if (http_request_head(req)->body_kind == HTTP_BODY_NONE)
		return false; /* nothing to hold: dav() checks it all */
	struct put_gate *g = mem_calloc(1, sizeof(*g));
	atomic_init(&g->state, GATE_RUNNING);
	g->node = node;
	g->loop = http_request_loop(req);
	g->req = req;
	g->body = body;
	dav_auth_input(node, req, &g->in);
	if (worker_pool_submit(node->workers, gate_run, g) < 0) {
		gate_free(g);
		api_error(req, 503, "DAV-0503", "the server is shutting down");
		return true;
	}
	pool_add_cleanup(http_request_pool(req), gate_cleanup, g);
	http_request_set_body_sink(req, held_sink, NULL);
	http_request_pause_body(req);
	return true;
}

void dav_put(struct dav_req *dr)
{
	struct http_request *req = dr->req;
	struct dav_body *put = dr->body;
	struct dav_res res;
	const char *problem;
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.kind != DAV_RES_NONE && res.kind != DAV_RES_FILE) {
		http_response_header(req, "Allow", DAV_ALLOW_COLLECTION);
		dav_fail(dr, 405, NULL, "DAV-0405", "%s is a collection", dr->path);
		return;
	}
	if (res.parent_missing || res.parent == 0) {
		dav_fail(dr, 409, NULL, "DAV-0409", "no folder to put %s into", dr->path);
		return;
	}
	if (!dav_check_conditions(dr, &res, false) || !dav_check_locks(dr, &res, false))
		return;
	if ((problem = infostore_check_name(res.name, strlen(res.name))) != NULL) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", problem);
		return;
	}
	struct file_upload_dest dest = {.folder = res.parent, .name = res.name};
	struct strv type = strv_trim(http_request_header(req, "Content-Type"));
	if (type.ptr == NULL || type.len == 0) {
		dest.content_type = INFOSTORE_DEFAULT_TYPE;
	} else if ((problem = infostore_check_content_type(type)) != NULL) {
		dav_fail(dr, 400, NULL, "FIL-0400", "%s", problem);
		return;
	} else {
		dest.content_type = pool_strndup(dr->pool, type.ptr, type.len);
	}
	struct storage_file_upload result;
	struct file_refusal why;
	if (file_upload_store(dr->node, req, put->up, &dr->user, buf_strv(&put->buf), &dest,
	                      &result, &why) < 0) {
		/* RFC 4918 §9.7.1: a quota is Insufficient Storage, and so is the object limit */
		int status = why.status == 413 ? 507 : why.status == 404 ? 409 : why.status;
		dav_fail(dr, status, NULL, why.code, "%s", why.message);
		return;
	}
	dav_locks_mapped(dr, &res);
	/* the row the upload's transaction committed, not read back; no tag for a file the user
	   may not read ("read own" on someone else's) */
	char etag[STORAGE_DAV_ETAG_SIZE];
	storage_dav_etag(&result.file, etag);
	if (result.readable)
		http_response_header(req, "ETag", etag);
	http_response_status(req, result.created ? 201 : 204);
	http_response_send(req);
}
