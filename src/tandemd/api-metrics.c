/* SPDX-License-Identifier: MIT */
/* GET /metrics: Prometheus text exposition of the node's counters. */
#include <inttypes.h>

#include "api-database.h"
#include "api-mail-events.h"
#include "cache.h"
#include "clock.h"
#include "configdb-probe.h"
#include "dav-auth.h"
#include "log-syslog.h"
#include "gate.h"
#include "http-access-log.h"
#include "http-server.h"
#include "imap-pool.h"
#include "inval-stream.h"
#include "invalidation.h"
#include "login-cache.h"
#include "node.h"
#include "password.h"
#include "redis.h"
#include "routes.h"
#include "session-store-redis.h"
#include "sessions.h"
#include "storage.h"
#include "prom.h"
#include "worker-pool.h"

/* storage's (folder, group), the login cache and the DAV credentials' */
#define CACHE_MAX 5

/* One labelled family, name{cache="…"}, over the caches' stats. */
static void cache_family(struct buf *b, struct cache *const *caches, size_t count,
                         const struct cache_stats *stats, const char *name, const char *type,
                         const char *help, uint64_t (*field)(const struct cache_stats *))
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (size_t i = 0; i < count; i++)
		buf_printf(b, "%s{cache=\"%s\"} %" PRIu64 "\n", name, cache_name(caches[i]),
		           field(&stats[i]));
}

static uint64_t hits(const struct cache_stats *st)
{
	return st->hits;
}

static uint64_t misses(const struct cache_stats *st)
{
	return st->misses;
}

static uint64_t evictions(const struct cache_stats *st)
{
	return st->evictions;
}

static uint64_t entries(const struct cache_stats *st)
{
	return st->entries;
}

static void cache_metrics(struct buf *b, struct node *node)
{
	struct cache *caches[CACHE_MAX];
	size_t n = storage_caches(node->storage, caches, CACHE_MAX - 3);
	caches[n++] = login_cache_cache(node->login_cache);
	caches[n++] = node->access_cache;
	if (dav_auth_cache(node->dav_auth) != NULL) /* NULL: [dav] auth_cache_ttl 0 */
		caches[n++] = dav_auth_cache(node->dav_auth);
	struct cache_stats st[CACHE_MAX];
	for (size_t i = 0; i < n; i++)
		cache_get_stats(caches[i], &st[i]);
	cache_family(b, caches, n, st, "tandem_cache_hits_total", "counter",
	             "Cache lookups answered without SQL.", hits);
	cache_family(b, caches, n, st, "tandem_cache_misses_total", "counter",
	             "Cache lookups that went to SQL (absent, dropped or expired).", misses);
	cache_family(b, caches, n, st, "tandem_cache_evictions_total", "counter",
	             "Entries pushed out to make room.", evictions);
	cache_family(b, caches, n, st, "tandem_cache_entries", "gauge", "Entries held now.",
	             entries);
	buf_append_lit(b, "# HELP tandem_invalidations_published_total Changes announced on the "
	                  "invalidation bus.\n"
	                  "# TYPE tandem_invalidations_published_total counter\n");
	for (int r = 0; r < INVAL_REGION_COUNT; r++)
		buf_printf(b, "tandem_invalidations_published_total{region=\"%s\"} %" PRIu64 "\n",
		           inval_region_name(r), inval_published_region(node->inval, r));
}

/* The Redis pool, the invalidation stream and the Redis session store: only with a Redis
   store (node->cluster.stream is set with node->cluster.redis, and the store is the Redis one). */
static void cluster_metrics(struct buf *b, struct node *node)
{
	struct redis_pool_stats ps;
	struct inval_stream_stats ss;
	struct session_store_redis_stats st;

	redis_pool_stats(node->cluster.redis, &ps);
	prom_metric(b, "tandem_redis_connects_total", "counter", "Redis connections opened.",
	            ps.connects);
	prom_metric(b, "tandem_redis_connect_failures_total", "counter",
	            "Redis connects that failed (unreachable, or not the master).",
	            ps.connect_fails);
	prom_metric(b, "tandem_redis_fast_failures_total", "counter",
	            "Redis calls refused at once while backing off after a failed connect.",
	            ps.fast_fails);
	prom_metric(b, "tandem_redis_broken_connections_total", "counter",
	            "Redis connections closed after an I/O error or timeout.", ps.broken);

	inval_stream_stats(node->cluster.stream, &ss);
	prom_metric(b, "tandem_inval_stream_connected", "gauge",
	            "1 while the invalidation stream reader is connected to Redis.", ss.connected);
	prom_metric(b, "tandem_inval_stream_appended_total", "counter",
	            "This node's invalidations appended to the stream.", ss.appended);
	prom_metric(b, "tandem_inval_stream_append_failures_total", "counter",
	            "Appends that failed (each makes every node flush once Redis answers).",
	            ss.append_failures);
	prom_metric(b, "tandem_inval_stream_received_total", "counter",
	            "Other nodes' invalidations applied from the stream.", ss.received);
	prom_metric(b, "tandem_inval_stream_gaps_total", "counter",
	            "Times the stream could not vouch for every event (trimmed, gone, went back): "
	            "full cache flushes.",
	            ss.gaps);
	prom_metric(b, "tandem_inval_stream_reconnects_total", "counter",
	            "Reader reconnects (each flushes every cache).", ss.reconnects);
	prom_metric(b, "tandem_inval_stream_fence_waits_total", "counter",
	            "Requests that waited for the reader to apply the stream head.",
	            ss.fence_waits);
	buf_printf(b,
	           "# HELP tandem_inval_stream_fence_wait_seconds_total Time requests spent "
	           "waiting for the reader.\n"
	           "# TYPE tandem_inval_stream_fence_wait_seconds_total counter\n"
	           "tandem_inval_stream_fence_wait_seconds_total %" PRIu64 ".%06" PRIu64 "\n",
	           ss.fence_wait_us / 1000000, ss.fence_wait_us % 1000000);
	prom_metric(b, "tandem_inval_stream_fence_timeouts_total", "counter",
	            "Fences that flushed every cache instead (reader disconnected or too slow).",
	            ss.fence_timeouts);

	session_store_redis_stats(sessions_store(node->sessions), &st);
	prom_metric(b, "tandem_session_wait_shortfalls_total", "counter",
	            "Session writes that fewer replicas than backup_count acknowledged in time.",
	            st.wait_shortfalls);
	prom_metric(b, "tandem_session_store_errors_total", "counter",
	            "Session store operations that failed (Redis unreachable or an error reply).",
	            st.errors);
}

/* [server] max_concurrent_hashing: logins, admin logins and passwords set share it. */
static void hashing_metrics(struct buf *b)
{
	struct gate_stats st;
	if (!password_get_stats(&st))
		return;
	prom_metric(b, "tandem_password_hashing_slots", "gauge",
	            "argon2id runs allowed at once (max_concurrent_hashing).", st.slots);
	prom_metric(b, "tandem_password_hashing_running", "gauge", "argon2id runs in progress.",
	            st.inside);
	prom_metric(b, "tandem_password_hashing_waiting", "gauge",
	            "Logins and hashings waiting for a turn.", st.waiting);
	buf_printf(b,
	           "# HELP tandem_password_hashing_refused_total Logins and hashings refused "
	           "with 503: waited hashing_wait in vain, or the queue was full.\n"
	           "# TYPE tandem_password_hashing_refused_total counter\n"
	           "tandem_password_hashing_refused_total{reason=\"timeout\"} %" PRIu64 "\n"
	           "tandem_password_hashing_refused_total{reason=\"queue_full\"} %" PRIu64 "\n",
	           st.timeouts, st.turned_away);
}

void api_metrics_get(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct http_server_stats st;
	struct buf *b = http_response_body(req);
	enum node_state state = atomic_load(&node->state);

	http_server_get_stats(node->http, &st);
	http_server_stats_format(b, "tandem_http_", &st);
	prom_metric(b, "tandem_worker_jobs_pending", "gauge", "Handler jobs queued or running.",
	            worker_pool_pending(node->workers));
	prom_metric(b, "tandem_node_start_time_seconds", "gauge",
	            "Start time, seconds since the epoch.", node->start_wall_ms / 1000);
	buf_append_lit(b, "# HELP tandem_node_state 1 for the node's current lifecycle state.\n"
	                  "# TYPE tandem_node_state gauge\n");
	for (int s = NODE_STARTING; s <= NODE_DRAINING; s++)
		buf_printf(b, "tandem_node_state{state=\"%s\"} %d\n", node_state_name(s),
		           s == (int)state);
	buf_printf(b,
	           "# HELP tandem_build_info Version and route of this node.\n"
	           "# TYPE tandem_build_info gauge\n"
	           "tandem_build_info{version=\"%s\",route=\"%s\"} 1\n",
	           TANDEM_VERSION, node->cfg.route);
	log_syslog_metrics(b, "tandem_", node->syslog);
	prom_metric(b, "tandem_access_log_dropped_total", "counter",
	            "Access log lines dropped: the writer's buffer was full.",
	            http_access_log_dropped(node->access_log));
	const char *db_reason;
	prom_metric(b, "tandem_configdb_up", "gauge",
	            "1 while the configdb probe reaches the configdb ([configdb] probe_interval).",
	            configdb_probe_ok(node->probe, &db_reason));
	cache_metrics(b, node);
	prom_metric(
	    b, "tandem_cache_flushes_total", "counter",
	    "Times every cache was dropped at once (stream gaps, reconnects, fences, flushes "
	    "asked for by other nodes).",
	    inval_flushes(node->inval));
	/* with the Redis store a round trip (bounded by its timeouts; the last count on error) */
	prom_metric(b, "tandem_sessions_local", "gauge", "Live sessions created on this node.",
	            sessions_count(node->sessions));
	if (node->cluster.redis != NULL && node->cluster.stream != NULL)
		cluster_metrics(b, node);
	api_database_metrics(b, node);
	if (node->mail_pool != NULL)
		prom_metric(b, "tandem_mail_imap_connections", "gauge",
		            "IMAP connections open to the mail system, in use and idle ([mail]).",
		            imap_pool_open(node->mail_pool));
	if (node->mail_pool != NULL) {
		prom_metric(b, "tandem_mail_event_watchers", "gauge",
		            "Users with new-mail event streams: one IMAP connection in IDLE each.",
		            api_mail_events_watchers());
		prom_metric(b, "tandem_mail_event_streams", "gauge",
		            "Open new-mail event streams (/api/v1/mail/events).",
		            api_mail_events_streams());
	}
	hashing_metrics(b);
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	http_response_send(req);
}
