/* SPDX-License-Identifier: MIT */
/* libFuzzer target: query lookup, percent-decoding and cookie lookup on arbitrary input. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "http-params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv in = strv_make((const char *)data, size);
	struct strv v;
	char out[4096];
	static const char *const names[] = {"session", "folder", "name", "a", ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (http_query_get(in, names[i], &v)) {
			if (v.ptr < in.ptr || v.ptr + v.len > in.ptr + in.len)
				__builtin_trap();
			if (v.len < sizeof(out)) {
				size_t n = http_url_decode(v, out);
				/* Decoding never introduces a NUL (the parser keeps raw ones out).
				 */
				bool raw_nul = v.len > 0 && memchr(v.ptr, '\0', v.len) != NULL;
				if (n > v.len || (!raw_nul && memchr(out, '\0', n) != NULL))
					__builtin_trap();
			}
		}
	}
	struct http_header h = {STRV_LIT("Cookie"), in};
	struct http_request_head head = {.headers = &h, .header_count = 1};
	struct strv c = http_cookie_get(&head, "tandem-secret-x");
	if (c.ptr != NULL && (c.ptr < in.ptr || c.ptr + c.len > in.ptr + in.len))
		__builtin_trap();
	return 0;
}
