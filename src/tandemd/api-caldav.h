/* SPDX-License-Identifier: MIT */
/* CalDAV (RFC 4791, 6578) over the calendar storage: /dav/calendars/<login>/ is the user's
   calendar home, each calendar or tasks folder the user sees a calendar collection
   /dav/calendars/<login>/<folder id>/, each object <name> in it (docs/internals/calendar.md
   "CalDAV"). Entered from api-dav.c once the request is authenticated. */
#ifndef TANDEMD_API_CALDAV_H
#define TANDEMD_API_CALDAV_H

#include <stdbool.h>
#include <stdint.h>

#include "api-dav.h"
#include "folder.h"
#include "storage-calendar.h"

#define CALDAV_NS   "urn:ietf:params:xml:ns:caldav"
#define CALDAV_HOME "/dav/calendars/"

/* Whether the decoded request path (or raw target) is CalDAV's: under /dav/calendars/, or a
   PROPFIND or OPTIONS of the user's principal (which carries calendar-home-set). */
bool caldav_path(const char *path);
bool caldav_path_target(struct strv target);
/* A PROPFIND or OPTIONS of /dav/ or of login's principal: how a CalDAV client finds the home,
   so a user with caldav and without webdav may make it. */
struct http_request_head;
bool caldav_discovery_target(const struct http_request_head *head, const char *login);
bool caldav_handles(struct dav_req *dr);
/* Answers dr (any method). */
void caldav_dispatch(struct dav_req *dr);

/* What a /dav/calendars/ path names. */
struct caldav_res {
	enum { CALDAV_NONE, CALDAV_ROOT, CALDAV_HOME_SET, CALDAV_CALENDAR, CALDAV_OBJECT } kind;
	struct folder *folder; /* CALENDAR, OBJECT */
	const char *name;      /* OBJECT: the resource name */
	const char *href;      /* CALENDAR, OBJECT: the collection's href as the client named it */
};

/* --- api-caldav.c, shared with api-caldav-report.c --- */
int caldav_resolve(struct dav_req *dr, const char *path, struct caldav_res *res_r);
/* The href of a folder's collection ("/dav/calendars/<login>/<id>/"). */
const char *caldav_folder_href(struct dav_req *dr, int64_t folder);
/* Answers a failed storage call as CalDAV does (problem: put's, delete's or
   STORAGE_CAL_OK); a multistatus begun is dropped. */
void caldav_storage_failed(struct dav_req *dr, const struct storage_error *err,
                           enum storage_cal_problem problem);

/* --- api-caldav-report.c --- */
void caldav_report(struct dav_req *dr, const struct caldav_res *res);

/* --- api-caldav-sched.c --- */
struct dav_prop_name;
/* Answers a request to the user's schedule inbox or outbox: false when dr is not one. */
bool caldav_sched_dispatch(struct dav_req *dr);
/* A scheduling property of the principal into out: false when n is none of them. */
bool caldav_sched_principal_prop(struct dav_req *dr, struct buf *out,
                                 const struct dav_prop_name *n);

#endif
