/* SPDX-License-Identifier: MIT */
/* PROPPATCH on /dav/ (RFC 4918 §9.2): dead properties of folders and files, set and removed
   in document order, all or nothing (storage-props.h). Live properties are protected. */
#include <string.h>

#include "api-dav.h"
#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"
#include "pool.h"
#include "storage-props.h"

void dav_proppatch_answer(struct dav_req *dr, const struct dav_proppatch *pp, size_t failed,
                          int status, const char *precondition)
{
	struct http_request *req = dr->req;
	http_response_status(req, 207);
	http_response_header(req, "Content-Type", "application/xml; charset=utf-8");
	struct buf *out = http_response_body(req);
	dav_ms_begin(out);
	dav_ms_response_begin(out, dr->path);
	for (size_t i = 0; i < pp->count; i++) {
		int s = status == 200 ? 200 : i == failed || failed >= pp->count ? status : 424;
		dav_ms_propstat_begin(out);
		dav_ms_prop_empty(out, pp->patches[i].name.ns, pp->patches[i].name.name);
		dav_ms_propstat_end(out, s);
	}
	/* RFC 4918 §14.24: a response may carry the precondition that failed */
	if (precondition != NULL)
		buf_printf(out, "<D:error><D:%s/></D:error>", precondition);
	dav_ms_response_end(out);
	dav_ms_end(out);
	http_response_send(req);
}

void dav_proppatch(struct dav_req *dr)
{
	struct dav_proppatch *pp;
	struct dav_res res;
	const char *error;
	int status;
	struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_proppatch(dr->pool, dav_body(dr), &limits, &pp, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	if (dav_map_resolve(dr, dr->path, &res) < 0)
		return;
	if (res.kind == DAV_RES_NONE) {
		dav_fail(dr, 404, NULL, "DAV-0404", "nothing at %s", dr->path);
		return;
	}
	if (res.kind != DAV_RES_FILE && res.kind != DAV_RES_FOLDER) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s has no properties to change", dr->path);
		return;
	}
	if (!dav_check_conditions(dr, &res, false) || !dav_check_locks(dr, &res, false))
		return;
	struct dav_prop *ops = pool_calloc(dr->pool, pp->count, sizeof(*ops));
	for (size_t i = 0; i < pp->count; i++) {
		const struct dav_patch *p = &pp->patches[i];
		if (dav_prop_is_live(p->name.ns, p->name.name)) {
			dav_proppatch_answer(dr, pp, i, 403, "cannot-modify-protected-property");
			return;
		}
		ops[i] = (struct dav_prop){
		    .ns = p->name.ns,
		    .name = p->name.name,
		    .value =
		        p->op == DAV_PATCH_SET ? pool_strndup(dr->pool, p->xml, p->xml_len) : NULL,
		};
	}
	size_t failed = pp->count;
	struct storage_error err;
	enum dav_props_kind kind = res.kind == DAV_RES_FILE ? DAV_PROPS_FILE : DAV_PROPS_FOLDER;
	if (storage_props_patch(dr->su, kind, res.entry.id, ops, pp->count, &failed, &err) == 0) {
		dav_proppatch_answer(dr, pp, pp->count, 200, NULL);
		return;
	}
	if (err.status != STORAGE_REFUSED) {
		dav_storage_failed(dr, &err);
		return;
	}
	if (err.refusal == STORAGE_FORBIDDEN || err.refusal == STORAGE_NOT_FOUND) {
		dav_storage_failed(dr, &err);
		return;
	}
	/* a bound: the property that crossed it 507 when it is the count, else 403 */
	dav_proppatch_answer(dr, pp, failed, failed >= pp->count ? 507 : 403, NULL);
}
