/* SPDX-License-Identifier: MIT */
/* JSON answers: one way every daemon serialises a JSON response body. */
#ifndef TANDEM_HTTP_JSON_H
#define TANDEM_HTTP_JSON_H

#include <jansson.h>

struct http_request;

/* Sends value (reference taken) with status: compact JSON and a newline, Content-Type
   application/json; charset=utf-8. (Errors in the house shape: http_response_error().) */
void http_response_json(struct http_request *req, int status, json_t *value);

#endif
