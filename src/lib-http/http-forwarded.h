/* SPDX-License-Identifier: MIT */
/* The client a request came from, through proxies the server trusts: X-Forwarded-For read
   from the right, as far as trusted proxies wrote it (docs/internals/client-address.md). */
#ifndef TANDEM_HTTP_FORWARDED_H
#define TANDEM_HTTP_FORWARDED_H

#include <stddef.h>

#include "cidr.h"

struct http_header;
struct http_request;

enum http_forwarded_source {
	HTTP_FORWARDED_PEER,      /* the peer is the client: untrusted, or no X-Forwarded-For */
	HTTP_FORWARDED_HEADER,    /* taken from X-Forwarded-For */
	HTTP_FORWARDED_MALFORMED, /* a trusted peer sent an entry that is not an address */
};

/* The client address of a request from peer with these header fields. Unless peer lies in
   one of the trusted networks, it is the peer. Otherwise every X-Forwarded-For field, in
   order, makes one comma-separated list (empty elements are skipped) that is walked from the
   right: each address in a trusted network is a proxy and is skipped, the first one that is
   not is the client; if every address is trusted the left-most is. Entries left of the
   client are never looked at. An entry walked over that is not a bare IPv4 or IPv6 address
   (a port, brackets, "unknown", garbage) makes the whole header unusable: the result is
   MALFORMED, *client_r is the peer and *error_r (static) says which entry. */
enum http_forwarded_source http_forwarded_client(const struct http_header *headers, size_t count,
                                                 const struct cidr_addr *peer,
                                                 const struct cidr *trusted, size_t trusted_count,
                                                 struct cidr_addr *client_r, const char **error_r);

struct http_client_ip {
	struct cidr_addr addr;
	char text[CIDR_TEXT_MAX];
};

/* The client of req: http_forwarded_client() over its head fields and its peer; a malformed
   header is logged at debug level. (A peer that is not an IP address, which TCP never gives,
   is kept as text with an all-zero addr.) */
void http_request_client_ip(const struct http_request *req, const struct cidr *trusted,
                            size_t trusted_count, struct http_client_ip *ip_r);

/* True when the client used HTTPS: req came over a TLS listener, or its peer is a trusted
   proxy whose last X-Forwarded-Proto field says "https" (the proxy's own; one an untrusted
   peer sends means nothing). */
bool http_request_forwarded_https(const struct http_request *req, const struct cidr *trusted,
                                  size_t trusted_count);

#endif
