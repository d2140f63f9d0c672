/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a .vcf file as a client uploads it, split into cards and each parsed;
   a card that parses is rebuilt from its columns and must parse again. */
#include <stdint.h>
#include <string.h>

#include "vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(0);
	struct vcard_slice *cards;
	struct vcard_info info;
	size_t count = 0;
	char error[256];
	if (vcard_split(pool, (const char *)data, size, 64, &cards, &count, error, sizeof(error)) <
	    0) {
		cards = &(struct vcard_slice){(const char *)data, size};
		count = 1;
	}
	for (size_t i = 0; i < count; i++) {
		error[0] = '\0';
		if (vcard_parse(pool, cards[i].text, cards[i].len, &info, error, sizeof(error)) <
		    0) {
			if (error[0] == '\0')
				__builtin_trap(); /* every refusal names its problem */
			continue;
		}
		const char *const none[] = {NULL};
		struct vcard_fields f = {.uid = info.uid,
		                         .fn = info.fn,
		                         .org = info.org,
		                         .birthday = info.birthday,
		                         .emails = none,
		                         .phones = none};
		const char *text = vcard_build(pool, &f);
		if (vcard_parse(pool, text, strlen(text), &info, error, sizeof(error)) < 0)
			__builtin_trap(); /* what we write, we read */
	}
	pool_destroy(&pool);
	return 0;
}
