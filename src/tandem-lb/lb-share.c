/* SPDX-License-Identifier: MIT */
/* Sharing the manager's state: whole states with a version, last writer wins. The hash
   tandem:<cluster>:v1:lb:state holds version (HINCRBY in the same MULTI as the text, so the
   two always match), state (the state file's JSON), origin and a random stamp; every write
   also XADDs to the stream …:lb:changed. A balancer follows when version/stamp differs from
   what it has: the stamp tells two writes apart when Redis restarted empty and counts from 1
   again. A stream, not PUBLISH: XREAD BLOCK wakes a peer at once and times out
   without breaking the connection, so one connection both waits and polls, and an entry
   added while a peer was between two reads is still there for its next one. The version is
   checked after every wake-up and at least every poll_ms, so a lost wake-up (reconnect,
   trimmed stream, Redis restarted empty) delays a peer by at most that. */
#include "lb-share.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "lb-state.h"
#include "log.h"
#include "mem.h"
#include "random.h"
#include "redis.h"

#define DEFAULT_POLL_MS    500
#define DEFAULT_TIMEOUT_MS 1000
#define CONNECT_TIMEOUT_MS 500
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     2000
#define STREAM_MAXLEN      100
#define ERR_SIZE           256
#define STAMP_MAX          160

struct lb_share {
	struct lb_share_settings set;
	struct redis_url url;
	struct redis_settings rset;
	char key[160];    /* the hash */
	char stream[160]; /* the wake-up stream */
	char id[96];
	char shown[300]; /* the URL without its password */
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* stop */
	bool stop;
	bool waiting;            /* the thread is blocked in XREAD on conn */
	bool interrupted;        /* conn was cut on purpose to wake the thread */
	struct redis_conn *conn; /* the thread's, while connected */
	struct buf pending;      /* the state to publish when has_pending */
	bool has_pending;
	uint64_t pending_changes;

	/* the share's thread only (lb_share_load() before it runs) */
	struct buf current;   /* the state as last published, fetched, or loaded at start */
	uint64_t version;     /* the shared version current matches (logs) */
	char seen[STAMP_MAX]; /* its "version/stamp"; "" = none yet */
	uint64_t changes;     /* this balancer's changes included in what it published */
	char bad[STAMP_MAX];  /* a shared state this build could not read (logged once) */
	char last_id[48];     /* stream position */
	bool down;            /* an outage was logged */
	struct lb_state *scratch;
};

static __thread char error_msg[ERR_SIZE + 64];

/* ---------------------------------------------------------------- Redis exchanges */

static bool reply_u64(const redisReply *r, uint64_t *v_r)
{
	if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
		*v_r = (uint64_t)r->integer;
		return true;
	}
	return r != NULL && r->type == REDIS_REPLY_STRING &&
	       strv_to_u64(strv_make(r->str, r->len), v_r) == 0;
}

/* The message for a failed exchange: the connection's error, or Redis's error reply. */
static int failed(struct redis_conn *conn, redisReply *r, const char *what, char *err)
{
	if (r == NULL)
		snprintf(err, ERR_SIZE, "%s", redis_conn_error(conn));
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(err, ERR_SIZE, "%s: %.160s", what, r->str);
	else
		snprintf(err, ERR_SIZE, "%s: unexpected reply", what);
	if (r != NULL)
		freeReplyObject(r);
	return -1;
}

/* "version/stamp" of a shared state. */
static void identity(uint64_t v, const redisReply *stamp, char *out)
{
	bool has = stamp->type == REDIS_REPLY_STRING;
	snprintf(out, STAMP_MAX, "%llu/%.*s", (unsigned long long)v, has ? (int)stamp->len : 0,
	         has ? stamp->str : "");
}

/* The shared state's version and identity (seen); *exists_r false when there is none. */
static int read_version(struct lb_share *sh, struct redis_conn *conn, uint64_t *v_r, char *seen,
                        bool *exists_r, char *err)
{
	redisReply *r = redis_commandf(conn, "HMGET %s version stamp", sh->key);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return failed(conn, r, "HMGET version", err);
	*exists_r = r->element[0]->type != REDIS_REPLY_NIL;
	if (*exists_r && !reply_u64(r->element[0], v_r))
		return failed(conn, r, "HMGET version", err);
	if (*exists_r)
		identity(*v_r, r->element[1], seen);
	freeReplyObject(r);
	return 0;
}

/* The shared state into text (replaced), with its version, identity and origin. */
static int fetch(struct lb_share *sh, struct redis_conn *conn, uint64_t *v_r, char *seen,
                 bool *exists_r, struct buf *text, char *origin, size_t origin_size, char *err)
{
	redisReply *r = redis_commandf(conn, "HMGET %s version state origin stamp", sh->key);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4)
		return failed(conn, r, "HMGET", err);
	const redisReply *v = r->element[0], *s = r->element[1], *o = r->element[2];
	*exists_r = v->type != REDIS_REPLY_NIL;
	if (*exists_r && (!reply_u64(v, v_r) || s->type != REDIS_REPLY_STRING))
		return failed(conn, r, "HMGET (version and state)", err);
	if (*exists_r)
		identity(*v_r, r->element[3], seen);
	buf_reset(text);
	if (*exists_r)
		buf_append(text, s->str, s->len);
	snprintf(origin, origin_size, "%.*s", o->type == REDIS_REPLY_STRING ? (int)o->len : 1,
	         o->type == REDIS_REPLY_STRING ? o->str : "?");
	freeReplyObject(r);
	if (buf_overflowed(text)) {
		snprintf(err, ERR_SIZE, "the shared state is larger than %d bytes",
		         LB_STATE_FILE_MAX);
		return -1;
	}
	return 0;
}

/* Writes text as the next version: 0 with its version and identity in sh, or 1 when
   only_first and a shared state appeared meanwhile (nothing written), or -1. */
static int publish(struct lb_share *sh, struct redis_conn *conn, struct strv text, bool only_first,
                   char *err)
{
	redisReply *r;
	uint64_t v;
	char stamp[40];
	if (only_first) {
		/* WATCH: of several balancers finding Redis empty, only the first one writes */
		r = redis_commandf(conn, "WATCH %s", sh->key);
		if (redis_reply_failed(r))
			return failed(conn, r, "WATCH", err);
		freeReplyObject(r);
		r = redis_commandf(conn, "HEXISTS %s version", sh->key);
		if (r == NULL || r->type != REDIS_REPLY_INTEGER)
			return failed(conn, r, "HEXISTS", err);
		bool exists = r->integer != 0;
		freeReplyObject(r);
		if (exists) {
			r = redis_commandf(conn, "UNWATCH");
			if (redis_reply_failed(r))
				return failed(conn, r, "UNWATCH", err);
			freeReplyObject(r);
			return 1;
		}
	}
	char maxlen[24];
	snprintf(maxlen, sizeof(maxlen), "%d", STREAM_MAXLEN);
	random_hex(stamp, 12);
	const char *hset[] = {"HSET", sh->key, "state", text.ptr, "origin", sh->id, "stamp", stamp};
	size_t hset_lens[] = {4, strlen(sh->key), 5, text.len, 6, strlen(sh->id), 5, strlen(stamp)};
	redis_appendf(conn, "MULTI");
	redis_appendf(conn, "HINCRBY %s version 1", sh->key);
	redis_append(conn, 8, hset, hset_lens);
	redis_appendf(conn, "XADD %s MAXLEN ~ %s * o %s", sh->stream, maxlen, sh->id);
	redis_appendf(conn, "EXEC");
	int ret = 0;
	redisReply *replies[5];
	for (int i = 0; i < 5; i++)
		replies[i] = redis_get_reply(conn);
	for (int i = 0; i < 4 && ret == 0; i++) {
		if (redis_reply_failed(replies[i])) {
			ret =
			    failed(conn, replies[i], i == 0 ? "MULTI" : "queueing the write", err);
			replies[i] = NULL;
		}
	}
	r = replies[4];
	if (ret == 0 && r != NULL && r->type == REDIS_REPLY_NIL) {
		ret = 1; /* the WATCHed key changed */
	} else if (ret == 0 && (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3)) {
		ret = failed(conn, r, "EXEC", err);
		replies[4] = NULL;
	} else if (ret == 0) {
		/* a command that failed inside the transaction (e.g. WRONGTYPE) */
		for (size_t i = 0; i < r->elements && ret == 0; i++) {
			if (r->element[i]->type == REDIS_REPLY_ERROR) {
				snprintf(err, ERR_SIZE, "writing the shared state: %.160s",
				         r->element[i]->str);
				ret = -1;
			}
		}
		if (ret == 0 && !reply_u64(r->element[0], &v)) {
			snprintf(err, ERR_SIZE,
			         "writing the shared state: HINCRBY: unexpected reply");
			ret = -1;
		}
	}
	for (int i = 0; i < 5; i++) {
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
	}
	if (ret == 0) {
		sh->version = v;
		snprintf(sh->seen, sizeof(sh->seen), "%llu/%s", (unsigned long long)v, stamp);
	}
	return ret;
}

/* The stream's last entry id ("0-0" for none): the wait starts after it. */
static int stream_position(struct lb_share *sh, struct redis_conn *conn, char *err)
{
	redisReply *r = redis_commandf(conn, "XREVRANGE %s + - COUNT 1", sh->stream);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return failed(conn, r, "XREVRANGE", err);
	if (r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		snprintf(sh->last_id, sizeof(sh->last_id), "%s", r->element[0]->element[0]->str);
	else
		snprintf(sh->last_id, sizeof(sh->last_id), "0-0");
	freeReplyObject(r);
	return 0;
}

/* ---------------------------------------------------------------- the thread's steps */

static bool stopping(struct lb_share *sh)
{
	pthread_mutex_lock(&sh->lock);
	bool stop = sh->stop;
	pthread_mutex_unlock(&sh->lock);
	return stop;
}

static void outage(struct lb_share *sh, const char *err)
{
	if (sh->down)
		return;
	sh->down = true;
	log_warn("lb-share",
	         "sharing through %s: %s; the manager state is not shared meanwhile (this "
	         "balancer keeps its own and catches up when Redis answers)",
	         sh->shown, err);
}

static void set_text(struct buf *dst, struct strv text)
{
	buf_reset(dst);
	buf_append(dst, text.ptr, text.len);
}

/* Publishes the change queued by lb_share_changed(), if any. */
static int publish_pending(struct lb_share *sh, struct redis_conn *conn, char *err)
{
	struct buf text;
	uint64_t changes;

	buf_init(&text, LB_STATE_FILE_MAX);
	pthread_mutex_lock(&sh->lock);
	bool pending = sh->has_pending;
	if (pending) {
		struct buf t = text; /* take it: a newer change may queue meanwhile */
		text = sh->pending;
		sh->pending = t;
		changes = sh->pending_changes;
		sh->has_pending = false;
	}
	pthread_mutex_unlock(&sh->lock);
	if (!pending) {
		buf_free(&text);
		return 0;
	}
	if (publish(sh, conn, buf_strv(&text), false, err) < 0) {
		pthread_mutex_lock(&sh->lock);
		if (!sh->has_pending) { /* nothing newer: try this one again */
			struct buf t = sh->pending;
			sh->pending = text;
			text = t;
			sh->pending_changes = changes;
			sh->has_pending = true;
		}
		pthread_mutex_unlock(&sh->lock);
		buf_free(&text);
		return -1;
	}
	set_text(&sh->current, buf_strv(&text));
	sh->changes = changes;
	log_info("lb-share", "published this balancer's manager state as version %llu",
	         (unsigned long long)sh->version);
	buf_free(&text);
	return 0;
}

/* Takes the shared state unless it is what this balancer has already. apply: hand it to the
   callback (the thread), else put it into s (lb_share_load()). Returns 1 when taken. */
static int follow(struct lb_share *sh, struct redis_conn *conn, struct lb_state *s, char *err)
{
	struct buf text;
	char origin[96], seen[STAMP_MAX];
	uint64_t v = 0;
	bool exists = false;
	const char *error;
	int ret = -1;

	buf_init(&text, LB_STATE_FILE_MAX);
	if (fetch(sh, conn, &v, seen, &exists, &text, origin, sizeof(origin), err) < 0)
		goto out;
	ret = 0;
	if (!exists || strcmp(seen, sh->seen) == 0)
		goto out;
	char name[64];
	snprintf(name, sizeof(name), "shared state version %llu", (unsigned long long)v);
	if (lb_state_parse(s != NULL ? s : sh->scratch, buf_strv(&text), name, &error) < 0) {
		/* written by a newer build? Keep ours and do not write over theirs */
		if (strcmp(seen, sh->bad) != 0)
			log_error("lb-share", "%s (written by %s); keeping this balancer's state",
			          error, origin);
		snprintf(sh->bad, sizeof(sh->bad), "%s", seen);
		snprintf(sh->seen, sizeof(sh->seen), "%s", seen);
		sh->version = v;
		goto out;
	}
	set_text(&sh->current, buf_strv(&text));
	snprintf(sh->seen, sizeof(sh->seen), "%s", seen);
	sh->version = v;
	ret = 1;
	if (s != NULL)
		goto out;
	log_info("lb-share", "following the %s from %s", name, origin);
	sh->set.apply(buf_strv(&text), sh->changes, sh->set.ctx);
out:
	buf_free(&text);
	return ret;
}

/* Publishes current when Redis has no shared state (first start, or Redis lost its data). */
static int publish_first(struct lb_share *sh, struct redis_conn *conn, const char *why, char *err)
{
	if (sh->current.len == 0)
		return 0;
	int ret = publish(sh, conn, buf_strv(&sh->current), true, err);
	if (ret == 0)
		log_info("lb-share", "%s: published this balancer's manager state as version %llu",
		         why, (unsigned long long)sh->version);
	return ret < 0 ? -1 : 0;
}

/* Waits up to poll_ms for an entry in the stream, unless there is something to do. */
static int wait_change(struct lb_share *sh, struct redis_conn *conn, char *err)
{
	pthread_mutex_lock(&sh->lock);
	bool skip = sh->stop || sh->has_pending;
	sh->waiting = !skip;
	pthread_mutex_unlock(&sh->lock);
	if (skip)
		return 0;
	redisReply *r = redis_commandf(conn, "XREAD COUNT 16 BLOCK %u STREAMS %s %s",
	                               sh->set.poll_ms, sh->stream, sh->last_id);
	pthread_mutex_lock(&sh->lock);
	sh->waiting = false;
	pthread_mutex_unlock(&sh->lock);
	if (r != NULL && r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	/* [[stream, [[id, fields], …]]] */
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
	    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
		return failed(conn, r, "XREAD", err);
	const redisReply *entries = r->element[0]->element[1];
	if (entries->elements > 0) {
		const redisReply *last = entries->element[entries->elements - 1];
		if (last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
		    last->element[0]->type == REDIS_REPLY_STRING)
			snprintf(sh->last_id, sizeof(sh->last_id), "%s", last->element[0]->str);
	}
	freeReplyObject(r);
	return 0;
}

/* One round: our own change first (it is newer than anything there), then the shared
   version, then wait for the next change. */
static int round_trip(struct lb_share *sh, struct redis_conn *conn, char *err)
{
	uint64_t v;
	char seen[STAMP_MAX];
	bool exists;

	if (publish_pending(sh, conn, err) < 0 ||
	    read_version(sh, conn, &v, seen, &exists, err) < 0)
		return -1;
	if (!exists) {
		if (publish_first(sh, conn, "Redis has no shared manager state", err) < 0)
			return -1;
	} else if (strcmp(seen, sh->seen) != 0 && follow(sh, conn, NULL, err) < 0) {
		return -1;
	}
	return wait_change(sh, conn, err);
}

static void pause_ms(struct lb_share *sh, unsigned ms)
{
	struct timespec until = clock_realtime_deadline(ms);
	pthread_mutex_lock(&sh->lock);
	while (!sh->stop && pthread_cond_timedwait(&sh->cond, &sh->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&sh->lock);
}

static void set_conn(struct lb_share *sh, struct redis_conn *conn)
{
	pthread_mutex_lock(&sh->lock);
	sh->conn = conn;
	sh->waiting = false;
	pthread_mutex_unlock(&sh->lock);
}

/* Stopping with a change not shared yet: one last try, unless Redis is known to be down. */
static void last_publish(struct lb_share *sh)
{
	char err[ERR_SIZE];
	pthread_mutex_lock(&sh->lock);
	bool pending = sh->has_pending;
	pthread_mutex_unlock(&sh->lock);
	if (!pending || sh->down)
		return;
	struct redis_conn *conn = redis_conn_open(&sh->url, &sh->rset, err, sizeof(err));
	if (conn == NULL || publish_pending(sh, conn, err) < 0)
		log_warn("lb-share", "the last manager change was not shared: %s", err);
	redis_conn_close(&conn);
}

static void *run(void *arg)
{
	struct lb_share *sh = arg;
	unsigned backoff = BACKOFF_MIN_MS;
	char err[ERR_SIZE];

	while (!stopping(sh)) {
		struct redis_conn *conn = redis_conn_open(&sh->url, &sh->rset, err, sizeof(err));
		if (conn != NULL && stream_position(sh, conn, err) < 0)
			redis_conn_close(&conn);
		if (conn == NULL) {
			outage(sh, err);
			pause_ms(sh, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		if (sh->down)
			log_info("lb-share", "Redis %s answers again: sharing the manager state",
			         sh->shown);
		sh->down = false;
		redis_conn_set_timeout(conn, sh->set.poll_ms + sh->set.timeout_ms);
		set_conn(sh, conn);
		while (!stopping(sh) && round_trip(sh, conn, err) == 0)
			backoff =
			    BACKOFF_MIN_MS; /* only a working round resets it: not a connect */
		pthread_mutex_lock(&sh->lock);
		bool interrupted = sh->interrupted;
		sh->interrupted = false;
		sh->conn = NULL;
		pthread_mutex_unlock(&sh->lock);
		redis_conn_close(&conn);
		if (!interrupted && !stopping(sh)) {
			outage(sh, err);
			pause_ms(sh, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
	}
	last_publish(sh);
	return NULL;
}

/* ---------------------------------------------------------------- API */

struct lb_share *lb_share_create(const struct lb_share_settings *set, const char **error_r)
{
	struct redis_url url;
	const char *error;

	if (set->url != NULL) {
		url = *set->url;
	} else if (redis_url_parse(set->store, &url, &error) < 0) {
		snprintf(error_msg, sizeof(error_msg), "[cluster] store: %s", error);
		*error_r = error_msg;
		return NULL;
	}
	random_init();
	struct lb_share *sh = mem_calloc(1, sizeof(*sh));
	sh->url = url;
	sh->set = *set;
	sh->set.store = NULL; /* not kept: the URL may hold a password */
	sh->set.url = NULL;
	sh->set.cluster = NULL;
	sh->set.id = NULL;
	if (sh->set.poll_ms == 0)
		sh->set.poll_ms = DEFAULT_POLL_MS;
	if (sh->set.timeout_ms == 0)
		sh->set.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (set->id != NULL) {
		snprintf(sh->id, sizeof(sh->id), "%s", set->id);
	} else {
		char host[64] = "";
		if (gethostname(host, sizeof(host) - 1) < 0)
			host[0] = '\0';
		snprintf(sh->id, sizeof(sh->id), "%s-%ld", host[0] != '\0' ? host : "lb",
		         (long)getpid());
	}
	for (char *p = sh->id; *p != '\0'; p++) { /* a CLIENT SETNAME and log word */
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = '_';
	}
	snprintf(sh->key, sizeof(sh->key), "tandem:%.64s:v1:lb:state", set->cluster);
	snprintf(sh->stream, sizeof(sh->stream), "tandem:%.64s:v1:lb:changed", set->cluster);
	redis_url_redact(set->store, sh->shown, sizeof(sh->shown));
	redis_settings_default(&sh->rset);
	sh->rset.timeout_ms = sh->set.timeout_ms;
	sh->rset.connect_timeout_ms =
	    sh->set.timeout_ms < CONNECT_TIMEOUT_MS ? sh->set.timeout_ms : CONNECT_TIMEOUT_MS;
	snprintf(sh->rset.client_name, sizeof(sh->rset.client_name), "tandem-lb-%.60s", sh->id);
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	buf_init(&sh->pending, LB_STATE_FILE_MAX);
	buf_init(&sh->current, LB_STATE_FILE_MAX);
	sh->scratch = lb_state_create(NULL);
	return sh;
}

int lb_share_load(struct lb_share *sh, struct lb_state *s)
{
	char err[ERR_SIZE];
	const char *error;
	const char *file = lb_state_path(s) != NULL ? lb_state_path(s) : "memory";
	int ret = 0;

	buf_reset(&sh->current);
	lb_state_format(s, &sh->current);
	struct redis_conn *conn = redis_conn_open(&sh->url, &sh->rset, err, sizeof(err));
	if (conn == NULL)
		goto down;
	/* twice at most: another balancer may publish the first state between the two steps */
	for (int attempt = 0; attempt < 2; attempt++) {
		int taken = follow(sh, conn, s, err);
		if (taken < 0)
			goto down;
		if (taken > 0) {
			log_info("lb-share",
			         "using the shared manager state version %llu from %s "
			         "instead of %s",
			         (unsigned long long)sh->version, sh->shown, file);
			if (lb_state_save(s, &error) < 0)
				log_error("lb-share", "%s", error);
			ret = 1;
			break;
		}
		if (sh->seen[0] != '\0')
			break; /* Redis holds a state this build cannot read */
		int pub = publish(sh, conn, buf_strv(&sh->current), true, err);
		if (pub < 0)
			goto down;
		if (pub == 0) {
			log_info(
			    "lb-share",
			    "Redis %s had no shared manager state: published %s as version %llu",
			    sh->shown, file, (unsigned long long)sh->version);
			break;
		}
	}
	redis_conn_close(&conn);
	return ret;
down:
	outage(sh, err);
	log_warn("lb-share", "starting from %s", file);
	redis_conn_close(&conn);
	return 0;
}

int lb_share_start(struct lb_share *sh, const char **error_r)
{
	int err = pthread_create(&sh->thread, NULL, run, sh);
	if (err != 0) {
		snprintf(error_msg, sizeof(error_msg), "cannot start the share thread: %s",
		         strerror(err));
		*error_r = error_msg;
		return -1;
	}
	sh->started = true;
	log_info("lb-share", "sharing the manager state through %s as %s (key %s)", sh->shown,
	         sh->id, sh->key);
	return 0;
}

/* Under lock: cuts the thread's blocked XREAD short. */
static void interrupt(struct lb_share *sh)
{
	if (sh->waiting && sh->conn != NULL) {
		sh->waiting = false;
		sh->interrupted = true;
		redis_conn_interrupt(sh->conn);
	}
}

void lb_share_changed(struct lb_share *sh, const struct lb_state *s, uint64_t changes)
{
	struct buf text;
	buf_init(&text, LB_STATE_FILE_MAX);
	lb_state_format(s, &text);
	pthread_mutex_lock(&sh->lock);
	struct buf old = sh->pending;
	sh->pending = text;
	sh->pending_changes = changes;
	sh->has_pending = true;
	interrupt(sh);
	pthread_mutex_unlock(&sh->lock);
	buf_free(&old);
}

void lb_share_destroy(struct lb_share **shp)
{
	struct lb_share *sh = *shp;
	if (sh == NULL)
		return;
	if (sh->started) {
		pthread_mutex_lock(&sh->lock);
		sh->stop = true;
		interrupt(sh);
		pthread_cond_broadcast(&sh->cond);
		pthread_mutex_unlock(&sh->lock);
		pthread_join(sh->thread, NULL);
	}
	lb_state_free(&sh->scratch);
	buf_free(&sh->pending);
	buf_free(&sh->current);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->lock);
	mem_free(shp);
}
