/* SPDX-License-Identifier: MIT */
/* The balancer's request path: pick a member, forward the request over a pooled connection,
   stream both bodies, retry where nothing was sent, answer 502/503/504 otherwise. */
#ifndef TANDEM_LB_PROXY_H
#define TANDEM_LB_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "http-server.h"
#include "lb-config.h"
#include "sticky.h"
#include "upstream.h"

struct balancer;
struct proxy;

struct proxy_settings {
	struct sticky_settings sticky; /* views into strings the caller keeps */
	struct upstream_settings upstream;
	uint64_t read_timeout_ms;  /* silence from a member while its answer is awaited */
	uint64_t write_timeout_ms; /* a member not taking request bytes */
	const struct lb_cidr *trusted_proxies; /* kept by the caller */
	size_t trusted_proxy_count;
	const struct lb_access_rule *access; /* [access PATH] rules, kept by the caller */
	size_t access_count;
	const char *proto;    /* "http" | "https": X-Forwarded-Proto for untrusted peers */
	uint64_t buffer_body; /* bodies up to this size are read whole before a member is picked */
};

struct proxy_stats {
	uint64_t forwarded;       /* requests a member answered */
	uint64_t retries;         /* attempts after a connect failure or a stale connection */
	uint64_t no_member;       /* 503: no usable member */
	uint64_t bad_gateway;     /* 502: a member failed or answered malformed */
	uint64_t gateway_timeout; /* 504: a member did not answer in time */
	uint64_t client_aborts;   /* the client went away first */
	uint64_t access_denied;   /* 403: an [access] rule (or the default /admin, /metrics) */
	struct upstream_counters upstream;
};

/* b outlives the proxy. settings are copied (the views in them must stay valid). */
struct proxy *proxy_create(struct balancer *b, const struct proxy_settings *set);
void proxy_destroy(struct proxy **p);
/* Reload: requests from now on use set (copied; its views must stay valid as long as the
   proxy, since requests in flight may still use the previous ones). Upstream pool caps and
   timeouts apply on each loop thread from its next request. Any thread. */
void proxy_set_settings(struct proxy *p, const struct proxy_settings *set);
/* Sets on_head, on_request, on_thread_start/stop, source_exempt (trusted proxies) and ctx in
 *set for the HTTP server that carries client traffic; the rest of *set is the caller's. */
void proxy_server_settings(struct proxy *p, struct http_server_settings *set);
/* Counters summed over the loop threads (upstream pools as of their last sweep). */
void proxy_get_stats(struct proxy *p, struct proxy_stats *stats_r);

#endif
