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
#include "storage-gab.h"

#define CARDDAV_NS   "urn:ietf:params:xml:ns:carddav"
#define CARDDAV_HOME "/dav/addressbooks/"
/* The namespace of the dead property that keeps the segment an extended MKCOL named (RFC
   5689: the address book lives where the client asked), beside its folder id. */
#define CARDDAV_SEGMENT_NS "urn:tandem:carddav"

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
	bool gab;              /* BOOK, CARD: of the global address book (folder NULL) */
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

/* --- api-carddav-gab.c: the context's global address book, read-only, at
   /dav/addressbooks/<login>/gab/ (docs/internals/dav.md "Global address book") --- */
#define CARDDAV_GAB_SEGMENT "gab"
#define CARDDAV_GAB_TITLE   "Global address book"
/* The folder number of its sync tokens (no folder has it). */
#define CARDDAV_GAB_FOLDER 0
/* The cards an addressbook-query of it answers at most (then 507). */
#define CARDDAV_GAB_QUERY_MAX STORAGE_GAB_LIST_MAX

/* A card: "<user id>.vcf", its strong ETag and vCard 4.0, in pool. */
struct carddav_card {
	struct pool *pool;
	const char *name, *etag, *text;
	size_t len;
};
typedef bool carddav_card_fn(void *ctx, const struct carddav_card *card);

/* Whether the user sees it (the contacts module, as the JSON API's directory): 0 with
 *listed_r, or -1 after answering. */
int carddav_gab_listed(struct dav_req *dr, bool *listed_r);
/* The card named name: 0, or -1 with err (refused NOT_FOUND when there is none). */
int carddav_gab_get(struct dav_req *dr, const char *name, struct carddav_card *card_r,
                    struct storage_error *err);
/* Every card, in display-name order, to fn (its strings live while it runs) until it says
   stop, at the directory revision *revision_r: 0, or -1 with err. */
int carddav_gab_each(struct dav_req *dr, carddav_card_fn *fn, void *ctx, int64_t *revision_r,
                     struct storage_error *err);
/* storage_contact_changes()'s answer: every card from 0, nothing from the current
   revision, and from any other a refusal INVALID (no tombstones: RFC 6578's
   valid-sync-token, the client syncs again from scratch). */
int carddav_gab_changes(struct dav_req *dr, int64_t since, json_t **changes_r,
                        struct storage_error *err);

#endif
