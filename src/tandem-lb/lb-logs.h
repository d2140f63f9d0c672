/* SPDX-License-Identifier: MIT */
/* tandem-lb's access log ([log] access): one line per proxied request, naming the member. */
#ifndef TANDEM_LB_LOGS_H
#define TANDEM_LB_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "http-server.h"

struct lb_cidr;
struct lb_logs;
struct log_syslog;

/* Opens the access log: the file path, or (path NULL) the syslog sender, which the caller
   keeps running longer. Clients behind trusted (copied) are logged by the address they
   forwarded. Returns 0, or -1 with a static *error_r. */
int lb_logs_open(const char *path, struct log_syslog *syslog, const struct lb_cidr *trusted,
                 size_t trusted_count, struct lb_logs **logs_r, const char **error_r);
/* The HTTP server's on_access (ctx: the lb_logs). */
void lb_logs_access(struct http_request *req, const struct http_access_entry *entry, void *ctx);
/* SIGHUP. NULL-safe. Returns 0, or -1 with a static *error_r. */
int lb_logs_reopen(struct lb_logs *logs, const char **error_r);
/* Lines the file writer dropped (its buffer was full). NULL-safe. */
uint64_t lb_logs_dropped(const struct lb_logs *logs);
/* After the HTTP server is gone. NULL-safe. */
void lb_logs_close(struct lb_logs **logs);

#endif
