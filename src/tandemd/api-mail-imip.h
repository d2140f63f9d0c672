/* SPDX-License-Identifier: MIT */
/* iMIP replies from the organiser's INBOX (docs/internals/calendar.md "Invitations by
   mail"): when a user looks at their events, their INBOX is scanned (at most every
   IMIP_SCAN_INTERVAL_MS per user and node) for METHOD:REPLY messages of outside attendees,
   which update the user's events; each one read is flagged $iMIPProcessed. */
#ifndef TANDEMD_API_MAIL_IMIP_H
#define TANDEMD_API_MAIL_IMIP_H

#include <stdbool.h>

struct http_request;

/* Scans the caller's INBOX when it is due (nothing when no mail system is configured; mail
   failures are logged, never answered). false after answering 401 (no valid session): the
   caller's handler then stops. */
bool api_mail_imip_scan(void *node, struct http_request *req);

#endif
