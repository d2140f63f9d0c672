/* SPDX-License-Identifier: MIT */
/* A user's WebDAV dead properties on folders and files (PROPFIND, PROPPATCH), with the
   object's rights, each call in a transaction of its own (docs/internals/storage.md). */
#ifndef TANDEM_STORAGE_PROPS_H
#define TANDEM_STORAGE_PROPS_H

#include "dav-props.h"
#include "storage.h"

/* The properties of a folder the user can see or a file they may read: all (names NULL) or
   those of names[0..n) that exist; strings in the user's pool. STORAGE_NOT_FOUND when the
   object is not visible. */
int storage_props_get(struct storage_user *user, enum dav_props_kind kind, int64_t id,
                      const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                      size_t *count_r, struct storage_error *err);

/* The same for the folders ids[0..count) (distinct) in one read transaction, their rows in
   one statement: props_r[i] and counts_r[i] (the caller's arrays) are folder ids[i]'s; a
   folder the user cannot see has none. */
int storage_props_get_folders(struct storage_user *user, const int64_t *ids, size_t count,
                              const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                              size_t *counts_r, struct storage_error *err);

/* Applies ops[0..n) in order (value NULL removes; removing what is not there is fine), all or
   nothing in one write transaction. Needs write rights on a file (folder_perm_may_write,
   own = created by the user) or the admin flag on a folder (who may rename it): else
   STORAGE_FORBIDDEN. Bounds (STORAGE_INVALID with STORAGE_DETAIL_PROP_BOUND, message naming
   the bound): names 1-255 bytes, namespaces up to 255, values up to 64 KiB (DAV_PROPS_*), and
   at most DAV_PROPS_MAX properties on the object after the patch. *failed_r (may be NULL) gets
   the index of the op that was refused, or n when the refusal is not one op's (the count,
   rights, visibility, a database error). */
int storage_props_patch(struct storage_user *user, enum dav_props_kind kind, int64_t id,
                        const struct dav_prop *ops, size_t n, size_t *failed_r,
                        struct storage_error *err);

#endif
