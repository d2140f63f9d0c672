/* SPDX-License-Identifier: MIT */
/* A context's file store on disk: uploads written under tmp/ and published atomically as
   hashed/xx/yy/zz/<uuid>, opening and removing stored files, and a walk for consistency checks. */
#ifndef TANDEM_FILESTORE_H
#define TANDEM_FILESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* A context store is <root>/<cid>_ctx_store/ (docs/internals/filestore.md). A stored file's
   location is its path relative to the context store, "hashed/xx/yy/zz/<uuid>": the uuid is 32
   lowercase hex digits (128 random bits) and xx/yy/zz are its first six digits. Locations come back
   from the database, so every function turning one into a path checks its exact shape first; user
   input (file names) never becomes part of a path. */
#define FILESTORE_LOCATION_SIZE 64 /* a location and its NUL fit */
#define FILESTORE_PATH_SIZE     1024

/* True if location has exactly the shape above. */
bool filestore_location_valid(const char *location);
/* "<root>/<cid>_ctx_store" into out; -1 if root is not absolute, cid <= 0 or out is too small. */
int filestore_context_dir(const char *root, int64_t cid, char *out, size_t size);
/* The absolute path of a location or of a walk entry (relpath from filestore_walk); -1 for an
   invalid location or relpath ("..", absolute, empty) or when out is too small. */
int filestore_path(const char *root, int64_t cid, const char *relpath, char *out, size_t size);

/* --- uploads --- */

struct filestore_temp;

/* Creates tmp/<32 hex>.part in the context store (creating tmp/ if needed), opened for writing
   and holding an exclusive flock() for as long as the object lives: a consistency check tells
   a live upload from a crashed process's leftover by trying that lock. Never waits. Returns 0,
   or -errno with a message in *error_r (static or thread-local, valid until the next call). */
int filestore_temp_create(const char *root, int64_t cid, struct filestore_temp **temp_r,
                          const char **error_r);
/* Appends len bytes and feeds them to the MD5. Returns 0 or -errno; after a failure the temp
   stays failed and later writes fail with the same error. */
int filestore_temp_write(struct filestore_temp *temp, const void *data, size_t len);
uint64_t filestore_temp_size(const struct filestore_temp *temp);
/* The MD5 of everything written, 32 lowercase hex digits and a NUL; finishes the digest, so
   call it once after the last write. */
void filestore_temp_md5(struct filestore_temp *temp, char md5_r[33]);
/* Makes the upload durable and visible under a new location: fsync(file), create the hashed
   directories as needed, rename(), fsync(directory). The lock stays held (it follows the
   inode), so a concurrent check does not take the not-yet-committed file for an orphan.
   Returns 0 with *location_r, or -errno with *error_r; then nothing is published (what is
   left, filestore_temp_destroy removes). */
int filestore_temp_publish(struct filestore_temp *temp, char location_r[FILESTORE_LOCATION_SIZE],
                           const char **error_r);
/* Takes back a publish whose database transaction failed: unlinks the published file. */
void filestore_temp_unpublish(struct filestore_temp *temp);
/* Closes the file (releasing the lock) and unlinks it unless it was published (and not taken
   back). Sets *temp to NULL; NULL is a no-op. */
void filestore_temp_destroy(struct filestore_temp **temp);

/* --- stored files --- */

/* Opens a stored file read-only (no symlinks followed). Returns 0 with *fd_r, or -errno. */
int filestore_open(const char *root, int64_t cid, const char *location, int *fd_r);
/* Unlinks a stored file, then the hashed directories it leaves empty. A missing file counts as
   removed. Returns 0 or -errno. */
int filestore_remove(const char *root, int64_t cid, const char *location);

/* --- consistency checks --- */

enum filestore_entry {
	FILESTORE_ENTRY_FILE,  /* hashed/xx/yy/zz/<uuid>: relpath is a valid location */
	FILESTORE_ENTRY_TEMP,  /* tmp/<name>.part */
	FILESTORE_ENTRY_OTHER, /* anything else; the walk does not descend into it */
};

/* Returns 0 to go on, -1 to stop the walk. relpath is relative to the context store. */
typedef int filestore_walk_fn(void *ctx, enum filestore_entry kind, const char *relpath,
                              const struct stat *st);
/* Visits every entry of the context store that is not one of its own directories (hashed/,
   the xx/yy/zz levels, tmp/), without following symlinks. A missing store is empty. Returns 0,
   1 when fn stopped the walk, or -errno with *error_r. */
int filestore_walk(const char *root, int64_t cid, filestore_walk_fn *fn, void *ctx,
                   const char **error_r);

enum filestore_claim {
	FILESTORE_CLAIMED, /* *fd_r holds the lock: no upload owns the file */
	FILESTORE_BUSY,    /* an upload holds it (still writing, or committing) */
	FILESTORE_GONE,    /* it vanished meanwhile */
};

/* Tries the upload lock of a FILE or TEMP entry without waiting. CLAIMED hands over an fd that
   keeps the lock until filestore_release(); a negative value is -errno. */
int filestore_claim(const char *root, int64_t cid, const char *relpath, int *fd_r);
/* Unlinks a claimed entry while still holding its lock (for FILE entries also the directories
   left empty), then releases it. Returns 0 or -errno. */
int filestore_claim_remove(const char *root, int64_t cid, const char *relpath, int *fd);
/* Releases a claim without removing anything; sets *fd to -1. */
void filestore_release(int *fd);

#endif
