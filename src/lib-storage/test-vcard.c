/* SPDX-License-Identifier: MIT */
/* Unit tests for vcard.c: 3.0 and 4.0 cards, folding, quoted-printable, escapes, groups,
   refusals naming their problem, the photo and size limits, splitting files, building. */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "pool.h"
#include "test.h"
#include "vcard.h"

static struct pool *pool;
static char error[300];
static struct vcard_info info;

static int parse(const char *text)
{
	error[0] = '\0';
	return vcard_parse(pool, text, strlen(text), &info, error, sizeof(error));
}

static void test_v4(void)
{
	test_assert_int_eq(
	    parse("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:1\r\nFN:Ada "
	          "Lovelace\r\nN:Lovelace;Ada;;;\r\nEMAIL;TYPE=work:ada@example.com\r\n"
	          "EMAIL:ada@home.example\r\nTEL;VALUE=uri;TYPE=\"voice,cell\":tel:+44-"
	          "20-1\r\nORG:Analytical\\, Engines;Research\r\nBDAY:18151210\r\n"
	          "item1.X-ABLABEL:pet\r\nEND:VCARD\r\n"),
	    0);
	test_assert_str_eq(info.version, "4.0");
	test_assert_str_eq(info.uid, "urn:uuid:1");
	test_assert_str_eq(info.fn, "Ada Lovelace");
	test_assert_str_eq(info.n, "Lovelace;Ada");
	test_assert_str_eq(info.emails, "ada@example.com\nada@home.example");
	test_assert_str_eq(info.phones, "+44-20-1");
	test_assert_str_eq(info.org, "Analytical, Engines, Research");
	test_assert_str_eq(info.birthday, "18151210");
}

static void test_v3_folding_qp(void)
{
	/* LF line ends, a folded FN (space and tab), QP with a soft break, a bare 3.0 type,
	   a group, escapes */
	test_assert_int_eq(
	    parse("BEGIN:VCARD\nVERSION:3.0\nUID:abc-1\nFN:Jo\n hn\n\t Smith\n"
	          "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\nohn;;;\n"
	          "TEL;WORK;VOICE:+49 30 1\nitem1.EMAIL;type=INTERNET:john@example.com\n"
	          "NOTE:a\\nb\\;c\\\\\nEND:VCARD\n"),
	    0);
	test_assert_str_eq(info.version, "3.0");
	test_assert_str_eq(info.fn, "John Smith");
	test_assert_str_eq(info.n, "Müller;John");
	test_assert_str_eq(info.phones, "+49 30 1");
	test_assert_str_eq(info.emails, "john@example.com");
	/* 3.0 without FN: made from N */
	test_assert_int_eq(parse("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nN:Doe;Jane;;;\r\nEND:"
	                         "VCARD\r\n"),
	                   0);
	test_assert_str_eq(info.fn, "Jane Doe");
}

static void refused(const char *text, const char *want)
{
	test_set_context(text);
	test_assert_int_eq(parse(text), -1);
	if (strstr(error, want) == NULL) {
		fprintf(stderr, "error \"%s\" lacks \"%s\"\n", error, want);
		test_assert(false);
	}
}

#define V4(body) "BEGIN:VCARD\r\nVERSION:4.0\r\n" body "END:VCARD\r\n"

static void test_refusals(void)
{
	refused("", "BEGIN:VCARD");
	refused("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "starts with BEGIN:VCARD");
	refused("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:1\r\nFN:x\r\n", "no END:VCARD");
	refused("BEGIN:VCARD\r\nUID:1\r\nFN:x\r\nEND:VCARD\r\n", "VERSION is missing");
	refused("BEGIN:VCARD\r\nVERSION:2.1\r\nUID:1\r\nFN:x\r\nEND:VCARD\r\n", "2.1");
	refused(V4("FN:x\r\n"), "UID is missing");
	refused(V4("UID:1\r\n"), "FN is missing");
	refused(V4("UID:1\r\nUID:2\r\nFN:x\r\n"), "UID appears more than once");
	refused(V4("UID:1\r\nFN:x\r\n") "BEGIN:VCARD\r\nEND:VCARD\r\n", "after END:VCARD");
	refused(V4("UID:1\r\nFN:x\r\nBEGIN:VCARD\r\n"), "inside a card");
	refused(V4("UID:1\r\nFN:x\r\nNOCOLON\r\n"), "NAME[;PARAM");
	refused(V4("UID:1\r\nFN;TYPE=\"open:x\r\n"), "unterminated quoted");
	refused(V4("UID:1\r\nFN;CHARSET=ISO-8859-1:x\r\n"), "CHARSET");
	/* a quoted parameter value is read without its quotes */
	test_assert_int_eq(parse(V4("UID:1\r\nFN;CHARSET=\"UTF-8\";TYPE=\"a,b\",c:x\r\n")), 0);
	refused(V4("UID:1\r\nFN;ENCODING=QUOTED-PRINTABLE:x\r\n"), "not allowed in vCard 4.0");
	refused("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN;ENCODING=QUOTED-PRINTABLE:=ZZ\r\n"
	        "END:VCARD\r\n",
	        "quoted-printable");
	refused("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN;ENCODING=QUOTED-PRINTABLE:=FF\r\n"
	        "END:VCARD\r\n",
	        "not UTF-8");
	refused("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN;ENCODING=QUOTED-PRINTABLE:a=01b\r\n"
	        "END:VCARD\r\n",
	        "control character");
	refused(V4("UID:1\r\nFN:\xc3\x28\r\n"), "not UTF-8");
	refused(V4("UID:1\r\nFN:a\x01"
	           "b\r\n"),
	        "control character");
	test_assert_int_eq(vcard_parse(pool, V4("UID:1\r\nFN:a\0b\r\n"),
	                               sizeof(V4("UID:1\r\nFN:a\0b\r\n")) - 1, &info, error,
	                               sizeof(error)),
	                   -1);
	test_assert(strstr(error, "NUL") != NULL);
}

static void test_limits(void)
{
	size_t n = VCARD_PHOTO_MAX + 100;
	char *big = mem_alloc(n + 200);
	int len = snprintf(big, 200,
	                   "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN:x\r\nPHOTO;"
	                   "ENCODING=b;TYPE=JPEG:");
	memset(big + len, 'A', n);
	memcpy(big + len + n, "\r\nEND:VCARD\r\n", sizeof("\r\nEND:VCARD\r\n"));
	test_assert_int_eq(parse(big), VCARD_TOO_LARGE);
	test_assert(strstr(error, "PHOTO of") != NULL && strstr(error, "limit") != NULL);
	/* a photo within the limit, folded as clients do */
	memcpy(big + len + 1000, "\r\nEND:VCARD\r\n", sizeof("\r\nEND:VCARD\r\n"));
	test_assert_int_eq(parse(big), 0);
	test_assert(info.has_photo);
	mem_free(&big);
	test_assert_int_eq(vcard_parse(pool, "x", VCARD_MAX_SIZE + 1, &info, error, sizeof(error)),
	                   VCARD_TOO_LARGE);
	test_assert(strstr(error, "larger than the limit") != NULL);
}

static void test_split(void)
{
	const char *file = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n\r\n"
	                   "begin:vcard\nVERSION:3.0\nUID:b\nFN:B\nNOTE:x\n END:VCARD\nEND:VCARD\n";
	struct vcard_slice *cards;
	size_t count;
	test_assert_int_eq(
	    vcard_split(pool, file, strlen(file), 10, &cards, &count, error, sizeof(error)), 0);
	test_assert_int_eq(count, 2);
	test_assert_int_eq(
	    vcard_parse(pool, cards[1].text, cards[1].len, &info, error, sizeof(error)), 0);
	test_assert_str_eq(info.uid, "b");
	test_assert_int_eq(
	    vcard_split(pool, file, strlen(file), 1, &cards, &count, error, sizeof(error)), -1);
	test_assert(strstr(error, "more than 1 cards") != NULL);
	test_assert_int_eq(
	    vcard_split(pool, "hello\r\n", 7, 10, &cards, &count, error, sizeof(error)), -1);
}

static void test_build(void)
{
	const char *emails[] = {"a@example.com", NULL}, *phones[] = {"+1 555", NULL};
	struct vcard_fields f = {.uid = "u-1",
	                         .fn = "Émile, \"the\"; long name that needs folding because it is "
	                               "longer than seventy-five bytes ééé",
	                         .family = "Zola",
	                         .given = "Émile",
	                         .org = "Les Éditions",
	                         .emails = emails,
	                         .phones = phones};
	const char *text = vcard_build(pool, &f);
	test_assert_int_eq(parse(text), 0);
	test_assert_str_eq(info.fn, f.fn);
	test_assert_str_eq(info.n, "Zola;Émile");
	test_assert_str_eq(info.emails, "a@example.com");
	test_assert_str_eq(info.phones, "+1 555");
	for (const char *l = text; (l = strstr(l, "\r\n")) != NULL; l += 2) {
		const char *next = strstr(l + 2, "\r\n");
		test_assert(next == NULL || next - (l + 2) <= 76);
	}
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"v4", test_v4},
	    {"v3_folding_qp", test_v3_folding_qp},
	    {"refusals", test_refusals},
	    {"limits", test_limits},
	    {"split", test_split},
	    {"build", test_build},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int ret = test_run(cases);
	pool_destroy(&pool);
	return ret;
}
