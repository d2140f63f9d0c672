/* SPDX-License-Identifier: MIT */
/* Capped byte builder that is always NUL-terminated. */
#ifndef TANDEM_BUF_H
#define TANDEM_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

/* data[len] is always '\0'. Appends past max_len are truncated and set overflow: callers that
   care check buf_overflowed() once at the end instead of after every append. */
struct buf {
	char *data;
	size_t len;
	size_t cap;     /* allocated bytes including the NUL */
	size_t max_len; /* hard cap on len */
	bool fixed;     /* storage belongs to the caller, never reallocated or freed */
	bool overflow;
};

/* Heap-backed builder growing up to max_len bytes. */
void buf_init(struct buf *b, size_t max_len);
/* Builder over caller storage of size bytes (size >= 1); max_len = size - 1. */
void buf_init_fixed(struct buf *b, char *storage, size_t size);
/* Frees heap storage (not fixed storage); the buf may be re-initialised. */
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, overflow = false, storage kept */

void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
/* For string literals: no strlen at run time. */
#define buf_append_lit(b, lit) buf_append((b), "" lit, sizeof(lit) - 1)
void buf_append_strv(struct buf *b, struct strv v);
void buf_append_char(struct buf *b, char c);
void buf_append_u64(struct buf *b, uint64_t v);
/* Writes v in decimal to out (room for 20 bytes, no NUL); returns the digit count. */
size_t buf_format_u64(char *out, uint64_t v);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list args)
    __attribute__((format(printf, 2, 0)));
/* Appends s with JSON string escaping (no surrounding quotes). */
void buf_append_json_escaped(struct buf *b, struct strv s);
/* Drops the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

static inline bool buf_overflowed(const struct buf *b)
{
	return b->overflow;
}

static inline struct strv buf_strv(const struct buf *b)
{
	return (struct strv){b->data, b->len};
}

#endif
