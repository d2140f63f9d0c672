/* SPDX-License-Identifier: MIT */
/* libFuzzer target for mail-utf7: any bytes as modified UTF-7 and as UTF-8, no crash; what
   decodes encodes back to the same bytes (decode accepts only the shortest form), and what
   encodes decodes back to the same UTF-8. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "mail-utf7.h"
#include "mem.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAIL_UTF7_MAX / 4)
		return 0;
	char *text = mem_alloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct pool *pool = pool_create(4096);
	char out[MAIL_UTF7_MAX];
	const char *error = NULL;
	const char *utf8 = mail_utf7_decode(pool, text, &error);
	if (utf8 != NULL) {
		assert(mail_utf7_encode(utf8, out, sizeof(out), &error) == 0);
		assert(strcmp(out, text) == 0);
	} else {
		assert(error != NULL);
	}
	if (mail_utf7_encode(text, out, sizeof(out), &error) == 0) {
		const char *back = mail_utf7_decode(pool, out, &error);
		assert(back != NULL && strcmp(back, text) == 0);
	}
	pool_destroy(&pool);
	mem_free(&text);
	return 0;
}
