/* SPDX-License-Identifier: MIT */
/* The storage layer of a node: one process-wide object that owns the folder caches, finds each
   context's database, runs transactions and announces changes; and a per-request user object
   the handlers call (docs/internals/storage.md). Handlers never see a connection. */
#ifndef TANDEM_STORAGE_H
#define TANDEM_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct cache;
struct inval_bus;
struct inval_event;
struct pool;
struct sql_conn;
struct sql_db;
struct sql_error;

/* How a storage call failed, beyond the refusals of the operation itself. */
enum storage_status {
	STORAGE_OK = 0,
	STORAGE_NO_CONTEXT,  /* the context does not exist (the locate callback said so) */
	STORAGE_DOWN,        /* where the context lives is unknown now (configdb unreachable) */
	STORAGE_READ_ONLY,   /* a write refused: the primary database is down */
	STORAGE_UNAVAILABLE, /* the database is unreachable, or still busy after retries */
	STORAGE_FAILED,      /* any other database error */
	STORAGE_REFUSED,     /* the operation said no: its own error (folder_error …) says why */
};

/* Why an operation of storage-file.h said no (STORAGE_REFUSED; folder operations use
   folder_error instead). */
enum storage_refusal {
	STORAGE_REFUSAL_NONE = 0,
	STORAGE_NOT_FOUND,  /* the folder, file or version does not exist or is not visible */
	STORAGE_INVALID,    /* the request does not fit (a folder that holds no files …) */
	STORAGE_FORBIDDEN,  /* visible, but the user may not */
	STORAGE_OVER_LIMIT, /* the context's quota or object limit */
	STORAGE_NO_SPACE,   /* the filestore cannot take it */
	STORAGE_BROKEN,     /* stored content is missing or not what the rows say */
};

/* What a refusal of storage-dav.h means beyond its storage_refusal (which stays the general
   class, so existing callers keep answering it as before). */
enum storage_detail {
	STORAGE_DETAIL_NONE = 0,
	STORAGE_DETAIL_EXISTS,     /* the target name is taken and overwrite was not asked for */
	STORAGE_DETAIL_PROP_BOUND, /* a dead-property bound (message names it) */
	STORAGE_DETAIL_LOOP,       /* a folder moved or copied into itself or below it */
};

struct storage_error {
	enum storage_status status;
	enum storage_refusal refusal; /* with STORAGE_REFUSED */
	enum storage_detail detail;   /* with STORAGE_REFUSED, or NONE */
	const char *what; /* static: the step that failed ("file lookup" …), or NULL */
	const char *kind; /* static: the database error's kind name, for logs */
	char message[300];
};

/* Where a context lives, as the locate callback reports it. */
struct storage_context {
	int64_t quota_mb;    /* 0 = unlimited */
	int64_t quota_bytes; /* the same in bytes */
	char filestore_root[512];
};

/* The user database of cid and its location; NULL with err->status STORAGE_NO_CONTEXT or
   STORAGE_DOWN and a message. Thread-safe; called at most once per storage_user. */
typedef struct sql_db *storage_locate_fn(void *ctx, int64_t cid, struct storage_context *ctx_r,
                                         struct storage_error *err);

struct storage_settings {
	storage_locate_fn *locate;
	void *locate_ctx;
	/* Changes are published here, and the storage drops its caches on its events. NULL: no
	   bus (changes drop this process's cache entries directly). */
	struct inval_bus *inval;
	int64_t max_objects;      /* [limits] max_objects_per_context, 0 = none */
	int64_t tombstone_keep_s; /* [calendar] tombstone_days in seconds, 0 = for ever */
	int64_t body_timeout_s;   /* the longest a request body may pause (upload holds) */
	size_t folder_cache_max;  /* entries; 0 = no folder cache */
	size_t group_cache_max;   /* entries; 0 = no group cache */
	uint64_t cache_ttl_ms;
};

/* One per process (lib-storage's folder module has process-wide settings): makes the caches,
   subscribes to set->inval and routes folder changes to it. */
struct storage *storage_create(const struct storage_settings *set);
/* After every user of it is gone. */
void storage_destroy(struct storage **storage);

/* The invalidation entry point: drops what ev makes stale (context, user, group, folder
   events); storage_create() subscribes both to the bus. Thread-safe. */
void storage_on_event(struct storage *storage, const struct inval_event *ev);
/* Drops every cache entry (the cluster lost track of changes). */
void storage_flush(struct storage *storage);
/* Its caches, for /metrics: up to max into caches_r, returns how many (folder, then group). */
size_t storage_caches(struct storage *storage, struct cache **caches_r, size_t max);

/* Where cid lives (the locate callback): 0, or -1 with err. For work that outlives its
   request (an upload's quota hold). */
int storage_context_find(struct storage *storage, int64_t cid, struct storage_context *ctx_r,
                         struct storage_error *err);

/* One request's view: who asks, the context's database once found. Lives in pool. */
struct storage_user *storage_user_create(struct storage *storage, struct pool *pool, int64_t cid,
                                         int64_t uid);
int64_t storage_user_cid(const struct storage_user *user);
int64_t storage_user_uid(const struct storage_user *user);
/* Where the user's context lives (finding it now if no call did yet): NULL with err set. */
const struct storage_context *storage_user_context(struct storage_user *user,
                                                   struct storage_error *err);

/* The transaction wrapper every operation runs on: finds the context, runs fn in a read or
   write transaction and retries it on a busy database (sql_transaction). fn returns 0 to
   commit, -1 to roll back: with an SQL error in sql_err (BUSY is retried), or with it left
   empty for a refusal of its own (then err->status is STORAGE_REFUSED). 0 or -1 with err. */
typedef int storage_txn_fn(struct sql_conn *conn, void *ctx, struct sql_error *sql_err);
int storage_transaction(struct storage_user *user, bool write, storage_txn_fn *fn, void *ctx,
                        struct storage_error *err);

/* One stored calendar object or contact as the DAV REPORTs filter it: its resource name,
   strong ETag and text, in the user's pool. */
struct storage_obj_text {
	const char *name, *etag, *text;
	size_t len;
};

/* Compares cid's rows with its filestore and with repair mends them
   (infostore_check_consistency()): 0 with *report_r (a new reference), or -1 with err. For
   the master admin: no user, no caches. */
int storage_consistency_check(struct storage *storage, int64_t cid, bool repair, json_t **report_r,
                              struct storage_error *err);

#endif
