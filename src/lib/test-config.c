/* SPDX-License-Identifier: MIT */
/* Unit tests for schema-checked INI configuration and the value parsers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static const struct config_key schema[] = {
    {"server", "listen", CONFIG_ADDRESS, "0.0.0.0:8080", false},
    {"server", "workers", CONFIG_UINT, "4", false},
    {"server", "name", CONFIG_STRING, NULL, false},
    {"server", "timeout", CONFIG_DURATION, "30s", false},
    {"server", "max_body", CONFIG_SIZE, "16M", false},
    {"server", "tls", CONFIG_BOOL, "off", false},
    {"server", "alias", CONFIG_STRING, NULL, true},
    {"server", "peer", CONFIG_ADDRESS, "127.0.0.1:9000", true},
    {"member *", "host", CONFIG_ADDRESS, NULL, false},
    {"member *", "weight", CONFIG_UINT, "1", false},
    {"log", "level", CONFIG_STRING, "info", false},
    {NULL, NULL, CONFIG_STRING, NULL, false},
};

static char path[64];

static void write_ini(const char *data, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/tandem-test-config-XXXXXX");
	fd = mkstemp(path);
	test_assert(fd >= 0);
	test_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static struct config *load_ok(const char *data)
{
	struct config *config = NULL;
	const char *error = NULL;

	write_ini(data, strlen(data));
	test_set_context(data);
	if (config_load(path, schema, &config, &error) < 0) {
		test__fail(__FILE__, __LINE__, error);
		config = NULL;
	}
	unlink(path);
	return config;
}

/* Loads data, which must fail with exactly expected; "@" in expected stands for the path. */
static void expect_error_len(int line, const char *data, size_t len, const char *expected)
{
	struct config *config = (struct config *)1;
	const char *error = NULL;
	char want[8192];
	size_t n = 0;

	write_ini(data, len);
	for (const char *p = expected; *p != '\0' && n + sizeof(path) < sizeof(want); p++) {
		if (*p == '@') {
			memcpy(want + n, path, strlen(path));
			n += strlen(path);
		} else {
			want[n++] = *p;
		}
	}
	want[n] = '\0';
	test_set_context(data);
	if (config_load(path, schema, &config, &error) == 0) {
		test__fail(__FILE__, line, "config_load succeeded");
		config_free(&config);
	} else {
		test__assert_str_eq(__FILE__, line, "error", error, want);
		test__assert_int_eq(__FILE__, line, "config", config == NULL, 1);
	}
	unlink(path);
}

#define expect_error(data, expected) expect_error_len(__LINE__, data, strlen(data), expected)

static void test_good_load(void)
{
	struct config *config = load_ok("# Tandem node\n"
	                                "[server]\n"
	                                "listen = [::1]:8443\n"
	                                "workers = 16 ; inline comment\n"
	                                "name = OX 1;not a comment\n"
	                                "timeout = 500ms\n"
	                                "max_body = 64K\n"
	                                "tls = Yes\n"
	                                "\n"
	                                "[log]\n"
	                                "; comment\n"
	                                "level: debug\n");
	char where[80];

	if (config == NULL)
		return;
	test_assert_str_eq(config_get_str(config, "server", "listen"), "[::1]:8443");
	test_assert_int_eq(config_get_uint(config, "server", "workers"), 16);
	test_assert_str_eq(config_get_str(config, "server", "name"), "OX 1;not a comment");
	test_assert_int_eq(config_get_duration_ms(config, "server", "timeout"), 500);
	test_assert_int_eq(config_get_size(config, "server", "max_body"), 65536);
	test_assert(config_get_bool(config, "server", "tls"));
	test_assert_str_eq(config_get_str(config, "log", "level"), "debug");
	test_assert(config_is_set(config, "server", "workers"));
	test_assert(!config_is_set(config, "server", "alias"));
	snprintf(where, sizeof(where), "%s:4", path);
	test_assert_str_eq(config_where(config, "server", "workers"), where);
	snprintf(where, sizeof(where), "%s:12", path);
	test_assert_str_eq(config_where(config, "log", "level"), where);
	test_assert(config_where(config, "server", "peer") == NULL);
	config_free(&config);
	test_assert(config == NULL);
	config_free(&config);
}

static void check_defaults(struct config *config)
{
	const char *const *all;
	size_t count = 99;

	test_assert_str_eq(config_get_str(config, "server", "listen"), "0.0.0.0:8080");
	test_assert_int_eq(config_get_uint(config, "server", "workers"), 4);
	test_assert(config_get_str(config, "server", "name") == NULL);
	test_assert_int_eq(config_get_duration_ms(config, "server", "timeout"), 30000);
	test_assert_int_eq(config_get_size(config, "server", "max_body"), 16 << 20);
	test_assert(!config_get_bool(config, "server", "tls"));
	test_assert(!config_is_set(config, "server", "workers"));
	test_assert(config_where(config, "server", "workers") == NULL);
	all = config_get_all(config, "server", "peer", &count);
	test_assert_int_eq(count, 1);
	if (count == 1)
		test_assert_str_eq(all[0], "127.0.0.1:9000");
	all = config_get_all(config, "server", "alias", &count);
	test_assert_int_eq(count, 0);
	test_assert(all != NULL);
	config_sections(config, "member", &count);
	test_assert_int_eq(count, 0);
	config_sections(config, "nothing", &count);
	test_assert_int_eq(count, 0);
	/* family keys fall back to their defaults for any member name */
	test_assert_int_eq(config_get_uint(config, "member X", "weight"), 1);
	test_assert(config_get_str(config, "member X", "host") == NULL);
}

static void test_defaults(void)
{
	struct config *config = config_defaults(schema);

	check_defaults(config);
	config_free(&config);
	config = load_ok("");
	if (config != NULL)
		check_defaults(config);
	config_free(&config);
	config = load_ok("; only a comment\n\n[server]\n");
	if (config != NULL)
		check_defaults(config);
	config_free(&config);
}

static void test_repeatable(void)
{
	struct config *config = load_ok("[server]\n"
	                                "alias = a\n"
	                                "peer = 10.0.0.1:1\n"
	                                "alias = b\n"
	                                "[log]\n"
	                                "[server]\n"
	                                "alias = c\n");
	const char *const *all;
	size_t count = 0;
	char where[80];

	if (config == NULL)
		return;
	all = config_get_all(config, "server", "alias", &count);
	test_assert_int_eq(count, 3);
	if (count == 3) {
		test_assert_str_eq(all[0], "a");
		test_assert_str_eq(all[1], "b");
		test_assert_str_eq(all[2], "c");
	}
	test_assert_str_eq(config_get_str(config, "server", "alias"), "c");
	snprintf(where, sizeof(where), "%s:7", path);
	test_assert_str_eq(config_where(config, "server", "alias"), where);
	/* each value keeps its own line */
	static const int lines[] = {2, 4, 7};
	for (size_t i = 0; i < 3; i++) {
		snprintf(where, sizeof(where), "%s:%d", path, lines[i]);
		test_assert_str_eq(config_where_nth(config, "server", "alias", i), where);
	}
	test_assert(config_where_nth(config, "server", "alias", 3) == NULL);
	test_assert(config_where_nth(config, "log", "level", 0) == NULL);
	/* values from the file replace the default rather than adding to it */
	all = config_get_all(config, "server", "peer", &count);
	test_assert_int_eq(count, 1);
	if (count == 1)
		test_assert_str_eq(all[0], "10.0.0.1:1");
	config_free(&config);
}

static void test_families(void)
{
	struct config *config = load_ok("[member OX-1]\n"
	                                "host = db1:3306\n"
	                                "weight = 3\n"
	                                "[member OX-2]\n"
	                                "[member OX-1]\n"
	                                "[member a b]\n"
	                                "host = [fe80::1]:1\n");
	const char *const *names;
	size_t count = 0;

	if (config == NULL)
		return;
	names = config_sections(config, "member", &count);
	test_assert_int_eq(count, 3);
	if (count == 3) {
		test_assert_str_eq(names[0], "member OX-1");
		test_assert_str_eq(names[1], "member OX-2");
		test_assert_str_eq(names[2], "member a b");
	}
	test_assert_str_eq(config_get_str(config, "member OX-1", "host"), "db1:3306");
	test_assert_int_eq(config_get_uint(config, "member OX-1", "weight"), 3);
	test_assert(config_get_str(config, "member OX-2", "host") == NULL);
	test_assert_int_eq(config_get_uint(config, "member OX-2", "weight"), 1);
	test_assert_str_eq(config_get_str(config, "member a b", "host"), "[fe80::1]:1");
	config_free(&config);

	expect_error("[member ]\n", "@:1: unknown section [member ]");
	expect_error("[member]\nhost = a:1\n", "@:1: unknown section [member]");
	expect_error("[member  x]\n", "@:1: unknown section [member  x]");
	expect_error("[memberx]\n", "@:1: unknown section [memberx]");
}

static void test_layout(void)
{
	/* indented lines are plain keys, never continuations of the previous value */
	struct config *config = load_ok("\xef\xbb\xbf[server]\r\n"
	                                "  workers = 3\r\n"
	                                "\ttls = on\r\n"
	                                "    [log]\r\n"
	                                "level=warn");

	if (config == NULL)
		return;
	test_assert_int_eq(config_get_uint(config, "server", "workers"), 3);
	test_assert(config_get_bool(config, "server", "tls"));
	test_assert_str_eq(config_get_str(config, "log", "level"), "warn");
	config_free(&config);

	config = load_ok("[server] ; the main section\nname =\n");
	if (config == NULL)
		return;
	test_assert_str_eq(config_get_str(config, "server", "name"), "");
	test_assert(config_is_set(config, "server", "name"));
	config_free(&config);
}

static void test_structure_errors(void)
{
	static const char nul_data[] = "[server]\nna\0me = 1\nworkers = 1\nworkers = 2\n";
	struct config *config;
	char data[600];
	size_t n;

	expect_error("[nope]\nx = 1\ny = 2\n", "@:1: unknown section [nope]");
	expect_error("[]\n", "@:1: unknown section []");
	expect_error("[server]\nwrkers = 4\n", "@:2: [server] wrkers: unknown key");
	expect_error("[server]\n = 4\n", "@:2: [server] : unknown key");
	expect_error("workers = 1\n[server]\n", "@:1: workers: key outside any section");
	expect_error("[server]\nworkers = 1\n\nworkers = 2\n",
	             "@:4: [server] workers: already set on line 2");
	expect_error("[server]\nworkers = 1\n[log]\n[server]\nworkers = 1\n",
	             "@:5: [server] workers: already set on line 2");
	expect_error("[server]\nworkers\n", "@:2: expected \"key = value\" or \"[section]\"");
	expect_error("[server]\nworkers ; = 3\n", "@:2: expected \"key = value\" or \"[section]\"");
	expect_error("[server\nworkers = 1\nbogus = 2\n", "@:1: section header is missing ']'");
	expect_error("[server ;]\n", "@:1: section header is missing ']'");
	expect_error("[server] extra\nworkers = x\n", "@:1: unexpected text after ']'");

	n = (size_t)snprintf(data, sizeof(data), "[server]\nname = %0250d\nworkers = x\n", 0);
	expect_error_len(__LINE__, data, n,
	                 "@:2: line longer than 198 characters\n"
	                 "@:3: [server] workers: expected a whole number, got \"x\"");
	/* the longest line that fits is accepted */
	n = (size_t)snprintf(data, sizeof(data), "[server]\nname = %0191d\n", 0);
	test_assert_int_eq(n, 9 + 198 + 1);
	config = load_ok(data);
	test_assert(config != NULL && strlen(config_get_str(config, "server", "name")) == 191);
	config_free(&config);
	n = (size_t)snprintf(data, sizeof(data), "[server]\nname = %0192d\n", 0);
	expect_error_len(__LINE__, data, n, "@:2: line longer than 198 characters");
	n = (size_t)snprintf(data, sizeof(data), "[member %050d]\nhost = x\n", 0);
	expect_error_len(__LINE__, data, n, "@:1: section name longer than 49 characters");
	expect_error_len(__LINE__, nul_data, sizeof(nul_data) - 1,
	                 "@:2: line contains a NUL byte\n"
	                 "@:4: [server] workers: already set on line 3");
}

static void test_value_errors(void)
{
	expect_error("[server]\nworkers = abc\n",
	             "@:2: [server] workers: expected a whole number, got \"abc\"");
	expect_error("[server]\nworkers = -1\n",
	             "@:2: [server] workers: expected a whole number, got \"-1\"");
	expect_error("[server]\nworkers =\n",
	             "@:2: [server] workers: expected a whole number, got \"\"");
	expect_error("[server]\nworkers = 18446744073709551616\n",
	             "@:2: [server] workers: number too large, got \"18446744073709551616\"");
	expect_error(
	    "[server]\ntls = maybe\n",
	    "@:2: [server] tls: expected true, false, yes, no, on, off, 1 or 0, got \"maybe\"");
	expect_error("[server]\ntimeout = 1.5s\n",
	             "@:2: [server] timeout: expected a whole number of ms, s, m, h, d or w, "
	             "got \"1.5s\"");
	expect_error("[server]\ntimeout = 5y\n",
	             "@:2: [server] timeout: unknown duration unit (use ms, s, m, h, d or w), "
	             "got \"5y\"");
	expect_error("[server]\ntimeout = -5s\n",
	             "@:2: [server] timeout: expected a duration such as 500ms, 30s, 5m, 2h, 1d or "
	             "1w, got \"-5s\"");
	expect_error("[server]\nmax_body = 1T\n",
	             "@:2: [server] max_body: unknown size unit (use K, M or G), got \"1T\"");
	expect_error("[server]\nlisten = localhost\n",
	             "@:2: [server] listen: expected host:port or [v6]:port, got \"localhost\"");
	expect_error("[member a]\nhost = ::1:80\n",
	             "@:2: [member a] host: IPv6 addresses need brackets, e.g. [::1]:8080, "
	             "got \"::1:80\"");
	/* several problems come back together, in line order */
	expect_error(
	    "[server]\n"
	    "workers = many\n"
	    "tls = 2\n"
	    "[bogus]\n"
	    "x = 1\n"
	    "[server]\n"
	    "workers = 2\n"
	    "junk\n",
	    "@:2: [server] workers: expected a whole number, got \"many\"\n"
	    "@:3: [server] tls: expected true, false, yes, no, on, off, 1 or 0, got \"2\"\n"
	    "@:4: unknown section [bogus]\n"
	    "@:8: expected \"key = value\" or \"[section]\"");
}

static void test_many_errors(void)
{
	static char data[64 * 1024];
	struct config *config = NULL;
	const char *error = NULL;
	size_t n = 0;

	n += (size_t)snprintf(data, sizeof(data), "[server]\n");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(data + n, sizeof(data) - n, "key%d = 1\n", i);
	write_ini(data, n);
	test_assert(config_load(path, schema, &config, &error) < 0);
	test_assert(config == NULL);
	test_assert(strlen(error) < 4096);
	test_assert(strncmp(error, path, strlen(path)) == 0);
	test_assert(strstr(error, ":2: [server] key0: unknown key\n") != NULL);
	test_assert(strstr(error, " more errors)") != NULL);
	test_assert(strstr(error, "key999") == NULL);
	unlink(path);
}

static void test_missing_file(void)
{
	struct config *config = (struct config *)1;
	const char *error = NULL;

	test_assert(config_load("/nonexistent/tandem.ini", schema, &config, &error) < 0);
	test_assert(config == NULL);
	test_assert_str_eq(error, "/nonexistent/tandem.ini: No such file or directory");
}

static void test_parse_duration(void)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
	    {"0", 0},         {"5", 5000},       {"500ms", 500},
	    {"5s", 5000},     {"2m", 120000},    {"1h", 3600000},
	    {"1d", 86400000}, {"1w", 604800000}, {"18446744073709551615ms", UINT64_MAX},
	};
	static const char *const bad[] = {
	    "",
	    "ms",
	    "-1s",
	    "1.5s",
	    "1 s",
	    "5S",
	    "5sec",
	    " 5s",
	    "1e3",
	    "+5",
	    "18446744073709551616ms",
	    "18446744073709551615s",
	    "30500000000000w",
	};
	const char *error;
	uint64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_set_context(good[i].s);
		ms = 1;
		test_assert(config_parse_duration_ms(good[i].s, &ms, &error) == 0);
		test_assert(ms == good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		error = NULL;
		test_assert(config_parse_duration_ms(bad[i], &ms, &error) < 0);
		test_assert(error != NULL);
	}
	test_set_context(NULL);
	test_assert(config_parse_duration_ms("18446744073709551615s", &ms, &error) < 0);
	test_assert_str_eq(error, "duration too large");
}

static void test_parse_size_bool_uint(void)
{
	const char *error;
	uint64_t v;
	bool b;

	test_assert(config_parse_size("0", &v, &error) == 0 && v == 0);
	test_assert(config_parse_size("4096", &v, &error) == 0 && v == 4096);
	test_assert(config_parse_size("64K", &v, &error) == 0 && v == 65536);
	test_assert(config_parse_size("16M", &v, &error) == 0 && v == 16u << 20);
	test_assert(config_parse_size("2G", &v, &error) == 0 && v == 2ull << 30);
	test_assert(config_parse_size("2g", &v, &error) == 0 && v == 2ull << 30);
	test_assert(config_parse_size("", &v, &error) < 0);
	test_assert(config_parse_size("K", &v, &error) < 0);
	test_assert(config_parse_size("1KB", &v, &error) < 0);
	test_assert(config_parse_size("1.5M", &v, &error) < 0);
	test_assert(config_parse_size("-1", &v, &error) < 0);
	test_assert(config_parse_size("17179869184G", &v, &error) < 0);
	test_assert_str_eq(error, "size too large");

	static const char *const yes[] = {"true", "TRUE", "yes", "On", "1"};
	static const char *const no[] = {"false", "No", "off", "OFF", "0"};
	for (size_t i = 0; i < 5; i++) {
		b = false;
		test_assert(config_parse_bool(yes[i], &b, &error) == 0 && b);
		b = true;
		test_assert(config_parse_bool(no[i], &b, &error) == 0 && !b);
	}
	test_assert(config_parse_bool("", &b, &error) < 0);
	test_assert(config_parse_bool("2", &b, &error) < 0);
	test_assert(config_parse_bool("yess", &b, &error) < 0);
	test_assert(config_parse_bool("t", &b, &error) < 0);

	test_assert(config_parse_uint("0", &v, &error) == 0 && v == 0);
	test_assert(config_parse_uint("18446744073709551615", &v, &error) == 0 && v == UINT64_MAX);
	test_assert(config_parse_uint("12 ", &v, &error) < 0);
	test_assert(config_parse_uint("0x10", &v, &error) < 0);
	test_assert(config_parse_uint("", &v, &error) < 0);
}

static void test_parse_address(void)
{
	static const struct {
		const char *s, *host;
		unsigned port;
	} good[] = {
	    {"127.0.0.1:80", "127.0.0.1", 80},
	    {"example.org:0", "example.org", 0},
	    {"h:65535", "h", 65535},
	    {"[::1]:8443", "::1", 8443},
	    {"[fe80::1%eth0]:1", "fe80::1%eth0", 1},
	    {"*:25", "*", 25},
	};
	static const char *const bad[] = {
	    "",        "host",    ":80",      "host:",    "host:65536", "host:123456",
	    "host:-1", "host:8a", "host: 80", "::1:80",   "[::1]80",    "[::1]",
	    "[]:80",   "[::1:80", "a b:80",   "host:+80", "a/b:1",
	};
	char host[64];
	char longhost[128];
	const char *error;
	uint16_t port;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_set_context(good[i].s);
		test_assert(config_parse_address(good[i].s, host, sizeof(host), &port, &error) ==
		            0);
		test_assert_str_eq(host, good[i].host);
		test_assert_int_eq(port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		error = NULL;
		test_assert(config_parse_address(bad[i], host, sizeof(host), &port, &error) < 0);
		test_assert(error != NULL);
	}
	test_set_context(NULL);
	memset(longhost, 'a', 70);
	memcpy(longhost + 70, ":80", 4);
	test_assert(config_parse_address(longhost, host, sizeof(host), &port, &error) < 0);
	test_assert_str_eq(error, "host name too long");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"good load", test_good_load},
	    {"defaults", test_defaults},
	    {"repeatable keys", test_repeatable},
	    {"section families", test_families},
	    {"layout: BOM, CRLF, indentation, comments", test_layout},
	    {"structure errors", test_structure_errors},
	    {"value errors", test_value_errors},
	    {"many errors are capped", test_many_errors},
	    {"missing file", test_missing_file},
	    {"parse duration", test_parse_duration},
	    {"parse size, bool, uint", test_parse_size_bool_uint},
	    {"parse address", test_parse_address},
	    {NULL, NULL},
	};

	return test_run(cases);
}
