/* SPDX-License-Identifier: MIT */
/* Context stores on disk: temp files, atomic publish, removal, the consistency walk. */
#include "filestore.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mem.h"
#include "random.h"

#define UUID_HEX       32
#define LOCATION_LEN   (7 + 3 * 3 + UUID_HEX) /* "hashed/" "xx/" "yy/" "zz/" uuid */
#define TEMP_SUFFIX    ".part"
#define CREATE_RETRIES 5

struct filestore_temp {
	int fd;
	int error; /* errno of the first failed write, 0 while fine */
	uint64_t size;
	EVP_MD_CTX *md5;
	bool published;
	char ctx_dir[FILESTORE_PATH_SIZE];
	char temp_path[FILESTORE_PATH_SIZE];
	char location[FILESTORE_LOCATION_SIZE];
};

static __thread char error_text[FILESTORE_PATH_SIZE + 128];

static const char *errorf(int err, const char *what, const char *path)
{
	snprintf(error_text, sizeof(error_text), "%s %s: %s", what, path, strerror(err));
	return error_text;
}

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

bool filestore_location_valid(const char *location)
{
	const char *uuid = location + 16;
	if (strnlen(location, LOCATION_LEN + 1) != LOCATION_LEN ||
	    memcmp(location, "hashed/", 7) != 0 || location[9] != '/' || location[12] != '/' ||
	    location[15] != '/' || !is_hex(uuid, UUID_HEX))
		return false;
	/* the directories are the uuid's first six digits */
	return memcmp(location + 7, uuid, 2) == 0 && memcmp(location + 10, uuid + 2, 2) == 0 &&
	       memcmp(location + 13, uuid + 4, 2) == 0;
}

/* A walk entry: a location, or tmp/<name>.part with a plain name. */
static bool relpath_valid(const char *relpath)
{
	if (filestore_location_valid(relpath))
		return true;
	if (strncmp(relpath, "tmp/", 4) != 0)
		return false;
	const char *name = relpath + 4;
	size_t len = strlen(name);
	return len > strlen(TEMP_SUFFIX) && len <= 255 && strchr(name, '/') == NULL &&
	       name[0] != '.' && strcmp(name + len - strlen(TEMP_SUFFIX), TEMP_SUFFIX) == 0;
}

int filestore_context_dir(const char *root, int64_t cid, char *out, size_t size)
{
	if (root == NULL || root[0] != '/' || cid <= 0)
		return -1;
	int n = snprintf(out, size, "%s/%lld_ctx_store", root, (long long)cid);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

int filestore_path(const char *root, int64_t cid, const char *relpath, char *out, size_t size)
{
	char dir[FILESTORE_PATH_SIZE];
	if (!relpath_valid(relpath) || filestore_context_dir(root, cid, dir, sizeof(dir)) < 0)
		return -1;
	int n = snprintf(out, size, "%s/%s", dir, relpath);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int ret = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* mkdir that treats an existing directory as done; *created_r tells which it was. */
static int make_dir(const char *path, bool *created_r)
{
	*created_r = false;
	if (mkdir(path, 0750) == 0) {
		*created_r = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

/* --------------------------------------------------------------- uploads */

/* open(O_EXCL) then flock(): between the two a check may claim and unlink the new file (it
   looks like a crash's leftover); then the lock fails or the file has no links left, and we
   simply try a new name. */
static int open_locked_temp(struct filestore_temp *t, const char **error_r)
{
	char tmpdir[FILESTORE_PATH_SIZE];
	bool created;
	int ret;

	if (snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", t->ctx_dir) >= (int)sizeof(tmpdir)) {
		*error_r = "filestore path too long";
		return -ENAMETOOLONG;
	}
	for (int attempt = 0; attempt < CREATE_RETRIES; attempt++) {
		char name[UUID_HEX + 1];
		random_hex(name, UUID_HEX / 2);
		if (snprintf(t->temp_path, sizeof(t->temp_path), "%s/%s" TEMP_SUFFIX, tmpdir,
		             name) >= (int)sizeof(t->temp_path)) {
			*error_r = "filestore path too long";
			return -ENAMETOOLONG;
		}
		t->fd =
		    open(t->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		/* tmp/ is made by the first upload (and again should someone remove it) */
		if (t->fd < 0 && errno == ENOENT) {
			if ((ret = make_dir(tmpdir, &created)) < 0) {
				*error_r = errorf(-ret, "cannot create", tmpdir);
				return ret;
			}
			continue;
		}
		if (t->fd < 0) {
			ret = -errno;
			if (errno == EEXIST)
				continue;
			*error_r = errorf(errno, "cannot create", t->temp_path);
			return ret;
		}
		struct stat st;
		if (flock(t->fd, LOCK_EX | LOCK_NB) == 0 && fstat(t->fd, &st) == 0 &&
		    st.st_nlink > 0)
			return 0;
		close(t->fd); /* a check holds it and removes it */
		t->fd = -1;
	}
	*error_r = "could not create and lock a temp file";
	return -EAGAIN;
}

int filestore_temp_create(const char *root, int64_t cid, struct filestore_temp **temp_r,
                          const char **error_r)
{
	struct filestore_temp *t = mem_calloc(1, sizeof(*t));
	t->fd = -1;
	if (filestore_context_dir(root, cid, t->ctx_dir, sizeof(t->ctx_dir)) < 0) {
		*error_r = "invalid filestore root";
		mem_free(&t);
		return -EINVAL;
	}
	int ret = open_locked_temp(t, error_r);
	if (ret < 0) {
		mem_free(&t);
		return ret;
	}
	t->md5 = EVP_MD_CTX_new();
	if (t->md5 == NULL || EVP_DigestInit_ex(t->md5, EVP_md5(), NULL) != 1) {
		*error_r = "MD5 is not available (OpenSSL)";
		t->error = ENOSYS;
		filestore_temp_destroy(&t);
		return -ENOSYS;
	}
	*temp_r = t;
	return 0;
}

int filestore_temp_write(struct filestore_temp *t, const void *data, size_t len)
{
	const char *p = data;

	if (t->error != 0)
		return -t->error;
	assert(!t->published);
	if (len > 0 && EVP_DigestUpdate(t->md5, data, len) != 1) {
		t->error = EIO;
		return -t->error;
	}
	while (len > 0) {
		ssize_t n = write(t->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			t->error = errno;
			return -t->error;
		}
		p += n;
		len -= (size_t)n;
		t->size += (uint64_t)n;
	}
	return 0;
}

uint64_t filestore_temp_size(const struct filestore_temp *t)
{
	return t->size;
}

void filestore_temp_md5(struct filestore_temp *t, char md5_r[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(t->md5, digest, &len) != 1 || len != 16) {
		memset(md5_r, '0', 32);
		md5_r[32] = '\0';
		t->error = EIO;
		return;
	}
	for (unsigned i = 0; i < 16; i++) {
		md5_r[2 * i] = hex[digest[i] >> 4];
		md5_r[2 * i + 1] = hex[digest[i] & 0xf];
	}
	md5_r[32] = '\0';
}

/* Creates hashed/xx/yy/zz under the context store; fsyncs the parent of each new directory so
   the path survives a crash together with the file. */
static int make_hashed_dirs(const char *ctx_dir, const char *location, char *dir_r, size_t size,
                            const char **error_r)
{
	/* location prefixes: "hashed", "hashed/xx", "hashed/xx/yy", "hashed/xx/yy/zz" */
	static const size_t levels[] = {6, 9, 12, 15};
	char parent[FILESTORE_PATH_SIZE];

	snprintf(parent, sizeof(parent), "%s", ctx_dir);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		bool created;
		int ret;
		if (snprintf(dir_r, size, "%s/%.*s", ctx_dir, (int)levels[i], location) >=
		    (int)size) {
			*error_r = "filestore path too long";
			return -ENAMETOOLONG;
		}
		if ((ret = make_dir(dir_r, &created)) < 0) {
			*error_r = errorf(-ret, "cannot create", dir_r);
			return ret;
		}
		if (created && (ret = fsync_dir(parent)) < 0) {
			*error_r = errorf(-ret, "cannot sync", parent);
			return ret;
		}
		snprintf(parent, sizeof(parent), "%s", dir_r);
	}
	return 0;
}

/* The versions a thread publishes one after another share their hashed/xx/yy/zz directory,
   BUCKET_FILES of them: a new directory costs a mkdir and an fsync of its parent (two or
   three of each when xx/yy are new too, as they were for almost every version while each
   uuid was random all through), an existing one neither. The rest of the uuid stays random
   (104 bits). docs/internals/filestore.md "Layout". */
#define BUCKET_FILES 256
static __thread char bucket[6];
static __thread unsigned bucket_left;

static void new_uuid(char uuid[UUID_HEX + 1])
{
	random_hex(uuid, UUID_HEX / 2);
	if (bucket_left == 0) {
		memcpy(bucket, uuid, sizeof(bucket));
		bucket_left = BUCKET_FILES;
	}
	bucket_left--;
	memcpy(uuid, bucket, sizeof(bucket));
}

int filestore_temp_publish(struct filestore_temp *t, char location_r[FILESTORE_LOCATION_SIZE],
                           const char **error_r)
{
	char uuid[UUID_HEX + 1], dir[FILESTORE_PATH_SIZE], path[FILESTORE_PATH_SIZE];
	int ret;

	assert(!t->published);
	if (t->error != 0) {
		*error_r = errorf(t->error, "cannot write", t->temp_path);
		return -t->error;
	}
	if (fsync(t->fd) < 0) {
		ret = -errno;
		*error_r = errorf(errno, "cannot sync", t->temp_path);
		return ret;
	}
	new_uuid(uuid);
	snprintf(t->location, sizeof(t->location), "hashed/%.2s/%.2s/%.2s/%s", uuid, uuid + 2,
	         uuid + 4, uuid);
	assert(filestore_location_valid(t->location));
	if (snprintf(path, sizeof(path), "%s/%s", t->ctx_dir, t->location) >= (int)sizeof(path)) {
		*error_r = "filestore path too long";
		return -ENAMETOOLONG;
	}
	/* filestore_remove() drops directories it empties, so one may vanish between our mkdir
	   and rename: then do both again. */
	for (int attempt = 0;; attempt++) {
		if ((ret = make_hashed_dirs(t->ctx_dir, t->location, dir, sizeof(dir), error_r)) <
		    0)
			return ret;
		if (rename(t->temp_path, path) == 0)
			break;
		ret = -errno;
		if (errno != ENOENT || attempt == CREATE_RETRIES) {
			*error_r = errorf(errno, "cannot rename to", path);
			return ret;
		}
	}
	t->published = true;
	if ((ret = fsync_dir(dir)) < 0) {
		*error_r = errorf(-ret, "cannot sync", dir);
		filestore_temp_unpublish(t); /* also forgets the temp name: nothing left */
		return ret;
	}
	snprintf(location_r, FILESTORE_LOCATION_SIZE, "%s", t->location);
	return 0;
}

static void remove_empty_dirs(const char *ctx_dir, const char *location)
{
	static const size_t levels[] = {15, 12, 9};
	char dir[FILESTORE_PATH_SIZE];

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (snprintf(dir, sizeof(dir), "%s/%.*s", ctx_dir, (int)levels[i], location) >=
		        (int)sizeof(dir) ||
		    rmdir(dir) < 0)
			return; /* not empty (or gone): the levels above are not empty either */
	}
}

void filestore_temp_unpublish(struct filestore_temp *t)
{
	if (!t->published)
		return;
	char path[FILESTORE_PATH_SIZE + FILESTORE_LOCATION_SIZE];
	snprintf(path, sizeof(path), "%s/%s", t->ctx_dir, t->location);
	unlink(path);
	remove_empty_dirs(t->ctx_dir, t->location);
	t->published = false;
	t->temp_path[0] = '\0'; /* the temp name went away with the rename */
}

void filestore_temp_destroy(struct filestore_temp **tp)
{
	struct filestore_temp *t = *tp;
	if (t == NULL)
		return;
	/* unlink before close: once the lock is gone a check could not tell who owns the name */
	if (!t->published && t->temp_path[0] != '\0' && t->fd >= 0)
		unlink(t->temp_path);
	if (t->fd >= 0)
		close(t->fd);
	if (t->md5 != NULL)
		EVP_MD_CTX_free(t->md5);
	mem_free(tp);
}

/* --------------------------------------------------------------- stored files */

int filestore_open(const char *root, int64_t cid, const char *location, int *fd_r)
{
	char path[FILESTORE_PATH_SIZE];
	if (!filestore_location_valid(location) ||
	    filestore_path(root, cid, location, path, sizeof(path)) < 0)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*fd_r = fd;
	return 0;
}

int filestore_remove(const char *root, int64_t cid, const char *location)
{
	char dir[FILESTORE_PATH_SIZE], path[FILESTORE_PATH_SIZE];
	if (!filestore_location_valid(location) ||
	    filestore_context_dir(root, cid, dir, sizeof(dir)) < 0 ||
	    filestore_path(root, cid, location, path, sizeof(path)) < 0)
		return -EINVAL;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	remove_empty_dirs(dir, location);
	return 0;
}

/* --------------------------------------------------------------- walk */

struct walk {
	filestore_walk_fn *fn;
	void *ctx;
	const char **error_r;
	char path[FILESTORE_PATH_SIZE]; /* absolute path of the directory being read */
	size_t rel_off;                 /* where the relative part starts in path */
};

static bool is_hex2(const char *name)
{
	return strlen(name) == 2 && is_hex(name, 2);
}

/* Reads the directory at w->path; depth 0 is the context store, 1 hashed/ or tmp/, 2-4 the
   xx/yy/zz levels. Returns 0, 1 when fn stopped, -errno. */
static int walk_dir(struct walk *w, int depth, bool in_tmp)
{
	DIR *d = opendir(w->path);
	if (d == NULL) {
		int ret = -errno;
		if (errno == ENOENT && depth == 0)
			return 0;
		*w->error_r = errorf(errno, "cannot read", w->path);
		return ret;
	}
	size_t len = strlen(w->path);
	int ret = 0;
	struct dirent *e;
	errno = 0;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (snprintf(w->path + len, sizeof(w->path) - len, "/%s", name) >=
		    (int)(sizeof(w->path) - len)) {
			*w->error_r = "filestore path too long";
			ret = -ENAMETOOLONG;
			break;
		}
		struct stat st;
		if (lstat(w->path, &st) < 0) {
			if (errno != ENOENT) {
				ret = -errno;
				*w->error_r = errorf(errno, "cannot stat", w->path);
			}
			w->path[len] = '\0';
			continue;
		}
		const char *rel = w->path + w->rel_off;
		bool dir = S_ISDIR(st.st_mode);
		enum filestore_entry kind = FILESTORE_ENTRY_OTHER;
		bool descend = false;
		if (depth == 0) {
			descend = dir && (strcmp(name, "hashed") == 0 || strcmp(name, "tmp") == 0);
			in_tmp = strcmp(name, "tmp") == 0;
		} else if (in_tmp) {
			if (S_ISREG(st.st_mode) && relpath_valid(rel))
				kind = FILESTORE_ENTRY_TEMP;
		} else if (depth < 4) {
			descend = dir && is_hex2(name);
		} else if (S_ISREG(st.st_mode) && filestore_location_valid(rel)) {
			kind = FILESTORE_ENTRY_FILE;
		}
		if (descend) {
			ret = walk_dir(w, depth + 1, in_tmp);
		} else if (w->fn(w->ctx, kind, rel, &st) < 0) {
			ret = 1;
		}
		w->path[len] = '\0';
		errno = 0;
	}
	if (ret == 0 && errno != 0) {
		ret = -errno;
		*w->error_r = errorf(errno, "cannot read", w->path);
	}
	closedir(d);
	return ret;
}

int filestore_walk(const char *root, int64_t cid, filestore_walk_fn *fn, void *ctx,
                   const char **error_r)
{
	struct walk *w = mem_calloc(1, sizeof(*w));
	w->fn = fn;
	w->ctx = ctx;
	w->error_r = error_r;
	if (filestore_context_dir(root, cid, w->path, sizeof(w->path)) < 0) {
		*error_r = "invalid filestore root";
		mem_free(&w);
		return -EINVAL;
	}
	w->rel_off = strlen(w->path) + 1;
	int ret = walk_dir(w, 0, false);
	mem_free(&w);
	return ret;
}

int filestore_claim(const char *root, int64_t cid, const char *relpath, int *fd_r)
{
	char path[FILESTORE_PATH_SIZE];
	*fd_r = -1;
	if (filestore_path(root, cid, relpath, path, sizeof(path)) < 0)
		return -EINVAL;
	/* O_RDWR: on NFS flock() becomes a POSIX write lock, which needs a writable fd */
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? FILESTORE_GONE : -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int ret = errno == EWOULDBLOCK ? FILESTORE_BUSY : -errno;
		close(fd);
		return ret;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
		close(fd);
		return FILESTORE_GONE;
	}
	*fd_r = fd;
	return FILESTORE_CLAIMED;
}

int filestore_claim_remove(const char *root, int64_t cid, const char *relpath, int *fd)
{
	char dir[FILESTORE_PATH_SIZE], path[FILESTORE_PATH_SIZE];
	int ret = 0;
	if (filestore_path(root, cid, relpath, path, sizeof(path)) < 0 ||
	    filestore_context_dir(root, cid, dir, sizeof(dir)) < 0)
		ret = -EINVAL;
	else if (unlink(path) < 0 && errno != ENOENT)
		ret = -errno;
	else if (filestore_location_valid(relpath))
		remove_empty_dirs(dir, relpath);
	filestore_release(fd);
	return ret;
}

void filestore_release(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
