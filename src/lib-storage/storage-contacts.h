/* SPDX-License-Identifier: MIT */
/* A user's contacts (vCards in "contacts" folders): create, replace, get, delete, search and
   changes since a folder revision, under the folder's OX bits (docs/internals/contacts.md).
   Built for the JSON API and CardDAV alike: cards are found by id, by folder + resource name
   or by folder + UID; revisions and tombstones are the calendar's (storage-objects.h). */
#ifndef TANDEM_STORAGE_CONTACTS_H
#define TANDEM_STORAGE_CONTACTS_H

#include "storage.h"
#include "vcard.h"

/* Cards one search or listing answers at most, changes one sync answers at most, cards one
   export gives, and the length of a search text. */
#define STORAGE_CONTACT_LIST_MAX    1000
#define STORAGE_CONTACT_CHANGES_MAX 5000
#define STORAGE_CONTACT_EXPORT_MAX  VCARD_SPLIT_MAX
#define STORAGE_CONTACT_QUERY_MAX   200

/* Why a put or delete was refused beyond its storage_refusal, for CardDAV's preconditions. */
enum storage_contact_problem {
	STORAGE_CONTACT_OK = 0,
	STORAGE_CONTACT_BAD_DATA,     /* not a valid vCard (valid-address-data): 400 */
	STORAGE_CONTACT_UID_CONFLICT, /* another card of the folder has the UID: 409 */
	STORAGE_CONTACT_PRECONDITION, /* If-Match / If-None-Match failed: 412 */
	STORAGE_CONTACT_TOO_LARGE,    /* larger than VCARD_MAX_SIZE, or its photo: 413 */
};

/* One stored card. Strings live in the user's pool. */
struct storage_contact {
	int64_t id, folder;
	const char *name; /* the resource name in its folder (CardDAV href) */
	const char *uid;
	const char *version; /* "3.0" or "4.0" */
	const char *etag;    /* strong, without quotes */
	int64_t revision;    /* the folder revision that last changed it */
	const char *fn, *n, *org, *birthday;
	const char *emails, *phones; /* one per line */
	const char *vcard;           /* the text, as stored (NUL-terminated), with its length */
	size_t vcard_len;
	int64_t created, modified, created_by, modified_by;
};

/* A create or replace. */
struct storage_contact_put {
	int64_t folder;
	int64_t id;       /* > 0: replace this card (it must be in folder); 0: by name */
	const char *name; /* the resource name; NULL with id 0: "<UID>.vcf" (or "<id>.vcf") */
	const char *text;
	size_t len;
	const char *if_match; /* the etag the card must have (without quotes), or NULL */
	bool if_none_match;   /* the card must not exist yet */
	/* results */
	bool created;
	enum storage_contact_problem problem;
	struct storage_contact obj;
};

/* Every call returns 0, or -1 with err (STORAGE_REFUSED with its reason and message; put and
   delete also say put->problem / *problem_r). Cards a user may not read are as absent. */

/* Validates the text (vcard_parse), the folder's module, the rights (create; write, own or
   all), If-Match/If-None-Match, the UID's uniqueness in the folder and the context's object
   limit, and stores it byte for byte with the folder's next revision in one transaction. */
int storage_contact_put(struct storage_user *user, struct storage_contact_put *put,
                        struct storage_error *err);
/* One card by id / by folder and resource name / by folder and UID. */
int storage_contact_get(struct storage_user *user, int64_t id, struct storage_contact *obj_r,
                        struct storage_error *err);
int storage_contact_get_by_name(struct storage_user *user, int64_t folder, const char *name,
                                struct storage_contact *obj_r, struct storage_error *err);
int storage_contact_get_by_uid(struct storage_user *user, int64_t folder, const char *uid,
                               struct storage_contact *obj_r, struct storage_error *err);
/* Deletes card id (the right to delete it; if_match as for put), leaving a tombstone at the
   folder's next revision. */
int storage_contact_delete(struct storage_user *user, int64_t id, const char *if_match,
                           enum storage_contact_problem *problem_r, struct storage_error *err);

/* The cards of folder the user may read, by FN, whose FN, N, e-mails, phones or organisation
   contain q (case-insensitive for ASCII; NULL or "" = all), at most max (<=
   STORAGE_CONTACT_LIST_MAX): {"contacts": [storage_contact_json …], "more": bool}. */
int storage_contact_search(struct storage_user *user, int64_t folder, const char *q, size_t max,
                           json_t **result_r, struct storage_error *err);
/* The texts of folder's cards the user may read, at most max (more: STORAGE_OVER_LIMIT), into
 *texts_r (the user's pool), *count_r of them. For export. */
int storage_contact_export(struct storage_user *user, int64_t folder, size_t max,
                           const char ***texts_r, size_t *count_r, struct storage_error *err);
/* Called with each card (name, ETag, text valid during the call only) until it returns false;
   called with NULL first, and again when the read is retried: whatever it made of the cards
   before goes. */
typedef bool storage_contact_each_fn(void *ctx, const struct storage_obj_text *card);
/* Streams folder's cards the user may read, by name, to fn without keeping them: one read
   transaction, whatever the number of cards. For addressbook-query. */
int storage_contact_each(struct storage_user *user, int64_t folder, storage_contact_each_fn *fn,
                         void *ctx, struct storage_error *err);
/* As storage_cal_changes, for a contacts folder. */
int storage_contact_changes(struct storage_user *user, int64_t folder, int64_t since, size_t max,
                            json_t **result_r, struct storage_error *err);
/* The folder's revision (getctag, sync token; 0 before its first change). */
int storage_contact_revision(struct storage_user *user, int64_t folder, int64_t *revision_r,
                             struct storage_error *err);

/* The JSON form of a card: {id, folder, name, uid, etag, revision, version, fn, n, emails[],
   phones[], org, birthday, created, modified}, with "vcard" (the text) when asked. */
json_t *storage_contact_json(const struct storage_contact *c, bool with_vcard);

#endif
