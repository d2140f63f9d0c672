/* SPDX-License-Identifier: MIT */
/* Host-side configuration checks (see config-check.h). */
#include "config-check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define MSG_SIZE      800
#define LISTENERS_MAX 64

static __thread char msg[MSG_SIZE];

/* The directory path lies in ("." for a bare name), in out. */
static void parent_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(out, size, ".");
	else if (slash == path)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/* path does not exist: may the process create it in its directory? */
static int creatable(const char *path, const char **error_r)
{
	char parent[4096];
	struct stat st;
	const char *why = NULL;
	parent_of(path, parent, sizeof(parent));
	if (stat(parent, &st) < 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = strerror(ENOTDIR);
	else if (access(parent, W_OK | X_OK) < 0)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "%.300s cannot be created: %.300s: %s", path, parent, why);
	*error_r = msg;
	return -1;
}

/* An existing path must be a directory or not (want_dir) and writable; a missing one must be
   creatable. */
static int writable(const char *path, bool want_dir, const char **error_r)
{
	struct stat st;
	errno = 0;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return creatable(path, error_r);
	} else if (S_ISDIR(st.st_mode) != want_dir) {
		errno = want_dir ? ENOTDIR : EISDIR;
	} else if (access(path, want_dir ? W_OK | X_OK : W_OK) == 0) {
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s is not a writable %s: %s", path,
	         want_dir ? "directory" : "file", strerror(errno));
	*error_r = msg;
	return -1;
}

int config_check_writable_file(const char *path, const char **error_r)
{
	return writable(path, false, error_r);
}

int config_check_dir(const char *path, const char **error_r)
{
	return writable(path, true, error_r);
}

struct endpoint {
	int family;
	uint8_t addr[16];
	uint16_t port;
	bool wildcard;
};

static int parse_host(const char *host, struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, host, ep->addr) == 1)
		ep->family = AF_INET;
	else if (inet_pton(AF_INET6, host, ep->addr) == 1)
		ep->family = AF_INET6;
	else
		return -1;
	static const uint8_t zero[16];
	ep->wildcard = memcmp(ep->addr, zero, ep->family == AF_INET ? 4 : 16) == 0;
	return 0;
}

/* A bind to port 0 succeeds exactly for the host's own (and the wildcard) addresses, and
   never collides with a server already running there. */
static int bindable(const struct endpoint *ep, const char *host, const char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (ep->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ep->addr, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ep->addr, 16);
		len = sizeof(*sin6);
	}
	int fd = socket(ep->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : -1;
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "%s is not an address of this host (%s)", host,
		         strerror(err));
		*error_r = msg;
	}
	return ret;
}

int config_check_local_host(const char *host, const char **error_r)
{
	struct endpoint ep;
	if (parse_host(host, &ep) < 0) {
		snprintf(msg, sizeof(msg), "%s is not a numeric IPv4 or IPv6 address", host);
		*error_r = msg;
		return -1;
	}
	return bindable(&ep, host, error_r);
}

static bool clash(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port != 0 && a->port == b->port &&
	       (a->wildcard || b->wildcard ||
	        memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0);
}

int config_check_listeners(const char *const *addresses, size_t count, size_t *bad_r,
                           const char **error_r)
{
	struct endpoint eps[LISTENERS_MAX];
	char host[256];
	const char *error;
	for (size_t i = 0; i < count; i++) {
		uint16_t port;
		*bad_r = i;
		if (i == LISTENERS_MAX) {
			snprintf(msg, sizeof(msg), "more than %d listen addresses", LISTENERS_MAX);
			*error_r = msg;
			return -1;
		}
		if (config_parse_address(addresses[i], host, sizeof(host), &port, &error) < 0) {
			snprintf(msg, sizeof(msg), "%s: %s", addresses[i], error);
			*error_r = msg;
			return -1;
		}
		if (parse_host(host, &eps[i]) < 0) {
			snprintf(msg, sizeof(msg), "%s: %s is not a numeric IPv4 or IPv6 address",
			         addresses[i], host);
			*error_r = msg;
			return -1;
		}
		eps[i].port = port;
		if (bindable(&eps[i], addresses[i], error_r) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (clash(&eps[j], &eps[i])) {
				snprintf(
				    msg, sizeof(msg),
				    "%s and %s cannot both be listened on (the same port on the "
				    "same or the wildcard address)",
				    addresses[j], addresses[i]);
				*error_r = msg;
				return -1;
			}
		}
	}
	return 0;
}
