/* SPDX-License-Identifier: MIT */
/* The context's global address book as a read-only CardDAV address book at
   /dav/addressbooks/<login>/gab/: its cards rendered from storage-gab.h's entries, and its
   sync-collection answered from the directory revision (docs/internals/dav.md "Global
   address book"). The PROPFIND, GET and REPORT answers are api-carddav*.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-carddav.h"
#include "api-davobj.h"
#include "node-access.h"
#include "pool.h"
#include "storage-gab.h"

int carddav_gab_listed(struct dav_req *dr, bool *listed_r)
{
	uint32_t modules;
	if (!api_user_modules(dr->node, dr->req, &dr->user, &modules))
		return -1;
	*listed_r = access_allows(modules, MODULE_CONTACTS);
	return 0;
}

static void card_of(struct pool *pool, const struct storage_gab_entry *e,
                    struct carddav_card *card_r)
{
	card_r->pool = pool;
	card_r->name = pool_printf(pool, "%lld.vcf", (long long)e->uid);
	card_r->text = storage_gab_vcard(pool, e);
	card_r->etag = storage_gab_vcard_etag(pool, card_r->text);
	card_r->len = strlen(card_r->text);
}

static int not_found(const char *name, struct storage_error *err)
{
	memset(err, 0, sizeof(*err));
	err->status = STORAGE_REFUSED;
	err->refusal = STORAGE_NOT_FOUND;
	snprintf(err->message, sizeof(err->message),
	         "%s is not a card of the global address book (<user id>.vcf)", name);
	return -1;
}

int carddav_gab_get(struct dav_req *dr, const char *name, struct carddav_card *card_r,
                    struct storage_error *err)
{
	char *end;
	long long uid = strtoll(name, &end, 10);
	if (end == name || name[0] < '1' || name[0] > '9' || strcmp(end, ".vcf") != 0)
		return not_found(name, err);
	struct storage_gab_entry e;
	if (storage_gab_get(dr->su, uid, &e, err) < 0)
		return -1;
	card_of(dr->pool, &e, card_r);
	return 0;
}

struct each {
	struct pool *scratch;
	carddav_card_fn *fn;
	void *ctx;
};

static bool each_entry(const struct storage_gab_entry *e, void *ctx)
{
	struct each *each = ctx;
	struct carddav_card card;
	pool_clear(each->scratch); /* 100,000 entries must not grow the request's pool */
	card_of(each->scratch, e, &card);
	return each->fn(each->ctx, &card);
}

int carddav_gab_each(struct dav_req *dr, carddav_card_fn *fn, void *ctx, int64_t *revision_r,
                     struct storage_error *err)
{
	struct each each = {.scratch = pool_create(4096), .fn = fn, .ctx = ctx};
	int r = storage_gab_each(dr->su, NULL, STORAGE_GAB_SUBSTRING, each_entry, &each, revision_r,
	                         err);
	pool_destroy(&each.scratch);
	return r;
}

static bool change(void *ctx, const struct carddav_card *card)
{
	json_array_append_new(ctx, json_pack("{s:s, s:s}", "name", card->name, "etag", card->etag));
	return true;
}

int carddav_gab_changes(struct dav_req *dr, int64_t since, json_t **changes_r,
                        struct storage_error *err)
{
	*changes_r = NULL;
	json_t *changed = json_array();
	int64_t revision;
	int r = since == 0 ? carddav_gab_each(dr, change, changed, &revision, err)
	                   : storage_gab_revision(dr->su, &revision, err);
	if (r == 0 && since != 0 && since != revision) {
		/* no tombstones: what left the book since then is not known (RFC 6578 §3.2) */
		memset(err, 0, sizeof(*err));
		err->status = STORAGE_REFUSED;
		err->refusal = STORAGE_INVALID;
		snprintf(err->message, sizeof(err->message),
		         "the global address book keeps no deletions: sync again without a token");
		r = -1;
	}
	if (r < 0) {
		json_decref(changed);
		return -1;
	}
	*changes_r = json_pack("{s:o, s:[], s:b, s:I}", "changed", changed, "deleted", "more", 0,
	                       "revision", (json_int_t)revision);
	return 0;
}
