/* SPDX-License-Identifier: MIT */
/* smtp_client: libcurl's results mapped to refused (502) or down (503), and a server that is
   not there reported as down with its address. */
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp-client.h"
#include "test.h"

static void test_mapping(void)
{
	test_assert_int_eq(smtp_client_error_kind(CURLE_OK, 250), MAIL_OK);
	test_assert_int_eq(smtp_client_error_kind(CURLE_COULDNT_CONNECT, 0), MAIL_UNAVAILABLE);
	test_assert_int_eq(smtp_client_error_kind(CURLE_OPERATION_TIMEDOUT, 0), MAIL_UNAVAILABLE);
	test_assert_int_eq(smtp_client_error_kind(CURLE_LOGIN_DENIED, 535), MAIL_AUTH);
	/* RCPT answered 550, DATA answered 552: refused */
	test_assert_int_eq(smtp_client_error_kind(CURLE_SEND_ERROR, 550), MAIL_REFUSED);
	test_assert_int_eq(smtp_client_error_kind(CURLE_WEIRD_SERVER_REPLY, 452), MAIL_REFUSED);
	/* lost in the middle, no reply code: down */
	test_assert_int_eq(smtp_client_error_kind(CURLE_RECV_ERROR, 0), MAIL_UNAVAILABLE);
	test_assert_int_eq(smtp_client_error_kind(CURLE_SEND_ERROR, 250), MAIL_UNAVAILABLE);
}

/* A port that was free a moment ago: nobody listens there. */
static uint16_t closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	test_assert(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	test_assert(getsockname(s, (struct sockaddr *)&a, &len) == 0);
	close(s);
	return ntohs(a.sin_port);
}

static void test_down(void)
{
	struct mail_url url = {.host = "127.0.0.1", .port = closed_port()};
	struct smtp_client_settings set = {
	    .url = &url, .timeout_ms = 2000, .master_user = "m", .master_password = "p"};
	const char *rcpts[] = {"bob@example.com"};
	FILE *f = tmpfile();
	fputs("Subject: x\r\n\r\nbody\r\n", f);
	fflush(f);
	struct mail_error err = {0};
	test_assert(smtp_client_send(&set, "alice", "alice@example.com", rcpts, 1, fileno(f), 21,
	                             &err) < 0);
	test_assert_int_eq(err.kind, MAIL_UNAVAILABLE);
	test_assert(strstr(err.message, "127.0.0.1") != NULL);
	fclose(f);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"mapping", test_mapping},
	    {"down", test_down},
	    {NULL, NULL},
	};
	return test_run(cases);
}
