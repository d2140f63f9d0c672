/* SPDX-License-Identifier: MIT */
/* libFuzzer target: PROPFIND, PROPPATCH and LOCK bodies; the first byte picks the parser. */
#include <stdint.h>
#include <string.h>

#include "dav-xml.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	static const struct dav_xml_limits limits = {.max_size = 64 * 1024, .max_depth = 32};
	struct pool *pool = pool_create(0);
	struct strv body = strv_make((const char *)data + 1, size - 1);
	const char *error = NULL;
	int status = 0, r;
	switch (data[0] % 3) {
	case 0: {
		struct dav_propfind *pf;
		r = dav_xml_parse_propfind(pool, body, &limits, &pf, &status, &error);
		if (r == 0 && pf->count > 0 &&
		    (pf->names[0].ns == NULL || pf->names[0].name == NULL))
			__builtin_trap();
		break;
	}
	case 1: {
		struct dav_proppatch *pp;
		r = dav_xml_parse_proppatch(pool, body, &limits, &pp, &status, &error);
		for (size_t i = 0; r == 0 && i < pp->count; i++) {
			const struct dav_patch *p = &pp->patches[i];
			if ((p->op == DAV_PATCH_SET) != (p->xml != NULL) ||
			    (p->xml != NULL && strlen(p->xml) != p->xml_len))
				__builtin_trap();
		}
		break;
	}
	default: {
		struct dav_lockinfo *li;
		r = dav_xml_parse_lockinfo(pool, body, &limits, &li, &status, &error);
		break;
	}
	}
	if (r < 0 && (error == NULL || (status != 400 && status != 413 && status != 422)))
		__builtin_trap();
	pool_destroy(&pool);
	return 0;
}
