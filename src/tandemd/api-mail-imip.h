/* SPDX-License-Identifier: MIT */
/* iMIP (docs/internals/calendar.md "Invitations by mail"): invitations and cancellations to
   attendees outside the context by SMTP, and their replies from the organiser's INBOX: when a user
   looks at their events, their INBOX is scanned (at most every IMIP_SCAN_INTERVAL_MS per user and
   node) for METHOD:REPLY messages of outside attendees, which update the user's events; each one
   read is flagged $iMIPProcessed. */
#ifndef TANDEMD_API_MAIL_IMIP_H
#define TANDEMD_API_MAIL_IMIP_H

#include <stdbool.h>

struct api_user;
struct http_request;
struct node;
struct pool;

/* Scans the caller's INBOX when it is due (nothing when no mail system is configured; mail
   failures are logged, never answered). false after answering 401 (no valid session): the
   caller's handler then stops. */
bool api_mail_imip_scan(void *node, struct http_request *req);
/* The same for user, already authenticated (CalDAV's REPORTs, which clients poll). */
void api_mail_imip_scan_user(struct node *node, const struct api_user *user, struct pool *pool);

/* After su changed event obj (old: before, or NULL; obj NULL: old was deleted), when su
   organises it and [mail] smtp_url is set: mails the iTIP REQUEST or CANCEL to each attendee
   outside the context (storage_sched_outside) by SMTP, as su through the master user, and
   records SCHEDULE-STATUS 1.2 (delivered to the submission server) or 5.1 (failed: logged) on
   obj. Call it after the change is committed (it is: storage calls are transactions of their
   own). true when obj was rewritten (*obj is then the stored one). */
struct storage_user;
struct storage_cal_object;
bool api_mail_imip_send(struct node *node, struct storage_user *su,
                        const struct storage_cal_object *old, struct storage_cal_object *obj);

#endif
