/* SPDX-License-Identifier: MIT */
/* Node lifecycle and request dispatch: inline routes on the loop, the rest on workers. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admin-auth.h"
#include "api-mail-events.h"
#include "announce.h"
#include "cache.h"
#include "clock.h"
#include "configdb-probe.h"
#include "dav-auth.h"
#include "http-access-log.h"
#include "http-server.h"
#include "log.h"
#include "login-cache.h"
#include "node-cluster.h"
#include "node-logs.h"
#include "node-positions.h"
#include "password.h"
#include "pool.h"
#include "provision.h"
#include "http-router.h"
#include "routes.h"
#include "sql.h"
#include "storage.h"
#include "invalidation.h"
#include "sessions.h"
#include "webui-dir.h"
#include "worker-pool.h"
#include "api-mail.h"
#include "imap-pool.h"

struct job {
	struct node *node;
	const struct http_route *route;
	struct http_request *req;
};

const char *node_state_name(enum node_state state)
{
	switch (state) {
	case NODE_STARTING:
		return "starting";
	case NODE_READY:
		return "ready";
	case NODE_DRAINING:
		return "draining";
	}
	return "unknown";
}

static void run_job(void *ctx)
{
	struct job *job = ctx;
	log_set_request_id(http_request_id(job->req));
	job->route->handler(job->node, job->req);
	log_set_request_id(NULL);
}

/* Every client behind a trusted balancer shares its address: the balancer is not held to
   max_connections_per_source (its own per-source cap protects it). */
static bool source_exempt(const struct sockaddr *peer, void *ctx)
{
	struct node *node = ctx;
	struct cidr_addr addr;
	return node->cfg.trusted_proxy_count > 0 && cidr_addr_from_sockaddr(peer, &addr) == 0 &&
	       cidr_match(node->cfg.trusted_proxies, node->cfg.trusted_proxy_count, &addr);
}

/* Routes with on_head take their body as a stream (uploads go to disk, not memory);
   on_request then answers as usual, with the route found here (the request keeps it). */
static void on_head(struct http_request *req, void *ctx)
{
	struct node *node = ctx;
	/* ";jsessionid=…" steers balancers (docs/balancer.md); the resource is the path before. */
	http_request_drop_path_params(req);
	const struct http_route *route = http_router_find(node->router, req);
	if (route != NULL && route->on_head != NULL)
		route->on_head(node, req);
}

static void on_request(struct http_request *req, void *ctx)
{
	struct node *node = ctx;
	http_response_header(req, "X-Request-Id", http_request_id(req));
	const struct http_route *route = http_router_match(node->router, req);
	if (route == NULL)
		return; /* router answered 404/405 */
	if (route->flags & ROUTE_INLINE) {
		route->handler(node, req);
		return;
	}
	struct job *job = pool_alloc(http_request_pool(req), sizeof(*job));
	job->node = node;
	job->route = route;
	job->req = req;
	if (worker_pool_submit(node->workers, run_job, job) < 0)
		http_response_error(req, 503, "SRV-0001", "server is shutting down");
}

static int make_dir(const char *path, const char **error_r)
{
	static __thread char err[300];
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	snprintf(err, sizeof(err), "data_dir %s: %s", path, strerror(errno));
	*error_r = err;
	return -1;
}

/* Cache sizes: entries are a few hundred bytes each (a few MB in all); the TTL is only a
   safety net, correctness comes from the drops. */
#define FOLDER_CACHE_ENTRIES 8192
#define GROUP_CACHE_ENTRIES  4096
#define LOGIN_CACHE_ENTRIES  4096
#define ACCESS_CACHE_ENTRIES 4096
#define CACHE_TTL_MS         60000

/* --- publishers: the libraries call these after their commits --- */

static void context_changed(int64_t cid, void *ctx)
{
	struct node *node = ctx;
	inval_publish(node->inval, INVAL_CONTEXT, cid, 0);
}

static void user_changed(int64_t cid, int64_t uid, void *ctx)
{
	struct node *node = ctx;
	inval_publish(node->inval, INVAL_USER, cid, uid);
}

static void group_changed(int64_t cid, int64_t gid, void *ctx)
{
	struct node *node = ctx;
	inval_publish(node->inval, INVAL_GROUP, cid, gid);
}

static void sessions_end(int64_t cid, int64_t uid, void *ctx)
{
	struct node *node = ctx;
	sessions_revoke(node->sessions, cid, uid);
}

/* --- subscribers: drop, never update (the next reader loads from SQL) --- */

static void drop_context(const struct inval_event *ev, void *ctx)
{
	struct node *node = ctx;
	/* prov is set once and never replaced, so reading it here needs no lock. */
	struct provision *prov = atomic_load(&node->prov);
	if (prov != NULL)
		provision_invalidate_context(prov, ev->cid);
	/* a deleted context's ids come back if the cid is used again (storage drops its own) */
	login_cache_drop_context(node->login_cache, ev->cid);
	cache_drop_context(node->access_cache, ev->cid);
	admin_auth_forget_context(node->admin_auth, ev->cid);
}

static void drop_user(const struct inval_event *ev, void *ctx)
{
	struct node *node = ctx;
	login_cache_forget_user(node->login_cache, ev->cid, ev->key);
	cache_drop(node->access_cache, ev->cid, ev->key);
	admin_auth_forget_context(node->admin_auth, ev->cid);
}

/* Every cache may be stale (the cluster lost track of changes): drop everything. */
static void flush_caches(void *ctx)
{
	struct node *node = ctx;
	struct provision *prov = atomic_load(&node->prov);
	if (prov != NULL)
		provision_invalidate_all(prov);
	login_cache_clear(node->login_cache);
	cache_clear(node->access_cache);
}

/* storage's way to a context's database: through provisioning, opened on first use. */
static struct sql_db *locate_context(void *ctx, int64_t cid, struct storage_context *ctx_r,
                                     struct storage_error *err)
{
	struct node *node = ctx;
	struct prov_error perr = {0};
	struct prov_location loc;
	struct provision *prov = node_provision(node, &perr);
	struct sql_db *db = prov != NULL ? provision_context_db(prov, cid, &loc, &perr) : NULL;
	if (db == NULL) {
		err->status = perr.status == PROV_NOT_FOUND ? STORAGE_NO_CONTEXT : STORAGE_DOWN;
		snprintf(err->message, sizeof(err->message), "%s", perr.message);
		return NULL;
	}
	ctx_r->quota_mb = loc.quota_mb;
	ctx_r->quota_bytes = loc.quota_bytes;
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s", loc.filestore_root);
	return db;
}

static void caches_init(struct node *node)
{
	node->inval = inval_bus_create();
	struct storage_settings set = {
	    .locate = locate_context,
	    .locate_ctx = node,
	    .inval = node->inval,
	    .max_objects = (int64_t)node->cfg.max_objects_per_context,
	    .tombstone_keep_s = (int64_t)node->cfg.tombstone_days * 86400,
	    .body_timeout_s = (int64_t)(node->cfg.limits.body_timeout_ms / 1000),
	    .folder_cache_max = FOLDER_CACHE_ENTRIES,
	    .group_cache_max = GROUP_CACHE_ENTRIES,
	    .cache_ttl_ms = CACHE_TTL_MS,
	};
	node->storage = storage_create(&set);
	node->login_cache = login_cache_create(LOGIN_CACHE_ENTRIES, CACHE_TTL_MS);
	node->access_cache =
	    cache_create("access", ACCESS_CACHE_ENTRIES, sizeof(uint32_t), CACHE_TTL_MS);
	inval_subscribe(node->inval, INVAL_CONTEXT, drop_context, node);
	inval_subscribe(node->inval, INVAL_USER, drop_user, node);
	inval_subscribe_flush(node->inval, flush_caches, node);
}

static void caches_deinit(struct node *node)
{
	storage_destroy(&node->storage);
	login_cache_destroy(&node->login_cache);
	cache_destroy(&node->access_cache);
	inval_bus_destroy(&node->inval);
}

int node_init(struct node *node, const char **error_r)
{
	struct http_server_settings set = {
	    .limits = node->cfg.limits,
	    .threads = node->cfg.io_threads,
	    .server_name = NULL,
	    .on_head = on_head,
	    .on_request = on_request,
	    .ctx = node,
	    .max_conns_per_source = (unsigned)node->cfg.max_conns_per_source,
	    .source_exempt = source_exempt,
	};

	atomic_store(&node->state, NODE_STARTING);
	node->start_wall_ms = clock_wall_ms();
	if (make_dir(node->cfg.data_dir, error_r) < 0 || node_logs_init(node, error_r) < 0)
		return -1;
	node->router = http_router_create(node_route_tables, &node_router_settings, error_r);
	if (node->router == NULL)
		return -1;
	if (node->access_log != NULL) {
		set.on_access = http_access_log_request;
		set.access_ctx = node->access_log;
	}
	node->http = http_server_create(&set);
	for (size_t i = 0; i < node->cfg.listen_count; i++) {
		if (http_server_listen(node->http, node->cfg.listen[i], error_r) < 0)
			return -1;
	}
	/* after the HTTP listeners, whose indexes stay 0.. */
	const struct http_ajp_config *ajp = &node->cfg.ajp;
	if (ajp->listen != NULL &&
	    http_server_listen_ajp(node->http, ajp->listen,
	                           ajp->secret[0] != '\0' ? ajp->secret : NULL, error_r) < 0)
		return -1;
	node->workers = worker_pool_create(node->cfg.workers, "worker");
	node->admin_auth =
	    admin_auth_create(node->cfg.trusted_proxies, node->cfg.trusted_proxy_count);
	/* before the workers hash: the bound, and the dummy hash of unknown logins */
	password_set_limits(node->cfg.max_concurrent_hashing, node->cfg.hashing_wait_ms);
	password_init();
	caches_init(node);
	node->dav_auth = dav_auth_create(node->cfg.dav_auth_cache_ttl_ms);
	node->mail_pool = api_mail_pool_create(&node->cfg.mail);
	if (node->cfg.webui_dir == NULL)
		log_info("node", "no web UI: [webui] directory is off or none is installed");
	else if (webui_dir_open(node->cfg.webui_dir, &node->webui, error_r) < 0)
		return -1;
	else
		log_info("node", "web UI from %s", node->cfg.webui_dir);
	const char *ipc = node->cfg.session_ip_check;
	struct sessions_settings sset = {
	    .lifetime_ms = node->cfg.session_lifetime_ms,
	    .long_lifetime_ms = node->cfg.session_long_lifetime_ms,
	    .max_per_user = node->cfg.session_max_per_user,
	    .ip_check = strcmp(ipc, "strict") == 0   ? IP_CHECK_STRICT
	                : strcmp(ipc, "subnet") == 0 ? IP_CHECK_SUBNET
	                                             : IP_CHECK_NONE,
	    .cookie_salt = node->cfg.session_cookie_salt,
	    .route = node->cfg.route,
	    .trusted_proxies = node->cfg.trusted_proxies,
	    .trusted_proxy_count = node->cfg.trusted_proxy_count,
	};
	if (node_cluster_init(&node->cluster, &node->cfg, node->inval, &sset.store, error_r) < 0)
		return -1;
	if (node->cluster.redis != NULL) {
		sset.agree_salt = node_cluster_agree_salt;
		sset.agree_ctx = &node->cluster;
	}
	node->sessions = sessions_create(&sset);
	pthread_mutex_init(&node->prov_lock, NULL);
	/* The configdb may not exist yet (a fresh node before initconfigdb): report, keep going. */
	struct prov_error perr;
	if (node_provision(node, &perr) == NULL)
		log_warn("node", "configdb not available yet: %s", perr.message);
	return 0;
}

struct provision *node_provision(struct node *node, struct prov_error *err)
{
	/* Opened once and never replaced: after that, no lock and nothing to rebuild. */
	struct provision *prov = atomic_load_explicit(&node->prov, memory_order_acquire);
	if (prov != NULL)
		return prov;
	pthread_mutex_lock(&node->prov_lock);
	prov = atomic_load_explicit(&node->prov, memory_order_relaxed);
	struct sql_settings set;
	sql_settings_default(&set);
	set.replica_wait_ms = (unsigned)node->cfg.db_replica_wait_ms;
	set.idle_check_ms = (unsigned)node->cfg.db_idle_check_ms;
	set.down_backoff_ms = (unsigned)node->cfg.db_down_backoff_ms;
	set.connect_timeout_ms = (unsigned)node->cfg.db_connect_timeout_ms;
	set.primary_reads = !node->cfg.db_replica_reads;
	set.positions = node->cluster.positions != NULL ? &node->cluster.positions->store : NULL;
	if (prov == NULL && provision_open(node->cfg.configdb_url, node->cfg.configdb_read_url,
	                                   &set, &prov, err) == 0) {
		provision_set_contexts_per_schema(prov, (int64_t)node->cfg.contexts_per_schema);
		provision_set_change_hook(prov, context_changed, node);
		provision_set_user_change_hook(prov, user_changed, node);
		provision_set_group_change_hook(prov, group_changed, node);
		provision_set_revoke_hook(prov, sessions_end, node);
		atomic_store_explicit(&node->prov, prov, memory_order_release);
	}
	pthread_mutex_unlock(&node->prov_lock);
	return prov;
}

/* The announce sender's view of the node, read afresh before every datagram on its thread.
   The HTTP server's counters stay valid until node_deinit() has stopped the sender. */
static void announce_fill(struct announce_msg *msg, void *ctx)
{
	struct node *node = ctx;
	struct http_server_stats st;
	http_server_get_stats(node->http, &st);
	announce_field_set(msg->cluster, sizeof(msg->cluster), node->cfg.cluster_name);
	announce_field_set(msg->route, sizeof(msg->route), node->cfg.route);
	announce_field_set(msg->address, sizeof(msg->address), http_server_address(node->http, 0));
	announce_field_set(msg->version, sizeof(msg->version), TANDEM_VERSION);
	bool draining = atomic_load(&node->state) == NODE_DRAINING;
	msg->state = draining ? ANNOUNCE_DRAINING : ANNOUNCE_READY;
	msg->load = st.connections_open;
	msg->started_ms = node->start_wall_ms;
}

/* The node's part of its membership record, on the heartbeat thread (as announce_fill). */
static void member_fill(struct member_info *info, void *ctx)
{
	struct node *node = ctx;
	struct http_server_stats hs;
	http_server_get_stats(node->http, &hs);
	snprintf(info->route, sizeof(info->route), "%s", node->cfg.route);
	const char *address = http_server_address(node->http, 0);
	snprintf(info->address, sizeof(info->address), "%s", address != NULL ? address : "");
	snprintf(info->version, sizeof(info->version), "%s", TANDEM_VERSION);
	snprintf(info->cluster, sizeof(info->cluster), "%s", node->cfg.cluster_name);
	snprintf(info->state, sizeof(info->state), "%s",
	         node_state_name(atomic_load(&node->state)));
	info->started_ms = node->start_wall_ms;
	info->load = hs.connections_open;
	info->sessions = sessions_count(node->sessions);
}

int node_start(struct node *node, const char **error_r)
{
	/* Ready before the loops run: the listeners already queue connections, and the first
	   /health a balancer sends must not see "starting" for a node that is up. */
	atomic_store(&node->state, NODE_READY);
	if (node->cfg.configdb_probe_interval_ms > 0)
		node->probe = configdb_probe_start(node->cfg.configdb_url,
		                                   node->cfg.configdb_probe_interval_ms,
		                                   node->cfg.configdb_probe_timeout_ms);
	/* Membership before the loops run: handlers read node->cluster.membership without a
	   lock. */
	node_cluster_start(&node->cluster, member_fill, node);
	if (http_server_start(node->http, error_r) < 0)
		return -1;
	for (unsigned i = 0; i < node->cfg.listen_count; i++)
		log_info("node", "listening on http://%s/ (route %s, version %s)",
		         http_server_address(node->http, i), node->cfg.route, TANDEM_VERSION);
	if (node->cfg.ajp.listen != NULL && node->cfg.ajp.secret[0] == '\0')
		log_warn("node",
		         "listening on ajp://%s/ WITHOUT a secret ([ajp] allow_no_secret): every "
		         "local process can send requests in any client's name",
		         http_server_address(node->http, (unsigned)node->cfg.listen_count));
	else if (node->cfg.ajp.listen != NULL)
		log_info("node", "listening on ajp://%s/ (secret required)",
		         http_server_address(node->http, (unsigned)node->cfg.listen_count));
	if (node->cfg.announce != NULL) {
		struct announce_settings aset = {.group = node->cfg.announce,
		                                 .interface = node->cfg.announce_interface,
		                                 .interval_ms = node->cfg.announce_interval_ms,
		                                 .key = &node->cfg.announce_key};
		struct announce_sender **sender = &node->announcer;
		if (announce_sender_start(&aset, announce_fill, node, sender, error_r) < 0)
			return -1;
		log_info("node", "announcing on %s every %llu ms", node->cfg.announce,
		         (unsigned long long)node->cfg.announce_interval_ms);
	}
	return 0;
}

bool node_drain_begin(struct node *node)
{
	int state = atomic_load(&node->state);
	do {
		if (state == NODE_DRAINING)
			return false;
	} while (!atomic_compare_exchange_weak(&node->state, &state, NODE_DRAINING));
	atomic_store(&node->drain_wall_ms, clock_wall_ms());
	node_cluster_state_changed(&node->cluster);
	if (node->cfg.drain_grace_ms > 0)
		log_info("node", "draining: /health 503, logins refused; still serving for %llu ms",
		         (unsigned long long)node->cfg.drain_grace_ms);
	return true;
}

void node_drain(struct node *node)
{
	node_drain_begin(node);
	log_info("node", "draining: finishing in-flight requests (up to %llu ms)",
	         (unsigned long long)node->cfg.drain_timeout_ms);
	unsigned cut = http_server_shutdown(node->http, node->cfg.drain_timeout_ms);
	if (cut > 0)
		log_warn("node", "drain timed out: %u connections cut", cut);
	/* Handlers still queued finish before the pool is gone. */
	worker_pool_destroy(&node->workers);
	/* Leave the cluster only now: until here the node was a (draining) member. */
	node_cluster_stop(&node->cluster);
}

void node_deinit(struct node *node)
{
	announce_sender_stop(&node->announcer); /* its fill reads node->http */
	api_mail_events_stop(); /* its watchers post to the loops and hold pooled connections */
	announce_key_wipe(&node->cfg.announce_key);
	explicit_bzero(node->cfg.mail.master_password, sizeof(node->cfg.mail.master_password));
	worker_pool_destroy(&node->workers);
	http_server_destroy(&node->http);
	http_router_destroy(&node->router); /* after the last request */
	configdb_probe_stop(&node->probe);  /* /health read it */
	if (node->admin_auth != NULL) {
		/* the stream reader calls into the caches and provisioning: stop it first */
		node_cluster_stop(&node->cluster);
		struct provision *prov = atomic_exchange(&node->prov, NULL);
		provision_close(&prov);
		admin_auth_destroy(&node->admin_auth);
		password_set_limits(0, 0); /* the workers are gone */
		sessions_destroy(&node->sessions);
		dav_auth_destroy(&node->dav_auth);
		webui_dir_close(&node->webui);
		imap_pool_destroy(&node->mail_pool);
		node_cluster_deinit(&node->cluster);
		caches_deinit(node);
		pthread_mutex_destroy(&node->prov_lock);
	}
	node_logs_deinit(node); /* last: the threads above log until they stop */
}
