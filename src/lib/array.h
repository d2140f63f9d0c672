/* SPDX-License-Identifier: MIT */
/* Growable array of fixed-size elements. */
#ifndef TANDEM_ARRAY_H
#define TANDEM_ARRAY_H

#include <stddef.h>

struct array {
	void *data;
	size_t count;
	size_t cap;
	size_t elem_size;
};

#define ARRAY_INIT(type) ((struct array){NULL, 0, 0, sizeof(type)})
/* Typed element access; asserts i < count. */
#define ARRAY_IDX(a, type, i) ((type *)array_idx((a), (i)))

void array_init(struct array *a, size_t elem_size);
void array_free(struct array *a);
/* Appends one zeroed element and returns it; pointers into the array are invalidated. */
void *array_push(struct array *a);
void *array_idx(const struct array *a, size_t i);
/* Removes element i keeping order. */
void array_delete(struct array *a, size_t i);
void array_clear(struct array *a);

#endif
