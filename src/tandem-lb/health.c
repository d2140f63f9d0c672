/* SPDX-License-Identifier: MIT */
/* Active health checks: one thread, one poll() over every member's check per round. */
#include "health.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "hostport.h"
#include "http-response-parser.h"
#include "log.h"
#include "mem.h"

#define COMP        "health"
#define REQUEST_MAX 2048 /* uri (config: at most 1024) + host + fixed fields */

struct health_checker {
	struct balancer *b;

	pthread_mutex_t lock; /* guards the settings */
	char *uri;
	char *host; /* NULL = the member's address */
	uint64_t interval_ms;
	uint64_t timeout_ms;

	pthread_t thread;
	bool running; /* the owner's view: start, stop and destroy are not concurrent */
	/* eventfd, from the first start until destroy so that other threads can always write
	   to it; -1 before (__atomic). */
	int wake_fd;
	bool stop;      /* __atomic */
	bool check_now; /* __atomic: a round at once, even if one is in progress */
	struct health_checker_stats stats; /* __atomic */
};

enum check_phase {
	CHECK_CONNECTING,
	CHECK_SENDING,
	CHECK_READING,
	CHECK_DONE,
};

/* One member's check in one round. */
struct check {
	struct balancer_member *m; /* a reference, held until the result is given */
	bool was_draining;         /* as in the round's snapshot */
	enum check_phase phase;
	int fd;
	uint64_t deadline_ms;
	struct buf req;
	size_t sent;
	struct buf resp;
};

/* The settings one round works with, copied under the lock. */
struct round_settings {
	char uri[REQUEST_MAX];
	char host[BALANCER_ADDRESS_MAX + 1];
	bool have_host;
	uint64_t timeout_ms;
};

#define STAT_ADD(hc, field, n) __atomic_add_fetch(&(hc)->stats.field, (n), __ATOMIC_RELAXED)

/* ---------------------------------------------------------------- settings */

static bool text_valid(const char *s, bool allow_space)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (c == ' ' && !allow_space))
			return false;
	}
	return true;
}

static void settings_assert(const struct health_settings *set)
{
	assert(set->uri != NULL && set->uri[0] == '/' && text_valid(set->uri, false));
	assert(strlen(set->uri) < REQUEST_MAX - 256);
	assert(set->host == NULL ||
	       (strlen(set->host) <= BALANCER_ADDRESS_MAX && text_valid(set->host, false)));
	assert(set->interval_ms >= 1 && set->timeout_ms >= 1);
	(void)set;
}

static void settings_store(struct health_checker *hc, const struct health_settings *set)
{
	mem_free(&hc->uri);
	mem_free(&hc->host);
	hc->uri = mem_strdup(set->uri);
	hc->host = set->host == NULL ? NULL : mem_strdup(set->host);
	hc->interval_ms = set->interval_ms;
	hc->timeout_ms = set->timeout_ms;
}

static void wake(struct health_checker *hc)
{
	uint64_t one = 1;
	int fd = __atomic_load_n(&hc->wake_fd, __ATOMIC_ACQUIRE);
	/* EAGAIN means the counter is already non-zero: the thread wakes anyway. */
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error(COMP, "waking the health thread: %s", strerror(errno));
}

static void drain_wake(struct health_checker *hc)
{
	uint64_t value;
	if (read(hc->wake_fd, &value, sizeof(value)) < 0 && errno != EAGAIN)
		log_error(COMP, "reading the wake-up counter: %s", strerror(errno));
}

static bool stopping(struct health_checker *hc)
{
	return __atomic_load_n(&hc->stop, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------- responses */

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* True if body has "status" : "draining" anywhere. Not a JSON parser: the node's answer is
   a flat object, and this only has to tell draining from everything else. */
static bool body_says_draining(struct strv body)
{
	static const struct strv key = STRV_LIT("\"status\"");
	static const struct strv value = STRV_LIT("\"draining\"");

	for (size_t i = 0; i + key.len <= body.len; i++) {
		if (memcmp(body.ptr + i, key.ptr, key.len) != 0)
			continue;
		size_t j = i + key.len;
		while (j < body.len && json_space(body.ptr[j]))
			j++;
		if (j == body.len || body.ptr[j] != ':')
			continue;
		j++;
		while (j < body.len && json_space(body.ptr[j]))
			j++;
		if (body.len - j >= value.len && memcmp(body.ptr + j, value.ptr, value.len) == 0)
			return true;
	}
	return false;
}

int health_response_parse(struct strv r, unsigned *status_r, bool *draining_r, const char **error_r)
{
	struct http_limits limits;
	struct http_response_parser parser;
	struct http_header headers[HEALTH_HEADERS_MAX];
	struct http_response_head head;
	struct http_response_body body;
	struct buf decoded;
	size_t head_len, used;
	int ret = -1;

	/* The proxy's strict parser: a member is healthy only if its answer could be proxied. */
	http_limits_default(&limits);
	limits.max_line = HEALTH_RESPONSE_MAX;
	limits.max_header_bytes = HEALTH_RESPONSE_MAX;
	limits.max_headers = HEALTH_HEADERS_MAX;
	http_response_parser_init(&parser, &limits);
	enum http_parse_status st = http_response_parser_parse(&parser, r.ptr, r.len, headers,
	                                                       false, &head, &head_len, error_r);
	if (st == HTTP_PARSE_AGAIN)
		*error_r = "connection closed inside the response head";
	if (st != HTTP_PARSE_OK)
		return -1;

	buf_init(&decoded, HEALTH_RESPONSE_MAX);
	http_response_body_init(&body, &head, HEALTH_RESPONSE_MAX);
	st = http_response_body_parse(&body, r.ptr + head_len, r.len - head_len, &used, &decoded,
	                              error_r);
	if (st == HTTP_PARSE_AGAIN)
		st = http_response_body_eof(&body, error_r);
	if (st == HTTP_PARSE_OK) {
		*status_r = (unsigned)head.status;
		*draining_r = body_says_draining(buf_strv(&decoded));
		ret = 0;
	}
	buf_free(&decoded);
	return ret;
}

/* ---------------------------------------------------------------- one check */

static const char *errno_reason(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connection refused";
	case ECONNRESET:
		return "connection reset";
	case ETIMEDOUT:
		return "connect timed out";
	case EHOSTUNREACH:
		return "host unreachable";
	case ENETUNREACH:
		return "network unreachable";
	default:
		return strerror(err);
	}
}

/* Gives the result to the balancer, if c's member is still the one with its route, and logs
   what changed. */
static void report(struct health_checker *hc, struct check *c, bool ok, bool draining,
                   const char *reason)
{
	const char *route = balancer_member_route(c->m);
	const char *address = balancer_member_address(c->m);

	STAT_ADD(hc, checks, 1);
	if (!ok) {
		STAT_ADD(hc, checks_failed, 1);
		log_debug(COMP, "member %s (%s) failed a check: %s", route, address, reason);
	}
	struct balancer_member *now = balancer_find(hc->b, strv_from_cstr(route));
	/* Removed, or replaced by a member with the same route (another address, or the same
	   node re-added): this result is about something that is gone. */
	if (now != c->m)
		goto out;
	if (balancer_health_result(c->m, ok, draining, clock_mono_ms())) {
		if (ok)
			log_info(COMP, "member %s (%s) is up%s", route, address,
			         draining ? " (draining)" : "");
		else
			log_warn(COMP, "member %s (%s) is down: %s", route, address, reason);
	} else if (ok && draining != c->was_draining) {
		log_info(COMP, "member %s (%s) %s", route, address,
		         draining ? "reports draining" : "no longer reports draining");
	}
out:
	if (now != NULL)
		balancer_member_unref(&now);
}

static void check_close(struct check *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->phase = CHECK_DONE;
}

static void check_free(struct check *c)
{
	check_close(c);
	buf_free(&c->req);
	buf_free(&c->resp);
	if (c->m != NULL)
		balancer_member_unref(&c->m);
}

static void check_finish(struct health_checker *hc, struct check *c, bool ok, bool draining,
                         const char *reason)
{
	check_close(c);
	report(hc, c, ok, draining, reason);
	balancer_member_unref(&c->m);
}

static void check_fail(struct health_checker *hc, struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check_fail(struct health_checker *hc, struct check *c, const char *fmt, ...)
{
	char reason[256];
	va_list args;
	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	check_finish(hc, c, false, false, reason);
}

/* Judges what was read, at EOF (or a read error after it: err). */
static void check_judge(struct health_checker *hc, struct check *c, int err)
{
	unsigned status;
	bool draining;
	const char *error;

	if (health_response_parse(buf_strv(&c->resp), &status, &draining, &error) < 0) {
		if (err != 0)
			check_fail(hc, c, "receiving: %s", errno_reason(err));
		else if (c->resp.len == 0)
			check_fail(hc, c, "connection closed without a response");
		else
			check_fail(hc, c, "malformed response: %s", error);
	} else if (status == 200) {
		check_finish(hc, c, true, false, "");
	} else if (status == 503 && draining) {
		check_finish(hc, c, true, true, "");
	} else if (status == 503) {
		check_fail(hc, c, "status 503 without \"status\":\"draining\"");
	} else {
		check_fail(hc, c, "status %u", status);
	}
}

/* Opens c's connection. Returns 0 when under way (or failed with a result given), -1 when
   this host is out of sockets: no result, the member is not to blame. */
static int check_start(struct health_checker *hc, struct check *c, const struct round_settings *rs,
                       uint64_t now)
{
	const char *address = balancer_member_address(c->m);
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *error;

	c->deadline_ms = now + rs->timeout_ms;
	buf_init(&c->req, REQUEST_MAX);
	buf_init(&c->resp, HEALTH_RESPONSE_MAX);
	buf_printf(&c->req,
	           "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tandem-lb-health\r\n"
	           "Connection: close\r\n\r\n",
	           rs->uri, rs->have_host ? rs->host : address);
	assert(!buf_overflowed(&c->req));

	if (hostport_resolve_first(address, &addr, &addr_len, &error) < 0) {
		check_fail(hc, c, "cannot resolve %s: %s", address, error);
		return 0;
	}
	c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			return -1;
		check_fail(hc, c, "socket: %s", errno_reason(errno));
		return 0;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, addr_len) == 0) {
		c->phase = CHECK_SENDING;
	} else if (errno == EINPROGRESS) {
		c->phase = CHECK_CONNECTING;
	} else {
		check_fail(hc, c, "%s", errno_reason(errno));
	}
	return 0;
}

static short check_events(const struct check *c)
{
	return c->phase == CHECK_READING ? POLLIN : POLLOUT;
}

/* Moves c on after poll() reported its socket. */
static void check_step(struct health_checker *hc, struct check *c)
{
	if (c->phase == CHECK_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err != 0) {
			check_fail(hc, c, "%s", errno_reason(err));
			return;
		}
		c->phase = CHECK_SENDING;
	}
	if (c->phase == CHECK_SENDING) {
		while (c->sent < c->req.len) {
			ssize_t n =
			    send(c->fd, c->req.data + c->sent, c->req.len - c->sent, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n < 0) {
				check_fail(hc, c, "sending: %s", errno_reason(errno));
				return;
			}
			c->sent += (size_t)n;
		}
		c->phase = CHECK_READING;
	}
	for (;;) {
		char chunk[4096];
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			check_judge(hc, c, n < 0 ? errno : 0);
			return;
		}
		buf_append(&c->resp, chunk, (size_t)n);
		if (buf_overflowed(&c->resp)) {
			check_fail(hc, c, "response longer than %u bytes", HEALTH_RESPONSE_MAX);
			return;
		}
	}
}

/* ---------------------------------------------------------------- rounds */

static void round_settings_copy(struct health_checker *hc, struct round_settings *rs)
{
	pthread_mutex_lock(&hc->lock);
	snprintf(rs->uri, sizeof(rs->uri), "%s", hc->uri);
	rs->have_host = hc->host != NULL;
	if (rs->have_host)
		snprintf(rs->host, sizeof(rs->host), "%s", hc->host);
	rs->timeout_ms = hc->timeout_ms;
	pthread_mutex_unlock(&hc->lock);
}

/* Checks every member that is not disabled, all at once. Returns early when stopping. */
static void run_round(struct health_checker *hc)
{
	struct round_settings rs;
	struct balancer_member_info *infos;
	uint64_t start = clock_mono_ms();
	bool out_of_sockets = false;

	round_settings_copy(hc, &rs);
	size_t count = balancer_snapshot(hc->b, start, &infos);
	struct check *checks = mem_calloc(count + 1, sizeof(*checks));
	struct pollfd *pfds = mem_calloc(count + 1, sizeof(*pfds));
	size_t *which = mem_calloc(count + 1, sizeof(*which));
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		if (infos[i].state == BALANCER_DISABLED)
			continue;
		struct balancer_member *m = balancer_find(hc->b, strv_from_cstr(infos[i].route));
		if (m == NULL)
			continue;
		struct check *c = &checks[n++];
		c->m = m;
		c->fd = -1;
		c->was_draining = infos[i].draining;
		if (check_start(hc, c, &rs, clock_mono_ms()) < 0) {
			out_of_sockets = true;
			check_free(c); /* no result: this host's fault, not the member's */
		}
	}
	mem_free(&infos);
	if (out_of_sockets)
		log_error(COMP, "out of sockets: some members were not checked this round");

	for (;;) {
		uint64_t now = clock_mono_ms();
		uint64_t next_deadline = UINT64_MAX;
		nfds_t nfds = 0;

		pfds[nfds++] = (struct pollfd){.fd = hc->wake_fd, .events = POLLIN};
		for (size_t i = 0; i < n; i++) {
			struct check *c = &checks[i];
			if (c->phase == CHECK_DONE)
				continue;
			if (now >= c->deadline_ms) {
				check_fail(hc, c, "no %s within %llu ms",
				           c->phase == CHECK_CONNECTING ? "connection" : "response",
				           (unsigned long long)rs.timeout_ms);
				continue;
			}
			if (c->deadline_ms < next_deadline)
				next_deadline = c->deadline_ms;
			which[nfds] = i;
			pfds[nfds++] = (struct pollfd){.fd = c->fd, .events = check_events(c)};
		}
		if (nfds == 1)
			break;
		uint64_t wait = next_deadline - now;
		int ret = poll(pfds, nfds, wait > INT_MAX ? INT_MAX : (int)wait);
		if (ret < 0 && errno != EINTR) {
			log_error(COMP, "poll: %s", strerror(errno));
			break; /* the checks still open are dropped below, without a result */
		}
		if (ret <= 0)
			continue;
		if (pfds[0].revents != 0) {
			drain_wake(hc);
			if (stopping(hc))
				break;
		}
		for (nfds_t k = 1; k < nfds; k++) {
			if (pfds[k].revents != 0)
				check_step(hc, &checks[which[k]]);
		}
	}

	bool complete = true;
	for (size_t i = 0; i < n; i++) {
		if (checks[i].phase != CHECK_DONE)
			complete = false;
		check_free(&checks[i]);
	}
	if (complete) {
		STAT_ADD(hc, rounds, 1);
		__atomic_store_n(&hc->stats.last_round_ms, clock_mono_ms() - start,
		                 __ATOMIC_RELAXED);
	}
	mem_free(&checks);
	mem_free(&pfds);
	mem_free(&which);
}

static void *health_main(void *arg)
{
	struct health_checker *hc = arg;
	uint64_t last_start = 0;
	bool first = true;

	pthread_setname_np(pthread_self(), "lb-health");
	while (!stopping(hc)) {
		uint64_t now = clock_mono_ms();
		pthread_mutex_lock(&hc->lock);
		uint64_t next = last_start + hc->interval_ms;
		pthread_mutex_unlock(&hc->lock);
		/* A round that overran its interval is followed by the next at once; rounds never
		   overlap, so they cannot pile up. */
		if (first || __atomic_exchange_n(&hc->check_now, false, __ATOMIC_ACQ_REL) ||
		    now >= next) {
			first = false;
			last_start = now;
			run_round(hc);
			continue;
		}
		struct pollfd pfd = {.fd = hc->wake_fd, .events = POLLIN};
		uint64_t wait = next - now;
		if (poll(&pfd, 1, wait > INT_MAX ? INT_MAX : (int)wait) > 0)
			drain_wake(hc);
	}
	return NULL;
}

/* ---------------------------------------------------------------- API */

struct health_checker *health_checker_create(struct balancer *b, const struct health_settings *set)
{
	struct health_checker *hc = mem_calloc(1, sizeof(*hc));

	settings_assert(set);
	hc->b = b;
	hc->wake_fd = -1;
	pthread_mutex_init(&hc->lock, NULL);
	settings_store(hc, set);
	return hc;
}

int health_checker_start(struct health_checker *hc, const char **error_r)
{
	assert(!hc->running);
	if (hc->wake_fd < 0) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fd < 0) {
			*error_r = "health checks: cannot create an eventfd";
			return -1;
		}
		__atomic_store_n(&hc->wake_fd, fd, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&hc->stop, false, __ATOMIC_RELEASE);
	/* The first round is at once anyway. */
	__atomic_store_n(&hc->check_now, false, __ATOMIC_RELEASE);
	if (pthread_create(&hc->thread, NULL, health_main, hc) != 0) {
		*error_r = "health checks: cannot start the thread";
		return -1;
	}
	hc->running = true;
	return 0;
}

void health_checker_stop(struct health_checker *hc)
{
	if (!hc->running)
		return;
	__atomic_store_n(&hc->stop, true, __ATOMIC_RELEASE);
	wake(hc);
	pthread_join(hc->thread, NULL);
	hc->running = false;
}

void health_checker_destroy(struct health_checker **hcp)
{
	struct health_checker *hc = *hcp;
	if (hc == NULL)
		return;
	health_checker_stop(hc);
	if (hc->wake_fd >= 0)
		close(hc->wake_fd);
	pthread_mutex_destroy(&hc->lock);
	mem_free(&hc->uri);
	mem_free(&hc->host);
	mem_free(hcp);
}

void health_checker_set_settings(struct health_checker *hc, const struct health_settings *set)
{
	settings_assert(set);
	pthread_mutex_lock(&hc->lock);
	settings_store(hc, set);
	pthread_mutex_unlock(&hc->lock);
	wake(hc);
}

void health_checker_check_now(struct health_checker *hc)
{
	__atomic_store_n(&hc->check_now, true, __ATOMIC_RELEASE);
	wake(hc);
}

void health_checker_get_stats(struct health_checker *hc, struct health_checker_stats *stats_r)
{
	stats_r->rounds = __atomic_load_n(&hc->stats.rounds, __ATOMIC_RELAXED);
	stats_r->checks = __atomic_load_n(&hc->stats.checks, __ATOMIC_RELAXED);
	stats_r->checks_failed = __atomic_load_n(&hc->stats.checks_failed, __ATOMIC_RELAXED);
	stats_r->last_round_ms = __atomic_load_n(&hc->stats.last_round_ms, __ATOMIC_RELAXED);
}
