/* SPDX-License-Identifier: MIT */
/* HTTP Basic credentials (RFC 7617): the Authorization header split into user and password. */
#include "http-basic.h"

#include <sodium.h>
#include <string.h>

bool http_basic_parse(struct strv header, char *buf, size_t size, char **user_r, char **pass_r)
{
	size_t len;

	if (size == 0 || header.len < 7 ||
	    !strv_eq_ci(strv_make(header.ptr, 6), STRV_LIT("Basic ")))
		return false;
	if (sodium_base642bin((unsigned char *)buf, size - 1, header.ptr + 6, header.len - 6, NULL,
	                      &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	buf[len] = '\0';
	if (strlen(buf) != len)
		return false; /* NUL inside */
	char *colon = strchr(buf, ':');
	if (colon == NULL)
		return false;
	*colon = '\0';
	*user_r = buf;
	*pass_r = colon + 1;
	return true;
}
