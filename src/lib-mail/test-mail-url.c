/* SPDX-License-Identifier: MIT */
/* mail_url_parse: the accepted forms and a clear refusal of everything else. */
#include <string.h>

#include "mail-url.h"
#include "test.h"

static void test_accepted(void)
{
	struct mail_url u;
	const char *error = NULL;
	test_assert(mail_url_parse("imap://mail.example.com", MAIL_URL_IMAP, &u, &error) == 0);
	test_assert_str_eq(u.host, "mail.example.com");
	test_assert_int_eq(u.port, 143);
	test_assert(!u.tls);
	test_assert(mail_url_parse("imaps://127.0.0.1:1993/", MAIL_URL_IMAP, &u, &error) == 0);
	test_assert_str_eq(u.host, "127.0.0.1");
	test_assert_int_eq(u.port, 1993);
	test_assert(u.tls);
	test_assert(mail_url_parse("imaps://[::1]", MAIL_URL_IMAP, &u, &error) == 0);
	test_assert_str_eq(u.host, "::1");
	test_assert_int_eq(u.port, 993);
}

static void test_smtp(void)
{
	struct mail_url u;
	const char *error = NULL;
	test_assert(mail_url_parse("submission://mx", MAIL_URL_SMTP, &u, &error) == 0);
	test_assert_int_eq(u.port, 587);
	test_assert(u.starttls && !u.tls);
	test_assert(mail_url_parse("smtps://mx:2465", MAIL_URL_SMTP, &u, &error) == 0);
	test_assert_int_eq(u.port, 2465);
	test_assert(u.tls);
	test_assert(mail_url_parse("smtp://mx", MAIL_URL_SMTP, &u, &error) == 0);
	test_assert_int_eq(u.port, 25);
	test_assert(mail_url_parse("imap://mx", MAIL_URL_SMTP, &u, &error) < 0);
	test_assert(strstr(error, "submission://") != NULL);
	test_assert(mail_url_parse("smtp://mx", MAIL_URL_IMAP, &u, &error) < 0);
}

static void test_refused(void)
{
	static const char *const bad[] = {
	    "",
	    "imap:/x",
	    "http://x",
	    "imap://",
	    "imap://:1",
	    "imap://h:0",
	    "imap://h:65536",
	    "imap://h:",
	    "imap://h:1x",
	    "imap://u@h",
	    "imap://h/INBOX",
	    "imap://[::1",
	    "imap://[]",
	    "imap://[zz]",
	    "imap://h?x",
	    "imap://h:123456",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mail_url u;
		const char *error = NULL;
		test_set_context(bad[i]);
		test_assert(mail_url_parse(bad[i], MAIL_URL_IMAP, &u, &error) < 0);
		test_assert(error != NULL && strlen(error) > 10);
	}
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"accepted", test_accepted},
	    {"refused", test_refused},
	    {"smtp", test_smtp},
	    {NULL, NULL},
	};
	return test_run(cases);
}
