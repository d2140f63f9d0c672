/* SPDX-License-Identifier: MIT */
/* Non-owning string view {ptr,len} for parsing; never assumes NUL termination. */
#ifndef TANDEM_STRV_H
#define TANDEM_STRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strv {
	const char *ptr;
	size_t len;
};

#define STRV_LIT(s) ((struct strv){(s), sizeof(s) - 1})
#define STRV_NULL   ((struct strv){NULL, 0})
/* printf("%.*s", STRV_FMT(v)) */
#define STRV_FMT(v) (int)(v).len, (v).ptr

static inline struct strv strv_make(const char *ptr, size_t len)
{
	return (struct strv){ptr, len};
}

static inline struct strv strv_from_cstr(const char *s)
{
	return (struct strv){s, s == NULL ? 0 : strlen(s)};
}

static inline bool strv_eq(struct strv a, struct strv b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool strv_eq_cstr(struct strv a, const char *s)
{
	return strv_eq(a, strv_from_cstr(s));
}

/* ASCII case-insensitive comparison (header names, tokens). */
bool strv_eq_ci(struct strv a, struct strv b);
bool strv_eq_ci_cstr(struct strv a, const char *s);
bool strv_starts_with(struct strv s, struct strv prefix);
/* Removes leading and trailing SP and HTAB. */
struct strv strv_trim(struct strv s);
/* Index of the first c in s, or -1. */
ptrdiff_t strv_find_char(struct strv s, char c);
/* Splits at the first c: *head_r = before, *tail_r = after. Returns false (head = s, tail
   empty) if c is absent. */
bool strv_split(struct strv s, char c, struct strv *head_r, struct strv *tail_r);
/* Strict unsigned decimal: digits only, no sign or space, no overflow. */
int strv_to_u64(struct strv s, uint64_t *value_r);
/* Value of one hex digit (0-9a-fA-F), or -1. */
int strv_hex_digit(char c);
/* Strict hexadecimal (0-9a-fA-F), at most 16 digits. */
int strv_hex_to_u64(struct strv s, uint64_t *value_r);

#endif
