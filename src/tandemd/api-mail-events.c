/* SPDX-License-Identifier: MIT */
/* GET /api/v1/mail/events: new-mail push as Server-Sent Events (docs/internals/mail.md "New
   mail events"). Per user with open streams one watcher thread holds one IMAP connection of
   the node's pool in IDLE on INBOX and sends the INBOX counts to every stream of that user
   when the server reports a change; the streams themselves live on the loop threads (a
   streamed response that says "again" until there is something to send), so no worker is
   held while a stream is open. */
#include "api-mail-events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api-common.h"
#include "buf.h"
#include "clock.h"
#include "http-server.h"
#include "imap-pool.h"
#include "ioloop.h"
#include "log.h"
#include "mail-config.h"
#include "mem.h"
#include "node.h"
#include "routes.h"

#define STREAMS_PER_USER 8
#define STREAMS_MAX      1000
#define KEEPALIVE_MS     25000
/* RFC 2177: servers may drop an IDLE after 30 minutes */
#define IDLE_RENEW_MS (28u * 60 * 1000)
/* how often a watcher looks at its stop flag and the node's drain; without IDLE, how often it
   asks STATUS */
#define TICK_MS        1000
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
/* a stream whose client does not read this much is cut */
#define QUEUE_MAX (64 * 1024)

struct watcher;

struct subscriber {
	struct subscriber *next;
	struct watcher *w; /* NULL once unlinked */
	struct ioloop *loop;
	struct http_request *req; /* loop thread only; NULL once the connection let go */
	struct buf queue;
	unsigned refs; /* the loop side, the watcher's list, each posted resume */
	bool waiting;  /* the producer found the queue empty */
	bool done;     /* end the stream once the queue is sent */
};

struct watcher {
	struct watcher *next;
	struct node *node;
	char user[256];
	struct subscriber *subs;
	unsigned nsubs;
	int wake[2]; /* a byte wakes the thread: the last stream left, or the node stops */
	bool stop;
	bool known; /* total and unread were sent since the last (re)connect */
	uint32_t total, unread;
};

/* Every watcher and stream of the node (one node per process); one lock for all: events are
   rare and short. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t gone;
	struct watcher *watchers;
	unsigned watchers_n, streams_n;
	bool stopping;
} reg = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, false};

/* ------------------------------------------------------------ streams (under reg.lock) */

static void sub_unref(struct subscriber *s)
{
	if (--s->refs > 0)
		return;
	buf_free(&s->queue);
	mem_free(&s);
}

static void resume_posted(void *ctx)
{
	struct subscriber *s = ctx;
	/* req is the loop thread's; the resume runs the producer, which locks */
	if (s->req != NULL)
		http_response_resume(s->req);
	pthread_mutex_lock(&reg.lock);
	sub_unref(s);
	pthread_mutex_unlock(&reg.lock);
}

/* Wakes a producer that waits for bytes or the end. */
static void sub_kick(struct subscriber *s)
{
	if (!s->waiting)
		return;
	s->waiting = false;
	s->refs++;
	ioloop_post(s->loop, resume_posted, s);
}

static void sub_push(struct subscriber *s, const char *text, size_t len)
{
	if (s->done)
		return;
	buf_append(&s->queue, text, len);
	if (buf_overflowed(&s->queue))
		s->done = true; /* a client that does not read: the stream ends */
	sub_kick(s);
}

/* Out of its watcher's list: the watcher stops with its last stream. */
static void sub_unlink(struct subscriber *s)
{
	struct watcher *w = s->w;
	if (w == NULL)
		return;
	for (struct subscriber **p = &w->subs; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	s->w = NULL;
	w->nsubs--;
	reg.streams_n--;
	if (w->nsubs == 0 && !w->stop) {
		w->stop = true;
		(void)!write(w->wake[1], "x", 1);
	}
	sub_unref(s);
}

static void broadcast(struct watcher *w, const char *text)
{
	for (struct subscriber *s = w->subs; s != NULL; s = s->next)
		sub_push(s, text, strlen(text));
}

/* ------------------------------------------------------------ the loop side */

static ssize_t produce(void *ctx, char *data, size_t size)
{
	struct subscriber *s = ctx;
	ssize_t ret;
	pthread_mutex_lock(&reg.lock);
	size_t n = s->queue.len < size ? s->queue.len : size;
	memcpy(data, s->queue.data, n);
	buf_consume(&s->queue, n);
	if (n > 0) {
		ret = (ssize_t)n;
	} else if (s->done) {
		ret = 0;
		s->req = NULL;
		sub_unlink(s);
		sub_unref(s); /* the loop side's */
	} else {
		s->waiting = true;
		ret = HTTP_PRODUCER_AGAIN;
	}
	pthread_mutex_unlock(&reg.lock);
	return ret;
}

static void on_abort(void *ctx)
{
	struct subscriber *s = ctx;
	pthread_mutex_lock(&reg.lock);
	s->req = NULL;
	sub_unlink(s);
	sub_unref(s);
	pthread_mutex_unlock(&reg.lock);
}

/* ------------------------------------------------------------ the watcher thread */

static bool draining(const struct watcher *w)
{
	return atomic_load(&w->node->drain_wall_ms) != 0;
}

static bool should_stop(struct watcher *w)
{
	pthread_mutex_lock(&reg.lock);
	bool stop = w->stop || reg.stopping;
	pthread_mutex_unlock(&reg.lock);
	return stop || draining(w);
}

static void keepalive(struct watcher *w, uint64_t *last_ms)
{
	uint64_t now = clock_mono_ms();
	if (now - *last_ms < KEEPALIVE_MS)
		return;
	*last_ms = now;
	pthread_mutex_lock(&reg.lock);
	broadcast(w, ": keepalive\n\n");
	pthread_mutex_unlock(&reg.lock);
}

/* Waits up to ms (keepalives meanwhile) for fd to become readable (fd < 0: only the time).
   1 readable, 0 the time passed, -1 stop. */
static int wait_for(struct watcher *w, int fd, uint64_t ms, uint64_t *keepalive_ms)
{
	uint64_t until = clock_mono_ms() + ms;
	for (;;) {
		if (should_stop(w))
			return -1;
		keepalive(w, keepalive_ms);
		uint64_t now = clock_mono_ms();
		if (now >= until)
			return 0;
		struct pollfd pfd[2] = {{.fd = w->wake[0], .events = POLLIN},
		                        {.fd = fd, .events = POLLIN}};
		uint64_t left = until - now < TICK_MS ? until - now : TICK_MS;
		int r = poll(pfd, fd >= 0 ? 2 : 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			char drain[16];
			(void)!read(w->wake[0], drain, sizeof(drain));
		}
		if (r > 0 && fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			return 1;
	}
}

/* Sends the counts when they changed (or were never sent since the last connect). */
static void publish(struct watcher *w, uint32_t total, uint32_t unread)
{
	pthread_mutex_lock(&reg.lock);
	if (!w->known || w->total != total || w->unread != unread) {
		char text[160];
		snprintf(text, sizeof(text),
		         "event: mail\ndata: {\"folder\":\"INBOX\",\"total\":%u,\"unread\":%u}\n\n",
		         (unsigned)total, (unsigned)unread);
		w->known = true;
		w->total = total;
		w->unread = unread;
		broadcast(w, text);
	}
	pthread_mutex_unlock(&reg.lock);
}

/* One connection's life: STATUS, IDLE until news, again. 0 when told to stop, -1 on
   failure (err). *backoff_ms is reset once the mail system answered. */
static int watch(struct watcher *w, struct imap_client *client, uint64_t *keepalive_ms,
                 uint64_t *backoff_ms, struct mail_error *err)
{
	uint32_t total, unread;
	if (imap_client_select(client, "INBOX", &total, err) < 0)
		return -1;
	for (;;) {
		if (imap_client_status(client, "INBOX", &total, &unread, err) < 0)
			return -1;
		publish(w, total, unread);
		*backoff_ms = BACKOFF_MIN_MS;
		if (!imap_client_has_idle(client)) {
			if (wait_for(w, -1, TICK_MS, keepalive_ms) < 0)
				return 0;
			continue;
		}
		int fd;
		bool pending;
		if (imap_client_idle_start(client, &fd, &pending, err) < 0)
			return -1;
		int r = pending ? 1 : wait_for(w, fd, IDLE_RENEW_MS, keepalive_ms);
		if (imap_client_idle_done(client, err) < 0)
			return -1;
		if (r < 0)
			return 0;
	}
}

static void error_event(struct watcher *w, const struct mail_error *err)
{
	char text[400];
	size_t n = (size_t)snprintf(text, sizeof(text), "event: error\ndata: {\"reason\":\"");
	for (const char *p = err->message; *p != '\0' && n + 8 < sizeof(text); p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			text[n++] = '\\';
		text[n++] = c < 0x20 ? ' ' : (char)c;
	}
	snprintf(text + n, sizeof(text) - n, "\"}\n\n");
	pthread_mutex_lock(&reg.lock);
	w->known = false; /* the counts go out again once the mail system is back */
	broadcast(w, text);
	pthread_mutex_unlock(&reg.lock);
}

static void *watcher_main(void *ctx)
{
	struct watcher *w = ctx;
	struct imap_pool *pool = w->node->mail_pool;
	uint64_t backoff = BACKOFF_MIN_MS, keepalive_ms = clock_mono_ms();
	bool stale_retry = true;
	while (!should_stop(w)) {
		struct imap_client *client = NULL;
		struct mail_error err = {0};
		bool reused = false;
		int r = -1;
		if (imap_pool_get(pool, w->user, &client, &reused, &err) == 0) {
			r = watch(w, client, &keepalive_ms, &backoff, &err);
			bool stale = r < 0 && reused && imap_client_broken(client);
			imap_pool_put(pool, w->user, &client);
			if (r == 0)
				break;
			if (stale && stale_retry) {
				stale_retry = false; /* a pooled connection the server had closed */
				continue;
			}
		}
		stale_retry = true;
		log_warn("mail", "%s: new-mail events: %s (again in %llu ms)", w->user, err.message,
		         (unsigned long long)backoff);
		error_event(w, &err);
		if (wait_for(w, -1, backoff, &keepalive_ms) < 0)
			break;
		backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
	}
	/* streams still open (the node drains or stops) end; their clients reconnect elsewhere */
	pthread_mutex_lock(&reg.lock);
	while (w->subs != NULL) {
		struct subscriber *s = w->subs;
		s->done = true;
		sub_kick(s);
		sub_unlink(s);
	}
	for (struct watcher **p = &reg.watchers; *p != NULL; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	reg.watchers_n--;
	pthread_cond_broadcast(&reg.gone);
	pthread_mutex_unlock(&reg.lock);
	close(w->wake[0]);
	close(w->wake[1]);
	mem_free(&w);
	return NULL;
}

/* ------------------------------------------------------------ the handler */

/* Under reg.lock: a running watcher for user, or NULL. */
static struct watcher *find_watcher(const char *user)
{
	for (struct watcher *w = reg.watchers; w != NULL; w = w->next)
		if (!w->stop && strcmp(w->user, user) == 0)
			return w;
	return NULL;
}

/* Under reg.lock: a new watcher with its thread, or NULL (errno). */
static struct watcher *start_watcher(struct node *node, const char *user)
{
	struct watcher *w = mem_calloc(1, sizeof(*w));
	w->node = node;
	snprintf(w->user, sizeof(w->user), "%s", user);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		mem_free(&w);
		return NULL;
	}
	pthread_attr_t attr;
	pthread_t thread;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&thread, &attr, watcher_main, w);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		close(w->wake[0]);
		close(w->wake[1]);
		mem_free(&w);
		errno = r;
		return NULL;
	}
	w->next = reg.watchers;
	reg.watchers = w;
	reg.watchers_n++;
	return w;
}

/* At most half the node's IMAP connections watch: the rest serve requests. */
static unsigned watchers_max(const struct node *node)
{
	unsigned half = node->cfg.mail.max_connections / 2;
	return half > 0 ? half : 1;
}

static void mail_events(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	struct api_user user;
	if (!api_auth(node, req, &user))
		return;
	int64_t context = node->cfg.mail.context;
	if (node->mail_pool == NULL) {
		api_error(req, 503, "MAIL-0503",
		          "no mail system is configured on this node ([mail] imap_url)");
		return;
	}
	if ((context != 0 && user.cid != context) || strchr(user.login, '*') != NULL ||
	    strlen(user.login) >= sizeof(((struct watcher *)NULL)->user)) {
		api_error(req, 503, "MAIL-0503",
		          "no mail system for %s in context %lld on this node ([mail] context)",
		          user.login, (long long)user.cid);
		return;
	}
	if (atomic_load(&node->drain_wall_ms) != 0) {
		http_response_header(req, "Retry-After", "1");
		api_error(req, 503, "MAIL-0503", "this node is draining: connect again");
		return;
	}
	pthread_mutex_lock(&reg.lock);
	struct watcher *w = find_watcher(user.login);
	const char *refusal = NULL;
	if (reg.stopping)
		refusal = "this node is stopping";
	else if (w != NULL && w->nsubs >= STREAMS_PER_USER)
		refusal = "too many open event streams for this user";
	else if (reg.streams_n >= STREAMS_MAX)
		refusal = "too many open event streams on this node";
	else if (w == NULL && reg.watchers_n >= watchers_max(node))
		refusal = "too many users with event streams on this node (half of [mail] "
		          "max_connections)";
	else if (w == NULL && (w = start_watcher(node, user.login)) == NULL)
		refusal = "cannot start a watcher thread";
	struct subscriber *s = NULL;
	if (refusal == NULL) {
		s = mem_calloc(1, sizeof(*s));
		buf_init(&s->queue, QUEUE_MAX);
		s->loop = http_request_loop(req);
		s->req = req;
		s->refs = 2; /* the loop side and the watcher's list */
		s->w = w;
		s->next = w->subs;
		w->subs = s;
		w->nsubs++;
		reg.streams_n++;
		if (w->known) {
			char text[160];
			snprintf(
			    text, sizeof(text),
			    "event: mail\ndata: {\"folder\":\"INBOX\",\"total\":%u,\"unread\":%u}"
			    "\n\n",
			    (unsigned)w->total, (unsigned)w->unread);
			sub_push(s, text, strlen(text));
		}
	}
	pthread_mutex_unlock(&reg.lock);
	if (refusal != NULL) {
		http_response_header(req, "Retry-After", "5");
		api_error(req, 429, "MAIL-0429", "%s", refusal);
		return;
	}
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", "text/event-stream");
	http_response_header(req, "Cache-Control", "no-store");
	http_response_header(req, "X-Accel-Buffering", "no");
	http_response_stream_events(req, produce, s);
	http_request_set_abort_handler(req, on_abort, s);
	http_response_send(req);
}

void api_mail_events_stop(void)
{
	pthread_mutex_lock(&reg.lock);
	reg.stopping = true;
	for (struct watcher *w = reg.watchers; w != NULL; w = w->next)
		(void)!write(w->wake[1], "x", 1);
	while (reg.watchers_n > 0)
		pthread_cond_wait(&reg.gone, &reg.lock);
	pthread_mutex_unlock(&reg.lock);
}

unsigned api_mail_events_watchers(void)
{
	pthread_mutex_lock(&reg.lock);
	unsigned n = reg.watchers_n;
	pthread_mutex_unlock(&reg.lock);
	return n;
}

const struct http_route api_mail_events_routes[] = {
    {"GET", "/api/v1/mail/events", mail_events, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

unsigned api_mail_events_streams(void)
{
	pthread_mutex_lock(&reg.lock);
	unsigned n = reg.streams_n;
	pthread_mutex_unlock(&reg.lock);
	return n;
}
