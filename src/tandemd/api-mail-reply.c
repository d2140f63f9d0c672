/* SPDX-License-Identifier: MIT */
/* GET /api/v1/mail/messages/{folder}/{uid}/reply?all=0|1 and …/forward: a body for POST
   /api/v1/mail/send prefilled from the original (docs/api.md "Mail", lib-mail's mail-reply.h).
   Nothing is sent or changed here. */
#include <string.h>

#include "api-common.h"
#include "api-mail.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "mail-reply.h"
#include "node.h"
#include "pool.h"
#include "routes.h"
#include "storage-schedule.h"

static json_t *string_list(const char *const *list, size_t count)
{
	json_t *a = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static void prefill(struct node *node, struct http_request *req, enum mail_reply_kind kind)
{
	struct api_user user;
	struct pool *pool = http_request_pool(req);
	if (!api_auth(node, req, &user))
		return;
	const char *all = api_query(req, "all");
	if (kind != MAIL_FORWARD && all != NULL) {
		if (strcmp(all, "0") != 0 && strcmp(all, "1") != 0) {
			api_error(req, 400, "MAIL-0400", "all must be 0 or 1");
			return;
		}
		if (all[0] == '1')
			kind = MAIL_REPLY_ALL;
	}
	/* the user's own address is left out of a reply-all */
	const char *self[1] = {NULL};
	struct storage_error serr;
	struct storage_user *su = storage_user_create(node->storage, pool, user.cid, user.uid);
	if (storage_sched_whoami(su, &self[0], NULL, &serr) < 0)
		log_warn("mail", "%s: the user's e-mail address: %s", user.login, serr.message);
	const char *folder, *data, *error;
	uint32_t uid;
	size_t size;
	if (api_mail_read_path(node, req, &user, &folder, &uid, &data, &size) < 0)
		return;
	struct mail_reply r;
	if (mail_reply_build(pool, data, size, kind, self, self[0] != NULL ? 1 : 0, &r, &error) <
	    0) {
		api_error(req, 502, "MAIL-0502", "message %u: %s", uid, error);
		return;
	}
	json_t *original = json_pack("{s:s, s:I}", "folder", folder, "uid", (json_int_t)uid);
	json_t *o =
	    json_pack("{s:o, s:o, s:[], s:s, s:s}", "to", string_list(r.to, r.to_count), "cc",
	              string_list(r.cc, r.cc_count), "bcc", "subject", r.subject, "text", r.text);
	json_t *atts = json_array();
	if (kind == MAIL_FORWARD) {
		/* name, type and size for the composer to show; /send reads only "message" */
		for (size_t i = 0; i < r.view.attachment_count; i++) {
			const struct mail_attachment *a = &r.view.attachments[i];
			json_array_append_new(
			    atts, json_pack("{s:{s:s, s:I, s:s}, s:s?, s:s, s:I}", "message",
			                    "folder", folder, "uid", (json_int_t)uid, "part",
			                    a->part, "name", a->filename, "type", a->content_type,
			                    "size", (json_int_t)a->size));
		}
		json_object_set_new(o, "forward_of", original);
	} else {
		json_object_set_new(o, "in_reply_to", original);
	}
	json_object_set_new(o, "attachments", atts);
	http_response_json(req, 200, o);
}

static void mail_reply(void *ctx, struct http_request *req)
{
	prefill(ctx, req, MAIL_REPLY);
}

static void mail_forward(void *ctx, struct http_request *req)
{
	prefill(ctx, req, MAIL_FORWARD);
}

const struct http_route api_mail_reply_routes[] = {
    {"GET", "/api/v1/mail/messages/{folder}/{uid:id}/reply", mail_reply, 0, NULL},
    {"GET", "/api/v1/mail/messages/{folder}/{uid:id}/forward", mail_forward, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
