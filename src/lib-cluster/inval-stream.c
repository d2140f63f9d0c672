/* SPDX-License-Identifier: MIT */
/* Invalidation events through one Redis stream: XADD on publish, one XREAD BLOCK reader per node.
 */
#include "inval-stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "invalidation.h"
#include "log.h"
#include "mem.h"
#include "redis.h"
#include "strv.h"

#define READ_COUNT 256
/* Region name of the "flush everything" event (not an inval_region). */
#define FLUSH_REGION "flush"

struct inval_stream {
	struct inval_bus *bus;
	struct inval_stream_settings set;
	char key[256];
	char node_id[64];
	pthread_t thread;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* applied moved, connected changed, or stop */
	bool stop;
	bool connected;
	bool flush_pending; /* an append failed: tell every node to flush once Redis answers */
	struct stream_id applied;
	struct redis_conn *conn; /* the reader's, so stop can interrupt a blocked read */
	/* reader thread only: entries-added up to pos, and the last deletion reported */
	uint64_t seen;
	struct stream_id gap_checked;

	_Atomic uint64_t appended, append_failures, received, gaps, reconnects;
	_Atomic uint64_t fence_waits, fence_wait_us, fence_timeouts;
};

/* ---------------------------------------------------------------- ids */

int stream_id_parse(const char *s, size_t len, struct stream_id *id_r)
{
	struct strv v = strv_make(s, len), ms, seq;
	if (!strv_split(v, '-', &ms, &seq) || strv_to_u64(ms, &id_r->ms) < 0 ||
	    strv_to_u64(seq, &id_r->seq) < 0)
		return -1;
	return 0;
}

int stream_id_cmp(struct stream_id a, struct stream_id b)
{
	if (a.ms != b.ms)
		return a.ms < b.ms ? -1 : 1;
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

static void format_id(struct stream_id id, char *out, size_t size)
{
	snprintf(out, size, "%llu-%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
}

/* ---------------------------------------------------------------- publishing */

/* Appends one entry on conn. Returns 0, or -1 with err set. */
static int xadd(struct inval_stream *st, struct redis_conn *conn, const char *region, int64_t cid,
                int64_t key, char *err, size_t err_size)
{
	redisReply *r = redis_commandf(conn, "XADD %s MAXLEN ~ %llu * o %s r %s c %lld k %lld",
	                               st->key, (unsigned long long)st->set.maxlen, st->node_id,
	                               region, (long long)cid, (long long)key);
	int ret = r != NULL && r->type == REDIS_REPLY_STRING ? 0 : -1;
	if (r == NULL)
		snprintf(err, err_size, "%s", redis_conn_error(conn));
	else if (ret < 0)
		snprintf(err, err_size, "XADD: %s",
		         r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r != NULL)
		freeReplyObject(r);
	return ret;
}

static void append_event(struct inval_stream *st, const char *region, int64_t cid, int64_t key)
{
	char err[256];
	struct redis_conn *conn = redis_pool_get(st->set.pool, err, sizeof(err));
	bool ok = conn != NULL && xadd(st, conn, region, cid, key, err, sizeof(err)) == 0;
	redis_pool_put(st->set.pool, &conn);
	if (ok) {
		atomic_fetch_add(&st->appended, 1);
		return;
	}
	/* The change is committed but the other nodes cannot hear of it: have them all flush
	   once Redis answers again (the reader sends it). */
	atomic_fetch_add(&st->append_failures, 1);
	pthread_mutex_lock(&st->lock);
	bool first = !st->flush_pending;
	st->flush_pending = true;
	pthread_mutex_unlock(&st->lock);
	if (first)
		log_warn("cluster",
		         "invalidation not sent (%s %lld/%lld): %s; every node will flush "
		         "its caches when Redis is back",
		         region, (long long)cid, (long long)key, err);
}

static void forward(const struct inval_event *ev, void *ctx)
{
	struct inval_stream *st = ctx;
	append_event(st, inval_region_name(ev->region), ev->cid, ev->key);
}

/* ---------------------------------------------------------------- reading */

static bool stopping(struct inval_stream *st)
{
	pthread_mutex_lock(&st->lock);
	bool stop = st->stop;
	pthread_mutex_unlock(&st->lock);
	return stop;
}

static void set_applied(struct inval_stream *st, struct stream_id id)
{
	pthread_mutex_lock(&st->lock);
	st->applied = id;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

static void gap(struct inval_stream *st, const char *why)
{
	atomic_fetch_add(&st->gaps, 1);
	log_warn("cluster", "invalidation stream: %s: flushing every cache", why);
	inval_flush_all(st->bus);
}

static const redisReply *field(const redisReply *map, const char *name)
{
	if (map->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < map->elements; i += 2) {
		const redisReply *k = map->element[i];
		if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0)
			return map->element[i + 1];
	}
	return NULL;
}

static bool reply_id(const redisReply *r, struct stream_id *id_r)
{
	return r != NULL && r->type == REDIS_REPLY_STRING &&
	       stream_id_parse(r->str, r->len, id_r) == 0;
}

static bool reply_count(const redisReply *r, uint64_t *n_r)
{
	if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 0)
		return false;
	*n_r = (uint64_t)r->integer;
	return true;
}

/* Compares the stream with the reader's position before each read. Events may have been
   missed when entries after pos were trimmed away (XTRIM/MAXLEN drop the oldest, so: the
   oldest entry left is newer than pos and fewer entries are left than were added since pos,
   counted by entries-added), deleted (max-deleted-entry-id), or when the stream is gone or
   behind pos (a restart or failover lost entries). Returns 0, 1 when pos was reset (the read
   made from the old pos must be ignored), -1 for an unusable reply. */
static int check_stream(struct inval_stream *st, const redisReply *info, struct stream_id *pos)
{
	static const struct stream_id zero = {0, 0};
	if (info->type == REDIS_REPLY_ERROR) {
		if (strstr(info->str, "no such key") == NULL)
			return -1;
		if (stream_id_cmp(*pos, zero) != 0 || st->seen != 0) {
			gap(st, "the stream is gone");
			*pos = zero;
			st->seen = 0;
			return 1;
		}
		return 0;
	}
	struct stream_id last, deleted, first;
	uint64_t added, length;
	if (!reply_id(field(info, "last-generated-id"), &last) ||
	    !reply_count(field(info, "entries-added"), &added) ||
	    !reply_count(field(info, "length"), &length))
		return -1;
	if (stream_id_cmp(last, *pos) < 0 || added < st->seen) {
		gap(st, "the stream went back (Redis restarted or failed over)");
		*pos = last;
		st->seen = added;
		return 1;
	}
	const redisReply *fe = field(info, "first-entry");
	bool oldest_after_pos =
	    length == 0 || (fe != NULL && fe->type == REDIS_REPLY_ARRAY && fe->elements == 2 &&
	                    reply_id(fe->element[0], &first) && stream_id_cmp(first, *pos) > 0);
	/* every entry left is unread: were more added since pos? */
	if (oldest_after_pos && added - st->seen > length) {
		gap(st, "the stream was trimmed past this node's position");
		st->seen = added - length;
	} else if (reply_id(field(info, "max-deleted-entry-id"), &deleted) &&
	           stream_id_cmp(deleted, *pos) > 0 &&
	           stream_id_cmp(deleted, st->gap_checked) > 0) {
		gap(st, "entries after this node's position were deleted");
		st->gap_checked = deleted;
	}
	return 0;
}

static int apply_entry(struct inval_stream *st, const redisReply *entry, struct stream_id *pos)
{
	struct stream_id id;
	if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
	    !reply_id(entry->element[0], &id))
		return -1;
	const redisReply *fields = entry->element[1];
	const redisReply *o = field(fields, "o"), *r = field(fields, "r"), *c = field(fields, "c"),
	                 *k = field(fields, "k");
	*pos = id;
	st->seen++;
	if (o == NULL || r == NULL || c == NULL || k == NULL || o->type != REDIS_REPLY_STRING ||
	    r->type != REDIS_REPLY_STRING || c->type != REDIS_REPLY_STRING ||
	    k->type != REDIS_REPLY_STRING) {
		/* Not ours to read (another version wrote it?): the only safe answer is a flush. */
		gap(st, "an entry could not be read");
		return 0;
	}
	if (strcmp(o->str, st->node_id) == 0)
		return 0; /* this node ran its handlers when it published */
	atomic_fetch_add(&st->received, 1);
	if (strcmp(r->str, FLUSH_REGION) == 0) {
		log_info("cluster", "node %s asked every node to flush its caches", o->str);
		inval_flush_all(st->bus);
		return 0;
	}
	int region = inval_region_parse(r->str, r->len);
	long long cid, key;
	char *end;
	errno = 0;
	cid = strtoll(c->str, &end, 10);
	bool bad = errno != 0 || *end != '\0' || c->len == 0;
	key = strtoll(k->str, &end, 10);
	bad = bad || errno != 0 || *end != '\0' || k->len == 0 || region < 0;
	if (bad) {
		gap(st, "an entry could not be read");
		return 0;
	}
	struct inval_event ev = {(enum inval_region)region, cid, key};
	inval_deliver(st->bus, &ev);
	return 0;
}

/* XREAD's reply: nil on timeout, else [[key, [entry, …]]]. */
static int apply_read(struct inval_stream *st, const redisReply *r, struct stream_id *pos)
{
	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
	    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
		return -1;
	const redisReply *entries = r->element[0]->element[1];
	for (size_t i = 0; i < entries->elements; i++) {
		if (apply_entry(st, entries->element[i], pos) < 0)
			return -1;
	}
	return 0;
}

/* One pipelined round: check the stream, then read from pos (blocking). */
static int read_round(struct inval_stream *st, struct redis_conn *conn, struct stream_id *pos)
{
	char from[48], block[16];
	format_id(*pos, from, sizeof(from));
	snprintf(block, sizeof(block), "%u", st->set.block_ms);
	redis_appendf(conn, "XINFO STREAM %s", st->key);
	redis_appendf(conn, "XREAD COUNT %d BLOCK %s STREAMS %s %s", READ_COUNT, block, st->key,
	              from);
	redisReply *info = redis_get_reply(conn);
	redisReply *read = redis_get_reply(conn);
	int ret = -1;
	if (info == NULL || read == NULL)
		goto out;
	int check = check_stream(st, info, pos);
	if (check < 0)
		goto out;
	if (check > 0) {
		ret = 0;
		goto out;
	}
	if (read->type == REDIS_REPLY_ERROR || apply_read(st, read, pos) < 0)
		goto out;
	ret = 0;
out:
	if (info != NULL)
		freeReplyObject(info);
	if (read != NULL)
		freeReplyObject(read);
	return ret;
}

/* The position to start from on the first connect: the stream's end (caches start empty). */
static int current_end(struct inval_stream *st, struct redis_conn *conn, struct stream_id *pos)
{
	redisReply *r = redis_commandf(conn, "XINFO STREAM %s", st->key);
	int ret = -1;
	if (r != NULL && r->type == REDIS_REPLY_ERROR && strstr(r->str, "no such key") != NULL) {
		*pos = (struct stream_id){0, 0};
		st->seen = 0;
		ret = 0;
	} else if (r != NULL && reply_id(field(r, "last-generated-id"), pos) &&
	           reply_count(field(r, "entries-added"), &st->seen)) {
		ret = 0;
	}
	if (r != NULL)
		freeReplyObject(r);
	return ret;
}

static void send_pending_flush(struct inval_stream *st, struct redis_conn *conn)
{
	pthread_mutex_lock(&st->lock);
	bool pending = st->flush_pending;
	pthread_mutex_unlock(&st->lock);
	if (!pending)
		return;
	char err[256];
	if (xadd(st, conn, FLUSH_REGION, 0, 0, err, sizeof(err)) < 0)
		return; /* the connection is broken or Redis refused: the next round tries again */
	pthread_mutex_lock(&st->lock);
	st->flush_pending = false;
	pthread_mutex_unlock(&st->lock);
	log_info("cluster", "asked every node to flush its caches (an invalidation had failed to "
	                    "go out)");
}

static void set_conn(struct inval_stream *st, struct redis_conn *conn, bool connected)
{
	pthread_mutex_lock(&st->lock);
	st->conn = conn;
	st->connected = connected;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

/* Sleeps up to ms unless stopped. */
static void pause_ms(struct inval_stream *st, unsigned ms)
{
	struct timespec until = clock_realtime_deadline(ms);
	pthread_mutex_lock(&st->lock);
	while (!st->stop && pthread_cond_timedwait(&st->cond, &st->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&st->lock);
}

static void *reader(void *arg)
{
	struct inval_stream *st = arg;
	const struct redis_settings *rset = redis_pool_settings(st->set.pool);
	struct stream_id pos = {0, 0};
	bool started = false, down_logged = false;
	unsigned backoff = rset->backoff_min_ms;

	while (!stopping(st)) {
		char err[256];
		struct redis_conn *conn =
		    redis_conn_open(redis_pool_url(st->set.pool), rset, err, sizeof(err));
		if (conn == NULL || (!started && current_end(st, conn, &pos) < 0)) {
			if (!down_logged)
				log_warn("cluster", "invalidation stream: cannot connect: %s",
				         conn != NULL ? redis_conn_error(conn) : err);
			down_logged = true;
			redis_conn_close(&conn);
			pause_ms(st, backoff);
			backoff =
			    backoff * 2 > rset->backoff_max_ms ? rset->backoff_max_ms : backoff * 2;
			continue;
		}
		backoff = rset->backoff_min_ms;
		down_logged = false;
		redis_conn_set_timeout(conn, st->set.block_ms + rset->timeout_ms);
		if (started) {
			/* Cut off for a while: appends made meanwhile may have failed on other
			   nodes, or a failover may have lost entries this node had not read yet. */
			atomic_fetch_add(&st->reconnects, 1);
			log_info("cluster",
			         "invalidation stream: reconnected: flushing every cache");
			inval_flush_all(st->bus);
		}
		started = true;
		char pos_text[48];
		format_id(pos, pos_text, sizeof(pos_text));
		log_info("cluster", "invalidation stream %s on %s from %s", st->key,
		         redis_conn_address(conn), pos_text);
		set_applied(st, pos);
		set_conn(st, conn, true);
		while (!stopping(st)) {
			send_pending_flush(st, conn);
			if (read_round(st, conn, &pos) < 0)
				break;
			set_applied(st, pos);
		}
		if (!stopping(st))
			log_warn("cluster", "invalidation stream: lost the connection: %s",
			         redis_conn_error(conn)[0] != '\0' ? redis_conn_error(conn)
			                                           : "unexpected reply");
		set_conn(st, NULL, false);
		redis_conn_close(&conn);
	}
	return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

struct inval_stream *inval_stream_start(struct inval_bus *bus,
                                        const struct inval_stream_settings *set)
{
	struct inval_stream *st = mem_calloc(1, sizeof(*st));
	st->bus = bus;
	st->set = *set;
	if (st->set.block_ms == 0)
		st->set.block_ms = 1000;
	if (st->set.fence_timeout_ms == 0)
		st->set.fence_timeout_ms = 250;
	snprintf(st->key, sizeof(st->key), "%s", set->key);
	snprintf(st->node_id, sizeof(st->node_id), "%s", set->node_id);
	st->set.key = st->key;
	st->set.node_id = st->node_id;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	inval_set_forwarder(bus, forward, st);
	if (pthread_create(&st->thread, NULL, reader, st) != 0)
		abort();
	return st;
}

void inval_stream_stop(struct inval_stream **stp)
{
	struct inval_stream *st = *stp;
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->lock);
	st->stop = true;
	if (st->conn != NULL)
		redis_conn_interrupt(st->conn);
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	inval_set_forwarder(st->bus, NULL, NULL);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	mem_free(stp);
}

/* ---------------------------------------------------------------- fence */

void inval_stream_fence(struct inval_stream *st, const char *head)
{
	struct stream_id want;
	if (stream_id_parse(head, strlen(head), &want) < 0)
		return;
	pthread_mutex_lock(&st->lock);
	if (stream_id_cmp(st->applied, want) >= 0) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	uint64_t t0 = clock_mono_us();
	struct timespec until = clock_realtime_deadline(st->set.fence_timeout_ms);
	while (st->connected && !st->stop && stream_id_cmp(st->applied, want) < 0) {
		if (pthread_cond_timedwait(&st->cond, &st->lock, &until) == ETIMEDOUT)
			break;
	}
	bool behind = stream_id_cmp(st->applied, want) < 0;
	pthread_mutex_unlock(&st->lock);
	atomic_fetch_add(&st->fence_waits, 1);
	atomic_fetch_add(&st->fence_wait_us, clock_mono_us() - t0);
	if (behind) {
		/* The reader cannot vouch for the caches (disconnected, or slower than the
		   timeout): drop them all so this request reads SQL. */
		atomic_fetch_add(&st->fence_timeouts, 1);
		inval_flush_all(st->bus);
	}
}

void inval_stream_stats(struct inval_stream *st, struct inval_stream_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	pthread_mutex_lock(&st->lock);
	stats_r->connected = st->connected;
	format_id(st->applied, stats_r->applied_id, sizeof(stats_r->applied_id));
	pthread_mutex_unlock(&st->lock);
	stats_r->appended = atomic_load(&st->appended);
	stats_r->append_failures = atomic_load(&st->append_failures);
	stats_r->received = atomic_load(&st->received);
	stats_r->gaps = atomic_load(&st->gaps);
	stats_r->reconnects = atomic_load(&st->reconnects);
	stats_r->fence_waits = atomic_load(&st->fence_waits);
	stats_r->fence_wait_us = atomic_load(&st->fence_wait_us);
	stats_r->fence_timeouts = atomic_load(&st->fence_timeouts);
}
