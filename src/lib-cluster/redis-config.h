/* SPDX-License-Identifier: MIT */
/* The [cluster] keys both daemons share to reach Redis safely: the store URL, files holding
   its passwords, and TLS material; checked as a connect would check them, so that
   --check-config reports what the start or the first connect would refuse. */
#ifndef TANDEM_REDIS_CONFIG_H
#define TANDEM_REDIS_CONFIG_H

#include "config.h"
#include "redis-url.h"

/* Schema entries to splice into a daemon's config_key array (beside [cluster] store). */
/* clang-format off */
#define REDIS_CONFIG_KEYS                                                                          \
	{"cluster", "store_password_file", CONFIG_STRING, NULL, false},                            \
	{"cluster", "store_sentinel_user", CONFIG_STRING, NULL, false},                            \
	{"cluster", "store_sentinel_password", CONFIG_STRING, NULL, false},                        \
	{"cluster", "store_sentinel_password_file", CONFIG_STRING, NULL, false},                   \
	{"cluster", "store_tls_ca", CONFIG_STRING, NULL, false},                                   \
	{"cluster", "store_tls_cert", CONFIG_STRING, NULL, false},                                 \
	{"cluster", "store_tls_key", CONFIG_STRING, NULL, false},                                  \
	{"cluster", "store_tls_server_name", CONFIG_STRING, NULL, false}
/* clang-format on */

/* Fills *url_r from [cluster] store, which must be a Redis URL, and the store_* keys: reads
   the password files (one line; a final newline is dropped), resolves relative file names
   beside config_path (NULL: as given), and loads the TLS files as a connect would (readable,
   PEM, the key matching the certificate). Returns 0, or -1 with *key_r the [cluster] key at
   fault and *error_r a message "[cluster] <key>: …" valid until the next call on this
   thread. */
int redis_config_load(const struct config *cfg, const char *config_path, struct redis_url *url_r,
                      const char **key_r, const char **error_r);

/* For a configuration whose store is not Redis: -1 (with *key_r and *error_r as above) when a
   store_* key is set anyway, since it would have no effect; else 0. */
int redis_config_unused(const struct config *cfg, const char **key_r, const char **error_r);

#endif
