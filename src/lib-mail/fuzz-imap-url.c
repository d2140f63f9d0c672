/* SPDX-License-Identifier: MIT */
/* libFuzzer target for imap_url_parse: any bytes, no crash, a parsed URL is consistent. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-url.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = mem_alloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct imap_url url;
	const char *error;
	if (imap_url_parse(text, &url, &error) == 0) {
		assert(url.host[0] != '\0');
		assert(url.port != 0);
	} else {
		assert(error != NULL);
	}
	mem_free(&text);
	return 0;
}
