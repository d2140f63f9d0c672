/* SPDX-License-Identifier: MIT */
/* Parsing and redacting the Redis store URL (see redis-url.h). */
#include "redis-url.h"

#include <stdio.h>
#include <string.h>

#include "hostport.h"
#include "strv.h"

#define DEFAULT_REDIS_PORT    6379
#define DEFAULT_SENTINEL_PORT 26379

static struct strv skip(struct strv s, size_t n)
{
	return strv_make(s.ptr + n, s.len - n);
}

/* host[:port]; IPv6 as [addr]:port (hostport.h), and no '@', ',' or non-ASCII byte. */
static int parse_host(struct strv s, uint16_t def_port, char host_r[256], uint16_t *port_r)
{
	struct hostport hp;
	const char *error;
	if (hostport_parse(s, HOSTPORT_PORT_OPTIONAL, def_port, &hp, &error) != HOSTPORT_OK)
		return -1;
	for (const char *c = hp.host; *c != '\0'; c++) {
		if (*c == '@' || *c == ',' || (unsigned char)*c >= 0x7f)
			return -1;
	}
	memcpy(host_r, hp.host, strlen(hp.host) + 1);
	*port_r = hp.port;
	return 0;
}

static int parse_db(struct strv s, unsigned *db_r)
{
	uint64_t v;
	if (strv_to_u64(s, &v) < 0 || v > 99)
		return -1;
	*db_r = (unsigned)v;
	return 0;
}

static bool printable(struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c < ' ' || c == 0x7f)
			return false;
	}
	return true;
}

/* user[:password] or :password (before the last '@'). A user alone is allowed: the password
   may come from the configuration (store_password_file). */
static int parse_credentials(struct strv auth, struct redis_url *url_r, const char **error_r)
{
	struct strv user, password;
	bool has_password = strv_split(auth, ':', &user, &password);
	if ((user.len == 0 && !has_password) || (has_password && password.len == 0)) {
		*error_r =
		    "Redis URL credentials must be 'user:password@', ':password@' or 'user@'";
		return -1;
	}
	if (user.len >= sizeof(url_r->user) || password.len >= sizeof(url_r->password)) {
		*error_r = "Redis URL user or password is too long (at most 255 bytes)";
		return -1;
	}
	if (!printable(auth) || memchr(user.ptr, ' ', user.len) != NULL) {
		*error_r = "Redis URL user or password holds control characters (or the user "
		           "a space)";
		return -1;
	}
	memcpy(url_r->user, user.ptr, user.len);
	if (has_password)
		memcpy(url_r->password, password.ptr, password.len);
	return 0;
}

static int parse_scheme(struct strv *s, struct redis_url *url_r, const char **error_r)
{
	static const struct {
		const char *prefix;
		bool sentinel, tls;
	} schemes[] = {
	    {"redis://", false, false},
	    {"rediss://", false, true},
	    {"redis-sentinel://", true, false},
	    {"rediss-sentinel://", true, true},
	};
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		struct strv prefix = strv_from_cstr(schemes[i].prefix);
		if (strv_starts_with(*s, prefix)) {
			url_r->sentinel = schemes[i].sentinel;
			url_r->tls = schemes[i].tls;
			*s = skip(*s, prefix.len);
			return 0;
		}
	}
	*error_r = "Redis URL must start with redis://, rediss:// (TLS), redis-sentinel:// or "
	           "rediss-sentinel:// (TLS)";
	return -1;
}

int redis_url_parse(const char *url, struct redis_url *url_r, const char **error_r)
{
	struct strv s = strv_from_cstr(url);
	memset(url_r, 0, sizeof(*url_r));
	if (parse_scheme(&s, url_r, error_r) < 0)
		return -1;
	/* [credentials@]: neither hosts nor the path may hold an '@', so the last one ends
	   them and a password may contain any other character */
	const char *at = NULL;
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == '@')
			at = s.ptr + i;
	}
	if (at != NULL) {
		struct strv auth = strv_make(s.ptr, (size_t)(at - s.ptr));
		if (parse_credentials(auth, url_r, error_r) < 0)
			return -1;
		s = skip(s, auth.len + 1);
	}
	const char *slash = memchr(s.ptr, '/', s.len);
	struct strv hosts = slash != NULL ? strv_make(s.ptr, (size_t)(slash - s.ptr)) : s;
	struct strv path = slash != NULL ? skip(s, hosts.len + 1) : STRV_NULL;
	uint16_t def_port = url_r->sentinel ? DEFAULT_SENTINEL_PORT : DEFAULT_REDIS_PORT;
	while (hosts.len > 0 || url_r->host_count == 0) {
		const char *comma = memchr(hosts.ptr, ',', hosts.len);
		struct strv one =
		    comma != NULL ? strv_make(hosts.ptr, (size_t)(comma - hosts.ptr)) : hosts;
		if (url_r->host_count == REDIS_MAX_HOSTS) {
			*error_r = "Redis URL names more than 8 hosts";
			return -1;
		}
		if (parse_host(one, def_port, url_r->hosts[url_r->host_count],
		               &url_r->ports[url_r->host_count]) < 0) {
			*error_r = "Redis URL has a bad host:port";
			return -1;
		}
		url_r->host_count++;
		if (comma == NULL)
			break;
		hosts = skip(hosts, one.len + 1);
		if (hosts.len == 0) {
			*error_r = "Redis URL has a bad host:port";
			return -1;
		}
	}
	if (!url_r->sentinel) {
		if (url_r->host_count != 1) {
			*error_r = "redis:// names one host; use redis-sentinel:// for several";
			return -1;
		}
		if (path.ptr != NULL && path.len > 0 && parse_db(path, &url_r->db) < 0) {
			*error_r = "Redis URL database must be a number (0-99)";
			return -1;
		}
		return 0;
	}
	/* sentinel: /mastername[/db] */
	if (path.ptr == NULL || path.len == 0) {
		*error_r = "redis-sentinel:// URL needs the master name: .../mymaster";
		return -1;
	}
	const char *slash2 = memchr(path.ptr, '/', path.len);
	struct strv name = slash2 != NULL ? strv_make(path.ptr, (size_t)(slash2 - path.ptr)) : path;
	if (name.len == 0 || name.len >= sizeof(url_r->master_name)) {
		*error_r = "redis-sentinel:// URL has a bad master name";
		return -1;
	}
	for (size_t i = 0; i < name.len; i++) {
		unsigned char c = (unsigned char)name.ptr[i];
		if (c <= ' ' || c >= 0x7f) {
			*error_r = "redis-sentinel:// URL has a bad master name";
			return -1;
		}
	}
	memcpy(url_r->master_name, name.ptr, name.len);
	if (slash2 != NULL && parse_db(skip(path, name.len + 1), &url_r->db) < 0) {
		*error_r = "Redis URL database must be a number (0-99)";
		return -1;
	}
	return 0;
}

void redis_url_redact(const char *url, char *out, size_t out_size)
{
	const char *scheme_end = strstr(url, "://");
	const char *at = scheme_end != NULL ? strrchr(scheme_end + 3, '@') : NULL;
	const char *colon = NULL;
	if (at != NULL)
		colon = memchr(scheme_end + 3, ':', (size_t)(at - scheme_end - 3));
	if (colon == NULL) /* no password in the URL (none, or a user alone) */
		snprintf(out, out_size, "%s", url);
	else
		snprintf(out, out_size, "%.*s:***%s", (int)(colon - url), url, at);
}
