/* SPDX-License-Identifier: MIT */
/* mail_utf7_encode/decode: RFC 3501's examples, non-BMP characters, and the malformed forms
   decode refuses. */
#include <string.h>

#include "mail-utf7.h"
#include "test.h"

static const struct {
	const char *utf8, *mutf7;
} pairs[] = {
    {"INBOX", "INBOX"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-"}, /* 台北 */
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"}, /* RFC 3501 §5.1.3 */
    {"A&B", "A&-B"},
    {"&", "&-"},
    {"Entw\xc3\xbcrfe 2026", "Entw&APw-rfe 2026"},
    {"\xf0\x9f\x93\xa7 Mail", "&2D3c5w- Mail"}, /* 📧: a surrogate pair */
    {"Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente"},
    {"\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-"},
    {"", ""},
};

static void test_round_trip(void)
{
	struct pool *pool = pool_create(1024);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char out[MAIL_UTF7_MAX];
		const char *error = NULL;
		test_set_context(pairs[i].mutf7);
		test_assert(mail_utf7_encode(pairs[i].utf8, out, sizeof(out), &error) == 0);
		test_assert_str_eq(out, pairs[i].mutf7);
		const char *back = mail_utf7_decode(pool, pairs[i].mutf7, &error);
		test_assert(back != NULL);
		test_assert_str_eq(back, pairs[i].utf8);
	}
	pool_destroy(&pool);
}

static void test_encode_refused(void)
{
	static const char *const bad[] = {
	    "ab\xff",
	    "\xc3",
	    "\xc0\xaf" /* overlong "/" */,
	    "\xed\xa0\x80" /* surrogate */,
	    "\xf4\x90\x80\x80" /* > U+10FFFF */,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[64];
		const char *error = NULL;
		test_assert(mail_utf7_encode(bad[i], out, sizeof(out), &error) < 0);
		test_assert_str_eq(error, "not valid UTF-8");
	}
	char small[8];
	const char *error = NULL;
	test_assert(mail_utf7_encode("\xc3\xa4\xc3\xb6\xc3\xbc", small, sizeof(small), &error) < 0);
	test_assert_str_eq(error, "too long");
}

static void test_decode_refused(void)
{
	static const struct {
		const char *in, *error;
	} bad[] = {
	    {"&U,BTFw", "unterminated \"&\""},
	    {"a&", "unterminated \"&\""},
	    {"&U,B!Fw-", "bad base64 after \"&\""},
	    {"&AGE-", "printable ASCII in base64 (not the shortest form)"}, /* "a" */
	    {"&AOQ-&APY-", "two base64 runs back to back (not the shortest form)"},
	    {"&AOR-", "bad base64 padding"},
	    {"&AO-", "bad base64 padding"},
	    {"&2D0-", "lone surrogate"},
	    {"&3DM-", "lone surrogate"},
	    {"&AAA-", "U+0000"},
	    {"Entw\xc3\xbcrfe", "a byte that is not printable ASCII"},
	    {"a\tb", "a byte that is not printable ASCII"},
	};
	struct pool *pool = pool_create(1024);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *error = NULL;
		test_set_context(bad[i].in);
		test_assert(mail_utf7_decode(pool, bad[i].in, &error) == NULL);
		test_assert_str_eq(error, bad[i].error);
	}
	pool_destroy(&pool);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"round_trip", test_round_trip},
	    {"encode_refused", test_encode_refused},
	    {"decode_refused", test_decode_refused},
	    {NULL, NULL},
	};
	return test_run(cases);
}
