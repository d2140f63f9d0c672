/* SPDX-License-Identifier: MIT */
/* mail_html_sanitize: what is kept (formatting, links, inline and data images, safe CSS),
   what goes (scripts, handlers, frames, forms, active URLs and CSS), remote images held
   back, the text rendering, and the depth and size limits. */
#include <string.h>

#include "mail-html.h"
#include "pool.h"
#include "test.h"

static struct pool *pool;

static const struct mail_html_cid cids[] = {
    {"logo@example.com", "/api/v1/mail/messages/INBOX/3/attachments/1.2"},
};

static struct mail_html_result clean(const char *html)
{
	struct mail_html_result r;
	mail_html_sanitize(pool, html, strlen(html), cids, 1, &r);
	test_assert(r.html != NULL && r.text != NULL);
	return r;
}

static void expect(const char *html, const char *want)
{
	test_set_context(html);
	test_assert_str_eq(clean(html).html, want);
}

static void test_kept(void)
{
	expect("<html><head><title>t</title><style>p{}</style></head><body>"
	       "<p align=center>a <b>b</b> <i>c</i></p><br><hr></body></html>",
	       "<p align=\"center\">a <b>b</b> <i>c</i></p><br/><hr/>");
	expect("<table border=1 cellpadding=2><tr><td colspan=2 bgcolor=#fff>x</td></tr></table>",
	       "<table border=\"1\" cellpadding=\"2\"><tr><td colspan=\"2\" "
	       "bgcolor=\"#fff\">x</td></tr></table>");
	expect("<ul><li>one<li>two</ul><font color=red face=Arial>f</font>",
	       "<ul><li>one</li><li>two</li></ul><font color=\"red\" face=\"Arial\">f</font>");
	/* entities decoded by the parser, written back escaped */
	expect("<p title='a\"b'>&lt;x&gt; &amp; &eacute;</p>",
	       "<p title=\"a&quot;b\">&lt;x&gt; &amp; \xc3\xa9</p>");
}

static void test_dropped(void)
{
	expect("<script>alert(1)</script><SCRIPT SRC=x></SCRIPT>ok", "<p>ok</p>");
	expect("a<iframe src=http://x>in</iframe><object data=x><embed src=y></object>b",
	       "<p>ab</p>");
	expect("<form action=http://x><input name=p><button>go</button>t</form>", "t");
	expect("<svg><script>alert(1)</script><a xlink:href=javascript:x>s</a></svg>z", "z");
	expect("<meta http-equiv=refresh content='0;url=http://x'><base href=http://x>"
	       "<link rel=stylesheet href=http://x/s.css>q",
	       "<p>q</p>");
	expect("<div onclick=alert(1) onmouseover='x' id=i class=c name=n>d</div>", "<div>d</div>");
	expect("<!-- <script>x</script> --><p>c</p><![CDATA[<script>y</script>]]>",
	       "<p>c</p>&lt;![CDATA[]]&gt;");
}

static void test_links(void)
{
	expect("<a href=\"https://e.org/?a=1&amp;b=2\">l</a>",
	       "<a href=\"https://e.org/?a=1&amp;b=2\" target=\"_blank\" "
	       "rel=\"noopener noreferrer\">l</a>");
	expect("<a href='  MAILTO:x@y'>m</a>",
	       "<a href=\"MAILTO:x@y\" target=\"_blank\" rel=\"noopener noreferrer\">m</a>");
	expect("<a href=javascript:alert(1)>j</a><a href='&#106;avascript:x'>e</a>"
	       "<a href=' jav&#x09;ascript:x'>t</a><a href=vbscript:x>v</a>"
	       "<a href='data:text/html,<script>'>d</a><a href=/rel>r</a>",
	       "<a>j</a><a>e</a><a>t</a><a>v</a><a>d</a><a>r</a>");
}

static void test_images(void)
{
	struct mail_html_result r = clean("<img src=\"cid:logo@example.com\" alt=L>"
	                                  "<img src=\"data:image/png;base64,iVBO\">"
	                                  "<img src=\"data:image/svg+xml,<svg onload=x>\">"
	                                  "<img src=cid:missing@x><img src=javascript:x>");
	test_assert_str_eq(r.html, "<img src=\"/api/v1/mail/messages/INBOX/3/attachments/1.2\" "
	                           "alt=\"L\"/><img src=\"data:image/png;base64,iVBO\"/>"
	                           "<img/><img/><img/>");
	test_assert(!r.remote_content);
	r = clean("<img src=\"https://track.example/p.gif?u=1\" width=1>");
	test_assert_str_eq(r.html, "<img data-tandem-src=\"https://track.example/p.gif?u=1\" "
	                           "width=\"1\"/>");
	test_assert(r.remote_content);
	/* cid: percent-encoded (RFC 2392) */
	r = clean("<img src=\"cid:logo%40example.com\">");
	test_assert(strstr(r.html, "attachments/1.2") != NULL);
}

static void test_css(void)
{
	expect("<p style=\"color: red; background: url(http://x/y); font-weight:bold\">s</p>",
	       "<p style=\"color: red; font-weight: bold\">s</p>");
	expect("<p style=\"width: expression(alert(1)); color: rgb(1, 2, 3)\">s</p>",
	       "<p style=\"color: rgb(1, 2, 3)\">s</p>");
	expect("<p style=\"color: red; background-color: \\75 rl(x); font-size: 1/**/2px\">s</p>",
	       "<p style=\"color: red\">s</p>");
	expect("<p style=\"behavior: url(x.htc); -moz-binding: url(x); @import 'x'; "
	       "position: fixed; color: blue\">s</p>",
	       "<p style=\"color: blue\">s</p>");
	expect("<p style=\"color: red&#59; x: y; font-family: 'A B', sans-serif\">s</p>",
	       "<p style=\"color: red; font-family: 'A B', sans-serif\">s</p>");
}

static void test_text(void)
{
	struct mail_html_result r = clean(
	    "<h1>Title</h1><p>one   two\n three</p><ul><li>a</li><li>b</li></ul>"
	    "line<br>next<pre>  keep\n  this</pre><table><tr><td>c1</td><td>c2</td></tr></table>");
	test_assert_str_eq(r.text, "Title\none two three\n* a\n* b\nline\nnext\n  keep\n  this\n"
	                           "c1 c2");
}

static void test_limits(void)
{
	/* 100,000 nested elements: no recursion, output well-formed and flattened */
	size_t n = 100000;
	char *deep = pool_alloc(pool, n * 5 + 2);
	for (size_t i = 0; i < n; i++)
		memcpy(deep + i * 5, "<div>", 5);
	memcpy(deep + n * 5, "x", 2);
	struct mail_html_result r;
	mail_html_sanitize(pool, deep, strlen(deep), cids, 1, &r);
	size_t opens = 0, closes = 0;
	for (const char *p = r.html; (p = strstr(p, "<div>")) != NULL; p++)
		opens++;
	for (const char *p = r.html; (p = strstr(p, "</div>")) != NULL; p++)
		closes++;
	test_assert(opens == closes && opens <= MAIL_HTML_DEPTH_MAX);
	/* invalid UTF-8 replaced; NUL bytes and a huge body do not break it */
	r = clean("ab\xff\xfe"
	          "cd");
	test_assert_str_eq(r.html, "<p>ab\xef\xbf\xbd\xef\xbf\xbd"
	                           "cd</p>");
	size_t big = MAIL_HTML_INPUT_MAX + 100;
	char *huge = pool_alloc(pool, big + 1);
	memset(huge, '<', big);
	huge[big] = '\0';
	mail_html_sanitize(pool, huge, big, cids, 1, &r);
	test_assert(r.truncated &&
	            strlen(r.html) <= MAIL_HTML_OUTPUT_MAX + 8 * MAIL_HTML_INPUT_MAX);
	r = clean("");
	test_assert_str_eq(r.html, "");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"kept", test_kept},     {"dropped", test_dropped},
	    {"links", test_links},   {"images", test_images},
	    {"css", test_css},       {"text", test_text},
	    {"limits", test_limits}, {NULL, NULL},
	};
	pool = pool_create(0);
	int r = test_run(cases);
	pool_destroy(&pool);
	return r;
}
