/* SPDX-License-Identifier: MIT */
/* Scheduling within a context (RFC 6638 subset, docs/internals/calendar.md "Scheduling"):
   an organiser's event puts a copy into each attendee's calendar (users of the context found
   by e-mail) and books resources (free: ACCEPTED, overlapping an accepted booking or not
   available: DECLINED); an attendee's PARTSTAT goes back to the organiser's copy; a cancelled
   attendee's copy gets STATUS:CANCELLED; free/busy of users and resources. Called by the JSON
   API and CalDAV after storage-calendar.h changed an object: the copies are separate writes
   through storage_cal_put() as their owners. */
#ifndef TANDEM_STORAGE_SCHEDULE_H
#define TANDEM_STORAGE_SCHEDULE_H

#include "storage-calendar.h"

/* Busy periods one free/busy answer gives at most per user or resource, and the longest
   range it takes. */
#define STORAGE_SCHED_BUSY_MAX  5000
#define STORAGE_SCHED_RANGE_MAX (400 * 86400)

/* After user stored obj (old: what it replaced, or NULL): an organiser's event schedules its
   attendees, an attendee's reply goes to the organiser. json: stored through the JSON API (an
   event with attendees and no ORGANIZER is then organised by the user). 1 when obj was
   rewritten (PARTSTAT, SCHEDULE-STATUS, ORGANIZER: *obj is the stored one), 0 when not, -1
   with err (the put itself stands; copies that failed are logged). */
int storage_sched_after_put(struct storage_user *user, const struct storage_cal_object *old,
                            struct storage_cal_object *obj, bool json, struct storage_error *err);
/* After user deleted old: the organiser's delete cancels the attendees' copies, an attendee's
   declines. 0 or -1 with err. */
int storage_sched_after_delete(struct storage_user *user, const struct storage_cal_object *old,
                               struct storage_error *err);
/* The attendee user answers event id with partstat (ACCEPTED, DECLINED, TENTATIVE): their copy
   and the organiser's change. 0 with *obj_r (the user's copy), or -1 with err (STORAGE_INVALID
   when the user is no attendee of it or is its organiser). */
int storage_sched_reply(struct storage_user *user, int64_t id, const char *partstat,
                        struct storage_cal_object *obj_r, struct storage_error *err);
/* The user's e-mail and display name (in the user's pool). */
int storage_sched_whoami(struct storage_user *user, const char **email_r, const char **name_r,
                         struct storage_error *err);

/* Free/busy of a user (by login or id) or a resource (by name or id) in [start, end):
   {"user": id, "login": …} or {"resource": id, "name": …}, with "busy": [{start, end,
   type}] ordered by start, a new reference. Unknown: STORAGE_NOT_FOUND. */
int storage_sched_freebusy(struct storage_user *user, bool resource, const char *key, int64_t start,
                           int64_t end, json_t **entry_r, struct storage_error *err);
/* The same for whoever of the context has e-mail email (user or resource). */
int storage_sched_freebusy_email(struct storage_user *user, const char *email, int64_t start,
                                 int64_t end, json_t **entry_r, struct storage_error *err);

/* An outside attendee's iMIP REPLY (cal-imip.h) found in user's INBOX: the PARTSTAT of that
   ATTENDEE on user's event of that UID. Taken only when the REPLY's ORGANIZER is user, user
   organises an event of that UID, the ATTENDEE is on it and is no user of the context (those
   answer inside). 1 when the event changed, 0 when the reply was ignored (*why_r says why),
   -1 with err. */
struct cal_imip_reply;
int storage_sched_imip_reply(struct storage_user *user, const struct cal_imip_reply *reply,
                             const char **why_r, struct storage_error *err);

/* iMIP (cal-imip.h) to attendees outside the context: after user stored obj (old: before,
   or NULL) or deleted old (obj NULL), the mails to send, when user organises the event: a
   REQUEST of obj to each outside attendee (a CANCEL when obj is cancelled) and a CANCEL of old
   to each outside attendee no longer on it. Outside: no user or resource of the context has
   the address. Strings in user's pool. 0, or -1 with err. */
struct storage_sched_mail {
	const char *email;
	const struct storage_cal_object *object; /* obj or old */
	bool cancel;
};
struct storage_sched_mails {
	const char *from, *from_name, *login; /* the organiser */
	struct storage_sched_mail *mails;
	size_t count;
};
int storage_sched_outside(struct storage_user *user, const struct storage_cal_object *old,
                          const struct storage_cal_object *obj, struct storage_sched_mails *m,
                          struct storage_error *err);
/* Records edits (SCHEDULE-STATUS of attendees) on user's own event obj, if it is still as
   obj says (its etag); *obj becomes the stored one. 1 rewritten, 0 nothing to change, -1
   with err (STORAGE_PRECONDITION-like when it changed meanwhile). */
struct cal_sched_edit;
int storage_sched_mark(struct storage_user *user, struct storage_cal_object *obj,
                       const struct cal_sched_edit *edits, size_t count, struct storage_error *err);

#endif
