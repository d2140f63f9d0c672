/* SPDX-License-Identifier: MIT */
/* Per-path access rules by source network ([access /admin] allow = ...): which clients may
   reach which paths through the balancer. */
#ifndef TANDEM_LB_ACCESS_H
#define TANDEM_LB_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lb-config.h"
#include "strv.h"

#define LB_ACCESS_PATH_MAX 8192 /* longer paths are refused by the HTTP parser anyway */

/* One rule: requests whose normalised path is prefix or lies below it (segment boundary:
   "/admin" covers "/admin" and "/admin/x", not "/administrator") must come from allow. */
struct lb_access_rule {
	const char *prefix; /* "/admin"; no trailing '/' except for "/" itself */
	const struct lb_cidr *allow;
	size_t allow_count;
};

enum lb_access_result {
	LB_ACCESS_ALLOWED,
	LB_ACCESS_DENIED,    /* a rule covers the path and the peer is outside its networks */
	LB_ACCESS_MALFORMED, /* the path cannot be normalised (bad %-escape, encoded '/' or NUL,
	                        ".." above the root): refused, as a member might read it otherwise
	                      */
};

/* Normalises path (the request's origin-form path, without the query) the way a member
   could read it: %XX decoded, ";params" dropped from every segment, empty and "." segments
   removed, ".." resolved. Writes the result (starting with '/', NUL-terminated) into out;
   returns false when the path is malformed or does not fit out_size. */
bool lb_access_normalise(struct strv path, char *out, size_t out_size);

/* Decides for one request: the longest rule covering the normalised path applies; no rule,
   allowed. peer NULL counts as outside every network. */
enum lb_access_result lb_access_check(const struct lb_access_rule *rules, size_t count,
                                      struct strv path, const struct sockaddr *peer);

#endif
