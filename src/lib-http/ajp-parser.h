/* SPDX-License-Identifier: MIT */
/* Strict, bounded parser of what a web server (Apache mod_proxy_ajp) sends over AJP13: packet
   framing, the FORWARD_REQUEST packet as an HTTP request head, request body packets
   (docs/internals/ajp.md). */
#ifndef TANDEM_AJP_PARSER_H
#define TANDEM_AJP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-parser.h"
#include "strv.h"

struct pool;

/* A whole packet, its 4 header bytes included: the default of Apache (ProxyIOBufferSize) and
   of Tomcat (packetSize); nothing larger is accepted. */
#define AJP_PACKET_MAX 8192
#define AJP_HEADER_LEN 4
/* Body bytes in one request body packet: payload = 2 length bytes + data. */
#define AJP_BODY_DATA_MAX (AJP_PACKET_MAX - AJP_HEADER_LEN - 2)

/* Packet types (the payload's first byte). */
enum ajp_type {
	AJP_FORWARD_REQUEST = 2, /* web server → container */
	AJP_SEND_BODY_CHUNK = 3, /* container → web server */
	AJP_SEND_HEADERS = 4,
	AJP_END_RESPONSE = 5,
	AJP_GET_BODY_CHUNK = 6,
	AJP_SHUTDOWN = 7, /* web server → container; never obeyed */
	AJP_PING = 8,
	AJP_CPONG = 9,
	AJP_CPING = 10,
};

/* A packet from the web server at the front of buf[0..len): AGAIN until all of it arrived;
   ERROR when the magic is not 0x12 0x34 or the length exceeds AJP_PACKET_MAX; OK with its
   payload (*payload_r, possibly empty, viewing buf) and its whole length (*packet_len_r). */
enum http_parse_status ajp_parser_packet(const char *buf, size_t len, struct strv *payload_r,
                                         size_t *packet_len_r, const char **error_r);

/* A FORWARD_REQUEST, translated into the head the HTTP parser would produce. */
struct ajp_forward {
	struct http_request_head head; /* keep_alive always true; no 100-continue */
	struct strv remote_addr;       /* the client: a valid IPv4 or IPv6 address */
	struct strv remote_host;       /* may be empty */
	struct strv server_name;
	uint16_t server_port;
	bool is_ssl;       /* the client used HTTPS with the web server */
	struct strv route; /* the balancer member's route attribute, STRV_NULL if none */
	bool has_secret;
	struct strv secret; /* the "secret" attribute (ProxyPass … secret=), when has_secret */
};

/* Parses a FORWARD_REQUEST payload (its type byte first). Strings are views into payload
   (which must outlive fwd_r); the header array and the target ("uri?query") are allocated
   from pool. A Content-Length header gives HTTP_BODY_LENGTH (0: no body), Transfer-Encoding:
   chunked HTTP_BODY_CHUNKED (body packets until an empty one). Strict: every string must end
   with its NUL, names are tokens, values and the URI carry no control bytes, nothing may
   follow the attribute list's end. Returns 0, or -1 with *status_r (400, or 431 beyond
   max_headers fields) and a static *error_r. */
int ajp_parser_forward(const char *payload, size_t len, struct pool *pool, size_t max_headers,
                       struct ajp_forward *fwd_r, int *status_r, const char **error_r);

/* A request body packet's payload: its data (len 0 = the body's end, also for an empty
   payload). Returns 0, or -1 with a static *error_r when the inner length disagrees. */
int ajp_parser_body(struct strv payload, struct strv *data_r, const char **error_r);

/* got equals want, in time that depends on their lengths only. */
bool ajp_parser_secret_equal(struct strv got, const char *want);

#endif
