/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a calendar object as a client sends it, through validation and, when it
   passes, expansion over a year, and CalDAV's expand (whose answer must parse again) and
   limit-recurrence-set over a week. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cal-ical.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether text (CRLF lines, as libical writes them) has line as a whole line, not as a piece of
   another ("VERSION:2.BEGIN:VTODO0" holds no component). */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && (p[n] == '\r' || p[n] == '\n'))
			return true;
	return false;
}

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
	for (int expand = 0; expand < 2; expand++) {
		char *out;
		size_t len;
		if (cal_ical_limit((const char *)data, size, from, from + 7 * 86400LL, expand == 1,
		                   &out, &len, error, sizeof(error)) < 0) {
			if (strstr(error, "more than") == NULL)
				__builtin_trap(); /* only too many instances stop it */
			continue;
		}
		if (strlen(out) != len ||
		    (has_line(out, "BEGIN:VEVENT") || has_line(out, "BEGIN:VTODO")
		         ? cal_ical_parse(out, len, &info, error, sizeof(error)) < 0 &&
		               strstr(error, "overridden instances") == NULL
		         : false))
			__builtin_trap(); /* what it gives is a calendar object again */
		mem_free(&out);
	}
	return 0;
}
