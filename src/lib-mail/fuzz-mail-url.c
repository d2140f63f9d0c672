/* SPDX-License-Identifier: MIT */
/* libFuzzer target for mail_url_parse (the first byte's low bit picks IMAP or SMTP): any bytes, no
 * crash, a parsed URL is consistent. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail-url.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = mem_alloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct mail_url url;
	const char *error;
	if (mail_url_parse(text, (enum mail_url_kind)(size > 0 && data[0] & 1), &url, &error) ==
	    0) {
		assert(url.host[0] != '\0');
		assert(url.port != 0);
	} else {
		assert(error != NULL);
	}
	mem_free(&text);
	return 0;
}
