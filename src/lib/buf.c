/* SPDX-License-Identifier: MIT */
/* Capped, always NUL-terminated byte builder. */
#include "buf.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define INITIAL_CAP 64

void buf_init(struct buf *b, size_t max_len)
{
	assert(max_len < SIZE_MAX);
	/* Allocate at once so data[len] is always valid to read, even when empty. */
	b->cap = max_len + 1 < INITIAL_CAP ? max_len + 1 : INITIAL_CAP;
	b->data = mem_alloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
	b->max_len = max_len;
	b->fixed = false;
	b->overflow = false;
}

void buf_init_fixed(struct buf *b, char *storage, size_t size)
{
	assert(size >= 1);
	b->data = storage;
	b->data[0] = '\0';
	b->len = 0;
	b->cap = size;
	b->max_len = size - 1;
	b->fixed = true;
	b->overflow = false;
}

void buf_free(struct buf *b)
{
	if (!b->fixed)
		mem_free(&b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
	b->overflow = false;
}

/* Makes room for n more bytes if the cap allows and returns how many of them fit. */
static size_t reserve(struct buf *b, size_t n)
{
	size_t room = b->max_len - b->len;
	size_t need, cap;

	if (n > room) {
		n = room;
		b->overflow = true;
	}
	need = b->len + n + 1;
	if (need > b->cap) {
		assert(!b->fixed);
		cap = b->cap * 2;
		if (cap < need)
			cap = need;
		if (cap > b->max_len + 1)
			cap = b->max_len + 1;
		b->data = mem_realloc(b->data, cap);
		b->cap = cap;
	}
	return n;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	len = reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_append_strv(struct buf *b, struct strv v)
{
	buf_append(b, v.ptr, v.len);
}

void buf_append_char(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

size_t buf_format_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(out, tmp + i, sizeof(tmp) - i);
	return sizeof(tmp) - i;
}

void buf_append_u64(struct buf *b, uint64_t v)
{
	char tmp[20];
	buf_append(b, tmp, buf_format_u64(tmp, v));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list args)
{
	va_list copy;
	int n;
	size_t want, got;

	va_copy(copy, args);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, copy);
	va_end(copy);
	if (n < 0) {
		b->data[b->len] = '\0';
		b->overflow = true;
		return;
	}
	want = (size_t)n;
	if (want < b->cap - b->len) {
		b->len += want;
		return;
	}
	/* Did not fit in the current storage: grow as far as the cap allows and format again. */
	got = reserve(b, want);
	vsnprintf(b->data + b->len, got + 1, fmt, args);
	b->len += got;
	b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	buf_vprintf(b, fmt, args);
	va_end(args);
}

void buf_append_json_escaped(struct buf *b, struct strv s)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t n = 2;

		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			if (c >= 0x20) {
				esc[0] = (char)c;
				n = 1;
				break;
			}
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
			break;
		}
		/* A half-written escape would make the JSON invalid, so append all or nothing. */
		if (b->max_len - b->len < n) {
			b->overflow = true;
			return;
		}
		buf_append(b, esc, n);
	}
}

void buf_consume(struct buf *b, size_t n)
{
	assert(n <= b->len);
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}
