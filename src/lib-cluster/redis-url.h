/* SPDX-License-Identifier: MIT */
/* Where the cluster's Redis is and how to reach it safely: the store URL
   (docs/internals/sessions.md), its credentials and its TLS settings. */
#ifndef TANDEM_REDIS_URL_H
#define TANDEM_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_MAX_HOSTS  8
#define REDIS_SECRET_MAX 256  /* user names and passwords, with the NUL */
#define REDIS_PATH_MAX   1024 /* TLS file names, with the NUL */

/* TLS for rediss:// and rediss-sentinel://: the server's certificate is always verified
   (chain and name). */
struct redis_tls {
	char ca_file[REDIS_PATH_MAX];   /* PEM CA certificates; "" = the system's store */
	char cert_file[REDIS_PATH_MAX]; /* client certificate chain for mutual TLS; "" = none */
	char key_file[REDIS_PATH_MAX];  /* its key (PEM, unencrypted); set exactly with cert_file */
	char server_name[256];          /* the name certificates must carry; "" = the host
	                                   connected to (a DNS name or an IP address) */
};

/* redis://[user][:password@]host:port[/db]
   rediss://…                                   the same over TLS
   redis-sentinel://[user][:password@]h1:p1,h2:p2,.../mastername[/db]
   rediss-sentinel://…                          sentinels and data nodes over TLS
   Ports default to 6379 (redis) and 26379 (sentinel); db defaults to 0. The credentials are
   the data node's and are taken verbatim up to the last '@' (no percent-decoding): AUTH
   password, or AUTH user password (a Redis 6 ACL user) when a user is named. */
struct redis_url {
	bool sentinel;
	bool tls; /* rediss:// or rediss-sentinel:// */
	unsigned host_count;
	char hosts[REDIS_MAX_HOSTS][256];
	uint16_t ports[REDIS_MAX_HOSTS];
	char master_name[128];           /* sentinel only */
	char user[REDIS_SECRET_MAX];     /* "" = AUTH with the password alone (user "default") */
	char password[REDIS_SECRET_MAX]; /* "" = no AUTH */
	unsigned db;
	/* Not part of the URL text: redis_url_parse() clears them, the configuration fills them
	   (redis-config.h). */
	char sentinel_user[REDIS_SECRET_MAX];     /* AUTH to the sentinels; "" = password alone */
	char sentinel_password[REDIS_SECRET_MAX]; /* "" = the sentinels take no AUTH */
	struct redis_tls tls_config;              /* used when tls is set */
};

/* The URL for logs and listings: a password becomes "***" (redis://user:***@host…). The
   parser takes the credentials up to the last '@', so that is where they end here too. */
void redis_url_redact(const char *url, char *out, size_t out_size);

/* Returns 0, or -1 with a static message naming what is wrong. */
int redis_url_parse(const char *url, struct redis_url *url_r, const char **error_r);

#endif
