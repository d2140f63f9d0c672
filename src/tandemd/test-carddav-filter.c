/* SPDX-License-Identifier: MIT */
/* addressbook-query's filter on card texts: the collations' folding, the match types,
   negation, parameters (4.0 TYPE=, 3.0 bare, quoted lists), folded lines and groups,
   anyof/allof. */
#include <string.h>

#include "api-carddav-filter.h"
#include "test.h"

static const char card[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Zo\xc3\xab \xce\xa9mega\r\n"
                           "item1.EMAIL;TYPE=\"work,pref\":zoe@example.org\r\n"
                           "TEL;CELL;VOICE:+1 555\r\n NOTE-LIKE\r\n"
                           "NOTE:line\\none\\, two\r\nEND:VCARD\r\n";

static const char *fold(const char *s, enum carddav_collation c, struct buf *b)
{
	carddav_fold(s, strlen(s), c, b);
	buf_append_char(b, '\0');
	return b->data;
}

static void test_fold(void)
{
	struct buf b;
	buf_init(&b, 1024);
	test_assert_str_eq(fold("Zo\xc3\x8b \xce\xa9MEGA \xd0\x96", CARDDAV_UNICODE_CASEMAP, &b),
	                   "zo\xc3\xab \xcf\x89mega \xd0\xb6");
	test_assert_str_eq(fold("\xc5\xbd\xc4\x8c", CARDDAV_UNICODE_CASEMAP, &b),
	                   "\xc5\xbe\xc4\x8d");
	test_assert_str_eq(fold("Zo\xc3\x8b", CARDDAV_ASCII_CASEMAP, &b), "zo\xc3\x8b");
	test_assert_str_eq(fold("AbC", CARDDAV_OCTET, &b), "AbC");
	test_assert_str_eq(fold("bad \xff\xc3", CARDDAV_UNICODE_CASEMAP, &b), "bad \xff\xc3");
	buf_free(&b);
}

/* Whether one prop-filter (name, one text-match of its own or a param-filter) passes. */
static bool one(const char *prop, const char *text, enum carddav_match_type m, bool negate,
                const char *param)
{
	struct carddav_text_match tm = {text, strlen(text), CARDDAV_UNICODE_CASEMAP, m, negate};
	struct carddav_param_filter pf = {param, false, &tm};
	struct carddav_prop_filter p = {.name = prop};
	if (param != NULL) {
		p.params = &pf;
		p.param_count = 1;
	} else {
		p.texts = &tm;
		p.text_count = 1;
	}
	struct carddav_filter f = {false, &p, 1};
	struct carddav_filter_scratch scratch = {0};
	bool r = carddav_filter_match(&f, &scratch, card, strlen(card));
	carddav_filter_scratch_free(&scratch);
	return r;
}

static void test_matches(void)
{
	test_assert(one("FN", "zo\xc3\xab", CARDDAV_STARTS_WITH, false, NULL));
	test_assert(one("FN", "\xcf\x89mega", CARDDAV_ENDS_WITH, false, NULL));
	test_assert(!one("FN", "zo\xc3\xab", CARDDAV_EQUALS, false, NULL));
	test_assert(one("email", "example", CARDDAV_CONTAINS, false, NULL)); /* group, case */
	test_assert(!one("EMAIL", "example", CARDDAV_CONTAINS, true, NULL));
	test_assert(one("TEL", "555note-like", CARDDAV_ENDS_WITH, false, NULL)); /* unfolded */
	test_assert(one("NOTE", "line\none, two", CARDDAV_EQUALS, false, NULL)); /* unescaped */
	test_assert(one("EMAIL", "pref", CARDDAV_EQUALS, false, "TYPE"));
	test_assert(one("TEL", "cell", CARDDAV_EQUALS, false, "TYPE")); /* 3.0 bare */
	test_assert(!one("TEL", "cell", CARDDAV_EQUALS, true, "TYPE"));
	test_assert(one("TEL", "fax", CARDDAV_EQUALS, true, "TYPE"));
	test_assert(!one("ADR", "", CARDDAV_CONTAINS, false, NULL));
}

static void test_combinations(void)
{
	struct carddav_prop_filter p[2] = {{.name = "NICKNAME", .is_not_defined = true},
	                                   {.name = "ORG"}};
	struct carddav_filter f = {false, p, 2};
	struct carddav_filter_scratch s = {0};
	test_assert(carddav_filter_match(&f, &s, card, strlen(card)));
	f.allof = true;
	test_assert(!carddav_filter_match(&f, &s, card, strlen(card)));
	f.count = 0;
	test_assert(carddav_filter_match(&f, &s, card, strlen(card)));
	carddav_filter_scratch_free(&s);
}

/* One scratch over several cards (as a query uses it): nothing of one card stays for the
   next; a property name cut by a fold is still found, lines of other names skipped. */
static void test_scratch_and_skipped_lines(void)
{
	static const char folded[] = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u2\r\nFN:Bob\r\n"
	                             "NICK\r\n NAME:Bobby\r\nNOTE:a\r\n  long note\r\n"
	                             "END:VCARD\r\n";
	struct carddav_text_match tm = {"bobby", 5, CARDDAV_UNICODE_CASEMAP, CARDDAV_EQUALS, false};
	struct carddav_prop_filter p = {.name = "NICKNAME", .texts = &tm, .text_count = 1};
	struct carddav_filter f = {false, &p, 1};
	struct carddav_filter_scratch s = {0};
	test_assert(carddav_filter_match(&f, &s, folded, strlen(folded)));
	test_assert(!carddav_filter_match(&f, &s, card, strlen(card)));
	test_assert(carddav_filter_match(&f, &s, folded, strlen(folded)));
	p.is_not_defined = true;
	p.text_count = 0;
	test_assert(carddav_filter_match(&f, &s, card, strlen(card)));
	test_assert(!carddav_filter_match(&f, &s, folded, strlen(folded)));
	carddav_filter_scratch_free(&s);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"fold", test_fold},
	    {"matches", test_matches},
	    {"combinations", test_combinations},
	    {"scratch and skipped lines", test_scratch_and_skipped_lines},
	    {NULL, NULL},
	};
	return test_run(cases);
}
