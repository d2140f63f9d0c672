/* SPDX-License-Identifier: MIT */
/* The global address book: the users of a context searched in a per-node snapshot. */
#include "storage-gab.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "invalidation.h"
#include "mem.h"
#include "pool.h"
#include "storage-private.h"
#include "vcard.h"

/* Why a snapshot: a substring search cannot use an index, and scanning 100,000 rows in SQL
   per keystroke costs tens of milliseconds; scanning one lowercased string per user in memory
   costs about one. Each request still reads the revision (one primary-key row) in the same
   transaction as a reload would, so an answer is never older than the database, whatever
   the invalidation stream did. */

#define ENTRY_COLS                                                                                 \
	"u.id, u.login, u.display_name, u.given_name, u.sur_name, u.email, u.modified, "           \
	"COALESCE(p.phone, ''), COALESCE(p.org, ''), COALESCE(p.modified, 0) FROM users u LEFT "   \
	"JOIN gab_published p ON p.cid=u.cid AND p.user_id=u.id WHERE u.cid=? AND u.enabled=1"

struct snap_row {
	struct storage_gab_entry e;
	const char *hay; /* the searched fields, lowercased, each after a '\n' */
	/* a bit per pair of adjacent bytes of hay (hashed): a row lacking one of q's pairs
	   cannot contain q, and most rows are passed over without reading hay */
	uint64_t pairs[4];
};

/* A word start of a row's haystack, for prefix searches. */
struct word {
	uint64_t key;        /* its first 8 bytes big-endian (0-padded) */
	uint32_t row, start; /* the row, and where in its haystack the word starts */
};

struct snapshot {
	int64_t cid, revision;
	unsigned refs; /* the cache's slot and each search using it; under the cache's lock */
	uint64_t used; /* the cache's tick of its last use */
	struct pool *pool;
	struct pool *hays;     /* the haystacks alone, so that a scan reads memory in one run */
	struct snap_row *rows; /* by display name */
	size_t count;
	/* every word start of every row, by its text: made by the first prefix search */
	pthread_mutex_t words_lock;
	struct word *words;
	size_t word_count;
};

struct storage_gab_cache {
	pthread_mutex_t lock;
	uint64_t tick;
	struct snapshot *slot[STORAGE_GAB_SNAPSHOTS];
};

/* ------------------------------------------------------------------ snapshots */

static void snapshot_unref(struct snapshot **snap)
{
	if (*snap == NULL)
		return;
	if (--(*snap)->refs == 0) {
		pthread_mutex_destroy(&(*snap)->words_lock);
		mem_free(&(*snap)->words);
		mem_free(&(*snap)->rows);
		pool_destroy(&(*snap)->pool);
		pool_destroy(&(*snap)->hays);
		mem_free(snap);
	}
	*snap = NULL;
}

struct storage_gab_cache *storage_gab__cache_create(void)
{
	struct storage_gab_cache *c = mem_calloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void storage_gab__cache_destroy(struct storage_gab_cache **cache)
{
	if (*cache == NULL)
		return;
	storage_gab__drop(*cache, 0);
	pthread_mutex_destroy(&(*cache)->lock);
	mem_free(cache);
}

void storage_gab__drop(struct storage_gab_cache *c, int64_t cid)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < STORAGE_GAB_SNAPSHOTS; i++) {
		if (c->slot[i] != NULL && (cid == 0 || c->slot[i]->cid == cid))
			snapshot_unref(&c->slot[i]);
	}
	pthread_mutex_unlock(&c->lock);
}

/* The cached snapshot of cid at revision, referenced for the caller, or NULL. */
static struct snapshot *cache_find(struct storage_gab_cache *c, int64_t cid, int64_t revision)
{
	struct snapshot *found = NULL;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < STORAGE_GAB_SNAPSHOTS && found == NULL; i++) {
		struct snapshot *s = c->slot[i];
		if (s != NULL && s->cid == cid && s->revision == revision) {
			s->refs++;
			s->used = ++c->tick;
			found = s;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* Keeps snap (the caller's reference stays the caller's) in cid's slot, else a free or the
   least recently used one; a newer snapshot of cid already there wins. */
static void cache_keep(struct storage_gab_cache *c, struct snapshot *snap)
{
	pthread_mutex_lock(&c->lock);
	size_t victim = 0;
	for (size_t i = 0; i < STORAGE_GAB_SNAPSHOTS; i++) {
		struct snapshot *s = c->slot[i];
		if (s != NULL && s->cid == snap->cid) {
			victim = i;
			break;
		}
		if (s == NULL || (c->slot[victim] != NULL && s->used < c->slot[victim]->used))
			victim = i;
	}
	struct snapshot *old = c->slot[victim];
	if (old == NULL || old->cid != snap->cid || old->revision < snap->revision) {
		snapshot_unref(&c->slot[victim]);
		snap->refs++;
		snap->used = ++c->tick;
		c->slot[victim] = snap;
	}
	pthread_mutex_unlock(&c->lock);
}

static void release(struct storage_gab_cache *c, struct snapshot **snap)
{
	pthread_mutex_lock(&c->lock);
	snapshot_unref(snap);
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------------ rows */

static const char *col(struct pool *pool, struct sql_stmt *s, unsigned i)
{
	const char *v = sql_col_text(s, i);
	return pool_strdup(pool, v != NULL ? v : "");
}

static void read_entry(struct pool *pool, int64_t cid, struct sql_stmt *s,
                       struct storage_gab_entry *e)
{
	e->cid = cid;
	e->uid = sql_col_int64(s, 0);
	e->login = col(pool, s, 1);
	e->display_name = col(pool, s, 2);
	e->given_name = col(pool, s, 3);
	e->sur_name = col(pool, s, 4);
	e->email = col(pool, s, 5);
	e->modified = sql_col_int64(s, 6);
	e->phone = col(pool, s, 7);
	e->org = col(pool, s, 8);
	if (sql_col_int64(s, 9) > e->modified)
		e->modified = sql_col_int64(s, 9);
}

/* What ends a word: prefix searches match after one of these (or at a field's start). */
#define SEPARATORS "\n ._-@"
/* A prefix whose words are more than a quarter of the rows plus this many is scanned. */
#define PREFIX_RANGE_MIN 1000

static bool is_sep(char c)
{
	return c != '\0' && strchr(SEPARATORS, c) != NULL;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *haystack(struct pool *pool, const struct storage_gab_entry *e)
{
	const char *fields[] = {e->login, e->display_name, e->given_name, e->sur_name, e->email};
	size_t len = 0;
	for (size_t i = 0; i < 5; i++)
		len += strlen(fields[i]) + 1;
	char *h = pool_alloc(pool, len + 1), *p = h;
	for (size_t i = 0; i < 5; i++) {
		*p++ = '\n';
		for (const char *f = fields[i]; *f != '\0'; f++)
			*p++ = lower(*f);
	}
	*p = '\0';
	return h;
}

static unsigned pair_bit(unsigned char a, unsigned char b)
{
	return ((unsigned)a * 31u + b) & 255u;
}

/* The pairs of s (within a field) into bits. */
static void add_pairs(uint64_t bits[4], const char *s)
{
	for (; s[0] != '\0' && s[1] != '\0'; s++) {
		if (s[0] == '\n' || s[1] == '\n')
			continue;
		unsigned b = pair_bit((unsigned char)s[0], (unsigned char)s[1]);
		bits[b / 64] |= (uint64_t)1 << (b % 64);
	}
}

static bool has_pairs(const uint64_t row[4], const uint64_t q[4])
{
	return (row[0] & q[0]) == q[0] && (row[1] & q[1]) == q[1] && (row[2] & q[2]) == q[2] &&
	       (row[3] & q[3]) == q[3];
}

static int by_name(const void *a, const void *b)
{
	const struct snap_row *x = a, *y = b;
	/* the haystack's second field is the lowercased display name */
	const char *nx = strchr(x->hay + 1, '\n'), *ny = strchr(y->hay + 1, '\n');
	int r = strcmp(nx, ny);
	return r != 0 ? r : (x->e.uid > y->e.uid) - (x->e.uid < y->e.uid);
}

static int read_revision(struct sql_conn *conn, int64_t cid, int64_t *rev_r, struct sql_error *err)
{
	*rev_r = 0;
	int r = sql_query_int64(conn, err, rev_r, "SELECT revision FROM gab_revision WHERE cid=?",
	                        "i", cid);
	return r < 0 ? -1 : 0;
}

static int load(struct sql_conn *conn, int64_t cid, int64_t revision, struct snapshot **snap_r,
                struct sql_error *err)
{
	struct sql_stmt *s = sql_prepare(conn, "SELECT " ENTRY_COLS, err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	struct snapshot *snap = mem_calloc(1, sizeof(*snap));
	snap->cid = cid;
	snap->revision = revision;
	snap->refs = 1;
	snap->pool = pool_create(64 * 1024);
	snap->hays = pool_create(64 * 1024);
	pthread_mutex_init(&snap->words_lock, NULL);
	size_t room = 0;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		if (snap->count == room) {
			room = room == 0 ? 256 : room * 2;
			snap->rows = mem_realloc(snap->rows, room * sizeof(*snap->rows));
		}
		struct snap_row *row = &snap->rows[snap->count++];
		read_entry(snap->pool, cid, s, &row->e);
		row->hay = haystack(snap->hays, &row->e);
		memset(row->pairs, 0, sizeof(row->pairs));
		add_pairs(row->pairs, row->hay);
	}
	sql_stmt_done(&s);
	if (r < 0) {
		snapshot_unref(&snap);
		return -1;
	}
	qsort(snap->rows, snap->count, sizeof(*snap->rows), by_name);
	*snap_r = snap;
	return 0;
}

/* ------------------------------------------------------------------ operations */

struct op {
	struct storage_user *user;
	const char *what;
	struct snapshot *snap;
	int64_t uid, revision;
	const char *phone, *org;
	struct storage_gab_entry *entry;
	struct storage_error *err;
	int found;
};

static int snapshot_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	struct storage_gab_cache *c = op->user->storage->gab;
	int64_t cid = op->user->cid;
	if (op->snap != NULL) /* a retry of the transaction */
		release(c, &op->snap);
	op->what = "directory revision";
	if (read_revision(conn, cid, &op->revision, err) < 0)
		return -1;
	if ((op->snap = cache_find(c, cid, op->revision)) != NULL)
		return 0;
	op->what = "directory load";
	if (load(conn, cid, op->revision, &op->snap, err) < 0)
		return -1;
	cache_keep(c, op->snap);
	return 0;
}

/* q at the start of a field or a word: the byte before it is '\n', a space or . _ - @ */
static bool word_start(const char *hay, const char *at)
{
	return at == hay || is_sep(at[-1]);
}

static bool matches(const char *hay, const char *q, enum storage_gab_match match)
{
	for (const char *p = strstr(hay, q); p != NULL; p = strstr(p + 1, q)) {
		if (match == STORAGE_GAB_SUBSTRING || word_start(hay, p))
			return true;
	}
	return false;
}

/* q lowercased into the pool: NULL after a refusal (too long, control characters). */
static const char *norm_query(struct storage_user *user, const char *q, struct storage_error *err)
{
	size_t n = strlen(q);
	if (n > STORAGE_GAB_QUERY_MAX) {
		storage__refuse(err, STORAGE_INVALID, "the search text is longer than %d bytes",
		                STORAGE_GAB_QUERY_MAX);
		return NULL;
	}
	char *out = pool_alloc(user->pool, n + 1);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && (unsigned char)q[i] < 0x20) {
			storage__refuse(err, STORAGE_INVALID,
			                "the search text contains a control character");
			return NULL;
		}
		out[i] = lower(q[i]);
	}
	return out;
}

/* ------------------------------------------------------------------ prefix index */

static int by_word(const void *a, const void *b)
{
	const struct word *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

static uint64_t word_key(const char *p)
{
	uint64_t k = 0;
	size_t i = 0;
	for (; i < 8 && p[i] != '\0'; i++)
		k = (k << 8) | (unsigned char)p[i];
	return k << (8 * (8 - i));
}

/* The word index of snap, made once (the first prefix search waits for it). */
static void make_words(struct snapshot *snap)
{
	pthread_mutex_lock(&snap->words_lock);
	if (snap->words == NULL && snap->count > 0) {
		size_t n = 0, room = snap->count * 8;
		struct word *w = mem_alloc(room * sizeof(*w));
		for (size_t i = 0; i < snap->count; i++) {
			const char *h = snap->rows[i].hay;
			for (const char *p = h + 1; *p != '\0'; p++) {
				if (is_sep(*p) || !is_sep(p[-1]))
					continue;
				if (n == room) {
					room *= 2;
					w = mem_realloc(w, room * sizeof(*w));
				}
				w[n].key = word_key(p);
				w[n].row = (uint32_t)i;
				w[n++].start = (uint32_t)(p - h);
			}
		}
		qsort(w, n, sizeof(*w), by_word);
		snap->word_count = n;
		snap->words = w;
	}
	pthread_mutex_unlock(&snap->words_lock);
}

/* The rows where a word starts with q, in row (display-name) order, to fn: 1 done, 0 when q
   is too common (or starts with a separator) and the caller should scan instead. The words
   are sorted by their first 8 bytes only: those starting with q's first 8 are one range, and
   a longer q is compared in full within it. */
static int prefix_lookup(struct snapshot *snap, const char *q, storage_gab_fn *fn, void *ctx)
{
	size_t qlen = strlen(q), lo = 0, hi;
	if (is_sep(q[0]))
		return 0;
	make_words(snap);
	uint64_t first = word_key(q);
	uint64_t last = first | (qlen >= 8 ? 0 : UINT64_MAX >> (8 * qlen));
	hi = snap->word_count;
	while (lo < hi) { /* the first word whose key is not below q's */
		size_t mid = lo + (hi - lo) / 2;
		if (snap->words[mid].key < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < snap->word_count && snap->words[end].key <= last)
		end++;
	/* so common that matching rows are dense: the scan in name order stops soon */
	if (end - lo > snap->count / 4 + PREFIX_RANGE_MIN)
		return 0;
	size_t units = (snap->count + 63) / 64;
	uint64_t *hit = mem_calloc(units, sizeof(*hit));
	for (size_t i = lo; i < end; i++) {
		const struct word *w = &snap->words[i];
		if (qlen <= 8 || strncmp(snap->rows[w->row].hay + w->start, q, qlen) == 0)
			hit[w->row / 64] |= (uint64_t)1 << (w->row % 64);
	}
	bool go = true;
	for (size_t u = 0; u < units && go; u++) {
		for (uint64_t bits = hit[u]; bits != 0 && go; bits &= bits - 1)
			go = fn(&snap->rows[u * 64 + (size_t)__builtin_ctzll(bits)].e, ctx);
	}
	mem_free(&hit);
	return 1;
}

int storage_gab_each(struct storage_user *user, const char *q, enum storage_gab_match match,
                     storage_gab_fn *fn, void *ctx, int64_t *revision_r, struct storage_error *err)
{
	memset(err, 0, sizeof(*err));
	const char *needle = norm_query(user, q != NULL ? q : "", err);
	if (needle == NULL)
		return -1;
	struct op op = {.user = user, .err = err};
	if (storage__run(user, false, snapshot_txn, &op, &op.what, err) < 0) {
		if (op.snap != NULL)
			release(user->storage->gab, &op.snap);
		return -1;
	}
	*revision_r = op.revision;
	if (needle[0] != '\0' && match == STORAGE_GAB_PREFIX &&
	    prefix_lookup(op.snap, needle, fn, ctx) > 0) {
		release(user->storage->gab, &op.snap);
		return 0;
	}
	uint64_t pairs[4] = {0, 0, 0, 0};
	add_pairs(pairs, needle);
	for (size_t i = 0; i < op.snap->count; i++) {
		const struct snap_row *row = &op.snap->rows[i];
		if (needle[0] != '\0' &&
		    (!has_pairs(row->pairs, pairs) || !matches(row->hay, needle, match)))
			continue;
		if (!fn(&row->e, ctx))
			break;
	}
	release(user->storage->gab, &op.snap);
	return 0;
}

struct search {
	struct pool *pool;
	json_t *entries;
	size_t max;
	bool more;
};

static bool add_hit(const struct storage_gab_entry *e, void *ctx)
{
	struct search *s = ctx;
	if (json_array_size(s->entries) == s->max) {
		s->more = true;
		return false;
	}
	json_array_append_new(s->entries, storage_gab_json(s->pool, e));
	return true;
}

int storage_gab_search(struct storage_user *user, const char *q, enum storage_gab_match match,
                       size_t max, json_t **result_r, struct storage_error *err)
{
	struct search s = {.pool = user->pool,
	                   .entries = json_array(),
	                   .max = max == 0                     ? 50
	                          : max > STORAGE_GAB_LIST_MAX ? STORAGE_GAB_LIST_MAX
	                                                       : max};
	int64_t revision;
	if (storage_gab_each(user, q, match, add_hit, &s, &revision, err) < 0) {
		json_decref(s.entries);
		return -1;
	}
	*result_r = json_pack("{so sb sI}", "entries", s.entries, "more", s.more, "revision",
	                      (json_int_t)revision);
	return 0;
}

static int get_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	op->what = "directory entry";
	struct sql_stmt *s = sql_prepare(conn, "SELECT " ENTRY_COLS " AND u.id=?", err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, op->user->cid);
	sql_bind_int64(s, 2, op->uid);
	int r = sql_step(s, err);
	if (r > 0)
		read_entry(op->user->pool, op->user->cid, s, op->entry);
	sql_stmt_done(&s);
	if (r == 0)
		return storage__refuse(op->err, STORAGE_NOT_FOUND,
		                       "user %lld is not in the address book of context %lld",
		                       (long long)op->uid, (long long)op->user->cid);
	return r < 0 ? -1 : 0;
}

int storage_gab_get(struct storage_user *user, int64_t uid, struct storage_gab_entry *entry_r,
                    struct storage_error *err)
{
	struct op op = {.user = user, .uid = uid, .entry = entry_r, .err = err};
	memset(entry_r, 0, sizeof(*entry_r));
	return storage__run(user, false, get_txn, &op, &op.what, err);
}

static int revision_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	op->what = "directory revision";
	return read_revision(conn, op->user->cid, &op->revision, err);
}

int storage_gab_revision(struct storage_user *user, int64_t *revision_r, struct storage_error *err)
{
	struct op op = {.user = user, .err = err};
	int r = storage__run(user, false, revision_txn, &op, &op.what, err);
	*revision_r = op.revision;
	return r;
}

int storage_gab_user_changed(struct sql_conn *conn, int64_t cid, int64_t uid, bool deleted,
                             struct sql_error *err)
{
	if (deleted && sql_run(conn, err, "DELETE FROM gab_published WHERE cid=? AND user_id=?",
	                       "ii", cid, uid) < 0)
		return -1;
	int64_t n = sql_run_changes(
	    conn, err, "UPDATE gab_revision SET revision=revision+1 WHERE cid=?", "i", cid);
	if (n < 0)
		return -1;
	if (n == 0 && sql_run(conn, err, "INSERT INTO gab_revision (cid, revision) VALUES (?, 1)",
	                      "i", cid) < 0)
		return -1;
	return 0;
}

static bool phone_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= '0' && *s <= '9') || strchr(" +()-./", *s) != NULL))
			return false;
	}
	return true;
}

static bool text_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	}
	return true;
}

static int publish_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	int64_t cid = op->user->cid, uid = op->user->uid, now = (int64_t)time(NULL);
	op->what = "directory publish";
	int64_t n =
	    sql_run_changes(conn, err,
	                    "INSERT INTO gab_published (cid, user_id, phone, org, modified) "
	                    "SELECT cid, id, '', '', ? FROM users WHERE cid=? AND id=? AND "
	                    "NOT EXISTS (SELECT 1 FROM gab_published WHERE cid=? AND "
	                    "user_id=?)",
	                    "iiiii", now, cid, uid, cid, uid);
	if (n < 0 ||
	    (op->phone != NULL &&
	     sql_run(conn, err, "UPDATE gab_published SET phone=? WHERE cid=? AND user_id=?", "sii",
	             op->phone, cid, uid) < 0) ||
	    (op->org != NULL &&
	     sql_run(conn, err, "UPDATE gab_published SET org=? WHERE cid=? AND user_id=?", "sii",
	             op->org, cid, uid) < 0) ||
	    sql_run(conn, err, "UPDATE gab_published SET modified=? WHERE cid=? AND user_id=?",
	            "iii", now, cid, uid) < 0)
		return -1;
	return storage_gab_user_changed(conn, cid, uid, false, err);
}

int storage_gab_publish(struct storage_user *user, const char *phone, const char *org,
                        struct storage_error *err)
{
	memset(err, 0, sizeof(*err));
	if (phone != NULL && (strlen(phone) > STORAGE_GAB_PHONE_MAX || !phone_ok(phone)))
		return storage__refuse(err, STORAGE_INVALID,
		                       "phone must be at most %d of the characters 0-9, space and "
		                       "+()-./",
		                       STORAGE_GAB_PHONE_MAX);
	if (org != NULL && (strlen(org) > STORAGE_GAB_ORG_MAX || !text_ok(org)))
		return storage__refuse(err, STORAGE_INVALID,
		                       "org must be at most %d bytes without control characters",
		                       STORAGE_GAB_ORG_MAX);
	struct op op = {.user = user, .phone = phone, .org = org, .err = err};
	int r = storage__run(user, true, publish_txn, &op, &op.what, err);
	/* like provisioning's change hook: other nodes drop their snapshot of the context */
	if (user->storage->set.inval != NULL)
		inval_publish(user->storage->set.inval, INVAL_USER, user->cid, user->uid);
	storage_gab__drop(user->storage->gab, user->cid);
	return r;
}

/* ------------------------------------------------------------------ forms */

static const char *vcard_uid(struct pool *pool, const struct storage_gab_entry *e)
{
	return pool_printf(pool, "tandem-gab-%lld-%lld", (long long)e->cid, (long long)e->uid);
}

const char *storage_gab_vcard(struct pool *pool, const struct storage_gab_entry *e)
{
	const char *emails[] = {e->email, NULL}, *phones[] = {e->phone, NULL};
	struct vcard_fields f = {
	    .uid = vcard_uid(pool, e),
	    .fn = e->display_name[0] != '\0' ? e->display_name : e->login,
	    .family = e->sur_name,
	    .given = e->given_name,
	    .org = e->org,
	    .emails = e->email[0] != '\0' ? emails : NULL,
	    .phones = e->phone[0] != '\0' ? phones : NULL,
	};
	return vcard_build(pool, &f);
}

const char *storage_gab_vcard_etag(struct pool *pool, const char *vcard)
{
	return pool_printf(pool, "%016llx", (unsigned long long)cache_key_str(vcard));
}

const char *storage_gab_etag(struct pool *pool, const struct storage_gab_entry *e)
{
	return storage_gab_vcard_etag(pool, storage_gab_vcard(pool, e));
}

json_t *storage_gab_json(struct pool *pool, const struct storage_gab_entry *e)
{
	return json_pack("{sI ss ss ss ss ss ss ss ss ss sb sb}", "id", (json_int_t)e->uid, "login",
	                 e->login, "display_name", e->display_name, "given_name", e->given_name,
	                 "sur_name", e->sur_name, "email", e->email, "phone", e->phone, "org",
	                 e->org, "uid", vcard_uid(pool, e), "etag", storage_gab_etag(pool, e),
	                 "directory", 1, "read_only", 1);
}
