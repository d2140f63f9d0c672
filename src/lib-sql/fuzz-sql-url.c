/* SPDX-License-Identifier: MIT */
/* libFuzzer target: database URL parsing and redaction. */
#include <stdint.h>
#include <string.h>

#include "sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[1024];
	if (size >= sizeof(url))
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	struct sql_url u;
	const char *error;
	if (sql_url_parse(url, &u, &error) == 0 && u.driver == SQL_DRIVER_MARIADB &&
	    u.host[0] == '\0')
		__builtin_trap();
	char red[64];
	sql_url_redact(url, red, sizeof(red));
	return 0;
}
