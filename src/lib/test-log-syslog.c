/* SPDX-License-Identifier: MIT */
/* Unit tests for the syslog sender: RFC 5424 formatting, RFC 6587 framing, URL and facility
   parsing, and delivery over loopback UDP and TCP with drops when nobody listens. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log-syslog.h"
#include "test.h"

/* 2026-12-04T16:40:00.123Z */
#define WALL_MS 1796402400123ULL

static void test_format(void)
{
	char out[LOG_SYSLOG_MSG_MAX];
	size_t n = log_syslog_format(out, sizeof(out), 16, LOG_SYSLOG_INFO, WALL_MS, "node1",
	                             "tandemd", 42, "access", "path=/x status=200", 18);
	test_assert_str_eq(out, "<134>1 2026-12-04T16:40:00.123Z node1 tandemd 42 access - path=/x "
	                        "status=200");
	test_assert_int_eq(n, strlen(out));

	/* empty fields are "-", SP and controls in header fields are not allowed, controls in
	   the message become spaces; PRI of kern.err is 3 */
	log_syslog_format(out, sizeof(out), 0, LOG_SYSLOG_ERR, WALL_MS, "", "a b", 1, NULL,
	                  "x\ny\tz", 5);
	test_assert_str_eq(out, "<3>1 2026-12-04T16:40:00.123Z - a_b 1 - - x y z");
	log_syslog_format(out, sizeof(out), 23, LOG_SYSLOG_DEBUG, WALL_MS, "h", "a", 1, "m", "", 0);
	test_assert_str_eq(out, "<191>1 2026-12-04T16:40:00.123Z h a 1 m - ");

	/* cut to fit, never inside a UTF-8 sequence */
	char small[64];
	const char *msg = "0123456789\xe2\x80\xa6\xe2\x80\xa6\xe2\x80\xa6";
	n = log_syslog_format(small, sizeof(small), 1, 6, WALL_MS, "h", "app", 7, "m", msg,
	                      strlen(msg));
	test_assert(n < sizeof(small));
	test_assert_int_eq(small[n], '\0');
	const char *body = strstr(small, " - ") + 3;
	test_assert(strncmp(body, "0123456789", strlen(body) < 10 ? strlen(body) : 10) == 0);
	size_t blen = strlen(body);
	test_assert(blen <= 10 || (blen - 10) % 3 == 0);

	char prefix[12];
	test_assert_int_eq(log_syslog_frame_prefix(prefix, 11), 3);
	test_assert(memcmp(prefix, "11 ", 3) == 0);
	test_assert_int_eq(log_syslog_frame_prefix(prefix, 2048), 5);
	test_assert(memcmp(prefix, "2048 ", 5) == 0);
}

static void test_parse(void)
{
	struct log_syslog_settings set;
	const char *error = NULL;
	unsigned f;

	test_assert_int_eq(log_syslog_parse_url("udp://127.0.0.1:5514", &set, &error), 0);
	test_assert_int_eq(set.transport, LOG_SYSLOG_UDP);
	test_assert_str_eq(set.host, "127.0.0.1");
	test_assert_int_eq(set.port, 5514);
	test_assert_int_eq(log_syslog_parse_url("tcp://[::1]:6514", &set, &error), 0);
	test_assert_int_eq(set.transport, LOG_SYSLOG_TCP);
	test_assert_str_eq(set.host, "::1");
	test_assert_int_eq(log_syslog_parse_url("tcp://logs.example.com", &set, &error), 0);
	test_assert_int_eq(set.port, 514);

	test_assert_int_eq(log_syslog_parse_url("http://h:1", &set, &error), -1);
	test_assert_str_eq(error, "expected udp://host:port or tcp://host:port");
	test_assert_int_eq(log_syslog_parse_url("udp://", &set, &error), -1);
	test_assert_int_eq(log_syslog_parse_url("udp://h:99999", &set, &error), -1);
	test_assert_int_eq(log_syslog_parse_url("udp://::1:514", &set, &error), -1);
	test_assert_int_eq(log_syslog_parse_url("tcp://[::1:514", &set, &error), -1);

	test_assert_int_eq(log_syslog_parse_facility("local0", &f, &error), 0);
	test_assert_int_eq(f, 16);
	test_assert_int_eq(log_syslog_parse_facility("daemon", &f, &error), 0);
	test_assert_int_eq(f, 3);
	test_assert_int_eq(log_syslog_parse_facility("local8", &f, &error), -1);
	test_assert(strstr(error, "local0-local7") != NULL);

	test_assert_int_eq(log_syslog_check_app_name("tandem-lb", &error), 0);
	test_assert_int_eq(log_syslog_check_app_name("", &error), -1);
	test_assert_int_eq(log_syslog_check_app_name("a b", &error), -1);
	test_assert_int_eq(
	    log_syslog_check_app_name("0123456789012345678901234567890123456789012345678", &error),
	    -1);
}

static int bound_socket(int type, uint16_t *port_r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);
	test_assert(fd >= 0);
	test_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	if (type == SOCK_STREAM)
		test_assert(listen(fd, 4) == 0);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, timeout_ms) == 1;
}

static struct log_syslog_settings settings(enum log_syslog_transport t, uint16_t port)
{
	struct log_syslog_settings set = {.transport = t, .port = port, .facility = 16};
	snprintf(set.host, sizeof(set.host), "127.0.0.1");
	snprintf(set.app_name, sizeof(set.app_name), "unit");
	return set;
}

static void test_udp(void)
{
	uint16_t port;
	int fd = bound_socket(SOCK_DGRAM, &port);
	struct log_syslog_settings set = settings(LOG_SYSLOG_UDP, port);
	struct log_syslog *s = log_syslog_start(&set);
	char got[LOG_SYSLOG_MSG_MAX + 1];

	log_syslog_send(s, LOG_SYSLOG_WARNING, "log", "hello udp", 9);
	test_assert(readable(fd, 5000));
	ssize_t n = recv(fd, got, sizeof(got) - 1, 0);
	test_assert(n > 0);
	got[n] = '\0';
	test_assert(strncmp(got, "<132>1 ", 7) == 0);
	test_assert(strstr(got, " unit ") != NULL);
	test_assert(strstr(got, " log - hello udp") != NULL);
	log_syslog_stop(&s, 1000);
	test_assert(s == NULL);
	close(fd);
}

/* Reads octet-counted frames from a TCP connection until count messages came. */
static void read_frames(int conn, unsigned count, const char *const *want)
{
	char buf[8192];
	size_t len = 0;
	unsigned seen = 0;

	while (seen < count) {
		test_assert(readable(conn, 5000));
		ssize_t n = recv(conn, buf + len, sizeof(buf) - len, 0);
		test_assert(n > 0);
		len += (size_t)n;
		for (;;) {
			char *sp = memchr(buf, ' ', len);
			if (sp == NULL)
				break;
			size_t mlen = 0;
			for (char *p = buf; p < sp; p++)
				mlen = mlen * 10 + (size_t)(*p - '0');
			size_t whole = (size_t)(sp - buf) + 1 + mlen;
			if (len < whole)
				break;
			test_assert(mlen > 0 && sp[1] == '<');
			test_assert(memmem(sp + 1, mlen, want[seen], strlen(want[seen])) != NULL);
			seen++;
			memmove(buf, buf + whole, len - whole);
			len -= whole;
		}
	}
}

static void test_tcp(void)
{
	uint16_t port;
	int lfd = bound_socket(SOCK_STREAM, &port);
	struct log_syslog_settings set = settings(LOG_SYSLOG_TCP, port);
	struct log_syslog *s = log_syslog_start(&set);
	static const char *const want[] = {"first", "second with\nnewline", "third"};

	log_syslog_send(s, LOG_SYSLOG_INFO, "log", "first", 5);
	log_syslog_send(s, LOG_SYSLOG_INFO, "log", "second with\nnewline", 19);
	int conn = accept(lfd, NULL, NULL);
	test_assert(conn >= 0);
	static const char *const want_read[] = {"first", "second with newline"};
	read_frames(conn, 2, want_read);

	/* the server goes away and comes back: the sender reconnects */
	close(conn);
	log_syslog_send(s, LOG_SYSLOG_INFO, "log", "third", 5);
	conn = accept(lfd, NULL, NULL);
	test_assert(conn >= 0);
	read_frames(conn, 1, want + 2);
	/* counted just after send() returns: the reader may be faster */
	for (uint64_t end = clock_mono_ms() + 5000;
	     log_syslog_sent(s) < 3 && clock_mono_ms() < end;)
		usleep(1000);
	test_assert_int_eq(log_syslog_sent(s), 3);
	log_syslog_stop(&s, 1000);
	close(conn);
	close(lfd);
}

static void test_drops_when_down(void)
{
	uint16_t port;
	int lfd = bound_socket(SOCK_STREAM, &port);
	close(lfd); /* nobody listens there now */
	struct log_syslog_settings set = settings(LOG_SYSLOG_TCP, port);
	struct log_syslog *s = log_syslog_start(&set);

	uint64_t t0 = clock_mono_ms();
	for (unsigned i = 0; i < LOG_SYSLOG_QUEUE + 100; i++)
		log_syslog_send(s, LOG_SYSLOG_INFO, "log", "x", 1);
	test_assert(clock_mono_ms() - t0 < 2000); /* never waits for the network */
	test_assert(log_syslog_dropped(s) >= 100);
	test_assert_int_eq(log_syslog_sent(s), 0);
	log_syslog_stop(&s, 0);
	log_syslog_send(NULL, LOG_SYSLOG_INFO, "log", "x", 1);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"format", test_format},
	    {"parse", test_parse},
	    {"udp", test_udp},
	    {"tcp", test_tcp},
	    {"drops_when_down", test_drops_when_down},
	    {NULL, NULL},
	};
	return test_run(cases);
}
