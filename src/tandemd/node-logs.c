/* SPDX-License-Identifier: MIT */
/* The access log's and remote syslog's glue: an access line is formatted on the loop thread
   into a stack buffer and queued on a log_writer (whose thread does the write(2)) or on the
   syslog sender's queue. */
#include "node-logs.h"

#include "buf.h"
#include "http-access-log.h"
#include "log-syslog.h"
#include "log-writer.h"
#include "node.h"

int node_logs_init(struct node *node, const char **error_r)
{
	if (node->cfg.syslog_enabled) {
		node->syslog = log_syslog_start(&node->cfg.syslog);
		log_set_tee(log_syslog_tee, node->syslog);
	}
	const char *path = node->cfg.access_log;
	if (path == NULL)
		return 0;
	return log_writer_open(path, &node->access_log, error_r);
}

void node_logs_access(struct http_request *req, const struct http_access_entry *entry, void *ctx)
{
	struct node *node = ctx;
	char line[4096];
	struct buf b;

	if (node->access_log == NULL && !node->cfg.access_syslog)
		return;
	buf_init_fixed(&b, line, sizeof(line) - 1);
	http_access_log_format(&b, req, entry, node->cfg.trusted_proxies,
	                       node->cfg.trusted_proxy_count, node->cfg.route);
	if (buf_overflowed(&b))
		b.data[b.len++] = '\n'; /* cut short (a huge path): still one line */
	if (node->access_log != NULL)
		log_writer_write(node->access_log, b.data, b.len);
	else
		log_syslog_send(node->syslog, LOG_SYSLOG_INFO, "access", b.data, b.len - 1);
}

int node_logs_reopen(struct node *node, const char **error_r)
{
	return node->access_log == NULL ? 0 : log_writer_reopen(node->access_log, error_r);
}

void node_logs_deinit(struct node *node)
{
	log_writer_close(&node->access_log);
	if (node->syslog != NULL) {
		log_set_tee(NULL, NULL);
		log_syslog_stop(&node->syslog, 1000);
	}
}
