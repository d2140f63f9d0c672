/* SPDX-License-Identifier: MIT */
/* addressbook-query's filter (RFC 6352 §10.5) evaluated on a stored vCard's text
   (api-carddav-filter.c). */
#ifndef TANDEMD_API_CARDDAV_FILTER_H
#define TANDEMD_API_CARDDAV_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum carddav_collation {
	CARDDAV_UNICODE_CASEMAP = 0, /* i;unicode-casemap, the default */
	CARDDAV_ASCII_CASEMAP,       /* i;ascii-casemap */
	CARDDAV_OCTET,               /* i;octet */
};

enum carddav_match_type {
	CARDDAV_CONTAINS = 0, /* the default */
	CARDDAV_EQUALS,
	CARDDAV_STARTS_WITH,
	CARDDAV_ENDS_WITH,
};

/* <C:text-match>: text already folded for its collation (carddav_fold). */
struct carddav_text_match {
	const char *text;
	size_t len;
	enum carddav_collation collation;
	enum carddav_match_type match;
	bool negate;
};

/* <C:param-filter name=…> with is-not-defined, a text-match, or neither (the parameter is
   there). */
struct carddav_param_filter {
	const char *name;
	bool is_not_defined;
	struct carddav_text_match *text; /* or NULL */
};

/* <C:prop-filter name=… test=anyof|allof>: is-not-defined, or text-matches and
   param-filters combined by test on one instance of the property. */
struct carddav_prop_filter {
	const char *name;
	bool is_not_defined, allof;
	struct carddav_text_match *texts;
	size_t text_count;
	struct carddav_param_filter *params;
	size_t param_count;
};

/* <C:filter test=anyof|allof>: no prop-filter matches every card. */
struct carddav_filter {
	bool allof;
	struct carddav_prop_filter *props;
	size_t count;
};

/* s (len bytes of UTF-8) folded for collation into out (reset first): i;unicode-casemap
   lowercases ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters (simple case
   folding, no decomposition); i;ascii-casemap ASCII only; i;octet copies. */
void carddav_fold(const char *s, size_t len, enum carddav_collation collation, struct buf *out);
/* The longest card text a filter reads whole (a stored card is at most VCARD_MAX_SIZE). */
#define CARDDAV_FILTER_TEXT_MAX (16u << 20)

/* What carddav_filter_match works in, kept from card to card of one query: zeroed before
   the first, freed after the last (carddav_filter_scratch_free). */
struct carddav_filter_scratch {
	struct buf raw, tmp, value;
	bool *defined, *matched;
	size_t count; /* 0: nothing allocated yet */
};

/* Whether the card text (len bytes) passes f. */
bool carddav_filter_match(const struct carddav_filter *f, struct carddav_filter_scratch *s,
                          const char *text, size_t len);
void carddav_filter_scratch_free(struct carddav_filter_scratch *s);

#endif
