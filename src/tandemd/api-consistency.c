/* SPDX-License-Identifier: MIT */
/* /admin/v1/consistency: a context's infostore rows against its filestore, for
   `tandemctl checkconsistency` (master admin only). GET lists, POST ?repair=1 repairs. */
#include <stdio.h>
#include <string.h>

#include "admin-auth.h"
#include "api-common.h"
#include "http-server.h"
#include "infostore.h"
#include "log.h"
#include "node.h"
#include "routes.h"
#include "sql.h"

static void consistency(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct prov_error perr = {0};
	struct prov_location loc;
	struct sql_conn *conn;
	struct sql_error err = {0};
	uint64_t cid;
	json_t *report;

	if (!api_master_only(node, req, "checks consistency"))
		return;
	struct provision *prov = node_provision(node, &perr);
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
	struct sql_db *db = provision_context_db(prov, (int64_t)cid, &loc, &perr);
	if (db == NULL) {
		http_response_error(req, perr.status == PROV_NOT_FOUND ? 404 : 503,
		                    perr.status == PROV_NOT_FOUND ? "ADM-0404" : "ADM-0503",
		                    perr.message);
		return;
	}
	if (sql_conn_get(db, repair ? SQL_WRITE : SQL_READ, (int64_t)cid, &conn, &err) < 0) {
		http_response_error(req, 503,
		                    err.kind == SQL_ERR_READ_ONLY ? API_CODE_READ_ONLY : "ADM-0503",
		                    err.message);
		return;
	}
	int r = infostore_check_consistency(conn, (int64_t)cid, loc.filestore_root, repair, &report,
	                                    &err);
	sql_conn_put(&conn);
	if (r < 0) {
		log_error("consistency", "cid=%llu: %s", (unsigned long long)cid, err.message);
		bool unavailable = err.kind == SQL_ERR_CONNECTION || err.kind == SQL_ERR_BUSY;
		http_response_error(req, unavailable ? 503 : 500,
		                    unavailable ? "ADM-0503" : "ADM-0500", err.message);
		return;
	}
	log_info("consistency", "cid=%llu %s: %lld problems, %lld repaired",
	         (unsigned long long)cid, repair ? "repair" : "check",
	         (long long)json_integer_value(json_object_get(report, "problems")),
	         (long long)json_integer_value(json_object_get(report, "repaired")));
	api_reply_json(req, 200, report);
}

const struct http_route api_consistency_routes[] = {
    {"GET", "/admin/v1/consistency", consistency, 0, NULL},
    {"POST", "/admin/v1/consistency", consistency, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
