/* SPDX-License-Identifier: MIT */
/* calendar-query's prop-filter on a stored object's text (api-caldav-filter.c). */
#ifndef TANDEMD_API_CALDAV_FILTER_H
#define TANDEMD_API_CALDAV_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* What a <C:prop-filter name=…> or <C:param-filter name=…> asks of its property or
   parameter: <C:is-not-defined/>, or <C:text-match>, or neither (it is there). */
struct caldav_match {
	const char *name; /* the property or parameter, e.g. "SUMMARY", "PARTSTAT" */
	bool is_not_defined;
	const char *text; /* text-match's text, or NULL */
	bool octet;       /* collation i;octet (else i;ascii-casemap) */
	bool negate;      /* negate-condition="yes" */
};

/* A prop-filter: its own match and param-filters that must all hold on one and the same
   property. */
struct caldav_prop_filter {
	struct caldav_match m;
	struct caldav_match *params;
	size_t param_count;
};

/* Whether the object text (len bytes) passes f for its components of kind component
   ("VEVENT", "VTODO"). */
bool caldav_filter_match(const struct caldav_prop_filter *f, const char *component,
                         const char *text, size_t len);

#endif
