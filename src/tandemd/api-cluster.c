/* SPDX-License-Identifier: MIT */
/* GET /admin/v1/cluster: members, sessions, stream and Redis as seen from this node, for
   `tandemctl clusterstats` (master admin only). */
#include <stdio.h>
#include <string.h>

#include "api-database.h"
#include "api-common.h"
#include "clock.h"
#include "http-json.h"
#include "http-server.h"
#include "inval-stream.h"
#include "log.h"
#include "membership.h"
#include "node.h"
#include "pool.h"
#include "redis.h"
#include "routes.h"
#include "session-store-redis.h"
#include "sessions.h"

#define MAX_MEMBERS 256
#define MAX_ROUTES  1024

/* What one pipelined round trip tells of the invalidation stream. */
struct stream_view {
	long long length;
	char first_id[48], last_id[48]; /* "" when the stream is empty or missing */
	char address[300];              /* the Redis server the pool talks to */
};

/* A string that came from Redis or the config: null rather than a missing member when it is
   not valid UTF-8. */
static json_t *str_or_null(const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;
	return v != NULL ? v : json_null();
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* The id of an XRANGE/XREVRANGE COUNT 1 reply's entry into out ("" when there is none). */
static void entry_id(const redisReply *r, char *out, size_t size)
{
	out[0] = '\0';
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		snprintf(out, size, "%.*s", (int)r->element[0]->element[0]->len,
		         r->element[0]->element[0]->str);
}

/* XLEN and the stream's oldest and newest entries in one round trip. */
static int read_stream(struct redis_pool *pool, const char *key, struct stream_view *v, char *err,
                       size_t err_size)
{
	static const char *const what[3] = {"XLEN", "XRANGE", "XREVRANGE"};
	redisReply *r[3] = {NULL, NULL, NULL};
	int ret = -1;

	memset(v, 0, sizeof(*v));
	struct redis_conn *conn = redis_pool_get(pool, err, err_size);
	if (conn == NULL)
		return -1;
	snprintf(v->address, sizeof(v->address), "%s", redis_conn_address(conn));
	redis_appendf(conn, "XLEN %s", key);
	redis_appendf(conn, "XRANGE %s - + COUNT 1", key);
	redis_appendf(conn, "XREVRANGE %s + - COUNT 1", key);
	for (int i = 0; i < 3; i++)
		r[i] = redis_get_reply(conn);
	for (int i = 0; i < 3; i++) {
		if (r[i] == NULL) {
			snprintf(err, err_size, "%s", redis_conn_error(conn));
			goto out;
		}
		if (r[i]->type == REDIS_REPLY_ERROR) {
			snprintf(err, err_size, "Redis %.100s: %s: %.120s", v->address, what[i],
			         r[i]->str);
			goto out;
		}
	}
	v->length = redis_reply_int(r[0], 0);
	entry_id(r[1], v->first_id, sizeof(v->first_id));
	entry_id(r[2], v->last_id, sizeof(v->last_id));
	ret = 0;
out:
	for (int i = 0; i < 3; i++) {
		if (r[i] != NULL)
			freeReplyObject(r[i]);
	}
	redis_pool_put(pool, &conn);
	return ret;
}

/* How far a member's reader is behind the stream head, in the ms of the entries' ids: 0 when
   it has applied the head (or the stream is empty), null when its position is unknown. */
static json_t *lag_of(const char *member_id, const char *head_id)
{
	static const struct stream_id zero = {0, 0};
	struct stream_id pos, head;
	if (head_id[0] == '\0' || stream_id_parse(head_id, strlen(head_id), &head) < 0)
		return json_integer(0);
	/* 0-0: the reader has not connected yet (or started on an empty stream and read nothing
	   since); a difference to the epoch would not mean anything */
	if (stream_id_parse(member_id, strlen(member_id), &pos) < 0 ||
	    stream_id_cmp(pos, zero) == 0)
		return json_null();
	if (stream_id_cmp(pos, head) >= 0)
		return json_integer(0);
	return u64(head.ms > pos.ms ? head.ms - pos.ms : 0);
}

static json_t *member_json(const struct member_info *m, const char *head_id, uint64_t now)
{
	char started[32];
	clock_format_rfc3339(m->started_ms, started, sizeof(started));
	json_t *v = json_object();
	json_object_set_new(v, "id", str_or_null(m->id));
	json_object_set_new(v, "route", str_or_null(m->route));
	json_object_set_new(v, "address", str_or_null(m->address));
	json_object_set_new(v, "version", str_or_null(m->version));
	json_object_set_new(v, "state", str_or_null(m->state));
	json_object_set_new(v, "started", json_string(started));
	json_object_set_new(v, "uptime_s",
	                    u64(now > m->started_ms ? (now - m->started_ms) / 1000 : 0));
	json_object_set_new(v, "load", u64(m->load));
	json_object_set_new(v, "sessions", u64(m->sessions));
	if (head_id == NULL) {
		/* memory store: no stream and no heartbeat */
		json_object_set_new(v, "stream_id", json_null());
		json_object_set_new(v, "lag_ms", json_null());
		json_object_set_new(v, "heartbeat_age_ms", json_null());
		return v;
	}
	json_object_set_new(v, "stream_id",
	                    m->stream_id[0] != '\0' ? str_or_null(m->stream_id) : json_null());
	json_object_set_new(v, "lag_ms", lag_of(m->stream_id, head_id));
	json_object_set_new(
	    v, "heartbeat_age_ms",
	    u64(m->heartbeat_ms != 0 && now > m->heartbeat_ms ? now - m->heartbeat_ms : 0));
	return v;
}

static json_t *base_reply(struct node *node, const char *store)
{
	json_t *v = json_object();
	json_t *self = json_object();
	json_object_set_new(v, "cluster", str_or_null(node->cfg.cluster_name));
	json_object_set_new(v, "store", str_or_null(store));
	json_object_set_new(self, "id", str_or_null(node->cluster.node_id));
	json_object_set_new(self, "route", str_or_null(node->cfg.route));
	json_object_set_new(v, "node", self);
	json_object_set_new(v, "databases", api_databases_json(node));
	return v;
}

/* The memory store: a cluster of one, described from this process's own values. */
static void memory_reply(struct node *node, struct http_request *req, uint64_t now)
{
	struct member_info m;
	struct http_server_stats hs;
	memset(&m, 0, sizeof(m));
	http_server_get_stats(node->http, &hs);
	const char *address = http_server_address(node->http, 0);
	snprintf(m.id, sizeof(m.id), "%s", node->cluster.node_id);
	snprintf(m.route, sizeof(m.route), "%s", node->cfg.route);
	snprintf(m.address, sizeof(m.address), "%s", address != NULL ? address : "");
	snprintf(m.version, sizeof(m.version), "%s", TANDEM_VERSION);
	snprintf(m.state, sizeof(m.state), "%s", node_state_name(atomic_load(&node->state)));
	m.started_ms = node->start_wall_ms;
	m.load = hs.connections_open;
	m.sessions = sessions_count(node->sessions);

	json_t *v = base_reply(node, "memory");
	json_t *members = json_array();
	json_array_append_new(members, member_json(&m, NULL, now));
	json_object_set_new(v, "members", members);
	json_t *sessions = json_object(), *by_route = json_object();
	json_object_set_new(sessions, "total", u64(m.sessions));
	json_object_set_new(by_route, node->cfg.route, u64(m.sessions));
	json_object_set_new(sessions, "by_route", by_route);
	json_object_set_new(v, "sessions", sessions);
	json_object_set_new(v, "stream", json_null());
	json_object_set_new(v, "redis", json_null());
	http_response_json(req, 200, v);
}

static void unavailable(struct http_request *req, const char *what, const char *why)
{
	log_warn("cluster", "clusterstats: %s: %s", what, why);
	char msg[400];
	snprintf(msg, sizeof(msg), "Redis unavailable %s: %s", what, why);
	http_response_error(req, 503, "CLU-0503", msg);
}

static void cluster_get(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	if (!api_master_only(node, req, "sees the cluster"))
		return;
	uint64_t now = clock_wall_ms();
	if (node->cluster.redis == NULL) {
		memory_reply(node, req, now);
		return;
	}
	struct pool *pool = http_request_pool(req);
	struct member_info *members = pool_calloc(pool, MAX_MEMBERS, sizeof(*members));
	struct session_route_count *routes = pool_calloc(pool, MAX_ROUTES, sizeof(*routes));
	struct stream_view sv;
	char err[256], store[600];
	uint64_t total;

	/* The head once, before the members: a member whose record was written after it never
	   shows a lag from entries appended meanwhile (a record is up to one heartbeat old, so
	   a lag shows until the member's next beat). Each step is one pool connection within
	   the pool's connect and command timeouts; the first failure answers. */
	if (read_stream(node->cluster.redis, node->cluster.stream_key, &sv, err, sizeof(err)) < 0) {
		unavailable(req, "reading the stream", err);
		return;
	}
	int n = membership_list(node->cluster.redis, node->cluster.cluster_prefix, members,
	                        MAX_MEMBERS, err, sizeof(err));
	if (n < 0) {
		unavailable(req, "listing the members", err[0] != '\0' ? err : "unexpected reply");
		return;
	}
	int nroutes = session_store_redis_count_all(
	    node->cluster.redis, node->cluster.cluster_prefix, now, routes, MAX_ROUTES, &total);
	if (nroutes < 0) {
		unavailable(req, "counting the sessions", session_store_error());
		return;
	}

	redis_url_redact(node->cfg.cluster_store, store, sizeof(store));
	json_t *v = base_reply(node, store);
	json_t *list = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(list, member_json(&members[i], sv.last_id, now));
	json_object_set_new(v, "members", list);

	json_t *sessions = json_object(), *by_route = json_object();
	json_object_set_new(sessions, "total", u64(total));
	for (int i = 0; i < nroutes; i++)
		json_object_set_new(by_route, routes[i].route, u64(routes[i].sessions));
	json_object_set_new(sessions, "by_route", by_route);
	json_object_set_new(v, "sessions", sessions);

	json_t *stream = json_object();
	json_object_set_new(stream, "key", str_or_null(node->cluster.stream_key));
	json_object_set_new(stream, "length", json_integer(sv.length));
	json_object_set_new(stream, "last_id",
	                    sv.last_id[0] != '\0' ? json_string(sv.last_id) : json_null());
	json_object_set_new(stream, "first_id",
	                    sv.first_id[0] != '\0' ? json_string(sv.first_id) : json_null());
	json_object_set_new(v, "stream", stream);

	/* Set once at start-up, after the listeners: a call in between sees no record yet. */
	struct membership *ms = node->cluster.membership;
	int replicas = ms != NULL ? membership_redis_replicas(ms) : -1;
	json_t *redis = json_object();
	json_object_set_new(redis, "address", str_or_null(sv.address));
	json_object_set_new(redis, "replicas",
	                    replicas >= 0 ? json_integer(replicas) : json_null());
	json_object_set_new(redis, "backup_count", json_integer(node->cfg.backup_count));
	json_object_set_new(redis, "async_backup_count",
	                    json_integer(node->cfg.async_backup_count));
	json_object_set_new(v, "redis", redis);
	http_response_json(req, 200, v);
}

const struct http_route api_cluster_routes[] = {
    {"GET", "/admin/v1/cluster", cluster_get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
