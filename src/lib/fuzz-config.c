/* SPDX-License-Identifier: MIT */
/* libFuzzer target for config_load: arbitrary bytes as an INI file against a small schema. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct config_key schema[] = {
    {"server", "listen", CONFIG_ADDRESS, "0.0.0.0:8080", false},
    {"server", "workers", CONFIG_UINT, "4", false},
    {"server", "timeout", CONFIG_DURATION, "30s", false},
    {"server", "max_body", CONFIG_SIZE, "1M", false},
    {"server", "tls", CONFIG_BOOL, "no", false},
    {"server", "alias", CONFIG_STRING, NULL, true},
    {"member *", "host", CONFIG_ADDRESS, NULL, false},
    {"member *", "weight", CONFIG_UINT, "1", false},
    {NULL, NULL, CONFIG_STRING, NULL, false},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *config = NULL;
	const char *error = NULL;
	const char *const *names;
	char path[64];
	size_t count, off = 0;
	/* An anonymous memory file avoids touching the disk on every run. */
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, schema, &config, &error) < 0) {
		/* every message must carry the file name */
		if (strncmp(error, path, strlen(path)) != 0)
			__builtin_trap();
		goto out;
	}
	(void)config_get_uint(config, "server", "workers");
	(void)config_get_duration_ms(config, "server", "timeout");
	(void)config_get_size(config, "server", "max_body");
	(void)config_get_bool(config, "server", "tls");
	(void)config_get_all(config, "server", "alias", &count);
	names = config_sections(config, "member", &count);
	for (size_t i = 0; i < count; i++) {
		(void)config_get_str(config, names[i], "host");
		(void)config_get_uint(config, names[i], "weight");
	}
	config_free(&config);
out:
	close(fd);
	return 0;
}
