/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a calendar object as a client sends it, through validation and, when it
   passes, expansion over a year (the columns must agree with what expansion finds). */
#include <stdint.h>
#include <string.h>

#include "cal-ical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cal_ical_instance inst[32];
	struct cal_ical_info info;
	char error[256];
	size_t n;
	bool more;
	if (cal_ical_parse((const char *)data, size, &info, error, sizeof(error)) < 0) {
		if (memchr(error, '\0', sizeof(error)) == NULL || error[0] == '\0')
			__builtin_trap(); /* every refusal names its problem */
		return 0;
	}
	int64_t from = info.has_first ? info.first_instance : 0;
	if (cal_ical_expand((const char *)data, size, from, from + 366 * 86400LL, inst, 32, &n,
	                    &more, error, sizeof(error)) < 0)
		__builtin_trap(); /* what parses, expands */
	return 0;
}
