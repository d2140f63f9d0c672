/* SPDX-License-Identifier: MIT */
/* Open connections per client address, shared by the loop threads of one server: the cap of
   http_server_settings.max_conns_per_source (docs/internals/http.md, "Slow and greedy
   clients"). */
#ifndef TANDEM_HTTP_SOURCE_CAP_H
#define TANDEM_HTTP_SOURCE_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct http_source_cap;

/* What a connection counts under: an IPv4 address (as IPv4-mapped IPv6), or the /64 of an
   IPv6 address, the block one subscriber gets (a per-address cap would not hold there). */
struct http_source_key {
	uint8_t b[16];
};

/* max >= 1 connections per key. Thread-safe; one mutex, taken once per accept and close. */
struct http_source_cap *http_source_cap_create(unsigned max);
void http_source_cap_destroy(struct http_source_cap **cap);

/* The key of addr; false for a family other than AF_INET and AF_INET6. */
bool http_source_key(const struct sockaddr *addr, struct http_source_key *key_r);
/* Counts one more connection of key, or returns false (nothing counted) when key has max. */
bool http_source_cap_take(struct http_source_cap *cap, const struct http_source_key *key);
/* One connection of key (taken before) is gone. */
void http_source_cap_release(struct http_source_cap *cap, const struct http_source_key *key);
/* Open connections counted under key, and keys with any. */
unsigned http_source_cap_count(struct http_source_cap *cap, const struct http_source_key *key);
size_t http_source_cap_sources(struct http_source_cap *cap);

#endif
