/* SPDX-License-Identifier: MIT */
/* Unit tests for secret files: where a name points, and which files are refused. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret-file.h"
#include "test.h"

static char dir[] = "/tmp/test-secret-file-XXXXXX";

/* dir/name holding text with the given mode; its path into path. */
static void make(const char *name, const char *text, mode_t mode, char path[256])
{
	snprintf(path, 256, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	test_assert(fd >= 0);
	test_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	test_assert(chmod(path, mode) == 0);
}

static void test_path(void)
{
	char path[32];
	test_assert_int_eq(secret_file_path("/etc/tandem/tandemd.conf", "k", path, sizeof(path)),
	                   0);
	test_assert_str_eq(path, "/etc/tandem/k");
	test_assert_int_eq(
	    secret_file_path("/etc/tandem/tandemd.conf", "/abs/k", path, sizeof(path)), 0);
	test_assert_str_eq(path, "/abs/k");
	test_assert_int_eq(secret_file_path("tandemd.conf", "k", path, sizeof(path)), 0);
	test_assert_str_eq(path, "k");
	test_assert_int_eq(secret_file_path(NULL, "k", path, sizeof(path)), 0);
	test_assert_str_eq(path, "k");
	test_assert_int_eq(secret_file_path("/etc/x.conf", "", path, sizeof(path)), -1);
	test_assert_int_eq(secret_file_path("/etc/x.conf", "a-name-that-does-not-fit-in-32-bytes",
	                                    path, sizeof(path)),
	                   -1);
}

static void test_read(void)
{
	char path[256], out[8];
	const char *error;
	make("good", "secret\n", 0600, path);
	test_assert_int_eq(secret_file_read(path, out, sizeof(out), &error), 7);
	test_assert_str_eq(out, "secret\n");
	make("full", "1234567", 0640, path); /* exactly what fits */
	test_assert_int_eq(secret_file_read(path, out, sizeof(out), &error), 7);
	make("big", "12345678", 0600, path);
	test_assert_int_eq(secret_file_read(path, out, sizeof(out), &error), -1);
	test_assert_str_eq(error, "larger than 7 bytes");
	make("loose", "x", 0644, path);
	test_assert_int_eq(secret_file_read(path, out, sizeof(out), &error), -1);
	test_assert_str_eq(error, "other users may read or write it (mode 0644); chmod o-rwx it");
	make("runnable", "x", 0601, path);
	test_assert_int_eq(secret_file_read(path, out, sizeof(out), &error), -1);
	test_assert_int_eq(secret_file_read(dir, out, sizeof(out), &error), -1);
	test_assert_str_eq(error, "not a regular file");
	snprintf(path, sizeof(path), "%s/missing", dir);
	test_assert_int_eq(secret_file_read(path, out, sizeof(out), &error), -1);
	test_assert_str_eq(error, "No such file or directory");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"path", test_path},
	    {"read", test_read},
	    {NULL, NULL},
	};
	if (mkdtemp(dir) == NULL)
		return 1;
	int rc = test_run(cases);
	const char *names[] = {"good", "full", "big", "loose", "runnable"};
	char path[256];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
