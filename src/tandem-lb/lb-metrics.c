/* SPDX-License-Identifier: MIT */
/* tandem-lb's /metrics: the Prometheus text exposition of the balancer, proxy and server. */
#include "lb-metrics.h"

#include "balancer.h"
#include "clock.h"
#include "http-server.h"
#include "mem.h"
#include "prom.h"
#include "proxy.h"

static void members(struct buf *out, struct balancer *b)
{
	struct balancer_member_info *infos;
	size_t n = balancer_snapshot(b, clock_mono_ms(), &infos);
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} fields[] = {
	    {"tandem_lb_member_requests_total", "counter", "Requests forwarded to the member.",
	     offsetof(struct balancer_member_info, requests)},
	    {"tandem_lb_member_in_flight", "gauge", "Requests the member is serving now.",
	     offsetof(struct balancer_member_info, in_flight)},
	    {"tandem_lb_member_bytes_in_total", "counter", "Bytes sent from clients to the member.",
	     offsetof(struct balancer_member_info, bytes_in)},
	    {"tandem_lb_member_bytes_out_total", "counter",
	     "Bytes sent from the member towards clients.",
	     offsetof(struct balancer_member_info, bytes_out)},
	    {"tandem_lb_member_errors_total", "counter",
	     "Failed connects and exchanges with the member.",
	     offsetof(struct balancer_member_info, errors)},
	};
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		prom_family(out, fields[f].name, fields[f].type, fields[f].help);
		for (size_t i = 0; i < n; i++) {
			uint64_t v =
			    *(const uint64_t *)((const char *)&infos[i] + fields[f].offset);
			buf_printf(out, "%s{route=\"%s\"} %llu\n", fields[f].name, infos[i].route,
			           (unsigned long long)v);
		}
	}
	prom_family(out, "tandem_lb_member_healthy", "gauge",
	            "1 while active health checks find the member up.");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "tandem_lb_member_healthy{route=\"%s\"} %d\n", infos[i].route,
		           infos[i].healthy ? 1 : 0);
	prom_family(out, "tandem_lb_member_usable", "gauge",
	            "1 unless the member is in passive error state (retry).");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "tandem_lb_member_usable{route=\"%s\"} %d\n", infos[i].route,
		           infos[i].in_error ? 0 : 1);
	prom_family(out, "tandem_lb_member_loadfactor", "gauge", "The member's loadfactor.");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "tandem_lb_member_loadfactor{route=\"%s\"} %u\n", infos[i].route,
		           infos[i].loadfactor);
	prom_family(out, "tandem_lb_member_state", "gauge",
	            "1 for the member's effective state (ready, drain, maint, disabled, standby).");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "tandem_lb_member_state{route=\"%s\",state=\"%s\"} 1\n",
		           infos[i].route, balancer_state_name(infos[i].effective));
	mem_free(&infos);
}

static void announcements(struct buf *out, const struct announce_receiver_stats *st)
{
	prom_metric(out, "tandem_lb_announce_accepted_total", "counter",
	            "Announcements that passed the key, time and replay checks.", st->accepted);
	prom_family(out, "tandem_lb_announce_dropped_total", "counter",
	            "Announcements ignored, by reason (bad_mac: not sent with the announce key).");
	for (int i = 0; i < ANNOUNCE_DROP_COUNT; i++)
		buf_printf(out, "tandem_lb_announce_dropped_total{reason=\"%s\"} %llu\n",
		           announce_drop_name((enum announce_drop)i),
		           (unsigned long long)st->dropped[i]);
}

void lb_metrics_format(struct buf *out, const struct lb_metrics_sources *src)
{
	if (src->server != NULL) {
		struct http_server_stats s;
		http_server_get_stats(src->server, &s);
		http_server_stats_format(out, "tandem_lb_http_", &s);
	}
	if (src->proxy != NULL) {
		struct proxy_stats p;
		proxy_get_stats(src->proxy, &p);
		prom_metric(out, "tandem_lb_forwarded_total", "counter",
		            "Requests a member answered.", p.forwarded);
		prom_metric(out, "tandem_lb_retries_total", "counter",
		            "Attempts after a connect failure or a stale pooled connection.",
		            p.retries);
		prom_family(out, "tandem_lb_errors_total", "counter",
		            "Answers of the balancer's own, by status.");
		buf_printf(out, "tandem_lb_errors_total{status=\"502\"} %llu\n",
		           (unsigned long long)p.bad_gateway);
		buf_printf(out, "tandem_lb_errors_total{status=\"503\"} %llu\n",
		           (unsigned long long)p.no_member);
		buf_printf(out, "tandem_lb_errors_total{status=\"504\"} %llu\n",
		           (unsigned long long)p.gateway_timeout);
		prom_metric(out, "tandem_lb_client_aborts_total", "counter",
		            "Requests whose client went away before the answer.", p.client_aborts);
		prom_metric(out, "tandem_lb_access_denied_total", "counter",
		            "Requests refused 403 by an [access] rule or the default rules for "
		            "/admin and /metrics.",
		            p.access_denied);
		prom_metric(out, "tandem_lb_upstream_connects_total", "counter",
		            "Connections opened to members.", p.upstream.connects);
		prom_metric(out, "tandem_lb_upstream_connect_failures_total", "counter",
		            "Connects to members refused, unreachable or timed out.",
		            p.upstream.connect_fails);
		prom_metric(out, "tandem_lb_upstream_reuses_total", "counter",
		            "Requests sent on a pooled keep-alive connection.", p.upstream.reuses);
		prom_metric(out, "tandem_lb_upstream_queued_total", "counter",
		            "Requests that waited for a connection slot (pool_max).",
		            p.upstream.queued);
		prom_metric(out, "tandem_lb_upstream_idle", "gauge",
		            "Idle pooled member connections.", p.upstream.idle);
		prom_metric(out, "tandem_lb_upstream_busy", "gauge", "Member connections in use.",
		            p.upstream.busy);
	}
	prom_metric(out, "tandem_lb_health_checks_total", "counter", "Active health checks run.",
	            src->health_checks);
	prom_metric(out, "tandem_lb_health_check_failures_total", "counter",
	            "Active health checks that failed.", src->health_check_failures);
	if (src->announce != NULL)
		announcements(out, src->announce);
	if (src->b != NULL)
		members(out, src->b);
}
