/* SPDX-License-Identifier: MIT */
/* CalDAV's free-busy-query REPORT on a calendar collection (RFC 4791 §7.10). */
#ifndef TANDEMD_API_CALDAV_FREEBUSY_H
#define TANDEMD_API_CALDAV_FREEBUSY_H

#include <libxml/tree.h>

#include "api-caldav.h"

/* Answers dr with the VFREEBUSY of folder's events over the query's (root) time-range. */
void caldav_freebusy(struct dav_req *dr, const struct folder *folder, xmlNode *root);

#endif
