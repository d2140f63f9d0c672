/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the If header parser and its evaluation against fixed callbacks. */
#include <stdint.h>

#include "dav-if.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *etag_of(void *ctx, struct strv resource)
{
	return resource.ptr == NULL ? "\"a\"" : NULL;
}

static bool has_lock(void *ctx, struct strv resource, struct strv token)
{
	return strv_eq_cstr(token, "urn:x");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dav_if_callbacks cb = {etag_of, has_lock, NULL};
	struct strv in = strv_make((const char *)data, size);
	struct pool *pool = pool_create(0);
	struct dav_if *h;
	const char *error;
	if (dav_if_parse(pool, in, &h, &error) == 0) {
		struct dav_if_token *seen;
		size_t n;
		if (h->count == 0)
			__builtin_trap();
		for (size_t i = 0; i < h->count; i++) {
			const struct dav_if_list *l = &h->lists[i];
			if (l->count == 0 || (h->tagged != (l->resource.ptr != NULL)))
				__builtin_trap();
			for (size_t j = 0; j < l->count; j++) {
				struct strv v = l->conditions[j].value;
				if (v.len == 0 || v.ptr < in.ptr || v.ptr + v.len > in.ptr + in.len)
					__builtin_trap();
			}
		}
		dav_if_evaluate(h, &cb, pool, &seen, &n);
		for (size_t i = 0; i < n; i++) {
			if (!strv_eq_cstr(seen[i].token, "urn:x"))
				__builtin_trap();
		}
	}
	pool_destroy(&pool);
	return 0;
}
