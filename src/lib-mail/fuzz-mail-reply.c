/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the reply prefill: any bytes as a message (reply-all and forward) and as
   HTML to render; the results are UTF-8 within their caps. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "mail-reply.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const self[] = {"a@example.com"};
	struct pool *pool = pool_create(0);
	struct mail_reply r;
	const char *error;
	for (int kind = MAIL_REPLY_ALL; kind <= MAIL_FORWARD; kind++)
		if (mail_reply_build(pool, data, size, kind, self, 1, &r, &error) == 0) {
			assert(r.subject != NULL && r.text != NULL);
			assert(r.to_count <= MAIL_REPLY_RECIPIENTS_MAX);
		}
	const char *text = mail_reply_html_text(pool, (const char *)data, size);
	assert(strlen(text) <= MAIL_TEXT_MAX);
	pool_destroy(&pool);
	return 0;
}
