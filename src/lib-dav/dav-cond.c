/* SPDX-License-Identifier: MIT */
/* Conditional requests: the RFC 7232 §6 evaluation order and HTTP-date parsing. */
#include <string.h>

#include "dav-cond.h"

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Exactly n digits at s[*i]. */
static int digits(struct strv s, size_t *i, size_t n, int *value_r)
{
	int v = 0;
	if (*i + n > s.len)
		return -1;
	for (size_t k = 0; k < n; k++) {
		char c = s.ptr[*i + k];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*value_r = v;
	return 0;
}

static int literal(struct strv s, size_t *i, const char *lit)
{
	size_t n = strlen(lit);
	if (*i + n > s.len || memcmp(s.ptr + *i, lit, n) != 0)
		return -1;
	*i += n;
	return 0;
}

static int month(struct strv s, size_t *i, int *month_r)
{
	for (int m = 0; m < 12; m++) {
		if (literal(s, i, months[m]) == 0) {
			*month_r = m;
			return 0;
		}
	}
	return -1;
}

/* HH:MM:SS */
static int clock_time(struct strv s, size_t *i, int *h, int *m, int *sec)
{
	return digits(s, i, 2, h) < 0 || literal(s, i, ":") < 0 || digits(s, i, 2, m) < 0 ||
	               literal(s, i, ":") < 0 || digits(s, i, 2, sec) < 0
	           ? -1
	           : 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 0-11). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m < 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (m + 10) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int dav_http_date_parse(struct strv s, int64_t *time_r)
{
	int day, mon, year, h, m, sec;
	size_t i = 0, comma;
	for (comma = 0; comma < s.len && s.ptr[comma] != ',' && s.ptr[comma] != ' '; comma++)
		;
	if (comma >= s.len || comma < 3)
		return -1;
	if (s.ptr[comma] == ',' && comma == 3) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		i = 4;
		if (literal(s, &i, " ") < 0 || digits(s, &i, 2, &day) < 0 ||
		    literal(s, &i, " ") < 0 || month(s, &i, &mon) < 0 || literal(s, &i, " ") < 0 ||
		    digits(s, &i, 4, &year) < 0 || literal(s, &i, " ") < 0 ||
		    clock_time(s, &i, &h, &m, &sec) < 0 || literal(s, &i, " GMT") < 0)
			return -1;
	} else if (s.ptr[comma] == ',') {
		/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT; two-digit years within 50 years */
		i = comma + 1;
		if (literal(s, &i, " ") < 0 || digits(s, &i, 2, &day) < 0 ||
		    literal(s, &i, "-") < 0 || month(s, &i, &mon) < 0 || literal(s, &i, "-") < 0 ||
		    digits(s, &i, 2, &year) < 0 || literal(s, &i, " ") < 0 ||
		    clock_time(s, &i, &h, &m, &sec) < 0 || literal(s, &i, " GMT") < 0)
			return -1;
		year += year < 70 ? 2000 : 1900;
	} else {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		i = 4;
		if (comma != 3 || month(s, &i, &mon) < 0 || literal(s, &i, " ") < 0)
			return -1;
		if (literal(s, &i, " ") == 0) {
			if (digits(s, &i, 1, &day) < 0)
				return -1;
		} else if (digits(s, &i, 2, &day) < 0) {
			return -1;
		}
		if (literal(s, &i, " ") < 0 || clock_time(s, &i, &h, &m, &sec) < 0 ||
		    literal(s, &i, " ") < 0 || digits(s, &i, 4, &year) < 0)
			return -1;
	}
	if (i != s.len || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	*time_r = days_from_civil(year, mon, day) * 86400 + h * 3600 + m * 60 + sec;
	return 0;
}

/* An entity tag list ("*" or 1#entity-tag) matched against etag; weak ignores W/ on both. */
static bool etag_list_matches(struct strv header, const struct dav_cond_target *t, bool weak)
{
	struct strv item;
	header = strv_trim(header);
	if (strv_eq_cstr(header, "*"))
		return t->exists;
	if (!t->exists || t->etag == NULL)
		return false;
	struct strv etag = strv_from_cstr(t->etag);
	bool etag_weak = strv_starts_with(etag, STRV_LIT("W/"));
	if (etag_weak && !weak)
		return false;
	if (etag_weak)
		etag = strv_make(etag.ptr + 2, etag.len - 2);
	while (header.len > 0) {
		strv_split(header, ',', &item, &header);
		item = strv_trim(item);
		if (strv_starts_with(item, STRV_LIT("W/"))) {
			if (!weak)
				continue;
			item = strv_make(item.ptr + 2, item.len - 2);
		}
		if (strv_eq(item, etag))
			return true;
	}
	return false;
}

int dav_cond_evaluate(const struct dav_cond_headers *h, const struct dav_cond_target *target,
                      bool get_or_head)
{
	int64_t date;
	bool dated = target->exists && target->last_modified >= 0;
	/* 1. If-Match, else 2. If-Unmodified-Since */
	if (h->if_match.ptr != NULL) {
		if (!etag_list_matches(h->if_match, target, false))
			return 412;
	} else if (h->if_unmodified_since.ptr != NULL && dated &&
	           dav_http_date_parse(strv_trim(h->if_unmodified_since), &date) == 0 &&
	           target->last_modified > date) {
		return 412;
	}
	/* 3. If-None-Match, else 4. If-Modified-Since (GET and HEAD only) */
	if (h->if_none_match.ptr != NULL) {
		if (etag_list_matches(h->if_none_match, target, true))
			return get_or_head ? 304 : 412;
	} else if (get_or_head && h->if_modified_since.ptr != NULL && dated &&
	           dav_http_date_parse(strv_trim(h->if_modified_since), &date) == 0 &&
	           target->last_modified <= date) {
		return 304;
	}
	return 0;
}
