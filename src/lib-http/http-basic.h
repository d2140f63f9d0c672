/* SPDX-License-Identifier: MIT */
/* HTTP Basic credentials (RFC 7617): the Authorization header split into user and password. */
#ifndef TANDEM_HTTP_BASIC_H
#define TANDEM_HTTP_BASIC_H

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

/* Decodes header ("Basic base64(user:pass)", scheme case-insensitive) into buf (size bytes)
   and points *user_r and *pass_r into it, both NUL-terminated. False for another scheme,
   bad base64, a decoded value too long for buf, a NUL inside, or no ':'. */
bool http_basic_parse(struct strv header, char *buf, size_t size, char **user_r, char **pass_r);

#endif
