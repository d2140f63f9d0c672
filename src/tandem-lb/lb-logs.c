/* SPDX-License-Identifier: MIT */
/* The access log's glue: formatted on the loop thread, written by a log_writer's thread. */
#include "lb-logs.h"

#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "cidr.h"
#include "http-access-log.h"
#include "lb-config.h"
#include "log-syslog.h"
#include "log-writer.h"
#include "mem.h"

struct lb_logs {
	struct log_writer *writer; /* or: */
	struct log_syslog *syslog;
	struct cidr *trusted; /* lib-http's form of [balancer] trusted_proxies */
	size_t trusted_count;
};

/* An IPv4 network is the mapped ::ffff:0:0/96 one in struct cidr. */
static void to_cidr(const struct lb_cidr *in, struct cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (in->family == AF_INET) {
		out->net.b[10] = 0xff;
		out->net.b[11] = 0xff;
		memcpy(out->net.b + 12, in->addr, 4);
		out->prefix = 96 + in->prefix;
	} else {
		memcpy(out->net.b, in->addr, 16);
		out->prefix = in->prefix;
	}
}

int lb_logs_open(const char *path, struct log_syslog *syslog, const struct lb_cidr *trusted,
                 size_t trusted_count, struct lb_logs **logs_r, const char **error_r)
{
	struct log_writer *writer = NULL;

	if (path != NULL && log_writer_open(path, &writer, error_r) < 0)
		return -1;
	struct lb_logs *logs = mem_calloc(1, sizeof(*logs));
	logs->writer = writer;
	logs->syslog = writer == NULL ? syslog : NULL;
	logs->trusted = mem_calloc(trusted_count + 1, sizeof(*logs->trusted));
	for (size_t i = 0; i < trusted_count; i++)
		to_cidr(&trusted[i], &logs->trusted[i]);
	logs->trusted_count = trusted_count;
	*logs_r = logs;
	return 0;
}

void lb_logs_access(struct http_request *req, const struct http_access_entry *entry, void *ctx)
{
	struct lb_logs *logs = ctx;
	char line[4096];
	struct buf b;

	buf_init_fixed(&b, line, sizeof(line) - 1);
	http_access_log_format(&b, req, entry, logs->trusted, logs->trusted_count, NULL);
	if (buf_overflowed(&b))
		b.data[b.len++] = '\n'; /* cut short (a huge path): still one line */
	if (logs->writer != NULL)
		log_writer_write(logs->writer, b.data, b.len);
	else
		log_syslog_send(logs->syslog, LOG_SYSLOG_INFO, "access", b.data, b.len - 1);
}

int lb_logs_reopen(struct lb_logs *logs, const char **error_r)
{
	return logs == NULL || logs->writer == NULL ? 0 : log_writer_reopen(logs->writer, error_r);
}

uint64_t lb_logs_dropped(const struct lb_logs *logs)
{
	return logs == NULL || logs->writer == NULL ? 0 : log_writer_dropped(logs->writer);
}

void lb_logs_close(struct lb_logs **logs)
{
	if (*logs == NULL)
		return;
	log_writer_close(&(*logs)->writer);
	mem_free(&(*logs)->trusted);
	mem_free(logs);
}
