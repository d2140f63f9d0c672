/* SPDX-License-Identifier: MIT */
/* The request side of the application API (http-server.h): the head, the body and its flow
   control, the request's pool and context. */
#include <assert.h>
#include <string.h>

#include "http-router.h"
#include "http-server-private.h"
#include "ioloop.h"
#include "pool.h"

const struct http_request_head *http_request_head(const struct http_request *req)
{
	return &req->head;
}

void http_request_drop_path_params(struct http_request *req)
{
	struct strv *path = &req->head.path;
	for (size_t i = path->len; i > 0 && path->ptr[i - 1] != '/'; i--) {
		if (path->ptr[i - 1] == ';')
			path->len = i - 1;
	}
	req->router = NULL; /* a route found for the longer path is not this path's */
}

struct strv http_request_header(const struct http_request *req, const char *name)
{
	return http_request_head_header(&req->head, name);
}

struct pool *http_request_pool(struct http_request *req)
{
	if (req->pool == NULL)
		req->pool = pool_create(4096);
	return req->pool;
}

const char *http_request_id(const struct http_request *req)
{
	return req->id;
}

const char *http_request_peer(const struct http_request *req)
{
	return req->conn->peer;
}

const char *http_request_peer_ip(const struct http_request *req)
{
	return req->conn->peer_ip;
}

bool http_request_is_tls(const struct http_request *req)
{
	return req->conn->tls != NULL || req->forwarded_tls;
}

struct ioloop *http_request_loop(struct http_request *req)
{
	return req->conn->lt->loop;
}

void http_request_set_body_sink(struct http_request *req, http_body_sink_fn *sink, void *ctx)
{
	req->sink = sink;
	req->sink_ctx = ctx;
}

void http_request_set_context(struct http_request *req, void *ctx)
{
	req->app_ctx = ctx;
}

void *http_request_get_context(const struct http_request *req)
{
	return req->app_ctx;
}

void http_request_set_user(struct http_request *req, const char *user)
{
	req->user = user == NULL ? NULL : pool_strdup(http_request_pool(req), user);
}

const char *http_request_user(const struct http_request *req)
{
	return req->user;
}

void http_request_set_log_route(struct http_request *req, const char *route)
{
	req->log_route = route == NULL ? NULL : pool_strdup(http_request_pool(req), route);
}

const char *http_request_log_route(const struct http_request *req)
{
	return req->log_route;
}

struct strv http_request_body(const struct http_request *req)
{
	return buf_strv(&req->body);
}

uint64_t http_request_body_size(const struct http_request *req)
{
	return req->body_received;
}

void http_request_pause_body(struct http_request *req)
{
	assert(http_server__current_lt == req->conn->lt);
	req->body_held = true;
}

void http_request_resume_body(struct http_request *req)
{
	struct conn *c = req->conn;
	assert(http_server__current_lt == c->lt);
	if (!req->body_paused && !req->body_held)
		return;
	req->body_paused = req->body_held = false;
	if (c->state != CS_BODY)
		return;
	if (req->continue_pending) {
		req->continue_pending = false;
		http_conn__send_continue(c);
	}
	http_conn__set_deadline(c, c->lt->server->set.limits.body_timeout_ms);
	c->rate_mark_ms = ioloop_now_ms(c->lt->loop);
	c->rate_mark_bytes = req->body_received;
	if (!c->in_callback)
		http_conn__run(c);
}

void http_request_stop_body(struct http_request *req)
{
	struct conn *c = req->conn;
	assert(http_server__current_lt == c->lt);
	req->sink_failed = true;
	req->body_paused = req->body_held = req->continue_pending = false;
	if (c->state == CS_BODY && !c->in_callback)
		http_conn__run(c);
}

void http_request_set_abort_handler(struct http_request *req, http_abort_fn *fn, void *ctx)
{
	req->abort_fn = fn;
	req->abort_ctx = ctx;
}

const struct http_route *http_request_route(const struct http_request *req)
{
	return req->route;
}

static const struct http_route_param *find_param(const struct http_request *req, const char *name)
{
	for (unsigned i = 0; i < req->param_count; i++) {
		if (strcmp(req->params[i].name, name) == 0)
			return &req->params[i];
	}
	return NULL;
}

const char *http_request_param(const struct http_request *req, const char *name)
{
	const struct http_route_param *param = find_param(req, name);
	return param != NULL ? param->value.ptr : NULL;
}

int64_t http_request_param_id(const struct http_request *req, const char *name)
{
	const struct http_route_param *param = find_param(req, name);
	assert(param != NULL && param->id > 0); /* the route's pattern has no {name:id} */
	return param->id;
}
