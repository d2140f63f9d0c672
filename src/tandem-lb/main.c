/* SPDX-License-Identifier: MIT */
/* tandem-lb, the session-aware balancer: parse options and config, init, run until a signal,
   deinit. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "balancer.h"
#include "daemon-args.h"
#include "daemon-signals.h"
#include "discovery-listener.h"
#include "health.h"
#include "http-server.h"
#include "http-tls.h"
#include "lb-config.h"
#include "http-access-log.h"
#include "lb-logs.h"
#include "log-syslog.h"
#include "prom.h"
#include "lb-metrics.h"
#include "lb-share.h"
#include "lb-state.h"
#include "log.h"
#include "manager.h"
#include "mem.h"
#include "proxy.h"
#include "sd-notify.h"

#define SHUTDOWN_TIMEOUT_MS 30000

static void usage(FILE *out)
{
	fputs("Usage: tandem-lb --config FILE [--check-config] [--version] [--help]\n"
	      "\n"
	      "The Tandem load balancer: sticky by the JSESSIONID route, weighted by loadfactor,\n"
	      "with health checks and members from [member ROUTE] sections or multicast announce.\n"
	      "\n"
	      "  -c, --config FILE   read settings from FILE (INI; see docs/balancer.md)\n"
	      "      --check-config  validate the configuration, print problems, exit 0 or 1\n"
	      "  -V, --version       print the version and exit\n"
	      "  -h, --help          print this help and exit\n"
	      "\n"
	      "Signals: SIGTERM or SIGINT stop gracefully (in-flight requests finish), SIGHUP\n"
	      "reopens the log file and reloads the configuration (listeners, pools and the\n"
	      "manager's state stay).\n",
	      out);
}

struct lb {
	struct lb_config *lc;
	struct balancer *b;
	struct proxy *proxy;
	struct http_server *server;
	struct discovery_listener *discovery;
	struct health_checker *health;
	struct lb_state *state;
	struct manager *manager;
	struct lb_share *share;             /* [cluster] store set: the manager state is shared */
	struct http_access_log *access_log; /* [log] access, or NULL */
	struct log_syslog *syslog;          /* [log] syslog, or NULL */
	unsigned threads;
	const char *config_path;
	struct lb_config **retired; /* configurations replaced by reloads, freed at exit */
	size_t retired_count;
};

static sigset_t signals; /* daemon_signals_block() */

static void reload(struct lb *lb, const char *path);

/* Takes signals on the main thread until SIGTERM or SIGINT; SIGHUP reopens the log and
   reloads the configuration. */
static void wait_for_stop(struct lb *lb)
{
	for (;;) {
		int sig;
		if (sigwait(&signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			const char *error;
			sd_notify_reloading();
			if (log_reopen(&error) < 0)
				log_error("main", "reopening log: %s", error);
			else if (http_access_log_reopen(lb->access_log, &error) < 0)
				log_error("main", "reopening access log: %s", error);
			else
				log_info("main", "log reopened");
			reload(lb, lb->config_path);
			sd_notify_ready(NULL);
			continue;
		}
		log_info("main", "received %s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		sd_notify_stopping("stopping");
		return;
	}
}

static int add_members(struct lb *lb, const char **error_r)
{
	static __thread char msg[256];
	for (size_t i = 0; i < lb->lc->member_count; i++) {
		const struct lb_member_config *mc = &lb->lc->members[i];
		struct balancer_member_settings ms = {
		    .route = mc->route,
		    .address = mc->address,
		    .loadfactor = mc->loadfactor,
		    .state = mc->state,
		};
		const char *error;
		if (balancer_add(lb->b, &ms, NULL, &error) < 0) {
			snprintf(msg, sizeof(msg), "member %.64s: %s", mc->route, error);
			*error_r = msg;
			return -1;
		}
	}
	return 0;
}

static void metrics(struct buf *out, void *ctx)
{
	struct lb *lb = ctx;
	struct lb_metrics_sources src = {.b = lb->b, .proxy = lb->proxy, .server = lb->server};
	struct health_checker_stats hs;
	struct announce_receiver_stats as;
	health_checker_get_stats(lb->health, &hs);
	src.health_checks = hs.checks;
	src.health_check_failures = hs.checks_failed;
	if (lb->discovery != NULL) {
		discovery_listener_get_stats(lb->discovery, &as);
		src.announce = &as;
	}
	lb_metrics_format(out, &src);
	log_syslog_metrics(out, "tandem_lb_", lb->syslog);
	prom_metric(out, "tandem_lb_access_log_dropped_total", "counter",
	            "Access log lines dropped: the writer's buffer was full.",
	            http_access_log_dropped(lb->access_log));
}

/* ---------------------------------------------------------------- shared manager state
   (lb-share.c; docs/internals/lb-manager.md, "Sharing between balancers") */

/* on_change, on the manager's thread (which owns the state): the change goes to the peers. */
static void share_changed(void *ctx)
{
	struct lb *lb = ctx;
	lb_share_changed(lb->share, lb->state, manager_changes(lb->manager));
}

/* A peer's state, on the share's thread. The manager owns the state while it runs, so it
   goes through the manager; without one, the share's thread is the state's only user. */
static void share_apply(struct strv text, uint64_t changes, void *ctx)
{
	struct lb *lb = ctx;
	const char *error;
	if (lb->manager != NULL)
		manager_apply_shared(lb->manager, text, changes);
	else if (lb_state_follow(lb->state, text, "shared state", lb->b, lb->lc->members,
	                         lb->lc->member_count, &error) < 0)
		log_error("main", "%s", error);
}

/* Before the state is applied: a shared state in Redis wins over the local file, and the
   local one is published when Redis has none. The thread starts after the manager. */
static int start_share(struct lb *lb, const char **error_r)
{
	struct lb_share_settings set = {
	    .store = lb->lc->cluster_store,
	    .url = &lb->lc->store_url,
	    .cluster = lb->lc->cluster_name,
	    .apply = share_apply,
	    .ctx = lb,
	};
	lb->share = lb_share_create(&set, error_r);
	if (lb->share == NULL)
		return -1;
	(void)lb_share_load(lb->share, lb->state);
	return 0;
}

/* ---------------------------------------------------------------- end of shared state */

static int start_manager(struct lb *lb, const char **error_r)
{
	const struct lb_config *lc = lb->lc;
	struct manager_settings ms = {
	    .user = lc->admin_user,
	    .password = lc->admin_password,
	    .password_hash = lc->admin_password_hash,
	    .allow = lc->admin_allow,
	    .allow_count = lc->admin_allow_count,
	    .metrics = metrics,
	    .ctx = lb,
	    .on_change = lb->share != NULL ? share_changed : NULL,
	    .configured = lc->members,
	    .configured_count = lc->member_count,
	};
	lb->manager = manager_create(&ms, lb->b, lb->state);
	if (manager_start(lb->manager, lc->admin_listen, error_r) < 0)
		return -1;
	log_info("main", "manager on http://%s/manager/ (state in %s)",
	         manager_address(lb->manager), lc->state_file);
	return 0;
}

/* ---------------------------------------------------------------- TLS termination
   (docs/internals/tls.md): the [tls] listeners, and the [listen] ones as redirects to them. */

/* Loads [tls] certificate and key if TLS is configured (else *ctx_r = NULL): 0, or -1 with a
   reason naming the file. */
static int tls_context(const struct lb_config *lc, struct http_tls_ctx **ctx_r,
                       const char **error_r)
{
	*ctx_r = NULL;
	if (lc->tls_listen_count == 0)
		return 0;
	return http_tls_ctx_create(lc->tls_certificate, lc->tls_key, ctx_r, error_r);
}

/* Binds the [listen] addresses first, so that listener i < listen_count is [listen] i, then
   the [tls] ones. */
static int listen_all(struct lb *lb, const char **error_r)
{
	const struct lb_config *lc = lb->lc;
	struct http_tls_ctx *tls;
	int ret = -1;

	if (tls_context(lc, &tls, error_r) < 0)
		return -1;
	for (size_t i = 0; i < lc->listen_count; i++) {
		if ((lc->tls_redirect
		         ? http_server_listen_https_redirect(lb->server, lc->listen[i], error_r)
		         : http_server_listen(lb->server, lc->listen[i], error_r)) < 0)
			goto out;
	}
	for (size_t i = 0; i < lc->tls_listen_count; i++) {
		if (http_server_listen_tls(lb->server, lc->tls_listen[i], tls, error_r) < 0)
			goto out;
		log_info("main", "TLS on %s (certificate %s)%s",
		         http_server_address(lb->server, (unsigned)(lc->listen_count + i)),
		         lc->tls_certificate,
		         lc->tls_redirect && i == 0 ? "; [listen] addresses redirect here" : "");
	}
	ret = 0;
out:
	http_tls_ctx_unref(&tls);
	return ret;
}

/* ---------------------------------------------------------------- end of TLS termination */

/* ---------------------------------------------------------------- settings from the file */

static struct balancer_settings balancer_settings_of(const struct lb_config *lc)
{
	return (struct balancer_settings){.method = lc->method,
	                                  .retry_ms = lc->retry_ms,
	                                  .health_rise = lc->health_rise,
	                                  .health_fall = lc->health_fall};
}

static struct health_settings health_settings_of(const struct lb_config *lc)
{
	return (struct health_settings){.uri = lc->health_uri,
	                                .interval_ms = lc->health_interval_ms,
	                                .timeout_ms = lc->health_timeout_ms};
}

static struct proxy_settings proxy_settings_of(const struct lb_config *lc, unsigned threads)
{
	return (struct proxy_settings){
	    .sticky = {.cookie = strv_from_cstr(lc->sticky_cookie),
	               .separator = lc->sticky_separator,
	               .param = strv_from_cstr(lc->sticky_param)},
	    .upstream = {.connect_timeout_ms = lc->connect_timeout_ms,
	                 /* the caps are per member; each loop thread has its own pool */
	                 .pool_min = (lc->pool_min + threads - 1) / threads,
	                 .pool_max = (lc->pool_max + threads - 1) / threads,
	                 .idle_ttl_ms = lc->pool_idle_ttl_ms},
	    .read_timeout_ms = lc->read_timeout_ms,
	    .write_timeout_ms = lc->write_timeout_ms,
	    .trusted_proxies = lc->trusted_proxies,
	    .trusted_proxy_count = lc->trusted_proxy_count,
	    .access = lc->access,
	    .access_count = lc->access_count,
	    .proto = "http",
	    .buffer_body = lc->buffer_body,
	};
}

/* ---------------------------------------------------------------- reload (SIGHUP) */

static const struct lb_member_config *member_in(const struct lb_config *lc, const char *route)
{
	for (size_t i = 0; i < lc->member_count; i++) {
		if (strcmp(lc->members[i].route, route) == 0)
			return &lc->members[i];
	}
	return NULL;
}

/* What changed in the file's [member] sections happens to the table: new sections are added,
   removed ones removed, and a changed url, loadfactor or state is applied. What the file did
   not change stays as the manager (or discovery) left it. */
static void reload_members(struct lb *lb, const struct lb_config *old, const struct lb_config *nc)
{
	for (size_t i = 0; i < old->member_count; i++) {
		if (member_in(nc, old->members[i].route) == NULL &&
		    balancer_remove(lb->b, strv_from_cstr(old->members[i].route)) == 0)
			log_info("main", "reload: member %s removed", old->members[i].route);
	}
	for (size_t i = 0; i < nc->member_count; i++) {
		const struct lb_member_config *m = &nc->members[i], *was = member_in(old, m->route);
		struct strv route = strv_from_cstr(m->route);
		if (was != NULL && strcmp(was->address, m->address) != 0)
			balancer_remove(lb->b, route);
		if (was == NULL || strcmp(was->address, m->address) != 0) {
			struct balancer_member_settings ms = {.route = m->route,
			                                      .address = m->address,
			                                      .loadfactor = m->loadfactor,
			                                      .state = m->state};
			const char *error;
			if (balancer_add(lb->b, &ms, NULL, &error) < 0)
				log_error("main", "reload: member %s: %s", m->route, error);
			else
				log_info("main", "reload: member %s at %s", m->route, m->address);
			continue;
		}
		if (was->loadfactor != m->loadfactor)
			balancer_set_loadfactor(lb->b, route, m->loadfactor);
		if (was->state != m->state)
			balancer_set_state(lb->b, route, m->state);
	}
}

/* Names the first setting that needs a restart to change, or NULL. */
static const char *needs_restart(const struct lb_config *a, const struct lb_config *b)
{
	bool same_listen = a->listen_count == b->listen_count;
	for (size_t i = 0; same_listen && i < a->listen_count; i++)
		same_listen = strcmp(a->listen[i], b->listen[i]) == 0;
	if (!same_listen || a->threads != b->threads ||
	    a->max_conns_per_source != b->max_conns_per_source)
		return "[listen]";
	if (a->body_min_rate != b->body_min_rate ||
	    a->body_rate_window_ms != b->body_rate_window_ms)
		return "[balancer] body_min_rate and body_rate_window";
	if (memcmp(&a->limits, &b->limits, sizeof(a->limits)) != 0)
		return "[http]";
	if (a->tls_listen_count != b->tls_listen_count || a->tls_redirect != b->tls_redirect)
		return "[tls]";
	if ((a->admin_listen == NULL) != (b->admin_listen == NULL) ||
	    (a->admin_listen != NULL && strcmp(a->admin_listen, b->admin_listen) != 0))
		return "[admin]";
	if ((a->announce == NULL) != (b->announce == NULL) ||
	    (a->cluster_store == NULL) != (b->cluster_store == NULL) ||
	    !announce_key_equal(&a->announce_key, &b->announce_key) ||
	    memcmp(&a->store_url, &b->store_url, sizeof(a->store_url)) != 0)
		return "[cluster]";
	return NULL;
}

/* SIGHUP: re-read the file and apply what can change while serving; listeners, pools, the
   manager and its state, discovery and health history stay. An invalid file changes
   nothing. */
static void reload(struct lb *lb, const char *path)
{
	struct lb_config *nc;
	const char *error;

	if (lb_config_load(path, &nc, &error) < 0) {
		log_error("main", "reload: %s is invalid, nothing changed:\n%s", path, error);
		return;
	}
	const char *restart = needs_restart(lb->lc, nc);
	if (restart != NULL)
		log_warn("main", "reload: changes in %s take effect at the next restart", restart);
	log_set_level(nc->log_level);
	struct balancer_settings bs = balancer_settings_of(nc);
	balancer_set_settings(lb->b, &bs);
	struct health_settings hs = health_settings_of(nc);
	health_checker_set_settings(lb->health, &hs);
	reload_members(lb, lb->lc, nc);
	struct proxy_settings ps = proxy_settings_of(nc, lb->threads);
	proxy_set_settings(lb->proxy, &ps);
	health_checker_check_now(lb->health);
	/* Requests in flight and the manager may still use the old file's strings. */
	lb->retired = mem_realloc(lb->retired, (lb->retired_count + 1) * sizeof(*lb->retired));
	lb->retired[lb->retired_count++] = lb->lc;
	lb->lc = nc;
	log_info("main", "reloaded %s (%zu member%s, %s)", path, balancer_count(lb->b),
	         balancer_count(lb->b) == 1 ? "" : "s", balancer_method_name(nc->method));
}

/* ---------------------------------------------------------------- start and stop */

static int start(struct lb *lb, const char **error_r)
{
	const struct lb_config *lc = lb->lc;
	struct balancer_settings bs = balancer_settings_of(lc);
	lb->b = balancer_create(&bs);
	if (add_members(lb, error_r) < 0)
		return -1;
	/* The operator's changes from the manager win over the file, and come before discovery
	   can add members. A corrupt state file stops the start: silently forgetting that a node
	   is in maintenance would send it traffic. */
	if (lb_state_load(lc->state_file, &lb->state, error_r) < 0 ||
	    (lc->cluster_store != NULL && start_share(lb, error_r) < 0) ||
	    lb_state_apply(lb->state, lb->b, error_r) < 0)
		return -1;

	struct health_settings hs = health_settings_of(lc);
	lb->health = health_checker_create(lb->b, &hs);
	if (health_checker_start(lb->health, error_r) < 0)
		return -1;

	if (lc->announce != NULL) {
		struct announce_settings as = {.group = lc->announce,
		                               .interface = lc->announce_interface,
		                               .key = &lc->announce_key,
		                               .log_drops = true};
		struct discovery_settings ds = {.cluster = lc->cluster_name,
		                                .member_ttl_ms = lc->member_ttl_ms};
		if (discovery_listener_start(lb->b, &as, &ds, &lb->discovery, error_r) < 0)
			return -1;
	}

	unsigned threads = lc->threads;
	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (unsigned)cpus : 1;
	}
	lb->threads = threads;
	struct proxy_settings ps = proxy_settings_of(lc, threads);
	lb->proxy = proxy_create(lb->b, &ps);

	struct http_server_settings ss = {.limits = lc->limits,
	                                  .threads = threads,
	                                  .max_conns_per_source = lc->max_conns_per_source,
	                                  .body_min_rate = lc->body_min_rate,
	                                  .body_rate_window_ms = lc->body_rate_window_ms};
	proxy_server_settings(lb->proxy, &ss);
	if (lc->access_log != NULL || lc->access_syslog) {
		if (lb_logs_open(lc, lb->syslog, &lb->access_log, error_r) < 0)
			return -1;
		ss.on_access = http_access_log_request;
		ss.access_ctx = lb->access_log;
	}
	lb->server = http_server_create(&ss);
	/* The manager first: once the proxy's port accepts, the whole balancer is up. */
	if (lc->admin_listen != NULL && start_manager(lb, error_r) < 0)
		return -1;
	if (listen_all(lb, error_r) < 0)
		return -1;
	if (http_server_start(lb->server, error_r) < 0)
		return -1;
	if (lb->share != NULL && lb_share_start(lb->share, error_r) < 0)
		return -1;
	for (unsigned i = 0; i < lc->listen_count; i++)
		log_info("main", "tandem-lb %s listening on %s (%zu member%s, %s)",
		         TANDEM_LB_VERSION, http_server_address(lb->server, i),
		         balancer_count(lb->b), balancer_count(lb->b) == 1 ? "" : "s",
		         balancer_method_name(lc->method));
	return 0;
}

static void stop(struct lb *lb)
{
	lb_share_destroy(&lb->share); /* before the manager it hands peers' states to */
	manager_destroy(&lb->manager);
	if (lb->server != NULL) {
		unsigned cut = http_server_shutdown(lb->server, SHUTDOWN_TIMEOUT_MS);
		if (cut > 0)
			log_warn("main", "%u connection(s) cut at shutdown", cut);
		http_server_destroy(&lb->server);
	}
	http_access_log_close(
	    &lb->access_log); /* after the server: its connections log as they close */
	proxy_destroy(&lb->proxy);
	discovery_listener_stop(&lb->discovery);
	health_checker_destroy(&lb->health);
	balancer_destroy(&lb->b);
	lb_state_free(&lb->state);
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct lb lb;
	const char *error;
	int code = daemon_args_parse(argc, argv, "tandem-lb", TANDEM_LB_VERSION, usage, &args);
	if (code >= 0)
		return code;
	if (args.config_path == NULL) {
		fputs("tandem-lb: --config FILE is required\n", stderr);
		usage(stderr);
		return 2;
	}
	memset(&lb, 0, sizeof(lb));
	lb.config_path = args.config_path;
	if (lb_config_load(args.config_path, &lb.lc, &error) < 0) {
		fprintf(stderr, "tandem-lb: configuration invalid:\n%s\n", error);
		return 1;
	}
	if (args.check_only) {
		struct lb_state *state;
		if (lb_state_load(lb.lc->state_file, &state, &error) < 0) {
			fprintf(stderr, "tandem-lb: %s\n", error);
			lb_config_free(&lb.lc);
			return 1;
		}
		lb_state_free(&state);
		printf("%s: configuration OK (%zu static member%s, %s%s)\n", args.config_path,
		       lb.lc->member_count, lb.lc->member_count == 1 ? "" : "s",
		       balancer_method_name(lb.lc->method),
		       lb.lc->announce != NULL ? ", discovery by announce" : "");
		lb_config_free(&lb.lc);
		return 0;
	}
	if (log_init("lb", lb.lc->log_level, lb.lc->log_file, &error) < 0) {
		fprintf(stderr, "tandem-lb: %s\n", error);
		lb_config_free(&lb.lc);
		return 1;
	}

	daemon_signals_block(&signals);
	if (lb.lc->syslog_enabled) {
		lb.syslog = log_syslog_start(&lb.lc->syslog);
		log_set_tee(log_syslog_tee, lb.syslog);
	}

	code = 0;
	if (start(&lb, &error) < 0) {
		log_error("main", "cannot start: %s", error);
		fprintf(stderr, "tandem-lb: cannot start: %s\n", error);
		code = 1;
	} else {
		sd_notify_ready("serving");
		wait_for_stop(&lb);
	}
	stop(&lb);
	lb_config_free(&lb.lc);
	for (size_t i = 0; i < lb.retired_count; i++)
		lb_config_free(&lb.retired[i]);
	mem_free(&lb.retired);
	if (code == 0)
		log_info("main", "stopped");
	log_set_tee(NULL, NULL);
	log_syslog_stop(&lb.syslog, 1000);
	return code;
}
