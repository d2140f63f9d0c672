/* SPDX-License-Identifier: MIT */
/* The access log line both daemons write (docs/operations.md "Access log"). */
#ifndef TANDEM_HTTP_ACCESS_LOG_H
#define TANDEM_HTTP_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "http-server.h"

struct buf;
struct cidr;

/* Appends one logfmt line with its '\n' to out:
     ts=<RFC 3339 ms> client=<ip> method=<m> path=<path?query> status=<n> bytes=<n>
     dur_ms=<n.nnn> route=<r> req=<id> user=<u>
   then " aborted=true" when the response was cut. client is the address behind the trusted
   proxies (http_request_client_ip()); the path is the one the application saw, with the
   value of each query parameter named "session" replaced by "***"; route and user come from
   http_request_set_log_route() (else route, which may be NULL) and http_request_set_user();
   an unknown value is "-". */
void http_access_log_format(struct buf *out, struct http_request *req,
                            const struct http_access_entry *entry, const struct cidr *trusted,
                            size_t trusted_count, const char *route);

/* An access log: where the lines go and how they are made, for the daemons' on_access. */
struct http_access_log;
struct log_syslog;

/* Opens the access log: the file path (a log_writer: written by its own thread), or, with
   path NULL, the syslog sender (MSGID "access"), which the caller keeps running longer. The
   trusted networks (http_request_client_ip()) and route are copied; route is the route= of
   requests without http_request_set_log_route() (NULL: "-"). Returns 0, or -1 with a static
   *error_r (the file cannot be opened). */
int http_access_log_open(const char *path, struct log_syslog *syslog, const struct cidr *trusted,
                         size_t trusted_count, const char *route, struct http_access_log **log_r,
                         const char **error_r);
/* An http_access_fn (ctx: the http_access_log): formats the line on the loop thread into a
   stack buffer and queues it; never waits for I/O. */
void http_access_log_request(struct http_request *req, const struct http_access_entry *entry,
                             void *ctx);
/* SIGHUP: reopens the file (no-op for syslog). NULL-safe. 0, or -1 with a static *error_r. */
int http_access_log_reopen(struct http_access_log *log, const char **error_r);
/* Lines the file writer dropped because its buffer was full. NULL-safe. */
uint64_t http_access_log_dropped(const struct http_access_log *log);
/* Writes what is queued and closes. After the HTTP server is gone. NULL-safe. */
void http_access_log_close(struct http_access_log **log);

/* Appends path, '?' and query with each "session" parameter's value masked (as above). */
void http_access_log_masked_target(struct buf *out, struct strv path, struct strv query);

#endif
