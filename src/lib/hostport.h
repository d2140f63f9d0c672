/* SPDX-License-Identifier: MIT */
/* The one "host:port" parser and TCP address resolver for every daemon, library and tool. */
#ifndef TANDEM_HOSTPORT_H
#define TANDEM_HOSTPORT_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "strv.h"

#define HOSTPORT_HOST_MAX 255 /* bytes of a host name or IP literal */

enum hostport_flags {
	HOSTPORT_PORT_OPTIONAL = 0x01, /* "host" and "[v6]" alone take default_port */
	HOSTPORT_PORT_ZERO = 0x02,     /* port 0 is valid (listen on any port) */
};

/* A parsed address. */
struct hostport {
	char host[HOSTPORT_HOST_MAX + 1]; /* without brackets, NUL-terminated */
	uint16_t port;
	/* The port as written, pointing into the input; ptr NULL when it was left out. Set also
	   when the port is the error, for callers that quote it. */
	struct strv port_text;
};

enum hostport_result {
	HOSTPORT_OK = 0,
	HOSTPORT_ERROR = -1,    /* anything but the port */
	HOSTPORT_BAD_PORT = -2, /* the port: not 1-5 digits, or out of range */
};

/* Parses "host:port" (a name or IPv4 address) or "[v6]:port" (the brackets are required
   around an IPv6 address; a zone id may follow '%'); with HOSTPORT_PORT_OPTIONAL also "host"
   and "[v6]". The host is non-empty, at most HOSTPORT_HOST_MAX bytes, without SP, controls,
   DEL, '[', ']' or '/' (callers with a narrower alphabet check theirs on hp_r->host). The
   port is 1-5 digits, 1-65535 (0-65535 with HOSTPORT_PORT_ZERO). Returns HOSTPORT_OK, or
   HOSTPORT_ERROR / HOSTPORT_BAD_PORT with a static *error_r: "expected host:port or
   [v6]:port", "expected [v6]:port", "unterminated IPv6 address", "IPv6 addresses need
   brackets, e.g. [::1]:8080", "host is missing", "host contains an invalid character",
   "host name too long", "expected a port number 0-65535" (or 1-65535). */
enum hostport_result hostport_parse(struct strv s, unsigned flags, uint16_t default_port,
                                    struct hostport *hp_r, const char **error_r);

/* Parses a port alone, as in hostport_parse() (only HOSTPORT_PORT_ZERO counts in flags). */
enum hostport_result hostport_parse_port(struct strv text, unsigned flags, uint16_t *port_r,
                                         const char **error_r);

/* Resolves host (a name, or an IP literal: then without a lookup) and port for a TCP
   connection, IPv4 and IPv6, in the resolver's order. Blocking. Returns 0 with *res_r (at
   least one address; release with freeaddrinfo()), or -1 with a static *error_r from
   gai_strerror() or strerror(). */
int hostport_resolve(const char *host, uint16_t port, struct addrinfo **res_r,
                     const char **error_r);

/* Parses address ("host:port" or "[v6]:port", as hostport_parse() without flags) and
   resolves it; the first address goes to *addr_r / *addr_len_r. Returns 0, or -1 with a
   static *error_r (the parse error or the resolver's). */
int hostport_resolve_first(const char *address, struct sockaddr_storage *addr_r,
                           socklen_t *addr_len_r, const char **error_r);

#endif
