/* SPDX-License-Identifier: MIT */
/* Sending mail (docs/mail.md "Sending", docs/internals/mail.md "Sending"): temporary uploads
   for attachments, POST /api/v1/mail/send and /api/v1/mail/drafts. A message is composed into
   an unnamed file in data_dir (GMime streams the attachments from their files), sent by SMTP
   to to+cc+bcc as the user, then APPENDed to Sent; one the SMTP server refuses or cannot
   take is APPENDed to Drafts instead, so nothing written is lost. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api-common.h"
#include "api-mail-account.h"
#include "api-mail.h"
#include "file-upload.h"
#include "http-json.h"
#include "http-server.h"
#include "imap-client.h"
#include "log.h"
#include "mem.h"
#include "mail-compose.h"
#include "mail-config.h"
#include "mail-message.h"
#include "node.h"
#include "pool.h"
#include "random.h"
#include "routes.h"
#include "smtp-client.h"
#include "storage-file.h"
#include "storage-schedule.h"
#include "storage.h"

#define UPLOADS_DIR     "mail-uploads"
#define UPLOAD_TTL_S    3600
#define RECIPIENTS_MAX  100
#define ATTACHMENTS_MAX 100
#define ORIGINAL_MAX    (32 * 1024 * 1024) /* read for a reply's ids */
#define UPLOAD_NAME_MAX 255
#define UPLOAD_TYPE_MAX 127

/* --------------------------------------------------------------- uploads */

struct upload {
	char path[4096];
	int fd;
	uint64_t size, max;
	int write_error;
	bool too_big, kept;
	struct api_user user;
};

static void uploads_dir(struct node *node, char *out, size_t size)
{
	snprintf(out, size, "%s/" UPLOADS_DIR, node->cfg.data_dir);
}

/* Upload ids are 32 hex digits; files are "<cid>.<uid>.<id>" (the content) and
   "<…>.meta" (name and type), so that one user never reaches another's. */
static bool upload_id_valid(const char *id)
{
	if (id == NULL || strlen(id) != 32)
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static void upload_path(struct node *node, const struct api_user *user, const char *id,
                        const char *suffix, char *out, size_t size)
{
	char dir[4096];
	uploads_dir(node, dir, sizeof(dir));
	snprintf(out, size, "%s/%lld.%lld.%s%s", dir, (long long)user->cid, (long long)user->uid,
	         id, suffix);
}

static void upload_cleanup(void *ctx)
{
	struct upload *up = ctx;
	if (up->fd >= 0)
		close(up->fd);
	up->fd = -1;
	if (!up->kept && up->path[0] != '\0')
		unlink(up->path);
	up->path[0] = '\0';
}

static int upload_sink(void *ctx, const char *data, size_t len)
{
	struct upload *up = ctx;
	if (len == 0 || up->fd < 0)
		return up->fd < 0 ? -1 : 0;
	up->size += len;
	if (up->size > up->max) {
		up->too_big = true;
		return -1;
	}
	while (len > 0) {
		ssize_t w = write(up->fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			up->write_error = w < 0 ? errno : EIO;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Loop thread, before the body: refuse what is announced too big, else stream it to a file. */
static void upload_head(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct pool *pool = http_request_pool(req);
	struct upload *up = pool_calloc(pool, 1, sizeof(*up));
	char id[33], dir[4096];
	up->fd = -1;
	up->max = node->cfg.mail.max_message_size;
	if (!api_auth(node, req, &up->user))
		return;
	const struct http_request_head *head = http_request_head(req);
	if (head->body_kind == HTTP_BODY_LENGTH && head->content_length > up->max) {
		api_error(req, 413, "MAIL-0413",
		          "the attachment is over %llu bytes ([mail] max_message_size)",
		          (unsigned long long)up->max);
		return;
	}
	random_hex(id, 16);
	uploads_dir(node, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		up->write_error = errno;
	upload_path(node, &up->user, id, "", up->path, sizeof(up->path));
	if (up->write_error == 0) {
		up->fd = open(up->path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (up->fd < 0)
			up->write_error = errno;
	}
	if (up->write_error != 0)
		up->path[0] = '\0';
	pool_add_cleanup(pool, upload_cleanup, up);
	http_request_set_body_sink(req, upload_sink, up);
	http_request_set_context(req, up);
}

/* Drops uploads older than UPLOAD_TTL_S (any user's: they are all temporary). */
static void uploads_expire(struct node *node)
{
	char dir[4096], path[4400];
	uploads_dir(node, dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && now - st.st_mtime > UPLOAD_TTL_S)
			unlink(path);
	}
	closedir(d);
}

static void mail_upload(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct upload *up = http_request_get_context(req);
	if (up == NULL) {
		api_error(req, 500, "MAIL-0500", "the upload was not prepared");
		return;
	}
	uploads_expire(node);
	if (up->too_big || up->write_error != 0)
		upload_cleanup(up); /* gone before the answer, not when the pool goes after it */
	if (up->too_big) {
		api_error(req, 413, "MAIL-0413",
		          "the attachment is over %llu bytes ([mail] max_message_size)",
		          (unsigned long long)up->max);
		return;
	}
	if (up->write_error != 0) {
		log_error("mail", "an upload in %s: %s", node->cfg.data_dir,
		          strerror(up->write_error));
		api_error(req, 507, "MAIL-0507", "the server cannot keep the attachment");
		return;
	}
	const char *name = api_query(req, "name");
	struct strv type = http_request_header(req, "Content-Type");
	if (name == NULL || name[0] == '\0' || strlen(name) > UPLOAD_NAME_MAX ||
	    strpbrk(name, "\r\n/\\") != NULL) {
		api_error(req, 400, "MAIL-0400",
		          "name must be the file's name (1-255 bytes, no line breaks or slashes)");
		return;
	}
	const char *ctype = type.ptr != NULL && type.len > 0 && type.len <= UPLOAD_TYPE_MAX
	                        ? pool_strndup(http_request_pool(req), type.ptr, type.len)
	                        : "application/octet-stream";
	if (strpbrk(ctype, "\r\n") != NULL || strchr(ctype, '/') == NULL)
		ctype = "application/octet-stream";
	const char *id = strrchr(up->path, '.') + 1;
	char meta_path[4200];
	upload_path(node, &up->user, id, ".meta", meta_path, sizeof(meta_path));
	json_t *meta = json_pack("{s:s, s:s}", "name", name, "type", ctype);
	int r = json_dump_file(meta, meta_path, JSON_COMPACT);
	json_decref(meta);
	if (r < 0) {
		unlink(meta_path);
		upload_cleanup(up);
		api_error(req, 507, "MAIL-0507", "the server cannot keep the attachment");
		return;
	}
	up->kept = true;
	http_response_json(req, 201,
	                   json_pack("{s:s, s:s, s:I, s:s}", "id", id, "name", name, "size",
	                             (json_int_t)up->size, "type", ctype));
}

/* --------------------------------------------------------------- the request */

struct mail_ref {
	const char *folder;
	uint32_t uid;
};

/* An attachment that is a part of another message: fetched into att[index] before
   composing. */
struct message_part {
	struct mail_ref ref;
	const char *part;
	size_t index;
};

struct send_op {
	struct node *node;
	struct http_request *req;
	struct pool *pool;
	struct api_user user;
	struct api_mail_account acct; /* where the user's mail is */
	bool draft_only;              /* POST /drafts */
	const char *email, *name;
	const char **to, **cc, **bcc; /* as given */
	const char **rcpts;           /* addresses alone: to, cc, bcc */
	size_t to_count, cc_count, bcc_count, rcpt_count;
	const char *subject, *text, *html;
	struct mail_ref in_reply_to, forward_of, draft;
	/* attachments */
	struct mail_compose_attachment *att;
	size_t att_count;
	const char **upload_paths; /* removed once sent */
	size_t upload_count;
	struct message_part *msg_parts;
	size_t msg_part_count;
	/* the composed message */
	int fd;
	uint64_t size;
	const char *in_reply_to_id, *references;
	/* results */
	const char *saved_folder;
	uint32_t saved_uid;
};

/* An optional {"folder","uid"} member; false after answering 400. */
static bool ref_member(struct http_request *req, json_t *body, const char *key, struct mail_ref *r)
{
	json_t *v = json_object_get(body, key);
	if (v == NULL || json_is_null(v))
		return true;
	const char *folder = json_string_value(json_object_get(v, "folder"));
	json_t *uid = json_object_get(v, "uid");
	if (folder == NULL || folder[0] == '\0' || !json_is_integer(uid) ||
	    json_integer_value(uid) <= 0 || json_integer_value(uid) > UINT32_MAX) {
		api_error(req, 400, "MAIL-0400", "%s must be {\"folder\": name, \"uid\": number}",
		          key);
		return false;
	}
	r->folder = pool_strdup(http_request_pool(req), folder);
	r->uid = (uint32_t)json_integer_value(uid);
	return true;
}

/* An optional array of addresses; false after answering 400. */
static bool address_list(struct send_op *op, json_t *body, const char *key, const char ***list_r,
                         size_t *count_r)
{
	json_t *v = json_object_get(body, key);
	*count_r = 0;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > RECIPIENTS_MAX) {
		api_error(op->req, 400, "MAIL-0400", "%s must be an array of at most %d addresses",
		          key, RECIPIENTS_MAX);
		return false;
	}
	size_t n = json_array_size(v);
	*list_r = pool_calloc(op->pool, n + 1, sizeof(**list_r));
	for (size_t i = 0; i < n; i++) {
		const char *text = json_string_value(json_array_get(v, i)), *email, *error;
		if (text == NULL || mail_compose_address(op->pool, text, &email, &error) < 0) {
			api_error(op->req, 400, "MAIL-0400", "%s[%zu]: %s", key, i,
			          text == NULL ? "not a string" : error);
			return false;
		}
		(*list_r)[i] = pool_strdup(op->pool, text);
		if (op->rcpt_count < 3 * RECIPIENTS_MAX)
			op->rcpts[op->rcpt_count++] = email;
	}
	*count_r = n;
	return true;
}

static bool optional_string(struct http_request *req, json_t *body, const char *key,
                            const char **v_r)
{
	json_t *v = json_object_get(body, key);
	*v_r = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		api_error(req, 400, "MAIL-0400", "%s must be a string", key);
		return false;
	}
	*v_r = pool_strdup(http_request_pool(req), json_string_value(v));
	return true;
}

/* The user's upload id: its content opened and its name and type; false after answering. */
static bool attach_upload(struct send_op *op, const char *id, struct mail_compose_attachment *a)
{
	char path[4200], meta_path[4200];
	if (!upload_id_valid(id)) {
		api_error(op->req, 400, "MAIL-0400",
		          "attachments: \"upload\" must be an upload's id");
		return false;
	}
	upload_path(op->node, &op->user, id, "", path, sizeof(path));
	upload_path(op->node, &op->user, id, ".meta", meta_path, sizeof(meta_path));
	json_t *meta = json_load_file(meta_path, 0, NULL);
	a->fd = meta != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (a->fd < 0) {
		json_decref(meta);
		api_error(op->req, 404, "MAIL-0404",
		          "no upload %s (uploads are kept for an hour, until sent)", id);
		return false;
	}
	a->name = pool_strdup(op->pool, json_string_value(json_object_get(meta, "name")));
	a->content_type = pool_strdup(op->pool, json_string_value(json_object_get(meta, "type")));
	json_decref(meta);
	op->upload_paths[op->upload_count++] = pool_strdup(op->pool, path);
	op->upload_paths[op->upload_count++] = pool_strdup(op->pool, meta_path);
	return true;
}

/* One of the user's files, which the user may read; false after answering. */
static bool attach_file(struct send_op *op, json_int_t id, struct mail_compose_attachment *a)
{
	struct storage_user *su =
	    storage_user_create(op->node->storage, op->pool, op->user.cid, op->user.uid);
	struct infostore_file file;
	struct infostore_version v;
	struct storage_error err;
	if (storage_file_open(su, id, 0, &file, &v, &a->fd, &err) < 0) {
		struct file_refusal why;
		file_refusal_storage(&why, &err);
		api_error(op->req, why.status, why.code, "attachments: file %lld: %s",
		          (long long)id, why.message);
		return false;
	}
	a->name = pool_strdup(op->pool, file.name);
	a->content_type = pool_strdup(op->pool, file.content_type);
	return true;
}

static bool parse_attachments(struct send_op *op, json_t *body)
{
	json_t *list = json_object_get(body, "attachments");
	if (list == NULL || json_is_null(list))
		return true;
	if (!json_is_array(list) || json_array_size(list) > ATTACHMENTS_MAX) {
		api_error(op->req, 400, "MAIL-0400", "attachments must be an array of at most %d",
		          ATTACHMENTS_MAX);
		return false;
	}
	size_t n = json_array_size(list);
	/* not in the request's pool: the files are closed after the answer, which frees it */
	op->att = mem_calloc(n + 1, sizeof(*op->att));
	op->upload_paths = pool_calloc(op->pool, 2 * n + 1, sizeof(*op->upload_paths));
	op->msg_parts = pool_calloc(op->pool, n + 1, sizeof(*op->msg_parts));
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(list, i), *v;
		struct mail_compose_attachment *att = &op->att[op->att_count];
		att->fd = -1;
		if ((v = json_object_get(a, "upload")) != NULL) {
			if (!attach_upload(op, json_string_value(v), att))
				return false;
		} else if ((v = json_object_get(a, "file")) != NULL && json_is_integer(v)) {
			if (!attach_file(op, json_integer_value(v), att))
				return false;
		} else if ((v = json_object_get(a, "message")) != NULL) {
			struct message_part *mp = &op->msg_parts[op->msg_part_count];
			const char *part = json_string_value(json_object_get(v, "part"));
			if (!ref_member(op->req, a, "message", &mp->ref))
				return false;
			if (mp->ref.folder == NULL || part == NULL || part[0] == '\0' ||
			    strspn(part, "0123456789.") != strlen(part)) {
				api_error(op->req, 400, "MAIL-0400",
				          "attachments[%zu].message must be {\"folder\", \"uid\", "
				          "\"part\"}",
				          i);
				return false;
			}
			mp->part = pool_strdup(op->pool, part);
			mp->index = op->att_count;
			op->msg_part_count++;
		} else {
			api_error(op->req, 400, "MAIL-0400",
			          "attachments[%zu] must be {\"upload\": id}, {\"file\": id} or "
			          "{\"message\": {\"folder\", \"uid\", \"part\"}}",
			          i);
			return false;
		}
		op->att_count++;
	}
	return true;
}

static void close_attachments(struct send_op *op)
{
	for (size_t i = 0; i < op->att_count; i++)
		if (op->att[i].fd >= 0)
			close(op->att[i].fd);
	mem_free(&op->att);
	op->att_count = 0;
}

/* The body into op; false after answering. */
static bool parse_body(struct send_op *op, json_t *body)
{
	const char *from = NULL;
	op->rcpts = pool_calloc(op->pool, 3 * RECIPIENTS_MAX + 1, sizeof(*op->rcpts));
	if (!optional_string(op->req, body, "from", &from) ||
	    !optional_string(op->req, body, "subject", &op->subject) ||
	    !optional_string(op->req, body, "text", &op->text) ||
	    !optional_string(op->req, body, "html", &op->html) ||
	    !address_list(op, body, "to", &op->to, &op->to_count) ||
	    !address_list(op, body, "cc", &op->cc, &op->cc_count) ||
	    !address_list(op, body, "bcc", &op->bcc, &op->bcc_count) ||
	    !ref_member(op->req, body, "in_reply_to", &op->in_reply_to) ||
	    !ref_member(op->req, body, "forward_of", &op->forward_of) ||
	    !ref_member(op->req, body, "draft", &op->draft))
		return false;
	if (op->subject != NULL)
		for (char *p = (char *)op->subject; *p != '\0'; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' '; /* one header line: no header of the user's own making */
	if (from != NULL) {
		const char *email, *error;
		if (mail_compose_address(op->pool, from, &email, &error) < 0 ||
		    strcasecmp(email, op->email) != 0) {
			api_error(op->req, 400, "MAIL-0400", "from must be your own address (%s)",
			          op->email);
			return false;
		}
	}
	if (!op->draft_only && op->rcpt_count == 0) {
		api_error(op->req, 400, "MAIL-0400", "a message needs a recipient (to, cc or bcc)");
		return false;
	}
	return parse_attachments(op, body);
}

/* --------------------------------------------------------------- IMAP steps */

static int fail_local(struct mail_error *err, const char *what)
{
	err->kind = MAIL_UNAVAILABLE;
	snprintf(err->message, sizeof(err->message), "%s: %s", what, strerror(errno));
	return -1;
}

/* Before composing: the parts of other messages into files, and a reply's ids. */
static int gather_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct send_op *op = ctx;
	for (size_t i = 0; i < op->msg_part_count; i++) {
		const struct message_part *mp = &op->msg_parts[i];
		struct mail_compose_attachment *a = &op->att[mp->index];
		struct mail_part_info info;
		if (a->fd < 0 && (a->fd = api_mail_temp_file(op->node->cfg.data_dir)) < 0)
			return fail_local(err, "a temporary file for an attachment");
		if (api_mail_fetch_part(client, op->pool, mp->ref.folder, mp->ref.uid, mp->part,
		                        a->fd, &info, err) < 0)
			return -1;
		a->name = info.filename != NULL ? info.filename : "attachment";
		a->content_type = info.content_type;
	}
	if (op->in_reply_to.folder != NULL) {
		uint32_t total;
		const char *data;
		size_t size;
		struct imap_message summary;
		if (imap_client_select(client, op->in_reply_to.folder, &total, err) < 0 ||
		    imap_client_fetch_raw(client, op->pool, op->in_reply_to.uid, ORIGINAL_MAX,
		                          &data, &size, &summary, err) < 0)
			return err->kind == MAIL_TOO_LARGE ? 0 : -1;
		mail_compose_reply_ids(op->pool, data, size, &op->in_reply_to_id, &op->references);
	}
	return 0;
}

/* APPENDs the composed message to the folder for use (Sent or Drafts): op->saved_folder. */
static int append_message(struct imap_client *client, struct send_op *op, enum imap_special_use use,
                          uint32_t flags, struct mail_error *err)
{
	const char *folder;
	if (imap_client_special_folder(client, use, &folder, err) < 0)
		return -1;
	op->saved_folder = pool_strdup(op->pool, folder);
	void *data = mmap(NULL, op->size, PROT_READ, MAP_PRIVATE, op->fd, 0);
	if (data == MAP_FAILED)
		return fail_local(err, "reading the composed message");
	int r = imap_client_append(client, op->saved_folder, flags, data, op->size, &op->saved_uid,
	                           err);
	munmap(data, op->size);
	return r;
}

/* A flag on another message; a message gone meanwhile is no failure of the send. */
static void flag_message(struct imap_client *client, struct send_op *op, const struct mail_ref *r,
                         uint32_t flag)
{
	struct mail_error err = {0};
	uint32_t total;
	if (r->folder == NULL)
		return;
	if (imap_client_select_write(client, r->folder, &total, &err) < 0 ||
	    imap_client_set_flags(client, op->pool, r->uid, flag, 0, &err) < 0)
		log_info("mail", "%s: flagging message %u of %s: %s", op->user.login,
		         (unsigned)r->uid, r->folder, err.message);
}

static void drop_old_draft(struct imap_client *client, struct send_op *op)
{
	struct mail_error err = {0};
	uint32_t total;
	if (op->draft.folder == NULL)
		return;
	if (imap_client_select_write(client, op->draft.folder, &total, &err) < 0 ||
	    imap_client_expunge(client, op->pool, op->draft.uid, &err) < 0)
		log_info("mail", "%s: removing draft %u of %s: %s", op->user.login,
		         (unsigned)op->draft.uid, op->draft.folder, err.message);
}

/* After a send: the Sent copy, the original's flag, the old draft gone. */
static int sent_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct send_op *op = ctx;
	if (append_message(client, op, IMAP_SPECIAL_SENT, IMAP_FLAG_SEEN, err) < 0)
		return -1;
	flag_message(client, op, &op->in_reply_to, IMAP_FLAG_ANSWERED);
	flag_message(client, op, &op->forward_of, IMAP_FLAG_FORWARD);
	drop_old_draft(client, op);
	return 0;
}

/* A draft (saved, or a send that failed): into Drafts, the one it replaces gone. */
static int draft_run(struct imap_client *client, void *ctx, struct mail_error *err)
{
	struct send_op *op = ctx;
	if (append_message(client, op, IMAP_SPECIAL_DRAFTS, IMAP_FLAG_DRAFT | IMAP_FLAG_SEEN, err) <
	    0)
		return -1;
	drop_old_draft(client, op);
	return 0;
}

/* --------------------------------------------------------------- handlers */

static bool compose(struct send_op *op)
{
	const char *error, *message_id;
	struct mail_compose c = {
	    .from_name = op->name,
	    .from_email = op->email,
	    .to = op->to,
	    .to_count = op->to_count,
	    .cc = op->cc,
	    .cc_count = op->cc_count,
	    .subject = op->subject,
	    .text = op->text,
	    .html = op->html,
	    .in_reply_to = op->in_reply_to_id,
	    .references = op->references,
	    .attachments = op->att,
	    .attachment_count = op->att_count,
	};
	/* the cap is on what the user wrote and attached, before transfer encoding */
	uint64_t total =
	    (op->text != NULL ? strlen(op->text) : 0) + (op->html != NULL ? strlen(op->html) : 0);
	for (size_t i = 0; i < op->att_count; i++) {
		struct stat st;
		if (fstat(op->att[i].fd, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	if (total > op->node->cfg.mail.max_message_size) {
		api_error(op->req, 413, "MAIL-0413",
		          "the message is %llu bytes, over %llu ([mail] max_message_size)",
		          (unsigned long long)total,
		          (unsigned long long)op->node->cfg.mail.max_message_size);
		return false;
	}
	if ((op->fd = api_mail_temp_file(op->node->cfg.data_dir)) < 0) {
		log_error("mail", "a temporary file in %s: %s", op->node->cfg.data_dir,
		          strerror(errno));
		api_error(op->req, 500, "MAIL-0500",
		          "cannot make a temporary file for the message");
		return false;
	}
	if (mail_compose_write(op->pool, &c, op->fd, &op->size, &message_id, &error) < 0) {
		log_error("mail", "%s: %s", op->user.login, error);
		api_error(op->req, 500, "MAIL-0500", "%s", error);
		return false;
	}
	return true;
}

/* Everything up to a composed message in op->fd; false after answering. */
static bool prepare(struct node *node, struct http_request *req, struct send_op *op)
{
	struct storage_error serr;
	op->node = node;
	op->req = req;
	op->pool = http_request_pool(req);
	op->fd = -1;
	if (!api_auth(node, req, &op->user))
		return false;
	if (node->mail_pool == NULL) {
		api_error(req, 503, "MAIL-0503",
		          "no mail system is configured on this node ([mail] imap_url)");
		return false;
	}
	/* the user's SMTP server and login, else [mail]'s and the Tandem login */
	if (api_mail_account(node, req, &op->user, &op->acct) < 0)
		return false;
	if (!op->draft_only && !op->acct.smtp_set) {
		api_error(req, 503, "MAIL-0503",
		          "no SMTP server is configured on this node ([mail] smtp_url)");
		return false;
	}
	struct storage_user *su =
	    storage_user_create(node->storage, op->pool, op->user.cid, op->user.uid);
	if (storage_sched_whoami(su, &op->email, &op->name, &serr) < 0 || op->email == NULL ||
	    op->email[0] == '\0') {
		api_error(req, 409, "MAIL-0409", "you have no e-mail address to send from");
		return false;
	}
	json_t *body = api_body_object(req);
	if (body == NULL)
		return false;
	bool ok = parse_body(op, body);
	json_decref(body);
	if (!ok)
		return false;
	if ((op->msg_part_count > 0 || op->in_reply_to.folder != NULL) &&
	    api_mail_with_client(node, req, &op->user, gather_run, op) < 0)
		return false;
	return compose(op);
}

static void finish(struct send_op *op)
{
	close_attachments(op);
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
}

static void mail_send(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct send_op op = {0};
	struct mail_error err = {0};
	if (!prepare(node, req, &op))
		goto out;
	const struct mail_settings *ms = &node->cfg.mail;
	struct smtp_client_settings set = {
	    .url = &op.acct.smtp,
	    .timeout_ms = (unsigned)ms->timeout_ms,
	    .master_user = ms->master_user,
	    .master_password = ms->master_password,
	};
	if (smtp_client_send(&set, op.acct.login, op.email, op.rcpts, op.rcpt_count, op.fd, op.size,
	                     &err) < 0) {
		/* kept as a draft: nothing written is lost */
		int status = err.kind == MAIL_REFUSED ? 502 : 503;
		log_warn("mail", "%s: sending: %s", op.user.login, err.message);
		char reason[sizeof(err.message)];
		memcpy(reason, err.message, sizeof(reason));
		if (api_mail_with_client(node, req, &op.user, draft_run, &op) < 0)
			goto out;
		json_t *answer = json_pack(
		    "{s:{s:s, s:s}, s:{s:s, s:I}}", "error", "code",
		    status == 502 ? "MAIL-0502" : "MAIL-0503", "message",
		    pool_printf(op.pool, "not sent (kept in %s): %s", op.saved_folder, reason),
		    "draft", "folder", op.saved_folder, "uid", (json_int_t)op.saved_uid);
		http_response_json(req, status, answer);
		goto out;
	}
	for (size_t i = 0; i < op.upload_count; i++)
		unlink(op.upload_paths[i]);
	log_info("mail", "%s: sent %llu bytes to %zu recipients", op.user.login,
	         (unsigned long long)op.size, op.rcpt_count);
	if (api_mail_with_client(node, req, &op.user, sent_run, &op) < 0)
		goto out;
	http_response_json(req, 200,
	                   json_pack("{s:b, s:{s:s, s:I}}", "sent", true, "sent_copy", "folder",
	                             op.saved_folder, "uid", (json_int_t)op.saved_uid));
out:
	finish(&op);
}

static void mail_draft(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct send_op op = {.draft_only = true};
	if (!prepare(node, req, &op) ||
	    api_mail_with_client(node, req, &op.user, draft_run, &op) < 0)
		goto out;
	http_response_json(
	    req, 201,
	    json_pack("{s:s, s:I}", "folder", op.saved_folder, "uid", (json_int_t)op.saved_uid));
out:
	finish(&op);
}

const struct http_route api_mail_send_routes[] = {
    {"POST", "/api/v1/mail/attachments", mail_upload, 0, upload_head},
    {"POST", "/api/v1/mail/send", mail_send, 0, NULL},
    {"POST", "/api/v1/mail/drafts", mail_draft, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
