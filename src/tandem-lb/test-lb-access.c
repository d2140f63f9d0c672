/* SPDX-License-Identifier: MIT */
/* Tests of lb-access.c: path normalisation and per-path network rules. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lb-access.h"
#include "mem.h"
#include "test.h"

static const char *norm(const char *path)
{
	static char out[LB_ACCESS_PATH_MAX];
	if (!lb_access_normalise(strv_from_cstr(path), out, sizeof(out)))
		return "(malformed)";
	return out;
}

static void test_normalise(void)
{
	test_assert_str_eq(norm("/"), "/");
	test_assert_str_eq(norm("/admin"), "/admin");
	test_assert_str_eq(norm("/admin/"), "/admin/");
	test_assert_str_eq(norm("//admin"), "/admin");
	test_assert_str_eq(norm("/./admin/./v1"), "/admin/v1");
	test_assert_str_eq(norm("/api/../admin/v1"), "/admin/v1");
	test_assert_str_eq(norm("/%61dmin/v1"), "/admin/v1");
	test_assert_str_eq(norm("/admin;jsessionid=x.OX-1/v1"), "/admin/v1");
	test_assert_str_eq(norm("/a/%2e%2e/admin"), "/admin");
	test_assert_str_eq(norm("/.."), "(malformed)");
	test_assert_str_eq(norm("/admin%2fv1"), "(malformed)");
	test_assert_str_eq(norm("/admin%00"), "(malformed)");
	test_assert_str_eq(norm("/admin%5cv1"), "(malformed)");
	test_assert_str_eq(norm("/admin%zz"), "(malformed)");
	test_assert_str_eq(norm("/admin%4"), "(malformed)");
}

static struct sockaddr_in v4(const char *ip)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

static void test_rules(void)
{
	struct lb_cidr *admin_net, *all;
	size_t admin_n, all_n;
	const char *error;
	test_assert(lb_cidr_parse_list("10.1.0.0/16", &admin_net, &admin_n, &error) == 0);
	test_assert(lb_cidr_parse_list("0.0.0.0/0", &all, &all_n, &error) == 0);
	const struct lb_access_rule rules[] = {
	    {"/admin", admin_net, admin_n},
	    {"/admin/v1/public", all, all_n},
	};
	struct sockaddr_in inside = v4("10.1.2.3"), outside = v4("192.0.2.1");
	const struct sockaddr *in = (const struct sockaddr *)&inside;
	const struct sockaddr *out = (const struct sockaddr *)&outside;

	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin/v1/x"), in) == LB_ACCESS_ALLOWED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin/v1/x"), out) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin"), out) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("//admin"), out) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/%61dmin"), out) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/x/../admin"), out) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin;x=1"), out) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/administrator"), out) ==
	            LB_ACCESS_ALLOWED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/api/v1/login"), out) == LB_ACCESS_ALLOWED);
	/* the longest rule wins */
	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin/v1/public/x"), out) ==
	            LB_ACCESS_ALLOWED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin%2f"), in) == LB_ACCESS_MALFORMED);
	test_assert(lb_access_check(rules, 2, STRV_LIT("/admin"), NULL) == LB_ACCESS_DENIED);
	test_assert(lb_access_check(NULL, 0, STRV_LIT("/admin%2f"), out) == LB_ACCESS_ALLOWED);
	mem_free(&admin_net);
	mem_free(&all);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"normalise", test_normalise},
	    {"rules", test_rules},
	    {NULL, NULL},
	};
	return test_run(cases);
}
