/* SPDX-License-Identifier: MIT */
/* GET /api/v1/mail/events: new-mail push over Server-Sent Events from IMAP IDLE (docs/api.md
   "Mail", docs/internals/mail.md "New mail events"). */
#ifndef TANDEMD_API_MAIL_EVENTS_H
#define TANDEMD_API_MAIL_EVENTS_H

/* Ends every stream and waits for the watcher threads to give their IMAP connections back.
   Before the HTTP server and the IMAP pool are destroyed; no new stream opens afterwards. */
void api_mail_events_stop(void);
/* Watchers (users with open streams, one IMAP connection each) and open streams, for
   /metrics. */
unsigned api_mail_events_watchers(void);
unsigned api_mail_events_streams(void);

#endif
