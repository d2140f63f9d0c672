/* SPDX-License-Identifier: MIT */
/* Allocator wrapper: the single place that talks to the C heap, so OOM handling lives here. */
#include "mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A server cannot do anything useful after malloc fails, and checking at every call site
   would hide real logic; so say why on stderr (without allocating) and abort. */
static void __attribute__((noreturn)) oom(const char *what, size_t size)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "tandem: out of memory (%s of %zu bytes)\n", what, size);

	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* nothing left to try */
	}
	abort();
}

void *mem_alloc(size_t size)
{
	/* malloc(0) may legally return NULL, which would look like OOM. */
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		oom("malloc", size);
	return p;
}

void *mem_calloc(size_t count, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(count, size, &total))
		oom("calloc overflow", SIZE_MAX);
	p = calloc(total == 0 ? 1 : total, 1);
	if (p == NULL)
		oom("calloc", total);
	return p;
}

void *mem_realloc(void *ptr, size_t size)
{
	/* realloc(p, 0) frees p on glibc; keep the "never NULL" contract instead. */
	void *p = realloc(ptr, size == 0 ? 1 : size);

	if (p == NULL)
		oom("realloc", size);
	return p;
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

char *mem_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = mem_alloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void mem_free_ptr(void **ptr)
{
	free(*ptr);
	*ptr = NULL;
}
