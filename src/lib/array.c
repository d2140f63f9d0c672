/* SPDX-License-Identifier: MIT */
/* Growable array of fixed-size elements. */
#include "array.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "mem.h"

void array_init(struct array *a, size_t elem_size)
{
	assert(elem_size > 0);
	*a = (struct array){NULL, 0, 0, elem_size};
}

void array_free(struct array *a)
{
	mem_free(&a->data);
	a->count = 0;
	a->cap = 0;
}

void *array_push(struct array *a)
{
	unsigned char *elem;

	if (a->count == a->cap) {
		size_t cap = a->cap == 0 ? 8 : a->cap * 2;
		size_t bytes;

		/* An overflowing size makes mem_realloc abort instead of corrupting memory. */
		if (cap < a->cap || __builtin_mul_overflow(cap, a->elem_size, &bytes))
			bytes = SIZE_MAX;
		a->data = mem_realloc(a->data, bytes);
		a->cap = cap;
	}
	elem = (unsigned char *)a->data + a->count * a->elem_size;
	memset(elem, 0, a->elem_size);
	a->count++;
	return elem;
}

void *array_idx(const struct array *a, size_t i)
{
	assert(i < a->count);
	return (unsigned char *)a->data + i * a->elem_size;
}

void array_delete(struct array *a, size_t i)
{
	unsigned char *p = array_idx(a, i);

	memmove(p, p + a->elem_size, (a->count - i - 1) * a->elem_size);
	a->count--;
}

void array_clear(struct array *a)
{
	a->count = 0;
}
