/* SPDX-License-Identifier: MIT */
/* CalDAV collections a client makes and changes: MKCALENDAR and extended MKCOL (RFC 4791
   §5.3.1, RFC 5689), PROPPATCH and DELETE of a calendar collection, and the names clients
   chose for them (docs/decisions/0015-caldav-collection-names.md). */
#ifndef TANDEMD_API_CALDAV_COLLECTION_H
#define TANDEMD_API_CALDAV_COLLECTION_H

#include <stdbool.h>

#include "api-caldav.h"
#include "api-davobj.h"
#include "buf.h"
#include "dav-xml.h"

/* The dead property on a folder that holds the segment a client created it under. */
#define CALDAV_COLLECTION_NS      "urn:tandem:caldav"
#define CALDAV_COLLECTION_SEGMENT DAVOBJ_SEGMENT

/* MKCALENDAR or MKCOL of dr->path (res: what is there now). Answers. */
void caldav_collection_create(struct dav_req *dr, const struct caldav_res *res);
/* PROPPATCH / DELETE of the calendar collection res. Answers. */
void caldav_collection_proppatch(struct dav_req *dr, const struct caldav_res *res);
void caldav_collection_delete(struct dav_req *dr, const struct caldav_res *res);

/* The user's own calendar or tasks folder created under segment: 0 with *folder_r (NULL when
   there is none), or -1 after answering a storage failure. */
int caldav_collection_lookup(struct dav_req *dr, const char *segment, struct folder **folder_r);
/* The href of f's collection for the user in a listing of the home: under its segment when
   the user owns it and made it with one, else under its id (caldav_folder_href). One read for
   a folder the user owns. */
const char *caldav_collection_href(struct dav_req *dr, const struct folder *f);
/* A property stored on f's collection (calendar-description, calendar-color, …) into out as
   PROPFIND writes it: false when f has none of that name. */
bool caldav_collection_stored_prop(struct dav_req *dr, const struct folder *f,
                                   const struct dav_prop_name *name, struct buf *out);

#endif
