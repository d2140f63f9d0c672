/* SPDX-License-Identifier: MIT */
/* calendar-query's prop-filter on a stored object's text (api-caldav-filter.c). */
#ifndef TANDEMD_API_CALDAV_FILTER_H
#define TANDEMD_API_CALDAV_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* <C:param-filter name=…> with <C:is-not-defined/> or <C:text-match> (or neither: the
   parameter is there). */
struct caldav_param_filter {
	const char *name; /* the parameter, e.g. "PARTSTAT" */
	bool is_not_defined;
	const char *text; /* text-match's text, or NULL */
	bool octet;       /* collation i;octet (else i;ascii-casemap) */
	bool negate;      /* negate-condition="yes" */
};

/* <C:prop-filter name=…> with <C:is-not-defined/>, or an optional <C:text-match> and
   param-filters that must all hold on one and the same property (or none of them: the
   property is there). */
struct caldav_prop_filter {
	const char *name; /* the property, e.g. "SUMMARY" */
	bool is_not_defined;
	const char *text; /* text-match's text, or NULL */
	bool octet;       /* collation i;octet (else i;ascii-casemap) */
	bool negate;      /* negate-condition="yes" */
	struct caldav_param_filter *params;
	size_t param_count;
};

/* Whether the object text (len bytes) passes f for its components of kind component
   ("VEVENT", "VTODO"). */
bool caldav_filter_match(const struct caldav_prop_filter *f, const char *component,
                         const char *text, size_t len);

#endif
