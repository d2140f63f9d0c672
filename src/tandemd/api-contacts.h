/* SPDX-License-Identifier: MIT */
/* /api/v1/contacts, and import and export of .vcf files on /api/v1/folders/{id}/import|export
   for contacts folders (api-events.c dispatches those by the folder's module). */
#ifndef TANDEMD_API_CONTACTS_H
#define TANDEMD_API_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct http_request;
struct pool;
struct storage_user;

/* Whether folder is a contacts folder the user may read. */
bool api_contacts_folder(struct storage_user *su, int64_t folder);
/* The cards of a .vcf text stored into folder one by one: {"results": [{"card": N, "id",
   "uid", "status": 201} or {"card": N, "error": {code, message}} …], "created", "failed"},
   or NULL with error when the text is no .vcf (or holds more than VCARD_SPLIT_MAX cards). */
json_t *api_contacts_import_text(struct storage_user *su, int64_t folder, struct pool *pool,
                                 const char *text, size_t len, char *error, size_t size);
/* POST /api/v1/folders/{id}/import with a .vcf file; GET …/export as one. */
void api_contacts_import(void *ctx, struct http_request *req);
void api_contacts_export(void *ctx, struct http_request *req);

#endif
