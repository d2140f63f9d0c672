/* SPDX-License-Identifier: MIT */
/* Unit tests for the health checker: tiny canned backends on loopback, a real balancer. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "balancer.h"
#include "clock.h"
#include "health.h"
#include "mem.h"
#include "test.h"

/* Upper bound of every wait; only reached when something is broken. */
#define WAIT_MS 10000

/* ---------------------------------------------------------------- backends */

enum backend_kind {
	BK_READY,    /* 200 {"status":"ready"} */
	BK_DRAINING, /* 503 {"status": "draining"} */
	BK_STARTING, /* 503 {"status":"starting"} */
	BK_GARBAGE,  /* not HTTP */
	BK_HANG,     /* accepts, reads, never answers */
};

#define HUNG_MAX 16

/* One listening socket on 127.0.0.1 with a thread answering every connection the same way. */
struct backend {
	int fd;
	int stop_pipe[2];
	char address[32];
	pthread_t thread;
	enum backend_kind kind; /* __atomic: may change while running */
	unsigned connections;   /* __atomic */
	pthread_mutex_t lock;
	char last_request[2048];
	int hung[HUNG_MAX];
	size_t hung_count;
};

static const char *response_for(enum backend_kind kind)
{
	switch (kind) {
	case BK_READY:
		return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
		       "{\"status\":\"ready\",\"route\":\"OX-1\"}\n";
	case BK_DRAINING:
		return "HTTP/1.1 503 Service Unavailable\r\n\r\n"
		       "{\"status\": \"draining\",\"route\":\"OX-1\",\"reason\":\"draining\"}\n";
	case BK_STARTING:
		return "HTTP/1.1 503 Service Unavailable\r\n\r\n"
		       "{\"status\":\"starting\",\"route\":\"OX-1\",\"reason\":\"starting\"}\n";
	case BK_GARBAGE:
		return "SSH-2.0-OpenSSH_9.2\r\n";
	case BK_HANG:
		return NULL;
	}
	return NULL;
}

/* Reads the request head (bounded in time and size) into be->last_request. */
static void read_request(struct backend *be, int fd)
{
	char req[sizeof(be->last_request)];
	size_t len = 0;
	uint64_t deadline = clock_mono_ms() + 2000;

	while (len < sizeof(req) - 1 && clock_mono_ms() < deadline) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[len] = '\0';
	pthread_mutex_lock(&be->lock);
	memcpy(be->last_request, req, len + 1);
	pthread_mutex_unlock(&be->lock);
}

static void *backend_main(void *arg)
{
	struct backend *be = arg;

	for (;;) {
		struct pollfd pfds[2] = {{.fd = be->fd, .events = POLLIN},
		                         {.fd = be->stop_pipe[0], .events = POLLIN}};
		if (poll(pfds, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfds[1].revents != 0)
			break;
		if (pfds[0].revents == 0)
			continue;
		int fd = accept(be->fd, NULL, NULL);
		if (fd < 0)
			continue;
		__atomic_add_fetch(&be->connections, 1, __ATOMIC_RELAXED);
		read_request(be, fd);
		const char *resp = response_for(__atomic_load_n(&be->kind, __ATOMIC_RELAXED));
		if (resp == NULL && be->hung_count < HUNG_MAX) {
			be->hung[be->hung_count++] = fd;
			continue;
		}
		/* A failed send is the checker having given up: its own result shows that. */
		if (resp != NULL)
			(void)send(fd, resp, strlen(resp), MSG_NOSIGNAL);
		close(fd);
	}
	return NULL;
}

static void backend_start(struct backend *be, enum backend_kind kind)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);

	memset(be, 0, sizeof(*be));
	be->kind = kind;
	pthread_mutex_init(&be->lock, NULL);
	be->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	test_assert(be->fd >= 0);
	test_assert(bind(be->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(listen(be->fd, 64) == 0);
	test_assert(getsockname(be->fd, (struct sockaddr *)&sin, &len) == 0);
	snprintf(be->address, sizeof(be->address), "127.0.0.1:%u", ntohs(sin.sin_port));
	test_assert(pipe(be->stop_pipe) == 0);
	test_assert(pthread_create(&be->thread, NULL, backend_main, be) == 0);
}

static void backend_stop(struct backend *be)
{
	test_assert(write(be->stop_pipe[1], "x", 1) == 1);
	pthread_join(be->thread, NULL);
	for (size_t i = 0; i < be->hung_count; i++)
		close(be->hung[i]);
	close(be->fd);
	close(be->stop_pipe[0]);
	close(be->stop_pipe[1]);
	pthread_mutex_destroy(&be->lock);
}

static unsigned backend_connections(struct backend *be)
{
	return __atomic_load_n(&be->connections, __ATOMIC_RELAXED);
}

static void backend_set_kind(struct backend *be, enum backend_kind kind)
{
	__atomic_store_n(&be->kind, kind, __ATOMIC_RELAXED);
}

/* An address where nothing listens: a port bound and closed again. */
static void closed_address(char *out, size_t size)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	test_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	snprintf(out, size, "127.0.0.1:%u", ntohs(sin.sin_port));
	close(fd);
}

/* ---------------------------------------------------------------- helpers */

static struct balancer *make_balancer(unsigned rise, unsigned fall)
{
	struct balancer_settings set = {BALANCER_BYREQUESTS, 5000, rise, fall};
	return balancer_create(&set);
}

static void add(struct balancer *b, const char *route, const char *address,
                enum balancer_state state)
{
	struct balancer_member_settings set = {route, address, 50, state, false, false};
	const char *error = NULL;
	if (balancer_add(b, &set, NULL, &error) < 0)
		test__fail(__FILE__, __LINE__, error);
}

static struct balancer_member_info info_of(struct balancer *b, const char *route)
{
	struct balancer_member_info info;
	memset(&info, 0, sizeof(info));
	struct balancer_member *m = balancer_find(b, strv_from_cstr(route));
	test_assert(m != NULL);
	if (m != NULL) {
		balancer_member_get_info(m, clock_mono_ms(), &info);
		balancer_member_unref(&m);
	}
	return info;
}

static bool is_up(struct balancer *b, const char *route)
{
	struct balancer_member_info info = info_of(b, route);
	return info.healthy && !info.draining && info.last_check_ok;
}

static bool is_draining(struct balancer *b, const char *route)
{
	struct balancer_member_info info = info_of(b, route);
	return info.healthy && info.draining && info.effective == BALANCER_DRAIN;
}

static bool is_down(struct balancer *b, const char *route)
{
	struct balancer_member_info info = info_of(b, route);
	return !info.healthy && !info.last_check_ok && info.last_check_ms != 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Waits (at most WAIT_MS) until cond is true; returns it. */
#define WAIT_FOR(cond)                                                                             \
	({                                                                                         \
		uint64_t wait_end_ = clock_mono_ms() + WAIT_MS;                                    \
		bool wait_ok_;                                                                     \
		while (!(wait_ok_ = (cond)) && clock_mono_ms() < wait_end_)                        \
			sleep_ms(5);                                                               \
		wait_ok_;                                                                          \
	})

static uint64_t rounds(struct health_checker *hc)
{
	struct health_checker_stats st;
	health_checker_get_stats(hc, &st);
	return st.rounds;
}

static struct health_checker *start_checker(struct balancer *b, uint64_t interval_ms,
                                            uint64_t timeout_ms)
{
	struct health_settings set = {"/health", interval_ms, timeout_ms, NULL};
	struct health_checker *hc = health_checker_create(b, &set);
	const char *error = NULL;
	if (health_checker_start(hc, &error) < 0)
		test__fail(__FILE__, __LINE__, error);
	return hc;
}

/* ---------------------------------------------------------------- tests */

static void test_response_parse(void)
{
	unsigned status = 0;
	bool draining = true;
	const char *error = NULL;

#define OK(text, want_status, want_draining)                                                       \
	do {                                                                                       \
		test_set_context(text);                                                            \
		test_assert(health_response_parse(STRV_LIT(text), &status, &draining, &error) ==   \
		            0);                                                                    \
		test_assert_int_eq(status, want_status);                                           \
		test_assert_int_eq(draining, want_draining);                                       \
	} while (0)
#define BAD(text)                                                                                  \
	do {                                                                                       \
		test_set_context(text);                                                            \
		test_assert(health_response_parse(STRV_LIT(text), &status, &draining, &error) <    \
		            0);                                                                    \
	} while (0)

	OK("HTTP/1.1 200 OK\r\nA: b\r\n\r\n{\"status\":\"ready\"}", 200, false);
	OK("HTTP/1.0 200 OK\r\n\r\n", 200, false);
	OK("HTTP/1.1 200\r\n\r\n", 200, false);
	OK("HTTP/1.1 200 \r\n\r\n", 200, false);
	OK("HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"draining\"}", 503, true);
	OK("HTTP/1.1 503 x\r\n\r\n{\"route\":\"a\", \"status\" :\n\t \"draining\"}", 503, true);
	OK("HTTP/1.1 503 x\r\n\r\n{\"status\":\"starting\"}", 503, false);
	OK("HTTP/1.1 503 x\r\n\r\n{\"status\":\"drainingx\"}", 503, false);
	OK("HTTP/1.1 503 x\r\n\r\n{\"xstatus\":\"draining\"}", 503, false);
	OK("HTTP/1.1 503 x\r\n\r\n{\"status\":draining}", 503, false);
	OK("HTTP/1.1 503 x\r\n\r\n{\"status\":\"drain", 503, false);
	OK("HTTP/1.1 503 x\r\nX-Status: \"status\":\"draining\"\r\n\r\n", 503, false);
	OK("HTTP/1.1 500 Internal Server Error\r\n\r\n", 500, false);
	/* The body is read by its framing, as the proxy would. */
	OK("HTTP/1.1 503 x\r\nContent-Length: 20\r\n\r\n{\"status\":\"draining\"}", 503, true);
	OK("HTTP/1.1 503 x\r\nContent-Length: 2\r\n\r\n{}\"status\":\"draining\"", 503, false);
	OK("HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "c\r\n{\"status\":\"d\r\n9\r\nraining\"}\r\n0\r\n\r\n",
	   503, true);
	OK("HTTP/1.1 204 No Content\r\n\r\n", 204, false);

	BAD("");
	BAD("HTTP/1.1 200 OK\r\n");           /* the head does not end */
	BAD("HTTP/1.1 200 OK\r\nA: b\r\n");   /* nor here */
	BAD("HTTP/1.1 200 OK\n\n");           /* bare LF */
	BAD("HTTP/1.1 200 OK\r\nA: b\n\r\n"); /* bare LF in a header line */
	BAD("HTTP/2 200 OK\r\n\r\n");
	BAD("HTTP/1.x 200 OK\r\n\r\n");
	BAD("http/1.1 200 OK\r\n\r\n");
	BAD("HTTP/1.1  200 OK\r\n\r\n");
	BAD("HTTP/1.1 20 OK\r\n\r\n");
	BAD("HTTP/1.1 2000 OK\r\n\r\n");
	BAD("HTTP/1.1 099 OK\r\n\r\n");
	BAD("HTTP/1.1 600 OK\r\n\r\n");
	BAD("HTTP/1.1 200 O\x01K\r\n\r\n");
	BAD("HTTP/1.1 200OK\r\n\r\n");
	BAD(" HTTP/1.1 200 OK\r\n\r\n");
	BAD("SSH-2.0-OpenSSH_9.2\r\n");
	BAD("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"); /* body cut short */
	BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
	BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
	BAD("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\n folded\r\n\r\n");

	/* Every prefix of a good response is incomplete, so a short read never passes. */
	static const char full[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	for (size_t len = 0; len < sizeof(full) - 1; len++)
		test_assert(
		    health_response_parse(strv_make(full, len), &status, &draining, &error) < 0);
	test_set_context(NULL);
#undef OK
#undef BAD
}

static void test_states_after_rise_and_fall(void)
{
	struct backend ready, draining, starting, garbage, hang;
	char refused[32];

	backend_start(&ready, BK_READY);
	backend_start(&draining, BK_DRAINING);
	backend_start(&starting, BK_STARTING);
	backend_start(&garbage, BK_GARBAGE);
	backend_start(&hang, BK_HANG);
	closed_address(refused, sizeof(refused));

	struct balancer *b = make_balancer(2, 2);
	add(b, "ready", ready.address, BALANCER_READY);
	add(b, "draining", draining.address, BALANCER_READY);
	add(b, "starting", starting.address, BALANCER_READY);
	add(b, "garbage", garbage.address, BALANCER_READY);
	add(b, "hang", hang.address, BALANCER_READY);
	add(b, "refused", refused, BALANCER_READY);

	struct health_checker *hc = start_checker(b, 100, 100);
	test_assert(WAIT_FOR(is_down(b, "starting") && is_down(b, "garbage") &&
	                     is_down(b, "hang") && is_down(b, "refused")));
	test_assert(is_up(b, "ready"));
	test_assert(is_draining(b, "draining"));
	/* Down only after fall (2) bad results each (counted before they are given). */
	struct health_checker_stats st;
	health_checker_get_stats(hc, &st);
	test_assert(st.checks_failed >= 8);

	/* The request as the member sees it. */
	char expected[256];
	snprintf(expected, sizeof(expected),
	         "GET /health HTTP/1.1\r\nHost: %s\r\nUser-Agent: tandem-lb-health\r\n"
	         "Connection: close\r\n\r\n",
	         ready.address);
	pthread_mutex_lock(&ready.lock);
	test_assert_str_eq(ready.last_request, expected);
	pthread_mutex_unlock(&ready.lock);

	/* Coming back takes rise (2) good results; draining ends with the node's next answer. */
	backend_set_kind(&garbage, BK_READY);
	backend_set_kind(&draining, BK_READY);
	backend_set_kind(&starting, BK_DRAINING);
	test_assert(
	    WAIT_FOR(is_up(b, "garbage") && is_up(b, "draining") && is_draining(b, "starting")));
	test_assert(is_down(b, "hang") && is_down(b, "refused"));

	health_checker_get_stats(hc, &st);
	test_assert(st.checks >= 12);
	test_assert(st.checks_failed >= 8 && st.checks_failed < st.checks);

	health_checker_destroy(&hc);
	test_assert(hc == NULL);
	balancer_destroy(&b);
	backend_stop(&ready);
	backend_stop(&draining);
	backend_stop(&starting);
	backend_stop(&garbage);
	backend_stop(&hang);
}

/* Four hanging members and one good one: the good one's result comes at once, and the round
   takes one timeout, not four. */
static void test_hanging_members_do_not_delay_others(void)
{
	enum { HANGS = 4, TIMEOUT = 600 };
	struct backend ready, hang[HANGS];
	struct balancer *b = make_balancer(1, 1);
	char route[16];

	backend_start(&ready, BK_READY);
	for (int i = 0; i < HANGS; i++) {
		backend_start(&hang[i], BK_HANG);
		snprintf(route, sizeof(route), "hang-%d", i);
		add(b, route, hang[i].address, BALANCER_READY);
	}
	add(b, "ready", ready.address, BALANCER_READY);

	uint64_t t0 = clock_mono_ms();
	struct health_checker *hc = start_checker(b, 60000, TIMEOUT);
	test_assert(WAIT_FOR(rounds(hc) >= 1));
	struct health_checker_stats st;
	health_checker_get_stats(hc, &st);
	/* Sequential checks would take HANGS * TIMEOUT. Generous slack: the machine is shared. */
	test_assert(st.last_round_ms >= TIMEOUT - 50);
	test_assert(st.last_round_ms < TIMEOUT * 3);
	test_assert_int_eq(st.checks, HANGS + 1);
	test_assert_int_eq(st.checks_failed, HANGS);

	struct balancer_member_info good = info_of(b, "ready");
	test_assert(good.last_check_ok && good.healthy);
	/* Given to the balancer as soon as it was in, not at the end of the round. */
	test_assert(good.last_check_ms != 0 && good.last_check_ms < t0 + TIMEOUT - 100);
	for (int i = 0; i < HANGS; i++) {
		snprintf(route, sizeof(route), "hang-%d", i);
		test_assert(is_down(b, route));
		test_assert(info_of(b, route).last_check_ms >= t0 + TIMEOUT - 50);
	}

	health_checker_destroy(&hc);
	balancer_destroy(&b);
	backend_stop(&ready);
	for (int i = 0; i < HANGS; i++)
		backend_stop(&hang[i]);
}

static void test_stop_is_prompt(void)
{
	struct backend hang;
	struct balancer *b = make_balancer(1, 1);

	backend_start(&hang, BK_HANG);
	add(b, "hang", hang.address, BALANCER_READY);

	/* In the middle of a round: a check waiting on a 30 s timeout. */
	struct health_checker *hc = start_checker(b, 60000, 30000);
	test_assert(WAIT_FOR(backend_connections(&hang) >= 1));
	uint64_t t0 = clock_mono_ms();
	health_checker_stop(hc);
	test_assert(clock_mono_ms() - t0 < 1000);
	/* The abandoned check gave no result and holds no reference. */
	test_assert_int_eq(info_of(b, "hang").last_check_ms, 0);
	test_assert_int_eq(rounds(hc), 0);

	/* Between rounds: the next is a minute away. */
	backend_set_kind(&hang, BK_READY);
	const char *error = NULL;
	test_assert(health_checker_start(hc, &error) == 0);
	test_assert(WAIT_FOR(rounds(hc) >= 1));
	t0 = clock_mono_ms();
	health_checker_destroy(&hc);
	test_assert(clock_mono_ms() - t0 < 1000);

	/* The balancer can go: no reference is left behind (asserted by balancer_destroy). */
	balancer_destroy(&b);
	backend_stop(&hang);
}

static void test_disabled_members_are_not_contacted(void)
{
	struct backend on, off;
	struct balancer *b = make_balancer(1, 1);

	backend_start(&on, BK_READY);
	backend_start(&off, BK_READY);
	add(b, "on", on.address, BALANCER_READY);
	add(b, "off", off.address, BALANCER_DISABLED);

	struct health_checker *hc = start_checker(b, 100, 100);
	test_assert(WAIT_FOR(rounds(hc) >= 3 && backend_connections(&on) >= 3));
	test_assert_int_eq(backend_connections(&off), 0);
	test_assert_int_eq(info_of(b, "off").last_check_ms, 0);

	/* maint is still checked: the operator sees the node healthy before enabling it. */
	test_assert(balancer_set_state(b, STRV_LIT("off"), BALANCER_MAINT) == 0);
	health_checker_check_now(hc);
	test_assert(WAIT_FOR(backend_connections(&off) >= 1));
	test_assert(WAIT_FOR(info_of(b, "off").last_check_ok));

	health_checker_destroy(&hc);
	balancer_destroy(&b);
	backend_stop(&on);
	backend_stop(&off);
}

static void test_check_now_and_settings(void)
{
	struct backend a, late;
	struct balancer *b = make_balancer(1, 1);

	backend_start(&a, BK_READY);
	backend_start(&late, BK_READY);
	add(b, "a", a.address, BALANCER_READY);

	struct health_checker *hc = start_checker(b, 60000, 1000);
	test_assert(WAIT_FOR(rounds(hc) >= 1));

	/* A member added later is checked at once when asked, not a minute later. */
	add(b, "late", late.address, BALANCER_READY);
	health_checker_check_now(hc);
	test_assert(WAIT_FOR(backend_connections(&late) >= 1 && info_of(b, "late").last_check_ok));

	/* New settings apply from the next round. */
	struct health_settings set = {"/health?deep=1", 60000, 1000, "lb.example"};
	health_checker_set_settings(hc, &set);
	unsigned before = backend_connections(&a);
	uint64_t r = rounds(hc);
	health_checker_check_now(hc);
	test_assert(WAIT_FOR(rounds(hc) > r && backend_connections(&a) > before));
	pthread_mutex_lock(&a.lock);
	test_assert_str_eq(a.last_request,
	                   "GET /health?deep=1 HTTP/1.1\r\nHost: lb.example\r\n"
	                   "User-Agent: tandem-lb-health\r\nConnection: close\r\n\r\n");
	pthread_mutex_unlock(&a.lock);

	/* A shorter interval takes effect without waiting out the old one. */
	struct health_settings fast = {"/health", 50, 50, NULL};
	health_checker_set_settings(hc, &fast);
	r = rounds(hc);
	test_assert(WAIT_FOR(rounds(hc) >= r + 3));

	health_checker_destroy(&hc);
	balancer_destroy(&b);
	backend_stop(&a);
	backend_stop(&late);
}

/* A route removed and added again while its check hangs: the late result belongs to the old
   member and must not count against the new one. */
static void test_result_for_replaced_member_is_dropped(void)
{
	struct backend hang;
	struct balancer *b = make_balancer(1, 1);

	backend_start(&hang, BK_HANG);
	add(b, "x", hang.address, BALANCER_READY);
	add(b, "gone", hang.address, BALANCER_READY);

	struct health_checker *hc = start_checker(b, 60000, 1000);
	test_assert(WAIT_FOR(backend_connections(&hang) >= 2));
	test_assert(balancer_remove(b, STRV_LIT("x")) == 0);
	test_assert(balancer_remove(b, STRV_LIT("gone")) == 0);
	add(b, "x", hang.address, BALANCER_READY);
	test_assert(WAIT_FOR(rounds(hc) >= 1));

	struct balancer_member_info info = info_of(b, "x");
	test_assert(info.healthy);
	test_assert_int_eq(info.last_check_ms, 0);

	health_checker_destroy(&hc);
	balancer_destroy(&b);
	backend_stop(&hang);
}

/* A member that never stops talking is cut off at HEALTH_RESPONSE_MAX, and one announced by
   an IPv6 literal is reached through its brackets. */
static void *flood_main(void *arg)
{
	int lfd = *(int *)arg;
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	if (poll(&pfd, 1, WAIT_MS) <= 0)
		return NULL;
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	static char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
	if (send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL) > 0) {
		for (int i = 0; i < 16; i++) {
			if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
				break;
		}
	}
	close(fd);
	return NULL;
}

static void test_oversized_response_and_ipv6(void)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(sin6);
	struct balancer *b = make_balancer(1, 1);
	char address[64];
	pthread_t t;

	int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
		printf("  (no IPv6 loopback: skipped)\n");
		if (lfd >= 0)
			close(lfd);
		balancer_destroy(&b);
		return;
	}
	test_assert(listen(lfd, 4) == 0);
	test_assert(getsockname(lfd, (struct sockaddr *)&sin6, &len) == 0);
	snprintf(address, sizeof(address), "[::1]:%u", ntohs(sin6.sin6_port));
	add(b, "flood", address, BALANCER_READY);
	test_assert(pthread_create(&t, NULL, flood_main, &lfd) == 0);

	struct health_checker *hc = start_checker(b, 60000, 2000);
	test_assert(WAIT_FOR(rounds(hc) >= 1));
	struct balancer_member_info info = info_of(b, "flood");
	test_assert(info.last_check_ms != 0 && !info.last_check_ok && !info.healthy);

	health_checker_destroy(&hc);
	pthread_join(t, NULL);
	close(lfd);
	balancer_destroy(&b);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"response_parse", test_response_parse},
	    {"states_after_rise_and_fall", test_states_after_rise_and_fall},
	    {"hanging_members_do_not_delay_others", test_hanging_members_do_not_delay_others},
	    {"stop_is_prompt", test_stop_is_prompt},
	    {"disabled_members_are_not_contacted", test_disabled_members_are_not_contacted},
	    {"check_now_and_settings", test_check_now_and_settings},
	    {"result_for_replaced_member_is_dropped", test_result_for_replaced_member_is_dropped},
	    {"oversized_response_and_ipv6", test_oversized_response_and_ipv6},
	    {NULL, NULL},
	};
	return test_run(cases);
}
