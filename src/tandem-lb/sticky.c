/* SPDX-License-Identifier: MIT */
/* Sticky route extraction after Apache mod_proxy_balancer: route = text after the first
   separator of the session id, taken from the cookie, else the path, else the query. */
#include "sticky.h"

#include <stdbool.h>
#include <string.h>

const char *sticky_source_name(enum sticky_source source)
{
	switch (source) {
	case STICKY_COOKIE:
		return "cookie";
	case STICKY_PATH:
		return "path";
	case STICKY_QUERY:
		return "query";
	case STICKY_NONE:
		break;
	}
	return "none";
}

static bool route_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* The route in a session id value, checked against the charset that node routes use: anything
   else can match no member, so it is no route rather than an unknown one. */
static bool route_from_value(struct strv value, char separator, struct strv *route_r)
{
	struct strv head, route;

	if (!strv_split(value, separator, &head, &route))
		return false;
	if (route.len == 0 || route.len > STICKY_ROUTE_MAX)
		return false;
	for (size_t i = 0; i < route.len; i++) {
		if (!route_char(route.ptr[i]))
			return false;
	}
	*route_r = route;
	return true;
}

/* RFC 6265 token for cookie names. */
static bool name_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	for (const char *s = "()<>@,;:\\\"/[]?={}"; *s != '\0'; s++) {
		if (c == (unsigned char)*s)
			return false;
	}
	return true;
}

/* RFC 6265 cookie-octet: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash. */
static bool value_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	       (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* Splits one "name=value" cookie pair strictly; false for a malformed pair. A value in
   DQUOTEs (allowed by RFC 6265) is returned without them. */
static bool cookie_pair(struct strv pair, struct strv *name_r, struct strv *value_r)
{
	struct strv name, value;

	if (!strv_split(pair, '=', &name, &value) || name.len == 0)
		return false;
	for (size_t i = 0; i < name.len; i++) {
		if (!name_char((unsigned char)name.ptr[i]))
			return false;
	}
	if (value.len >= 2 && value.ptr[0] == '"' && value.ptr[value.len - 1] == '"')
		value = strv_make(value.ptr + 1, value.len - 2);
	for (size_t i = 0; i < value.len; i++) {
		if (!value_char((unsigned char)value.ptr[i]))
			return false;
	}
	*name_r = name;
	*value_r = value;
	return true;
}

static bool from_cookies(const struct sticky_settings *set, const struct strv *cookies,
                         size_t cookie_count, struct strv *route_r)
{
	for (size_t i = 0; i < cookie_count; i++) {
		struct strv rest = cookies[i], pair, name, value;

		while (rest.len > 0) {
			strv_split(rest, ';', &pair, &rest);
			pair = strv_trim(pair);
			if (cookie_pair(pair, &name, &value) && strv_eq(name, set->cookie) &&
			    route_from_value(value, set->separator, route_r))
				return true;
		}
	}
	return false;
}

/* "name=value" at the start of s: the value up to the first of stops. */
static bool param_value(struct strv s, struct strv name, const char *stops, struct strv *value_r)
{
	size_t end = name.len + 1;

	if (s.len < end || s.ptr[name.len] != '=' || memcmp(s.ptr, name.ptr, name.len) != 0)
		return false;
	while (end < s.len && memchr(stops, s.ptr[end], strlen(stops)) == NULL)
		end++;
	*value_r = strv_make(s.ptr + name.len + 1, end - name.len - 1);
	return true;
}

/* ";name=value" parameters of any path segment; a value ends at ';' or '/'. */
static bool from_path(const struct sticky_settings *set, struct strv path, struct strv *route_r)
{
	for (size_t i = 0; i < path.len; i++) {
		struct strv value;

		if (path.ptr[i] == ';' &&
		    param_value(strv_make(path.ptr + i + 1, path.len - i - 1), set->param, ";/",
		                &value) &&
		    route_from_value(value, set->separator, route_r))
			return true;
	}
	return false;
}

/* "name=value" pairs separated by '&'. */
static bool from_query(const struct sticky_settings *set, struct strv query, struct strv *route_r)
{
	struct strv pair, value;

	while (query.len > 0) {
		strv_split(query, '&', &pair, &query);
		if (param_value(pair, set->param, "", &value) &&
		    route_from_value(value, set->separator, route_r))
			return true;
	}
	return false;
}

enum sticky_source sticky_route(const struct sticky_settings *set, struct strv path,
                                struct strv query, const struct strv *cookies, size_t cookie_count,
                                struct strv *route_r)
{
	*route_r = strv_make("", 0);
	if (set->cookie.len > 0 && from_cookies(set, cookies, cookie_count, route_r))
		return STICKY_COOKIE;
	if (set->param.len > 0 && from_path(set, path, route_r))
		return STICKY_PATH;
	if (set->param.len > 0 && from_query(set, query, route_r))
		return STICKY_QUERY;
	return STICKY_NONE;
}
