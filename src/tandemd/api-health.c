/* SPDX-License-Identifier: MIT */
/* GET /health: readiness for balancers and operators. */
#include "http-server.h"
#include "node.h"
#include "routes.h"

#include "clock.h"

void api_health_get(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	enum node_state state = atomic_load(&node->state);
	bool ready = state == NODE_READY;
	struct buf *body = http_response_body(req);

	/* Balancers poll this often and it runs on the loop thread: build it directly, no JSON
	   library, no locks. */
	buf_append_str(body, "{\"status\":\"");
	buf_append_str(body, node_state_name(state));
	buf_append_str(body, "\",\"route\":\"");
	buf_append_json_escaped(body, strv_from_cstr(node->cfg.route));
	buf_append_str(body, "\",\"version\":\"" TANDEM_VERSION "\"");
	if (!ready) {
		buf_append_str(body, ",\"reason\":\"");
		buf_append_str(body, node_state_name(state));
		buf_append_str(body, "\"");
	}
	buf_append_str(body, "}\n");
	http_response_status(req, ready ? 200 : 503);
	http_response_header(req, "Content-Type", "application/json; charset=utf-8");
	http_response_header(req, "Cache-Control", "no-store");
	http_response_send(req);
}
