/* SPDX-License-Identifier: MIT */
/* tandem-lb's configuration schema (docs/configuration.md), its semantic checks and network lists.
 */
#include "lb-config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "announce.h"
#include "array.h"
#include "buf.h"
#include "config-check.h"
#include "config.h"
#include "hostport.h"
#include "http-config.h"
#include "http-tls.h"
#include "lb-access.h"
#include "mem.h"
#include "redis-config.h"

#define LB_CIDRS_MAX   256
#define LINE_MAX_SCAN  4096
#define PATH_MAX_WHERE 4200 /* "path:line" */

static const struct config_key schema[] = {
    {"listen", "address", CONFIG_ADDRESS, "127.0.0.1:8080", true},
    {"listen", "threads", CONFIG_UINT, "0", false},
    {"listen", "max_connections_per_source", CONFIG_UINT, "256", false},
    HTTP_CONFIG_KEYS,
    {"balancer", "sticky_cookie", CONFIG_STRING, "JSESSIONID", false},
    {"balancer", "sticky_separator", CONFIG_STRING, ".", false},
    {"balancer", "sticky_param", CONFIG_STRING, "jsessionid", false},
    {"balancer", "method", CONFIG_STRING, "byrequests", false},
    {"balancer", "retry", CONFIG_DURATION, "5s", false},
    {"balancer", "health_uri", CONFIG_STRING, "/health", false},
    {"balancer", "health_interval", CONFIG_DURATION, "1s", false},
    {"balancer", "health_rise", CONFIG_UINT, "2", false},
    {"balancer", "health_fall", CONFIG_UINT, "3", false},
    {"balancer", "health_timeout", CONFIG_DURATION, "1s", false},
    {"balancer", "connect_timeout", CONFIG_DURATION, "500ms", false},
    {"balancer", "read_timeout", CONFIG_DURATION, "60s", false},
    {"balancer", "write_timeout", CONFIG_DURATION, "60s", false},
    {"balancer", "pool_min", CONFIG_UINT, "0", false},
    {"balancer", "pool_max", CONFIG_UINT, "64", false},
    {"balancer", "pool_idle_ttl", CONFIG_DURATION, "30s", false},
    {"balancer", "trusted_proxies", CONFIG_STRING, NULL, true},
    {"balancer", "buffer_body", CONFIG_SIZE, "64K", false},
    {"balancer", "body_min_rate", CONFIG_SIZE, "1K", false},
    {"balancer", "body_rate_window", CONFIG_DURATION, "10s", false},
    {"balancer", "admin_allow", CONFIG_STRING, NULL, true},
    {"member *", "url", CONFIG_STRING, NULL, false},
    {"member *", "loadfactor", CONFIG_UINT, "50", false},
    {"member *", "state", CONFIG_STRING, "ready", false},
    {"access *", "allow", CONFIG_STRING, NULL, true},
    {"admin", "listen", CONFIG_ADDRESS, NULL, false},
    {"admin", "allow", CONFIG_STRING, "127.0.0.1/32, ::1/128", true},
    {"admin", "user", CONFIG_STRING, NULL, false},
    {"admin", "password", CONFIG_STRING, NULL, false},
    {"admin", "password_hash", CONFIG_STRING, NULL, false},
    {"admin", "state_file", CONFIG_STRING, "tandem-lb.state", false},
    {"cluster", "name", CONFIG_STRING, "tandem", false},
    {"cluster", "store", CONFIG_STRING, NULL, false},
    REDIS_CONFIG_KEYS,
    {"cluster", "announce", CONFIG_ADDRESS, NULL, false},
    {"cluster", "announce_interface", CONFIG_STRING, NULL, false},
    {"cluster", "announce_key", CONFIG_STRING, NULL, false},
    {"cluster", "announce_key_file", CONFIG_STRING, NULL, false},
    {"cluster", "member_ttl", CONFIG_DURATION, "3s", false},
    {"tls", "listen", CONFIG_ADDRESS, NULL, true},
    {"tls", "certificate", CONFIG_STRING, NULL, false},
    {"tls", "key", CONFIG_STRING, NULL, false},
    {"tls", "redirect", CONFIG_BOOL, "false", false},
    {"log", "level", CONFIG_STRING, "info", false},
    {"log", "file", CONFIG_STRING, NULL, false},
    {"log", "access", CONFIG_STRING, "off", false},
    {"log", "syslog", CONFIG_STRING, NULL, false},
    {"log", "syslog_facility", CONFIG_STRING, "daemon", false},
    {"log", "syslog_app", CONFIG_STRING, "tandem-lb", false},
    {NULL, NULL, CONFIG_STRING, NULL, false},
};

/* ---------------------------------------------------------------- networks */

static int parse_cidr(const char *tok, size_t len, struct lb_cidr *c, const char **error_r)
{
	static __thread char msg[160];
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash;
	unsigned max, bits;
	uint64_t prefix;

	if (len >= sizeof(text))
		goto bad;
	memcpy(text, tok, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash != NULL)
		text[slash - text] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, text, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	prefix = max;
	if (slash != NULL && (slash[1] == '\0' || strlen(slash + 1) > 3 ||
	                      strv_to_u64(strv_from_cstr(slash + 1), &prefix) < 0 || prefix > max))
		goto bad;
	c->prefix = (unsigned)prefix;
	for (bits = c->prefix; bits < max; bits++) {
		if (c->addr[bits / 8] & (0x80 >> (bits % 8))) {
			snprintf(msg, sizeof(msg), "\"%.*s\" has host bits set past the prefix",
			         (int)len, tok);
			*error_r = msg;
			return -1;
		}
	}
	return 0;
bad:
	snprintf(msg, sizeof(msg), "\"%.*s\" is not an address or address/prefix",
	         (int)(len > 64 ? 64 : len), tok);
	*error_r = msg;
	return -1;
}

int lb_cidr_parse_list(const char *s, struct lb_cidr **cidrs_r, size_t *count_r,
                       const char **error_r)
{
	struct array list;
	int ret = -1;

	array_init(&list, sizeof(struct lb_cidr));
	while (*s != '\0') {
		size_t len = strcspn(s, ", \t");

		if (len > 0) {
			if (list.count >= LB_CIDRS_MAX) {
				*error_r = "too many networks (at most 256)";
				goto out;
			}
			if (parse_cidr(s, len, array_push(&list), error_r) < 0)
				goto out;
		}
		s += len;
		s += strspn(s, ", \t");
	}
	*cidrs_r = mem_calloc(list.count > 0 ? list.count : 1, sizeof(struct lb_cidr));
	if (list.count > 0)
		memcpy(*cidrs_r, list.data, list.count * sizeof(struct lb_cidr));
	*count_r = list.count;
	ret = 0;
out:
	array_free(&list);
	return ret;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ net[full]) & (0xff00 >> rest)) == 0;
}

bool lb_cidr_match(const struct lb_cidr *cidrs, size_t count, const struct sockaddr *addr)
{
	const uint8_t *v4 = NULL, *v6 = NULL;

	if (addr == NULL)
		return false;
	if (addr->sa_family == AF_INET) {
		v4 = (const uint8_t *)&((const struct sockaddr_in *)(const void *)addr)->sin_addr;
	} else if (addr->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr;
		v6 = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			v4 = v6 + 12;
	}
	for (size_t i = 0; i < count; i++) {
		const struct lb_cidr *c = &cidrs[i];
		const uint8_t *a = c->family == AF_INET ? v4 : v6;

		if (a != NULL && prefix_match(a, c->addr, c->prefix))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- member URLs */

int lb_member_url_parse(const char *url, char *address, size_t address_size, const char **error_r)
{
	const char *auth, *slash;
	struct hostport hp;
	size_t len;

	if (strncasecmp(url, "https://", 8) == 0) {
		*error_r = "https:// members are not supported yet (use http://host:port)";
		return -1;
	}
	if (strncasecmp(url, "http://", 7) != 0) {
		*error_r = "expected http://host:port";
		return -1;
	}
	auth = url + 7;
	slash = strchr(auth, '/');
	if (slash != NULL && slash[1] != '\0') {
		*error_r = "a path is not supported (expected http://host:port)";
		return -1;
	}
	len = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	if (memchr(auth, '@', len) != NULL || memchr(auth, '?', len) != NULL ||
	    memchr(auth, '#', len) != NULL) {
		*error_r = "expected http://host:port without user, query or fragment";
		return -1;
	}
	if (len + 3 > address_size || len + 3 > BALANCER_ADDRESS_MAX + 1) {
		*error_r = "host:port too long";
		return -1;
	}
	/* Port 0 parses, so that it gets its own message below. */
	if (hostport_parse(strv_make(auth, len), HOSTPORT_PORT_OPTIONAL | HOSTPORT_PORT_ZERO, 80,
	                   &hp, error_r) != HOSTPORT_OK)
		return -1;
	if (hp.port == 0) {
		*error_r = "port must be 1-65535";
		return -1;
	}
	memcpy(address, auth, len);
	address[len] = '\0';
	if (hp.port_text.ptr == NULL)
		memcpy(address + len, ":80", 4);
	return 0;
}

/* ---------------------------------------------------------------- loading */

struct problems {
	const char *path;
	struct buf b;
};

static void problem(struct problems *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct problems *p, const char *where, const char *fmt, ...)
{
	va_list args;

	if (p->b.len > 0)
		buf_append_char(&p->b, '\n');
	buf_printf(&p->b, "%s: ", where != NULL ? where : p->path);
	va_start(args, fmt);
	buf_vprintf(&p->b, fmt, args);
	va_end(args);
}

/* A [member …] header and its line. */
struct header {
	char name[64];
	int line;
};

/* config.c keeps no line for a section, only for keys: the headers are found again here, for
   duplicates (the INI reader merges them) and for errors about a key that is missing. The file
   has just been accepted by config_load(), so each header line is well formed. */
static void scan_headers(const char *path, struct array *headers)
{
	char line[LINE_MAX_SCAN];
	FILE *f = fopen(path, "re");
	int lineno = 0, c = 0;

	if (f == NULL)
		return;
	while (c != EOF) {
		size_t len = 0;
		const char *s = line, *end;

		while ((c = getc_unlocked(f)) != EOF && c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = (char)c;
		}
		if (c == EOF && len == 0)
			break;
		line[len] = '\0';
		lineno++;
		if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '[' || strncmp(s + 1, "member ", 7) != 0 ||
		    (end = strchr(s, ']')) == NULL)
			continue;
		struct header *h = array_push(headers);
		snprintf(h->name, sizeof(h->name), "%.*s", (int)(end - s - 1), s + 1);
		h->line = lineno;
	}
	fclose(f);
}

static const char *header_where(struct problems *p, const struct array *headers,
                                const char *section, char *out, size_t out_size)
{
	for (size_t i = 0; i < headers->count; i++) {
		const struct header *h = array_idx(headers, i);
		if (strcmp(h->name, section) == 0) {
			snprintf(out, out_size, "%s:%d", p->path, h->line);
			return out;
		}
	}
	return NULL;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* 1 to max bytes, all of them in allowed. */
static bool chars_ok(const char *s, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, allowed) == n;
}

static void check_members(struct problems *p, struct lb_config *lc)
{
	const struct config *cfg = lc->config;
	struct array headers;
	size_t n;
	const char *const *sections = config_sections(cfg, "member", &n);
	char hw[PATH_MAX_WHERE];

	array_init(&headers, sizeof(struct header));
	scan_headers(p->path, &headers);
	/* Two headers for one route would be merged silently by the INI reader. */
	for (size_t i = 0; i < headers.count; i++) {
		const struct header *h = array_idx(&headers, i);
		for (size_t j = 0; j < i; j++) {
			const struct header *g = array_idx(&headers, j);
			char at[PATH_MAX_WHERE];

			if (strcasecmp(g->name, h->name) != 0)
				continue;
			snprintf(at, sizeof(at), "%s:%d", p->path, h->line);
			if (strcmp(g->name, h->name) == 0)
				problem(p, at, "[%s] already defined on line %d", h->name, g->line);
			else
				problem(p, at,
				        "[%s]: route differs from [%s] on line %d only in case",
				        h->name, g->name, g->line);
			break;
		}
	}
	if (n > BALANCER_MEMBERS_MAX)
		problem(p, NULL, "too many [member] sections (at most %d)", BALANCER_MEMBERS_MAX);
	lc->members = mem_calloc(n > 0 ? n : 1, sizeof(*lc->members));
	lc->member_count = n;
	for (size_t i = 0; i < n; i++) {
		struct lb_member_config *mc = &lc->members[i];
		const char *sec = sections[i], *hdr, *error, *state;
		uint64_t lf;

		hdr = header_where(p, &headers, sec, hw, sizeof(hw));
		mc->route = sec + strlen("member ");
		mc->url = config_get_str(cfg, sec, "url");
		if (!chars_ok(mc->route, LB_CONFIG_ROUTE_MAX, ALNUM "-_"))
			problem(p, hdr,
			        "[%s]: the route must be 1 to %d letters, digits, '-' or '_'", sec,
			        LB_CONFIG_ROUTE_MAX);
		if (mc->url == NULL)
			problem(p, hdr, "[%s] url is required", sec);
		else if (lb_member_url_parse(mc->url, mc->address, sizeof(mc->address), &error) < 0)
			problem(p, config_where(cfg, sec, "url"), "[%s] url: %s, got \"%s\"", sec,
			        error, mc->url);
		lf = config_get_uint(cfg, sec, "loadfactor");
		if (lf < 1 || lf > BALANCER_LOADFACTOR_MAX)
			problem(p, config_where(cfg, sec, "loadfactor"),
			        "[%s] loadfactor must be between 1 and %d", sec,
			        BALANCER_LOADFACTOR_MAX);
		mc->loadfactor = (unsigned)lf;
		state = config_get_str(cfg, sec, "state");
		if (balancer_state_parse(state, &mc->state) < 0)
			problem(p, config_where(cfg, sec, "state"),
			        "[%s] state must be ready, drain, maint, disabled or standby, got "
			        "\"%s\"",
			        sec, state);
	}
	array_free(&headers);
}

/* A duration key within [min, max] ms. */
static uint64_t duration(struct problems *p, const struct config *cfg, const char *section,
                         const char *key, uint64_t min, uint64_t max, const char *range)
{
	uint64_t v = config_get_duration_ms(cfg, section, key);

	if (v < min || v > max)
		problem(p, config_where(cfg, section, key), "[%s] %s must be %s", section, key,
		        range);
	return v;
}

static uint64_t size_key(struct problems *p, const struct config *cfg, const char *section,
                         const char *key, uint64_t max, const char *range)
{
	uint64_t v = config_get_size(cfg, section, key);

	if (v > max)
		problem(p, config_where(cfg, section, key), "[%s] %s must be %s", section, key,
		        range);
	return v;
}

static unsigned uint_key(struct problems *p, const struct config *cfg, const char *section,
                         const char *key, uint64_t min, uint64_t max)
{
	uint64_t v = config_get_uint(cfg, section, key);

	if (v < min || v > max)
		problem(p, config_where(cfg, section, key), "[%s] %s must be between %llu and %llu",
		        section, key, (unsigned long long)min, (unsigned long long)max);
	return (unsigned)v;
}

/* Every value of a repeatable network-list key, joined into one array. */
static void cidr_key(struct problems *p, const struct config *cfg, const char *section,
                     const char *key, struct lb_cidr **cidrs_r, size_t *count_r)
{
	size_t n, total = 0;
	const char *const *values = config_get_all(cfg, section, key, &n);
	struct array all;

	array_init(&all, sizeof(struct lb_cidr));
	for (size_t i = 0; i < n; i++) {
		struct lb_cidr *list;
		size_t count;
		const char *error;

		if (lb_cidr_parse_list(values[i], &list, &count, &error) < 0) {
			problem(p, config_where(cfg, section, key), "[%s] %s: %s", section, key,
			        error);
			continue;
		}
		for (size_t j = 0; j < count && total < LB_CIDRS_MAX; j++, total++)
			*(struct lb_cidr *)array_push(&all) = list[j];
		mem_free(&list);
	}
	*cidrs_r = mem_calloc(all.count > 0 ? all.count : 1, sizeof(struct lb_cidr));
	if (all.count > 0)
		memcpy(*cidrs_r, all.data, all.count * sizeof(struct lb_cidr));
	*count_r = all.count;
	array_free(&all);
}

static void check_balancer(struct problems *p, struct lb_config *lc)
{
	const struct config *cfg = lc->config;
	const char *sep = config_get_str(cfg, "balancer", "sticky_separator");
	const char *method = config_get_str(cfg, "balancer", "method");

	lc->sticky_cookie = config_get_str(cfg, "balancer", "sticky_cookie");
	if (lc->sticky_cookie[0] != '\0' &&
	    !chars_ok(lc->sticky_cookie, 64, ALNUM "!#$%&'*+-.^_`|~"))
		problem(p, config_where(cfg, "balancer", "sticky_cookie"),
		        "[balancer] sticky_cookie must be empty or a cookie name of 1 to 64 "
		        "letters, digits or !#$%%&'*+-.^_`|~");
	if (strlen(sep) != 1 || !isgraph((unsigned char)sep[0]) ||
	    strchr("\"\\,;=&/?#", sep[0]) != NULL || strchr(ALNUM "-_", sep[0]) != NULL)
		problem(p, config_where(cfg, "balancer", "sticky_separator"),
		        "[balancer] sticky_separator must be one punctuation character other than "
		        "- _ \" \\ , ; = & / ? #");
	lc->sticky_separator = sep[0];
	lc->sticky_param = config_get_str(cfg, "balancer", "sticky_param");
	if (lc->sticky_param[0] != '\0' && !chars_ok(lc->sticky_param, 64, ALNUM ".-_~"))
		problem(p, config_where(cfg, "balancer", "sticky_param"),
		        "[balancer] sticky_param must be empty or 1 to 64 letters, digits, '.', "
		        "'-', '_' or '~'");
	if (balancer_method_parse(method, &lc->method) < 0)
		problem(p, config_where(cfg, "balancer", "method"),
		        "[balancer] method must be byrequests or bybusyness, got \"%s\"", method);
	lc->retry_ms = duration(p, cfg, "balancer", "retry", 0, 3600000, "at most 1h");
	lc->health_uri = config_get_str(cfg, "balancer", "health_uri");
	if (lc->health_uri[0] != '/' || strlen(lc->health_uri) > 1024 ||
	    strchr(lc->health_uri, '#') != NULL)
		problem(p, config_where(cfg, "balancer", "health_uri"),
		        "[balancer] health_uri must be a path starting with '/' (at most 1024 "
		        "bytes, no fragment)");
	for (const char *c = lc->health_uri; *c != '\0'; c++) {
		if (!isgraph((unsigned char)*c)) {
			problem(p, config_where(cfg, "balancer", "health_uri"),
			        "[balancer] health_uri must not contain spaces or control "
			        "characters");
			break;
		}
	}
	lc->health_interval_ms =
	    duration(p, cfg, "balancer", "health_interval", 100, 3600000, "between 100ms and 1h");
	lc->health_rise = uint_key(p, cfg, "balancer", "health_rise", 1, 100);
	lc->health_fall = uint_key(p, cfg, "balancer", "health_fall", 1, 100);
	/* Unset, the timeout is the smaller of 1 s and the interval: a check must end before
	   the next one starts, and setting only a short interval is no mistake. */
	lc->health_timeout_ms = config_get_duration_ms(cfg, "balancer", "health_timeout");
	if (!config_is_set(cfg, "balancer", "health_timeout") &&
	    lc->health_timeout_ms > lc->health_interval_ms)
		lc->health_timeout_ms = lc->health_interval_ms;
	if (lc->health_timeout_ms < 10 || lc->health_timeout_ms > lc->health_interval_ms)
		problem(p,
		        config_is_set(cfg, "balancer", "health_timeout")
		            ? config_where(cfg, "balancer", "health_timeout")
		            : config_where(cfg, "balancer", "health_interval"),
		        "[balancer] health_timeout must be between 10ms and health_interval");
	lc->connect_timeout_ms =
	    duration(p, cfg, "balancer", "connect_timeout", 10, 60000, "between 10ms and 60s");
	lc->read_timeout_ms =
	    duration(p, cfg, "balancer", "read_timeout", 100, 86400000, "between 100ms and 1d");
	lc->write_timeout_ms =
	    duration(p, cfg, "balancer", "write_timeout", 100, 86400000, "between 100ms and 1d");
	lc->pool_max = uint_key(p, cfg, "balancer", "pool_max", 1, 10000);
	lc->pool_min = uint_key(p, cfg, "balancer", "pool_min", 0, lc->pool_max);
	lc->pool_idle_ttl_ms =
	    duration(p, cfg, "balancer", "pool_idle_ttl", 100, 3600000, "between 100ms and 1h");
	cidr_key(p, cfg, "balancer", "trusted_proxies", &lc->trusted_proxies,
	         &lc->trusted_proxy_count);
	lc->buffer_body = size_key(p, cfg, "balancer", "buffer_body", 1024 * 1024, "at most 1M");
	lc->body_min_rate =
	    size_key(p, cfg, "balancer", "body_min_rate", 1024 * 1024 * 1024, "at most 1G");
	lc->body_rate_window_ms =
	    duration(p, cfg, "balancer", "body_rate_window", 1000, 3600000, "between 1s and 1h");
	cidr_key(p, cfg, "balancer", "admin_allow", &lc->admin_paths_allow,
	         &lc->admin_paths_allow_count);
}

/* Same rule as password_hash_valid() in lib-provision, which tandem-lb does not link. */
static bool argon2id_string(const char *s)
{
	size_t len = strlen(s);
	return len > 30 && len < 128 && strncmp(s, "$argon2id$v=19$", 15) == 0;
}

/* A relative state_file lies beside the configuration file, not in whatever directory the
   daemon happened to be started from. */
static void state_path(struct problems *p, struct lb_config *lc, const char *config_path)
{
	const char *file = config_get_str(lc->config, "admin", "state_file");
	const char *slash = strrchr(config_path, '/');
	int n;
	if (file[0] == '/' || slash == NULL)
		n = snprintf(lc->state_file, sizeof(lc->state_file), "%s", file);
	else
		n = snprintf(lc->state_file, sizeof(lc->state_file), "%.*s/%s",
		             (int)(slash - config_path), config_path, file);
	if (file[0] == '\0' || n < 0 || (size_t)n >= sizeof(lc->state_file))
		problem(p, config_where(lc->config, "admin", "state_file"),
		        "[admin] state_file is empty or too long");
}

static void check_admin(struct problems *p, struct lb_config *lc)
{
	const struct config *cfg = lc->config;
	const char *listen_where = config_where(cfg, "admin", "listen");

	lc->admin_listen = config_get_str(cfg, "admin", "listen");
	lc->admin_user = config_get_str(cfg, "admin", "user");
	lc->admin_password = config_get_str(cfg, "admin", "password");
	lc->admin_password_hash = config_get_str(cfg, "admin", "password_hash");
	cidr_key(p, cfg, "admin", "allow", &lc->admin_allow, &lc->admin_allow_count);
	if (lc->admin_user != NULL &&
	    (lc->admin_user[0] == '\0' || strchr(lc->admin_user, ':') != NULL))
		problem(p, config_where(cfg, "admin", "user"),
		        "[admin] user must be non-empty and without ':'");
	if (lc->admin_password != NULL && lc->admin_password_hash != NULL)
		problem(p, config_where(cfg, "admin", "password_hash"),
		        "[admin] give password or password_hash, not both");
	if (lc->admin_password != NULL && lc->admin_password[0] == '\0')
		problem(p, config_where(cfg, "admin", "password"), "[admin] password is empty");
	if (lc->admin_password_hash != NULL && !argon2id_string(lc->admin_password_hash))
		problem(p, config_where(cfg, "admin", "password_hash"),
		        "[admin] password_hash must be an argon2id string ($argon2id$v=19$...)");
	if (lc->admin_listen == NULL)
		return;
	if (lc->admin_user == NULL)
		problem(p, listen_where, "[admin] listen needs user");
	if (lc->admin_password == NULL && lc->admin_password_hash == NULL)
		problem(p, listen_where, "[admin] listen needs password or password_hash");
	if (lc->admin_allow_count == 0)
		problem(p, config_where(cfg, "admin", "allow"),
		        "[admin] allow lists no network: nobody could use the manager");
}

/* The nodes' operator paths: only [balancer] admin_allow may reach them through the proxy,
   unless an [access] section of the same path says otherwise. */
static const char *const default_denied[] = {"/admin", "/metrics"};

/* [access /path] sections: the path must be what lb_access_check() compares against, so a
   rule can never miss because of how it was written. Then a rule for each default_denied path
   the sections leave out. */
static void check_access(struct problems *p, struct lb_config *lc)
{
	const struct config *cfg = lc->config;
	size_t n;
	const char *const *sections = config_sections(cfg, "access", &n);
	size_t ndefault = sizeof(default_denied) / sizeof(default_denied[0]);

	lc->access = mem_calloc(n + ndefault, sizeof(*lc->access));
	lc->access_count = n;
	for (size_t d = 0; d < ndefault; d++) {
		bool configured = false;
		for (size_t i = 0; i < n; i++)
			configured |=
			    strcmp(sections[i] + strlen("access "), default_denied[d]) == 0;
		if (configured)
			continue;
		struct lb_access_rule *rule = &lc->access[lc->access_count++];
		size_t count = lc->admin_paths_allow_count;
		struct lb_cidr *allow = mem_calloc(count > 0 ? count : 1, sizeof(*allow));
		if (count > 0)
			memcpy(allow, lc->admin_paths_allow, count * sizeof(*allow));
		rule->prefix = default_denied[d];
		rule->allow = allow;
		rule->allow_count = count;
	}
	for (size_t i = 0; i < n; i++) {
		struct lb_access_rule *rule = &lc->access[i];
		const char *sec = sections[i], *prefix = sec + strlen("access ");
		char norm[LB_ACCESS_PATH_MAX];
		struct lb_cidr *allow;
		size_t count;

		rule->prefix = prefix;
		if (!lb_access_normalise(strv_from_cstr(prefix), norm, sizeof(norm)) ||
		    strcmp(norm, prefix) != 0 ||
		    (prefix[1] != '\0' && norm[strlen(norm) - 1] == '/'))
			problem(p, config_where(cfg, sec, "allow"),
			        "[%s]: the path must look like /admin (absolute, no '.' or '..' "
			        "segments, no escapes, parameters, double or trailing '/')",
			        sec);
		cidr_key(p, cfg, sec, "allow", &allow, &count);
		rule->allow = allow;
		rule->allow_count = count;
		if (count == 0)
			problem(p, config_where(cfg, sec, "allow"),
			        "[%s] allow lists no network (give 127.0.0.1/32 to keep everybody "
			        "else out)",
			        sec);
	}
}

static void check_cluster(struct problems *p, struct lb_config *lc, const char *config_path)
{
	const struct config *cfg = lc->config;
	const char *error, *key, *which;

	lc->cluster_name = config_get_str(cfg, "cluster", "name");
	if (!chars_ok(lc->cluster_name, 64, ALNUM "-_"))
		problem(p, config_where(cfg, "cluster", "name"),
		        "[cluster] name must be 1-64 letters, digits, '-' or '_'");
	lc->cluster_store = config_get_str(cfg, "cluster", "store");
	if (lc->cluster_store != NULL && strcmp(lc->cluster_store, "memory") == 0)
		lc->cluster_store = NULL; /* nothing shared, as when unset */
	if (lc->cluster_store != NULL && strncmp(lc->cluster_store, "redis", 5) != 0)
		problem(
		    p, config_where(cfg, "cluster", "store"),
		    "[cluster] store must be memory, redis://host:port/db, rediss://host:port/db "
		    "(TLS), redis-sentinel://host:port,.../mastername or "
		    "rediss-sentinel://host:port,.../mastername (TLS)");
	else if ((lc->cluster_store != NULL
	              ? redis_config_load(cfg, config_path, &lc->store_url, &key, &error)
	              : redis_config_unused(cfg, &key, &error)) < 0)
		problem(p, config_where(cfg, "cluster", key), "%s", error);
	lc->announce = config_get_str(cfg, "cluster", "announce");
	lc->announce_interface = config_get_str(cfg, "cluster", "announce_interface");
	if (lc->announce != NULL) {
		struct announce_settings set = {.group = lc->announce,
		                                .interface = lc->announce_interface};
		if (announce_settings_check(&set, &error) < 0)
			problem(p, config_where(cfg, "cluster", "announce"), "[cluster] %s", error);
	}
	if (announce_key_configure(config_get_str(cfg, "cluster", "announce_key"),
	                           config_get_str(cfg, "cluster", "announce_key_file"), config_path,
	                           lc->announce != NULL, &lc->announce_key, &which, &error) < 0)
		problem(p, config_where(cfg, "cluster", which), "%s", error);
	lc->member_ttl_ms =
	    duration(p, cfg, "cluster", "member_ttl", 100, 3600000, "between 100ms and 1h");
}

/* A [tls] file name, relative to the configuration's directory unless absolute. */
static void tls_path(struct problems *p, struct lb_config *lc, const char *config_path,
                     const char *key, char *out, size_t size)
{
	const char *file = config_get_str(lc->config, "tls", key);
	const char *slash = strrchr(config_path, '/');
	int n;

	if (file == NULL)
		return;
	if (file[0] == '/' || slash == NULL)
		n = snprintf(out, size, "%s", file);
	else
		n = snprintf(out, size, "%.*s/%s", (int)(slash - config_path), config_path, file);
	if (file[0] == '\0' || n < 0 || (size_t)n >= size) {
		problem(p, config_where(lc->config, "tls", key), "[tls] %s is empty or too long",
		        key);
		out[0] = '\0';
	}
}

/* What belongs together; whether the files load is check_host()'s business. */
static void check_tls(struct problems *p, struct lb_config *lc, const char *config_path)
{
	const struct config *cfg = lc->config;
	bool cert = config_is_set(cfg, "tls", "certificate"),
	     key = config_is_set(cfg, "tls", "key");

	lc->tls_listen = config_get_all(cfg, "tls", "listen", &lc->tls_listen_count);
	lc->tls_redirect = config_get_bool(cfg, "tls", "redirect");
	tls_path(p, lc, config_path, "certificate", lc->tls_certificate,
	         sizeof(lc->tls_certificate));
	tls_path(p, lc, config_path, "key", lc->tls_key, sizeof(lc->tls_key));
	if (cert && !key)
		problem(p, config_where(cfg, "tls", "certificate"), "[tls] certificate needs key");
	if (key && !cert)
		problem(p, config_where(cfg, "tls", "key"), "[tls] key needs certificate");
	if (lc->tls_listen_count > 0 && !cert && !key)
		problem(p, config_where(cfg, "tls", "listen"),
		        "[tls] listen needs certificate and key");
	if (lc->tls_listen_count == 0 && (cert || key))
		problem(p, config_where(cfg, "tls", cert ? "certificate" : "key"),
		        "[tls] %s is set but there is no [tls] listen address",
		        cert ? "certificate" : "key");
	if (lc->tls_listen_count == 0 && lc->tls_redirect)
		problem(p, config_where(cfg, "tls", "redirect"),
		        "[tls] redirect needs a [tls] listen address to redirect to");
	for (size_t i = 0; i < lc->tls_listen_count; i++) {
		for (size_t j = 0; j < lc->listen_count; j++) {
			if (strcmp(lc->tls_listen[i], lc->listen[j]) == 0)
				problem(p, config_where(cfg, "tls", "listen"),
				        "[tls] listen %s is also a [listen] address",
				        lc->tls_listen[i]);
		}
	}
}

/* What the start would refuse on this host: listeners it cannot bind (all of [listen], [tls]
   and [admin] together), a certificate that does not load, a log or state file it cannot
   write, an announce interface that is not local. */
static void check_host(struct problems *p, struct lb_config *lc)
{
	const struct config *cfg = lc->config;
	const char *all[48], *section[48], *key[48], *error;
	size_t n = 0, nth[48], bad;
	const struct {
		const char *section, *key;
		const char *const *values;
		size_t count;
	} groups[3] = {
	    {"listen", "address", lc->listen, lc->listen_count},
	    {"tls", "listen", lc->tls_listen, lc->tls_listen_count},
	    {"admin", "listen", &lc->admin_listen, lc->admin_listen != NULL ? 1 : 0},
	};
	for (size_t g = 0; g < 3; g++) {
		for (size_t i = 0; i < groups[g].count && n < 48; i++, n++) {
			all[n] = groups[g].values[i];
			section[n] = groups[g].section;
			key[n] = groups[g].key;
			nth[n] = i;
		}
	}
	if (lc->listen_count + lc->tls_listen_count > 16)
		problem(p, config_where(cfg, "tls", "listen"),
		        "[listen] and [tls] name more than 16 addresses");
	else if (config_check_listeners(all, n, &bad, &error) < 0)
		problem(p, config_where_nth(cfg, section[bad], key[bad], nth[bad]), "[%s] %s %s",
		        section[bad], key[bad], error);
	struct http_tls_ctx *tls;
	if (lc->tls_listen_count > 0 && lc->tls_certificate[0] != '\0' && lc->tls_key[0] != '\0') {
		if (http_tls_ctx_create(lc->tls_certificate, lc->tls_key, &tls, &error) < 0) {
			/* "tls: <file>: why", the file being the key or the certificate */
			size_t len = strlen(lc->tls_certificate);
			const char *k = strncmp(error + 5, lc->tls_certificate, len) == 0 &&
			                        error[5 + len] == ':'
			                    ? "certificate"
			                    : "key";
			problem(p, config_where(cfg, "tls", k), "[tls] %s: %s", k, error + 5);
		}
		http_tls_ctx_unref(&tls);
	}
	if (lc->log_file != NULL && config_check_writable_file(lc->log_file, &error) < 0)
		problem(p, config_where(cfg, "log", "file"), "[log] file: %s", error);
	if (lc->access_log != NULL && config_check_writable_file(lc->access_log, &error) < 0)
		problem(p, config_where(cfg, "log", "access"), "[log] access: %s", error);
	/* the manager and the shared state write the state file */
	if ((lc->admin_listen != NULL || lc->cluster_store != NULL) &&
	    config_check_writable_file(lc->state_file, &error) < 0)
		problem(p, config_where(cfg, "admin", "state_file"), "[admin] state_file: %s",
		        error);
	if (lc->announce_interface != NULL &&
	    config_check_local_host(lc->announce_interface, &error) < 0)
		problem(p, config_where(cfg, "cluster", "announce_interface"),
		        "[cluster] announce_interface: %s", error);
}

int lb_config_load(const char *path, struct lb_config **lc_r, const char **error_r)
{
	static __thread char msg[8192];
	struct lb_config *lc;
	struct problems p = {.path = path};
	struct config *cfg;
	const char *level;

	*lc_r = NULL;
	if (config_load(path, schema, &cfg, error_r) < 0)
		return -1;
	lc = mem_calloc(1, sizeof(*lc));
	lc->config = cfg;
	buf_init_fixed(&p.b, msg, sizeof(msg));

	lc->listen = config_get_all(cfg, "listen", "address", &lc->listen_count);
	lc->threads = uint_key(&p, cfg, "listen", "threads", 0, 256);
	lc->max_conns_per_source =
	    uint_key(&p, cfg, "listen", "max_connections_per_source", 0, 1000000);
	http_config_limits(cfg, &lc->limits);
	check_balancer(&p, lc);
	check_members(&p, lc);
	check_admin(&p, lc);
	state_path(&p, lc, path);
	check_cluster(&p, lc, path);
	check_access(&p, lc);
	check_tls(&p, lc, path);
	if (lc->member_count == 0 && lc->announce == NULL)
		problem(&p, NULL,
		        "no [member ROUTE] section and no [cluster] announce: nothing to balance "
		        "to");
	lc->log_file = config_get_str(cfg, "log", "file");
	lc->access_log = config_get_str(cfg, "log", "access");
	lc->access_syslog = strcmp(lc->access_log, "syslog") == 0;
	if (strcmp(lc->access_log, "off") == 0 || lc->access_syslog)
		lc->access_log = NULL;
	const char *key, *error;
	if (log_syslog_configure(config_get_str(cfg, "log", "syslog"),
	                         config_get_str(cfg, "log", "syslog_facility"),
	                         config_get_str(cfg, "log", "syslog_app"), &lc->syslog,
	                         &lc->syslog_enabled, &key, &error) < 0)
		problem(&p, config_where(cfg, "log", key), "%s", error);
	else if (lc->access_syslog && !lc->syslog_enabled)
		problem(&p, config_where(cfg, "log", "access"),
		        "[log] access = syslog needs [log] syslog");
	level = config_get_str(cfg, "log", "level");
	if (log_parse_level(level, &lc->log_level) < 0)
		problem(&p, config_where(cfg, "log", "level"),
		        "[log] level must be debug, info, warn or error");
	check_host(&p, lc);
	if (p.b.len > 0) {
		*error_r = msg;
		lb_config_free(&lc);
		return -1;
	}
	*lc_r = lc;
	return 0;
}

void lb_config_free(struct lb_config **lcp)
{
	struct lb_config *lc = *lcp;

	if (lc == NULL)
		return;
	mem_free(&lc->members);
	for (size_t i = 0; i < lc->access_count; i++)
		mem_free(&lc->access[i].allow);
	mem_free(&lc->access);
	mem_free(&lc->trusted_proxies);
	mem_free(&lc->admin_paths_allow);
	mem_free(&lc->admin_allow);
	announce_key_wipe(&lc->announce_key);
	config_free(&lc->config);
	mem_free(lcp);
}
