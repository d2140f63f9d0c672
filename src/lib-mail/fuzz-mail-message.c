/* SPDX-License-Identifier: MIT */
/* libFuzzer target for mail_message_parse: any bytes as a message; the view is consistent. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "mail-message.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(0);
	struct mail_message_view v;
	const char *error;
	if (mail_message_parse(pool, data, size, &v, &error) == 0) {
		assert(v.attachment_count <= MAIL_ATTACHMENTS_MAX);
		assert(v.text == NULL || strlen(v.text) <= MAIL_TEXT_MAX + 4);
		for (size_t i = 0; i < v.attachment_count; i++)
			assert(v.attachments[i].content_type != NULL);
	}
	pool_destroy(&pool);
	return 0;
}
