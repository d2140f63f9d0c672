/* SPDX-License-Identifier: MIT */
/* CardDAV (RFC 6352, 6578, 5689) over the contacts storage: /dav/addressbooks/<login>/ is the
   user's address-book home, each contacts folder the user sees an address book
   /dav/addressbooks/<login>/<folder id>/, each card <name> in it (docs/internals/dav.md
   "CardDAV"). Entered from api-dav.c once the request is authenticated. */
#ifndef TANDEMD_API_CARDDAV_H
#define TANDEMD_API_CARDDAV_H

#include <stdbool.h>
#include <stdint.h>

#include "api-dav.h"
#include "folder.h"
#include "storage-contacts.h"

#define CARDDAV_NS   "urn:ietf:params:xml:ns:carddav"
#define CARDDAV_HOME "/dav/addressbooks/"

/* Whether the decoded request path (or raw target) is under /dav/addressbooks/. */
bool carddav_path(const char *path);
bool carddav_path_target(struct strv target);
/* Answers dr (any method) on a /dav/addressbooks/ path. */
void carddav_dispatch(struct dav_req *dr);

/* What a /dav/addressbooks/ path names. */
struct carddav_res {
	enum { CARDDAV_NONE, CARDDAV_ROOT, CARDDAV_HOME_SET, CARDDAV_BOOK, CARDDAV_CARD } kind;
	struct folder *folder; /* BOOK, CARD */
	const char *name;      /* CARD: the resource name; BOOK: the segment when not an id */
};

/* --- api-carddav.c, shared with api-carddav-report.c --- */
int carddav_resolve(struct dav_req *dr, const char *path, struct carddav_res *res_r);
/* The href of an address book ("/dav/addressbooks/<login>/<id>/"). */
const char *carddav_folder_href(struct dav_req *dr, int64_t folder);
/* Answers a failed storage call as CardDAV does (problem: put's, delete's or
   STORAGE_CONTACT_OK); a multistatus begun is dropped. */
void carddav_storage_failed(struct dav_req *dr, const struct storage_error *err,
                            enum storage_contact_problem problem);

/* --- api-carddav-report.c --- */
void carddav_report(struct dav_req *dr, const struct carddav_res *res);

#endif
