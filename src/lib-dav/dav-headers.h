/* SPDX-License-Identifier: MIT */
/* The WebDAV request headers (RFC 4918 §10): Depth, Overwrite, Destination, Timeout,
   Lock-Token, and the URI-to-path mapping they and the If header share. */
#ifndef TANDEM_DAV_HEADERS_H
#define TANDEM_DAV_HEADERS_H

#include <stdbool.h>
#include <stdint.h>

#include "strv.h"

struct pool;

/* Each parser takes the header's value as http_request_header() gives it: ptr == NULL when
   the header is absent. */

enum dav_depth {
	DAV_DEPTH_0,
	DAV_DEPTH_1,
	DAV_DEPTH_INFINITY,
};

/* What an absent Depth means for method (RFC 4918 §9.1, §9.6, §9.8, §9.9, §9.10): infinity
   for PROPFIND, DELETE, COPY, MOVE and LOCK; 0 for every other method. */
enum dav_depth dav_depth_default(struct strv method);
/* "0", "1" or "infinity" (case-insensitive); absent = def. -1 with *error_r on anything
   else (answer 400). */
int dav_depth_parse(struct strv value, enum dav_depth def, enum dav_depth *depth_r,
                    const char **error_r);

/* "T" or "F" (RFC 4918 §10.6); absent = T. -1 with *error_r on anything else (400). */
int dav_overwrite_parse(struct strv value, bool *overwrite_r, const char **error_r);

/* The server the request reached, to tell which URIs are ours. */
struct dav_origin {
	const char *scheme; /* "http" or "https": how the client reached us (behind tandem-lb:
	                       X-Forwarded-Proto) */
	struct strv host;   /* the request's Host header, port included when sent */
};

/* Maps a Simple-ref (RFC 4918 §8.3: an absolute URI or an absolute path) to a decoded path
   allocated from pool: "/dav/files/home/a b/" for "http://h/dav/files/home/a%20b/". An
   absolute URI must name origin (scheme and host case-insensitive, default ports equal to
   none) or -1 with *status_r 502 (RFC 4918 §9.8.5: another server). Refused with 400: a
   relative reference, user info, a query or fragment, a bad %-escape, %2F or %00 in a
   segment, "." or ".." segments (plain or encoded), empty segments ("//") other than the
   trailing slash. The trailing slash is kept. */
int dav_uri_to_path(struct pool *pool, struct strv uri, const struct dav_origin *origin,
                    const char **path_r, int *status_r, const char **error_r);
/* The Destination header through dav_uri_to_path(); absent is 400 too. */
int dav_destination_parse(struct pool *pool, struct strv value, const struct dav_origin *origin,
                          const char **path_r, int *status_r, const char **error_r);

#define DAV_TIMEOUT_INFINITE UINT32_MAX
/* Timeout (RFC 4918 §10.7): the first usable entry of "Infinite, Second-N, …", in seconds,
   capped at max (Infinite = max); def when absent or nothing in it is usable (the RFC lets
   the server ignore what it does not understand). */
uint32_t dav_timeout_parse(struct strv value, uint32_t def, uint32_t max);

/* Lock-Token: "<" URI ">" (a Coded-URL, RFC 4918 §10.5). *token_r is the URI inside the
   brackets, a view into value. -1 with *error_r when absent or malformed (400). */
int dav_lock_token_parse(struct strv value, struct strv *token_r, const char **error_r);
/* A Coded-URL at the start of *in: "<" 1*(any char but CTL, SP, "<" and ">") ">". Advances
 *in past it. False (and *in unchanged) when there is none. Shared with the If parser. */
bool dav_coded_url_take(struct strv *in, struct strv *uri_r);

#endif
