/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Redis store URL parses strictly, and its redacted form hides the
   password. */
#include <stdint.h>
#include <string.h>

#include "redis-url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[2048], shown[2100];
	struct redis_url u;
	const char *error = NULL;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (redis_url_parse(text, &u, &error) < 0) {
		if (error == NULL || error[0] == '\0')
			__builtin_trap();
		return 0;
	}
	if (u.host_count == 0 || u.host_count > REDIS_MAX_HOSTS ||
	    (!u.sentinel && u.host_count != 1))
		__builtin_trap();
	for (unsigned i = 0; i < u.host_count; i++) {
		if (u.hosts[i][0] == '\0' || u.ports[i] == 0 || strchr(u.hosts[i], '@') != NULL)
			__builtin_trap();
	}
	if (u.sentinel && u.master_name[0] == '\0')
		__builtin_trap();
	redis_url_redact(text, shown, sizeof(shown));
	/* the credentials end at the last '@': what follows it is shown, the password never */
	if (u.password[0] != '\0' && (strstr(shown, ":***@") == NULL ||
	                              strncmp(strrchr(shown, '@'), strrchr(text, '@'), 1) != 0 ||
	                              strlen(shown) > strlen(text) + 3))
		__builtin_trap();
	return 0;
}
