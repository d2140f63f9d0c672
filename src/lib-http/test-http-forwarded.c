/* SPDX-License-Identifier: MIT */
/* Unit tests for the client address behind trusted proxies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-forwarded.h"
#include "http-parser.h"
#include "mem.h"
#include "test.h"

#define MAX_FIELDS 8

static struct cidr trusted[4];
static size_t trusted_count;

static void trust(const char *list)
{
	const char *error;
	trusted_count = 0;
	if (cidr_parse_list(list, trusted, 4, &trusted_count, &error) < 0)
		test__fail(__FILE__, __LINE__, error);
}

/* The client as text, "peer:" before it when the peer was taken, "bad:" when malformed. */
static const char *client_of(const char *peer_text, const struct http_header *h, size_t n)
{
	static char out[80];
	char addr[CIDR_TEXT_MAX];
	struct cidr_addr peer, client;
	const char *error = NULL;
	if (cidr_addr_parse(strv_from_cstr(peer_text), &peer) < 0)
		return "(bad peer)";
	enum http_forwarded_source src =
	    http_forwarded_client(h, n, &peer, trusted, trusted_count, &client, &error);
	cidr_addr_format(&client, addr);
	snprintf(out, sizeof(out), "%s%s",
	         src == HTTP_FORWARDED_PEER        ? "peer:"
	         : src == HTTP_FORWARDED_MALFORMED ? "bad:"
	                                           : "",
	         addr);
	if ((src == HTTP_FORWARDED_MALFORMED) != (error != NULL))
		return "(error_r wrong)";
	return out;
}

/* fields: X-Forwarded-For values separated by '\n'; other header fields as "Name: value". */
static const char *client(const char *peer, const char *fields)
{
	struct http_header h[MAX_FIELDS];
	size_t n = 0;
	const char *p = fields;
	while (p != NULL && n < MAX_FIELDS) {
		const char *nl = strchr(p, '\n');
		struct strv line = nl != NULL ? strv_make(p, (size_t)(nl - p)) : strv_from_cstr(p);
		ptrdiff_t colon = strv_find_char(line, ':');
		if (colon > 0 && line.ptr[0] >= 'A' && line.ptr[0] <= 'Z' && line.ptr[1] != ':') {
			h[n].name = strv_make(line.ptr, (size_t)colon);
			h[n].value =
			    strv_trim(strv_make(line.ptr + colon + 1, line.len - colon - 1));
		} else {
			h[n].name = STRV_LIT("X-Forwarded-For");
			h[n].value = line;
		}
		n++;
		p = nl != NULL ? nl + 1 : NULL;
	}
	return client_of(peer, h, fields == NULL ? 0 : n);
}

static void test_untrusted_peer(void)
{
	trust("");
	test_assert_str_eq(client("192.0.2.7", "203.0.113.1"), "peer:192.0.2.7");
	trust("10.0.0.0/8");
	test_assert_str_eq(client("192.0.2.7", "203.0.113.1"), "peer:192.0.2.7");
	test_assert_str_eq(client("192.0.2.7", "garbage"), "peer:192.0.2.7");
	test_assert_str_eq(client("10.0.0.1", NULL), "peer:10.0.0.1");
}

static void test_walk_from_the_right(void)
{
	trust("127.0.0.1/32, 10.0.0.0/8");
	test_assert_str_eq(client("127.0.0.1", "203.0.113.5"), "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "198.51.100.1, 203.0.113.5"), "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.1.1.1"),
	                   "203.0.113.5");
	/* what the client wrote itself is never read */
	test_assert_str_eq(client("127.0.0.1", "garbage, [::1]:80, 203.0.113.5, 10.1.1.1"),
	                   "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "10.9.9.9, 203.0.113.5"), "203.0.113.5");
	/* every address trusted: the left-most began it */
	test_assert_str_eq(client("127.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
	test_assert_str_eq(client("127.0.0.1", "127.0.0.1"), "127.0.0.1");
	test_assert_str_eq(client("10.0.0.1", "2001:DB8::1"), "2001:db8::1");
	test_assert_str_eq(client("10.0.0.1", "::ffff:203.0.113.9"), "203.0.113.9");
	/* empty elements and blanks */
	test_assert_str_eq(client("127.0.0.1", " , ,203.0.113.5 ,, "), "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "\t203.0.113.5\t"), "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", " , "), "peer:127.0.0.1");
	test_assert_str_eq(client("127.0.0.1", ""), "peer:127.0.0.1");
}

static void test_fields(void)
{
	trust("127.0.0.1/32, 10.0.0.0/8");
	/* several fields are one list, in order */
	test_assert_str_eq(client("127.0.0.1", "198.51.100.9\n203.0.113.5, 10.0.0.1"),
	                   "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "198.51.100.9\n10.0.0.1"), "198.51.100.9");
	test_assert_str_eq(client("127.0.0.1", "198.51.100.9\n\n10.0.0.1\n"), "198.51.100.9");
	/* name case does not matter; other fields are not X-Forwarded-For */
	test_assert_str_eq(client("127.0.0.1", "X-FORWARDED-FOR: 203.0.113.5"), "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "X-Real-Ip: 203.0.113.5\n"
	                                       "Forwarded: for=203.0.113.6\n"
	                                       "X-Forwarded-Host: 203.0.113.7"),
	                   "peer:127.0.0.1");
}

static void test_malformed(void)
{
	trust("127.0.0.1/32, 10.0.0.0/8");
	static const char *const bad[] = {
	    "203.0.113.5:8080", "[2001:db8::1]",   "unknown",        "203.0.113.5 10.0.0.1",
	    "203.0.113.05",     "_hidden",         "203.0.113.5;",   "for=203.0.113.5",
	    "2001:db8::1%eth0", "\"203.0.113.5\"", "203.0.113.5/32",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert_str_eq(client("127.0.0.1", bad[i]), "bad:127.0.0.1");
	}
	/* a bad entry a trusted proxy stands for; the one the walk stops at decides */
	test_assert_str_eq(client("127.0.0.1", "203.0.113.5, unknown"), "bad:127.0.0.1");
	test_assert_str_eq(client("127.0.0.1", "unknown, 203.0.113.5"), "203.0.113.5");
	test_assert_str_eq(client("127.0.0.1", "203.0.113.5\nx"), "bad:127.0.0.1");
	const char *error = NULL;
	struct http_header h = {STRV_LIT("X-Forwarded-For"), STRV_LIT("a:b:c")};
	struct cidr_addr peer, out;
	cidr_addr_parse(STRV_LIT("127.0.0.1"), &peer);
	test_assert(http_forwarded_client(&h, 1, &peer, trusted, trusted_count, &out, &error) ==
	            HTTP_FORWARDED_MALFORMED);
	test_assert_str_eq(error, "X-Forwarded-For entry \"a:b:c\" is not an IP address");
}

/* One list cut into fields at its commas, every way for four elements, is the same list. */
static void test_split_across_fields(void)
{
	static const char *const lists[] = {
	    "198.51.100.1, 203.0.113.5 ,10.0.0.3, 127.0.0.1",
	    "garbage,203.0.113.5,10.0.0.3,127.0.0.1",
	    "10.0.0.9,10.0.0.8,10.0.0.7,127.0.0.1",
	    "198.51.100.1,unknown,10.0.0.3,127.0.0.1",
	};
	trust("127.0.0.1/32, 10.0.0.0/8");
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		char whole[80], expect[80];
		snprintf(whole, sizeof(whole), "%s", lists[l]);
		snprintf(expect, sizeof(expect), "%s", client("127.0.0.1", whole));
		/* each of the 3 commas either stays or becomes a field boundary */
		for (unsigned mask = 0; mask < 8; mask++) {
			char cut[80];
			unsigned comma = 0;
			snprintf(cut, sizeof(cut), "%s", whole);
			for (char *p = cut; *p != '\0'; p++) {
				if (*p == ',' && (mask & (1u << comma++)))
					*p = '\n';
			}
			test_set_context(cut);
			test_assert_str_eq(client("127.0.0.1", cut), expect);
		}
	}
}

/* Every prefix of a value, alone in an allocation of its exact size: a read past the view
   is an ASan report, and the answer is one of the three outcomes. Random cuts do the same
   in pieces. */
static void test_prefixes_and_random_cuts(void)
{
	static const char value[] =
	    " 198.51.100.1 , 2001:db8::17,203.0.113.5 , , 10.0.0.3,127.0.0.1, ";
	trust("127.0.0.1/32, 10.0.0.0/8");
	for (size_t len = 0; len <= sizeof(value) - 1; len++) {
		char *copy = mem_alloc(len > 0 ? len : 1);
		memcpy(copy, value, len);
		struct http_header h = {STRV_LIT("X-Forwarded-For"), strv_make(copy, len)};
		const char *got = client_of("127.0.0.1", &h, 1);
		test_assert(strncmp(got, "(", 1) != 0);
		mem_free(&copy);
	}
	for (int run = 0; run < 200; run++) {
		struct http_header h[MAX_FIELDS];
		char *pieces[MAX_FIELDS];
		size_t n = 0, off = 0, left = sizeof(value) - 1;
		while (left > 0 && n < MAX_FIELDS) {
			size_t take = n == MAX_FIELDS - 1 ? left : 1 + test_rand() % left;
			pieces[n] = mem_alloc(take);
			memcpy(pieces[n], value + off, take);
			h[n].name = STRV_LIT("X-Forwarded-For");
			h[n].value = strv_make(pieces[n], take);
			off += take;
			left -= take;
			n++;
		}
		test_assert(strncmp(client_of("127.0.0.1", h, n), "(", 1) != 0);
		for (size_t i = 0; i < n; i++)
			mem_free(&pieces[i]);
	}
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"untrusted peer", test_untrusted_peer},
	    {"walk from the right", test_walk_from_the_right},
	    {"several fields", test_fields},
	    {"malformed", test_malformed},
	    {"split across fields", test_split_across_fields},
	    {"prefixes and random cuts", test_prefixes_and_random_cuts},
	    {NULL, NULL},
	};
	return test_run(cases);
}
