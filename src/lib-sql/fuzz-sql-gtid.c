/* SPDX-License-Identifier: MIT */
/* libFuzzer target: GTID position parsing; whatever parses must format back, parse to the
   same position, cover itself and merge idempotently. */
#include <stdint.h>
#include <string.h>

#include "sql-gtid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[1024], out[SQL_GTID_POS_MAX];
	struct sql_gtid_pos pos, again, merged;
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sql_gtid_parse(text, &pos) < 0)
		return 0;
	if (sql_gtid_format(&pos, out, sizeof(out)) < 0 || sql_gtid_parse(out, &again) < 0 ||
	    again.count != pos.count ||
	    memcmp(again.gtids, pos.gtids, pos.count * sizeof(pos.gtids[0])) != 0)
		__builtin_trap();
	if (!sql_gtid_covers(&pos, &again))
		__builtin_trap();
	merged = pos;
	if (sql_gtid_merge(&merged, &again) < 0 || merged.count != pos.count)
		__builtin_trap();
	return 0;
}
