/* SPDX-License-Identifier: MIT */
/* Formats access log lines; runs on loop threads once per request, so it only appends. */
#include "http-access-log.h"

#include <string.h>

#include "buf.h"
#include "clock.h"
#include "http-forwarded.h"
#include "log-syslog.h"
#include "log-writer.h"
#include "log.h"
#include "mem.h"

/* Session ids travel in "?session=" (the OX API): a log line must not hand them out. */
void http_access_log_masked_target(struct buf *out, struct strv path, struct strv query)
{
	buf_append_strv(out, path);
	if (query.len == 0)
		return;
	buf_append_char(out, '?');
	size_t i = 0;
	while (i <= query.len) {
		size_t end = i;
		while (end < query.len && query.ptr[end] != '&')
			end++;
		struct strv param = strv_make(query.ptr + i, end - i);
		const char *eq = memchr(param.ptr, '=', param.len);
		size_t name_len = eq != NULL ? (size_t)(eq - param.ptr) : param.len;
		if (eq != NULL && strv_eq(strv_make(param.ptr, name_len), STRV_LIT("session")))
			buf_append_lit(out, "session=***");
		else
			buf_append_strv(out, param);
		if (end < query.len)
			buf_append_char(out, '&');
		i = end + 1;
	}
}

static struct strv or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? strv_from_cstr(s) : STRV_LIT("-");
}

void http_access_log_format(struct buf *out, struct http_request *req,
                            const struct http_access_entry *entry, const struct cidr *trusted,
                            size_t trusted_count, const char *route)
{
	const char *req_route = http_request_log_route(req);
	const struct http_request_head *head = http_request_head(req);
	struct http_client_ip client;
	char ts[32], target[2048], num[32];
	struct buf t;

	clock_format_rfc3339(clock_wall_ms(), ts, sizeof(ts));
	buf_append_lit(out, "ts=");
	buf_append_str(out, ts);
	if (trusted_count > 0) {
		http_request_client_ip(req, trusted, trusted_count, &client);
		log_append_field(out, "client", strv_from_cstr(client.text));
	} else {
		log_append_field(out, "client", strv_from_cstr(http_request_peer_ip(req)));
	}
	log_append_field(out, "method",
	                 head->method.len > 0 ? head->method : (struct strv)STRV_LIT("-"));
	buf_init_fixed(&t, target, sizeof(target));
	if (head->path.len > 0)
		http_access_log_masked_target(&t, head->path, head->query);
	else
		buf_append_lit(&t, "-");
	log_append_field(out, "path", buf_strv(&t));
	buf_append_lit(out, " status=");
	buf_append_u64(out, (uint64_t)entry->status);
	buf_append_lit(out, " bytes=");
	buf_append_u64(out, entry->bytes);
	buf_append_lit(out, " dur_ms=");
	buf_append_u64(out, entry->duration_us / 1000);
	size_t n = buf_format_u64(num, 1000 + entry->duration_us % 1000);
	num[0] = '.'; /* "1042" -> ".042" */
	buf_append(out, num, n);
	log_append_field(out, "route", or_dash(req_route != NULL ? req_route : route));
	log_append_field(out, "req", or_dash(http_request_id(req)));
	log_append_field(out, "user", or_dash(http_request_user(req)));
	if (!entry->complete)
		buf_append_lit(out, " aborted=true");
	buf_append_char(out, '\n');
}

struct http_access_log {
	struct log_writer *writer; /* or: */
	struct log_syslog *syslog;
	struct cidr *trusted;
	size_t trusted_count;
	char *route;
};

int http_access_log_open(const char *path, struct log_syslog *syslog, const struct cidr *trusted,
                         size_t trusted_count, const char *route, struct http_access_log **log_r,
                         const char **error_r)
{
	struct log_writer *writer = NULL;

	if (path != NULL && log_writer_open(path, &writer, error_r) < 0)
		return -1;
	struct http_access_log *log = mem_calloc(1, sizeof(*log));
	log->writer = writer;
	log->syslog = writer == NULL ? syslog : NULL;
	log->trusted = mem_calloc(trusted_count + 1, sizeof(*log->trusted));
	if (trusted_count > 0)
		memcpy(log->trusted, trusted, trusted_count * sizeof(*trusted));
	log->trusted_count = trusted_count;
	log->route = route == NULL ? NULL : mem_strdup(route);
	*log_r = log;
	return 0;
}

void http_access_log_request(struct http_request *req, const struct http_access_entry *entry,
                             void *ctx)
{
	struct http_access_log *log = ctx;
	char line[4096];
	struct buf b;

	buf_init_fixed(&b, line, sizeof(line) - 1);
	http_access_log_format(&b, req, entry, log->trusted, log->trusted_count, log->route);
	if (buf_overflowed(&b))
		b.data[b.len++] = '\n'; /* cut short (a huge path): still one line */
	if (log->writer != NULL)
		log_writer_write(log->writer, b.data, b.len);
	else
		log_syslog_send(log->syslog, LOG_SYSLOG_INFO, "access", b.data, b.len - 1);
}

int http_access_log_reopen(struct http_access_log *log, const char **error_r)
{
	return log == NULL || log->writer == NULL ? 0 : log_writer_reopen(log->writer, error_r);
}

uint64_t http_access_log_dropped(const struct http_access_log *log)
{
	return log == NULL || log->writer == NULL ? 0 : log_writer_dropped(log->writer);
}

void http_access_log_close(struct http_access_log **log)
{
	if (*log == NULL)
		return;
	log_writer_close(&(*log)->writer);
	mem_free(&(*log)->trusted);
	mem_free(&(*log)->route);
	mem_free(log);
}
