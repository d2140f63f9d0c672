/* SPDX-License-Identifier: MIT */
/* The balancer's access log: lib-http's, with its trusted proxies in lib-http's form. */
#include "lb-logs.h"

#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "http-access-log.h"
#include "lb-config.h"
#include "mem.h"

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

int lb_logs_open(const struct lb_config *lc, struct log_syslog *syslog,
                 struct http_access_log **log_r, const char **error_r)
{
	struct cidr *trusted = mem_calloc(lc->trusted_proxy_count + 1, sizeof(*trusted));
	for (size_t i = 0; i < lc->trusted_proxy_count; i++)
		to_cidr(&lc->trusted_proxies[i], &trusted[i]);
	int ret = http_access_log_open(lc->access_log, syslog, trusted, lc->trusted_proxy_count,
	                               NULL, log_r, error_r);
	mem_free(&trusted);
	return ret;
}
