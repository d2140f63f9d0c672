/* SPDX-License-Identifier: MIT */
/* Depth, Overwrite, Destination, Timeout and Lock-Token, strictly parsed. */
#include <string.h>

#include "buf.h"
#include "dav-headers.h"
#include "pool.h"

enum dav_depth dav_depth_default(struct strv method)
{
	static const char *const infinite[] = {"PROPFIND", "DELETE", "COPY", "MOVE", "LOCK"};
	for (size_t i = 0; i < sizeof(infinite) / sizeof(infinite[0]); i++) {
		if (strv_eq_cstr(method, infinite[i]))
			return DAV_DEPTH_INFINITY;
	}
	return DAV_DEPTH_0;
}

int dav_depth_parse(struct strv value, enum dav_depth def, enum dav_depth *depth_r,
                    const char **error_r)
{
	if (value.ptr == NULL) {
		*depth_r = def;
		return 0;
	}
	value = strv_trim(value);
	if (strv_eq_cstr(value, "0")) {
		*depth_r = DAV_DEPTH_0;
	} else if (strv_eq_cstr(value, "1")) {
		*depth_r = DAV_DEPTH_1;
	} else if (strv_eq_ci_cstr(value, "infinity")) {
		*depth_r = DAV_DEPTH_INFINITY;
	} else {
		*error_r = "Depth must be 0, 1 or infinity";
		return -1;
	}
	return 0;
}

int dav_overwrite_parse(struct strv value, bool *overwrite_r, const char **error_r)
{
	value = strv_trim(value);
	if (value.ptr == NULL || strv_eq_cstr(value, "T")) {
		*overwrite_r = true;
	} else if (strv_eq_cstr(value, "F")) {
		*overwrite_r = false;
	} else {
		*error_r = "Overwrite must be T or F";
		return -1;
	}
	return 0;
}

static int fail(int *status_r, const char **error_r, int status, const char *error)
{
	*status_r = status;
	*error_r = error;
	return -1;
}

/* host[:port] with the port dropped when it is the scheme's default, lower-cased into out. */
static void authority_normalise(struct strv authority, const char *scheme, struct buf *out)
{
	struct strv host = authority, port = STRV_NULL;
	ptrdiff_t colon = -1;
	for (size_t i = 0; i < authority.len; i++) {
		if (authority.ptr[i] == ':')
			colon = (ptrdiff_t)i;
		else if (authority.ptr[i] == ']')
			colon = -1; /* an IPv6 literal's colons are not the port's */
	}
	if (colon >= 0) {
		host = strv_make(authority.ptr, (size_t)colon);
		port = strv_make(authority.ptr + colon + 1, authority.len - (size_t)colon - 1);
	}
	for (size_t i = 0; i < host.len; i++) {
		char c = host.ptr[i];
		buf_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
	}
	bool is_default = port.len == 0 ||
	                  (strcmp(scheme, "http") == 0 && strv_eq_cstr(port, "80")) ||
	                  (strcmp(scheme, "https") == 0 && strv_eq_cstr(port, "443"));
	if (!is_default) {
		buf_append_char(out, ':');
		buf_append_strv(out, port);
	}
}

static bool same_origin(struct strv scheme, struct strv authority, const struct dav_origin *origin)
{
	char a_store[512], b_store[512];
	struct buf a, b;
	if (!strv_eq_ci_cstr(scheme, origin->scheme))
		return false;
	buf_init_fixed(&a, a_store, sizeof(a_store));
	buf_init_fixed(&b, b_store, sizeof(b_store));
	authority_normalise(authority, origin->scheme, &a);
	authority_normalise(strv_trim(origin->host), origin->scheme, &b);
	return !buf_overflowed(&a) && !buf_overflowed(&b) && strv_eq(buf_strv(&a), buf_strv(&b));
}

/* Decodes one segment into out; -1 with the reason on a bad escape, %2F, %00 or a dot
   segment. */
static int segment_decode(struct strv seg, struct buf *out, const char **error_r)
{
	size_t start = out->len;
	for (size_t i = 0; i < seg.len; i++) {
		char c = seg.ptr[i];
		if (c == '%') {
			int hi = i + 2 < seg.len ? strv_hex_digit(seg.ptr[i + 1]) : -1;
			int lo = hi >= 0 ? strv_hex_digit(seg.ptr[i + 2]) : -1;
			if (lo < 0) {
				*error_r = "a broken %-escape in the path";
				return -1;
			}
			c = (char)(hi << 4 | lo);
			if (c == '/' || c == '\0') {
				*error_r = c == '/' ? "an encoded '/' (%2F) inside a path segment"
				                    : "an encoded NUL (%00) in the path";
				return -1;
			}
			i += 2;
		} else if ((unsigned char)c <= 0x20 || c == 0x7f) {
			*error_r = "a control character or space in the path";
			return -1;
		}
		buf_append_char(out, c);
	}
	struct strv decoded = strv_make(out->data + start, out->len - start);
	if (strv_eq_cstr(decoded, ".") || strv_eq_cstr(decoded, "..")) {
		*error_r = "a '.' or '..' segment in the path";
		return -1;
	}
	return 0;
}

int dav_uri_to_path(struct pool *pool, struct strv uri, const struct dav_origin *origin,
                    const char **path_r, int *status_r, const char **error_r)
{
	struct strv path = strv_trim(uri);
	if (path.len == 0)
		return fail(status_r, error_r, 400, "an empty URI");
	if (strv_find_char(path, '?') >= 0 || strv_find_char(path, '#') >= 0)
		return fail(status_r, error_r, 400, "a query or fragment in the URI");
	ptrdiff_t colon = strv_find_char(path, ':'), slash = strv_find_char(path, '/');
	if (colon >= 0 && (slash < 0 || colon < slash)) {
		/* absolute URI: scheme "://" authority path */
		struct strv scheme = strv_make(path.ptr, (size_t)colon);
		struct strv rest = strv_make(path.ptr + colon + 1, path.len - (size_t)colon - 1);
		if (!strv_starts_with(rest, STRV_LIT("//")))
			return fail(status_r, error_r, 400, "the URI has no authority");
		rest = strv_make(rest.ptr + 2, rest.len - 2);
		ptrdiff_t end = strv_find_char(rest, '/');
		struct strv authority = strv_make(rest.ptr, end < 0 ? rest.len : (size_t)end);
		if (authority.len == 0)
			return fail(status_r, error_r, 400, "the URI has an empty authority");
		if (strv_find_char(authority, '@') >= 0)
			return fail(status_r, error_r, 400, "user information in the URI");
		if (!same_origin(scheme, authority, origin))
			return fail(status_r, error_r, 502, "the URI names another server");
		path = end < 0 ? STRV_LIT("/") : strv_make(rest.ptr + end, rest.len - (size_t)end);
	} else if (path.ptr[0] != '/' || (path.len > 1 && path.ptr[1] == '/')) {
		return fail(status_r, error_r, 400, "not an absolute URI or absolute path");
	}

	struct buf out;
	buf_init(&out, path.len + 1);
	struct strv rest = strv_make(path.ptr + 1, path.len - 1), seg;
	int ret = -1;
	buf_append_char(&out, '/');
	while (rest.len > 0) {
		bool more = strv_split(rest, '/', &seg, &rest);
		if (seg.len == 0) {
			fail(status_r, error_r, 400, "an empty segment ('//') in the path");
			goto out;
		}
		if (segment_decode(seg, &out, error_r) < 0) {
			*status_r = 400;
			goto out;
		}
		if (more)
			buf_append_char(&out, '/');
	}
	*path_r = pool_strndup(pool, out.data, out.len);
	ret = 0;
out:
	buf_free(&out);
	return ret;
}

int dav_destination_parse(struct pool *pool, struct strv value, const struct dav_origin *origin,
                          const char **path_r, int *status_r, const char **error_r)
{
	if (value.ptr == NULL)
		return fail(status_r, error_r, 400, "no Destination header");
	if (dav_uri_to_path(pool, value, origin, path_r, status_r, error_r) < 0) {
		*error_r = pool_printf(pool, "Destination: %s", *error_r);
		return -1;
	}
	return 0;
}

/* Skips SP and HTAB. */
static struct strv skip_ws(struct strv s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
		s = strv_make(s.ptr + 1, s.len - 1);
	return s;
}

uint32_t dav_timeout_parse(struct strv value, uint32_t def, uint32_t max)
{
	struct strv item;
	while (value.ptr != NULL && value.len > 0) {
		strv_split(value, ',', &item, &value);
		item = strv_trim(item);
		uint64_t n;
		if (strv_eq_ci_cstr(item, "Infinite"))
			return max;
		if (item.len > 7 && strv_eq_ci(strv_make(item.ptr, 7), STRV_LIT("Second-")) &&
		    strv_to_u64(strv_make(item.ptr + 7, item.len - 7), &n) == 0)
			return n > max ? max : (uint32_t)n;
	}
	return def > max ? max : def;
}

bool dav_coded_url_take(struct strv *in, struct strv *uri_r)
{
	struct strv s = *in;
	if (s.len < 3 || s.ptr[0] != '<')
		return false;
	for (size_t i = 1; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == '>') {
			if (i == 1)
				return false;
			*uri_r = strv_make(s.ptr + 1, i - 1);
			*in = strv_make(s.ptr + i + 1, s.len - i - 1);
			return true;
		}
		if (c <= 0x20 || c == 0x7f || c == '<')
			return false;
	}
	return false;
}

int dav_lock_token_parse(struct strv value, struct strv *token_r, const char **error_r)
{
	struct strv s = strv_trim(value);
	if (value.ptr == NULL) {
		*error_r = "no Lock-Token header";
		return -1;
	}
	if (!dav_coded_url_take(&s, token_r) || skip_ws(s).len != 0) {
		*error_r = "Lock-Token must be one <URI>";
		return -1;
	}
	return 0;
}
