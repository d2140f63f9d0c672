/* SPDX-License-Identifier: MIT */
/* Allocator wrapper: the only place that calls malloc; aborts on out-of-memory. */
#ifndef TANDEM_MEM_H
#define TANDEM_MEM_H

#include <stddef.h>

/* All return non-NULL or abort() after logging; callers never check. */
void *mem_alloc(size_t size);
void *mem_calloc(size_t count, size_t size); /* zeroed; aborts on count*size overflow */
void *mem_realloc(void *ptr, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n); /* copies at most n bytes, always NUL-terminates */
/* Frees *ptr (may be NULL) and sets it to NULL. */
void mem_free_ptr(void **ptr);
#define mem_free(pp) mem_free_ptr((void **)(pp))

#endif
