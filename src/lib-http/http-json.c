/* SPDX-License-Identifier: MIT */
/* Serialised straight into the response body: no intermediate copy of a large listing. */
#include "http-json.h"

#include "buf.h"
#include "http-server.h"

static int append(const char *text, size_t len, void *ctx)
{
	buf_append(ctx, text, len);
	return 0;
}

void http_response_json(struct http_request *req, int status, json_t *value)
{
	struct buf *body = http_response_body(req);
	json_dump_callback(value, append, body, JSON_COMPACT);
	json_decref(value);
	buf_append_char(body, '\n');
	http_response_status(req, status);
	http_response_header(req, "Content-Type", "application/json; charset=utf-8");
	http_response_send(req);
}
