/* SPDX-License-Identifier: MIT */
/* Unit tests for the systemd notification sender, against a datagram socket of the test's own
   (a path and an abstract name), as systemd listens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd-notify.h"
#include "test.h"

/* Binds a datagram socket at name ("@x" = abstract) and points NOTIFY_SOCKET at it. */
static int listen_at(const char *name)
{
	struct sockaddr_un addr;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	size_t len = strlen(name);
	memcpy(addr.sun_path, name, len);
	if (name[0] == '@')
		addr.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	test_assert(fd >= 0);
	if (name[0] == '/')
		unlink(name);
	test_assert(bind(fd, (struct sockaddr *)&addr,
	                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == 0);
	test_assert(setenv("NOTIFY_SOCKET", name, 1) == 0);
	return fd;
}

/* The next datagram on fd, NUL-terminated, waiting at most a second. */
static const char *receive(int fd)
{
	static char buf[512];
	struct timeval tv = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return "(nothing)";
	buf[n] = '\0';
	return buf;
}

static void test_unset(void)
{
	const char *error = NULL;
	unsetenv("NOTIFY_SOCKET");
	test_assert_int_eq(sd_notify_send("READY=1", &error), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	test_assert_int_eq(sd_notify_send("READY=1", &error), 0);
	test_assert(error == NULL);
	sd_notify_ready(NULL); /* nothing to do, nothing logged */
}

static void test_path(void)
{
	char path[64];
	const char *error;
	snprintf(path, sizeof(path), "/tmp/test-sd-notify.%d", (int)getpid());
	int fd = listen_at(path);
	test_assert_int_eq(sd_notify_send("READY=1", &error), 1);
	test_assert_str_eq(receive(fd), "READY=1");
	sd_notify_ready("serving");
	test_assert_str_eq(receive(fd), "READY=1\nSTATUS=serving");
	sd_notify_stopping(NULL);
	test_assert_str_eq(receive(fd), "STOPPING=1");
	sd_notify_reloading();
	const char *got = receive(fd);
	test_assert(strncmp(got, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	test_assert(strtoull(got + 27, NULL, 10) > 0);
	close(fd);
	unlink(path);

	/* nobody listening any more: an error naming the socket */
	test_assert_int_eq(sd_notify_send("READY=1", &error), -1);
	test_assert(strstr(error, path) != NULL);
	sd_notify_ready(NULL); /* logged, not fatal */
}

static void test_abstract(void)
{
	char name[64];
	const char *error;
	snprintf(name, sizeof(name), "@test-sd-notify/%d", (int)getpid());
	int fd = listen_at(name);
	test_assert_int_eq(sd_notify_send("STOPPING=1\nSTATUS=draining", &error), 1);
	test_assert_str_eq(receive(fd), "STOPPING=1\nSTATUS=draining");
	close(fd);
}

static void test_bad_addresses(void)
{
	char longpath[200];
	const char *error;
	setenv("NOTIFY_SOCKET", "relative/socket", 1);
	test_assert_int_eq(sd_notify_send("READY=1", &error), -1);
	test_assert(strstr(error, "not a path") != NULL);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	test_assert_int_eq(sd_notify_send("READY=1", &error), -1);
	test_assert(strstr(error, "longer than 107 bytes") != NULL);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"NOTIFY_SOCKET unset: nothing sent", test_unset},
	    {"a socket path: READY, STATUS, STOPPING, RELOADING", test_path},
	    {"an abstract socket", test_abstract},
	    {"bad NOTIFY_SOCKET values are errors", test_bad_addresses},
	    {NULL, NULL},
	};

	return test_run(cases);
}
