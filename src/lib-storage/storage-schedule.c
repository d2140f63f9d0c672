/* SPDX-License-Identifier: MIT */
/* Scheduling within a context: directory lookups, attendee copies, replies, resource booking
   and free/busy. */
#include "storage-schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal-imip.h"
#include "cal-sched.h"
#include "log.h"
#include "pool.h"
#include "storage-private.h"

/* Instances of one object a conflict check or free/busy looks at, and candidate objects
   (and their bytes) one of them reads at most. */
#define INSTANCES_MAX        1000
#define CANDIDATES_MAX       2000
#define CANDIDATES_BYTES_MAX (32 * 1024 * 1024)
/* How far ahead a recurring event is checked for conflicts with a resource's bookings. */
#define CONFLICT_WINDOW (366 * 86400)

/* A user or resource of the context. */
struct person {
	bool found, resource, available;
	int64_t id;
	const char *login; /* a resource's name */
	const char *email, *name;
};

/* --------------------------------------------------------------- queries */

/* One query's binds (after cid: 'i' from ints, 's' from texts, in fmt order) and the
   first row's (or every row's, with each) columns. */
struct query {
	struct storage_user *user;
	const char *what, *sql, *fmt;
	const char *sql_mariadb; /* MariaDB's instead of sql, if set */
	int64_t ints[4];
	const char *texts[4];
	size_t cols;
	/* results: the first row, or with rows_max every row's first two columns as text */
	bool found;
	int64_t col_int[6];
	const char *col_text[6];
	size_t rows_max, row_count, row_bytes;
	const char **row_a, **row_b;
};

static int query_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct query *q = ctx;
	struct pool *pool = q->user->pool;
	bool mariadb = q->sql_mariadb != NULL && sql_conn_driver(conn) == SQL_DRIVER_MARIADB;
	struct sql_stmt *s = sql_prepare(conn, mariadb ? q->sql_mariadb : q->sql, err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, q->user->cid);
	size_t ni = 0, nt = 0;
	for (unsigned i = 0; q->fmt[i] != '\0'; i++) {
		if (q->fmt[i] == 'i')
			sql_bind_int64(s, i + 2, q->ints[ni++]);
		else
			sql_bind_text(s, i + 2, q->texts[nt++]);
	}
	int r;
	while ((r = sql_step(s, err)) > 0) {
		if (q->rows_max == 0) {
			q->found = true;
			for (unsigned c = 0; c < q->cols; c++) {
				const char *t = sql_col_text(s, c);
				q->col_int[c] = sql_col_int64(s, c);
				q->col_text[c] = t != NULL ? pool_strdup(pool, t) : NULL;
			}
			break;
		}
		const char *a = sql_col_text(s, 0), *b = sql_col_text(s, 1);
		q->row_bytes += a != NULL ? strlen(a) : 0;
		if (q->row_count == q->rows_max || q->row_bytes > CANDIDATES_BYTES_MAX)
			break;
		q->row_a[q->row_count] = pool_strdup(pool, a != NULL ? a : "");
		q->row_b[q->row_count++] = pool_strdup(pool, b != NULL ? b : "");
	}
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

static int query_run(struct query *q, struct storage_error *err)
{
	if (q->rows_max > 0) {
		q->row_a = pool_calloc(q->user->pool, q->rows_max, sizeof(*q->row_a));
		q->row_b = pool_calloc(q->user->pool, q->rows_max, sizeof(*q->row_b));
	}
	return storage__run(q->user, false, query_txn, q, &q->what, err);
}

#define USER_COLS "SELECT id, login, email, display_name, 1 FROM users WHERE cid=? AND "
#define RESOURCE_COLS                                                                              \
	"SELECT id, name, email, display_name, available FROM resource WHERE cid=? AND "

/* The user or resource where (binding one text, or with by_id one id; on MariaDB
   where_mariadb if not NULL): 0 with *p_r (found or not), -1 with err. */
static int person_find_in(struct storage_user *user, bool resource, const char *where,
                          const char *where_mariadb, bool by_id, int64_t id, const char *text,
                          struct person *p_r, struct storage_error *err)
{
	struct query q = {.user = user, .what = "directory lookup", .cols = 5};
	const char *cols = resource ? RESOURCE_COLS : USER_COLS;
	q.sql = pool_printf(user->pool, "%s%s", cols, where);
	if (where_mariadb != NULL)
		q.sql_mariadb = pool_printf(user->pool, "%s%s", cols, where_mariadb);
	q.fmt = by_id ? "i" : "s";
	q.ints[0] = id;
	q.texts[0] = text;
	memset(p_r, 0, sizeof(*p_r));
	if (query_run(&q, err) < 0)
		return -1;
	if (!q.found)
		return 0;
	p_r->found = true;
	p_r->resource = resource;
	p_r->id = q.col_int[0];
	p_r->login = q.col_text[1];
	p_r->email = q.col_text[2];
	p_r->name = q.col_text[3];
	p_r->available = q.col_int[4] != 0;
	return 0;
}

static int person_find(struct storage_user *user, bool resource, const char *where, bool by_id,
                       int64_t id, const char *text, struct person *p_r, struct storage_error *err)
{
	return person_find_in(user, resource, where, NULL, by_id, id, text, p_r, err);
}

/* Whoever of the context has e-mail email (case ignored): a user first, then a resource.
   Both comparisons use the index of schema step 12: SQLite's is on LOWER(email); MariaDB's is
   on email, whose collation already ignores case. */
static int person_by_email(struct storage_user *user, const char *email, struct person *p_r,
                           struct storage_error *err)
{
	static const char where[] = "LOWER(email)=LOWER(?)", where_mariadb[] = "email=?";
	if (person_find_in(user, false, where, where_mariadb, false, 0, email, p_r, err) < 0)
		return -1;
	if (p_r->found)
		return 0;
	return person_find_in(user, true, where, where_mariadb, false, 0, email, p_r, err);
}

int storage_sched_whoami(struct storage_user *user, const char **email_r, const char **name_r,
                         struct storage_error *err)
{
	struct person me;
	if (person_find(user, false, "id=?", true, user->uid, NULL, &me, err) < 0)
		return -1;
	if (!me.found)
		return storage__refuse(err, STORAGE_NOT_FOUND, "user %lld not found",
		                       (long long)user->uid);
	*email_r = me.email;
	if (name_r != NULL)
		*name_r = me.name;
	return 0;
}

static struct storage_user *as_user(struct storage_user *me, int64_t uid)
{
	return uid == me->uid ? me : storage_user_create(me->storage, me->pool, me->cid, uid);
}

/* uid's copy of the event with UID uid_text organised by organiser in a calendar folder
   uid owns: 1 into *obj_r, 0 none (an object of that UID organised by someone else is none
   of scheduling's business: it is never replaced), -1 with err. */
static int copy_find(struct storage_user *me, int64_t uid, const char *uid_text,
                     const char *organiser, struct storage_cal_object *obj_r,
                     struct storage_error *err)
{
	struct cal_sched_info info;
	struct query q = {
	    .user = me,
	    .what = "attendee copy lookup",
	    .sql = "SELECT o.id FROM cal_object o JOIN folder f ON f.cid=o.cid AND f.id=o.folder "
	           "WHERE o.cid=? AND o.uid=? AND f.owner=? AND f.module='calendar' ORDER BY o.id",
	    .fmt = "si",
	    .texts = {uid_text},
	    .ints = {uid},
	    .cols = 1,
	};
	if (query_run(&q, err) < 0)
		return -1;
	if (!q.found)
		return 0;
	if (storage_cal_get(as_user(me, uid), q.col_int[0], obj_r, err) < 0)
		return -1;
	return cal_sched_parse(me->pool, obj_r->ical, obj_r->ical_len, &info) == 0 &&
	       cal_sched_same(info.organizer, organiser);
}

static int default_calendar(struct storage_user *me, int64_t uid, int64_t *folder_r,
                            struct storage_error *err)
{
	struct query q = {
	    .user = me,
	    .what = "default calendar lookup",
	    .sql = "SELECT id FROM folder WHERE cid=? AND owner=? AND default_for='calendar'",
	    .fmt = "i",
	    .ints = {uid},
	    .cols = 1,
	};
	if (query_run(&q, err) < 0)
		return -1;
	*folder_r = q.found ? q.col_int[0] : 0;
	return 0;
}

/* Stores text as user uid (replacing id when > 0, with if_match), into *obj_r if not NULL. */
static int put_as(struct storage_user *me, int64_t uid, int64_t folder, int64_t id,
                  const char *if_match, const char *text, struct storage_cal_object *obj_r,
                  struct storage_error *err)
{
	struct storage_cal_put put = {.folder = folder,
	                              .id = id,
	                              .text = text,
	                              .len = strlen(text),
	                              .if_match = if_match,
	                              .component = "VEVENT"};
	if (storage_cal_put(as_user(me, uid), &put, err) < 0)
		return -1;
	if (obj_r != NULL)
		*obj_r = put.obj;
	return 0;
}

static void copy_failed(const char *what, const char *email, const struct storage_error *err)
{
	log_error("calendar", "scheduling: %s for %s failed: %s", what, email, err->message);
}

/* --------------------------------------------------------------- busy time */

struct period {
	int64_t start, end;
	enum cal_sched_busy type;
};

/* The instances of text in [start, end) into pool (at most INSTANCES_MAX). */
static size_t instances(struct pool *pool, const char *text, int64_t start, int64_t end,
                        struct cal_ical_instance **in_r)
{
	size_t n = 0;
	bool more;
	char error[200];
	*in_r = pool_calloc(pool, INSTANCES_MAX, sizeof(**in_r));
	if (cal_ical_expand(text, strlen(text), start, end, *in_r, INSTANCES_MAX, &n, &more, error,
	                    sizeof(error)) < 0)
		return 0;
	return n;
}

/* The VEVENTs that might hold a resource's booking: those naming its e-mail whose range
   overlaps [start, end), but the UID not_uid. Texts into *texts_r, their UIDs into *uids_r. */
static int resource_candidates(struct storage_user *me, const char *email, const char *not_uid,
                               int64_t start, int64_t end, struct query *q,
                               struct storage_error *err)
{
	memset(q, 0, sizeof(*q));
	q->user = me;
	q->what = "resource bookings";
	q->sql = "SELECT ical, uid FROM cal_object WHERE cid=? AND component='VEVENT' AND uid<>? "
	         "AND (first_instance IS NULL OR first_instance<?) AND (last_instance IS NULL OR "
	         "last_instance>?) AND ical LIKE ?";
	q->fmt = "siis";
	q->texts[0] = not_uid;
	q->ints[0] = end;
	q->ints[1] = start;
	q->texts[1] = pool_printf(me->pool, "%%%s%%", email);
	q->rows_max = CANDIDATES_MAX;
	return query_run(q, err);
}

/* Whether the candidate i (of q) is a booking of resource email: accepted, not cancelled, and
   its UID not seen before (copies of one event share it). */
static bool booking(struct pool *pool, const struct query *q, size_t i, const char *email)
{
	struct cal_sched_info info;
	for (size_t j = 0; j < i; j++)
		if (strcmp(q->row_b[j], q->row_b[i]) == 0)
			return false;
	if (cal_sched_parse(pool, q->row_a[i], strlen(q->row_a[i]), &info) < 0 || info.cancelled)
		return false;
	const struct cal_sched_attendee *a = cal_sched_attendee(&info, email);
	return a != NULL && strcmp(a->partstat, "ACCEPTED") == 0;
}

/* Whether event obj overlaps an accepted booking of resource r: 1, 0, -1 with err. */
static int conflicts(struct storage_user *me, const struct person *r,
                     const struct storage_cal_object *obj, struct storage_error *err)
{
	struct cal_ical_instance *mine, *other;
	struct query q;
	int64_t from = obj->dtstart, to = obj->dtstart + CONFLICT_WINDOW;
	size_t n = instances(me->pool, obj->ical, from, to, &mine);
	if (n == 0)
		return 0;
	if (resource_candidates(me, r->email, obj->uid, from, to, &q, err) < 0)
		return -1;
	for (size_t i = 0; i < q.row_count; i++) {
		if (!booking(me->pool, &q, i, r->email))
			continue;
		size_t m = instances(me->pool, q.row_a[i], from, to, &other);
		for (size_t a = 0; a < n; a++)
			for (size_t b = 0; b < m; b++)
				if (mine[a].start < other[b].end && other[b].start < mine[a].end)
					return 1;
	}
	return 0;
}

static int period_cmp(const void *a, const void *b)
{
	const struct period *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

/* Adds the instances of text in [start, end) as periods of type (clipped to the range). */
static void add_periods(struct pool *pool, const char *text, int64_t start, int64_t end,
                        enum cal_sched_busy type, struct period *out, size_t *count)
{
	struct cal_ical_instance *in;
	size_t n = instances(pool, text, start, end, &in);
	for (size_t i = 0; i < n && *count < STORAGE_SCHED_BUSY_MAX; i++) {
		struct period *p = &out[(*count)++];
		p->start = in[i].start < start ? start : in[i].start;
		p->end = in[i].end > end ? end : in[i].end;
		p->type = type;
	}
}

static json_t *busy_json(struct period *periods, size_t n)
{
	char t[32];
	json_t *busy = json_array();
	qsort(periods, n, sizeof(*periods), period_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *b = json_object();
		storage_cal_format_time(periods[i].start, false, t);
		json_object_set_new(b, "start", json_string(t));
		storage_cal_format_time(periods[i].end, false, t);
		json_object_set_new(b, "end", json_string(t));
		json_object_set_new(b, "type", json_string(cal_sched_busy_name(periods[i].type)));
		json_array_append_new(busy, b);
	}
	return busy;
}

static int busy_of(struct storage_user *me, const struct person *p, int64_t start, int64_t end,
                   json_t **entry_r, struct storage_error *err)
{
	struct period *periods = pool_calloc(me->pool, STORAGE_SCHED_BUSY_MAX, sizeof(*periods));
	size_t n = 0;
	struct query q;
	if (p->resource) {
		if (resource_candidates(me, p->email, "", start, end, &q, err) < 0)
			return -1;
		for (size_t i = 0; i < q.row_count; i++)
			if (booking(me->pool, &q, i, p->email))
				add_periods(me->pool, q.row_a[i], start, end, CAL_SCHED_BUSY,
				            periods, &n);
		*entry_r = json_pack("{sI ss so}", "resource", (json_int_t)p->id, "name", p->login,
		                     "busy", busy_json(periods, n));
		return 0;
	}
	memset(&q, 0, sizeof(q));
	q.user = me;
	q.what = "free/busy";
	q.sql = "SELECT o.ical, o.uid FROM cal_object o JOIN folder f ON f.cid=o.cid AND "
	        "f.id=o.folder WHERE o.cid=? AND f.owner=? AND f.module='calendar' AND "
	        "o.component='VEVENT' AND (o.first_instance IS NULL OR o.first_instance<?) AND "
	        "(o.last_instance IS NULL OR o.last_instance>?)";
	q.fmt = "iii";
	q.ints[0] = p->id;
	q.ints[1] = end;
	q.ints[2] = start;
	q.rows_max = CANDIDATES_MAX;
	if (query_run(&q, err) < 0)
		return -1;
	for (size_t i = 0; i < q.row_count; i++) {
		struct cal_sched_info info;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(q.row_b[j], q.row_b[i]) == 0;
		if (seen || cal_sched_parse(me->pool, q.row_a[i], strlen(q.row_a[i]), &info) < 0)
			continue;
		enum cal_sched_busy type = cal_sched_busy_type(&info, p->email);
		if (type != CAL_SCHED_FREE)
			add_periods(me->pool, q.row_a[i], start, end, type, periods, &n);
	}
	*entry_r = json_pack("{sI ss so}", "user", (json_int_t)p->id, "login", p->login, "busy",
	                     busy_json(periods, n));
	return 0;
}

int storage_sched_freebusy(struct storage_user *user, bool resource, const char *key, int64_t start,
                           int64_t end, json_t **entry_r, struct storage_error *err)
{
	struct person p;
	char *tail;
	long long id = strtoll(key, &tail, 10);
	bool by_id = tail != key && *tail == '\0' && id > 0;
	const char *where = by_id ? "id=?" : resource ? "name=?" : "login=?";
	memset(err, 0, sizeof(*err));
	if (person_find(user, resource, where, by_id, (int64_t)id, key, &p, err) < 0)
		return -1;
	if (!p.found)
		return storage__refuse(err, STORAGE_NOT_FOUND, "no %s \"%.100s\" in this context",
		                       resource ? "resource" : "user", key);
	return busy_of(user, &p, start, end, entry_r, err);
}

int storage_sched_freebusy_email(struct storage_user *user, const char *email, int64_t start,
                                 int64_t end, json_t **entry_r, struct storage_error *err)
{
	struct person p;
	memset(err, 0, sizeof(*err));
	if (person_by_email(user, email, &p, err) < 0)
		return -1;
	if (!p.found)
		return storage__refuse(err, STORAGE_NOT_FOUND, "no user or resource \"%.100s\"",
		                       email);
	return busy_of(user, &p, start, end, entry_r, err);
}

/* --------------------------------------------------------------- organiser and attendees */

struct sched {
	struct storage_user *me;
	struct pool *pool;
	const char *email, *name; /* mine */
	struct storage_error *err;
};

/* The copy of attendee u of the event with UID uid: put text (cancel: marked cancelled)
   into their copy, or a new one in their default calendar. Failures are logged. */
static void deliver(struct sched *s, const struct person *u, const char *uid, const char *text,
                    bool cancel)
{
	struct storage_cal_object copy;
	struct storage_error err;
	int64_t folder = 0;
	int r = copy_find(s->me, u->id, uid, s->email, &copy, &err);
	if (r < 0) {
		copy_failed("finding the copy", u->email, &err);
		return;
	}
	if (r == 0 && (cancel || default_calendar(s->me, u->id, &folder, &err) < 0 || folder == 0))
		return; /* nothing to cancel, or no calendar to put it in */
	struct cal_sched_rewrite rw = {.strip_schedule_status = true, .cancel = cancel};
	const char *base = cancel ? copy.ical : text;
	const char *out = cal_sched_rewrite(s->pool, base, strlen(base), &rw);
	if (out == NULL)
		out = base;
	if (r > 0 && strcmp(out, copy.ical) == 0)
		return;
	if (put_as(s->me, u->id, r > 0 ? copy.folder : folder, r > 0 ? copy.id : 0,
	           r > 0 ? copy.etag : NULL, out, NULL, &err) < 0)
		copy_failed(cancel ? "cancelling" : "delivering", u->email, &err);
}

/* An attendee's PARTSTAT (theirs: in their copy of event obj) for the organiser's copy. */
static const char *attendee_partstat(struct sched *s, const struct person *u, const char *uid)
{
	struct storage_cal_object copy;
	struct storage_error err;
	struct cal_sched_info info;
	const struct cal_sched_attendee *a;
	if (copy_find(s->me, u->id, uid, s->email, &copy, &err) <= 0 ||
	    cal_sched_parse(s->pool, copy.ical, copy.ical_len, &info) < 0 ||
	    (a = cal_sched_attendee(&info, u->email)) == NULL)
		return "NEEDS-ACTION";
	return a->partstat;
}

/* The organiser's event obj (info) was stored (old_info: before, or NULL). */
static int organise(struct sched *s, const struct cal_sched_info *old_info,
                    const struct cal_sched_info *info, bool add_organizer,
                    struct storage_cal_object *obj)
{
	size_t n = info->attendee_count;
	struct cal_sched_edit *edits = pool_calloc(s->pool, n + 1, sizeof(*edits));
	struct person *people = pool_calloc(s->pool, n + 1, sizeof(*people));
	const char **partstats = pool_calloc(s->pool, n + 1, sizeof(*partstats));
	size_t e = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cal_sched_attendee *a = &info->attendees[i];
		struct person *p = &people[i];
		if (cal_sched_same(a->email, s->email))
			continue;
		if (person_by_email(s->me, a->email, p, s->err) < 0)
			return -1;
		struct cal_sched_edit *ed = &edits[e++];
		ed->email = a->email;
		ed->schedule_status = p->found ? "1.2" : "5.1"; /* delivered / not (no mail yet) */
		if (!p->found)
			continue;
		if (!p->resource) {
			ed->partstat = partstats[i] = attendee_partstat(s, p, obj->uid);
			continue;
		}
		/* not available: new bookings are declined, an accepted one stays */
		const struct cal_sched_attendee *was =
		    old_info != NULL ? cal_sched_attendee(old_info, a->email) : NULL;
		bool bookable =
		    p->available || (was != NULL && strcmp(was->partstat, "ACCEPTED") == 0);
		int c = bookable && !info->cancelled ? conflicts(s->me, p, obj, s->err) : 1;
		if (c < 0)
			return -1;
		ed->partstat = c > 0 ? "DECLINED" : "ACCEPTED";
	}
	struct cal_sched_rewrite rw = {.organizer = add_organizer ? s->email : NULL,
	                               .organizer_name = s->name,
	                               .edits = edits,
	                               .edit_count = e};
	const char *text = cal_sched_rewrite(s->pool, obj->ical, obj->ical_len, &rw);
	int changed = 0;
	if (text != NULL) {
		if (put_as(s->me, s->me->uid, obj->folder, obj->id, obj->etag, text, obj, s->err) <
		    0)
			return -1;
		changed = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!people[i].found || people[i].resource)
			continue;
		/* each copy carries its attendee's own answer */
		struct cal_sched_edit mine = {.email = people[i].email, .partstat = partstats[i]};
		struct cal_sched_rewrite own = {.edits = &mine, .edit_count = 1};
		const char *t = cal_sched_rewrite(s->pool, obj->ical, obj->ical_len, &own);
		deliver(s, &people[i], obj->uid, t != NULL ? t : obj->ical, info->cancelled);
	}
	/* attendees no longer invited: their copies are cancelled */
	for (size_t i = 0; old_info != NULL && i < old_info->attendee_count; i++) {
		const struct cal_sched_attendee *a = &old_info->attendees[i];
		struct person p;
		if (cal_sched_attendee(info, a->email) != NULL ||
		    cal_sched_same(a->email, s->email))
			continue;
		if (person_by_email(s->me, a->email, &p, s->err) < 0)
			return -1;
		if (p.found && !p.resource)
			deliver(s, &p, obj->uid, NULL, true);
	}
	return changed;
}

/* The attendee's answer partstat for the event with UID uid goes to organiser's copy. */
static int reply_to_organiser(struct sched *s, const char *organiser, const char *uid,
                              const char *partstat)
{
	struct person o;
	struct storage_cal_object copy;
	if (person_by_email(s->me, organiser, &o, s->err) < 0)
		return -1;
	if (!o.found || o.resource || o.id == s->me->uid)
		return 0;
	int r = copy_find(s->me, o.id, uid, o.email, &copy, s->err);
	if (r <= 0)
		return r;
	struct cal_sched_edit ed = {
	    .email = s->email, .partstat = partstat, .schedule_status = "2.0"};
	struct cal_sched_rewrite rw = {.edits = &ed, .edit_count = 1};
	const char *text = cal_sched_rewrite(s->pool, copy.ical, copy.ical_len, &rw);
	if (text == NULL)
		return 0;
	return put_as(s->me, o.id, copy.folder, copy.id, copy.etag, text, NULL, s->err);
}

static bool has_scheduling(const struct storage_cal_object *o)
{
	return o != NULL && strcmp(o->component, "VEVENT") == 0 &&
	       (strstr(o->ical, "ATTENDEE") != NULL || strstr(o->ical, "ORGANIZER") != NULL);
}

static int sched_begin(struct sched *s, struct storage_user *user, struct storage_error *err)
{
	s->me = user;
	s->pool = user->pool;
	s->err = err;
	memset(err, 0, sizeof(*err));
	return storage_sched_whoami(user, &s->email, &s->name, err);
}

int storage_sched_after_put(struct storage_user *user, const struct storage_cal_object *old,
                            struct storage_cal_object *obj, bool json, struct storage_error *err)
{
	struct sched s;
	struct cal_sched_info info, old_info = {0};
	memset(err, 0, sizeof(*err));
	if (!has_scheduling(obj) && !has_scheduling(old))
		return 0;
	if (sched_begin(&s, user, err) < 0 ||
	    cal_sched_parse(s.pool, obj->ical, obj->ical_len, &info) < 0)
		return -1;
	if (has_scheduling(old) && cal_sched_parse(s.pool, old->ical, old->ical_len, &old_info) < 0)
		memset(&old_info, 0, sizeof(old_info));
	bool old_mine = old_info.organizer != NULL && cal_sched_same(old_info.organizer, s.email);
	const char *organiser = info.organizer;
	bool add = false;
	if (organiser == NULL && (json || old_mine) && info.attendee_count > 0) {
		/* the JSON form carries no ORGANIZER: a replaced event keeps its organiser */
		organiser = old_info.organizer != NULL ? old_info.organizer : s.email;
		add = true;
	}
	if (organiser != NULL && cal_sched_same(organiser, s.email))
		return organise(&s, old_mine ? &old_info : NULL, &info, add, obj);
	if (organiser == NULL && old_mine) { /* scheduling dropped: everyone is cancelled */
		info.attendee_count = 0;
		return organise(&s, &old_info, &info, false, obj);
	}
	const struct cal_sched_attendee *me = cal_sched_attendee(&info, s.email);
	if (organiser == NULL || me == NULL)
		return 0;
	int changed = 0;
	const char *partstat = me->partstat;
	if (add) { /* the JSON form: the copy keeps its ORGANIZER and my answer */
		const struct cal_sched_attendee *was = cal_sched_attendee(&old_info, s.email);
		struct cal_sched_edit keep = {.email = s.email,
		                              .partstat = was != NULL ? was->partstat : NULL};
		struct cal_sched_rewrite rw = {.organizer = organiser,
		                               .organizer_name = old_info.organizer_name,
		                               .edits = &keep,
		                               .edit_count = 1};
		partstat = keep.partstat != NULL ? keep.partstat : partstat;
		const char *text = cal_sched_rewrite(s.pool, obj->ical, obj->ical_len, &rw);
		if (text != NULL) {
			if (put_as(user, user->uid, obj->folder, obj->id, obj->etag, text, obj,
			           err) < 0)
				return -1;
			changed = 1;
		}
	}
	return reply_to_organiser(&s, organiser, obj->uid, partstat) < 0 ? -1 : changed;
}

int storage_sched_after_delete(struct storage_user *user, const struct storage_cal_object *old,
                               struct storage_error *err)
{
	struct sched s;
	struct cal_sched_info info;
	memset(err, 0, sizeof(*err));
	if (!has_scheduling(old))
		return 0;
	if (sched_begin(&s, user, err) < 0)
		return -1;
	if (cal_sched_parse(s.pool, old->ical, old->ical_len, &info) < 0 || info.organizer == NULL)
		return 0;
	if (cal_sched_same(info.organizer, s.email)) {
		for (size_t i = 0; i < info.attendee_count; i++) {
			struct person p;
			if (person_by_email(user, info.attendees[i].email, &p, err) < 0)
				return -1;
			if (p.found && !p.resource && p.id != user->uid)
				deliver(&s, &p, old->uid, NULL, true);
		}
		return 0;
	}
	if (cal_sched_attendee(&info, s.email) != NULL)
		return reply_to_organiser(&s, info.organizer, old->uid, "DECLINED");
	return 0;
}

int storage_sched_reply(struct storage_user *user, int64_t id, const char *partstat,
                        struct storage_cal_object *obj_r, struct storage_error *err)
{
	struct sched s;
	struct cal_sched_info info;
	if (sched_begin(&s, user, err) < 0 || storage_cal_get(user, id, obj_r, err) < 0)
		return -1;
	bool parsed = strcmp(obj_r->component, "VEVENT") == 0 &&
	              cal_sched_parse(s.pool, obj_r->ical, obj_r->ical_len, &info) == 0 &&
	              info.organizer != NULL;
	if (parsed && cal_sched_same(info.organizer, s.email))
		return storage__refuse(err, STORAGE_INVALID,
		                       "you organise event %lld: only attendees reply",
		                       (long long)id);
	if (!parsed || cal_sched_attendee(&info, s.email) == NULL)
		return storage__refuse(err, STORAGE_INVALID,
		                       "you (%s) are not an attendee of event %lld", s.email,
		                       (long long)id);
	struct cal_sched_edit ed = {.email = s.email, .partstat = partstat};
	struct cal_sched_rewrite rw = {.edits = &ed, .edit_count = 1};
	const char *text = cal_sched_rewrite(s.pool, obj_r->ical, obj_r->ical_len, &rw);
	if (text != NULL &&
	    put_as(user, user->uid, obj_r->folder, obj_r->id, obj_r->etag, text, obj_r, err) < 0)
		return -1;
	return reply_to_organiser(&s, info.organizer, obj_r->uid, partstat);
}

int storage_sched_imip_reply(struct storage_user *user, const struct cal_imip_reply *reply,
                             const char **why_r, struct storage_error *err)
{
	struct sched s;
	struct storage_cal_object obj;
	struct cal_sched_info info;
	struct person p;
	*why_r = NULL;
	if (sched_begin(&s, user, err) < 0)
		return -1;
	if (!cal_sched_same(reply->organizer, s.email)) {
		*why_r = "its ORGANIZER is not the mailbox's owner";
		return 0;
	}
	int r = copy_find(user, user->uid, reply->uid, s.email, &obj, err);
	if (r < 0)
		return -1;
	if (r == 0 || cal_sched_parse(s.pool, obj.ical, obj.ical_len, &info) < 0) {
		*why_r = "no event with its UID is organised by the mailbox's owner";
		return 0;
	}
	if (cal_sched_attendee(&info, reply->attendee) == NULL) {
		*why_r = "its ATTENDEE is not invited to the event";
		return 0;
	}
	if (person_by_email(user, reply->attendee, &p, err) < 0)
		return -1;
	if (p.found) {
		*why_r = "its ATTENDEE is in the context and answers there";
		return 0;
	}
	struct cal_sched_edit ed = {
	    .email = reply->attendee, .partstat = reply->partstat, .schedule_status = "2.0"};
	struct cal_sched_rewrite rw = {.edits = &ed, .edit_count = 1};
	const char *text = cal_sched_rewrite(s.pool, obj.ical, obj.ical_len, &rw);
	if (text == NULL) {
		*why_r = "it changes nothing";
		return 0;
	}
	if (put_as(user, user->uid, obj.folder, obj.id, obj.etag, text, NULL, err) < 0)
		return -1;
	return 1;
}

/* Whether email is someone outside the context (no user or resource has it), not me. */
static int outside(struct sched *s, const char *email, bool *outside_r)
{
	struct person p;
	*outside_r = false;
	if (cal_sched_same(email, s->email) || strchr(email, '@') == NULL)
		return 0;
	if (person_by_email(s->me, email, &p, s->err) < 0)
		return -1;
	*outside_r = !p.found;
	return 0;
}

static int add_mail(struct sched *s, struct storage_sched_mails *m, const char *email,
                    const struct storage_cal_object *of, bool cancel)
{
	bool out;
	if (outside(s, email, &out) < 0)
		return -1;
	if (out && m->count < CAL_SCHED_ATTENDEES_MAX * 2) {
		struct storage_sched_mail *x = &m->mails[m->count++];
		x->email = email;
		x->object = of;
		x->cancel = cancel;
	}
	return 0;
}

int storage_sched_outside(struct storage_user *user, const struct storage_cal_object *old,
                          const struct storage_cal_object *obj, struct storage_sched_mails *m,
                          struct storage_error *err)
{
	struct sched s;
	struct cal_sched_info info = {0}, old_info = {0};
	struct person me;
	memset(m, 0, sizeof(*m));
	memset(err, 0, sizeof(*err));
	if (!has_scheduling(obj) && !has_scheduling(old))
		return 0;
	if (sched_begin(&s, user, err) < 0 ||
	    person_find(user, false, "id=?", true, user->uid, NULL, &me, err) < 0)
		return -1;
	m->from = s.email;
	m->from_name = s.name;
	m->login = me.login;
	m->mails = pool_calloc(s.pool, CAL_SCHED_ATTENDEES_MAX * 2, sizeof(*m->mails));
	bool mine = obj != NULL && cal_sched_parse(s.pool, obj->ical, obj->ical_len, &info) == 0 &&
	            info.event && cal_sched_same(info.organizer, s.email);
	bool old_mine = old != NULL &&
	                cal_sched_parse(s.pool, old->ical, old->ical_len, &old_info) == 0 &&
	                old_info.event && cal_sched_same(old_info.organizer, s.email);
	for (size_t i = 0; mine && i < info.attendee_count; i++)
		if (add_mail(&s, m, info.attendees[i].email, obj, info.cancelled) < 0)
			return -1;
	/* attendees no longer invited, or all of a deleted event: cancelled */
	for (size_t i = 0; old_mine && i < old_info.attendee_count; i++)
		if ((!mine || cal_sched_attendee(&info, old_info.attendees[i].email) == NULL) &&
		    add_mail(&s, m, old_info.attendees[i].email, old, true) < 0)
			return -1;
	return 0;
}

int storage_sched_mark(struct storage_user *user, struct storage_cal_object *obj,
                       const struct cal_sched_edit *edits, size_t count, struct storage_error *err)
{
	memset(err, 0, sizeof(*err));
	struct cal_sched_rewrite rw = {.edits = edits, .edit_count = count};
	const char *text = cal_sched_rewrite(user->pool, obj->ical, obj->ical_len, &rw);
	if (text == NULL)
		return 0;
	/* If-Match: a change made meanwhile wins (and mails its own invitations) */
	if (put_as(user, user->uid, obj->folder, obj->id, obj->etag, text, obj, err) < 0)
		return -1;
	return 1;
}
