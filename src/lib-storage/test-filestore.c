/* SPDX-License-Identifier: MIT */
/* Unit tests for filestore.c: locations, temp files and publish, removal, claims, the walk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filestore.h"
#include "random.h"
#include "test.h"

static char root[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void make_root(void)
{
	if (root[0] != '\0')
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(root, sizeof(root), "/tmp/test-filestore-XXXXXX");
	test_assert(mkdtemp(root) != NULL);
}

static void store_path(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/7_ctx_store/%s", root, rel);
}

static size_t count_entries(const char *rel)
{
	char path[1024];
	store_path(path, sizeof(path), rel);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void write_file(const char *rel, const char *text)
{
	char path[1024];
	store_path(path, sizeof(path), rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	test_assert(fd >= 0);
	if (fd >= 0) {
		test_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
		close(fd);
	}
}

static void test_locations(void)
{
	static const char *const good[] = {
	    "hashed/00/11/22/001122aabbccddeeff00112233445566",
	    "hashed/ab/cd/ef/abcdef0123456789abcdef0123456789",
	};
	static const char *const bad[] = {
	    "",
	    "hashed/ab/cd/ef/abcdef0123456789abcdef012345678",   /* short */
	    "hashed/ab/cd/ef/abcdef0123456789abcdef01234567890", /* long */
	    "hashed/ab/cd/ee/abcdef0123456789abcdef0123456789",  /* dirs do not match */
	    "hashed/AB/CD/EF/ABCDEF0123456789ABCDEF0123456789",  /* upper case */
	    "hashed/ab/cd/ef/../../../../../../../../etc/pass",
	    "/hashed/ab/cd/ef/abcdef0123456789abcdef012345678",
	    "hashed/ab/cd/ef/abcdef0123456789abcdef01234567/9",
	    "tmp/abc.part",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		test_assert(filestore_location_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert(!filestore_location_valid(bad[i]));
	}
	test_set_context(NULL);

	char out[1024];
	test_assert(filestore_context_dir("/srv/fs", 12, out, sizeof(out)) == 0);
	test_assert_str_eq(out, "/srv/fs/12_ctx_store");
	test_assert(filestore_context_dir("relative", 12, out, sizeof(out)) < 0);
	test_assert(filestore_context_dir("/srv/fs", 0, out, sizeof(out)) < 0);
	test_assert(filestore_context_dir("/srv/fs", 12, out, 10) < 0);
	test_assert(filestore_path("/srv/fs", 3, good[0], out, sizeof(out)) == 0);
	test_assert_str_eq(out,
	                   "/srv/fs/3_ctx_store/hashed/00/11/22/001122aabbccddeeff00112233445566");
	test_assert(filestore_path("/srv/fs", 3, "tmp/x.part", out, sizeof(out)) == 0);
	test_assert(filestore_path("/srv/fs", 3, "tmp/../x.part", out, sizeof(out)) < 0);
	test_assert(filestore_path("/srv/fs", 3, "tmp/.part", out, sizeof(out)) < 0);
	test_assert(filestore_path("/srv/fs", 3, "../../etc/passwd", out, sizeof(out)) < 0);
	test_assert(filestore_path("/srv/fs", 3, "", out, sizeof(out)) < 0);
}

static void test_publish(void)
{
	struct filestore_temp *t;
	const char *error = NULL;
	char md5[33], loc[FILESTORE_LOCATION_SIZE], path[1024];
	static const char text[] = "hello";

	make_root();
	/* the context store exists once a context is created; the store creates what is below */
	store_path(path, sizeof(path), "");
	test_assert(mkdir(path, 0750) == 0);
	test_assert(filestore_temp_create(root, 7, &t, &error) == 0);
	test_assert_int_eq(count_entries("tmp"), 1);
	/* random splits of the body give the same digest */
	for (size_t i = 0; i < sizeof(text) - 1;) {
		size_t n = 1 + test_rand() % 3;
		if (n > sizeof(text) - 1 - i)
			n = sizeof(text) - 1 - i;
		test_assert(filestore_temp_write(t, text + i, n) == 0);
		i += n;
	}
	test_assert(filestore_temp_write(t, "", 0) == 0);
	test_assert_int_eq(filestore_temp_size(t), 5);
	filestore_temp_md5(t, md5);
	test_assert_str_eq(md5, "5d41402abc4b2a76b9719d911017c592");
	test_assert(filestore_temp_publish(t, loc, &error) == 0);
	test_assert(filestore_location_valid(loc));
	test_assert_int_eq(count_entries("tmp"), 0);

	/* while the upload lives (committing), its published file is busy for a check */
	int fd;
	test_assert_int_eq(filestore_claim(root, 7, loc, &fd), FILESTORE_BUSY);
	filestore_temp_destroy(&t);
	test_assert(t == NULL);
	test_assert(filestore_open(root, 7, loc, &fd) == 0);
	char buf[16] = {0};
	test_assert(read(fd, buf, sizeof(buf)) == 5);
	test_assert_str_eq(buf, "hello");
	close(fd);
	test_assert(filestore_open(root, 7, "tmp/x.part", &fd) == -EINVAL);

	test_assert(filestore_remove(root, 7, loc) == 0);
	test_assert_int_eq(count_entries("hashed"), 0); /* empty levels went too */
	test_assert(filestore_remove(root, 7, loc) == 0);
	test_assert(filestore_open(root, 7, loc, &fd) == -ENOENT);
	test_assert(filestore_remove(root, 7, "hashed/../../x") == -EINVAL);
}

static void test_abandon(void)
{
	struct filestore_temp *t;
	const char *error = NULL;
	char md5[33], loc[FILESTORE_LOCATION_SIZE], path[1024];

	make_root();
	store_path(path, sizeof(path), "");
	test_assert(mkdir(path, 0750) == 0);

	/* destroyed before publish: the temp file goes */
	test_assert(filestore_temp_create(root, 7, &t, &error) == 0);
	test_assert(filestore_temp_write(t, "abc", 3) == 0);
	filestore_temp_destroy(&t);
	test_assert_int_eq(count_entries("tmp"), 0);
	filestore_temp_destroy(&t); /* NULL is fine */

	/* unpublish after a failed commit: nothing left anywhere */
	test_assert(filestore_temp_create(root, 7, &t, &error) == 0);
	test_assert(filestore_temp_write(t, "abc", 3) == 0);
	filestore_temp_md5(t, md5);
	test_assert_str_eq(md5, "900150983cd24fb0d6963f7d28e17f72");
	test_assert(filestore_temp_publish(t, loc, &error) == 0);
	filestore_temp_unpublish(t);
	filestore_temp_destroy(&t);
	test_assert_int_eq(count_entries("tmp"), 0);
	test_assert_int_eq(count_entries("hashed"), 0);

	/* no context store: creating a temp fails cleanly */
	test_assert(filestore_temp_create(root, 8, &t, &error) == -ENOENT);
	test_assert(error != NULL && strstr(error, "8_ctx_store") != NULL);
	test_assert(filestore_temp_create("not/absolute", 7, &t, &error) == -EINVAL);
}

/* A process that dies holding an upload leaves a temp file nobody locks. */
static void test_crash_leftover(void)
{
	char path[1024];
	make_root();
	store_path(path, sizeof(path), "");
	test_assert(mkdir(path, 0750) == 0);

	pid_t pid = fork();
	if (pid == 0) {
		struct filestore_temp *t;
		const char *error;
		if (filestore_temp_create(root, 7, &t, &error) < 0 ||
		    filestore_temp_write(t, "partial", 7) < 0)
			_exit(1);
		_exit(0); /* no destroy: like kill -9 */
	}
	int status;
	test_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	            WEXITSTATUS(status) == 0);
	test_assert_int_eq(count_entries("tmp"), 1);

	/* a live upload next to it */
	struct filestore_temp *live;
	const char *error;
	test_assert(filestore_temp_create(root, 7, &live, &error) == 0);

	DIR *d;
	store_path(path, sizeof(path), "tmp");
	d = opendir(path);
	test_assert(d != NULL);
	struct dirent *e;
	size_t claimed = 0, busy = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char rel[300];
		snprintf(rel, sizeof(rel), "tmp/%s", e->d_name);
		int fd;
		int r = filestore_claim(root, 7, rel, &fd);
		if (r == FILESTORE_CLAIMED) {
			claimed++;
			test_assert(filestore_claim_remove(root, 7, rel, &fd) == 0);
			test_assert_int_eq(fd, -1);
		} else if (r == FILESTORE_BUSY) {
			busy++;
		}
	}
	if (d != NULL)
		closedir(d);
	test_assert_int_eq(claimed, 1);
	test_assert_int_eq(busy, 1);
	test_assert_int_eq(count_entries("tmp"), 1);
	test_assert(filestore_temp_write(live, "x", 1) == 0);
	filestore_temp_destroy(&live);
	test_assert_int_eq(count_entries("tmp"), 0);

	int fd;
	test_assert_int_eq(filestore_claim(root, 7, "tmp/gone.part", &fd), FILESTORE_GONE);
}

struct seen {
	unsigned files, temps, others;
	char other[8][128];
};

static int on_entry(void *ctx, enum filestore_entry kind, const char *relpath,
                    const struct stat *st)
{
	struct seen *s = ctx;
	if (kind == FILESTORE_ENTRY_FILE)
		s->files++;
	else if (kind == FILESTORE_ENTRY_TEMP)
		s->temps++;
	else if (s->others < 8)
		snprintf(s->other[s->others++], sizeof(s->other[0]), "%s", relpath);
	return 0;
}

static bool seen_other(const struct seen *s, const char *rel)
{
	for (unsigned i = 0; i < s->others; i++) {
		if (strcmp(s->other[i], rel) == 0)
			return true;
	}
	return false;
}

static void test_walk(void)
{
	struct seen s = {0};
	const char *error = NULL;
	char path[1024], target[1024];

	make_root();
	/* a missing store is empty */
	test_assert(filestore_walk(root, 7, on_entry, &s, &error) == 0);
	test_assert_int_eq(s.files + s.temps + s.others, 0);

	store_path(path, sizeof(path), "");
	test_assert(mkdir(path, 0750) == 0);
	for (int i = 0; i < 3; i++) {
		struct filestore_temp *t;
		char loc[FILESTORE_LOCATION_SIZE];
		test_assert(filestore_temp_create(root, 7, &t, &error) == 0);
		test_assert(filestore_temp_publish(t, loc, &error) == 0);
		filestore_temp_destroy(&t);
	}
	store_path(path, sizeof(path), "tmp");
	write_file("tmp/left.part", "x");
	write_file("tmp/notes.txt", "x");
	write_file("stray", "x");
	store_path(path, sizeof(path), "hashed/zz");
	test_assert(mkdir(path, 0750) == 0);
	write_file("hashed/zz/file", "x");
	store_path(path, sizeof(path), "hashed/aa");
	test_assert(mkdir(path, 0750) == 0);
	write_file("hashed/aa/file", "x");
	store_path(path, sizeof(path), "link");
	snprintf(target, sizeof(target), "%s", "/etc");
	test_assert(symlink(target, path) == 0);

	test_assert(filestore_walk(root, 7, on_entry, &s, &error) == 0);
	test_assert_int_eq(s.files, 3);
	test_assert_int_eq(s.temps, 1);
	test_assert_int_eq(s.others, 5);
	test_assert(seen_other(&s, "tmp/notes.txt"));
	test_assert(seen_other(&s, "stray"));
	test_assert(seen_other(&s, "hashed/zz")); /* not hex: not descended */
	test_assert(seen_other(&s, "hashed/aa/file"));
	test_assert(seen_other(&s, "link"));
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"locations", test_locations}, {"publish", test_publish},
	    {"abandon", test_abandon},     {"crash_leftover", test_crash_leftover},
	    {"walk", test_walk},           {NULL, NULL},
	};
	random_init();
	int ret = test_run(cases);
	if (root[0] != '\0')
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
