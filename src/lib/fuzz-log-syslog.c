/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the syslog URL and facility parsers and the RFC 5424 formatter. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log-syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[600], out[LOG_SYSLOG_MSG_MAX];
	struct log_syslog_settings set;
	const char *error;
	unsigned f;
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

	memcpy(text, data, n);
	text[n] = '\0';
	if (log_syslog_parse_url(text, &set, &error) == 0 && set.host[0] == '\0')
		__builtin_trap();
	(void)log_syslog_parse_facility(text, &f, &error);
	(void)log_syslog_check_app_name(text, &error);
	size_t len = log_syslog_format(out, sizeof(out), 16, 6, 0, text, text, 1, text,
	                               (const char *)data, size);
	if (len >= sizeof(out) || out[len] != '\0' || memchr(out, '\n', len) != NULL)
		__builtin_trap();
	return 0;
}
