/* SPDX-License-Identifier: MIT */
/* tandem-lb's configuration: the schema of its INI file and the settings derived from it. */
#ifndef TANDEM_LB_CONFIG_H
#define TANDEM_LB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "announce-key.h"
#include "balancer.h"
#include "http-parser.h"
#include "log-syslog.h"
#include "log.h"
#include "redis-url.h"

struct config;
struct lb_access_rule;

#define LB_CONFIG_ROUTE_MAX 48 /* like tandemd's [server] route */

/* An IPv4 or IPv6 network. IPv4 networks also match IPv4-mapped IPv6 addresses. */
struct lb_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix; /* 0-32 or 0-128 */
};

struct lb_member_config {
	const char *route;                      /* the section name after "member " */
	const char *url;                        /* as written */
	char address[BALANCER_ADDRESS_MAX + 1]; /* host:port from the URL */
	unsigned loadfactor;
	enum balancer_state state;
};

struct lb_config {
	struct config *config; /* the loaded file; owns the strings below */
	/* [listen] */
	const char *const *listen;
	size_t listen_count;
	unsigned threads;              /* loop threads, 0 = one per CPU */
	unsigned max_conns_per_source; /* 0 = no cap; trusted_proxies are not counted */
	/* [http] */
	struct http_limits limits;
	/* [balancer] */
	const char *sticky_cookie; /* "" = no cookie stickiness */
	char sticky_separator;
	const char *sticky_param; /* "" = no path or query stickiness */
	enum balancer_method method;
	uint64_t retry_ms;
	const char *health_uri;
	uint64_t health_interval_ms;
	unsigned health_rise;
	unsigned health_fall;
	uint64_t health_timeout_ms;
	uint64_t connect_timeout_ms;
	uint64_t read_timeout_ms;
	uint64_t write_timeout_ms;
	unsigned pool_min; /* idle keep-alive connections kept per member */
	unsigned pool_max; /* connections per member */
	uint64_t pool_idle_ttl_ms;
	struct lb_cidr *trusted_proxies;
	size_t trusted_proxy_count;
	uint64_t buffer_body;   /* bodies read whole before a member is picked */
	uint64_t body_min_rate; /* bytes/s over each body_rate_window; 0 = none */
	uint64_t body_rate_window_ms;
	struct lb_cidr *admin_paths_allow; /* admin_allow: who reaches /admin and /metrics */
	size_t admin_paths_allow_count;
	/* [access PATH] in file order, then the default rules for /admin and /metrics (allow =
	   admin_allow) where no section of that path is given */
	struct lb_access_rule *access;
	size_t access_count;
	/* [member ROUTE], file order */
	struct lb_member_config *members;
	size_t member_count;
	/* [admin]; admin_listen NULL = no manager */
	const char *admin_listen;
	struct lb_cidr *admin_allow;
	size_t admin_allow_count;
	const char *admin_user;
	const char *admin_password;      /* exactly one of these two when admin_listen is set */
	const char *admin_password_hash; /* argon2id string */
	char state_file[4096]; /* manager changes; relative paths resolved beside the config */
	/* [cluster] */
	const char *cluster_name;
	const char *cluster_store;  /* NULL = state not shared */
	struct redis_url store_url; /* the store with its store_* keys, when it is set */
	const char *announce;       /* group:port, NULL = no discovery */
	const char *announce_interface;
	struct announce_key announce_key; /* announce_key or announce_key_file; len 0 = none */
	uint64_t member_ttl_ms;
	/* [tls]; tls_listen_count 0 = no TLS. Relative file names are resolved beside the
	   config; the files are only read by http_tls_ctx_create(). */
	const char *const *tls_listen;
	size_t tls_listen_count;
	char tls_certificate[4096];
	char tls_key[4096];
	bool tls_redirect; /* the [listen] addresses answer 301 to https:// and never proxy */
	/* [log] */
	enum log_level log_level;
	const char *log_file;   /* NULL = stderr */
	const char *access_log; /* [log] access: a file, or NULL = off (or syslog) */
	bool access_syslog;     /* [log] access = syslog */
	bool syslog_enabled;    /* [log] syslog set */
	struct log_syslog_settings syslog;
};

/* Loads and checks path. Schema problems (unknown keys, bad values) come from config_load(),
   each as "file:line: message"; if there are none, every semantic problem is reported the same
   way, with the line of the offending key or [member] header ("file: message" when no line
   applies, e.g. no members at all), joined by newlines. *error_r stays valid until the next
   call on this thread. The result's strings live as long as it. */
int lb_config_load(const char *path, struct lb_config **lc_r, const char **error_r);
void lb_config_free(struct lb_config **lc);

/* Parses a list of networks separated by commas and/or blanks ("10.0.0.0/8, ::1"); a bare
   address is a host network. Host bits set past the prefix are an error (10.0.0.1/8 is most
   likely a typo). Returns 0 with a new array (mem_free()) in *cidrs_r, or -1 with a static
   message; an empty list gives count 0. */
int lb_cidr_parse_list(const char *s, struct lb_cidr **cidrs_r, size_t *count_r,
                       const char **error_r);
/* True if addr (AF_INET or AF_INET6; NULL = false) lies in one of the networks. */
bool lb_cidr_match(const struct lb_cidr *cidrs, size_t count, const struct sockaddr *addr);

/* Splits a member URL "http://host[:port][/]" (port default 80) into "host:port" (v6 in
   brackets) in address (size > BALANCER_ADDRESS_MAX). Returns 0, or -1 with a static
   message. */
int lb_member_url_parse(const char *url, char *address, size_t address_size, const char **error_r);

#endif
