/* SPDX-License-Identifier: MIT */
/* tandem-lb's access log ([log] access): one line per proxied request, naming the member. */
#ifndef TANDEM_LB_LOGS_H
#define TANDEM_LB_LOGS_H

struct http_access_log;
struct lb_config;
struct log_syslog;

/* Opens lc's access log (a file, or syslog through the running sender) with lc's
   [balancer] trusted_proxies. Returns 0, or -1 with a static *error_r. */
int lb_logs_open(const struct lb_config *lc, struct log_syslog *syslog,
                 struct http_access_log **log_r, const char **error_r);

#endif
