/* SPDX-License-Identifier: MIT */
/* tandemd's access log ([log] access): one line per request, written off the loop threads. */
#ifndef TANDEMD_NODE_LOGS_H
#define TANDEMD_NODE_LOGS_H

#include "http-server.h"

struct node;

/* Opens [log] access when it names a file. Returns 0, or -1 with a static *error_r. */
int node_logs_init(struct node *node, const char **error_r);
/* The HTTP server's on_access (ctx: the node); a no-op while the access log is off. */
void node_logs_access(struct http_request *req, const struct http_access_entry *entry, void *ctx);
/* SIGHUP: reopens the access log file. Returns 0, or -1 with a static *error_r. */
int node_logs_reopen(struct node *node, const char **error_r);
/* After the HTTP server is gone: writes what is queued and closes the file. */
void node_logs_deinit(struct node *node);

#endif
