/* SPDX-License-Identifier: MIT */
/* tandemd's configuration: the schema of its INI file and the settings derived from it. */
#ifndef TANDEMD_NODE_CONFIG_H
#define TANDEMD_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "announce-key.h"
#include "cidr.h"
#include "http-config.h"
#include "http-parser.h"
#include "log-syslog.h"
#include "log.h"
#include "mail-config.h"
#include "redis-url.h"

#define NODE_TRUSTED_PROXIES_MAX 64

struct config;

#define NODE_MAX_ACCESS 64

struct node_config {
	const char *name;  /* registered server name */
	const char *route; /* JSESSIONID route suffix of this node */
	const char *const *listen;
	size_t listen_count;
	unsigned workers;    /* handler threads */
	unsigned io_threads; /* event-loop threads; 0 = one per CPU */
	const char *data_dir;
	uint64_t drain_timeout_ms;
	uint64_t drain_grace_ms; /* draining but still serving, so balancers notice */
	/* peers whose X-Forwarded-For is believed (docs/internals/client-address.md) */
	struct cidr trusted_proxies[NODE_TRUSTED_PROXIES_MAX];
	size_t trusted_proxy_count;
	unsigned max_concurrent_hashing; /* argon2id runs at once; 0 in the file = CPUs */
	uint64_t hashing_wait_ms;        /* how long a login waits for its turn, then 503 */
	uint64_t max_conns_per_source;   /* 0 = no cap */
	struct http_limits limits;
	struct http_ajp_config ajp; /* [ajp]: the web server in front (docs/operations.md) */
	enum log_level log_level;
	const char *log_file;   /* NULL = stderr */
	const char *access_log; /* [log] access: a file, or NULL = off (or syslog) */
	bool access_syslog;     /* [log] access = syslog */
	bool syslog_enabled;    /* [log] syslog set */
	struct log_syslog_settings syslog;
	char configdb_url[600]; /* default sqlite://<data_dir>/configdb.sqlite */
	const char *configdb_read_url;
	uint64_t contexts_per_schema;
	uint64_t configdb_probe_interval_ms; /* /health's configdb probe; 0 = off */
	uint64_t configdb_probe_timeout_ms;
	/* [database]: replicas and failures (docs/internals/replication.md) */
	uint64_t db_replica_wait_ms; /* how long a read waits for a replica to catch up */
	uint64_t db_idle_check_ms;   /* idle connections older than this are checked */
	uint64_t db_down_backoff_ms; /* a failed database server is left alone this long */
	uint64_t db_connect_timeout_ms;
	bool db_replica_reads; /* false: reads on the primary too (replicas stand by) */
	uint64_t session_lifetime_ms;
	uint64_t session_long_lifetime_ms;
	unsigned session_max_per_user;
	const char *session_ip_check; /* none|strict|subnet */
	const char *session_cookie_salt;
	/* [cluster] */
	const char *cluster_name;   /* Redis namespace tandem:<name>:v1: and announce filter */
	const char *cluster_store;  /* memory | redis[s]://… | redis[s]-sentinel://… */
	struct redis_url store_url; /* the store with its store_* keys, when it is Redis */
	unsigned backup_count;      /* WAIT for this many replicas after a session write */
	unsigned async_backup_count;
	bool backup_strict; /* a WAIT shortfall fails the login */
	uint64_t backup_timeout_ms;
	uint64_t cluster_timeout_ms; /* Redis connect and command timeout */
	uint64_t heartbeat_ms;
	uint64_t member_ttl_ms;
	uint64_t stream_maxlen;
	const char *announce;           /* group:port or NULL */
	const char *announce_interface; /* address of the sending interface or NULL */
	uint64_t announce_interval_ms;
	struct announce_key announce_key; /* announce_key or announce_key_file; len 0 = none */
	/* [limits]: what tenants may make the server hold (docs/security.md) */
	uint64_t max_objects_per_context; /* file versions and folders; 0 = no limit */
	/* [calendar] (docs/calendar.md): days a deleted object's tombstone is kept for sync */
	uint64_t tombstone_days; /* 0 = for ever */
	/* [dav] (docs/webdav.md) */
	bool dav_basic_over_http;       /* Basic from non-loopback clients without HTTPS */
	uint64_t dav_auth_cache_ttl_ms; /* how long checked credentials are taken; 0 = never */
	/* [access NAME] modules = …: the module access combinations (docs/provisioning.md);
	   "all" (every module) unless redefined */
	struct node_access {
		const char *name;
		uint32_t modules; /* access.h bits with ACCESS_RESOLVED */
	} access[NODE_MAX_ACCESS];
	size_t access_count;
	/* [webui] directory (docs/webui.md): the UI's files; NULL = no UI (off, or none found
	   next to the binary) */
	const char *webui_dir;
	bool webui_explicit; /* set in the file (so a directory without index.html is an error) */
	struct mail_settings mail; /* [mail] (docs/mail.md) */
	/* [auth] method = imap: user logins are checked by an IMAP login to the user's server
	   (docs/mail.md "Login against IMAP"); false = local password hashes */
	bool auth_imap;
};

#define NODE_MAX_OBJECTS_LIMIT  1000000000
#define NODE_TOMBSTONE_DAYS_MAX 36500

/* Loads path (NULL = embedded defaults) into *nc; the strings live as long as *config_r. */
int node_config_load(const char *path, struct node_config *nc, struct config **config_r,
                     const char **error_r);

#endif
