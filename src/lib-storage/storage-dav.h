/* SPDX-License-Identifier: MIT */
/* What WebDAV needs of a user's file folders beyond the JSON API's calls: paged listings with
   bounded memory, single-object lookups by id or by name, strong ETags and the context's quota
   (docs/internals/storage.md "For WebDAV"). */
#ifndef TANDEM_STORAGE_DAV_H
#define TANDEM_STORAGE_DAV_H

#include "dav-props.h"
#include "folder.h"
#include "infostore.h"
#include "storage.h"

/* Every call returns 0, or -1 with err: a refusal (STORAGE_REFUSED) has its storage_refusal
   (STORAGE_NOT_FOUND for anything the user cannot see, exactly as for what does not exist),
   sometimes a storage_detail, and a message; a database error has err->what. */

#define STORAGE_DAV_ETAG_SIZE 96

/* One member of a collection, or the collection itself: a folder or a file as the user sees
   it. Everything is inline, so an array of them is all the memory a page takes. */
struct storage_dav_entry {
	bool collection; /* a folder */
	int64_t id;
	/* A file's folder; a folder's place in the user's tree (struct folder's view_parent: 0
	   for the roots and for folders below a shared-root node). */
	int64_t parent;
	char name[INFOSTORE_NAME_MAX + 1]; /* file name or folder title */
	int64_t created, modified;         /* unix seconds */
	/* Files only (0 / "" for folders): */
	int64_t size;
	int64_t version; /* the current version */
	char content_type[INFOSTORE_TYPE_MAX + 1];
	char md5[33];
	int64_t created_by;
	/* A file's strong ETag, quoted ("\"<id>-<version>-<md5>\""); "" for folders, which have
	   no getetag (RFC 4918 9.1: a collection need not have one). Strong: a version's bytes
	   never change once committed, every new content is a new version, and the MD5 of the
	   bytes is part of the tag, so even a version number that a repair freed and an upload
	   reused cannot give two contents one tag. A rename or move keeps it (same bytes). */
	char etag[STORAGE_DAV_ETAG_SIZE];
	/* The user's rights: on the folder itself, or on a file's folder. own: the user created
	   the file (for folder_perm_may_write(&rights, own) …), or owns the folder. */
	struct folder_perm rights;
	bool own;
	const char *module; /* folders: static "infostore" …; NULL for files */
	/* storage_dav_children_props only: its dead properties (strings in the user's pool) */
	struct dav_prop *dead;
	size_t dead_count;
};

/* A file's ETag as storage_dav_entry's etag has it, from its current row (an upload's
   result, say, without reading it back). */
void storage_dav_etag(const struct infostore_file *f, char etag_r[STORAGE_DAV_ETAG_SIZE]);

/* Where a paged listing goes on; zero it to start. done is set with the last page. */
struct storage_dav_cursor {
	int phase; /* 0 subfolders, 1 files, 2 done */
	char after[INFOSTORE_NAME_MAX + 1];
	bool done;
};

/* The next page of folder's members the user may see, into entries (max > 0 of them, the
   caller's): first the visible subfolders, then the files (those the user may read: all, or
   with "read own" only their own; none when the folder holds no files), each in byte order of
   their names. Each call is one short read transaction of its own; a page holds at most max
   entries, so memory stays that of one page however large the folder (the subfolders of one
   folder are loaded whole for each of their pages: a folder's subfolders are expected to be
   few). Changes between pages may be missed or seen, but no member is returned twice and none
   that stayed is skipped. STORAGE_NOT_FOUND when folder is not visible. 0 with *count_r (0 and
   cursor->done at the end). */
int storage_dav_children(struct storage_user *user, int64_t folder,
                         struct storage_dav_cursor *cursor, struct storage_dav_entry *entries,
                         size_t max, size_t *count_r, struct storage_error *err);

/* The same, with each entry's dead properties read in the page's transaction (one statement
   per kind of member, not a transaction per member): all of them (names NULL) or those of
   names[0..n) that exist, as storage_props_get gives them. */
int storage_dav_children_props(struct storage_user *user, int64_t folder,
                               struct storage_dav_cursor *cursor, struct storage_dav_entry *entries,
                               size_t max, const struct dav_prop *names, size_t n, size_t *count_r,
                               struct storage_error *err);

/* A folder or file the user can see, by id. */
int storage_dav_folder_get(struct storage_user *user, int64_t id, struct storage_dav_entry *entry_r,
                           struct storage_error *err);
int storage_dav_file_get(struct storage_user *user, int64_t id, struct storage_dav_entry *entry_r,
                         struct storage_error *err);
/* A path segment: the folder titled title that the user's tree shows below parent (exact
   bytes; parent 2 = the public root), or the file named name in folder. STORAGE_NOT_FOUND
   when there is none the user may see. */
int storage_dav_folder_find(struct storage_user *user, int64_t parent, const char *title,
                            struct storage_dav_entry *entry_r, struct storage_error *err);
int storage_dav_file_find(struct storage_user *user, int64_t folder, const char *name,
                          struct storage_dav_entry *entry_r, struct storage_error *err);
/* What a path below a folder names (storage_dav_walk). */
enum storage_dav_found {
	STORAGE_DAV_NONE,
	STORAGE_DAV_FOLDER,
	STORAGE_DAV_FILE,
};
struct storage_dav_walk {
	enum storage_dav_found found;
	/* FOLDER, FILE: what was found; with no segments, the root itself. */
	struct storage_dav_entry entry;
	/* FOLDER, FILE, NONE: the folder holding the last segment (0 with no segments, or when
	   the path stops earlier: then parent_missing) */
	int64_t parent;
	bool parent_missing;
};
#define STORAGE_DAV_HOME 0 /* storage_dav_walk's root: the user's "My files" */

/* Walks segs[0..n) (titles, the last one also a file name) below root (a folder id, or
   STORAGE_DAV_HOME) in one read transaction, as a client's URL goes: each segment a
   subfolder, the last one looked up as a file first unless slash (the URL ended in '/'),
   then as a folder, then (slash) as a file. Nothing found is not an error (NONE), but a root
   the user cannot see (or no "My files") is STORAGE_NOT_FOUND. With n 0 the root's entry. */
int storage_dav_walk(struct storage_user *user, int64_t root, const char *const *segs, size_t n,
                     bool slash, struct storage_dav_walk *walk_r, struct storage_error *err);

/* storage_dav_walk for a GET: when the path names a file, also its current version's row in
   the same transaction and then its content opened into *fd_r (else -1), as
   storage_file_open() does it (STORAGE_BROKEN when the content is missing). */
int storage_dav_walk_open(struct storage_user *user, int64_t root, const char *const *segs,
                          size_t n, bool slash, struct storage_dav_walk *walk_r,
                          struct infostore_version *version_r, int *fd_r,
                          struct storage_error *err);

/* Where the locks of folder live, whichever URL reaches it (docs/internals/dav.md "Locks"):
   the path of the folder from its owner's "My files" ("/dav/files/home/<owner uid>/A/B"),
   from the public root ("/dav/files/public/A"), or else from its topmost folder
   ("/dav/o/<id>/A"), titles as stored, from pool. Follows the stored parents whether or
   not the user may see them (the result is a key, never shown). STORAGE_NOT_FOUND when
   folder does not exist. */
int storage_dav_lock_anchor(struct storage_user *user, int64_t folder, struct pool *pool,
                            const char **path_r, struct storage_error *err);

/* RFC 4331 for the user's context: the bytes stored (every version counts) and what is left
   under the quota (minus uploads' live holds; never negative), or -1 in *available_r when the
   context has no quota. */
int storage_dav_quota(struct storage_user *user, int64_t *used_r, int64_t *available_r,
                      struct storage_error *err);

#endif
