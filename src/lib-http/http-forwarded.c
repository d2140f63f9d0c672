/* SPDX-License-Identifier: MIT */
/* Only the right end of X-Forwarded-For can be believed: each trusted proxy appends the
   address it saw, whereas everything further left came from the client. The walk therefore
   stops at the first address no trusted proxy stands for, and never parses what is left of
   it, so a client cannot make its own entries count (or, being garbage, make the header
   unusable and the proxy's own address the "client"). */
#include "http-forwarded.h"

#include <stdio.h>
#include <string.h>

#include "http-parser.h"
#include "http-server.h"
#include "log.h"

enum step { STEP_TRUSTED, STEP_CLIENT, STEP_BAD };

static enum step visit(struct strv entry, const struct cidr *trusted, size_t trusted_count,
                       struct cidr_addr *addr_r, const char **error_r)
{
	static __thread char msg[120];
	if (cidr_addr_parse(entry, addr_r) < 0) {
		snprintf(msg, sizeof(msg), "X-Forwarded-For entry \"%.*s\" is not an IP address",
		         (int)(entry.len > 60 ? 60 : entry.len), entry.ptr);
		*error_r = msg;
		return STEP_BAD;
	}
	return cidr_match(trusted, trusted_count, addr_r) ? STEP_TRUSTED : STEP_CLIENT;
}

enum http_forwarded_source http_forwarded_client(const struct http_header *headers, size_t count,
                                                 const struct cidr_addr *peer,
                                                 const struct cidr *trusted, size_t trusted_count,
                                                 struct cidr_addr *client_r, const char **error_r)
{
	bool walked = false;
	*client_r = *peer;
	if (!cidr_match(trusted, trusted_count, peer))
		return HTTP_FORWARDED_PEER;
	for (size_t i = count; i-- > 0;) {
		if (!strv_eq_ci_cstr(headers[i].name, "X-Forwarded-For"))
			continue;
		struct strv v = headers[i].value;
		if (v.len == 0)
			continue;
		size_t end = v.len;
		for (;;) {
			size_t start = end;
			while (start > 0 && v.ptr[start - 1] != ',')
				start--;
			struct strv entry = strv_trim(strv_make(v.ptr + start, end - start));
			if (entry.len > 0) {
				struct cidr_addr addr;
				enum step s = visit(entry, trusted, trusted_count, &addr, error_r);
				if (s == STEP_BAD) {
					*client_r = *peer;
					return HTTP_FORWARDED_MALFORMED;
				}
				*client_r = addr;
				walked = true;
				if (s == STEP_CLIENT)
					return HTTP_FORWARDED_HEADER;
			}
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	/* All trusted: the left-most is where the request began. */
	return walked ? HTTP_FORWARDED_HEADER : HTTP_FORWARDED_PEER;
}

bool http_request_forwarded_https(const struct http_request *req, const struct cidr *trusted,
                                  size_t trusted_count)
{
	if (http_request_is_tls(req))
		return true;
	struct cidr_addr peer;
	if (trusted_count == 0 ||
	    cidr_addr_parse(strv_from_cstr(http_request_peer_ip(req)), &peer) < 0 ||
	    !cidr_match(trusted, trusted_count, &peer))
		return false;
	const struct http_request_head *head = http_request_head(req);
	struct strv proto = STRV_NULL;
	for (size_t i = 0; i < head->header_count; i++) {
		if (strv_eq_ci_cstr(head->headers[i].name, "X-Forwarded-Proto"))
			proto = head->headers[i].value;
	}
	return strv_eq_ci_cstr(proto, "https");
}

void http_request_client_ip(const struct http_request *req, const struct cidr *trusted,
                            size_t trusted_count, struct http_client_ip *ip_r)
{
	const char *peer = http_request_peer_ip(req);
	const struct http_request_head *head = http_request_head(req);
	struct cidr_addr peer_addr;
	const char *error;
	if (cidr_addr_parse(strv_from_cstr(peer), &peer_addr) < 0) {
		memset(&ip_r->addr, 0, sizeof(ip_r->addr));
		snprintf(ip_r->text, sizeof(ip_r->text), "%s", peer);
		return;
	}
	if (http_forwarded_client(head->headers, head->header_count, &peer_addr, trusted,
	                          trusted_count, &ip_r->addr, &error) == HTTP_FORWARDED_MALFORMED)
		log_debug("http", "trusted proxy %s: %s; the client is taken to be the proxy", peer,
		          error);
	cidr_addr_format(&ip_r->addr, ip_r->text);
}
