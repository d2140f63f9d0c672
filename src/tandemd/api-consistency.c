/* SPDX-License-Identifier: MIT */
/* /admin/v1/consistency: a context's infostore rows against its filestore, for
   `tandemctl checkconsistency` (master admin only). GET lists, POST ?repair=1 repairs. */
#include <stdio.h>
#include <string.h>

#include "api-common.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "routes.h"
#include "storage.h"

static void consistency(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct storage_error err = {0};
	uint64_t cid;
	json_t *report;

	if (!api_master_only(node, req, "checks consistency"))
		return;
	bool post = strv_eq_cstr(http_request_head(req)->method, "POST");
	const char *cid_text = api_query(req, "cid");
	const char *repair_text = api_query(req, "repair");
	bool repair = repair_text != NULL && strcmp(repair_text, "1") == 0;
	if (cid_text == NULL || strv_to_u64(strv_from_cstr(cid_text), &cid) < 0 || cid == 0 ||
	    cid > INT64_MAX) {
		http_response_error(req, 400, "ADM-0400",
		                    "query parameter \"cid\" must be a context id");
		return;
	}
	if (repair_text != NULL && !repair && strcmp(repair_text, "0") != 0) {
		http_response_error(req, 400, "ADM-0400",
		                    "query parameter \"repair\" must be 0 or 1");
		return;
	}
	if (repair != post) {
		/* a GET never changes anything; a POST is only for repairs */
		http_response_error(req, 405, "ADM-0405",
		                    post ? "POST needs repair=1; use GET to only check"
		                         : "repairing needs POST");
		return;
	}
	if (storage_consistency_check(node->storage, (int64_t)cid, repair, &report, &err) < 0) {
		switch (err.status) {
		case STORAGE_NO_CONTEXT:
			http_response_error(req, 404, "ADM-0404", err.message);
			return;
		case STORAGE_READ_ONLY:
			http_response_error(req, 503, API_CODE_READ_ONLY, err.message);
			return;
		case STORAGE_DOWN:
			http_response_error(req, 503, "ADM-0503", err.message);
			return;
		default:
			break;
		}
		log_error("consistency", "cid=%llu: %s", (unsigned long long)cid, err.message);
		bool unavailable = err.status == STORAGE_UNAVAILABLE;
		http_response_error(req, unavailable ? 503 : 500,
		                    unavailable ? "ADM-0503" : "ADM-0500", err.message);
		return;
	}
	log_info("consistency", "cid=%llu %s: %lld problems, %lld repaired",
	         (unsigned long long)cid, repair ? "repair" : "check",
	         (long long)json_integer_value(json_object_get(report, "problems")),
	         (long long)json_integer_value(json_object_get(report, "repaired")));
	http_response_json(req, 200, report);
}

const struct http_route api_consistency_routes[] = {
    {"GET", "/admin/v1/consistency", consistency, 0, NULL},
    {"POST", "/admin/v1/consistency", consistency, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
