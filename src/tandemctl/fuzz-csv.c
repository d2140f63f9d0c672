/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the CSV reader: arbitrary bytes as a users file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader r;
	struct csv_record rec;
	const char *error;

	csv_reader_init(&r, (const char *)data, size);
	while (csv_read(&r, &rec, &error) > 0) {
		size_t total = 0;
		if (rec.count == 0 || rec.count > CSV_MAX_FIELDS)
			__builtin_trap();
		for (size_t i = 0; i < rec.count; i++) {
			/* memchr reads every byte, so ASan sees any view past the storage. */
			(void)memchr(rec.fields[i].ptr, 0, rec.fields[i].len);
			total += rec.fields[i].len;
		}
		/* Unescaping only ever shrinks the input. */
		if (total > r.storage.len || total > size)
			__builtin_trap();
	}
	csv_reader_deinit(&r);
	return 0;
}
