/* SPDX-License-Identifier: MIT */
/* Per-path access rules by source network ([access /admin] allow = ...): which clients may
   reach which paths through the balancer. */
#include "lb-access.h"

#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one segment (between slashes, ";params" cut off) into seg; an encoded
   '/' or NUL, or a bad escape, makes it malformed: a member that decodes before splitting
   would see other segments than we do. */
static bool decode_segment(const char *s, size_t n, char *seg, size_t seg_size, size_t *seg_len)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if ((unsigned char)c <= ' ' || c == 0x7f)
			return false; /* the HTTP parser lets none through; nothing else may */
		if (c == ';')
			break;
		if (c == '%') {
			if (i + 2 >= n)
				return false;
			int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi * 16 + lo);
			if (c == '/' || c == '\0' || c == '\\')
				return false;
			i += 2;
		}
		if (len + 1 >= seg_size)
			return false;
		seg[len++] = c;
	}
	*seg_len = len;
	return true;
}

bool lb_access_normalise(struct strv path, char *out, size_t out_size)
{
	char seg[LB_ACCESS_PATH_MAX];
	size_t len = 0, i = 0;

	if (out_size < 2)
		return false;
	while (i < path.len) {
		while (i < path.len && path.ptr[i] == '/')
			i++;
		size_t start = i;
		while (i < path.len && path.ptr[i] != '/')
			i++;
		size_t seg_len;
		if (!decode_segment(path.ptr + start, i - start, seg, sizeof(seg), &seg_len))
			return false;
		if (seg_len == 0 || (seg_len == 1 && seg[0] == '.'))
			continue;
		if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (len == 0)
				return false; /* above the root */
			while (len > 0 && out[len - 1] != '/')
				len--;
			len--; /* the '/' before the dropped segment */
			continue;
		}
		if (len + 1 + seg_len + 1 > out_size)
			return false;
		out[len++] = '/';
		memcpy(out + len, seg, seg_len);
		len += seg_len;
	}
	if (len == 0)
		out[len++] = '/';
	else if (path.len > 0 && path.ptr[path.len - 1] == '/' && len + 2 <= out_size)
		out[len++] = '/';
	out[len] = '\0';
	return true;
}

/* True if prefix covers path at a segment boundary. */
static bool covers(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);
	if (strncmp(prefix, path, n) != 0)
		return false;
	return n == 1 || path[n] == '\0' || path[n] == '/';
}

enum lb_access_result lb_access_check(const struct lb_access_rule *rules, size_t count,
                                      struct strv path, const struct sockaddr *peer)
{
	char norm[LB_ACCESS_PATH_MAX];
	const struct lb_access_rule *best = NULL;

	if (count == 0)
		return LB_ACCESS_ALLOWED;
	if (!lb_access_normalise(path, norm, sizeof(norm)))
		return LB_ACCESS_MALFORMED;
	for (size_t i = 0; i < count; i++) {
		if (covers(rules[i].prefix, norm) &&
		    (best == NULL || strlen(rules[i].prefix) > strlen(best->prefix)))
			best = &rules[i];
	}
	if (best == NULL || (peer != NULL && lb_cidr_match(best->allow, best->allow_count, peer)))
		return LB_ACCESS_ALLOWED;
	return LB_ACCESS_DENIED;
}
