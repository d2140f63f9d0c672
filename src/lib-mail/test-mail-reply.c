/* SPDX-License-Identifier: MIT */
/* Reply and forward prefill: recipients (Reply-To, reply-all without the user, no duplicates,
   groups), one "Re: "/"Fwd: ", quoting, the forwarded header block, and HTML-only originals. */
#include <string.h>

#include "mail-reply.h"
#include "pool.h"
#include "test.h"

static struct pool *pool;

static const char original[] =
    "From: Bob B <bob@example.com>\r\n"
    "To: alice@example.com, \"Carol, C\" <carol@example.com>\r\n"
    "Cc: ALICE@example.com, dave@example.com, bob@example.com\r\n"
    "Subject: RE: re:  plans\r\n"
    "Date: Tue, 2 Jan 2024 10:00:00 +0100\r\nMessage-ID: <x@y>\r\n"
    "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
    "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nline one\r\n> old\r\n\r\nend\r\n"
    "--B\r\nContent-Type: application/pdf\r\n"
    "Content-Disposition: attachment; filename=a.pdf\r\n\r\nPDF\r\n--B--\r\n";

static struct mail_reply build(const char *text, enum mail_reply_kind kind)
{
	static const char *const self[] = {"alice@example.com"};
	struct mail_reply r;
	const char *error = NULL;
	test_assert(mail_reply_build(pool, text, strlen(text), kind, self, 1, &r, &error) == 0);
	return r;
}

static void test_reply(void)
{
	struct mail_reply r = build(original, MAIL_REPLY);
	test_assert_int_eq(r.to_count, 1);
	test_assert_str_eq(r.to[0], "Bob B <bob@example.com>");
	test_assert_int_eq(r.cc_count, 0);
	test_assert_str_eq(r.subject, "Re: plans");
	test_assert(strstr(r.text, "On Tue, 02 Jan 2024 10:00 +0100, Bob B <bob@example.com> "
	                           "wrote:\n> line one\n>> old\n>\n> end\n") != NULL);
}

static void test_reply_all(void)
{
	struct mail_reply r = build(original, MAIL_REPLY_ALL);
	test_assert_int_eq(r.to_count, 2);
	test_assert_str_eq(r.to[0], "Bob B <bob@example.com>");
	test_assert_str_eq(r.to[1], "\"Carol, C\" <carol@example.com>");
	test_assert_int_eq(r.cc_count, 1); /* alice (any case) and bob (in To) left out */
	test_assert_str_eq(r.cc[0], "dave@example.com");
}

static void test_reply_to_header(void)
{
	struct mail_reply r = build("From: a@example.com\r\nReply-To: list@example.com\r\n"
	                            "Subject: \r\n\r\nhi\r\n",
	                            MAIL_REPLY);
	test_assert_int_eq(r.to_count, 1);
	test_assert_str_eq(r.to[0], "list@example.com");
	test_assert_str_eq(r.subject, "Re: ");
	test_assert(strstr(r.text, "On an unknown date, a@example.com wrote:\n> hi\n") != NULL);
}

static void test_forward(void)
{
	struct mail_reply r = build(original, MAIL_FORWARD);
	test_assert_int_eq(r.to_count + r.cc_count, 0);
	test_assert_str_eq(r.subject, "Fwd: RE: re:  plans");
	test_assert(strstr(r.text, "---------- Forwarded message ----------\nFrom: Bob B "
	                           "<bob@example.com>\nDate: Tue, 02 Jan 2024 10:00 +0100\n"
	                           "Subject: RE: re:  plans\n") != NULL);
	test_assert(strstr(r.text, "\nline one\r\n> old\r\n") != NULL);
	test_assert_int_eq(r.view.attachment_count, 1);
	test_assert_str_eq(r.view.attachments[0].part, "2");
	test_assert_str_eq(mail_reply_subject(pool, "FWD:x", "Fwd: "), "Fwd: x");
}

static void test_html_only(void)
{
	struct mail_reply r = build(
	    "From: h@example.com\r\nSubject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	    "<html><head><title>T</title><style>p{}</style></head><body>"
	    "<p>Hello&nbsp;<b>you</b> &amp; &#228;&#x20AC;</p><script>x()</script>"
	    "<!-- c --><div>second\r\n   line</div>a&bogus;</body></html>\r\n",
	    MAIL_REPLY);
	test_assert(
	    strstr(r.text, "> Hello you & \xc3\xa4\xe2\x82\xac\n> second line\n> a&bogus;") !=
	    NULL);
	test_assert_str_eq(mail_reply_html_text(pool, "<a href='x'>t", 13), "t");
	test_assert_str_eq(mail_reply_html_text(pool, "x<scr", 5), "x");
	test_assert_str_eq(mail_reply_html_text(pool, "&#0;&#xD800;", 12),
	                   "\xef\xbf\xbd\xef\xbf\xbd");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"reply", test_reply},
	    {"reply_all", test_reply_all},
	    {"reply_to_header", test_reply_to_header},
	    {"forward", test_forward},
	    {"html_only", test_html_only},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int r = test_run(cases);
	pool_destroy(&pool);
	return r;
}
