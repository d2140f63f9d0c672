/* SPDX-License-Identifier: MIT */
/* GET /health: readiness for balancers and operators. */
#include "http-server.h"
#include "node.h"
#include "routes.h"

#include "clock.h"
#include "configdb-probe.h"

void api_health_get(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	enum node_state state = atomic_load(&node->state);
	const char *db_reason = NULL;
	bool db_ok = configdb_probe_ok(node->probe, &db_reason);
	bool ready = state == NODE_READY && db_ok;
	struct buf *body = http_response_body(req);

	/* Balancers poll this often and it runs on the loop thread: build it directly, no JSON
	   library, and never SQL (the probe's thread ran that). */
	buf_append_str(body, "{\"status\":\"");
	/* draining wins over a configdb that is down: balancers look for it */
	buf_append_str(body, state != NODE_READY || db_ok ? node_state_name(state) : "unavailable");
	buf_append_str(body, "\",\"route\":\"");
	buf_append_json_escaped(body, strv_from_cstr(node->cfg.route));
	buf_append_str(body, "\",\"version\":\"" TANDEM_VERSION "\"");
	if (!ready) {
		buf_append_str(body, ",\"reason\":\"");
		buf_append_str(body, state != NODE_READY ? node_state_name(state) : db_reason);
		buf_append_str(body, "\"");
	}
	buf_append_str(body, "}\n");
	http_response_status(req, ready ? 200 : 503);
	http_response_header(req, "Content-Type", "application/json; charset=utf-8");
	http_response_header(req, "Cache-Control", "no-store");
	http_response_send(req);
}
