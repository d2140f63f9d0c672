/* SPDX-License-Identifier: MIT */
/* libFuzzer target for lb_access_normalise(): never reads outside the path, and what it
   accepts is a canonical path (no empty, "." or ".." segments, no '%' escapes left). */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lb-access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[LB_ACCESS_PATH_MAX];
	if (size > LB_ACCESS_PATH_MAX)
		return 0;
	if (!lb_access_normalise(strv_make((const char *)data, size), out, sizeof(out)))
		return 0;
	size_t len = strlen(out);
	assert(out[0] == '/');
	assert(strstr(out, "//") == NULL);
	assert(strstr(out, "/./") == NULL && strstr(out, "/../") == NULL);
	assert(!(len >= 2 && strcmp(out + len - 2, "/.") == 0));
	assert(!(len >= 3 && strcmp(out + len - 3, "/..") == 0));
	/* normalising twice changes nothing, for outputs a request target could carry as they
	   are (no '%', ';', blanks or controls that came from escapes) */
	bool plain = true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c <= ' ' || c == 0x7f || c == '%' || c == ';')
			plain = false;
	}
	if (plain) {
		static char again[LB_ACCESS_PATH_MAX];
		assert(lb_access_normalise(strv_make(out, len), again, sizeof(again)));
		assert(strcmp(out, again) == 0);
	}
	return 0;
}
