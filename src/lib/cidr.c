/* SPDX-License-Identifier: MIT */
/* Address and network parsing on inet_pton(), which is already strict (no leading zeros, no
   short forms like "10.1"), with the surrounding text checked here. */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* 4 for an IPv4 text, 6 for IPv6, 0 for neither. */
static int parse_text(struct strv s, struct cidr_addr *addr_r)
{
	char text[CIDR_TEXT_MAX];
	if (s.len == 0 || s.len >= sizeof(text) || memchr(s.ptr, '\0', s.len) != NULL)
		return 0;
	memcpy(text, s.ptr, s.len);
	text[s.len] = '\0';
	if (inet_pton(AF_INET, text, addr_r->b + 12) == 1) {
		memcpy(addr_r->b, v4_mapped, sizeof(v4_mapped));
		return 4;
	}
	if (inet_pton(AF_INET6, text, addr_r->b) == 1)
		return 6;
	return 0;
}

int cidr_addr_parse(struct strv s, struct cidr_addr *addr_r)
{
	return parse_text(s, addr_r) != 0 ? 0 : -1;
}

bool cidr_addr_is_v4(const struct cidr_addr *addr)
{
	return memcmp(addr->b, v4_mapped, sizeof(v4_mapped)) == 0;
}

bool cidr_addr_is_loopback(const struct cidr_addr *addr)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	if (cidr_addr_is_v4(addr))
		return addr->b[12] == 127;
	return memcmp(addr->b, v6_loopback, sizeof(v6_loopback)) == 0;
}

void cidr_addr_format(const struct cidr_addr *addr, char out[CIDR_TEXT_MAX])
{
	if (cidr_addr_is_v4(addr))
		inet_ntop(AF_INET, addr->b + 12, out, CIDR_TEXT_MAX);
	else
		inet_ntop(AF_INET6, addr->b, out, CIDR_TEXT_MAX);
}

struct cidr_addr cidr_addr_mask(const struct cidr_addr *addr, unsigned prefix)
{
	struct cidr_addr m = *addr;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		if (bits < 8)
			m.b[i] &= (uint8_t)(0xff00 >> bits);
	}
	return m;
}

int cidr_parse(struct strv s, struct cidr *net_r, const char **error_r)
{
	static __thread char msg[160];
	struct strv addr = s, bits = STRV_NULL;
	uint64_t prefix = 0;
	bool has_prefix = strv_split(s, '/', &addr, &bits);
	int family = parse_text(addr, &net_r->net);
	unsigned max = family == 4 ? 32 : 128;

	if (family == 0 || (has_prefix && (bits.len == 0 || bits.len > 3 ||
	                                   strv_to_u64(bits, &prefix) < 0 || prefix > max))) {
		snprintf(msg, sizeof(msg), "\"%.*s\" is not an address or address/prefix",
		         (int)(s.len > 64 ? 64 : s.len), s.ptr);
		*error_r = msg;
		return -1;
	}
	net_r->prefix = !has_prefix ? 128 : family == 4 ? 96 + (unsigned)prefix : (unsigned)prefix;
	struct cidr_addr masked = cidr_addr_mask(&net_r->net, net_r->prefix);
	if (memcmp(masked.b, net_r->net.b, sizeof(masked.b)) != 0) {
		snprintf(msg, sizeof(msg), "\"%.*s\" has host bits set past the prefix",
		         (int)(s.len > 64 ? 64 : s.len), s.ptr);
		*error_r = msg;
		return -1;
	}
	return 0;
}

int cidr_parse_list(const char *s, struct cidr *nets, size_t max, size_t *count_io,
                    const char **error_r)
{
	static __thread char msg[80];
	while (*s != '\0') {
		size_t len = strcspn(s, ", \t");
		if (len > 0) {
			if (*count_io >= max) {
				snprintf(msg, sizeof(msg), "too many networks (at most %zu)", max);
				*error_r = msg;
				return -1;
			}
			if (cidr_parse(strv_make(s, len), &nets[*count_io], error_r) < 0)
				return -1;
			(*count_io)++;
		}
		s += len;
		s += strspn(s, ", \t");
	}
	return 0;
}

bool cidr_match(const struct cidr *nets, size_t count, const struct cidr_addr *addr)
{
	for (size_t i = 0; i < count; i++) {
		struct cidr_addr m = cidr_addr_mask(addr, nets[i].prefix);
		if (memcmp(m.b, nets[i].net.b, sizeof(m.b)) == 0)
			return true;
	}
	return false;
}

int cidr_addr_from_sockaddr(const struct sockaddr *sa, struct cidr_addr *addr_r)
{
	memset(addr_r, 0, sizeof(*addr_r));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		addr_r->b[10] = addr_r->b[11] = 0xff;
		memcpy(addr_r->b + 12, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(addr_r->b, &in6->sin6_addr, 16);
		return 0;
	}
	return -1;
}
