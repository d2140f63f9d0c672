/* SPDX-License-Identifier: MIT */
/* libFuzzer target: sticky routes stay inside their input and are always valid routes. */
#include <stdint.h>
#include <string.h>

#include "sticky.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COOKIES 8

static int inside(struct strv in, struct strv r)
{
	return r.ptr >= in.ptr && r.ptr + r.len <= in.ptr + in.len;
}

/* Input: one option byte (separator choice), then path, query and Cookie header values
   separated by '\n'. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = {'.', '!', ':', '-'};
	struct strv parts[2 + MAX_COOKIES], route, again;
	struct sticky_settings set;
	const char *p, *end;
	size_t n = 0;
	enum sticky_source src;

	if (size == 0)
		return 0;
	set.cookie = STRV_LIT("JSESSIONID");
	set.param = STRV_LIT("jsessionid");
	set.separator = seps[data[0] & 3];
	if (data[0] & 4)
		set.cookie = STRV_LIT("");
	if (data[0] & 8)
		set.param = STRV_LIT("");
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (n < sizeof(parts) / sizeof(parts[0])) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || n == sizeof(parts) / sizeof(parts[0]) - 1) {
			parts[n++] = strv_make(p, (size_t)(end - p));
			break;
		}
		parts[n++] = strv_make(p, (size_t)(nl - p));
		p = nl + 1;
	}
	while (n < 2)
		parts[n++] = strv_make(end, 0);

	src = sticky_route(&set, parts[0], parts[1], parts + 2, n - 2, &route);
	if ((src == STICKY_NONE) != (route.len == 0))
		__builtin_trap();
	if (src == STICKY_NONE)
		return 0;
	/* A route is 1-64 route characters right after a separator, inside the source's input. */
	if (route.len > STICKY_ROUTE_MAX || route.ptr[-1] != set.separator)
		__builtin_trap();
	for (size_t i = 0; i < route.len; i++) {
		char c = route.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			__builtin_trap();
	}
	if (src == STICKY_PATH && !inside(parts[0], route))
		__builtin_trap();
	if (src == STICKY_QUERY && !inside(parts[1], route))
		__builtin_trap();
	if (src == STICKY_COOKIE) {
		int found = 0;
		for (size_t i = 2; i < n; i++)
			found |= inside(parts[i], route);
		if (!found)
			__builtin_trap();
	}
	if (sticky_route(&set, parts[0], parts[1], parts + 2, n - 2, &again) != src ||
	    again.ptr != route.ptr || again.len != route.len)
		__builtin_trap();
	return 0;
}
