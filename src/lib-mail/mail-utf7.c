/* SPDX-License-Identifier: MIT */
/* Modified UTF-7 (RFC 3501 §5.1.3): printable ASCII stands for itself except "&", written "&-";
   every other character is UTF-16, base64 encoded with "," for "/" and no padding, between "&"
   and "-". */
#include "mail-utf7.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool direct(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* One code point from UTF-8 at *p (advanced); -1 for invalid, overlong or surrogate forms. */
static int64_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	size_t n;
	uint32_t min;
	if (c < 0x80) {
		*p = s + 1;
		return c;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, min = 0x10000, c &= 0x07;
	} else {
		return -1;
	}
	for (size_t i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1; /* also stops at the NUL */
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*p = s + n + 1;
	return c;
}

struct out {
	char *data;
	size_t size, len;
	bool full;
};

static void put(struct out *o, char ch)
{
	if (o->len + 1 < o->size)
		o->data[o->len++] = ch;
	else
		o->full = true;
}

int mail_utf7_encode(const char *utf8, char *out, size_t size, const char **error_r)
{
	struct out o = {.data = out, .size = size};
	const unsigned char *p = (const unsigned char *)utf8;
	while (*p != '\0') {
		int64_t c = utf8_next(&p);
		if (c < 0) {
			*error_r = "not valid UTF-8";
			return -1;
		}
		if (direct((uint32_t)c)) {
			put(&o, (char)c);
			if (c == '&')
				put(&o, '-');
			continue;
		}
		/* a base64 run of every following character that is not printable ASCII */
		put(&o, '&');
		uint32_t bits = 0;
		unsigned nbits = 0;
		for (;;) {
			uint16_t units[2];
			size_t nu = 0;
			if (c >= 0x10000) {
				units[nu++] = (uint16_t)(0xd800 + ((c - 0x10000) >> 10));
				units[nu++] = (uint16_t)(0xdc00 + ((c - 0x10000) & 0x3ff));
			} else {
				units[nu++] = (uint16_t)c;
			}
			for (size_t i = 0; i < nu; i++) {
				bits = bits << 16 | units[i];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					put(&o, b64[(bits >> nbits) & 0x3f]);
				}
			}
			if (*p == '\0' || direct(*p))
				break;
			c = utf8_next(&p);
			if (c < 0) {
				*error_r = "not valid UTF-8";
				return -1;
			}
		}
		if (nbits > 0)
			put(&o, b64[(bits << (6 - nbits)) & 0x3f]);
		put(&o, '-');
	}
	if (o.full) {
		*error_r = "too long";
		return -1;
	}
	out[o.len] = '\0';
	return 0;
}

static int b64_value(char ch)
{
	const char *at = ch != '\0' ? strchr(b64, ch) : NULL;
	return at != NULL ? (int)(at - b64) : -1;
}

static size_t utf8_put(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	} else if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	} else if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The base64 run at *s (after its "&", up to and without its "-") into out at *len. */
static const char *decode_run(const char **s, char *out, size_t *len)
{
	const char *p = *s;
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	for (; *p != '-'; p++) {
		int v = b64_value(*p);
		if (v < 0)
			return *p == '\0' ? "unterminated \"&\"" : "bad base64 after \"&\"";
		bits = bits << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = bits >> nbits & 0xffff;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return "lone surrogate";
			*len +=
			    utf8_put(out + *len, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return "lone surrogate";
		} else if (u == 0 || direct(u)) {
			return u == 0 ? "U+0000"
			              : "printable ASCII in base64 (not the shortest form)";
		} else {
			*len += utf8_put(out + *len, u);
		}
	}
	if (high != 0)
		return "lone surrogate";
	if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return "bad base64 padding";
	*s = p;
	return NULL;
}

const char *mail_utf7_decode(struct pool *pool, const char *mutf7, const char **error_r)
{
	size_t n = strlen(mutf7), len = 0;
	char *out = pool_alloc(pool, n * 3 + 1); /* 8 base64 characters → ≤ 9 bytes of UTF-8 */
	bool after_run = false;
	for (const char *p = mutf7; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if (!direct(ch)) {
			*error_r = "a byte that is not printable ASCII";
			return NULL;
		}
		if (ch != '&') {
			out[len++] = (char)ch;
			after_run = false;
			continue;
		}
		p++;
		if (*p == '-') {
			out[len++] = '&';
			after_run = false;
			continue;
		}
		if (after_run) {
			*error_r = "two base64 runs back to back (not the shortest form)";
			return NULL;
		}
		const char *error = decode_run(&p, out, &len);
		if (error != NULL) {
			*error_r = error;
			return NULL;
		}
		after_run = true;
	}
	out[len] = '\0';
	return out;
}
