/* SPDX-License-Identifier: MIT */
/* /api/v1/events/{id}/reply and /api/v1/freebusy; the scheduling hooks of the event
   handlers. Parse, call storage-schedule.h, answer: no SQL here. */
#include "api-schedule.h"

#include <string.h>
#include <strings.h>

#include "api-common.h"
#include "api-events.h"
#include "api-mail-imip.h"
#include "cal-sched.h"
#include "http-json.h"
#include "http-server.h"
#include "log.h"
#include "node-access.h"
#include "node.h"
#include "pool.h"
#include "routes.h"
#include "storage-schedule.h"

/* Users and resources one free/busy request names at most. */
#define FREEBUSY_WHO_MAX 100

bool api_sched_after_put(struct node *node, struct storage_user *su,
                         const struct storage_cal_object *old, struct storage_cal_object *obj,
                         bool json)
{
	struct storage_error err;
	int r = storage_sched_after_put(su, old, obj, json, &err);
	if (r < 0)
		log_error("calendar", "scheduling event %lld failed: %s", (long long)obj->id,
		          err.message);
	bool mailed = api_mail_imip_send(node, su, old, obj);
	return r > 0 || mailed;
}

void api_sched_after_delete(struct node *node, struct storage_user *su,
                            const struct storage_cal_object *old)
{
	struct storage_error err;
	if (storage_sched_after_delete(su, old, &err) < 0)
		log_error("calendar", "scheduling the deletion of event %lld failed: %s",
		          (long long)old->id, err.message);
	api_mail_imip_send(node, su, old, NULL);
}

void api_sched_decorate(struct storage_user *su, json_t *event)
{
	json_t *att = json_object_get(event, "attendees");
	const char *email;
	struct storage_error err;
	if (json_array_size(att) == 0 || storage_sched_whoami(su, &email, NULL, &err) < 0)
		return;
	size_t i;
	json_t *a;
	json_array_foreach(att, i, a)
	{
		if (!cal_sched_same(json_string_value(json_object_get(a, "email")), email))
			continue;
		json_t *st = json_object_get(a, "status");
		json_object_set_new(
		    event, "myStatus",
		    json_string(st != NULL ? json_string_value(st) : "NEEDS-ACTION"));
		return;
	}
}

/* The caller as a storage user; NULL after answering 401, or 403 without the calendar
   module (/api/v1/events/… is refused before by its path, /api/v1/freebusy here). */
static struct storage_user *caller(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user) || !api_module_check(node, req, &user, MODULE_CALENDAR))
		return NULL;
	return storage_user_create(node->storage, http_request_pool(req), user.cid, user.uid);
}

static void reply(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	struct storage_cal_object o;
	struct storage_error err;
	if (su == NULL)
		return;
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	const char *status = json_string_value(json_object_get(body, "status"));
	if (!cal_sched_reply_status(status)) {
		json_decref(body);
		api_error(req, 400, "CAL-0400",
		          "\"status\" must be \"ACCEPTED\", \"DECLINED\" or \"TENTATIVE\"");
		return;
	}
	status = pool_strdup(http_request_pool(req), status);
	json_decref(body);
	if (storage_sched_reply(su, http_request_param_id(req, "id"), status, &o, &err) < 0) {
		api_cal_failed(req, &err, STORAGE_CAL_OK);
		return;
	}
	api_cal_get(&api_cal_events, ctx, req); /* the event as the attendee now has it */
}

/* The comma-separated names of parameter name into who (at most FREEBUSY_WHO_MAX): how
   many, or -1 after answering 400. */
static int names(struct http_request *req, const char *name, const char **who, size_t max)
{
	const char *v = api_query(req, name);
	int n = 0;
	if (v == NULL)
		return 0;
	struct pool *pool = http_request_pool(req);
	while (*v != '\0') {
		size_t len = strcspn(v, ",");
		if (len > 0) {
			if ((size_t)n == max) {
				api_error(req, 400, "CAL-0400",
				          "at most %d users and resources in one free/busy request",
				          FREEBUSY_WHO_MAX);
				return -1;
			}
			who[n++] = pool_strndup(pool, v, len);
		}
		v += len + (v[len] == ',' ? 1 : 0);
	}
	return n;
}

static void freebusy(void *ctx, struct http_request *req)
{
	struct storage_user *su = caller(ctx, req);
	const char *who[FREEBUSY_WHO_MAX];
	int64_t start, end;
	struct storage_error err;
	if (su == NULL)
		return;
	int nu = names(req, "users", who, FREEBUSY_WHO_MAX);
	int nr = nu < 0 ? -1 : names(req, "resources", who + nu, FREEBUSY_WHO_MAX - (size_t)nu);
	if (nr < 0)
		return;
	int s = api_cal_time_query(req, "start", &start);
	int e = s < 0 ? -1 : api_cal_time_query(req, "end", &end);
	if (e < 0)
		return;
	if (s == 0 || e == 0 || end <= start || end - start > STORAGE_SCHED_RANGE_MAX) {
		api_error(req, 400, "CAL-0400",
		          "\"start\" and \"end\" are required, \"end\" after \"start\" and at most "
		          "%d days later",
		          STORAGE_SCHED_RANGE_MAX / 86400);
		return;
	}
	if (nu + nr == 0) {
		api_error(req, 400, "CAL-0400",
		          "name \"users\" or \"resources\" (logins, names or ids)");
		return;
	}
	json_t *list = json_array();
	for (int i = 0; i < nu + nr; i++) {
		json_t *entry;
		if (storage_sched_freebusy(su, i >= nu, who[i], start, end, &entry, &err) < 0) {
			json_decref(list);
			api_cal_failed(req, &err, STORAGE_CAL_OK);
			return;
		}
		json_array_append_new(list, entry);
	}
	http_response_json(req, 200, json_pack("{so}", "freebusy", list));
}

const struct http_route api_schedule_routes[] = {
    {"POST", "/api/v1/events/{id:id}/reply", reply, 0, NULL},
    {"GET", "/api/v1/freebusy", freebusy, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
