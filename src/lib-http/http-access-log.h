/* SPDX-License-Identifier: MIT */
/* The access log line both daemons write (docs/operations.md "Access log"). */
#ifndef TANDEM_HTTP_ACCESS_LOG_H
#define TANDEM_HTTP_ACCESS_LOG_H

#include <stddef.h>

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

/* Appends path, '?' and query with each "session" parameter's value masked (as above). */
void http_access_log_masked_target(struct buf *out, struct strv path, struct strv query);

#endif
