/* SPDX-License-Identifier: MIT */
/* systemd's service notification protocol (sd_notify(3)) without libsystemd. */
#include "sd-notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

int sd_notify_send(const char *state, const char **error_r)
{
	static __thread char msg[256];
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	size_t len;
	int fd, ret = -1;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (path[0] != '/' && path[0] != '@') {
		snprintf(msg, sizeof(msg), "NOTIFY_SOCKET=%.100s: not a path or an @abstract name",
		         path);
		*error_r = msg;
		return -1;
	}
	/* a path needs room for its NUL, an abstract name does not */
	size_t max = sizeof(addr.sun_path) - (path[0] == '/' ? 1 : 0);
	if (len > max) {
		snprintf(msg, sizeof(msg), "NOTIFY_SOCKET=%.100s...: longer than %zu bytes", path,
		         max);
		*error_r = msg;
		return -1;
	}
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract: the length below, not a NUL, ends the name */
	socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "NOTIFY_SOCKET: socket(): %s", strerror(errno));
		*error_r = msg;
		return -1;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) <
	    0) {
		snprintf(msg, sizeof(msg), "NOTIFY_SOCKET=%.100s: %s", path, strerror(errno));
		*error_r = msg;
		goto out;
	}
	ret = 1;
out:
	close(fd);
	return ret;
}

static void send_logged(const char *state)
{
	const char *error;
	if (sd_notify_send(state, &error) < 0)
		log_warn("main", "telling systemd %s: %s", state, error);
}

static void send_with_status(const char *state, const char *status)
{
	char text[256];
	if (status == NULL) {
		send_logged(state);
		return;
	}
	snprintf(text, sizeof(text), "%s\nSTATUS=%s", state, status);
	send_logged(text);
}

void sd_notify_ready(const char *status)
{
	send_with_status("READY=1", status);
}

void sd_notify_stopping(const char *status)
{
	send_with_status("STOPPING=1", status);
}

void sd_notify_reloading(void)
{
	char text[64];
	snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)clock_mono_us());
	send_logged(text);
}
