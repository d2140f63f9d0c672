/* SPDX-License-Identifier: MIT */
/* tandem-lb's /metrics: the Prometheus text exposition of the balancer, proxy and server. */
#ifndef TANDEM_LB_METRICS_H
#define TANDEM_LB_METRICS_H

#include <stdint.h>

#include "announce.h"
#include "buf.h"

struct balancer;
struct proxy;
struct http_server;

/* What the exposition reads; any pointer may be NULL (its lines are left out). */
struct lb_metrics_sources {
	struct balancer *b;
	struct proxy *proxy;
	struct http_server *server;
	uint64_t health_checks, health_check_failures;
	const struct announce_receiver_stats *announce; /* NULL = no discovery */
};

void lb_metrics_format(struct buf *out, const struct lb_metrics_sources *src);

#endif
