/* SPDX-License-Identifier: MIT */
/* "host:port" parsing and resolution: one syntax for config files, URLs and member addresses. */
#include "hostport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static bool host_byte_ok(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '[' && c != ']' && c != '/';
}

enum hostport_result hostport_parse_port(struct strv text, unsigned flags, uint16_t *port_r,
                                         const char **error_r)
{
	uint64_t v;
	bool zero_ok = (flags & HOSTPORT_PORT_ZERO) != 0;

	if (text.len == 0 || text.len > 5 || strv_to_u64(text, &v) < 0 || v > 65535 ||
	    (v == 0 && !zero_ok)) {
		*error_r =
		    zero_ok ? "expected a port number 0-65535" : "expected a port number 1-65535";
		return HOSTPORT_BAD_PORT;
	}
	*port_r = (uint16_t)v;
	return HOSTPORT_OK;
}

enum hostport_result hostport_parse(struct strv s, unsigned flags, uint16_t default_port,
                                    struct hostport *hp_r, const char **error_r)
{
	bool optional = (flags & HOSTPORT_PORT_OPTIONAL) != 0;
	struct strv host, port = STRV_NULL;

	memset(hp_r, 0, sizeof(*hp_r));
	if (s.len > 0 && s.ptr[0] == '[') {
		ptrdiff_t close = strv_find_char(s, ']');
		if (close < 0) {
			*error_r = "unterminated IPv6 address";
			return HOSTPORT_ERROR;
		}
		host = strv_make(s.ptr + 1, (size_t)close - 1);
		struct strv after = strv_make(s.ptr + close + 1, s.len - (size_t)close - 1);
		if ((after.len == 0 && !optional) || (after.len > 0 && after.ptr[0] != ':')) {
			*error_r = optional ? "expected [v6] or [v6]:port" : "expected [v6]:port";
			return HOSTPORT_ERROR;
		}
		if (after.len > 0)
			port = strv_make(after.ptr + 1, after.len - 1);
	} else {
		ptrdiff_t colon = -1;
		for (size_t i = s.len; i > 0; i--) {
			if (s.ptr[i - 1] == ':') {
				colon = (ptrdiff_t)i - 1;
				break;
			}
		}
		if (colon < 0 && !optional) {
			*error_r = "expected host:port or [v6]:port";
			return HOSTPORT_ERROR;
		}
		host = colon < 0 ? s : strv_make(s.ptr, (size_t)colon);
		if (colon >= 0 && strv_find_char(host, ':') >= 0) {
			*error_r = "IPv6 addresses need brackets, e.g. [::1]:8080";
			return HOSTPORT_ERROR;
		}
		if (colon >= 0)
			port = strv_make(s.ptr + colon + 1, s.len - (size_t)colon - 1);
	}
	hp_r->port_text = port;
	if (host.len == 0) {
		*error_r = "host is missing";
		return HOSTPORT_ERROR;
	}
	for (size_t i = 0; i < host.len; i++) {
		if (!host_byte_ok((unsigned char)host.ptr[i])) {
			*error_r = "host contains an invalid character";
			return HOSTPORT_ERROR;
		}
	}
	hp_r->port = default_port;
	if (port.ptr != NULL && hostport_parse_port(port, flags, &hp_r->port, error_r) < 0)
		return HOSTPORT_BAD_PORT;
	if (host.len > HOSTPORT_HOST_MAX) {
		*error_r = "host name too long";
		return HOSTPORT_ERROR;
	}
	memcpy(hp_r->host, host.ptr, host.len);
	hp_r->host[host.len] = '\0';
	return HOSTPORT_OK;
}

int hostport_resolve(const char *host, uint16_t port, struct addrinfo **res_r, const char **error_r)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	char service[8];

	*res_r = NULL;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	int gai = getaddrinfo(host, service, &hints, res_r);
	if (gai == 0 && *res_r != NULL)
		return 0;
	if (*res_r != NULL)
		freeaddrinfo(*res_r);
	*res_r = NULL;
	*error_r = gai == 0            ? "no address"
	           : gai == EAI_SYSTEM ? strerror(errno)
	                               : gai_strerror(gai);
	return -1;
}

int hostport_resolve_first(const char *address, struct sockaddr_storage *addr_r,
                           socklen_t *addr_len_r, const char **error_r)
{
	struct hostport hp;
	struct addrinfo *res;

	if (hostport_parse(strv_from_cstr(address), 0, 0, &hp, error_r) != HOSTPORT_OK ||
	    hostport_resolve(hp.host, hp.port, &res, error_r) < 0)
		return -1;
	memcpy(addr_r, res->ai_addr, res->ai_addrlen);
	*addr_len_r = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
