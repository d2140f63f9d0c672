/* SPDX-License-Identifier: MIT */
/* IMAP's modified UTF-7 for folder names (RFC 3501 §5.1.3): the mail API speaks UTF-8 and
   imap-client.c converts at the wire with these two functions. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* Longest modified UTF-7 name imap-client sends (with its NUL). */
#define MAIL_UTF7_MAX 2048

/* UTF-8 → modified UTF-7 into out (size bytes with the NUL); characters beyond the BMP become
   surrogate pairs. -1 with *error_r when utf8 is not valid UTF-8 or does not fit. */
int mail_utf7_encode(const char *utf8, char *out, size_t size, const char **error_r);

/* Modified UTF-7 → UTF-8 in pool; NULL with *error_r for malformed input: 8-bit or control
   bytes, bad base64, an unterminated "&…", non-zero padding bits, lone surrogates, U+0000, and
   non-shortest forms (base64 for printable ASCII, two base64 runs back to back). */
const char *mail_utf7_decode(struct pool *pool, const char *mutf7, const char **error_r);
