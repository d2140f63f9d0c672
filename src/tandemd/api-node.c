/* SPDX-License-Identifier: MIT */
/* /admin/v1/node and /admin/v1/drain: this node's lifecycle for operators (master admin only). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "api-common.h"
#include "clock.h"
#include "http-forwarded.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "routes.h"

static void node_status(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	if (!api_master_only(node, req, "manages nodes"))
		return;
	struct http_server_stats st;
	char started[32];
	uint64_t now = clock_wall_ms();
	enum node_state state = atomic_load(&node->state);

	http_server_get_stats(node->http, &st);
	clock_format_rfc3339(node->start_wall_ms, started, sizeof(started));
	json_t *v = json_object();
	json_object_set_new(v, "name", json_string(node->cfg.name));
	json_object_set_new(v, "route", json_string(node->cfg.route));
	json_object_set_new(v, "cluster", json_string(node->cfg.cluster_name));
	json_object_set_new(v, "state", json_string(node_state_name(state)));
	json_object_set_new(v, "version", json_string(TANDEM_VERSION));
	json_object_set_new(v, "started", json_string(started));
	uint64_t up = now > node->start_wall_ms ? now - node->start_wall_ms : 0;
	json_object_set_new(v, "uptime_ms", json_integer((json_int_t)up));
	/* this call's own connection included */
	json_object_set_new(v, "connections_open", json_integer((json_int_t)st.connections_open));
	json_object_set_new(v, "requests", json_integer((json_int_t)st.requests));
	json_object_set_new(v, "drain_grace_ms",
	                    json_integer((json_int_t)node->cfg.drain_grace_ms));
	json_object_set_new(v, "drain_timeout_ms",
	                    json_integer((json_int_t)node->cfg.drain_timeout_ms));
	uint64_t drain_ms = atomic_load(&node->drain_wall_ms);
	if (state == NODE_DRAINING && drain_ms != 0) {
		char since[32];
		clock_format_rfc3339(drain_ms, since, sizeof(since));
		json_object_set_new(v, "draining_since", json_string(since));
	}
	http_response_json(req, 200, v);
}

static void drain(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	if (!api_master_only(node, req, "manages nodes"))
		return;
	/* The main thread runs the drain, exactly as for an operator's SIGTERM: it sits in
	   sigwaitinfo() with the signal blocked in every thread, so a process-directed SIGTERM is
	   the one wake-up it already waits for, and there is no second path to keep in step. Only
	   the call that flips the state sends it: a repeated call (or one racing an operator's
	   SIGTERM) must not look like the operator's second signal, which cuts the grace short;
	   main.c also ignores our own SIGTERM during the grace for that reason. */
	struct http_client_ip from;
	http_request_client_ip(req, node->cfg.trusted_proxies, node->cfg.trusted_proxy_count,
	                       &from);
	log_info("node", "drain asked for through the admin API by %s", from.text);
	if (node_drain_begin(node)) {
		if (kill(getpid(), SIGTERM) < 0)
			log_error("node", "waking the main thread: kill: %s", strerror(errno));
	}
	json_t *v = json_object();
	json_object_set_new(v, "route", json_string(node->cfg.route));
	json_object_set_new(v, "state", json_string(node_state_name(NODE_DRAINING)));
	json_object_set_new(v, "grace_ms", json_integer((json_int_t)node->cfg.drain_grace_ms));
	json_object_set_new(v, "timeout_ms", json_integer((json_int_t)node->cfg.drain_timeout_ms));
	http_response_json(req, 202, v);
}

const struct http_route api_node_routes[] = {
    {"GET", "/admin/v1/node", node_status, 0, NULL},
    {"POST", "/admin/v1/drain", drain, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
