/* SPDX-License-Identifier: MIT */
/* String view helpers for parsers that must not rely on NUL termination. */
#include "strv.h"

static char ascii_lower(char c)
{
	/* Not tolower(): protocol tokens must not depend on the locale. */
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool strv_eq_ci(struct strv a, struct strv b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		if (ascii_lower(a.ptr[i]) != ascii_lower(b.ptr[i]))
			return false;
	}
	return true;
}

bool strv_eq_ci_cstr(struct strv a, const char *s)
{
	return strv_eq_ci(a, strv_from_cstr(s));
}

bool strv_starts_with(struct strv s, struct strv prefix)
{
	return s.len >= prefix.len &&
	       (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

struct strv strv_trim(struct strv s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

ptrdiff_t strv_find_char(struct strv s, char c)
{
	const char *p = s.len == 0 ? NULL : memchr(s.ptr, c, s.len);

	return p == NULL ? -1 : p - s.ptr;
}

bool strv_split(struct strv s, char c, struct strv *head_r, struct strv *tail_r)
{
	ptrdiff_t i = strv_find_char(s, c);

	if (i < 0) {
		*head_r = s;
		*tail_r = strv_make(s.ptr == NULL ? NULL : s.ptr + s.len, 0);
		return false;
	}
	*head_r = strv_make(s.ptr, (size_t)i);
	*tail_r = strv_make(s.ptr + i + 1, s.len - (size_t)i - 1);
	return true;
}

int strv_to_u64(struct strv s, uint64_t *value_r)
{
	uint64_t v = 0;

	if (s.len == 0)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (c < '0' || c > '9')
			return -1;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c - '0'), &v))
			return -1;
	}
	*value_r = v;
	return 0;
}

int strv_hex_to_u64(struct strv s, uint64_t *value_r)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 16)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*value_r = v;
	return 0;
}

int strv_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
