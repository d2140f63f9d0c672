/* SPDX-License-Identifier: MIT */
/* POST /admin/v1/contexts/{cid}/users/{uid}/import?module=contacts|calendar|tasks[&folder=ID]:
   an admin imports a .vcf or .ics text into a user's folder (their default one of the
   module unless folder= says which), as that user, through the same import as the JSON API's
   POST /api/v1/folders/{id}/import; for `tandemctl importcontacts | importcalendar`
   (docs/tandemctl.md). The master admin or the context's admin. */
#include <stdio.h>
#include <string.h>

#include "admin-auth.h"
#include "api-common.h"
#include "api-contacts.h"
#include "api-events.h"
#include "storage-folder.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node.h"
#include "routes.h"
#include "storage-calendar.h"
#include "storage-contacts.h"

struct target {
	int64_t cid, uid;
	const char *module;
	int64_t folder;
};

static void storage_refused(struct http_request *req, const struct storage_error *err)
{
	if (api_storage_context_failed(req, err))
		return;
	if (err->status == STORAGE_REFUSED) {
		int status = err->refusal == STORAGE_NOT_FOUND ? 404 : 400;
		http_response_error(req, status, status == 404 ? "ADM-0404" : "ADM-0400",
		                    err->message);
		return;
	}
	bool unavailable = err->status == STORAGE_UNAVAILABLE || err->status == STORAGE_READ_ONLY;
	log_error("import", "%s", err->message);
	http_response_error(req, unavailable ? 503 : 500, unavailable ? "ADM-0503" : "ADM-0500",
	                    err->message);
}

/* Whether folder holds module's objects and the user may read it: false after answering. */
static bool folder_fits(struct http_request *req, struct storage_user *su, int64_t folder,
                        const char *module)
{
	struct storage_error err;
	int64_t rev;
	char found[16] = "contacts";
	int r = strcmp(module, "contacts") == 0
	            ? storage_contact_revision(su, folder, &rev, &err)
	            : storage_cal_revision(su, folder, &rev, found, &err);
	if (r < 0) {
		storage_refused(req, &err);
		return false;
	}
	if (strcmp(found, module) != 0) {
		char msg[120];
		snprintf(msg, sizeof(msg), "folder %lld holds %s, not %s", (long long)folder, found,
		         module);
		http_response_error(req, 400, "ADM-0400", msg);
		return false;
	}
	return true;
}

static void user_import(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct prov_error perr;
	struct storage_error err;
	int64_t cid = http_request_param_id(req, "cid");
	struct target t = {.cid = cid,
	                   .uid = http_request_param_id(req, "uid"),
	                   .module = api_query(req, "module")};
	struct provision *prov = node_provision(node, &perr);
	if (prov == NULL) {
		http_response_error(req, 503, "ADM-0503", perr.message);
		return;
	}
	char needs[120];
	snprintf(needs, sizeof(needs),
	         "this call needs the master admin or the admin of context %lld", (long long)cid);
	if (admin_auth_check(node->admin_auth, prov, req, cid, needs) == ADMIN_NONE)
		return;
	if (t.module == NULL ||
	    (strcmp(t.module, "contacts") != 0 && strcmp(t.module, "calendar") != 0 &&
	     strcmp(t.module, "tasks") != 0)) {
		http_response_error(
		    req, 400, "ADM-0400",
		    "query parameter \"module\" must be contacts, calendar or tasks");
		return;
	}
	int r = api_query_id(req, "folder", &t.folder);
	if (r < 0)
		return;
	struct storage_user *su =
	    storage_user_create(node->storage, http_request_pool(req), cid, t.uid);
	if (r == 0) {
		int found = storage_folder_default(su, t.module, &t.folder, &err);
		if (found < 0) {
			storage_refused(req, &err);
			return;
		}
		if (found == 0) {
			char msg[160];
			snprintf(msg, sizeof(msg),
			         "user %lld of context %lld has no default %s folder",
			         (long long)t.uid, (long long)cid, t.module);
			http_response_error(req, 404, "ADM-0404", msg);
			return;
		}
	}
	if (!folder_fits(req, su, t.folder, t.module))
		return;
	struct strv body = http_request_body(req);
	char error[300];
	const char *text = body.ptr != NULL ? body.ptr : "";
	json_t *result = strcmp(t.module, "contacts") == 0
	                     ? api_contacts_import_text(su, t.folder, http_request_pool(req), text,
	                                                body.len, error, sizeof(error))
	                     : api_cal_import_text(su, t.folder, http_request_pool(req), text,
	                                           body.len, error, sizeof(error));
	if (result == NULL) {
		char msg[340];
		snprintf(msg, sizeof(msg), "import refused: %s", error);
		http_response_error(req, 400, "ADM-0400", msg);
		return;
	}
	json_object_set_new(result, "folder", json_integer(t.folder));
	log_info("import",
	         "context %lld user %lld folder %lld: %lld %s objects imported, %lld failed",
	         (long long)cid, (long long)t.uid, (long long)t.folder,
	         (long long)json_integer_value(json_object_get(result, "created")), t.module,
	         (long long)json_integer_value(json_object_get(result, "failed")));
	http_response_json(req, 200, result);
}

const struct http_route api_import_routes[] = {
    {"POST", "/admin/v1/contexts/{cid:id}/users/{uid:id}/import", user_import, ROUTE_CONTEXT_ADMIN,
     NULL},
    {NULL, NULL, NULL, 0, NULL},
};
