/* SPDX-License-Identifier: MIT */
/* vCard 3.0 ⇄ 4.0: what each rule does, the result valid for vcard_parse with the same
   columns, long lines folded, and a round trip that keeps what both versions have. */
#include <stdio.h>
#include <string.h>

#include "pool.h"
#include "test.h"
#include "vcard-convert.h"
#include "vcard.h"

static struct pool *pool;

static const char *convert(const char *text, const char *from, const char *to)
{
	const char *out;
	size_t len;
	test_assert_str_eq(vcard_version_of(pool, text, strlen(text)), from);
	vcard_convert(pool, text, strlen(text), to, &out, &len);
	test_assert_int_eq(strlen(out), len);
	return out;
}

static void assert_parses(const char *text, const char *version, struct vcard_info *info)
{
	char error[300] = "";
	int r = vcard_parse(pool, text, strlen(text), info, error, sizeof(error));
	if (r != 0)
		test_assert_str_eq(error, "");
	test_assert_str_eq(info->version, version);
}

static const char v3[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u3\r\nFN:Hans M\xc3\xbcller\r\n"
                         "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Hans;;;\r\n"
                         "TEL;WORK;VOICE;TYPE=pref:+49 30 1234\r\n"
                         "item1.EMAIL;type=INTERNET,work:hans@example.de\r\n"
                         "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\n"
                         "X-GENDER:M\r\nMAILER:Old\r\nEND:VCARD\r\n";

static void test_three_to_four(void)
{
	const char *out = convert(v3, "3.0", "4.0");
	struct vcard_info info;
	assert_parses(out, "4.0", &info);
	test_assert_str_eq(info.uid, "u3");
	test_assert_str_eq(info.n, "M\xc3\xbcller;Hans");
	test_assert_str_eq(info.emails, "hans@example.de");
	test_assert(strstr(out, "N:M\xc3\xbcller;Hans;;;\r\n") != NULL);
	test_assert(strstr(out, "TEL;TYPE=WORK,VOICE;PREF=1:+49 30 1234\r\n") != NULL);
	test_assert(strstr(out, "item1.EMAIL;TYPE=work:hans@example.de\r\n") != NULL);
	test_assert(strstr(out, "PHOTO:data:image/jpeg;base64,/9j/4AAQ\r\n") != NULL);
	test_assert(strstr(out, "GENDER:M\r\n") != NULL);
	test_assert(strstr(out, "MAILER") == NULL && strstr(out, "CHARSET") == NULL);
}

static const char v4[] = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:1\r\nFN:Ada Lovelace\r\n"
                         "KIND:individual\r\nCLIENTPIDMAP:1;urn:uuid:x\r\n"
                         "TEL;VALUE=uri;TYPE=\"voice,cell\";PREF=1;PID=1.1:tel:+44-20-1\r\n"
                         "PHOTO:data:image/png;base64,iVBORw0K\r\n"
                         "LOGO:https://example.com/logo.png\r\nEND:VCARD\r\n";

static void test_four_to_three(void)
{
	const char *out = convert(v4, "4.0", "3.0");
	struct vcard_info info;
	assert_parses(out, "3.0", &info);
	test_assert_str_eq(info.fn, "Ada Lovelace");
	test_assert_str_eq(info.phones, "+44-20-1");
	test_assert(strstr(out, "TEL;TYPE=voice,cell,pref:+44-20-1\r\n") != NULL);
	test_assert(strstr(out, "PHOTO;ENCODING=b;TYPE=PNG:iVBORw0K\r\n") != NULL);
	test_assert(strstr(out, "LOGO;VALUE=uri:https://example.com/logo.png\r\n") != NULL);
	test_assert(strstr(out, "X-ADDRESSBOOKSERVER-KIND:individual\r\n") != NULL);
	test_assert(strstr(out, "N:;;;;\r\nEND:VCARD\r\n") != NULL); /* 3.0 wants an N */
	test_assert(strstr(out, "CLIENTPIDMAP") == NULL && strstr(out, "PID=") == NULL);
}

static void test_round_trip_and_folding(void)
{
	char note[400] = "NOTE:";
	for (size_t i = 5; i < 300; i++)
		note[i] = i % 7 == 0 ? ' ' : 'x';
	char card[800];
	snprintf(card, sizeof(card),
	         "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:r1\r\nFN:Round\r\nN:Trip;Round;;;\r\n%s\r\n"
	         "EMAIL;TYPE=home:r@example.org\r\nEND:VCARD\r\n",
	         note);
	const char *three = convert(card, "4.0", "3.0");
	const char *back = convert(three, "3.0", "4.0");
	struct vcard_info a, b;
	assert_parses(card, "4.0", &a);
	assert_parses(back, "4.0", &b);
	test_assert_str_eq(a.n, b.n);
	test_assert_str_eq(a.emails, b.emails);
	for (const char *l = back; *l != '\0';) {
		const char *e = strstr(l, "\r\n");
		test_assert(e != NULL && e - l <= 75);
		l = e + 2;
	}
	test_assert(strcmp(convert(card, "4.0", "4.0"), card) == 0);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"three_to_four", test_three_to_four},
	    {"four_to_three", test_four_to_three},
	    {"round_trip_and_folding", test_round_trip_and_folding},
	    {NULL, NULL},
	};
	pool = pool_create(0);
	int r = test_run(cases);
	pool_destroy(&pool);
	return r;
}
