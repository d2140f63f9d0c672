/* SPDX-License-Identifier: MIT */
/* What the /dav/ handlers (api-dav*.c) share: the request, the URL-to-storage mapping and the
   DAV answers (docs/internals/dav.md "Files over WebDAV"). */
#ifndef TANDEMD_API_DAV_H
#define TANDEMD_API_DAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api-common.h"
#include "buf.h"
#include "dav-headers.h"
#include "folder.h"
#include "infostore.h"
#include "storage-dav.h"
#include "storage.h"

struct dav_if_token;
struct file_upload;
struct lock;
struct http_request;
struct node;

/* The largest XML body a DAV request may carry (PROPFIND, PROPPATCH, LOCK). */
#define DAV_XML_MAX_SIZE (1024 * 1024)

/* A request body as dav_head() took it: in memory up to max (XML bodies, an empty PUT), or
   streamed to a file (up: a PUT, once its sender is known). */
struct dav_body {
	struct buf buf;
	size_t max;
	bool too_large;
	struct file_upload *up;
	/* a PUT's head step checked the sender (dav() takes user as it is) */
	bool authed;
	struct api_user user;
};

/* One authenticated DAV request. Lives in the request's pool. */
struct dav_req {
	struct node *node;
	struct http_request *req;
	struct pool *pool;
	struct api_user user;
	struct storage_user *su;
	struct dav_origin origin;
	const char *path; /* decoded, as received (a collection's trailing slash kept) */
	struct dav_body *body;
	/* lock tokens the If header submitted (dav_check_conditions) */
	struct dav_if_token *submitted;
	size_t submitted_count;
	/* GET: the next resolve of a file also opens its content (storage_dav_walk_open) */
	struct infostore_version *open_version;
	int open_fd; /* -1: nothing opened */
	/* the last storage_dav_lock_anchor() looked up (dav_lock_view) */
	int64_t anchor_id;
	const char *anchor_key;
};

enum dav_res_kind {
	DAV_RES_NONE,      /* nothing is mapped there */
	DAV_RES_VIRTUAL,   /* a fixed collection: /dav/, /dav/files/, shared/, principals */
	DAV_RES_FOLDER,    /* a folder (home/, public/ and everything below them) */
	DAV_RES_FILE,      /* a file in a folder */
	DAV_RES_PRINCIPAL, /* /dav/principals/users/<login>/: the user's own principal */
};

/* What a decoded path names for the user. */
struct dav_res {
	enum dav_res_kind kind;
	const char *path; /* decoded, no trailing slash: "/dav/files/home/a" ("/dav" for /dav/) */
	const char *name; /* last segment */
	struct storage_dav_entry entry; /* FOLDER, FILE */
	/* FOLDER, FILE, NONE: the folder it is (or would be) in; 0 when that is not a folder
	   (the area roots home/ and public/, NONE below a virtual collection or a missing one) */
	int64_t parent;
	bool area_root;              /* FOLDER: home/ or public/ itself */
	const char *const *children; /* VIRTUAL: names of its members, NULL-terminated */
	bool parent_missing;         /* NONE: some ancestor is not there either (409) */
	/* below shared/<owner>/<folder>/: that folder, and its URL (no trailing slash); its
	   locks live where its owner's URL puts them (dav_lock_view) */
	int64_t lock_root;
	const char *lock_url;
};

/* How the URLs a request sees map to the lock store's keys (docs/internals/dav.md "Locks"):
   a lock belongs to the object, whichever URL reaches it. home/ is "/dav/files/home/<uid>",
   public/ stays as it is, and a folder shared with the user is keyed where its owner keeps
   it: below url, key instead. */
struct dav_lock_view {
	int64_t uid;
	const char *url; /* NULL: no shared folder in view */
	const char *key;
};

/* Maps path (decoded) to *res_r. 0, or -1 after answering req (the storage failed). */
int dav_map_resolve(struct dav_req *dr, const char *path, struct dav_res *res_r);

/* The "dav" member of /api/v1/folders' objects for user: a folder's collection path
   ("/dav/files/home/Docs/"; a calendar or tasks folder's "/dav/calendars/<login>/<id>/", a
   contacts folder's "/dav/addressbooks/<login>/<id>/", or the segment a client created it
   under instead of the id, as the user's DAV home lists it), or NULL for one DAV does not
   show. Lookups are remembered per request (siblings share their parent's). */
struct dav_paths *dav_paths_create(struct storage_user *su, struct pool *pool,
                                   const struct api_user *user);
const char *dav_paths_get(struct dav_paths *dp, const struct folder *f);
/* Reads the collection segments of the PIM folders among folders[0..count) in one
   transaction, for the dav_paths_get calls of a listing that follow. */
void dav_paths_prefetch(struct dav_paths *dp, struct folder *const *folders, size_t count);

/* t as an HTTP-date (getlastmodified, Last-Modified) or, http_date false, as RFC 3339
   (creationdate); returns its length. */
#define DAV_DATE_SIZE 64
size_t dav_date(char out[DAV_DATE_SIZE], int64_t t, bool http_date);

/* Answers req: status with a DAV:error body naming precondition (RFC 4918 §16) when it is
   not NULL, else a JSON error body with code and the message. */
void dav_fail(struct dav_req *dr, int status, const char *precondition, const char *code,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answers a failed storage call (storage-file.h refusals) as the JSON API does. */
void dav_storage_failed(struct dav_req *dr, const struct storage_error *err);
/* Answers a failed folder operation (folder_error in fe, or err). */
void dav_folder_failed(struct dav_req *dr, const struct folder_error *fe,
                       const struct storage_error *err);

/* --- api-dav-lock.c --- */
/* RFC 7232's conditionals and the If header against res; false after answering (304, 412,
   400, 503). Records the lock tokens the If header submitted in dr. */
bool dav_check_conditions(struct dav_req *dr, const struct dav_res *res, bool get_or_head);
/* A write to res (tree: also everything below it) needs a submitted token of every lock on
   it; false after answering 423 with DAV:lock-token-submitted (or 503). */
bool dav_check_locks(struct dav_req *dr, const struct dav_res *res, bool tree);
/* After a DELETE or the source of a MOVE: the locks at and below res go. */
void dav_locks_removed(struct dav_req *dr, const struct dav_res *res);
/* After a PUT or MKCOL: locks taken on the unmapped res now lock a resource. */
void dav_locks_mapped(struct dav_req *dr, const struct dav_res *res);
/* The lock view of res (strings from pool): 0, or -1 after answering (storage failed). */
int dav_lock_view(struct dav_req *dr, const struct dav_res *res, struct pool *pool,
                  struct dav_lock_view *view_r);
/* The lock store's key of path (a /dav/ path, no trailing slash) in view, from pool. */
const char *dav_lock_key(struct pool *pool, const struct dav_lock_view *view, const char *path);
/* The locks that cover path in view (below: rooted at or below it), from pool: 0, or -1
   after answering 503. */
int dav_lockdiscovery(struct dav_req *dr, struct pool *pool, const struct dav_lock_view *view,
                      const char *path, bool below, struct lock **locks_r, size_t *count_r);
/* <D:activelock> of l, its root as the URLs of view show it. */
void dav_activelock_append(struct buf *out, const struct dav_lock_view *view, const struct lock *l);
void dav_lock(struct dav_req *dr);
/* api-dav-copymove.c */
void dav_copymove(struct dav_req *dr, bool move);
/* api-dav-proppatch.c */
void dav_proppatch(struct dav_req *dr);
void dav_unlock(struct dav_req *dr);

/* The body of a request that is not a PUT (empty when it had none). */
struct strv dav_body(struct dav_req *dr);
/* Whether {ns}name is one of the live properties (they cannot be set or removed). */
/* PROPPATCH's 207 answer for dr->path: every property of pp with its status; the one at
   failed gets status, the others 424 (or 200 when nothing failed); precondition (DAV:, may
   be NULL) in the response's error. */
struct dav_proppatch;
void dav_proppatch_answer(struct dav_req *dr, const struct dav_proppatch *pp, size_t failed,
                          int status, const char *precondition);
bool dav_prop_is_live(const char *ns, const char *name);

/* What a collection and what a file allow (OPTIONS, 405). */
#define DAV_ALLOW_COLLECTION                                                                       \
	"OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"
#define DAV_ALLOW_FILE                                                                             \
	"OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK"

/* The methods (api-dav-propfind.c, api-dav-write.c, api-dav-put.c). */
void dav_propfind(struct dav_req *dr);
/* PUT's part of dav_head (loop thread): the sender and the webdav module are checked
   before a byte of the body is read, from the caches or on a worker while the body is held,
   then the body streams to a file. True when the body is taken care of (held, streamed, or
   the request answered); false to keep it in memory up to body->max (an empty body). */
bool dav_put_head(struct node *node, struct http_request *req, struct dav_body *body);
void dav_put(struct dav_req *dr);
void dav_get(struct dav_req *dr);
void dav_delete(struct dav_req *dr);
void dav_mkcol(struct dav_req *dr);

#endif
