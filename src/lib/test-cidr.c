/* SPDX-License-Identifier: MIT */
/* Unit tests for addresses and networks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cidr.h"
#include "test.h"

static bool parses(const char *s)
{
	struct cidr_addr a;
	return cidr_addr_parse(strv_from_cstr(s), &a) == 0;
}

static const char *round_trip(const char *s)
{
	static char out[CIDR_TEXT_MAX];
	struct cidr_addr a;
	if (cidr_addr_parse(strv_from_cstr(s), &a) < 0)
		return "(error)";
	cidr_addr_format(&a, out);
	return out;
}

static bool loopback(const char *s)
{
	struct cidr_addr a;
	return cidr_addr_parse(strv_from_cstr(s), &a) == 0 && cidr_addr_is_loopback(&a);
}

static void test_loopback(void)
{
	test_assert(loopback("127.0.0.1"));
	test_assert(loopback("127.255.0.9"));
	test_assert(loopback("::ffff:127.0.0.1"));
	test_assert(loopback("::1"));
	test_assert(!loopback("128.0.0.1"));
	test_assert(!loopback("10.0.0.1"));
	test_assert(!loopback("::2"));
	test_assert(!loopback("::"));
	test_assert(!loopback("2001:db8::1"));
}

static void test_addresses(void)
{
	test_assert_str_eq(round_trip("192.0.2.1"), "192.0.2.1");
	test_assert_str_eq(round_trip("::ffff:192.0.2.1"), "192.0.2.1");
	test_assert_str_eq(round_trip("2001:DB8:0:0::1"), "2001:db8::1");
	test_assert_str_eq(round_trip("::1"), "::1");
	test_assert_str_eq(round_trip("0.0.0.0"), "0.0.0.0");
	static const char *const bad[] = {
	    "",          " 1.2.3.4",          "1.2.3.4 ", "1.2.3",      "01.2.3.4",
	    "1.2.3.256", "1.2.3.4:80",        "[::1]",    "fe80::1%lo", "::1/128",
	    "unknown",   "1.2.3.4.5",         "::g",      "1..2.3",     "-1.2.3.4",
	    "0x1.2.3.4", "1:2:3:4:5:6:7:8:9", "1.2.3.4,", "_gateway",   "localhost",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert(!parses(bad[i]));
	}
	/* a view ends before the NUL and may contain one */
	struct cidr_addr a;
	test_assert(cidr_addr_parse(strv_make("10.0.0.12", 8), &a) == 0);
	test_assert(cidr_addr_parse(strv_make("10.0\0.0.1", 9), &a) < 0);
	char long_text[100];
	memset(long_text, '1', sizeof(long_text));
	test_assert(cidr_addr_parse(strv_make(long_text, sizeof(long_text)), &a) < 0);
}

static bool in(const char *list, const char *addr)
{
	struct cidr nets[8];
	size_t n = 0;
	const char *error;
	struct cidr_addr a;
	if (cidr_parse_list(list, nets, 8, &n, &error) < 0 ||
	    cidr_addr_parse(strv_from_cstr(addr), &a) < 0)
		return false;
	return cidr_match(nets, n, &a);
}

static void test_networks(void)
{
	test_assert(in("10.0.0.0/8", "10.255.0.1"));
	test_assert(!in("10.0.0.0/8", "11.0.0.1"));
	test_assert(in("127.0.0.1", "127.0.0.1"));
	test_assert(!in("127.0.0.1", "127.0.0.2"));
	test_assert(in("127.0.0.1/32, 10.0.0.0/8", "10.1.2.3"));
	test_assert(in("192.168.1.128/25", "192.168.1.200"));
	test_assert(!in("192.168.1.128/25", "192.168.1.100"));
	test_assert(in("0.0.0.0/0", "203.0.113.9"));
	test_assert(!in("0.0.0.0/0", "2001:db8::1"));
	test_assert(in("::/0", "203.0.113.9")); /* every address, IPv4 ones being mapped */
	test_assert(in("2001:db8::/32", "2001:db8:1::5"));
	test_assert(!in("2001:db8::/32", "2001:db9::5"));
	test_assert(in("10.0.0.0/8", "::ffff:10.9.9.9"));
	test_assert(!in("", "10.0.0.1"));

	struct cidr nets[2];
	size_t n = 0;
	const char *error = NULL;
	test_assert(cidr_parse_list("", nets, 2, &n, &error) == 0 && n == 0);
	test_assert(cidr_parse_list(" 10.0.0.0/8,,\t::1 ", nets, 2, &n, &error) == 0 && n == 2);
	test_assert(nets[0].prefix == 104 && nets[1].prefix == 128);
	test_assert(cidr_parse_list("1.2.3.4", nets, 2, &n, &error) < 0);
	test_assert_str_eq(error, "too many networks (at most 2)");

	static const char *const bad[] = {"10.0.0.1/8",   "10.0.0.0/33", "::/129",      "10.0.0.0/",
	                                  "10.0.0.0/08x", "/8",          "10.0.0.0/-1", "x/8",
	                                  "10.0.0.0/8/8", "::1/0128"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		test_set_context(bad[i]);
		test_assert(cidr_parse_list(bad[i], nets, 2, &n, &error) < 0);
	}
	n = 0;
	test_assert(cidr_parse_list("10.0.0.1/8", nets, 2, &n, &error) < 0);
	test_assert_str_eq(error, "\"10.0.0.1/8\" has host bits set past the prefix");
	test_assert(cidr_parse_list("10.0.0.0/33", nets, 2, &n, &error) < 0);
	test_assert_str_eq(error, "\"10.0.0.0/33\" is not an address or address/prefix");
}

static void test_mask(void)
{
	struct cidr_addr a, m;
	char out[CIDR_TEXT_MAX];
	cidr_addr_parse(STRV_LIT("2001:db8:1:2:3:4:5:6"), &a);
	m = cidr_addr_mask(&a, 64);
	cidr_addr_format(&m, out);
	test_assert_str_eq(out, "2001:db8:1:2::");
	cidr_addr_parse(STRV_LIT("192.0.2.77"), &a);
	m = cidr_addr_mask(&a, 96 + 24);
	cidr_addr_format(&m, out);
	test_assert_str_eq(out, "192.0.2.0");
	m = cidr_addr_mask(&a, 128);
	test_assert(memcmp(m.b, a.b, 16) == 0);
}

static void test_sockaddr(void)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct cidr_addr a, want;
	inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
	test_assert_int_eq(cidr_addr_from_sockaddr((struct sockaddr *)&in, &a), 0);
	cidr_addr_parse(STRV_LIT("192.0.2.7"), &want);
	test_assert(memcmp(a.b, want.b, 16) == 0);
	inet_pton(AF_INET6, "2001:db8::9", &in6.sin6_addr);
	test_assert_int_eq(cidr_addr_from_sockaddr((struct sockaddr *)&in6, &a), 0);
	cidr_addr_parse(STRV_LIT("2001:db8::9"), &want);
	test_assert(memcmp(a.b, want.b, 16) == 0);
	test_assert_int_eq(cidr_addr_from_sockaddr(&sa, &a), -1);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"addresses", test_addresses}, {"loopback", test_loopback}, {"networks", test_networks},
	    {"mask", test_mask},           {"sockaddr", test_sockaddr}, {NULL, NULL},
	};
	return test_run(cases);
}
