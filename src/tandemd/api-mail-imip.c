/* SPDX-License-Identifier: MIT */
/* iMIP to and from attendees outside the context: invitations sent by SMTP after the change
   was committed, and the INBOX scan for their replies. A per-node table remembers, per user, when
   the INBOX was last scanned and the highest UID looked at, so a scan asks the server only for
   messages that arrived since (the first scan on a node looks at the last IMIP_FIRST_DAYS days). */
#include "api-mail-imip.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "api-common.h"
#include "api-mail-account.h"
#include "cal-imip.h"
#include "cal-sched.h"
#include "clock.h"
#include "http-server.h"
#include "imap-pool.h"
#include "log.h"
#include "mail-config.h"
#include "mail-reply.h"
#include "node.h"
#include "pool.h"
#include "random.h"
#include "smtp-client.h"
#include "storage-schedule.h"

#define IMIP_SCAN_INTERVAL_MS 2000
#define IMIP_FIRST_DAYS       14
#define IMIP_SCAN_MAX         50 /* messages one scan reads at most (the rest: next scan) */
#define IMIP_MESSAGE_MAX      (2 * 1024 * 1024)
#define IMIP_USERS            1024
#define IMIP_KEYWORD          "$iMIPProcessed"

struct scan_state {
	int64_t cid, uid;
	uint64_t last_ms;
	uint32_t last_uid; /* the highest UID looked at (0: none yet) */
	bool running;
};

static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scan_state states[IMIP_USERS];

/* Claims the user's scan when it is due: its state copied to *st_r. false when not due or
   another worker scans it now. */
static bool claim(int64_t cid, int64_t uid, struct scan_state *st_r)
{
	uint64_t now = clock_mono_ms();
	bool due = false;
	pthread_mutex_lock(&states_lock);
	struct scan_state *s = NULL, *oldest = &states[0];
	for (size_t i = 0; i < IMIP_USERS && s == NULL; i++) {
		if (states[i].cid == cid && states[i].uid == uid)
			s = &states[i];
		else if (!states[i].running && states[i].last_ms < oldest->last_ms)
			oldest = &states[i];
	}
	if (s == NULL && !oldest->running) { /* the least recently scanned user is forgotten */
		s = oldest;
		memset(s, 0, sizeof(*s));
		s->cid = cid;
		s->uid = uid;
	}
	if (s != NULL && !s->running &&
	    (s->last_ms == 0 || now - s->last_ms >= IMIP_SCAN_INTERVAL_MS)) {
		s->running = true;
		s->last_ms = now;
		*st_r = *s;
		due = true;
	}
	pthread_mutex_unlock(&states_lock);
	return due;
}

static void release(int64_t cid, int64_t uid, uint32_t last_uid)
{
	pthread_mutex_lock(&states_lock);
	for (size_t i = 0; i < IMIP_USERS; i++) {
		if (states[i].cid == cid && states[i].uid == uid) {
			states[i].running = false;
			if (last_uid > states[i].last_uid)
				states[i].last_uid = last_uid;
			break;
		}
	}
	pthread_mutex_unlock(&states_lock);
}

/* One message: 1 when it was an iMIP REPLY (taken or ignored: flag it), 0 when not. */
static int one(struct imap_client *client, struct storage_user *su, const char *login, uint32_t uid,
               struct pool *pool)
{
	struct mail_error err = {0};
	struct imap_message summary;
	struct mail_calendar cal;
	struct cal_imip_reply reply;
	const char *data, *why = NULL;
	size_t size;
	char error[200];
	if (imap_client_fetch_raw(client, pool, uid, IMIP_MESSAGE_MAX, &data, &size, &summary,
	                          &err) < 0)
		return 0; /* too large or gone: no invitation reply */
	if (mail_reply_calendar(pool, data, size, &cal) <= 0)
		return 0;
	if (cal_imip_parse_reply(pool, cal.text, cal.len, &reply, error, sizeof(error)) < 0) {
		if (strstr(error, "METHOD:REPLY") != NULL)
			return 0; /* a REQUEST or another method: not ours to take */
		log_info("calendar", "%s: iMIP message UID %u ignored: %s", login, (unsigned)uid,
		         error);
		return 1;
	}
	if (cal.from == NULL || !cal_sched_same(cal.from, reply.attendee)) {
		why = "its sender is not its ATTENDEE";
	} else {
		struct storage_error serr;
		int r = storage_sched_imip_reply(su, &reply, &why, &serr);
		if (r < 0) {
			log_warn("calendar", "%s: iMIP reply UID %u: %s (retried later)", login,
			         (unsigned)uid, serr.message);
			return -1;
		}
		if (r > 0)
			log_info("calendar", "%s: %s answered %s to event %s by mail", login,
			         reply.attendee, reply.partstat, reply.uid);
	}
	if (why != NULL)
		log_info("calendar", "%s: iMIP reply UID %u from %s ignored: %s", login,
		         (unsigned)uid, cal.from != NULL ? cal.from : "?", why);
	return 1;
}

static uint32_t scan(struct node *node, struct imap_client *client, const struct api_user *user,
                     struct pool *pool, uint32_t last_uid)
{
	struct mail_error err = {0};
	uint32_t total, *uids;
	size_t n;
	int64_t since = last_uid == 0 ? (int64_t)time(NULL) - IMIP_FIRST_DAYS * 86400 : 0;
	if (imap_client_select_write(client, "INBOX", &total, &err) < 0 ||
	    imap_client_search_unflagged(client, pool, last_uid + 1, since, IMIP_KEYWORD, &uids, &n,
	                                 &err) < 0) {
		log_warn("calendar", "%s: scanning the INBOX for iMIP replies: %s", user->login,
		         err.message);
		return last_uid;
	}
	struct storage_user *su = storage_user_create(node->storage, pool, user->cid, user->uid);
	for (size_t i = 0; i < n && i < IMIP_SCAN_MAX; i++) {
		int r = one(client, su, user->login, uids[i], pool);
		if (r < 0)
			break; /* the storage failed: this message again next time */
		if (r > 0 && imap_client_add_keyword(client, uids[i], IMIP_KEYWORD, &err) < 0)
			log_warn("calendar", "%s: flagging UID %u: %s", user->login,
			         (unsigned)uids[i], err.message);
		last_uid = uids[i];
	}
	return last_uid;
}

void api_mail_imip_scan_user(struct node *node, const struct api_user *user, struct pool *pool)
{
	struct scan_state st;
	struct api_mail_account acct;
	char why[256];
	if (node->mail_pool == NULL || strchr(user->login, '*') != NULL)
		return;
	/* claimed first: a request that finds the scan not due reads nothing (CalDAV clients
	   poll with REPORTs) */
	if (!claim(user->cid, user->uid, &st))
		return;
	uint32_t last_uid = st.last_uid;
	/* a user without a mail account here (api_mail_account_of) has no INBOX to scan */
	if (api_mail_account_find(node, user->cid, user->login, &acct, why, sizeof(why)) < 0) {
		release(user->cid, user->uid, last_uid);
		return;
	}
	struct imap_client *client = NULL;
	struct mail_error err = {0};
	bool reused;
	struct imap_account account = {.url = acct.own_imap ? &acct.imap : NULL,
	                               .login = acct.login};
	if (imap_pool_get_account(node->mail_pool, &account, &client, &reused, &err) == 0) {
		last_uid = scan(node, client, user, pool, last_uid);
		imap_pool_put_account(node->mail_pool, &account, &client);
	} else {
		log_warn("calendar", "%s: iMIP replies not read: %s", user->login, err.message);
	}
	release(user->cid, user->uid, last_uid);
}

bool api_mail_imip_scan(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user))
		return false;
	api_mail_imip_scan_user(node, &user, http_request_pool(req));
	return true;
}

/* ------------------------------------------------------------- sending */

/* Sends one message text by SMTP as the account's login (from: the envelope sender) to rcpt. */
static int send_one(struct node *node, const struct api_mail_account *acct, const char *from,
                    const char *rcpt, const char *msg, struct mail_error *err)
{
	const struct mail_settings *ms = &node->cfg.mail;
	struct smtp_client_settings set = {
	    .url = &acct->smtp,
	    .timeout_ms = (unsigned)ms->timeout_ms,
	    .master_user = ms->master_user,
	    .master_password = ms->master_password,
	};
	size_t len = strlen(msg);
	int fd = memfd_create("imip", MFD_CLOEXEC);
	if (fd < 0 || write(fd, msg, len) != (ssize_t)len) {
		err->kind = MAIL_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message), "cannot buffer the message: %s",
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const char *rcpts[1] = {rcpt};
	int r = smtp_client_send(&set, acct->login, from, rcpts, 1, fd, len, err);
	close(fd);
	return r;
}

bool api_mail_imip_send(struct node *node, struct storage_user *su,
                        const struct storage_cal_object *old, struct storage_cal_object *obj)
{
	struct storage_sched_mails m;
	struct storage_error serr;
	struct api_mail_account acct;
	char why[256];
	if (!node->cfg.mail.enabled)
		return false; /* outside attendees keep SCHEDULE-STATUS 5.1 */
	if (storage_sched_outside(su, old, obj, &m, &serr) < 0) {
		log_error("calendar", "invitations by mail: %s", serr.message);
		return false;
	}
	if (m.count == 0)
		return false;
	if (api_mail_account_find(node, storage_user_cid(su), m.login, &acct, why, sizeof(why)) <
	        0 ||
	    !acct.smtp_set) {
		log_warn("calendar", "%s: invitations by mail not sent: %s", m.login,
		         acct.smtp_set ? why : "no SMTP server ([mail] smtp_url)");
		return false;
	}
	struct pool *pool = pool_create(0);
	struct cal_sched_edit *edits = pool_calloc(pool, m.count + 1, sizeof(*edits));
	size_t n = 0;
	for (size_t i = 0; i < m.count; i++) {
		const struct storage_sched_mail *x = &m.mails[i];
		enum cal_imip_method method = x->cancel ? CAL_IMIP_CANCEL : CAL_IMIP_REQUEST;
		struct mail_error err = {0};
		char id[33];
		random_hex(id, (sizeof(id) - 1) / 2);
		struct cal_imip_mail mail = {
		    .method = method,
		    .from = m.from,
		    .from_name = m.from_name,
		    .to = x->email,
		    .itip = cal_imip_itip(pool, x->object->ical, x->object->ical_len, method),
		    .message_id = pool_printf(pool, "imip.%s@tandem", id),
		    .date = (int64_t)time(NULL),
		};
		const char *msg = mail.itip != NULL ? cal_imip_message(pool, &mail) : NULL;
		int r = -1;
		if (msg == NULL)
			snprintf(err.message, sizeof(err.message),
			         "the event or an address cannot be "
			         "put in a mail");
		else
			r = send_one(node, &acct, m.from, x->email, msg, &err);
		if (r < 0)
			log_warn("calendar", "%s: iMIP %s of %s to %s failed: %s", m.login,
			         cal_imip_method_name(method), x->object->uid, x->email,
			         err.message);
		if (!x->cancel && x->object == obj)
			edits[n++] = (struct cal_sched_edit){
			    .email = x->email, .schedule_status = r == 0 ? "1.2" : "5.1"};
	}
	int r = n > 0 && obj != NULL ? storage_sched_mark(su, obj, edits, n, &serr) : 0;
	if (r < 0)
		log_warn("calendar", "recording SCHEDULE-STATUS of event %lld: %s",
		         (long long)obj->id, serr.message);
	pool_destroy(&pool);
	return r > 0;
}
