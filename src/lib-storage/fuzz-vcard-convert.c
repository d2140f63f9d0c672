/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a card that parses, converted to vCard 3.0 and to 4.0, must parse again
   with the same UID, in the version asked for unless it was left as it was. */
#include <stdint.h>
#include <string.h>

#include "vcard-convert.h"
#include "vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(0);
	struct vcard_info info, again;
	char error[256];
	if (vcard_parse(pool, (const char *)data, size, &info, error, sizeof(error)) == 0) {
		static const char *const versions[] = {"3.0", "4.0"};
		for (size_t i = 0; i < 2; i++) {
			const char *text;
			size_t len;
			vcard_convert(pool, (const char *)data, size, versions[i], &text, &len);
			if (vcard_parse(pool, text, len, &again, error, sizeof(error)) < 0 ||
			    (strcmp(again.version, versions[i]) != 0 &&
			     text != (const char *)data) ||
			    strcmp(again.uid, info.uid) != 0)
				__builtin_trap(); /* what we write, we read */
		}
	}
	pool_destroy(&pool);
	return 0;
}
