/* SPDX-License-Identifier: MIT */
/* IP addresses and networks in one form: an IPv4 address is held as its IPv4-mapped IPv6
   address (::ffff:a.b.c.d), so one comparison serves both families. */
#ifndef TANDEM_CIDR_H
#define TANDEM_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

#define CIDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN: the longest address text plus its NUL */

struct cidr_addr {
	uint8_t b[16];
};

struct cidr {
	struct cidr_addr net;
	unsigned prefix; /* 0-128, over the mapped form (an IPv4 /n is 96 + n) */
};

/* Strict: a dotted quad (no leading zeros) or IPv6 text, nothing around it (no brackets,
   port, zone or blanks). "::ffff:1.2.3.4" is the same address as "1.2.3.4". 0 or -1. */
int cidr_addr_parse(struct strv s, struct cidr_addr *addr_r);
bool cidr_addr_is_v4(const struct cidr_addr *addr);
/* 127.0.0.0/8 or ::1. */
bool cidr_addr_is_loopback(const struct cidr_addr *addr);
struct sockaddr;
/* The address of an AF_INET or AF_INET6 socket address: 0, or -1 for another family. */
int cidr_addr_from_sockaddr(const struct sockaddr *sa, struct cidr_addr *addr_r);
/* A dotted quad for IPv4, else RFC 5952 text. */
void cidr_addr_format(const struct cidr_addr *addr, char out[CIDR_TEXT_MAX]);
/* addr with the bits past prefix (0-128, mapped form) cleared. */
struct cidr_addr cidr_addr_mask(const struct cidr_addr *addr, unsigned prefix);

/* "address" (a host) or "address/prefix", prefix 0-32 for IPv4 and 0-128 for IPv6. Host bits
   set past the prefix are an error (10.0.0.1/8 is most likely a typo). 0, or -1 with a
   static message naming the token. */
int cidr_parse(struct strv s, struct cidr *net_r, const char **error_r);
/* Appends the networks of s, separated by commas and/or blanks, to nets (*count_io used of
   max). 0, or -1 with a static message (a bad token, or more than max networks). */
int cidr_parse_list(const char *s, struct cidr *nets, size_t max, size_t *count_io,
                    const char **error_r);
/* True if addr lies in one of the count networks. */
bool cidr_match(const struct cidr *nets, size_t count, const struct cidr_addr *addr);

#endif
