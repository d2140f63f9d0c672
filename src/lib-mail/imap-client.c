/* SPDX-License-Identifier: MIT */
/* The IMAP client: libetpan does the protocol and parses every response; this file turns its
   structures into Tandem's, and its error codes into the kinds the API answers with. */
#include "imap-client.h"

#include <libetpan/libetpan.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap-thread.h"
#include "mail-message.h"
#include "mail-utf7.h"
#include "mem.h"
#include "pool.h"

struct imap_client {
	mailimap *imap;
	char server[MAIL_URL_HOST_MAX + 8];
	bool broken;
	bool no_sort;
	bool no_move;
	/* the folder the last EXAMINE opened, while nothing else was selected since: the next
	   imap_client_select of it sends NOOP instead (a new EXAMINE makes Dovecot read a Maildir's
	   whole uidlist again on the first message access: ~100 ms at 100,000 messages) */
	char *examined;
	/* imap_client_sorted_uids_cached's last answer for the examined folder */
	struct {
		uint32_t *uids;
		size_t count;
		enum imap_sort key;
		bool reverse;
		uint32_t state[3]; /* the folder's MESSAGES, UIDNEXT, UIDVALIDITY then */
	} sorted;
	/* imap_client_special_folder's answers, UTF-8 (mem); special_read: LIST was read */
	char *special[IMAP_SPECIAL_COUNT];
	bool special_read;
};

/* Any command that selects, closes, renames or deletes a folder calls this first. */
static void forget_examined(struct imap_client *c)
{
	mem_free(&c->examined);
	mem_free(&c->sorted.uids);
}

/* After a folder is renamed or deleted. */
static void forget_special(struct imap_client *c)
{
	for (size_t i = 0; i < IMAP_SPECIAL_COUNT; i++)
		mem_free(&c->special[i]);
	c->special_read = false;
}

static int fail(struct imap_client *c, struct mail_error *err, enum mail_error_kind kind,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct imap_client *c, struct mail_error *err, enum mail_error_kind kind,
                const char *fmt, ...)
{
	char what[140];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err->kind = kind;
	snprintf(err->message, sizeof(err->message), "IMAP server %.100s: %s", c->server, what);
	return -1;
}

/* libetpan's result r of command what: connection-level failures break the client. */
static int failed(struct imap_client *c, struct mail_error *err, int r, const char *what,
                  enum mail_error_kind refused)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_MEMORY:
		c->broken = true;
		return fail(c, err, MAIL_UNAVAILABLE, "%s failed: %s", what,
		            r == MAILIMAP_ERROR_PARSE ? "unreadable response"
		                                      : "connection lost or timed out");
	default: {
		const char *text = c->imap != NULL ? c->imap->imap_response : NULL;
		return fail(c, err, refused, "%s refused: %.120s", what,
		            text != NULL && text[0] != '\0' ? text : "no reason given");
	}
	}
}

int imap_client_connect(const struct mail_url *url, unsigned timeout_ms,
                        struct imap_client **client_r, struct mail_error *err)
{
	struct imap_client *c = mem_calloc(1, sizeof(*c));
	snprintf(c->server, sizeof(c->server), "%s:%u", url->host, (unsigned)url->port);
	c->imap = mailimap_new(0, NULL);
	if (c->imap == NULL)
		abort();
	mailimap_set_timeout(c->imap, (time_t)((timeout_ms + 999) / 1000));
	int r = url->tls ? mailimap_ssl_connect(c->imap, url->host, url->port)
	                 : mailimap_socket_connect(c->imap, url->host, url->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		fail(c, err, MAIL_UNAVAILABLE, "cannot connect%s",
		     r == MAILIMAP_ERROR_CONNECTION_REFUSED ? " (refused or unreachable)"
		     : r == MAILIMAP_ERROR_SSL              ? " (TLS handshake failed)"
		     : r == MAILIMAP_ERROR_STREAM
		         ? " (no greeting in time, or the connection closed)"
		         : "");
		imap_client_destroy(&c);
		return -1;
	}
	*client_r = c;
	return 0;
}

void imap_client_destroy(struct imap_client **client)
{
	struct imap_client *c = *client;
	if (c == NULL)
		return;
	if (c->imap != NULL) {
		if (!c->broken && c->imap->imap_stream != NULL)
			(void)mailimap_logout(c->imap);
		mailimap_free(c->imap);
	}
	forget_examined(c);
	forget_special(c);
	mem_free(&c);
	*client = NULL;
}

int imap_client_login(struct imap_client *c, const char *user, const char *master,
                      const char *password, struct mail_error *err)
{
	char login[600];
	if (master != NULL)
		snprintf(login, sizeof(login), "%s*%s", user, master);
	else
		snprintf(login, sizeof(login), "%s", user);
	int r = mailimap_login(c->imap, login, password);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, master != NULL ? "master-user login" : "login", MAIL_AUTH);
	/* the capabilities after login (Dovecot announces SORT only then) */
	struct mailimap_capability_data *caps = NULL;
	r = mailimap_capability(c->imap, &caps);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "CAPABILITY", MAIL_REFUSED);
	mailimap_capability_data_free(caps);
	return 0;
}

bool imap_client_broken(const struct imap_client *c)
{
	return c->broken;
}

bool imap_client_has_sort(const struct imap_client *c)
{
	return !c->no_sort && mailimap_has_extension(c->imap, "SORT");
}

void imap_client_disable_sort(struct imap_client *c)
{
	c->no_sort = true;
}

/* ---------------------------------------------------------------- folders */

/* A folder name (UTF-8) as the server has it (modified UTF-7) into w; MAIL_NOT_FOUND for a
   name no folder can have. */
static int wire(struct imap_client *c, const char *name, char w[MAIL_UTF7_MAX],
                struct mail_error *err)
{
	const char *error;
	if (mail_utf7_encode(name, w, MAIL_UTF7_MAX, &error) < 0)
		return fail(c, err, MAIL_NOT_FOUND, "folder name %s", error);
	return 0;
}

static int status_of(struct imap_client *c, const char *w, struct imap_folder *f,
                     struct mail_error *err)
{
	struct mailimap_status_att_list *atts = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *st = NULL;
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UNSEEN);
	int r = mailimap_status(c->imap, w, atts, &st);
	mailimap_status_att_list_free(atts);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "STATUS", MAIL_REFUSED);
	for (clistiter *it = st->st_info_list != NULL ? clist_begin(st->st_info_list) : NULL;
	     it != NULL; it = clist_next(it)) {
		struct mailimap_status_info *info = clist_content(it);
		if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
			f->total = info->st_value;
		else if (info->st_att == MAILIMAP_STATUS_ATT_UNSEEN)
			f->unread = info->st_value;
	}
	mailimap_mailbox_data_status_free(st);
	return 0;
}

static bool list_noselect(const struct mailimap_mbx_list_flags *flags)
{
	if (flags == NULL)
		return false;
	if (flags->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    flags->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		return true;
	for (clistiter *it = clist_begin(flags->mbf_oflags); it != NULL; it = clist_next(it)) {
		struct mailimap_mbx_list_oflag *o = clist_content(it);
		if (o->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && o->of_flag_ext != NULL &&
		    strcasecmp(o->of_flag_ext, "NonExistent") == 0)
			return true;
	}
	return false;
}

static const struct {
	const char *attribute, *name, *fallback;
} specials[IMAP_SPECIAL_COUNT] = {
    [IMAP_SPECIAL_TRASH] = {"Trash", "trash", "Trash"},
    [IMAP_SPECIAL_SENT] = {"Sent", "sent", "Sent"},
    [IMAP_SPECIAL_DRAFTS] = {"Drafts", "drafts", "Drafts"},
    [IMAP_SPECIAL_JUNK] = {"Junk", "junk", NULL},
    [IMAP_SPECIAL_ARCHIVE] = {"Archive", "archive", NULL},
};

const char *imap_special_use_name(enum imap_special_use use)
{
	return use > IMAP_SPECIAL_NONE && use < IMAP_SPECIAL_COUNT ? specials[use].name : NULL;
}

/* The special use among a LIST response's attributes (\Trash, …; libetpan keeps them as
   flag extensions without the backslash). */
static enum imap_special_use list_special_use(const struct mailimap_mbx_list_flags *flags)
{
	if (flags == NULL)
		return IMAP_SPECIAL_NONE;
	for (clistiter *it = clist_begin(flags->mbf_oflags); it != NULL; it = clist_next(it)) {
		struct mailimap_mbx_list_oflag *o = clist_content(it);
		if (o->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT || o->of_flag_ext == NULL)
			continue;
		for (int u = IMAP_SPECIAL_NONE + 1; u < IMAP_SPECIAL_COUNT; u++)
			if (strcasecmp(o->of_flag_ext, specials[u].attribute) == 0)
				return (enum imap_special_use)u;
	}
	return IMAP_SPECIAL_NONE;
}

/* Every folder with a special use, the first of each into c->special. */
static int read_special(struct imap_client *c, struct mail_error *err)
{
	clist *list = NULL;
	int r = mailimap_list(c->imap, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "LIST", MAIL_REFUSED);
	struct pool *pool = pool_create(1024);
	for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);
		enum imap_special_use use = list_special_use(mb->mb_flag);
		const char *error, *name = mail_utf7_decode(pool, mb->mb_name, &error);
		if (use != IMAP_SPECIAL_NONE && name != NULL && c->special[use] == NULL &&
		    !list_noselect(mb->mb_flag))
			c->special[use] = mem_strdup(name);
	}
	pool_destroy(&pool);
	mailimap_list_result_free(list);
	c->special_read = true;
	return 0;
}

int imap_client_special_folder(struct imap_client *c, enum imap_special_use use,
                               const char **name_r, struct mail_error *err)
{
	if (c->special[use] != NULL) {
		/* renamed or deleted by another connection or client since: read the marks again */
		bool exists;
		if (imap_client_folder_exists(c, c->special[use], &exists, err) < 0)
			return -1;
		if (!exists)
			forget_special(c);
	}
	if (!c->special_read && read_special(c, err) < 0)
		return -1;
	if (c->special[use] == NULL) {
		const char *name = specials[use].fallback;
		bool exists;
		if (imap_client_folder_exists(c, name, &exists, err) < 0 ||
		    (!exists && imap_client_folder_create(c, name, err) < 0))
			return -1;
		c->special[use] = mem_strdup(name);
	}
	*name_r = c->special[use];
	return 0;
}

static int folder_cmp(const void *a, const void *b)
{
	const struct imap_folder *x = a, *y = b;
	bool xi = strcasecmp(x->name, "INBOX") == 0, yi = strcasecmp(y->name, "INBOX") == 0;
	if (xi != yi)
		return xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

int imap_client_folders(struct imap_client *c, struct pool *pool, struct imap_folder **folders_r,
                        size_t *count_r, struct mail_error *err)
{
	clist *list = NULL;
	int r = mailimap_list(c->imap, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "LIST", MAIL_REFUSED);
	size_t n = 0, count = (size_t)clist_count(list);
	struct imap_folder *folders = pool_calloc(pool, count > 0 ? count : 1, sizeof(*folders));
	const char **wires = pool_calloc(pool, count > 0 ? count : 1, sizeof(*wires));
	for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);
		const char *error;
		struct imap_folder *f = &folders[n];
		/* a name that is not modified UTF-7 (another client wrote raw 8-bit) cannot be
		   named back to the server in UTF-8: left out */
		f->name = mail_utf7_decode(pool, mb->mb_name, &error);
		if (f->name == NULL)
			continue;
		wires[n++] = pool_strdup(pool, mb->mb_name);
		f->delimiter = mb->mb_delimiter;
		f->noselect = list_noselect(mb->mb_flag);
		f->special_use = list_special_use(mb->mb_flag);
	}
	mailimap_list_result_free(list);
	for (size_t i = 0; i < n; i++)
		if (!folders[i].noselect && status_of(c, wires[i], &folders[i], err) < 0)
			return -1;
	r = mailimap_lsub(c->imap, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "LSUB", MAIL_REFUSED);
	for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);
		for (size_t i = 0; i < n; i++)
			if (strcmp(wires[i], mb->mb_name) == 0)
				folders[i].subscribed = true;
	}
	mailimap_list_result_free(list);
	qsort(folders, n, sizeof(*folders), folder_cmp);
	*folders_r = folders;
	*count_r = n;
	return 0;
}

int imap_client_select(struct imap_client *c, const char *folder, uint32_t *total_r,
                       struct mail_error *err)
{
	if (c->examined != NULL && strcmp(c->examined, folder) == 0 &&
	    c->imap->imap_selection_info != NULL) {
		/* still open read-only: NOOP brings EXISTS and EXPUNGE, which libetpan counts */
		int r = mailimap_noop(c->imap);
		if (r != MAILIMAP_NO_ERROR) {
			forget_examined(c);
			return failed(c, err, r, "NOOP", MAIL_UNAVAILABLE);
		}
		*total_r = c->imap->imap_selection_info->sel_exists;
		return 0;
	}
	forget_examined(c);
	char w[MAIL_UTF7_MAX];
	if (wire(c, folder, w, err) < 0)
		return -1;
	int r = mailimap_examine(c->imap, w);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "EXAMINE", MAIL_NOT_FOUND);
	c->examined = mem_strdup(folder);
	*total_r =
	    c->imap->imap_selection_info != NULL ? c->imap->imap_selection_info->sel_exists : 0;
	return 0;
}

/* ---------------------------------------------------------------- messages */

static int64_t epoch_of(int year, int month, int day, int hour, int min, int sec, int zone)
{
	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = month - 1,
	                .tm_mday = day,
	                .tm_hour = hour,
	                .tm_min = min,
	                .tm_sec = sec};
	if (year < 1970 || year > 9999 || month < 1 || month > 12)
		return 0;
	int64_t t = (int64_t)timegm(&tm);
	/* zone is +hhmm as a number: -0130 is -130 */
	int sign = zone < 0 ? -1 : 1, z = zone * sign;
	return t - sign * ((z / 100) * 3600 + (z % 100) * 60);
}

/* A header's words (RFC 2047) in UTF-8, in pool; raw 8-bit text is taken as UTF-8 when it
   is valid UTF-8, else as Latin-1. */
static const char *decoded(struct pool *pool, const char *s)
{
	if (s == NULL)
		return NULL;
	size_t index = 0;
	char *out = NULL;
	const char *raw_charset = mail_utf8_valid(s) ? "utf-8" : "iso-8859-1";
	if (mailmime_encoded_phrase_parse(raw_charset, s, strlen(s), &index, "utf-8", &out) !=
	        MAILIMF_NO_ERROR ||
	    out == NULL)
		return mail_utf8(pool, s);
	const char *r = mail_utf8(pool, out);
	mem_free(&out);
	return r;
}

static void take_envelope(struct pool *pool, const struct mailimap_envelope *env,
                          struct imap_message *m)
{
	if (env->env_subject != NULL)
		m->subject = decoded(pool, env->env_subject);
	if (env->env_from != NULL && env->env_from->frm_list != NULL &&
	    clist_begin(env->env_from->frm_list) != NULL) {
		const struct mailimap_address *a =
		    clist_content(clist_begin(env->env_from->frm_list));
		m->from.name = decoded(pool, a->ad_personal_name);
		if (a->ad_mailbox_name != NULL)
			m->from.email =
			    mail_utf8(pool, a->ad_host_name != NULL
			                        ? pool_printf(pool, "%s@%s", a->ad_mailbox_name,
			                                      a->ad_host_name)
			                        : a->ad_mailbox_name);
	}
	if (env->env_date != NULL) {
		size_t index = 0;
		struct mailimf_date_time *dt = NULL;
		if (mailimf_date_time_parse(env->env_date, strlen(env->env_date), &index, &dt) ==
		    MAILIMF_NO_ERROR) {
			m->date = epoch_of(dt->dt_year, dt->dt_month, dt->dt_day, dt->dt_hour,
			                   dt->dt_min, dt->dt_sec, dt->dt_zone);
			mailimf_date_time_free(dt);
		}
	}
}

static uint32_t flags_of(const struct mailimap_msg_att_dynamic *dyn)
{
	uint32_t flags = 0;
	if (dyn == NULL || dyn->att_list == NULL)
		return 0;
	for (clistiter *it = clist_begin(dyn->att_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_flag_fetch *ff = clist_content(it);
		if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER || ff->fl_flag == NULL)
			continue;
		switch (ff->fl_flag->fl_type) {
		case MAILIMAP_FLAG_SEEN:
			flags |= IMAP_FLAG_SEEN;
			break;
		case MAILIMAP_FLAG_ANSWERED:
			flags |= IMAP_FLAG_ANSWERED;
			break;
		case MAILIMAP_FLAG_FLAGGED:
			flags |= IMAP_FLAG_FLAGGED;
			break;
		case MAILIMAP_FLAG_DELETED:
			flags |= IMAP_FLAG_DELETED;
			break;
		case MAILIMAP_FLAG_DRAFT:
			flags |= IMAP_FLAG_DRAFT;
			break;
		default:
			break;
		}
	}
	return flags;
}

/* One FETCH response into m. */
static void take_message(struct pool *pool, const struct mailimap_msg_att *att,
                         struct imap_message *m)
{
	int64_t arrival = 0;
	memset(m, 0, sizeof(*m));
	m->subject = "";
	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att_item *item = clist_content(it);
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			m->flags = flags_of(item->att_data.att_dyn);
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		const struct mailimap_msg_att_static *s = item->att_data.att_static;
		switch (s->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			m->uid = s->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			m->size = s->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_ENVELOPE:
			if (s->att_data.att_env != NULL)
				take_envelope(pool, s->att_data.att_env, m);
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE: {
			const struct mailimap_date_time *d = s->att_data.att_internal_date;
			if (d != NULL)
				arrival = epoch_of(d->dt_year, d->dt_month, d->dt_day, d->dt_hour,
				                   d->dt_min, d->dt_sec, d->dt_zone);
			break;
		}
		default:
			break;
		}
	}
	if (m->date == 0)
		m->date = arrival;
}

/* UID FETCH set (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE); each answer to each(). */
static int fetch_set(struct imap_client *c, struct pool *pool, struct mailimap_set *set,
                     void (*each)(void *ctx, const struct imap_message *m), void *ctx,
                     struct mail_error *err)
{
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_envelope());
	clist *result = NULL;
	int r = mailimap_uid_fetch(c->imap, set, type, &result);
	mailimap_fetch_type_free(type);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID FETCH", MAIL_REFUSED);
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct imap_message m;
		take_message(pool, clist_content(it), &m);
		if (m.uid != 0)
			each(ctx, &m);
	}
	mailimap_fetch_list_free(result);
	return 0;
}

struct collect {
	struct imap_message *msgs;
	size_t count, size;
	const uint32_t *uids; /* NULL: append in arrival order, growing msgs */
	struct pool *pool;
};

static void collect_one(void *ctx, const struct imap_message *m)
{
	struct collect *col = ctx;
	if (col->uids != NULL) {
		for (size_t i = 0; i < col->count; i++)
			if (col->uids[i] == m->uid)
				col->msgs[i] = *m;
		return;
	}
	if (col->count == col->size) {
		size_t size = col->size > 0 ? col->size * 2 : 256;
		struct imap_message *msgs = pool_alloc(col->pool, size * sizeof(*msgs));
		if (col->count > 0)
			memcpy(msgs, col->msgs, col->count * sizeof(*msgs));
		col->msgs = msgs;
		col->size = size;
	}
	col->msgs[col->count++] = *m;
}

int imap_client_fetch(struct imap_client *c, struct pool *pool, const uint32_t *uids, size_t count,
                      struct imap_message *msgs_r, struct mail_error *err)
{
	memset(msgs_r, 0, count * sizeof(*msgs_r));
	if (count == 0)
		return 0;
	struct mailimap_set *set = mailimap_set_new_empty();
	for (size_t i = 0; i < count; i++)
		mailimap_set_add_single(set, uids[i]);
	struct collect col = {.msgs = msgs_r, .count = count, .uids = uids, .pool = pool};
	return fetch_set(c, pool, set, collect_one, &col, err);
}

/* The first body section in a FETCH result; NULL when there is none (no such UID). */
static const struct mailimap_msg_att_body_section *body_section(clist *result)
{
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att *att = clist_content(it);
		for (clistiter *i = clist_begin(att->att_list); i != NULL; i = clist_next(i)) {
			const struct mailimap_msg_att_item *item = clist_content(i);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    item->att_data.att_static->att_type != MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			const struct mailimap_msg_att_body_section *sec =
			    item->att_data.att_static->att_data.att_body_section;
			if (sec != NULL && sec->sec_body_part != NULL)
				return sec;
		}
	}
	return NULL;
}

int imap_client_fetch_raw(struct imap_client *c, struct pool *pool, uint32_t uid, size_t max,
                          const char **data_r, size_t *size_r, struct imap_message *msg_r,
                          struct mail_error *err)
{
	if (imap_client_fetch(c, pool, &uid, 1, msg_r, err) < 0)
		return -1;
	if (msg_r->uid == 0)
		return fail(c, err, MAIL_NOT_FOUND, "no message with UID %u in this folder",
		            (unsigned)uid);
	if (msg_r->size > max)
		return fail(c, err, MAIL_TOO_LARGE, "message %u has %u bytes, over the %zu shown",
		            (unsigned)uid, (unsigned)msg_r->size, max);
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(
	    type, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	struct mailimap_set *set = mailimap_set_new_single(uid);
	clist *result = NULL;
	int r = mailimap_uid_fetch(c->imap, set, type, &result);
	mailimap_fetch_type_free(type);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID FETCH BODY.PEEK[]", MAIL_REFUSED);
	const struct mailimap_msg_att_body_section *sec = body_section(result);
	*data_r = NULL;
	if (sec != NULL) {
		char *copy = pool_alloc(pool, sec->sec_length + 1);
		memcpy(copy, sec->sec_body_part, sec->sec_length);
		copy[sec->sec_length] = '\0';
		*data_r = copy;
		*size_r = sec->sec_length;
	}
	mailimap_fetch_list_free(result);
	if (*data_r == NULL)
		return fail(c, err, MAIL_NOT_FOUND, "message %u has gone", (unsigned)uid);
	return 0;
}

/* "2.1" as a section part (RFC 3501 section-part); NULL when it is not one. */
static struct mailimap_section_part *section_part(const char *section)
{
	/* libetpan frees the numbers with free(): mem_alloc is malloc */
	struct mailimap_section_part *part = mailimap_section_part_new(clist_new());
	clist *list = part->sec_id;
	bool ok = true;
	for (const char *p = section; ok;) {
		uint64_t n = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9' && n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(*p++ - '0');
		ok = p != start && n > 0 && n <= UINT32_MAX && clist_count(list) < 32;
		if (!ok)
			break;
		uint32_t *v = mem_alloc(sizeof(*v));
		*v = (uint32_t)n;
		if (clist_append(list, v) < 0) {
			mem_free(&v);
			ok = false;
			break;
		}
		if (*p == '\0')
			break;
		ok = *p++ == '.';
	}
	if (!ok) {
		mailimap_section_part_free(part);
		return NULL;
	}
	return part;
}

/* UID FETCH uid BODY.PEEK[<section>.MIME] or BODY.PEEK[<section>]<offset.size>; *result_r
   to free with mailimap_fetch_list_free. */
static int fetch_section(struct imap_client *c, uint32_t uid, const char *section, bool mime,
                         uint32_t offset, uint32_t size, clist **result_r, struct mail_error *err)
{
	struct mailimap_section_part *part = section_part(section);
	if (part == NULL)
		return fail(c, err, MAIL_NOT_FOUND, "\"%.40s\" is not a part number", section);
	struct mailimap_section *sec =
	    mime ? mailimap_section_new_part_mime(part) : mailimap_section_new_part(part);
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(
	    type, mime ? mailimap_fetch_att_new_body_peek_section(sec)
	               : mailimap_fetch_att_new_body_peek_section_partial(sec, offset, size));
	struct mailimap_set *set = mailimap_set_new_single(uid);
	*result_r = NULL;
	int r = mailimap_uid_fetch(c->imap, set, type, result_r);
	mailimap_fetch_type_free(type);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID FETCH BODY.PEEK[part]", MAIL_NOT_FOUND);
	return 0;
}

int imap_client_fetch_part_mime(struct imap_client *c, struct pool *pool, uint32_t uid,
                                const char *section, const char **mime_r, size_t *mime_size_r,
                                struct mail_error *err)
{
	clist *result;
	if (fetch_section(c, uid, section, true, 0, 0, &result, err) < 0)
		return -1;
	const struct mailimap_msg_att_body_section *sec = body_section(result);
	if (sec == NULL || sec->sec_length == 0) {
		mailimap_fetch_list_free(result);
		return fail(c, err, MAIL_NOT_FOUND, "message %u has no part %.40s", (unsigned)uid,
		            section);
	}
	*mime_r = pool_strndup(pool, sec->sec_body_part, sec->sec_length);
	*mime_size_r = sec->sec_length;
	mailimap_fetch_list_free(result);
	return 0;
}

int imap_client_fetch_part(struct imap_client *c, uint32_t uid, const char *section, size_t chunk,
                           imap_chunk_fn *each, void *ctx, struct mail_error *err)
{
	clist *result;
	for (uint32_t offset = 0;; offset += (uint32_t)chunk) {
		if (fetch_section(c, uid, section, false, offset, (uint32_t)chunk, &result, err) <
		    0)
			return -1;
		const struct mailimap_msg_att_body_section *sec = body_section(result);
		size_t n = sec != NULL ? sec->sec_length : 0;
		int r = n > 0 ? each(ctx, sec->sec_body_part, n) : 0;
		mailimap_fetch_list_free(result);
		if (r < 0)
			return fail(c, err, MAIL_UNAVAILABLE, "writing part %.40s failed", section);
		if (n < chunk || offset > UINT32_MAX - chunk)
			return 0;
	}
}

/* ---------------------------------------------------------------- folder changes */

int imap_client_folder_exists(struct imap_client *c, const char *name, bool *exists_r,
                              struct mail_error *err)
{
	clist *list = NULL;
	*exists_r = false;
	if (strpbrk(name, "*%") != NULL)
		return 0; /* LIST wildcards: no folder is named so here */
	char w[MAIL_UTF7_MAX];
	if (wire(c, name, w, err) < 0)
		return -1;
	int r = mailimap_list(c->imap, "", w, &list);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "LIST", MAIL_REFUSED);
	for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);
		if ((strcmp(mb->mb_name, w) == 0 ||
		     (strcasecmp(name, "INBOX") == 0 && strcasecmp(mb->mb_name, "INBOX") == 0)) &&
		    !list_noselect(mb->mb_flag))
			*exists_r = true;
	}
	mailimap_list_result_free(list);
	return 0;
}

/* 0 when name exists (MAIL_NOT_FOUND otherwise) or, with want false, when it does not
   (MAIL_EXISTS otherwise). */
static int expect_folder(struct imap_client *c, const char *name, bool want, struct mail_error *err)
{
	bool exists;
	if (imap_client_folder_exists(c, name, &exists, err) < 0)
		return -1;
	if (exists == want)
		return 0;
	return fail(c, err, want ? MAIL_NOT_FOUND : MAIL_EXISTS,
	            want ? "no folder \"%.60s\"" : "a folder \"%.60s\" exists already", name);
}

int imap_client_folder_create(struct imap_client *c, const char *name, struct mail_error *err)
{
	char w[MAIL_UTF7_MAX];
	if (wire(c, name, w, err) < 0 || expect_folder(c, name, false, err) < 0)
		return -1;
	int r = mailimap_create(c->imap, w);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "CREATE", MAIL_REFUSED);
	return imap_client_folder_subscribe(c, name, true, err);
}

int imap_client_folder_rename(struct imap_client *c, const char *from, const char *to,
                              struct mail_error *err)
{
	char wf[MAIL_UTF7_MAX], wt[MAIL_UTF7_MAX];
	if (wire(c, from, wf, err) < 0 || wire(c, to, wt, err) < 0 ||
	    expect_folder(c, from, true, err) < 0 || expect_folder(c, to, false, err) < 0)
		return -1;
	/* subscriptions are by name: the new name inherits the old one's */
	clist *subs = NULL;
	int r = mailimap_lsub(c->imap, "", wf, &subs);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "LSUB", MAIL_REFUSED);
	bool subscribed = clist_count(subs) > 0;
	mailimap_list_result_free(subs);
	forget_examined(c);
	forget_special(c);
	r = mailimap_rename(c->imap, wf, wt);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "RENAME", MAIL_REFUSED);
	if (!subscribed)
		return 0;
	(void)mailimap_unsubscribe(c->imap, wf);
	return imap_client_folder_subscribe(c, to, true, err);
}

int imap_client_folder_delete(struct imap_client *c, const char *name, struct mail_error *err)
{
	char w[MAIL_UTF7_MAX];
	if (wire(c, name, w, err) < 0 || expect_folder(c, name, true, err) < 0)
		return -1;
	forget_examined(c);
	forget_special(c);
	int r = mailimap_delete(c->imap, w);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "DELETE", MAIL_REFUSED);
	(void)mailimap_unsubscribe(c->imap, w); /* it may not have been subscribed */
	return 0;
}

int imap_client_folder_subscribe(struct imap_client *c, const char *name, bool on,
                                 struct mail_error *err)
{
	char w[MAIL_UTF7_MAX];
	if (wire(c, name, w, err) < 0)
		return -1;
	int r = on ? mailimap_subscribe(c->imap, w) : mailimap_unsubscribe(c->imap, w);
	return r == MAILIMAP_NO_ERROR
	           ? 0
	           : failed(c, err, r, on ? "SUBSCRIBE" : "UNSUBSCRIBE", MAIL_REFUSED);
}

/* ---------------------------------------------------------------- message changes */

int imap_client_select_write(struct imap_client *c, const char *folder, uint32_t *total_r,
                             struct mail_error *err)
{
	forget_examined(c);
	char w[MAIL_UTF7_MAX];
	if (wire(c, folder, w, err) < 0)
		return -1;
	int r = mailimap_select(c->imap, w);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "SELECT", MAIL_NOT_FOUND);
	*total_r =
	    c->imap->imap_selection_info != NULL ? c->imap->imap_selection_info->sel_exists : 0;
	return 0;
}

/* 404 unless uid is in the selected folder. */
static int uid_exists(struct imap_client *c, struct pool *pool, uint32_t uid,
                      struct mail_error *err)
{
	struct imap_message m;
	if (imap_client_fetch(c, pool, &uid, 1, &m, err) < 0)
		return -1;
	if (m.uid == 0)
		return fail(c, err, MAIL_NOT_FOUND, "no message with UID %u in this folder",
		            (unsigned)uid);
	return 0;
}

static struct mailimap_flag_list *flag_list(uint32_t flags)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
	if (flags & IMAP_FLAG_SEEN)
		mailimap_flag_list_add(list, mailimap_flag_new_seen());
	if (flags & IMAP_FLAG_FLAGGED)
		mailimap_flag_list_add(list, mailimap_flag_new_flagged());
	if (flags & IMAP_FLAG_DELETED)
		mailimap_flag_list_add(list, mailimap_flag_new_deleted());
	if (flags & IMAP_FLAG_ANSWERED)
		mailimap_flag_list_add(list, mailimap_flag_new_answered());
	if (flags & IMAP_FLAG_DRAFT)
		mailimap_flag_list_add(list, mailimap_flag_new_draft());
	if (flags & IMAP_FLAG_FORWARD)
		mailimap_flag_list_add(list,
		                       mailimap_flag_new_flag_keyword(mem_strdup("$Forwarded")));
	return list;
}

static int store(struct imap_client *c, uint32_t uid, uint32_t flags, bool add,
                 struct mail_error *err)
{
	if (flags == 0)
		return 0;
	struct mailimap_store_att_flags *att =
	    add ? mailimap_store_att_flags_new_add_flags_silent(flag_list(flags))
	        : mailimap_store_att_flags_new_remove_flags_silent(flag_list(flags));
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = mailimap_uid_store(c->imap, set, att);
	mailimap_store_att_flags_free(att);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : failed(c, err, r, "UID STORE", MAIL_REFUSED);
}

int imap_client_set_flags(struct imap_client *c, struct pool *pool, uint32_t uid, uint32_t add,
                          uint32_t remove, struct mail_error *err)
{
	if (uid_exists(c, pool, uid, err) < 0 || store(c, uid, add, true, err) < 0 ||
	    store(c, uid, remove, false, err) < 0)
		return -1;
	return 0;
}

/* \\Deleted and UID EXPUNGE of uid only (UIDPLUS; without it a plain EXPUNGE, which also
   removes other messages already marked \\Deleted, as any client's would). */
static int expunge_uid(struct imap_client *c, uint32_t uid, struct mail_error *err)
{
	if (store(c, uid, IMAP_FLAG_DELETED, true, err) < 0)
		return -1;
	int r;
	if (mailimap_has_extension(c->imap, "UIDPLUS")) {
		struct mailimap_set *set = mailimap_set_new_single(uid);
		r = mailimap_uid_expunge(c->imap, set);
		mailimap_set_free(set);
	} else {
		r = mailimap_expunge(c->imap);
	}
	return r == MAILIMAP_NO_ERROR ? 0 : failed(c, err, r, "EXPUNGE", MAIL_REFUSED);
}

int imap_client_expunge(struct imap_client *c, struct pool *pool, uint32_t uid,
                        struct mail_error *err)
{
	if (uid_exists(c, pool, uid, err) < 0)
		return -1;
	return expunge_uid(c, uid, err);
}

/* Move's and copy's checks: uid is in the selected folder, folder to exists. */
static int source_and_target(struct imap_client *c, struct pool *pool, uint32_t uid, const char *to,
                             char w[MAIL_UTF7_MAX], struct mail_error *err)
{
	if (uid_exists(c, pool, uid, err) < 0 || wire(c, to, w, err) < 0)
		return -1;
	bool exists;
	if (imap_client_folder_exists(c, to, &exists, err) < 0)
		return -1;
	if (!exists)
		return fail(c, err, MAIL_NOT_FOUND, "no folder \"%.60s\"", to);
	return 0;
}

int imap_client_move(struct imap_client *c, struct pool *pool, uint32_t uid, const char *to,
                     struct mail_error *err)
{
	char w[MAIL_UTF7_MAX];
	if (source_and_target(c, pool, uid, to, w, err) < 0)
		return -1;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;
	if (!c->no_move && mailimap_has_extension(c->imap, "MOVE")) {
		r = mailimap_uid_move(c->imap, set, w);
		mailimap_set_free(set);
		return r == MAILIMAP_NO_ERROR ? 0 : failed(c, err, r, "UID MOVE", MAIL_REFUSED);
	}
	r = mailimap_uid_copy(c->imap, set, w);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID COPY", MAIL_REFUSED);
	return expunge_uid(c, uid, err);
}

void imap_client_disable_move(struct imap_client *c)
{
	c->no_move = true;
}

/* ---------------------------------------------------------------- sorting */

static int message_cmp(const void *a, const void *b, void *ctx)
{
	const struct imap_message *x = a, *y = b;
	const enum imap_sort *key = ctx;
	int d = 0;
	switch (*key) {
	case IMAP_SORT_DATE:
		d = (x->date > y->date) - (x->date < y->date);
		break;
	case IMAP_SORT_SIZE:
		d = (x->size > y->size) - (x->size < y->size);
		break;
	case IMAP_SORT_FROM:
		d = strcasecmp(x->from.email != NULL ? x->from.email : "",
		               y->from.email != NULL ? y->from.email : "");
		break;
	case IMAP_SORT_SUBJECT:
		d = strcasecmp(x->subject, y->subject);
		break;
	case IMAP_SORT_ARRIVAL:
		break;
	}
	/* the server's tie-break: the sequence, which follows the UID */
	return d != 0 ? d : (x->uid > y->uid) - (x->uid < y->uid);
}

/* Without SORT: fetch every message's key fields and sort here (costly on big folders;
   Dovecot, Cyrus and most servers have SORT). */
static int sort_locally(struct imap_client *c, struct pool *pool, enum imap_sort key, bool reverse,
                        uint32_t **uids_r, size_t *count_r, struct mail_error *err)
{
	struct collect col = {.pool = pool};
	if (fetch_set(c, pool, mailimap_set_new_interval(1, 0), collect_one, &col, err) < 0)
		return -1;
	qsort_r(col.msgs, col.count, sizeof(*col.msgs), message_cmp, &key);
	uint32_t *uids = pool_alloc(pool, (col.count > 0 ? col.count : 1) * sizeof(*uids));
	for (size_t i = 0; i < col.count; i++)
		uids[i] = col.msgs[reverse ? col.count - 1 - i : i].uid;
	*uids_r = uids;
	*count_r = col.count;
	return 0;
}

int imap_client_sorted_uids(struct imap_client *c, struct pool *pool, enum imap_sort key,
                            bool reverse, uint32_t **uids_r, size_t *count_r,
                            struct mail_error *err)
{
	if (!imap_client_has_sort(c))
		return sort_locally(c, pool, key, reverse, uids_r, count_r, err);
	int type = key == IMAP_SORT_DATE      ? MAILIMAP_SORT_KEY_DATE
	           : key == IMAP_SORT_ARRIVAL ? MAILIMAP_SORT_KEY_ARRIVAL
	           : key == IMAP_SORT_FROM    ? MAILIMAP_SORT_KEY_FROM
	           : key == IMAP_SORT_SUBJECT ? MAILIMAP_SORT_KEY_SUBJECT
	                                      : MAILIMAP_SORT_KEY_SIZE;
	struct mailimap_sort_key *sk = mailimap_sort_key_new(type, reverse ? 1 : 0, NULL);
	struct mailimap_search_key *all = mailimap_search_key_new_all();
	clist *result = NULL;
	int r = mailimap_uid_sort(c->imap, "UTF-8", sk, all, &result);
	mailimap_sort_key_free(sk);
	mailimap_search_key_free(all);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID SORT", MAIL_REFUSED);
	size_t n = 0, count = (size_t)clist_count(result);
	uint32_t *uids = pool_alloc(pool, (count > 0 ? count : 1) * sizeof(*uids));
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it))
		uids[n++] = *(uint32_t *)clist_content(it);
	mailimap_sort_result_free(result);
	*uids_r = uids;
	*count_r = n;
	return 0;
}

/* ---------------------------------------------------------------- append */

int imap_client_append(struct imap_client *c, const char *folder, uint32_t flags, const char *data,
                       size_t size, uint32_t *uid_r, struct mail_error *err)
{
	char w[MAIL_UTF7_MAX];
	if (wire(c, folder, w, err) < 0)
		return -1;
	struct mailimap_flag_list *list = flag_list(flags);
	uint32_t validity = 0, uid = 0;
	int r = mailimap_has_extension(c->imap, "UIDPLUS")
	            ? mailimap_uidplus_append(c->imap, w, list, NULL, data, size, &validity, &uid)
	            : mailimap_append(c->imap, w, list, NULL, data, size);
	mailimap_flag_list_free(list);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "APPEND", MAIL_REFUSED);
	*uid_r = uid;
	return 0;
}

/* ------------------------------------------------------------- keywords (iMIP) */

/* (libetpan frees the keyword strings with free(): mem_strdup is malloc) */
int imap_client_search_unflagged(struct imap_client *c, struct pool *pool, uint32_t from_uid,
                                 int64_t since, const char *keyword, uint32_t **uids_r,
                                 size_t *count_r, struct mail_error *err)
{
	struct mailimap_search_key *keys = mailimap_search_key_new_multiple_empty();
	mailimap_search_key_multiple_add(
	    keys, mailimap_search_key_new_uid(mailimap_set_new_interval(from_uid, 0)));
	mailimap_search_key_multiple_add(keys,
	                                 mailimap_search_key_new_unkeyword(mem_strdup(keyword)));
	if (since > 0) {
		time_t t = (time_t)since;
		struct tm tm;
		gmtime_r(&t, &tm);
		mailimap_search_key_multiple_add(
		    keys, mailimap_search_key_new_since(
		              mailimap_date_new(tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900)));
	}
	clist *result = NULL;
	int r = mailimap_uid_search(c->imap, NULL, keys, &result);
	mailimap_search_key_free(keys);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID SEARCH", MAIL_REFUSED);
	size_t n = 0, count = (size_t)clist_count(result);
	uint32_t *uids = pool_alloc(pool, (count > 0 ? count : 1) * sizeof(*uids));
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (uid >= from_uid) /* "n:*" matches the last message even when below n */
			uids[n++] = uid;
	}
	mailimap_search_result_free(result);
	*uids_r = uids;
	*count_r = n;
	return 0;
}

int imap_client_add_keyword(struct imap_client *c, uint32_t uid, const char *keyword,
                            struct mail_error *err)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(list, mailimap_flag_new_flag_keyword(mem_strdup(keyword)));
	struct mailimap_store_att_flags *att = mailimap_store_att_flags_new_add_flags_silent(list);
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = mailimap_uid_store(c->imap, set, att);
	mailimap_store_att_flags_free(att);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : failed(c, err, r, "UID STORE", MAIL_REFUSED);
}
/* ---------------------------------------------------------------- sorted UIDs, kept */

/* STATUS (MESSAGES UIDNEXT UIDVALIDITY) of folder into state[3]. */
static int folder_state(struct imap_client *c, const char *folder, uint32_t state[3],
                        struct mail_error *err)
{
	static const int atts[3] = {MAILIMAP_STATUS_ATT_MESSAGES, MAILIMAP_STATUS_ATT_UIDNEXT,
	                            MAILIMAP_STATUS_ATT_UIDVALIDITY};
	char w[MAIL_UTF7_MAX];
	if (wire(c, folder, w, err) < 0)
		return -1;
	struct mailimap_status_att_list *list = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *st = NULL;
	for (size_t i = 0; i < 3; i++)
		mailimap_status_att_list_add(list, atts[i]);
	int r = mailimap_status(c->imap, w, list, &st);
	mailimap_status_att_list_free(list);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "STATUS", MAIL_REFUSED);
	memset(state, 0, 3 * sizeof(*state));
	for (clistiter *it = st->st_info_list != NULL ? clist_begin(st->st_info_list) : NULL;
	     it != NULL; it = clist_next(it)) {
		struct mailimap_status_info *info = clist_content(it);
		for (size_t i = 0; i < 3; i++)
			if (info->st_att == atts[i])
				state[i] = info->st_value;
	}
	mailimap_mailbox_data_status_free(st);
	return 0;
}

int imap_client_sorted_uids_cached(struct imap_client *c, struct pool *pool, enum imap_sort key,
                                   bool reverse, uint32_t **uids_r, size_t *count_r,
                                   struct mail_error *err)
{
	if (c->examined == NULL || !imap_client_has_sort(c))
		return imap_client_sorted_uids(c, pool, key, reverse, uids_r, count_r, err);
	uint32_t state[3];
	if (folder_state(c, c->examined, state, err) < 0)
		return -1;
	if (c->sorted.uids == NULL || c->sorted.key != key || c->sorted.reverse != reverse ||
	    memcmp(c->sorted.state, state, sizeof(state)) != 0 || state[1] == 0 || state[2] == 0) {
		mem_free(&c->sorted.uids);
		uint32_t *uids;
		size_t n;
		if (imap_client_sorted_uids(c, pool, key, reverse, &uids, &n, err) < 0)
			return -1;
		c->sorted.uids = mem_alloc((n > 0 ? n : 1) * sizeof(*uids));
		memcpy(c->sorted.uids, uids, n * sizeof(*uids));
		c->sorted.count = n;
		c->sorted.key = key;
		c->sorted.reverse = reverse;
		memcpy(c->sorted.state, state, sizeof(state));
		*uids_r = uids;
		*count_r = n;
		return 0;
	}
	size_t n = c->sorted.count;
	*uids_r = pool_alloc(pool, (n > 0 ? n : 1) * sizeof(**uids_r));
	memcpy(*uids_r, c->sorted.uids, n * sizeof(**uids_r));
	*count_r = n;
	return 0;
}
/* ---------------------------------------------------------------- search, threads, copy */

/* The search key for text in field; libetpan frees the string with free() (mem_strdup is
   malloc). */
static struct mailimap_search_key *search_key(enum imap_search_field field, const char *text)
{
	char *s = mem_strdup(text);
	switch (field) {
	case IMAP_SEARCH_FROM:
		return mailimap_search_key_new_from(s);
	case IMAP_SEARCH_TO:
		return mailimap_search_key_new_to(s);
	case IMAP_SEARCH_SUBJECT:
		return mailimap_search_key_new_subject(s);
	case IMAP_SEARCH_BODY:
		return mailimap_search_key_new_body(s);
	case IMAP_SEARCH_TEXT:
		break;
	}
	return mailimap_search_key_new_text(s);
}

/* fields' keys for text, ORed ("OR FROM x SUBJECT x"). */
static struct mailimap_search_key *search_keys(unsigned fields, const char *text)
{
	struct mailimap_search_key *all = NULL;
	for (unsigned bit = IMAP_SEARCH_TEXT; bit <= IMAP_SEARCH_BODY; bit <<= 1) {
		if ((fields & bit) == 0)
			continue;
		struct mailimap_search_key *k = search_key((enum imap_search_field)bit, text);
		all = all == NULL ? k : mailimap_search_key_new_or(all, k);
	}
	return all != NULL ? all : search_key(IMAP_SEARCH_TEXT, text);
}

/* A clist of uint32_t * into a pool array. */
static uint32_t *uid_array(struct pool *pool, clist *list, size_t *count_r)
{
	size_t n = 0, count = list != NULL ? (size_t)clist_count(list) : 0;
	uint32_t *uids = pool_alloc(pool, (count > 0 ? count : 1) * sizeof(*uids));
	for (clistiter *it = list != NULL ? clist_begin(list) : NULL; it != NULL;
	     it = clist_next(it))
		uids[n++] = *(uint32_t *)clist_content(it);
	*count_r = n;
	return uids;
}

/* uids (ascending, as SEARCH answers) as a set of ranges. */
static struct mailimap_set *range_set(const uint32_t *uids, size_t count)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	for (size_t i = 0; i < count;) {
		size_t j = i;
		while (j + 1 < count && uids[j + 1] == uids[j] + 1)
			j++;
		mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	return set;
}

int imap_client_search_uids(struct imap_client *c, struct pool *pool, unsigned fields,
                            const char *text, enum imap_sort key, bool reverse, uint32_t **uids_r,
                            size_t *count_r, struct mail_error *err)
{
	struct mailimap_search_key *sk = search_keys(fields, text);
	clist *result = NULL;
	int r = mailimap_uid_search(c->imap, "UTF-8", sk, &result);
	mailimap_search_key_free(sk);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "UID SEARCH", MAIL_REFUSED);
	size_t n;
	uint32_t *uids = uid_array(pool, result, &n);
	mailimap_search_result_free(result);
	*uids_r = uids;
	*count_r = n;
	if (n <= 1)
		return 0;
	if (imap_client_has_sort(c)) {
		/* SORT over the matches' UIDs: libetpan leaks its response when a SORT with
		   criteria finds nothing, so the search goes first */
		int type = key == IMAP_SORT_DATE      ? MAILIMAP_SORT_KEY_DATE
		           : key == IMAP_SORT_ARRIVAL ? MAILIMAP_SORT_KEY_ARRIVAL
		           : key == IMAP_SORT_FROM    ? MAILIMAP_SORT_KEY_FROM
		           : key == IMAP_SORT_SUBJECT ? MAILIMAP_SORT_KEY_SUBJECT
		                                      : MAILIMAP_SORT_KEY_SIZE;
		struct mailimap_sort_key *sort = mailimap_sort_key_new(type, reverse ? 1 : 0, NULL);
		struct mailimap_search_key *in = mailimap_search_key_new_uid(range_set(uids, n));
		r = mailimap_uid_sort(c->imap, "UTF-8", sort, in, &result);
		mailimap_sort_key_free(sort);
		mailimap_search_key_free(in);
		if (r != MAILIMAP_NO_ERROR)
			return failed(c, err, r, "UID SORT", MAIL_REFUSED);
		*uids_r = uid_array(pool, result, count_r);
		mailimap_sort_result_free(result);
		return 0;
	}
	/* no SORT: the matches' key fields only, sorted here */
	struct collect col = {.pool = pool};
	if (fetch_set(c, pool, range_set(uids, n), collect_one, &col, err) < 0)
		return -1;
	qsort_r(col.msgs, col.count, sizeof(*col.msgs), message_cmp, &key);
	for (size_t i = 0; i < col.count; i++)
		uids[i] = col.msgs[reverse ? col.count - 1 - i : i].uid;
	*count_r = col.count;
	return 0;
}

/* ---- THREAD (RFC 5256): libetpan has no THREAD, so the command goes through its low-level
   API (tag, raw line, lines read back) and this parses the one untagged answer. */

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* uids as an IMAP sequence set with ranges ("1:3,7"), in pool. */
static const char *set_string(struct pool *pool, const uint32_t *uids, size_t count)
{
	uint32_t *sorted = pool_alloc(pool, (count > 0 ? count : 1) * sizeof(*sorted));
	memcpy(sorted, uids, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), uid_cmp);
	size_t cap = count * 22 + 1, len = 0;
	char *s = pool_alloc(pool, cap);
	s[0] = '\0';
	for (size_t i = 0; i < count;) {
		size_t j = i;
		while (j + 1 < count && sorted[j + 1] <= sorted[j] + 1)
			j++;
		len += (size_t)snprintf(s + len, cap - len, "%s%u", len > 0 ? "," : "",
		                        (unsigned)sorted[i]);
		if (sorted[j] != sorted[i])
			len += (size_t)snprintf(s + len, cap - len, ":%u", (unsigned)sorted[j]);
		i = j + 1;
	}
	return s;
}

bool imap_client_has_thread(const struct imap_client *c)
{
	return !c->no_sort && (mailimap_has_extension(c->imap, "THREAD=REFERENCES") ||
	                       mailimap_has_extension(c->imap, "THREAD=ORDEREDSUBJECT"));
}

int imap_client_threads(struct imap_client *c, struct pool *pool, const uint32_t *uids,
                        size_t count, struct imap_thread_item **items_r, size_t *count_r,
                        struct mail_error *err)
{
	const char *algorithm =
	    mailimap_has_extension(c->imap, "THREAD=REFERENCES") ? "REFERENCES" : "ORDEREDSUBJECT";
	struct imap_thread_list tl = {.pool = pool};
	*items_r = NULL;
	*count_r = 0;
	if (uids != NULL && count == 0)
		return 0;
	const char *line = pool_printf(pool, "UID THREAD %s UTF-8 %s%s\r\n", algorithm,
	                               uids != NULL ? "UID " : "ALL",
	                               uids != NULL ? set_string(pool, uids, count) : "");
	int r = mailimap_send_current_tag(c->imap);
	if (r == MAILIMAP_NO_ERROR &&
	    mailstream_write(c->imap->imap_stream, line, strlen(line)) != (ssize_t)strlen(line))
		r = MAILIMAP_ERROR_STREAM;
	if (r == MAILIMAP_NO_ERROR && mailstream_flush(c->imap->imap_stream) < 0)
		r = MAILIMAP_ERROR_STREAM;
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, MAILIMAP_ERROR_STREAM, "UID THREAD", MAIL_REFUSED);
	char tag[24];
	snprintf(tag, sizeof(tag), "%d ", c->imap->imap_tag);
	bool parsed = true;
	for (;;) {
		const char *l = mailimap_read_line(c->imap);
		if (l == NULL)
			return failed(c, err, MAILIMAP_ERROR_STREAM, "UID THREAD", MAIL_REFUSED);
		if (strncasecmp(l, "* THREAD", 8) == 0) {
			parsed = parsed && imap_thread_parse(&tl, l + 8);
			continue;
		}
		if (strncmp(l, tag, strlen(tag)) != 0)
			continue; /* other untagged data (EXISTS, FETCH of other sessions' changes)
			           */
		l += strlen(tag);
		if (strncasecmp(l, "OK", 2) != 0) {
			size_t n = strcspn(l, "\r\n");
			return fail(c, err, MAIL_REFUSED, "UID THREAD refused: %.*s",
			            (int)(n < 120 ? n : 120), l);
		}
		break;
	}
	if (!parsed) {
		c->broken = true; /* an answer we cannot read: do not trust the connection */
		return fail(c, err, MAIL_UNAVAILABLE, "UID THREAD: unreadable response");
	}
	*items_r = tl.items;
	*count_r = tl.count;
	return 0;
}

int imap_client_copy(struct imap_client *c, struct pool *pool, uint32_t uid, const char *to,
                     uint32_t *new_uid_r, struct mail_error *err)
{
	*new_uid_r = 0;
	char w[MAIL_UTF7_MAX];
	if (source_and_target(c, pool, uid, to, w, err) < 0)
		return -1;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;
	if (mailimap_has_extension(c->imap, "UIDPLUS")) {
		uint32_t validity = 0;
		struct mailimap_set *src = NULL, *dst = NULL;
		r = mailimap_uidplus_uid_copy(c->imap, set, w, &validity, &src, &dst);
		if (dst != NULL && dst->set_list != NULL && clist_begin(dst->set_list) != NULL) {
			const struct mailimap_set_item *item =
			    clist_content(clist_begin(dst->set_list));
			*new_uid_r = item->set_first;
		}
		if (src != NULL)
			mailimap_set_free(src);
		if (dst != NULL)
			mailimap_set_free(dst);
	} else {
		r = mailimap_uid_copy(c->imap, set, w);
	}
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : failed(c, err, r, "UID COPY", MAIL_REFUSED);
}

/* ---------------------------------------------------------------- status and IDLE */

int imap_client_status(struct imap_client *c, const char *folder, uint32_t *total_r,
                       uint32_t *unread_r, struct mail_error *err)
{
	struct imap_folder f = {.name = folder};
	char w[MAIL_UTF7_MAX];
	if (wire(c, folder, w, err) < 0 || status_of(c, w, &f, err) < 0)
		return -1;
	*total_r = f.total;
	*unread_r = f.unread;
	return 0;
}

bool imap_client_has_idle(const struct imap_client *c)
{
	return mailimap_has_idle(c->imap) != 0;
}

int imap_client_idle_start(struct imap_client *c, int *fd_r, bool *pending_r,
                           struct mail_error *err)
{
	int r = mailimap_idle(c->imap);
	if (r != MAILIMAP_NO_ERROR)
		return failed(c, err, r, "IDLE", MAIL_REFUSED);
	*fd_r = mailimap_idle_get_fd(c->imap);
	if (*fd_r < 0) {
		c->broken = true;
		return fail(c, err, MAIL_UNAVAILABLE, "IDLE: no connection to wait on");
	}
	/* news that came with the continuation is in libetpan's buffer: poll will not see it */
	*pending_r = c->imap->imap_stream != NULL && c->imap->imap_stream->read_buffer_len > 0;
	return 0;
}

int imap_client_idle_done(struct imap_client *c, struct mail_error *err)
{
	int r = mailimap_idle_done(c->imap);
	return r == MAILIMAP_NO_ERROR ? 0 : failed(c, err, r, "IDLE DONE", MAIL_REFUSED);
}
