/* SPDX-License-Identifier: MIT */
/* INI configuration (inih) checked against a schema of known sections and keys. */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_type {
	CONFIG_STRING,
	CONFIG_BOOL,     /* true|false|yes|no|on|off|1|0 */
	CONFIG_UINT,     /* decimal, fits uint64 */
	CONFIG_DURATION, /* <n>ms|s|m|h|d|w; a bare number means seconds */
	CONFIG_SIZE,     /* <n>[K|M|G] bytes (binary multiples) */
	CONFIG_ADDRESS,  /* host:port or [v6]:port, port 0-65535 */
};

/* One known key. section may end in " *" to match a family of named sections
   ("member *" matches "[member OX-1]"). */
struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	const char *default_value; /* NULL = no default (getter returns not-set) */
	bool repeatable;           /* may appear more than once */
};

struct config;

/* Parses path and checks every line against schema (terminated by an entry with
   section == NULL). Errors read "file:line: message"; all problems are collected and joined
   with newlines into *error_r (allocated in a static per-call buffer valid until the next
   config call on this thread). Returns 0 or -1. */
int config_load(const char *path, const struct config_key *schema, struct config **config_r,
                const char **error_r);
/* A config with only the schema's defaults (no file). */
struct config *config_defaults(const struct config_key *schema);
void config_free(struct config **config);

/* Getters take the exact section name ("member OX-1"). They return the last value given in the
   file, else the schema default, else NULL / false. Type errors cannot happen here: values
   were validated by config_load. */
const char *config_get_str(const struct config *config, const char *section, const char *key);
bool config_get_bool(const struct config *config, const char *section, const char *key);
uint64_t config_get_uint(const struct config *config, const char *section, const char *key);
uint64_t config_get_duration_ms(const struct config *config, const char *section, const char *key);
uint64_t config_get_size(const struct config *config, const char *section, const char *key);
bool config_is_set(const struct config *config, const char *section, const char *key);
/* All values of a repeatable key in file order (defaults if none); count in *count_r. The
   array lives as long as the config. */
const char *const *config_get_all(const struct config *config, const char *section, const char *key,
                                  size_t *count_r);
/* Names of sections present in the file matching a "prefix *" family, e.g. "member" gives
   {"member OX-1", "member OX-2"}; the array lives as long as the config. */
const char *const *config_sections(const struct config *config, const char *family,
                                   size_t *count_r);
/* file:line where section/key was last set, or NULL when it came from a default. */
const char *config_where(const struct config *config, const char *section, const char *key);
/* file:line of the i-th value of a repeatable key (config_get_all's order), or NULL. */
const char *config_where_nth(const struct config *config, const char *section, const char *key,
                             size_t i);

/* Value parsers, also used on their own. Return 0 or -1 with *error_r a static message. */
int config_parse_duration_ms(const char *s, uint64_t *ms_r, const char **error_r);
int config_parse_size(const char *s, uint64_t *bytes_r, const char **error_r);
int config_parse_bool(const char *s, bool *value_r, const char **error_r);
int config_parse_uint(const char *s, uint64_t *value_r, const char **error_r);
/* Splits "host:port", "[v6]:port" into host (without brackets) and port 0-65535 with
   hostport_parse() (hostport.h, its messages); "host name too long" past host_size. */
int config_parse_address(const char *s, char *host, size_t host_size, uint16_t *port_r,
                         const char **error_r);

#endif
