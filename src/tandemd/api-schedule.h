/* SPDX-License-Identifier: MIT */
/* Scheduling in the JSON API (docs/api.md "Scheduling"): POST /api/v1/events/{id}/reply,
   GET /api/v1/freebusy, and the hooks the event handlers and CalDAV call after a change
   (storage-schedule.h does the work). */
#ifndef TANDEMD_API_SCHEDULE_H
#define TANDEMD_API_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>

#include "storage-calendar.h"

/* After su stored event obj (old: before, or NULL; json: through the JSON API): true when
   scheduling rewrote it (*obj is then the stored one). Failures are logged: the put stands.
   Attendees outside the context get it by mail (api-mail-imip.h). */
struct node;
bool api_sched_after_put(struct node *node, struct storage_user *su,
                         const struct storage_cal_object *old, struct storage_cal_object *obj,
                         bool json);
/* After su deleted event old (outside attendees get a CANCEL by mail). */
void api_sched_after_delete(struct node *node, struct storage_user *su,
                            const struct storage_cal_object *old);
/* An event's JSON form for viewer su: "myStatus" when su is one of its attendees. */
void api_sched_decorate(struct storage_user *su, json_t *event);

#endif
