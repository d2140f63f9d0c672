/* SPDX-License-Identifier: MIT */
/* tandemd's configuration schema (docs/configuration.md) and its translation into settings. */
#include "node-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "announce.h"
#include "config-check.h"
#include "config.h"
#include "http-config.h"
#include "log-syslog.h"
#include "mail-config.h"
#include "redis-config.h"
#include "webui-dir.h"
#include "sql.h"

static const struct config_key schema[] = {
    {"server", "name", CONFIG_STRING, "tandem", false},
    {"server", "route", CONFIG_STRING, "OX-1", false},
    {"server", "listen", CONFIG_ADDRESS, "127.0.0.1:8009", true},
    {"server", "workers", CONFIG_UINT, "16", false},
    {"server", "io_threads", CONFIG_UINT, "0", false},
    {"server", "data_dir", CONFIG_STRING, "./tandem-data", false},
    {"server", "drain_timeout", CONFIG_DURATION, "30s", false},
    {"server", "drain_grace", CONFIG_DURATION, "0s", false},
    {"server", "trusted_proxies", CONFIG_STRING, NULL, true},
    {"server", "max_concurrent_hashing", CONFIG_UINT, "0", false},
    {"server", "hashing_wait", CONFIG_DURATION, "2s", false},
    {"server", "max_connections_per_source", CONFIG_UINT, "1024", false},
    HTTP_CONFIG_KEYS,
    AJP_CONFIG_KEYS,
    {"configdb", "url", CONFIG_STRING, NULL, false},
    {"configdb", "read_url", CONFIG_STRING, NULL, false},
    {"configdb", "contexts_per_schema", CONFIG_UINT, "1000", false},
    {"configdb", "probe_interval", CONFIG_DURATION, "1s", false},
    {"configdb", "probe_timeout", CONFIG_DURATION, "2s", false},
    {"database", "replica_wait", CONFIG_DURATION, "50ms", false},
    {"database", "idle_check", CONFIG_DURATION, "1s", false},
    {"database", "down_backoff", CONFIG_DURATION, "1s", false},
    {"database", "connect_timeout", CONFIG_DURATION, "2s", false},
    {"database", "replica_reads", CONFIG_BOOL, "true", false},
    {"session", "lifetime", CONFIG_DURATION, "1h", false},
    {"session", "long_lifetime", CONFIG_DURATION, "1w", false},
    {"session", "max_per_user", CONFIG_UINT, "100", false},
    {"session", "ip_check", CONFIG_STRING, "none", false},
    {"session", "cookie_salt", CONFIG_STRING, NULL, false},
    {"cluster", "name", CONFIG_STRING, "tandem", false},
    {"cluster", "store", CONFIG_STRING, "memory", false},
    REDIS_CONFIG_KEYS,
    {"cluster", "backup_count", CONFIG_UINT, "0", false},
    {"cluster", "async_backup_count", CONFIG_UINT, "0", false},
    {"cluster", "strict", CONFIG_BOOL, "false", false},
    {"cluster", "backup_timeout", CONFIG_DURATION, "200ms", false},
    {"cluster", "timeout", CONFIG_DURATION, "1s", false},
    {"cluster", "heartbeat", CONFIG_DURATION, "1s", false},
    {"cluster", "member_ttl", CONFIG_DURATION, "5s", false},
    {"cluster", "stream_maxlen", CONFIG_UINT, "100000", false},
    {"cluster", "announce", CONFIG_ADDRESS, NULL, false},
    {"cluster", "announce_interface", CONFIG_STRING, NULL, false},
    {"cluster", "announce_interval", CONFIG_DURATION, "1s", false},
    {"cluster", "announce_key", CONFIG_STRING, NULL, false},
    {"cluster", "announce_key_file", CONFIG_STRING, NULL, false},
    {"limits", "max_objects_per_context", CONFIG_UINT, "100000", false},
    {"calendar", "tombstone_days", CONFIG_UINT, "90", false},
    {"dav", "basic_over_http", CONFIG_BOOL, "false", false},
    {"dav", "auth_cache_ttl", CONFIG_DURATION, "60s", false},
    {"access *", "modules", CONFIG_STRING, NULL, false},
    {"webui", "directory", CONFIG_STRING, NULL, false},
    {"log", "level", CONFIG_STRING, "info", false},
    {"log", "file", CONFIG_STRING, NULL, false},
    {"log", "access", CONFIG_STRING, "off", false},
    {"log", "syslog", CONFIG_STRING, NULL, false},
    {"log", "syslog_facility", CONFIG_STRING, "daemon", false},
    {"log", "syslog_app", CONFIG_STRING, "tandemd", false},
    MAIL_CONFIG_KEYS,
    {"auth", "method", CONFIG_STRING, "local", false},
    {NULL, NULL, CONFIG_STRING, NULL, false},
};

static int check_route(const char *route, const char **error_r)
{
	/* The route travels in a cookie value after a '.', so keep it to token-ish bytes. */
	if (route[0] == '\0' || strlen(route) > 48) {
		*error_r = "[server] route must be 1 to 48 characters";
		return -1;
	}
	for (const char *p = route; *p != '\0'; p++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
		           *p) == NULL) {
			*error_r = "[server] route may only contain letters, digits, '-' and '_'";
			return -1;
		}
	}
	return 0;
}

/* Cluster names go into Redis key names and announce datagrams. */
static int check_cluster_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789-_") != n)
		return -1;
	return 0;
}

/* The [access NAME] sections, then the built-in "all" unless one redefines it. */
static int load_access(const struct config *cfg, struct node_config *nc, const char **section_r,
                       const char **problem_r)
{
	static __thread char msg[300];
	size_t count;
	const char *const *sections = config_sections(cfg, "access", &count);
	bool all = false;
	nc->access_count = 0;
	for (size_t i = 0; i < count; i++) {
		const char *name = sections[i] + strlen("access ");
		const char *modules = config_get_str(cfg, sections[i], "modules"), *problem;
		*section_r = sections[i];
		if (i >= NODE_MAX_ACCESS - 1) {
			*problem_r = "at most 63 [access NAME] sections";
			return -1;
		}
		if ((problem = access_check_name(name)) != NULL) {
			snprintf(msg, sizeof(msg), "[%s]: %s", sections[i], problem);
			*problem_r = msg;
			return -1;
		}
		if (modules == NULL) {
			snprintf(msg, sizeof(msg), "[%s] needs modules = … (e.g. files, calendar)",
			         sections[i]);
			*problem_r = msg;
			return -1;
		}
		struct node_access *a = &nc->access[nc->access_count++];
		a->name = name;
		if (access_parse_modules(modules, &a->modules, &problem) < 0) {
			snprintf(msg, sizeof(msg), "[%s] modules: %s", sections[i], problem);
			*problem_r = msg;
			return -1;
		}
		all = all || strcmp(name, ACCESS_DEFAULT_NAME) == 0;
	}
	if (!all)
		nc->access[nc->access_count++] =
		    (struct node_access){ACCESS_DEFAULT_NAME, ACCESS_ALL | ACCESS_RESOLVED};
	return 0;
}

/* Every trusted_proxies line, each a list of networks. */
static int load_trusted_proxies(const struct config *cfg, struct node_config *nc,
                                const char **problem_r)
{
	static __thread char msg[240];
	size_t n;
	const char *const *values = config_get_all(cfg, "server", "trusted_proxies", &n);
	const char *error;
	for (size_t i = 0; i < n; i++) {
		if (cidr_parse_list(values[i], nc->trusted_proxies, NODE_TRUSTED_PROXIES_MAX,
		                    &nc->trusted_proxy_count, &error) < 0) {
			snprintf(msg, sizeof(msg), "[server] trusted_proxies: %s", error);
			*problem_r = msg;
			return -1;
		}
	}
	return 0;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n >= 2 ? (unsigned)(n > 256 ? 256 : n) : 2;
}

static int check_announce(const struct node_config *nc, const char **problem_r)
{
	static __thread char msg[200];
	struct announce_settings set = {.group = nc->announce,
	                                .interface = nc->announce_interface,
	                                .interval_ms = nc->announce_interval_ms};
	const char *error;
	if (announce_settings_check(&set, &error) < 0) {
		snprintf(msg, sizeof(msg), "[cluster] announce: %s", error);
		*problem_r = msg;
		return -1;
	}
	return 0;
}

/* memory, or a Redis URL with its store_* keys loaded into nc->store_url. */
static int check_store(struct node_config *nc, const struct config *cfg, const char *path,
                       const char **key_r, const char **problem_r)
{
	if (strcmp(nc->cluster_store, "memory") == 0)
		return redis_config_unused(cfg, key_r, problem_r);
	if (strncmp(nc->cluster_store, "redis", 5) != 0) {
		*key_r = "store";
		*problem_r =
		    "[cluster] store must be memory, redis://host:port/db, "
		    "rediss://host:port/db (TLS), redis-sentinel://host:port,.../mastername "
		    "or rediss-sentinel://host:port,.../mastername (TLS)";
		return -1;
	}
	return redis_config_load(cfg, path, &nc->store_url, key_r, problem_r);
}

/* What the start would refuse on this host: listeners it cannot bind, a data_dir or log file
   it cannot create, an announce interface that is not local; and database URLs that could
   never open. Returns 0, or -1 with the key at fault (the value's index for listen). */
static int check_host(const struct node_config *nc, const char **section_r, const char **key_r,
                      size_t *index_r, const char **problem_r)
{
	static __thread char msg[800];
	const char *error;
	struct sql_url url;
	*index_r = 0;
#define HOST_PROBLEM(s, k, ...)                                                                    \
	do {                                                                                       \
		*section_r = (s);                                                                  \
		*key_r = (k);                                                                      \
		snprintf(msg, sizeof(msg), __VA_ARGS__);                                           \
		*problem_r = msg;                                                                  \
		return -1;                                                                         \
	} while (0)
	if (nc->listen_count > 16)
		HOST_PROBLEM("server", "listen", "[server] listen: at most 16 addresses");
	if (config_check_listeners(nc->listen, nc->listen_count, index_r, &error) < 0)
		HOST_PROBLEM("server", "listen", "[server] listen %s", error);
	if (nc->ajp.listen != NULL) {
		/* the AJP listener last: it may clash with none of the HTTP ones */
		const char *all[17];
		memcpy(all, nc->listen, nc->listen_count * sizeof(all[0]));
		all[nc->listen_count] = nc->ajp.listen;
		if (config_check_listeners(all, nc->listen_count + 1, index_r, &error) < 0) {
			*index_r = 0;
			HOST_PROBLEM("ajp", "listen", "[ajp] listen %s", error);
		}
	}
	*index_r = 0;
	if (config_check_dir(nc->data_dir, &error) < 0)
		HOST_PROBLEM("server", "data_dir", "[server] data_dir: %s", error);
	if (nc->webui_dir != NULL && nc->webui_explicit) {
		char index[4200];
		snprintf(index, sizeof(index), "%s/index.html", nc->webui_dir);
		if (access(index, R_OK) < 0)
			HOST_PROBLEM("webui", "directory",
			             "[webui] directory: %s holds no readable index.html (%s)",
			             nc->webui_dir, strerror(errno));
	}
	if (nc->log_file != NULL && config_check_writable_file(nc->log_file, &error) < 0)
		HOST_PROBLEM("log", "file", "[log] file: %s", error);
	if (nc->access_log != NULL && config_check_writable_file(nc->access_log, &error) < 0)
		HOST_PROBLEM("log", "access", "[log] access: %s", error);
	if (nc->announce_interface != NULL &&
	    config_check_local_host(nc->announce_interface, &error) < 0)
		HOST_PROBLEM("cluster", "announce_interface", "[cluster] announce_interface: %s",
		             error);
	if (sql_url_parse(nc->configdb_url, &url, &error) < 0)
		HOST_PROBLEM("configdb", "url", "[configdb] url: %s", error);
	if (nc->configdb_read_url != NULL && sql_url_parse(nc->configdb_read_url, &url, &error) < 0)
		HOST_PROBLEM("configdb", "read_url", "[configdb] read_url: %s", error);
#undef HOST_PROBLEM
	return 0;
}

int node_config_load(const char *path, struct node_config *nc, struct config **config_r,
                     const char **error_r)
{
	struct config *cfg;

	if (path == NULL)
		cfg = config_defaults(schema);
	else if (config_load(path, schema, &cfg, error_r) < 0)
		return -1;

	memset(nc, 0, sizeof(*nc));
	nc->name = config_get_str(cfg, "server", "name");
	nc->route = config_get_str(cfg, "server", "route");
	nc->listen = config_get_all(cfg, "server", "listen", &nc->listen_count);
	nc->workers = (unsigned)config_get_uint(cfg, "server", "workers");
	nc->io_threads = (unsigned)config_get_uint(cfg, "server", "io_threads");
	nc->data_dir = config_get_str(cfg, "server", "data_dir");
	nc->drain_timeout_ms = config_get_duration_ms(cfg, "server", "drain_timeout");
	nc->drain_grace_ms = config_get_duration_ms(cfg, "server", "drain_grace");
	uint64_t hashing = config_get_uint(cfg, "server", "max_concurrent_hashing");
	nc->max_concurrent_hashing = hashing == 0     ? online_cpus()
	                             : hashing > 1024 ? 1025 /* refused below */
	                                              : (unsigned)hashing;
	nc->hashing_wait_ms = config_get_duration_ms(cfg, "server", "hashing_wait");
	nc->max_conns_per_source = config_get_uint(cfg, "server", "max_connections_per_source");

	http_config_limits(cfg, &nc->limits);
	nc->log_file = config_get_str(cfg, "log", "file");
	nc->access_log = config_get_str(cfg, "log", "access");
	nc->access_syslog = strcmp(nc->access_log, "syslog") == 0;
	if (strcmp(nc->access_log, "off") == 0 || nc->access_syslog)
		nc->access_log = NULL;
	const char *cdb = config_get_str(cfg, "configdb", "url");
	if (cdb != NULL)
		snprintf(nc->configdb_url, sizeof(nc->configdb_url), "%s", cdb);
	else
		snprintf(nc->configdb_url, sizeof(nc->configdb_url), "sqlite://%s/configdb.sqlite",
		         nc->data_dir);
	nc->configdb_read_url = config_get_str(cfg, "configdb", "read_url");
	nc->contexts_per_schema = config_get_uint(cfg, "configdb", "contexts_per_schema");
	nc->configdb_probe_interval_ms = config_get_duration_ms(cfg, "configdb", "probe_interval");
	nc->configdb_probe_timeout_ms = config_get_duration_ms(cfg, "configdb", "probe_timeout");
	nc->db_replica_wait_ms = config_get_duration_ms(cfg, "database", "replica_wait");
	nc->db_idle_check_ms = config_get_duration_ms(cfg, "database", "idle_check");
	nc->db_down_backoff_ms = config_get_duration_ms(cfg, "database", "down_backoff");
	nc->db_connect_timeout_ms = config_get_duration_ms(cfg, "database", "connect_timeout");
	nc->db_replica_reads = config_get_bool(cfg, "database", "replica_reads");
	nc->session_lifetime_ms = config_get_duration_ms(cfg, "session", "lifetime");
	nc->session_long_lifetime_ms = config_get_duration_ms(cfg, "session", "long_lifetime");
	nc->session_max_per_user = (unsigned)config_get_uint(cfg, "session", "max_per_user");
	nc->session_ip_check = config_get_str(cfg, "session", "ip_check");
	nc->session_cookie_salt = config_get_str(cfg, "session", "cookie_salt");
	nc->cluster_name = config_get_str(cfg, "cluster", "name");
	nc->cluster_store = config_get_str(cfg, "cluster", "store");
	nc->backup_count = (unsigned)config_get_uint(cfg, "cluster", "backup_count");
	nc->async_backup_count = (unsigned)config_get_uint(cfg, "cluster", "async_backup_count");
	nc->backup_strict = config_get_bool(cfg, "cluster", "strict");
	nc->backup_timeout_ms = config_get_duration_ms(cfg, "cluster", "backup_timeout");
	nc->cluster_timeout_ms = config_get_duration_ms(cfg, "cluster", "timeout");
	nc->heartbeat_ms = config_get_duration_ms(cfg, "cluster", "heartbeat");
	nc->member_ttl_ms = config_get_duration_ms(cfg, "cluster", "member_ttl");
	nc->stream_maxlen = config_get_uint(cfg, "cluster", "stream_maxlen");
	nc->announce = config_get_str(cfg, "cluster", "announce");
	nc->announce_interface = config_get_str(cfg, "cluster", "announce_interface");
	nc->announce_interval_ms = config_get_duration_ms(cfg, "cluster", "announce_interval");
	nc->max_objects_per_context = config_get_uint(cfg, "limits", "max_objects_per_context");
	nc->tombstone_days = config_get_uint(cfg, "calendar", "tombstone_days");
	nc->dav_basic_over_http = config_get_bool(cfg, "dav", "basic_over_http");
	nc->dav_auth_cache_ttl_ms = config_get_duration_ms(cfg, "dav", "auth_cache_ttl");
	const char *auth_method = config_get_str(cfg, "auth", "method");
	nc->auth_imap = strcmp(auth_method, "imap") == 0;
	nc->webui_dir = config_get_str(cfg, "webui", "directory");
	nc->webui_explicit = nc->webui_dir != NULL && strcmp(nc->webui_dir, "off") != 0;
	if (nc->webui_dir == NULL)
		nc->webui_dir = webui_dir_default();
	else if (!nc->webui_explicit)
		nc->webui_dir = NULL;

	const char *section = NULL, *key = NULL, *problem = NULL;
#define PROBLEM(s, k, msg) (section = (s), key = (k), problem = (msg))
	if (check_route(nc->route, &problem) < 0)
		PROBLEM("server", "route", problem);
	else if (log_parse_level(config_get_str(cfg, "log", "level"), &nc->log_level) < 0)
		PROBLEM("log", "level", "[log] level must be debug, info, warn or error");
	else if (log_syslog_configure(config_get_str(cfg, "log", "syslog"),
	                              config_get_str(cfg, "log", "syslog_facility"),
	                              config_get_str(cfg, "log", "syslog_app"), &nc->syslog,
	                              &nc->syslog_enabled, &key, &problem) < 0)
		PROBLEM("log", key, problem);
	else if (nc->access_syslog && !nc->syslog_enabled)
		PROBLEM("log", "access", "[log] access = syslog needs [log] syslog");
	else if (nc->workers == 0 || nc->workers > 1024)
		PROBLEM("server", "workers", "[server] workers must be between 1 and 1024");
	else if (nc->io_threads > 256)
		PROBLEM("server", "io_threads", "[server] io_threads must be at most 256");
	else if (load_access(cfg, nc, &section, &problem) < 0)
		PROBLEM(section, "modules", problem);
	else if (load_trusted_proxies(cfg, nc, &problem) < 0)
		PROBLEM("server", "trusted_proxies", problem);
	else if (nc->max_concurrent_hashing > 1024)
		PROBLEM("server", "max_concurrent_hashing",
		        "[server] max_concurrent_hashing must be at most 1024 (0 = one per CPU)");
	else if (nc->hashing_wait_ms > 60000)
		PROBLEM("server", "hashing_wait", "[server] hashing_wait must be at most 60s");
	else if (nc->max_conns_per_source > 1000000)
		PROBLEM("server", "max_connections_per_source",
		        "[server] max_connections_per_source must be at most 1000000");
	else if (strcmp(nc->session_ip_check, "none") != 0 &&
	         strcmp(nc->session_ip_check, "strict") != 0 &&
	         strcmp(nc->session_ip_check, "subnet") != 0)
		PROBLEM("session", "ip_check", "[session] ip_check must be none, strict or subnet");
	else if (nc->session_max_per_user > 1000)
		PROBLEM("session", "max_per_user", "[session] max_per_user must be at most 1000");
	else if (nc->session_lifetime_ms < 1000)
		PROBLEM("session", "lifetime", "[session] lifetime must be at least 1s");
	else if (check_cluster_name(nc->cluster_name) < 0)
		PROBLEM("cluster", "name",
		        "[cluster] name must be 1-64 letters, digits, '-' or '_'");
	else if (check_store(nc, cfg, path, &key, &problem) < 0)
		PROBLEM("cluster", key, problem);
	else if (nc->backup_count > 16)
		PROBLEM("cluster", "backup_count", "[cluster] backup_count must be at most 16");
	else if (nc->cluster_timeout_ms < 10 || nc->cluster_timeout_ms > 60000)
		PROBLEM("cluster", "timeout", "[cluster] timeout must be between 10ms and 60s");
	else if (nc->heartbeat_ms < 100 || nc->member_ttl_ms < 2 * nc->heartbeat_ms)
		PROBLEM(
		    "cluster", "member_ttl",
		    "[cluster] heartbeat must be at least 100ms and member_ttl at least twice it");
	else if (nc->stream_maxlen < 1000)
		PROBLEM("cluster", "stream_maxlen",
		        "[cluster] stream_maxlen must be at least 1000");
	else if (nc->announce != NULL && check_announce(nc, &problem) < 0)
		PROBLEM("cluster", "announce", problem);
	else if (nc->dav_auth_cache_ttl_ms > 3600000)
		PROBLEM("dav", "auth_cache_ttl", "[dav] auth_cache_ttl must be at most 1h");
	else if (nc->announce_interval_ms < 100)
		PROBLEM("cluster", "announce_interval",
		        "[cluster] announce_interval must be at least 100ms");
	else if (announce_key_configure(config_get_str(cfg, "cluster", "announce_key"),
	                                config_get_str(cfg, "cluster", "announce_key_file"), path,
	                                nc->announce != NULL, &nc->announce_key, &key,
	                                &problem) < 0)
		PROBLEM("cluster", key, problem);
	else if (http_config_ajp(cfg, path, &nc->ajp, &key, &problem) < 0)
		PROBLEM("ajp", key, problem);
	else if (nc->limits.max_headers == 0 || nc->limits.max_headers > 10000)
		PROBLEM("http", "max_headers", "[http] max_headers must be between 1 and 10000");
	else if (nc->limits.max_header_bytes > 1024 * 1024)
		PROBLEM("http", "max_header_bytes", "[http] max_header_bytes must be at most 1M");
	else if (nc->limits.max_line < 256 || nc->limits.max_line > nc->limits.max_header_bytes)
		PROBLEM("http", "max_line",
		        "[http] max_line must be at least 256 and at most max_header_bytes");
	else if (nc->configdb_probe_interval_ms != 0 && nc->configdb_probe_interval_ms < 100)
		PROBLEM("configdb", "probe_interval",
		        "[configdb] probe_interval must be 0 (off) or at least 100ms");
	else if (nc->configdb_probe_timeout_ms < 100 || nc->configdb_probe_timeout_ms > 60000)
		PROBLEM("configdb", "probe_timeout",
		        "[configdb] probe_timeout must be between 100ms and 60s");
	else if (nc->max_objects_per_context > NODE_MAX_OBJECTS_LIMIT)
		PROBLEM(
		    "limits", "max_objects_per_context",
		    "[limits] max_objects_per_context must be at most 1000000000 (0 = no limit)");
	else if (nc->tombstone_days > NODE_TOMBSTONE_DAYS_MAX)
		PROBLEM("calendar", "tombstone_days",
		        "[calendar] tombstone_days must be at most 36500 (0 = keep them all)");
	else if (mail_config_load(cfg, path, &nc->mail, &key, &problem) < 0)
		PROBLEM("mail", key, problem);
	else if (strcmp(auth_method, "local") != 0 && strcmp(auth_method, "imap") != 0)
		PROBLEM("auth", "method", "[auth] method must be local or imap");
	else if (nc->auth_imap && !nc->mail.enabled)
		PROBLEM("auth", "method",
		        "[auth] method = imap needs [mail] imap_url (the IMAP server of users "
		        "without one of their own)");
#undef PROBLEM
	size_t index = 0; /* of the listen value at fault */
	if (problem == NULL)
		(void)check_host(nc, &section, &key, &index, &problem);
	if (problem != NULL) {
		static __thread char msg[1024];
		const char *where = strcmp(section, "server") == 0 && strcmp(key, "listen") == 0
		                        ? config_where_nth(cfg, section, key, index)
		                        : config_where(cfg, section, key);
		snprintf(msg, sizeof(msg), "%s%s%s", where != NULL ? where : "",
		         where != NULL ? ": " : "", problem);
		*error_r = msg;
		config_free(&cfg);
		return -1;
	}
	*config_r = cfg;
	return 0;
}
