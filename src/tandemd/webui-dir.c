/* SPDX-License-Identifier: MIT */
/* The web UI's directory: where it is, opened once; api-webui.c serves from it. */
#include "webui-dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

const char *webui_dir_default(void)
{
	static char found[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	static const char *const candidates[] = {"/../share/tandem/webui", "/../../web"};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		char index[PATH_MAX + 32];
		snprintf(found, sizeof(found), "%s%s", exe, candidates[i]);
		snprintf(index, sizeof(index), "%s/index.html", found);
		if (access(index, R_OK) == 0)
			return found;
	}
	return NULL;
}

int webui_dir_open(const char *dir, struct webui_dir **ui_r, const char **error_r)
{
	static __thread char msg[PATH_MAX + 128];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", dir, strerror(errno));
		*error_r = msg;
		return -1;
	}
	if (faccessat(fd, "index.html", R_OK, 0) < 0) {
		snprintf(msg, sizeof(msg), "%s holds no readable index.html: %s", dir,
		         strerror(errno));
		*error_r = msg;
		close(fd);
		return -1;
	}
	struct webui_dir *ui = mem_calloc(1, sizeof(*ui));
	ui->dir_fd = fd;
	ui->assets_fd = openat(fd, "assets", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*ui_r = ui;
	return 0;
}

void webui_dir_close(struct webui_dir **ui)
{
	if (*ui == NULL)
		return;
	close((*ui)->dir_fd);
	if ((*ui)->assets_fd >= 0)
		close((*ui)->assets_fd);
	mem_free(ui);
}
