/* SPDX-License-Identifier: MIT */
/* The context directory of the JSON API (api-directory.c): groups, resources and the global
   address book; this is what /api/v1/contacts?q= shares of it. */
#ifndef TANDEMD_API_DIRECTORY_H
#define TANDEMD_API_DIRECTORY_H

#include <stdbool.h>

#include <jansson.h>

struct http_request;
struct storage_user;

/* Adds the global address book's hits for q (the request's match= and limit= apply) to
   result as "directory" (entries marked "directory": true, "read_only": true) and
   "directory_more"; false after answering an error. */
bool api_directory_hits(struct http_request *req, struct storage_user *su, const char *q,
                        json_t *result);

#endif
