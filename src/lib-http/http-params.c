/* SPDX-License-Identifier: MIT */
/* Query and cookie lookups shared by every handler, so that untrusted input is parsed in one
   fuzzed place. */
#include "http-params.h"

#include <string.h>

bool http_query_get(struct strv query, const char *name, struct strv *value_r)
{
	size_t nlen = strlen(name);
	struct strv pair;
	while (query.len > 0) {
		strv_split(query, '&', &pair, &query);
		if (pair.len < nlen || memcmp(pair.ptr, name, nlen) != 0)
			continue;
		if (pair.len == nlen) {
			*value_r = strv_make(pair.ptr + nlen, 0);
			return true;
		}
		if (pair.ptr[nlen] == '=') {
			*value_r = strv_make(pair.ptr + nlen + 1, pair.len - nlen - 1);
			return true;
		}
	}
	return false;
}

size_t http_url_decode(struct strv in, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.ptr[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < in.len) {
			int hi = strv_hex_digit(in.ptr[i + 1]);
			int lo = strv_hex_digit(in.ptr[i + 2]);
			if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
				c = (char)(hi * 16 + lo);
				i += 2;
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

/* The first cookie whose name is name (whole_name) or starts with it: its value, or
   STRV_NULL. */
static struct strv cookie_find(const struct http_request_head *head, const char *name,
                               bool whole_name)
{
	size_t nlen = strlen(name);
	for (size_t i = 0; i < head->header_count; i++) {
		if (!strv_eq_ci_cstr(head->headers[i].name, "Cookie"))
			continue;
		struct strv rest = head->headers[i].value, part;
		while (rest.len > 0) {
			strv_split(rest, ';', &part, &rest);
			part = strv_trim(part);
			if (part.len <= nlen || memcmp(part.ptr, name, nlen) != 0)
				continue;
			const char *eq = memchr(part.ptr + nlen, '=', part.len - nlen);
			if (eq == NULL || (whole_name && eq != part.ptr + nlen))
				continue;
			return strv_make(eq + 1, part.len - (size_t)(eq + 1 - part.ptr));
		}
	}
	return STRV_NULL;
}

struct strv http_cookie_get(const struct http_request_head *head, const char *name)
{
	return cookie_find(head, name, true);
}

bool http_cookie_any(const struct http_request_head *head, const char *prefix)
{
	return cookie_find(head, prefix, false).ptr != NULL;
}
