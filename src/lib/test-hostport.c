/* SPDX-License-Identifier: MIT */
/* Unit tests for the one "host:port" parser and resolver. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "hostport.h"
#include "test.h"

static void test_good(void)
{
	static const struct {
		const char *s;
		unsigned flags;
		const char *host;
		unsigned port;
		const char *port_text; /* NULL: left out */
	} good[] = {
	    {"localhost:8080", 0, "localhost", 8080, "8080"},
	    {"127.0.0.1:1", 0, "127.0.0.1", 1, "1"},
	    {"[::1]:65535", 0, "::1", 65535, "65535"},
	    {"[fe80::1%eth0]:80", 0, "fe80::1%eth0", 80, "80"},
	    {"[host]:80", 0, "host", 80, "80"},
	    {"h:00080", 0, "h", 80, "00080"},
	    {"h:0", HOSTPORT_PORT_ZERO, "h", 0, "0"},
	    {"h", HOSTPORT_PORT_OPTIONAL, "h", 7, NULL},
	    {"[::1]", HOSTPORT_PORT_OPTIONAL, "::1", 7, NULL},
	    {"h:9", HOSTPORT_PORT_OPTIONAL, "h", 9, "9"},
	    {"\xc3\xa9t\xc3\xa9:1", 0, "\xc3\xa9t\xc3\xa9", 1, "1"}, /* bytes >= 0x80 pass */
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct hostport hp;
		const char *error = NULL;
		test_set_context(good[i].s);
		test_assert_int_eq(
		    hostport_parse(strv_from_cstr(good[i].s), good[i].flags, 7, &hp, &error),
		    HOSTPORT_OK);
		test_assert_str_eq(hp.host, good[i].host);
		test_assert_int_eq(hp.port, good[i].port);
		if (good[i].port_text == NULL)
			test_assert(hp.port_text.ptr == NULL);
		else
			test_assert(strv_eq_cstr(hp.port_text, good[i].port_text));
	}
	test_set_context(NULL);
}

static void test_bad(void)
{
	static const struct {
		const char *s;
		unsigned flags;
		enum hostport_result result;
		const char *error;
	} bad[] = {
	    {"", 0, HOSTPORT_ERROR, "expected host:port or [v6]:port"},
	    {"", HOSTPORT_PORT_OPTIONAL, HOSTPORT_ERROR, "host is missing"},
	    {"host", 0, HOSTPORT_ERROR, "expected host:port or [v6]:port"},
	    {":80", 0, HOSTPORT_ERROR, "host is missing"},
	    {"[]:80", 0, HOSTPORT_ERROR, "host is missing"},
	    {"::1:80", 0, HOSTPORT_ERROR, "IPv6 addresses need brackets, e.g. [::1]:8080"},
	    {"::1", HOSTPORT_PORT_OPTIONAL, HOSTPORT_ERROR,
	     "IPv6 addresses need brackets, e.g. [::1]:8080"},
	    {"[::1", 0, HOSTPORT_ERROR, "unterminated IPv6 address"},
	    {"[::1]80", 0, HOSTPORT_ERROR, "expected [v6]:port"},
	    {"[::1]", 0, HOSTPORT_ERROR, "expected [v6]:port"},
	    {"[::1]x", HOSTPORT_PORT_OPTIONAL, HOSTPORT_ERROR, "expected [v6] or [v6]:port"},
	    {"a b:80", 0, HOSTPORT_ERROR, "host contains an invalid character"},
	    {"a/b:1", 0, HOSTPORT_ERROR, "host contains an invalid character"},
	    {"a\x7f:1", 0, HOSTPORT_ERROR, "host contains an invalid character"},
	    {"[a]b]:1", 0, HOSTPORT_ERROR, "expected [v6]:port"},
	    {"host:", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host:0", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host:65536", HOSTPORT_PORT_ZERO, HOSTPORT_BAD_PORT, "expected a port number 0-65535"},
	    {"host:123456", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host:000080", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host:-1", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host:+80", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host: 80", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"host:8a", 0, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	    {"h:", HOSTPORT_PORT_OPTIONAL, HOSTPORT_BAD_PORT, "expected a port number 1-65535"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hostport hp;
		const char *error = NULL;
		test_set_context(bad[i].s);
		test_assert_int_eq(
		    hostport_parse(strv_from_cstr(bad[i].s), bad[i].flags, 7, &hp, &error),
		    bad[i].result);
		test_assert_str_eq(error, bad[i].error);
	}
	test_set_context(NULL);

	/* The port a caller quotes in its own message. */
	struct hostport hp;
	const char *error;
	test_assert_int_eq(hostport_parse(STRV_LIT("h:99x"), 0, 0, &hp, &error), HOSTPORT_BAD_PORT);
	test_assert(strv_eq_cstr(hp.port_text, "99x"));

	/* Exactly HOSTPORT_HOST_MAX bytes fit; one more does not. */
	char name[HOSTPORT_HOST_MAX + 8];
	memset(name, 'a', HOSTPORT_HOST_MAX);
	memcpy(name + HOSTPORT_HOST_MAX, ":1", 3);
	test_assert_int_eq(hostport_parse(strv_from_cstr(name), 0, 0, &hp, &error), HOSTPORT_OK);
	test_assert_int_eq(strlen(hp.host), HOSTPORT_HOST_MAX);
	memset(name, 'a', HOSTPORT_HOST_MAX + 1);
	memcpy(name + HOSTPORT_HOST_MAX + 1, ":1", 3);
	test_assert_int_eq(hostport_parse(strv_from_cstr(name), 0, 0, &hp, &error), HOSTPORT_ERROR);
	test_assert_str_eq(error, "host name too long");

	/* Not NUL-terminated: only the view's bytes count. */
	test_assert_int_eq(hostport_parse(strv_make("h:80junk", 4), 0, 0, &hp, &error),
	                   HOSTPORT_OK);
	test_assert_int_eq(hp.port, 80);
}

static void test_resolve(void)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	const char *error = NULL;
	char text[INET6_ADDRSTRLEN];

	test_assert_int_eq(hostport_resolve_first("127.0.0.1:8080", &ss, &len, &error), 0);
	test_assert_int_eq(ss.ss_family, AF_INET);
	test_assert_int_eq(len, sizeof(struct sockaddr_in));
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	test_assert_int_eq(ntohs(sin->sin_port), 8080);
	test_assert_str_eq(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)), "127.0.0.1");

	test_assert_int_eq(hostport_resolve_first("[::1]:9", &ss, &len, &error), 0);
	test_assert_int_eq(ss.ss_family, AF_INET6);
	test_assert_int_eq(ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port), 9);

	/* A name: localhost is in every /etc/hosts. */
	struct addrinfo *res = NULL;
	test_assert_int_eq(hostport_resolve("localhost", 80, &res, &error), 0);
	test_assert(res != NULL);
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		test_assert(ai->ai_family == AF_INET || ai->ai_family == AF_INET6);
	freeaddrinfo(res);

	/* The parse error comes through; .invalid never resolves (RFC 6761). */
	test_assert_int_eq(hostport_resolve_first("localhost", &ss, &len, &error), -1);
	test_assert_str_eq(error, "expected host:port or [v6]:port");
	error = NULL;
	test_assert_int_eq(hostport_resolve_first("no-such-host.invalid:80", &ss, &len, &error),
	                   -1);
	test_assert(error != NULL && error[0] != '\0');
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"good", test_good},
	    {"bad", test_bad},
	    {"resolve", test_resolve},
	    {NULL, NULL},
	};
	return test_run(cases);
}
