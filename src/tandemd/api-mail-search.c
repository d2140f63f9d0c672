/* SPDX-License-Identifier: MIT */
/* Message search and threads for GET /api/v1/mail/messages (q=, in=, thread=1) and
   POST …/{uid}/copy (docs/api.md "Mail"): IMAP SEARCH, SORT with search criteria and THREAD
   do the work on the server; only the page's envelopes are fetched. */
#include <stdlib.h>
#include <string.h>

#include "api-common.h"
#include "api-mail.h"
#include "http-json.h"
#include "http-server.h"
#include "imap-client.h"
#include "imap-thread.h"
#include "mail-message.h"
#include "node.h"
#include "pool.h"
#include "routes.h"

static const struct {
	const char *name;
	enum imap_search_field field;
} fields[] = {
    {"all", IMAP_SEARCH_TEXT},        {"from", IMAP_SEARCH_FROM}, {"to", IMAP_SEARCH_TO},
    {"subject", IMAP_SEARCH_SUBJECT}, {"body", IMAP_SEARCH_BODY},
};

/* A thread of the folder: items[start .. start+count) of the thread list. */
struct thread_span {
	size_t start, count;
	uint32_t newest; /* its highest UID: the most recent arrival */
};

struct search_op {
	struct pool *pool;
	const char *folder, *q;
	unsigned fields; /* imap_search_field bits */
	enum imap_sort key;
	bool reverse, threads;
	int64_t offset, limit;
	/* out */
	uint32_t total;
	bool server_sort, server_thread;
	struct imap_message *msgs;
	struct imap_thread_item *items; /* threads only: the page's, in msgs' order */
	size_t count;
};

/* The matching UIDs (q given) or every UID, ordered by key. */
static int matches(struct imap_client *client, struct search_op *op, enum imap_sort key,
                   bool reverse, uint32_t **uids_r, size_t *n_r, struct mail_error *err)
{
	if (op->q != NULL)
		return imap_client_search_uids(client, op->pool, op->fields, op->q, key, reverse,
		                               uids_r, n_r, err);
	return imap_client_sorted_uids(client, op->pool, key, reverse, uids_r, n_r, err);
}

static int span_cmp(const void *a, const void *b)
{
	const struct thread_span *x = a, *y = b;
	return (x->newest < y->newest) - (x->newest > y->newest); /* newest first */
}

/* Without THREAD: every message is a thread of its own, newest first by date. */
static int flat_threads(struct imap_client *client, struct search_op *op,
                        struct imap_thread_item **items_r, size_t *n_r, struct mail_error *err)
{
	uint32_t *uids;
	if (matches(client, op, IMAP_SORT_DATE, true, &uids, n_r, err) < 0)
		return -1;
	struct imap_thread_item *items =
	    pool_alloc(op->pool, (*n_r > 0 ? *n_r : 1) * sizeof(*items));
	for (size_t i = 0; i < *n_r; i++)
		items[i] = (struct imap_thread_item){uids[i], uids[i], 0};
	*items_r = items;
	return 0;
}

/* The page of threads: all threads' UIDs come from one THREAD command (numbers only), the
   envelopes of the page's messages from one FETCH. */
static int thread_page(struct imap_client *client, struct search_op *op, struct mail_error *err)
{
	struct imap_thread_item *items = NULL;
	size_t n = 0;
	op->server_thread = imap_client_has_thread(client);
	if (!op->server_thread) {
		if (flat_threads(client, op, &items, &n, err) < 0)
			return -1;
	} else {
		uint32_t *uids = NULL;
		size_t nu = 0;
		if (op->q != NULL &&
		    imap_client_search_uids(client, op->pool, op->fields, op->q, IMAP_SORT_ARRIVAL,
		                            false, &uids, &nu, err) < 0)
			return -1;
		if ((op->q == NULL || nu > 0) &&
		    imap_client_threads(client, op->pool, uids, nu, &items, &n, err) < 0)
			return -1;
	}
	size_t spans_n = 0;
	struct thread_span *spans = pool_alloc(op->pool, (n > 0 ? n : 1) * sizeof(*spans));
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || items[i].root != items[i - 1].root)
			spans[spans_n++] = (struct thread_span){i, 0, 0};
		struct thread_span *s = &spans[spans_n - 1];
		s->count++;
		if (items[i].uid > s->newest)
			s->newest = items[i].uid;
	}
	/* the server's thread order is by date already when THREAD is flat */
	if (op->server_thread)
		qsort(spans, spans_n, sizeof(*spans), span_cmp);
	op->total = (uint32_t)spans_n;
	size_t from = (uint64_t)op->offset < spans_n ? (size_t)op->offset : spans_n;
	size_t to = spans_n - from < (size_t)op->limit ? spans_n : from + (size_t)op->limit;
	size_t count = 0;
	for (size_t t = from; t < to; t++)
		count += spans[t].count;
	op->items = pool_alloc(op->pool, (count > 0 ? count : 1) * sizeof(*op->items));
	uint32_t *uids = pool_alloc(op->pool, (count > 0 ? count : 1) * sizeof(*uids));
	op->count = 0;
	for (size_t t = from; t < to; t++)
		for (size_t k = 0; k < spans[t].count; k++) {
			op->items[op->count] = items[spans[t].start + k];
			uids[op->count++] = items[spans[t].start + k].uid;
		}
	op->msgs = pool_calloc(op->pool, count > 0 ? count : 1, sizeof(*op->msgs));
	return imap_client_fetch(client, op->pool, uids, op->count, op->msgs, err);
}

static int search_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct search_op *op = ctx;
	uint32_t exists;
	if (imap_client_select(client, op->folder, &exists, err) < 0)
		return -1;
	op->server_sort = imap_client_has_sort(client);
	op->count = op->total = 0;
	if (exists == 0)
		return 0;
	if (op->threads)
		return thread_page(client, op, err);
	uint32_t *uids;
	size_t n;
	if (matches(client, op, op->key, op->reverse, &uids, &n, err) < 0)
		return -1;
	op->total = (uint32_t)n;
	size_t from = (uint64_t)op->offset < n ? (size_t)op->offset : n;
	op->count = n - from < (size_t)op->limit ? n - from : (size_t)op->limit;
	op->msgs = pool_calloc(op->pool, op->count > 0 ? op->count : 1, sizeof(*op->msgs));
	return imap_client_fetch(client, op->pool, uids + from, op->count, op->msgs, err);
}

bool api_mail_search(struct node *node, struct http_request *req, const struct api_user *user,
                     const char *folder, const char *sort, enum imap_sort key, bool reverse,
                     int64_t offset, int64_t limit)
{
	struct search_op op = {.pool = http_request_pool(req),
	                       .folder = folder,
	                       .key = key,
	                       .reverse = reverse,
	                       .offset = offset,
	                       .limit = limit};
	const char *in = api_query(req, "in"), *thread = api_query(req, "thread");
	if (in == NULL || in[0] == '\0')
		in = "all";
	/* a comma-separated list: a message matches when one of the fields does */
	for (const char *p = in; *p != '\0';) {
		size_t n = strcspn(p, ","), f = 0;
		while (f < sizeof(fields) / sizeof(fields[0]) &&
		       (strlen(fields[f].name) != n || strncmp(fields[f].name, p, n) != 0))
			f++;
		if (f == sizeof(fields) / sizeof(fields[0])) {
			api_error(
			    req, 400, "MAIL-0400",
			    "in must be all, from, to, subject or body (or several, with commas), "
			    "not \"%.40s\"",
			    in);
			return true;
		}
		op.fields |= fields[f].field;
		p += n + (p[n] == ',');
	}
	if (thread != NULL && strcmp(thread, "0") != 0 && strcmp(thread, "1") != 0) {
		api_error(req, 400, "MAIL-0400", "thread must be 0 or 1");
		return true;
	}
	op.threads = thread != NULL && strcmp(thread, "1") == 0;
	op.q = mail_utf8(op.pool, api_query(req, "q"));
	if (op.q != NULL && op.q[0] == '\0')
		op.q = NULL;
	if (op.q == NULL && !op.threads)
		return false;
	if (op.q != NULL && strlen(op.q) > 500) {
		api_error(req, 400, "MAIL-0400", "q is longer than 500 bytes");
		return true;
	}
	if (api_mail_with_client(node, req, user, search_run, &op) < 0)
		return true;
	json_t *list = json_array();
	for (size_t k = 0; k < op.count; k++) {
		if (op.msgs[k].uid == 0) /* expunged meanwhile */
			continue;
		json_t *o = api_mail_message_json(&op.msgs[k]);
		if (op.threads) {
			json_object_set_new(o, "thread", json_integer(op.items[k].root));
			json_object_set_new(o, "depth", json_integer(op.items[k].depth));
		}
		json_array_append_new(list, o);
	}
	json_t *page =
	    json_pack("{s:s, s:I, s:I, s:s, s:s, s:b, s:o}", "folder", folder, "total",
	              (json_int_t)op.total, "offset", (json_int_t)offset, "sort",
	              op.threads ? "thread" : sort, "order", op.threads || reverse ? "desc" : "asc",
	              "server_sort", op.server_sort, "messages", list);
	if (op.q != NULL) {
		json_object_set_new(page, "q", json_string(op.q));
		json_object_set_new(page, "in", json_string(in));
	}
	if (op.threads)
		json_object_set_new(page, "server_thread", json_boolean(op.server_thread));
	http_response_json(req, 200, page);
	return true;
}

/* --------------------------------------------------------------- copy */

struct copy_op {
	struct pool *pool;
	const char *folder, *to;
	uint32_t uid, new_uid;
};

static int copy_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct copy_op *op = ctx;
	uint32_t total;
	if (imap_client_select(client, op->folder, &total, err) < 0)
		return -1;
	return imap_client_copy(client, op->pool, op->uid, op->to, &op->new_uid, err);
}

static void mail_message_copy(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct copy_op op = {0};
	if (!api_mail_message_target(node, req, &user, &op.pool, &op.folder, &op.uid))
		return;
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	op.to = api_mail_body_folder(req, body, "to");
	json_decref(body);
	if (op.to == NULL || api_mail_with_client(node, req, &user, copy_run, &op) < 0)
		return;
	http_response_json(req, 201,
	                   json_pack("{s:s, s:o}", "folder", op.to, "uid",
	                             op.new_uid != 0 ? json_integer(op.new_uid) : json_null()));
}

const struct http_route api_mail_search_routes[] = {
    {"POST", "/api/v1/mail/messages/{folder}/{uid:id}/copy", mail_message_copy, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
