/* SPDX-License-Identifier: MIT */
/* WebDAV dead properties of folders and files in a user schema (`dav_props`), with their
   bounds. SQL only: callers own connections and transactions. */
#ifndef TANDEM_DAV_PROPS_H
#define TANDEM_DAV_PROPS_H

#include <stddef.h>
#include <stdint.h>

struct pool;
struct sql_conn;
struct sql_error;

#define DAV_PROPS_NAME_MAX  255   /* bytes of a namespace URI, and of a local name */
#define DAV_PROPS_VALUE_MAX 65536 /* bytes of one value */
#define DAV_PROPS_MAX       256   /* properties per object */

enum dav_props_kind {
	DAV_PROPS_FOLDER,
	DAV_PROPS_FILE,
};
#define DAV_PROPS_KIND_NAME(kind) ((kind) == DAV_PROPS_FILE ? "file" : "folder")

/* One property: {ns, name} is its XML name (ns "" = no namespace), value its XML content as
   UTF-8 text without NUL (NULL in a patch = remove). */
struct dav_prop {
	const char *ns;
	const char *name;
	const char *value;
};

/* NULL if prop fits the bounds (name 1..255 bytes, namespace 0..255, value at most 64 KiB;
   value may be NULL), else a static message naming the bound. */
const char *dav_props_check(const struct dav_prop *prop);

/* The properties of object id: all (names NULL) or those of names[0..n) that exist, ordered
   by namespace and name; strings in pool. 0 with *props_r and *count_r, -1 on error. */
int dav_props_get(struct sql_conn *conn, struct pool *pool, int64_t cid, enum dav_props_kind kind,
                  int64_t id, const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                  size_t *count_r, struct sql_error *err);
/* The same for the objects ids[0..count) (distinct) in one statement: props_r[i] and
   counts_r[i] are object ids[i]'s. 0 or -1. */
int dav_props_get_many(struct sql_conn *conn, struct pool *pool, int64_t cid,
                       enum dav_props_kind kind, const int64_t *ids, size_t count,
                       const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                       size_t *counts_r, struct sql_error *err);
/* Sets (value != NULL, replacing) or removes one property. 0 or -1. */
int dav_props_put(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t id,
                  const struct dav_prop *prop, struct sql_error *err);
/* How many properties the object has. 0 or -1. */
int dav_props_count(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t id,
                    int64_t *count_r, struct sql_error *err);
/* Removes all of the object's properties (with the object). 0 or -1. */
int dav_props_delete(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t id,
                     struct sql_error *err);
/* Gives object to (of the same kind) a copy of from's properties (to has none yet). 0 or -1. */
int dav_props_copy(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t from,
                   int64_t to, struct sql_error *err);

#endif
