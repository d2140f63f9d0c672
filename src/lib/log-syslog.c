/* SPDX-License-Identifier: MIT */
/* The queue is a fixed ring of message slots filled by callers under a short lock; one
   thread takes the oldest, sends it outside the lock and only then frees its slot, so a TCP
   message that failed is sent again after the reconnect. Over UDP a failed datagram is
   dropped and counted: there is no one to tell. */
#include "log-syslog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"
#include "prom.h"

#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_MS 2000
#define SEND_TIMEOUT_MS    2000

static const char *const facility_names[24] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7",
};

int log_syslog_parse_url(const char *url, struct log_syslog_settings *set, const char **error_r)
{
	struct hostport hp;
	const char *error;
	size_t skip;

	if (strncmp(url, "udp://", 6) == 0) {
		set->transport = LOG_SYSLOG_UDP;
		skip = 6;
	} else if (strncmp(url, "tcp://", 6) == 0) {
		set->transport = LOG_SYSLOG_TCP;
		skip = 6;
	} else {
		*error_r = "expected udp://host:port or tcp://host:port";
		return -1;
	}
	if (hostport_parse(strv_from_cstr(url + skip), HOSTPORT_PORT_OPTIONAL, 514, &hp, &error) !=
	    HOSTPORT_OK) {
		*error_r = error;
		return -1;
	}
	memcpy(set->host, hp.host, sizeof(set->host));
	set->port = hp.port;
	return 0;
}

int log_syslog_parse_facility(const char *name, unsigned *facility_r, const char **error_r)
{
	for (unsigned i = 0; i < 24; i++) {
		if (strcmp(name, facility_names[i]) == 0) {
			*facility_r = i;
			return 0;
		}
	}
	*error_r = "expected a syslog facility: kern, user, mail, daemon, auth, syslog, lpr, "
	           "news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock or local0-local7";
	return -1;
}

int log_syslog_check_app_name(const char *name, const char **error_r)
{
	size_t n = strlen(name);
	if (n == 0 || n > LOG_SYSLOG_APP_MAX) {
		*error_r = "must be 1 to 48 characters";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (name[i] < 33 || name[i] > 126) {
			*error_r = "may only contain printable ASCII characters, no spaces";
			return -1;
		}
	}
	return 0;
}

int log_syslog_configure(const char *url, const char *facility, const char *app_name,
                         struct log_syslog_settings *set_r, bool *enabled_r, const char **key_r,
                         const char **error_r)
{
	static __thread char msg[300];
	const char *error;

	memset(set_r, 0, sizeof(*set_r));
	*enabled_r = url != NULL;
	if (url != NULL && log_syslog_parse_url(url, set_r, &error) < 0) {
		*key_r = "syslog";
		snprintf(msg, sizeof(msg), "[log] syslog: %s", error);
	} else if (log_syslog_parse_facility(facility, &set_r->facility, &error) < 0) {
		*key_r = "syslog_facility";
		snprintf(msg, sizeof(msg), "[log] syslog_facility: %s", error);
	} else if (log_syslog_check_app_name(app_name, &error) < 0) {
		*key_r = "syslog_app";
		snprintf(msg, sizeof(msg), "[log] syslog_app %s", error);
	} else {
		snprintf(set_r->app_name, sizeof(set_r->app_name), "%s", app_name);
		return 0;
	}
	*error_r = msg;
	return -1;
}

/* A header field: printable ASCII without SP, at most max bytes, "-" when empty. */
static size_t put_field(char *out, size_t room, const char *s, size_t max)
{
	size_t n = 0;
	for (; s != NULL && s[n] != '\0' && n < max && n < room; n++)
		out[n] = s[n] >= 33 && s[n] <= 126 ? s[n] : '_';
	if (n == 0 && room > 0)
		out[n++] = '-';
	return n;
}

/* Length of s[0..len) without a trailing incomplete UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len)
{
	size_t i = len, cont = 0;
	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
		return len;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	return cont + 1 < need ? i - 1 : len;
}

size_t log_syslog_format(char *out, size_t size, unsigned facility, unsigned severity,
                         uint64_t wall_ms, const char *hostname, const char *app_name, long pid,
                         const char *msgid, const char *msg, size_t msg_len)
{
	char ts[32];
	size_t n;

	clock_format_rfc3339(wall_ms, ts, sizeof(ts));
	int w = snprintf(out, size, "<%u>1 %s ", (facility % 24) * 8 + (severity % 8), ts);
	n = w < 0 ? 0 : (size_t)w >= size ? size - 1 : (size_t)w;
	n += put_field(out + n, size - 1 - n, hostname, LOG_SYSLOG_HOST_MAX);
	if (n < size - 1)
		out[n++] = ' ';
	n += put_field(out + n, size - 1 - n, app_name, LOG_SYSLOG_APP_MAX);
	w = snprintf(out + n, size - n, " %ld ", pid);
	n += w < 0 ? 0 : (size_t)w >= size - n ? size - 1 - n : (size_t)w;
	n += put_field(out + n, size - 1 - n, msgid, 32);
	if (size - 1 - n >= 3) {
		memcpy(out + n, " - ", 3);
		n += 3;
	}
	size_t room = size - 1 - n;
	size_t take = msg_len <= room ? msg_len : utf8_cut(msg, room);
	for (size_t i = 0; i < take; i++) {
		unsigned char c = (unsigned char)msg[i];
		out[n + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	n += take;
	out[n] = '\0';
	return n;
}

size_t log_syslog_frame_prefix(char *out, size_t len)
{
	int w = snprintf(out, 12, "%zu ", len);
	return w < 0 ? 0 : (size_t)w;
}

/* --- the sender --- */

struct slot {
	uint16_t len;
	char data[LOG_SYSLOG_MSG_MAX];
};

struct log_syslog {
	struct log_syslog_settings set;
	char hostname[LOG_SYSLOG_HOST_MAX + 1];
	long pid;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	struct slot *slots;
	size_t head, count;
	bool stop;
	uint64_t stop_deadline_ms;
	/* the sender thread's own */
	int fd;
	uint64_t backoff_ms;
	_Atomic uint64_t dropped, sent;
};

static void wait_until(struct log_syslog *s, uint64_t deadline_ms)
{
	/* with s->lock held; returns on a signal, the deadline or spuriously */
	struct timespec until = {(time_t)(deadline_ms / 1000),
	                         (long)(deadline_ms % 1000) * 1000000L};
	pthread_cond_timedwait(&s->wake, &s->lock, &until);
}

static void close_conn(struct log_syslog *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int connect_timed(int fd, const struct sockaddr *addr, socklen_t len)
{
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	int r = connect(fd, addr, len);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t elen = sizeof(err);
		if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
			return -1;
		r = 0;
	}
	fcntl(fd, F_SETFL, flags);
	return r;
}

/* Outside the lock. 0 with s->fd open, or -1. */
static int open_conn(struct log_syslog *s)
{
	struct addrinfo *res = NULL;
	const char *error;
	bool tcp = s->set.transport == LOG_SYSLOG_TCP;

	if (hostport_resolve(s->set.host, s->set.port, &res, &error) < 0)
		return -1;
	for (struct addrinfo *ai = res; ai != NULL && s->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect_timed(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			continue;
		}
		struct timeval tv = {SEND_TIMEOUT_MS / 1000, (SEND_TIMEOUT_MS % 1000) * 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		s->fd = fd;
	}
	freeaddrinfo(res);
	return s->fd >= 0 ? 0 : -1;
}

/* A syslog server never talks back: a readable TCP socket means it closed (or reset). */
static bool peer_closed(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLRDHUP | POLLERR | POLLHUP));
}

/* Outside the lock. 0 when sent (or, over UDP, given up on), -1 to retry after a reconnect. */
static int send_one(struct log_syslog *s, const char *msg, size_t len)
{
	if (s->set.transport == LOG_SYSLOG_UDP) {
		if (send(s->fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len)
			atomic_fetch_add(&s->sent, 1);
		else
			atomic_fetch_add(&s->dropped, 1); /* e.g. ECONNREFUSED: nobody listens */
		return 0;
	}
	if (peer_closed(s->fd))
		return -1;
	char frame[12 + LOG_SYSLOG_MSG_MAX];
	size_t n = log_syslog_frame_prefix(frame, len);
	memcpy(frame + n, msg, len);
	n += len;
	for (size_t off = 0; off < n;) {
		ssize_t w = send(s->fd, frame + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1; /* a part may be out: the frame is resent whole on a new
			              connection */
		off += (size_t)w;
	}
	atomic_fetch_add(&s->sent, 1);
	return 0;
}

static void *sender(void *ctx)
{
	struct log_syslog *s = ctx;
	char msg[LOG_SYSLOG_MSG_MAX];

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->count == 0 && !s->stop)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->count == 0 || (s->stop && clock_mono_ms() >= s->stop_deadline_ms))
			break;
		struct slot *slot = &s->slots[s->head];
		size_t len = slot->len;
		memcpy(msg, slot->data, len);
		pthread_mutex_unlock(&s->lock);

		int r = s->fd >= 0 || open_conn(s) == 0 ? send_one(s, msg, len) : -1;
		if (r < 0)
			close_conn(s);

		pthread_mutex_lock(&s->lock);
		if (r == 0) {
			s->head = (s->head + 1) % LOG_SYSLOG_QUEUE;
			s->count--;
			s->backoff_ms = 0;
		} else if (s->stop) {
			break; /* stopping with the server down: what is left is dropped */
		} else {
			/* down: wait (new messages keep queueing, then drop) */
			s->backoff_ms = s->backoff_ms == 0 ? BACKOFF_MIN_MS : s->backoff_ms * 2;
			if (s->backoff_ms > BACKOFF_MAX_MS)
				s->backoff_ms = BACKOFF_MAX_MS;
			uint64_t until = clock_mono_ms() + s->backoff_ms;
			while (clock_mono_ms() < until && !s->stop)
				wait_until(s, until);
		}
	}
	s->dropped += s->count; /* not sent by the stop deadline */
	s->count = 0;
	pthread_mutex_unlock(&s->lock);
	close_conn(s);
	return NULL;
}

struct log_syslog *log_syslog_start(const struct log_syslog_settings *set)
{
	struct log_syslog *s = mem_calloc(1, sizeof(*s));
	pthread_condattr_t attr;

	s->set = *set;
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0)
		s->hostname[0] = '\0';
	s->pid = (long)getpid();
	s->fd = -1;
	s->slots = mem_calloc(LOG_SYSLOG_QUEUE, sizeof(*s->slots));
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&s->thread, NULL, sender, s) != 0)
		abort(); /* at startup: nothing sensible to go on with */
	return s;
}

void log_syslog_send(struct log_syslog *s, unsigned severity, const char *msgid, const char *msg,
                     size_t msg_len)
{
	char buf[LOG_SYSLOG_MSG_MAX];

	if (s == NULL)
		return;
	size_t len = log_syslog_format(buf, sizeof(buf), s->set.facility, severity, clock_wall_ms(),
	                               s->hostname, s->set.app_name, s->pid, msgid, msg, msg_len);
	pthread_mutex_lock(&s->lock);
	if (s->count == LOG_SYSLOG_QUEUE || s->stop) {
		pthread_mutex_unlock(&s->lock);
		atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
		return;
	}
	struct slot *slot = &s->slots[(s->head + s->count) % LOG_SYSLOG_QUEUE];
	memcpy(slot->data, buf, len);
	slot->len = (uint16_t)len;
	bool was_empty = s->count++ == 0;
	pthread_mutex_unlock(&s->lock);
	if (was_empty)
		pthread_cond_signal(&s->wake);
}

void log_syslog_tee(enum log_level level, const char *line, size_t len, void *ctx)
{
	static const unsigned severity[] = {LOG_SYSLOG_DEBUG, LOG_SYSLOG_INFO, LOG_SYSLOG_WARNING,
	                                    LOG_SYSLOG_ERR};
	unsigned sev = (unsigned)level < 4 ? severity[level] : LOG_SYSLOG_ERR;
	log_syslog_send(ctx, sev, "log", line, len);
}

uint64_t log_syslog_dropped(const struct log_syslog *s)
{
	return s == NULL ? 0 : atomic_load(&((struct log_syslog *)s)->dropped);
}

uint64_t log_syslog_sent(const struct log_syslog *s)
{
	return s == NULL ? 0 : atomic_load(&((struct log_syslog *)s)->sent);
}

void log_syslog_metrics(struct buf *out, const char *prefix, const struct log_syslog *s)
{
	char name[96];
	snprintf(name, sizeof(name), "%ssyslog_sent_total", prefix);
	prom_metric(out, name, "counter", "Messages handed to the remote syslog server.",
	            log_syslog_sent(s));
	snprintf(name, sizeof(name), "%ssyslog_dropped_total", prefix);
	prom_metric(out, name, "counter",
	            "Messages for remote syslog dropped: queue full (server down or slow) or a "
	            "datagram refused.",
	            log_syslog_dropped(s));
}

void log_syslog_stop(struct log_syslog **syslog, uint64_t timeout_ms)
{
	struct log_syslog *s = *syslog;

	if (s == NULL)
		return;
	*syslog = NULL;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	s->stop_deadline_ms = clock_mono_ms() + timeout_ms;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	mem_free(&s->slots);
	mem_free(&s);
}
