/* SPDX-License-Identifier: MIT */
/* HTTP conditional requests (RFC 7232): If-Match, If-None-Match, If-Modified-Since and
   If-Unmodified-Since evaluated in the RFC's order (§6). */
#ifndef TANDEM_DAV_COND_H
#define TANDEM_DAV_COND_H

#include <stdbool.h>
#include <stdint.h>

#include "strv.h"

/* The four headers as http_request_header() gives them (ptr NULL when absent). */
struct dav_cond_headers {
	struct strv if_match;
	struct strv if_none_match;
	struct strv if_modified_since;
	struct strv if_unmodified_since;
};

/* The target as it is now. */
struct dav_cond_target {
	bool exists;
	const char *etag;      /* strong tag with quotes, NULL when it has none */
	int64_t last_modified; /* Unix seconds, < 0 when unknown */
};

/* 0 to go on, 304 (GET and HEAD only) or 412. If-Match compares strongly and "*" matches
   any existing target; If-None-Match compares weakly (§3.2). A date header that does not
   parse, or that comes with its entity-tag counterpart, is ignored, as §3.3 and §3.4 say. */
int dav_cond_evaluate(const struct dav_cond_headers *h, const struct dav_cond_target *target,
                      bool get_or_head);

/* An HTTP-date (RFC 7231 §7.1.1.1: IMF-fixdate, and the obsolete RFC 850 and asctime forms a
   recipient must accept) to Unix seconds. -1 when it is none of them. */
int dav_http_date_parse(struct strv s, int64_t *time_r);

#endif
