/* SPDX-License-Identifier: MIT */
/* libFuzzer target: PROPFIND, PROPPATCH, LOCK and MKCOL/MKCALENDAR bodies; the first byte picks
   the parser. */
#include <stdint.h>
#include <string.h>

#include "dav-xml.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stored value sent back in a PROPPATCH of its own is accepted and stored the same. */
static void check_stable(struct pool *pool, const struct dav_patch *p)
{
	static const struct dav_xml_limits big = {.max_size = 1024 * 1024, .max_depth = 40};
	struct dav_proppatch *again;
	const char *error = NULL;
	int status = 0;
	const char *body = pool_printf(pool,
	                               "<propertyupdate xmlns=\"DAV:\"><set><prop>%s</prop></set>"
	                               "</propertyupdate>",
	                               p->xml);
	if (dav_xml_parse_proppatch(pool, strv_from_cstr(body), &big, &again, &status, &error) <
	        0 ||
	    again->count != 1 || strcmp(again->patches[0].xml, p->xml) != 0 ||
	    strcmp(again->patches[0].name.ns, p->name.ns) != 0 ||
	    strcmp(again->patches[0].name.name, p->name.name) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	static const struct dav_xml_limits limits = {.max_size = 64 * 1024, .max_depth = 32};
	struct pool *pool = pool_create(0);
	struct strv body = strv_make((const char *)data + 1, size - 1);
	const char *error = NULL;
	int status = 0, r;
	switch (data[0] % 4) {
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
			if (p->xml != NULL)
				check_stable(pool, p);
		}
		break;
	}
	case 3: {
		struct dav_proppatch *mk;
		r = dav_xml_parse_mkcol(pool, body, &limits, &mk, &status, &error);
		for (size_t i = 0; r == 0 && i < mk->count; i++)
			if (mk->patches[i].xml == NULL || mk->patches[i].text == NULL)
				__builtin_trap();
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
