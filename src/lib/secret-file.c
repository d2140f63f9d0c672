/* SPDX-License-Identifier: MIT */
/* Finding and reading secret files (secret-file.h). */
#include "secret-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int secret_file_path(const char *config_path, const char *file, char *path, size_t size)
{
	const char *slash = config_path != NULL ? strrchr(config_path, '/') : NULL;
	int n =
	    file[0] == '/' || slash == NULL
	        ? snprintf(path, size, "%s", file)
	        : snprintf(path, size, "%.*s/%s", (int)(slash - config_path), config_path, file);
	return file[0] == '\0' || n < 0 || (size_t)n >= size ? -1 : 0;
}

ssize_t secret_file_read(const char *path, char *out, size_t size, const char **error_r)
{
	static __thread char msg[128];
	struct stat st;
	size_t len = 0;
	ssize_t ret = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*error_r = "not a regular file";
		goto out;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH | S_IXOTH)) != 0) {
		snprintf(msg, sizeof(msg),
		         "other users may read or write it (mode %04o); chmod o-rwx it",
		         (unsigned)(st.st_mode & 07777));
		*error_r = msg;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			char extra;
			if (read(fd, &extra, 1) != 0) {
				snprintf(msg, sizeof(msg), "larger than %zu bytes", size - 1);
				*error_r = msg;
				goto out;
			}
			break;
		}
	}
	out[len] = '\0';
	ret = (ssize_t)len;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
