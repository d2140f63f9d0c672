/* SPDX-License-Identifier: MIT */
/* The access log's and remote syslog's setup for the node (the lines themselves are made in
   lib-http's http-access-log.c). */
#include "node-logs.h"

#include "http-access-log.h"
#include "log-syslog.h"
#include "node.h"

int node_logs_init(struct node *node, const char **error_r)
{
	const struct node_config *cfg = &node->cfg;

	if (cfg->syslog_enabled) {
		node->syslog = log_syslog_start(&cfg->syslog);
		log_set_tee(log_syslog_tee, node->syslog);
	}
	if (cfg->access_log == NULL && !cfg->access_syslog)
		return 0;
	return http_access_log_open(cfg->access_log, node->syslog, cfg->trusted_proxies,
	                            cfg->trusted_proxy_count, cfg->route, &node->access_log,
	                            error_r);
}

int node_logs_reopen(struct node *node, const char **error_r)
{
	return http_access_log_reopen(node->access_log, error_r);
}

void node_logs_deinit(struct node *node)
{
	http_access_log_close(&node->access_log);
	if (node->syslog != NULL) {
		log_set_tee(NULL, NULL);
		log_syslog_stop(&node->syslog, 1000);
	}
}
