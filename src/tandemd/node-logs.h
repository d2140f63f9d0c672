/* SPDX-License-Identifier: MIT */
/* tandemd's access log ([log] access) and remote syslog ([log] syslog): set up and torn down
   with the node. */
#ifndef TANDEMD_NODE_LOGS_H
#define TANDEMD_NODE_LOGS_H

struct node;

/* Starts the syslog sender (and sends every log line there too) when [log] syslog is set,
   and opens the access log (node->access_log, for the HTTP server's on_access) unless it is
   off. Returns 0, or -1 with a static *error_r. */
int node_logs_init(struct node *node, const char **error_r);
/* SIGHUP: reopens the access log file. Returns 0, or -1 with a static *error_r. */
int node_logs_reopen(struct node *node, const char **error_r);
/* After the HTTP server is gone: writes what is queued and closes the file. */
void node_logs_deinit(struct node *node);

#endif
