/* SPDX-License-Identifier: MIT */
/* The global address book of a context: its enabled users as read-only contacts (login,
   display name, names, e-mail, and the phone and organisation each user chose to publish),
   searched in a per-node snapshot that is rebuilt when the context's directory revision moves
   (docs/internals/contacts.md "Global address book"). Built for the JSON API and CardDAV
   alike: an entry's CardDAV resource name is "<user id>.vcf", its vCard is 4.0, and the
   revision is the address book's ctag and sync token. */
#ifndef TANDEM_STORAGE_GAB_H
#define TANDEM_STORAGE_GAB_H

#include "storage.h"

#define STORAGE_GAB_QUERY_MAX 128  /* bytes of a search text */
#define STORAGE_GAB_LIST_MAX  1000 /* entries one search answers at most */
#define STORAGE_GAB_PHONE_MAX 64   /* bytes of a published phone number */
#define STORAGE_GAB_ORG_MAX   256  /* bytes of a published organisation */
/* Contexts whose snapshot a node keeps (the least recently used goes first). */
#define STORAGE_GAB_SNAPSHOTS 16

/* One entry. From a search its strings live as long as the callback runs; from
   storage_gab_get() in the user's pool. "" when absent. */
struct storage_gab_entry {
	int64_t cid, uid;
	const char *login, *display_name, *given_name, *sur_name, *email;
	const char *phone, *org; /* what the user published (storage_gab_publish) */
	int64_t modified;        /* the later of the user's and the published fields' change */
};

enum storage_gab_match {
	STORAGE_GAB_SUBSTRING = 0, /* q anywhere in login, display name, given, sur name, e-mail */
	STORAGE_GAB_PREFIX,        /* q at the start of one of them or of a word in them */
};

/* Called for each hit, in display-name order; returns false to stop. */
typedef bool storage_gab_fn(const struct storage_gab_entry *e, void *ctx);

/* Every call returns 0, or -1 with err (STORAGE_REFUSED: STORAGE_INVALID for a bad q or
   field, STORAGE_NOT_FOUND for an unknown user). */

/* The entries matching q (ASCII case-insensitive; NULL or "" = all) in the snapshot of the
   directory at its current revision (*revision_r), handed to fn until it says stop. */
int storage_gab_each(struct storage_user *user, const char *q, enum storage_gab_match match,
                     storage_gab_fn *fn, void *ctx, int64_t *revision_r, struct storage_error *err);
/* storage_gab_each() as JSON, at most max (<= STORAGE_GAB_LIST_MAX; 0 = 50):
   {"entries": [storage_gab_json …], "more": bool, "revision": N}. */
int storage_gab_search(struct storage_user *user, const char *q, enum storage_gab_match match,
                       size_t max, json_t **result_r, struct storage_error *err);
/* One enabled user of the context by id. */
int storage_gab_get(struct storage_user *user, int64_t uid, struct storage_gab_entry *entry_r,
                    struct storage_error *err);
/* The directory's revision: moves on every create, change or deletion of a user of the
   context and on every publish (0 before the first). */
int storage_gab_revision(struct storage_user *user, int64_t *revision_r, struct storage_error *err);
/* Sets what the calling user publishes (NULL: unchanged, "": removed): phone (digits, spaces
   and + ( ) - . /) and org (no control characters), within the limits above. */
int storage_gab_publish(struct storage_user *user, const char *phone, const char *org,
                        struct storage_error *err);

/* {"id": uid, "login", "display_name", "given_name", "sur_name", "email", "phone", "org",
   "uid" (the vCard UID), "etag", "directory": true, "read_only": true}. */
json_t *storage_gab_json(struct pool *pool, const struct storage_gab_entry *e);
/* The entry as a vCard 4.0 (CRLF, folded) in pool, and its strong ETag (no quotes), which
   renders the card; storage_gab_vcard_etag is the ETag of a card already rendered. */
const char *storage_gab_vcard(struct pool *pool, const struct storage_gab_entry *e);
const char *storage_gab_etag(struct pool *pool, const struct storage_gab_entry *e);
const char *storage_gab_vcard_etag(struct pool *pool, const char *vcard);

/* For provisioning, inside its transaction on the user schema: a user of cid was created,
   changed or (deleted) removed; moves the revision and drops a deleted user's published
   fields. 0 or -1 with err. */
int storage_gab_user_changed(struct sql_conn *conn, int64_t cid, int64_t uid, bool deleted,
                             struct sql_error *err);

/* storage.c's: the snapshots of a storage, dropped per context on its user and context
   invalidations (memory; the revision check keeps answers current regardless). */
struct storage_gab_cache;
struct storage_gab_cache *storage_gab__cache_create(void);
void storage_gab__cache_destroy(struct storage_gab_cache **cache);
void storage_gab__drop(struct storage_gab_cache *cache, int64_t cid); /* cid 0: all */

#endif
