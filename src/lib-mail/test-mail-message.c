/* SPDX-License-Identifier: MIT */
/* mail_message_parse over the MIME shapes mail clients send: plain, alternative, nested mixed
   with attachments, non-UTF-8 charsets, encoded words, broken MIME and HTML only. */
#include <string.h>

#include "mail-message.h"
#include "pool.h"
#include "test.h"

static struct pool *pool;

static struct mail_message_view parse(const char *text)
{
	struct mail_message_view v;
	const char *error = NULL;
	test_assert(mail_message_parse(pool, text, strlen(text), &v, &error) == 0);
	return v;
}

static void test_plain_latin1(void)
{
	struct mail_message_view v =
	    parse("From: =?iso-8859-1?q?J=FCrgen?= <j@example.com>\r\n"
	          "To: a@example.com, \"Bob B\" <b@example.com>\r\n"
	          "Subject: =?utf-8?b?w6Rsb2hh?= there\r\n"
	          "Date: Tue, 2 Jan 2024 10:00:00 +0100\r\nMessage-ID: <x@y>\r\n"
	          "Content-Type: text/plain; charset=iso-8859-1\r\n"
	          "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n");
	test_assert_str_eq(v.subject, "\xc3\xa4loha there");
	test_assert(v.from != NULL && strstr(v.from, "J\xc3\xbcrgen") != NULL);
	test_assert(v.to != NULL && strstr(v.to, "Bob B") != NULL);
	test_assert_str_eq(v.message_id, "x@y");
	test_assert_int_eq(v.date, 1704186000);
	test_assert_str_eq(v.text, "Gr\xc3\xbc\xc3\x9f"
	                           "e\r\n");
	test_assert(!v.has_html && v.attachment_count == 0);
}

static void test_alternative_in_mixed(void)
{
	struct mail_message_view v =
	    parse("Subject: s\r\nMIME-Version: 1.0\r\n"
	          "Content-Type: multipart/mixed; boundary=OUT\r\n\r\n"
	          "--OUT\r\nContent-Type: multipart/alternative; boundary=IN\r\n\r\n"
	          "--IN\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe text\r\n"
	          "--IN\r\nContent-Type: text/html\r\n\r\n<p>the html</p>\r\n--IN--\r\n"
	          "--OUT\r\nContent-Type: application/pdf\r\n"
	          "Content-Disposition: attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf\r\n"
	          "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
	          "--OUT\r\nContent-Type: image/png; name=\"pic.png\"\r\n\r\nPNG\r\n"
	          "--OUT\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
	          "filename=notes.txt\r\n\r\nnot the body\r\n--OUT--\r\n");
	test_assert_str_eq(v.text, "the text"); /* the CRLF before a boundary is the boundary's */
	test_assert(v.has_html);
	test_assert_int_eq(v.attachment_count, 3);
	test_assert_str_eq(v.attachments[0].filename, "R\xc3\xa9sum\xc3\xa9.pdf");
	test_assert_str_eq(v.attachments[0].content_type, "application/pdf");
	test_assert(v.attachments[0].size > 0);
	test_assert_str_eq(v.attachments[1].filename, "pic.png");
	test_assert_str_eq(v.attachments[2].filename, "notes.txt");
}

static void test_broken_and_html_only(void)
{
	/* the closing boundary never comes */
	struct mail_message_view v =
	    parse("Subject: broken\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
	          "--B\r\nContent-Type: text/plain\r\n\r\nstill here\r\n");
	test_assert(v.text != NULL && strstr(v.text, "still here") != NULL);
	/* HTML only: sanitised, and rendered as text for a client that shows no HTML */
	v = parse("Subject: h\r\nContent-Type: text/html\r\n\r\n<b>hi</b><script>x()</script>\r\n");
	test_assert(v.has_html && !v.remote_content);
	test_assert_str_eq(v.html, "<b>hi</b>\r\n");
	test_assert_str_eq(v.text, "hi");
	/* a charset nobody knows: the text is still valid UTF-8 */
	v = parse("Content-Type: text/plain; charset=x-unknown\r\n\r\nab\xff\xfe"
	          "cd\r\n");
	test_assert(v.text != NULL && strstr(v.text, "ab") != NULL);
	/* no headers at all: GMime sees no message */
	const char *error = NULL;
	test_assert(mail_message_parse(pool, "just text", 9, &v, &error) < 0);
	test_assert(error != NULL);
}

/* multipart/related: the HTML's cid: image points at its part; a Windows-1252 HTML body is
   converted to UTF-8 */
static void test_related_cid(void)
{
	const char *m =
	    "Subject: r\r\nContent-Type: multipart/related; boundary=R\r\n\r\n"
	    "--R\r\nContent-Type: text/html; charset=windows-1252\r\n\r\n"
	    "<p>\x93hi\x94 <img src=\"cid:logo@x\"><img src=\"http://t.example/p.gif\"></p>\r\n"
	    "--R\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--R--\r\n";
	struct mail_message_view v;
	const char *error = NULL;
	test_assert(mail_message_read(pool, m, strlen(m),
	                              "/api/v1/mail/messages/INBOX/7/attachments/", &v,
	                              &error) == 0);
	test_assert_str_eq(v.html, "<p>\xe2\x80\x9chi\xe2\x80\x9d <img "
	                           "src=\"/api/v1/mail/messages/INBOX/7/attachments/2\"/><img "
	                           "data-tandem-src=\"http://t.example/p.gif\"/></p>");
	test_assert(v.remote_content);
	test_assert_str_eq(v.text, "\xe2\x80\x9chi\xe2\x80\x9d");
	/* without a URL prefix the inline image has no source */
	test_assert(mail_message_parse(pool, m, strlen(m), &v, &error) == 0);
	test_assert(v.html != NULL && strstr(v.html, "cid:") == NULL &&
	            strstr(v.html, "attachments") == NULL);
}

static void test_part_url(void)
{
	test_assert_str_eq(mail_message_part_url_prefix(pool, "Work/Caf\xc3\xa9 2", 12),
	                   "/api/v1/mail/messages/Work%2FCaf%C3%A9%202/12/attachments/");
}

static void test_utf8(void)
{
	test_assert(mail_utf8(pool, NULL) == NULL);
	test_assert_str_eq(mail_utf8(pool, "caf\xc3\xa9"), "caf\xc3\xa9");
	test_assert_str_eq(mail_utf8(pool, "ab\xff"
	                                   "c"),
	                   "ab\xef\xbf\xbd"
	                   "c");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"plain_latin1", test_plain_latin1},
	    {"alternative_in_mixed", test_alternative_in_mixed},
	    {"broken_and_html_only", test_broken_and_html_only},
	    {"related_cid", test_related_cid},
	    {"part_url", test_part_url},
	    {"utf8", test_utf8},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int r = test_run(cases);
	pool_destroy(&pool);
	return r;
}
