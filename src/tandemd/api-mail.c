/* SPDX-License-Identifier: MIT */
/* /api/v1/mail: the caller's folders with counts and sorted pages of a folder's messages,
   read over IMAP as "login*master" (docs/decisions/0016-mail-credentials.md). Handlers run on
   workers, so the blocking IMAP client is used directly; a mail system that is down or
   refuses answers 503 here and nowhere else. */
#include "api-mail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api-common.h"
#include "api-mail-account.h"
#include "http-json.h"
#include "http-params.h"
#include "http-server.h"
#include "imap-pool.h"
#include "log.h"
#include "mail-config.h"
#include "mail-message.h"
#include "mail-utf7.h"
#include "node.h"
#include "pool.h"
#include "routes.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX     500
/* a message read whole for display; larger ones wait for streamed parts (issue 19) */
#define MAIL_READ_MAX (32 * 1024 * 1024)
/* an attachment is fetched in partial fetches of this size (libetpan holds each whole) */
#define PART_CHUNK (1024 * 1024)

struct imap_pool *api_mail_pool_create(const struct mail_settings *set)
{
	if (!set->enabled)
		return NULL;
	struct imap_pool_settings ps = {
	    .url = set->imap,
	    .master_user = set->master_user,
	    .master_password = set->master_password,
	    .timeout_ms = (unsigned)set->timeout_ms,
	    .max_connections = set->max_connections,
	    .max_idle_per_user = set->connections_per_user,
	    .idle_ms = set->idle_timeout_ms,
	    .wait_ms = set->timeout_ms,
	    .down_backoff_ms = 1000,
	};
	return imap_pool_create(&ps);
}

static void mail_failed(struct http_request *req, const char *login, const struct mail_error *err)
{
	switch (err->kind) {
	case MAIL_NOT_FOUND:
		api_error(req, 404, "MAIL-0404", "%s", err->message);
		return;
	case MAIL_EXISTS:
		api_error(req, 409, "MAIL-0409", "%s", err->message);
		return;
	case MAIL_REFUSED:
		log_warn("mail", "%s: %s", login, err->message);
		api_error(req, 502, "MAIL-0502", "%s", err->message);
		return;
	case MAIL_BUSY:
		http_response_header(req, "Retry-After", "1");
		break;
	default:
		break;
	}
	log_warn("mail", "%s: %s", login, err->message);
	api_error(req, 503, "MAIL-0503", "the mail system is unavailable: %s", err->message);
}

typedef api_mail_op_fn mail_op_fn;

/* Runs op on a pooled client of user's; a pooled client found dead (the server restarted)
   is replaced once. 0, or -1 after answering. */
static int with_client(struct node *node, struct http_request *req, const struct api_user *caller,
                       mail_op_fn *op, void *ctx)
{
	struct mail_error err = {0};
	const char *user = caller->login;
	struct api_mail_account acct;
	if (node->mail_pool == NULL) {
		api_error(req, 503, "MAIL-0503",
		          "no mail system is configured on this node ([mail] imap_url)");
		return -1;
	}
	/* the user's server and IMAP login, else [mail]'s and the Tandem login */
	if (api_mail_account(node, req, caller, &acct) < 0)
		return -1;
	struct imap_account account = {.url = acct.own_imap ? &acct.imap : NULL,
	                               .login = acct.login};
	for (int attempt = 0; attempt < 2; attempt++) {
		struct imap_client *client = NULL;
		bool reused = false;
		if (imap_pool_get_account(node->mail_pool, &account, &client, &reused, &err) < 0)
			break;
		int r = op(client, ctx, &err);
		bool stale = r < 0 && reused && imap_client_broken(client);
		imap_pool_put_account(node->mail_pool, &account, &client);
		if (r == 0)
			return 0;
		if (!stale)
			break;
	}
	mail_failed(req, user, &err);
	return -1;
}

/* --------------------------------------------------------------- folders */

struct folders_op {
	struct pool *pool;
	struct imap_folder *folders;
	size_t count;
};

static int folders_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct folders_op *op = ctx;
	return imap_client_folders(client, op->pool, &op->folders, &op->count, err);
}

static void mail_folders(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct folders_op op = {.pool = http_request_pool(req)};
	if (!api_auth(node, req, &user) || with_client(node, req, &user, folders_run, &op) < 0)
		return;
	json_t *list = json_array();
	for (size_t i = 0; i < op.count; i++) {
		const struct imap_folder *f = &op.folders[i];
		char delim[2] = {f->delimiter, '\0'};
		bool ascii = f->delimiter > 0 && f->delimiter < 0x7f; /* JSON wants UTF-8 */
		json_t *o =
		    json_pack("{s:s, s:s?, s:b, s:b, s:s?}", "name", f->name, "delimiter",
		              ascii ? delim : NULL, "selectable", !f->noselect, "subscribed",
		              f->subscribed, "special_use", imap_special_use_name(f->special_use));
		if (!f->noselect) {
			json_object_set_new(o, "total", json_integer(f->total));
			json_object_set_new(o, "unread", json_integer(f->unread));
		}
		json_array_append_new(list, o);
	}
	http_response_json(req, 200, json_pack("{s:o}", "folders", list));
}

/* --------------------------------------------------------------- messages */

/* How strictly folder_problem checks a name. */
enum folder_check {
	FOLDER_PATH,   /* of an existing folder, in the path or ?folder= */
	FOLDER_TARGET, /* move's and copy's "to" */
	FOLDER_NEW,    /* a folder's new name (create, rename) */
};

/* What is wrong with a folder name (UTF-8) the API was given, NULL when nothing is: it must
   be UTF-8 that fits modified UTF-7 on the wire; in a body also hold no control characters,
   no LIST wildcards, no quote or backslash, and have at most 200 characters; a new name also
   may not begin, end or double the hierarchy delimiter ("/" or "."). */
static const char *folder_problem(const char *name, enum folder_check check)
{
	char wire[MAIL_UTF7_MAX];
	const char *error;
	if (name == NULL || name[0] == '\0')
		return "is empty";
	if (mail_utf7_encode(name, wire, sizeof(wire), &error) < 0)
		return strcmp(error, "too long") == 0 ? "is too long" : "is not valid UTF-8";
	if (check == FOLDER_PATH)
		return NULL;
	size_t chars = 0, n = strlen(name);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		chars += (c & 0xc0) != 0x80;
		if (c < 0x20 || c == 0x7f)
			return "holds a control character";
		if (strchr("*%\"\\", c) != NULL)
			return "holds * % \" or \\";
		if (check == FOLDER_NEW && (c == '/' || c == '.') &&
		    (i == 0 || i == n - 1 || name[i + 1] == '/' || name[i + 1] == '.'))
			return "begins, ends or doubles the hierarchy delimiter (/ or .)";
	}
	return chars > 200 ? "is longer than 200 characters" : NULL;
}

static const struct {
	const char *name;
	enum imap_sort key;
} sorts[] = {
    {"date", IMAP_SORT_DATE},       {"arrival", IMAP_SORT_ARRIVAL}, {"from", IMAP_SORT_FROM},
    {"subject", IMAP_SORT_SUBJECT}, {"size", IMAP_SORT_SIZE},
};

struct page_op {
	struct pool *pool;
	const char *folder;
	enum imap_sort key;
	bool reverse;
	int64_t offset, limit;
	uint32_t total;
	bool server_sort;
	struct imap_message *msgs;
	size_t count;
};

static int page_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct page_op *op = ctx;
	uint32_t *uids;
	size_t n;
	if (imap_client_select(client, op->folder, &op->total, err) < 0)
		return -1;
	op->server_sort = imap_client_has_sort(client);
	if (op->total == 0) {
		op->count = 0;
		return 0;
	}
	if (imap_client_sorted_uids_cached(client, op->pool, op->key, op->reverse, &uids, &n, err) <
	    0)
		return -1;
	size_t from = (uint64_t)op->offset < n ? (size_t)op->offset : n;
	op->count = n - from < (size_t)op->limit ? n - from : (size_t)op->limit;
	op->msgs = pool_calloc(op->pool, op->count > 0 ? op->count : 1, sizeof(*op->msgs));
	return imap_client_fetch(client, op->pool, uids + from, op->count, op->msgs, err);
}

static json_t *message_json(const struct imap_message *m)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[] = {{IMAP_FLAG_SEEN, "seen"},
	             {IMAP_FLAG_ANSWERED, "answered"},
	             {IMAP_FLAG_FLAGGED, "flagged"},
	             {IMAP_FLAG_DELETED, "deleted"},
	             {IMAP_FLAG_DRAFT, "draft"}};
	char date[32] = "";
	time_t t = (time_t)m->date;
	struct tm tm;
	if (m->date > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *fl = json_array();
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (m->flags & flags[i].bit)
			json_array_append_new(fl, json_string(flags[i].name));
	/* every string is valid UTF-8 (lib-mail's mail_utf8): jansson accepts only that */
	return json_pack("{s:I, s:{s:s?, s:s?}, s:s, s:s?, s:o, s:I}", "uid", (json_int_t)m->uid,
	                 "from", "name", m->from.name, "email", m->from.email, "subject",
	                 m->subject, "date", date[0] != '\0' ? date : NULL, "flags", fl, "size",
	                 (json_int_t)m->size);
}

static void mail_messages(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct page_op op = {
	    .pool = http_request_pool(req), .reverse = true, .limit = PAGE_DEFAULT};
	if (!api_auth(node, req, &user))
		return;
	const char *sort = api_query(req, "sort"), *order = api_query(req, "order");
	op.folder = api_query(req, "folder");
	if (op.folder == NULL || op.folder[0] == '\0') {
		api_error(req, 400, "MAIL-0400", "the folder parameter is required");
		return;
	}
	const char *problem = folder_problem(op.folder, FOLDER_PATH);
	if (problem != NULL) {
		api_error(req, 400, "MAIL-0400", "the folder parameter %s", problem);
		return;
	}
	size_t i = 0;
	if (sort != NULL) {
		while (i < sizeof(sorts) / sizeof(sorts[0]) && strcmp(sorts[i].name, sort) != 0)
			i++;
		if (i == sizeof(sorts) / sizeof(sorts[0])) {
			api_error(req, 400, "MAIL-0400",
			          "sort must be date, arrival, from, subject or size");
			return;
		}
	}
	op.key = sorts[i].key;
	if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		api_error(req, 400, "MAIL-0400", "order must be asc or desc");
		return;
	}
	op.reverse = order == NULL || strcmp(order, "desc") == 0;
	if (api_query_count(req, "offset", "MAIL-0400", &op.offset) < 0 ||
	    api_query_count(req, "limit", "MAIL-0400", &op.limit) < 0)
		return;
	if (op.limit == 0 || op.limit > PAGE_MAX) {
		api_error(req, 400, "MAIL-0400", "limit must be between 1 and %d", PAGE_MAX);
		return;
	}
	if (api_mail_search(node, req, &user, op.folder, sorts[i].name, op.key, op.reverse,
	                    op.offset, op.limit))
		return; /* q= or thread=1: api-mail-search.c */
	if (with_client(node, req, &user, page_run, &op) < 0)
		return;
	json_t *list = json_array();
	for (size_t k = 0; k < op.count; k++)
		if (op.msgs[k].uid != 0) /* expunged meanwhile */
			json_array_append_new(list, message_json(&op.msgs[k]));
	http_response_json(req, 200,
	                   json_pack("{s:s, s:I, s:I, s:s, s:s, s:b, s:o}", "folder", op.folder,
	                             "total", (json_int_t)op.total, "offset", (json_int_t)op.offset,
	                             "sort", sorts[i].name, "order", op.reverse ? "desc" : "asc",
	                             "server_sort", op.server_sort, "messages", list));
}

/* --------------------------------------------------------------- one message */

struct read_op {
	struct pool *pool;
	const char *folder;
	uint32_t uid;
	struct imap_message summary;
	const char *data;
	size_t size;
};

static int read_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct read_op *op = ctx;
	uint32_t total;
	if (imap_client_select(client, op->folder, &total, err) < 0)
		return -1;
	return imap_client_fetch_raw(client, op->pool, op->uid, MAIL_READ_MAX, &op->data, &op->size,
	                             &op->summary, err);
}

/* The {folder} segment percent-decoded ('+' is a plus in a path, not a space). */
static const char *path_folder(struct http_request *req)
{
	const char *raw = http_request_param(req, "folder");
	struct pool *pool = http_request_pool(req);
	size_t n = strlen(raw), plus = 0;
	for (size_t i = 0; i < n; i++)
		plus += raw[i] == '+';
	char *escaped = pool_alloc(pool, n + 2 * plus + 1), *e = escaped;
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '+') {
			memcpy(e, "%2B", 3);
			e += 3;
		} else {
			*e++ = raw[i];
		}
	}
	char *out = pool_alloc(pool, (size_t)(e - escaped) + 1);
	http_url_decode((struct strv){escaped, (size_t)(e - escaped)}, out);
	return out;
}

/* The {folder} of the path, UTF-8; NULL after answering 400. */
static const char *path_folder_checked(struct http_request *req)
{
	const char *folder = path_folder(req), *problem = folder_problem(folder, FOLDER_PATH);
	if (problem != NULL) {
		api_error(req, 400, "MAIL-0400", "the folder in the path %s", problem);
		return NULL;
	}
	return folder;
}

/* The message's UID from the path; 0 (answered 404) when over 32 bits. */
static uint32_t path_uid(struct http_request *req)
{
	int64_t uid = http_request_param_id(req, "uid");
	if (uid > UINT32_MAX) {
		api_error(req, 404, "MAIL-0404", "no message with UID %lld", (long long)uid);
		return 0;
	}
	return (uint32_t)uid;
}

static void mail_message(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct read_op op = {.pool = http_request_pool(req)};
	if (!api_auth(node, req, &user))
		return;
	if ((op.uid = path_uid(req)) == 0)
		return;
	if ((op.folder = path_folder_checked(req)) == NULL ||
	    with_client(node, req, &user, read_run, &op) < 0)
		return;
	struct mail_message_view v;
	const char *error;
	if (mail_message_read(op.pool, op.data, op.size,
	                      mail_message_part_url_prefix(op.pool, op.folder, op.uid), &v,
	                      &error) < 0) {
		api_error(req, 502, "MAIL-0502", "message %u: %s", op.uid, error);
		return;
	}
	json_t *o = message_json(&op.summary);
	json_t *atts = json_array();
	for (size_t i = 0; i < v.attachment_count; i++)
		json_array_append_new(atts, json_pack("{s:s, s:s?, s:s, s:I}", "part",
		                                      v.attachments[i].part, "filename",
		                                      v.attachments[i].filename, "content_type",
		                                      v.attachments[i].content_type, "size",
		                                      (json_int_t)v.attachments[i].size));
	json_object_set_new(o, "folder", json_string(op.folder));
	json_object_set_new(o, "headers",
	                    json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "subject", v.subject,
	                              "from", v.from, "to", v.to, "cc", v.cc, "reply_to",
	                              v.reply_to, "message_id", v.message_id));
	json_object_set_new(o, "text", v.text != NULL ? json_string(v.text) : json_null());
	json_object_set_new(o, "text_truncated", json_boolean(v.text_truncated));
	json_object_set_new(o, "has_html", json_boolean(v.has_html));
	json_object_set_new(o, "attachments", atts);
	json_object_set_new(o, "html", v.html != NULL ? json_string(v.html) : json_null());
	json_object_set_new(o, "remote_content", json_boolean(v.remote_content));
	http_response_json(req, 200, o);
}

/* --------------------------------------------------------------- attachments */

/* Content-Disposition: attachment with an ASCII fallback filename= and the UTF-8 name as
   RFC 6266/8187 filename*=; path separators, controls and quotes never reach the client. */
static void attachment_disposition(struct http_request *req, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	struct pool *pool = http_request_pool(req);
	size_t n = strlen(name);
	char *ascii = pool_alloc(pool, n + 1), *ext = pool_alloc(pool, 3 * n + 1);
	size_t a = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
			c = '_';
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL;
		ascii[a++] = c >= 0x20 && c < 0x7f && c != '"' && c != '%' ? (char)c : '_';
		if (plain) {
			ext[e++] = (char)c;
		} else {
			ext[e++] = '%';
			ext[e++] = hex[c >> 4];
			ext[e++] = hex[c & 15];
		}
	}
	ascii[a] = ext[e] = '\0';
	http_response_headerf(req, "Content-Disposition",
	                      "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, ext);
}

/* "type/subtype" when it is two RFC 7230 tokens, else application/octet-stream. */
static const char *safe_type(const char *type)
{
	size_t slashes = 0;
	for (const char *p = type; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/')
			slashes++;
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           strchr("!#$&+-.^_`|~", c) != NULL))
			return "application/octet-stream";
	}
	return slashes == 1 && type[0] != '/' ? type : "application/octet-stream";
}

struct part_op {
	struct pool *pool;
	const char *folder, *part;
	uint32_t uid;
	int fd; /* the decoded part, an unnamed file in data_dir */
	struct mail_part_info info;
	struct mail_decoder *decoder;
};

static int part_chunk(void *ctx, const char *data, size_t size)
{
	return mail_decoder_write(ctx, data, size);
}

static int part_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct part_op *op = ctx;
	uint32_t total;
	const char *mime, *error;
	size_t mime_size;
	if (imap_client_select(client, op->folder, &total, err) < 0 ||
	    imap_client_fetch_part_mime(client, op->pool, op->uid, op->part, &mime, &mime_size,
	                                err) < 0)
		return -1;
	if (mail_part_headers(op->pool, mime, mime_size, &op->info, &error) < 0) {
		err->kind = MAIL_NOT_FOUND;
		snprintf(err->message, sizeof(err->message), "message %u, part %.40s: %s",
		         (unsigned)op->uid, op->part, error);
		return -1;
	}
	/* a retry on a fresh client starts the file again */
	if (ftruncate(op->fd, 0) < 0 || lseek(op->fd, 0, SEEK_SET) < 0) {
		err->kind = MAIL_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message), "cannot reset the part's file: %s",
		         strerror(errno));
		return -1;
	}
	struct mail_decoder *decoder = mail_decoder_create(op->fd, op->info.encoding);
	int r =
	    imap_client_fetch_part(client, op->uid, op->part, PART_CHUNK, part_chunk, decoder, err);
	if (mail_decoder_finish(&decoder) < 0 && r == 0) {
		err->kind = MAIL_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message), "cannot write the part's file: %s",
		         strerror(errno));
		r = -1;
	}
	return r;
}

/* An unnamed file in dir (O_TMPFILE; where the file system has none, a named one removed at
   once), or -1. */
static int temp_file(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/.mail-part-XXXXXX", dir) >= (int)sizeof(path))
		return -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static void mail_attachment(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct part_op op = {.pool = http_request_pool(req), .fd = -1};
	if (!api_auth(node, req, &user) || (op.uid = path_uid(req)) == 0)
		return;
	if ((op.folder = path_folder_checked(req)) == NULL)
		return;
	op.part = http_request_param(req, "part");
	if ((op.fd = temp_file(node->cfg.data_dir)) < 0) {
		log_error("mail", "a temporary file in %s: %s", node->cfg.data_dir,
		          strerror(errno));
		api_error(req, 500, "MAIL-0500", "cannot make a temporary file for the attachment");
		return;
	}
	if (with_client(node, req, &user, part_run, &op) < 0) {
		close(op.fd);
		return;
	}
	off_t size = lseek(op.fd, 0, SEEK_END);
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", safe_type(op.info.content_type));
	/* never rendered in Tandem's origin: a text/html attachment is a download */
	http_response_header(req, "X-Content-Type-Options", "nosniff");
	http_response_header(req, "Content-Security-Policy", "sandbox");
	attachment_disposition(req, op.info.filename != NULL ? op.info.filename : "attachment");
	http_response_file(req, op.fd, 0, size > 0 ? (uint64_t)size : 0); /* closes fd */
	http_response_send(req);
}

/* --------------------------------------------------------------- changes */

struct change_op {
	struct pool *pool;
	const char *folder, *to, *name;
	uint32_t uid;
	uint32_t add, remove; /* flags */
	json_t *subscribed;   /* folder PATCH: NULL, true or false */
};

/* Runs fn on a client and answers 204; with_client answers its failures. */
static void change(struct node *node, struct http_request *req, const struct api_user *user,
                   mail_op_fn *fn, struct change_op *op)
{
	if (with_client(node, req, user, fn, op) < 0)
		return;
	http_response_status(req, 204);
	http_response_send(req);
}

static int flags_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct change_op *op = ctx;
	uint32_t total;
	if (imap_client_select_write(client, op->folder, &total, err) < 0)
		return -1;
	return imap_client_set_flags(client, op->pool, op->uid, op->add, op->remove, err);
}

static int delete_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct change_op *op = ctx;
	uint32_t total;
	const char *trash;
	if (imap_client_special_folder(client, IMAP_SPECIAL_TRASH, &trash, err) < 0 ||
	    imap_client_select_write(client, op->folder, &total, err) < 0)
		return -1;
	if (strcmp(op->folder, trash) == 0)
		return imap_client_expunge(client, op->pool, op->uid, err);
	return imap_client_move(client, op->pool, op->uid, trash, err);
}

static int move_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct change_op *op = ctx;
	uint32_t total;
	if (imap_client_select_write(client, op->folder, &total, err) < 0)
		return -1;
	return imap_client_move(client, op->pool, op->uid, op->to, err);
}

/* The caller, the {folder} and {uid} of the path: false after answering. */
static bool message_target(struct node *node, struct http_request *req, struct api_user *user,
                           struct change_op *op)
{
	op->pool = http_request_pool(req);
	if (!api_auth(node, req, user) || (op->uid = path_uid(req)) == 0)
		return false;
	op->folder = path_folder_checked(req);
	return op->folder != NULL;
}

/* An optional boolean member: 0 absent, 1 present (*v_r), -1 after answering 400. */
static int body_bool(struct http_request *req, json_t *body, const char *key, bool *v_r)
{
	json_t *v = json_object_get(body, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		api_error(req, 400, "MAIL-0400", "%s must be true or false", key);
		return -1;
	}
	*v_r = json_is_true(v);
	return 1;
}

static void mail_message_patch(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct change_op op = {0};
	if (!message_target(node, req, &user, &op))
		return;
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	static const struct {
		const char *key;
		uint32_t flag;
	} keys[] = {{"seen", IMAP_FLAG_SEEN}, {"flagged", IMAP_FLAG_FLAGGED}};
	int found = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		bool on;
		int r = body_bool(req, body, keys[i].key, &on);
		if (r < 0) {
			json_decref(body);
			return;
		}
		found += r;
		if (r > 0)
			*(on ? &op.add : &op.remove) |= keys[i].flag;
	}
	json_decref(body);
	if (found == 0) {
		api_error(req, 400, "MAIL-0400", "give seen and/or flagged");
		return;
	}
	change(node, req, &user, flags_run, &op);
}

static void mail_message_delete(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct change_op op = {0};
	if (message_target(node, req, &user, &op))
		change(node, req, &user, delete_run, &op);
}

/* A folder name from a JSON body (UTF-8, as folder_problem allows); NULL after answering
   400. */
static const char *body_folder(struct http_request *req, json_t *body, const char *key,
                               enum folder_check check)
{
	json_t *v = json_object_get(body, key);
	const char *name = json_string_value(v);
	const char *problem = json_is_string(v) ? folder_problem(name, check) : "is not a string";
	if (problem != NULL) {
		api_error(req, 400, "MAIL-0400", "%s: the folder name %s", key, problem);
		return NULL;
	}
	return pool_strdup(http_request_pool(req), name);
}

static void mail_message_move(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct change_op op = {0};
	if (!message_target(node, req, &user, &op))
		return;
	json_t *body = api_body_object(req);
	if (body == NULL)
		return;
	op.to = body_folder(req, body, "to", FOLDER_TARGET);
	json_decref(body);
	if (op.to != NULL)
		change(node, req, &user, move_run, &op);
}

static int folder_create_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct change_op *op = ctx;
	return imap_client_folder_create(client, op->name, err);
}

static int folder_patch_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct change_op *op = ctx;
	const char *name = op->folder;
	if (op->name != NULL) {
		if (imap_client_folder_rename(client, op->folder, op->name, err) < 0)
			return -1;
		name = op->name;
	} else {
		bool exists;
		if (imap_client_folder_exists(client, name, &exists, err) < 0)
			return -1;
		if (!exists) {
			err->kind = MAIL_NOT_FOUND;
			snprintf(err->message, sizeof(err->message), "no folder \"%.60s\"", name);
			return -1;
		}
	}
	if (op->subscribed == NULL)
		return 0;
	return imap_client_folder_subscribe(client, name, json_is_true(op->subscribed), err);
}

static int folder_delete_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct change_op *op = ctx;
	return imap_client_folder_delete(client, op->folder, err);
}

static void mail_folder_create(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct change_op op = {0};
	json_t *body;
	if (!api_auth(node, req, &user) || (body = api_body_object(req)) == NULL)
		return;
	op.name = body_folder(req, body, "name", FOLDER_NEW);
	json_decref(body);
	if (op.name == NULL || with_client(node, req, &user, folder_create_run, &op) < 0)
		return;
	http_response_json(req, 201, json_pack("{s:s}", "name", op.name));
}

/* The {folder} of a folder path; NULL after refusing a bad name (400) or INBOX (409). */
static const char *folder_target(struct http_request *req, const char *what)
{
	const char *folder = path_folder_checked(req);
	if (folder != NULL && strcasecmp(folder, "INBOX") == 0) {
		api_error(req, 409, "MAIL-0409", "INBOX cannot be %s", what);
		return NULL;
	}
	return folder;
}

static void mail_folder_patch(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct change_op op = {0};
	json_t *body;
	if (!api_auth(node, req, &user) || (body = api_body_object(req)) == NULL)
		return;
	bool subscribed;
	int has_sub = body_bool(req, body, "subscribed", &subscribed);
	bool rename = json_object_get(body, "name") != NULL;
	if (has_sub >= 0 && rename)
		op.name = body_folder(req, body, "name", FOLDER_NEW);
	json_decref(body);
	if (has_sub < 0 || (rename && op.name == NULL))
		return;
	if (has_sub == 0 && !rename) {
		api_error(req, 400, "MAIL-0400", "give name and/or subscribed");
		return;
	}
	op.subscribed = has_sub > 0 ? json_boolean(subscribed) : NULL;
	op.folder = rename ? folder_target(req, "renamed") : path_folder_checked(req);
	if (op.folder != NULL)
		change(node, req, &user, folder_patch_run, &op);
	json_decref(op.subscribed);
}

static void mail_folder_delete(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	struct change_op op = {0};
	if (!api_auth(node, req, &user) || (op.folder = folder_target(req, "deleted")) == NULL)
		return;
	change(node, req, &user, folder_delete_run, &op);
}

const struct http_route api_mail_routes[] = {
    {"GET", "/api/v1/mail/folders", mail_folders, 0, NULL},
    {"GET", "/api/v1/mail/messages", mail_messages, 0, NULL},
    {"GET", "/api/v1/mail/messages/{folder}/{uid:id}", mail_message, 0, NULL},
    {"GET", "/api/v1/mail/messages/{folder}/{uid:id}/attachments/{part}", mail_attachment, 0, NULL},
    {"PATCH", "/api/v1/mail/messages/{folder}/{uid:id}", mail_message_patch, 0, NULL},
    {"DELETE", "/api/v1/mail/messages/{folder}/{uid:id}", mail_message_delete, 0, NULL},
    {"POST", "/api/v1/mail/messages/{folder}/{uid:id}/move", mail_message_move, 0, NULL},
    {"POST", "/api/v1/mail/folders", mail_folder_create, 0, NULL},
    {"PATCH", "/api/v1/mail/folders/{folder}", mail_folder_patch, 0, NULL},
    {"DELETE", "/api/v1/mail/folders/{folder}", mail_folder_delete, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

/* --------------------------------------------------------------- for api-mail-*.c */

int api_mail_with_client(struct node *node, struct http_request *req, const struct api_user *user,
                         api_mail_op_fn *op, void *ctx)
{
	return with_client(node, req, user, op, ctx);
}

json_t *api_mail_message_json(const struct imap_message *m)
{
	return message_json(m);
}

bool api_mail_message_target(struct node *node, struct http_request *req, struct api_user *user,
                             struct pool **pool_r, const char **folder_r, uint32_t *uid_r)
{
	struct change_op op = {0};
	if (!message_target(node, req, user, &op))
		return false;
	*pool_r = op.pool;
	*folder_r = op.folder;
	*uid_r = op.uid;
	return true;
}

const char *api_mail_body_folder(struct http_request *req, json_t *body, const char *key)
{
	return body_folder(req, body, key, FOLDER_TARGET);
}

int api_mail_read_path(struct node *node, struct http_request *req, const struct api_user *caller,
                       const char **folder_r, uint32_t *uid_r, const char **data_r, size_t *size_r)
{
	struct read_op op = {.pool = http_request_pool(req)};
	if ((op.uid = path_uid(req)) == 0)
		return -1;
	if ((op.folder = path_folder_checked(req)) == NULL ||
	    with_client(node, req, caller, read_run, &op) < 0)
		return -1;
	*folder_r = op.folder;
	*uid_r = op.uid;
	*data_r = op.data;
	*size_r = op.size;
	return 0;
}

int api_mail_fetch_part(struct imap_client *client, struct pool *pool, const char *folder,
                        uint32_t uid, const char *part, int fd, struct mail_part_info *info_r,
                        struct mail_error *err)
{
	struct part_op op = {.pool = pool, .folder = folder, .uid = uid, .part = part, .fd = fd};
	if (part_run(client, &op, err) < 0)
		return -1;
	*info_r = op.info;
	return 0;
}

int api_mail_temp_file(const char *dir)
{
	return temp_file(dir);
}
