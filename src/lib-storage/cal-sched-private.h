/* SPDX-License-Identifier: MIT */
/* libical parsing shared by cal-sched.c and cal-imip.c. */
#ifndef TANDEM_CAL_SCHED_PRIVATE_H
#define TANDEM_CAL_SCHED_PRIVATE_H

#include <libical/ical.h>
#include <stddef.h>

/* text[0..len) (not necessarily NUL-terminated) parsed as a VCALENDAR (caller frees with
   icalcomponent_free), or NULL when it is none. */
icalcomponent *cal_sched__parse(const char *text, size_t len);

#endif
