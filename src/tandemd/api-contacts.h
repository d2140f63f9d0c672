/* SPDX-License-Identifier: MIT */
/* /api/v1/contacts, and import and export of .vcf files on /api/v1/folders/{id}/import|export
   for contacts folders (api-events.c dispatches those by the folder's module). */
#ifndef TANDEMD_API_CONTACTS_H
#define TANDEMD_API_CONTACTS_H

#include <stdbool.h>
#include <stdint.h>

struct http_request;
struct storage_user;

/* Whether folder is a contacts folder the user may read. */
bool api_contacts_folder(struct storage_user *su, int64_t folder);
/* POST /api/v1/folders/{id}/import with a .vcf file; GET …/export as one. */
void api_contacts_import(void *ctx, struct http_request *req);
void api_contacts_export(void *ctx, struct http_request *req);

#endif
