/* SPDX-License-Identifier: MIT */
/* Unit tests for tandem-lb's configuration: good files, exact error lines, networks, URLs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb-access.h"
#include "lb-config.h"
#include "mem.h"
#include "test.h"

static char path[64];

#define KEY_HEX "9f3c0d6be2a14f87c53d1e0b7a6f2c48d9e1b3a5c7f0e2d4b6a8c0e2f4a6b8d0"

static void write_ini(const char *data)
{
	snprintf(path, sizeof(path), "/tmp/tandem-test-lb-config-XXXXXX");
	int fd = mkstemp(path);
	test_assert(fd >= 0);
	test_assert(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
	close(fd);
}

static struct lb_config *load_ok(int line, const char *data)
{
	struct lb_config *lc = NULL;
	const char *error = NULL;
	write_ini(data);
	test_set_context(data);
	if (lb_config_load(path, &lc, &error) < 0) {
		test__fail(__FILE__, line, error);
		lc = NULL;
	}
	unlink(path);
	return lc;
}

/* data must fail with exactly expected, where "@" stands for the file's path. */
static void expect_error(int line, const char *data, const char *expected)
{
	struct lb_config *lc = NULL;
	const char *error = NULL;
	char want[4096];
	size_t n = 0;

	write_ini(data);
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
	if (lb_config_load(path, &lc, &error) == 0) {
		test__fail(__FILE__, line, "lb_config_load succeeded");
		lb_config_free(&lc);
	} else {
		test__assert_str_eq(__FILE__, line, "error", error, want);
		test__assert_int_eq(__FILE__, line, "lc == NULL", lc == NULL, 1);
	}
	unlink(path);
}

#define BAD(data, expected) expect_error(__LINE__, data, expected)
#define MEMBER              "[member OX-1]\nurl = http://127.0.0.1:8009\n"

static void test_defaults(void)
{
	struct lb_config *lc = load_ok(__LINE__, MEMBER);
	if (lc == NULL)
		return;
	test_assert_int_eq(lc->listen_count, 1);
	test_assert_str_eq(lc->listen[0], "127.0.0.1:8080");
	test_assert_str_eq(lc->sticky_cookie, "JSESSIONID");
	test_assert(lc->sticky_separator == '.');
	test_assert_str_eq(lc->sticky_param, "jsessionid");
	test_assert(lc->method == BALANCER_BYREQUESTS);
	test_assert(lc->retry_ms == 5000 && lc->health_interval_ms == 1000 &&
	            lc->health_timeout_ms == 1000 && lc->health_rise == 2 && lc->health_fall == 3);
	test_assert_str_eq(lc->health_uri, "/health");
	test_assert(lc->connect_timeout_ms == 500 && lc->pool_min == 0 && lc->pool_max == 64);
	test_assert_int_eq(lc->trusted_proxy_count, 0);
	test_assert_int_eq(lc->member_count, 1);
	test_assert_str_eq(lc->members[0].route, "OX-1");
	test_assert_str_eq(lc->members[0].address, "127.0.0.1:8009");
	test_assert(lc->members[0].loadfactor == 50 && lc->members[0].state == BALANCER_READY);
	test_assert(lc->admin_listen == NULL && lc->admin_allow_count == 2);
	test_assert_str_eq(lc->cluster_name, "tandem");
	test_assert(lc->cluster_store == NULL && lc->announce == NULL);
	test_assert_int_eq(lc->announce_key.len, 0);
	test_assert(lc->member_ttl_ms == 3000 && lc->log_level == LOG_INFO);
	test_assert(lc->max_conns_per_source == 256 && lc->buffer_body == 64 * 1024);
	test_assert(lc->body_min_rate == 1024 && lc->body_rate_window_ms == 10000);
	lb_config_free(&lc);
	lb_config_free(&lc); /* NULL: no-op */
}

static void test_short_health_interval(void)
{
	/* only the interval set below 1 s: the timeout follows it instead of refusing */
	struct lb_config *lc = load_ok(__LINE__, MEMBER "[balancer]\nhealth_interval = 200ms\n");
	if (lc != NULL)
		test_assert(lc->health_interval_ms == 200 && lc->health_timeout_ms == 200);
	lb_config_free(&lc);
	lc = load_ok(__LINE__,
	             MEMBER "[balancer]\nhealth_interval = 200ms\nhealth_timeout = 50ms\n");
	if (lc != NULL)
		test_assert(lc->health_interval_ms == 200 && lc->health_timeout_ms == 50);
	lb_config_free(&lc);
}

static void test_full(void)
{
	struct lb_config *lc = load_ok(
	    __LINE__,
	    "[listen]\naddress = 0.0.0.0:80\naddress = [::]:80\n"
	    "[balancer]\nsticky_cookie = SID\nsticky_separator = !\nsticky_param =\n"
	    "method = bybusyness\nretry = 0\nhealth_uri = /health?deep=1\nhealth_interval = 2s\n"
	    "health_rise = 1\nhealth_fall = 1\nhealth_timeout = 500ms\nconnect_timeout = 200ms\n"
	    "read_timeout = 5m\nwrite_timeout = 30s\npool_min = 2\npool_max = 8\n"
	    "pool_idle_ttl = 10s\ntrusted_proxies = 10.0.0.0/8, 192.168.1.1\n"
	    "trusted_proxies = fd00::/8\n"
	    "[member OX-1]\nurl = http://node1:8009/\nloadfactor = 75\n"
	    "[member OX_2]\nurl = http://[::1]:8010\nloadfactor = 25\nstate = standby\n"
	    "[member legacy]\nurl = HTTP://old.example\nstate = disabled\n"
	    "[admin]\nlisten = 127.0.0.1:8081\nallow = 127.0.0.1/32\nuser = admin\n"
	    "password = secret\n"
	    "[cluster]\nname = alpha\nstore = redis://127.0.0.1:6379/0\n"
	    "announce = 239.255.67.80:6780\nannounce_interface = 127.0.0.1\nmember_ttl = 5s\n"
	    "announce_key = " KEY_HEX "\n"
	    "[log]\nlevel = debug\nfile = /tmp/lb.log\n");
	if (lc == NULL)
		return;
	test_assert_int_eq(lc->listen_count, 2);
	test_assert(lc->sticky_separator == '!' && lc->sticky_param[0] == '\0');
	test_assert(lc->method == BALANCER_BYBUSYNESS && lc->retry_ms == 0);
	test_assert_int_eq(lc->trusted_proxy_count, 3);
	test_assert_int_eq(lc->member_count, 3);
	test_assert_str_eq(lc->members[0].address, "node1:8009");
	test_assert_str_eq(lc->members[1].address, "[::1]:8010");
	test_assert(lc->members[1].state == BALANCER_STANDBY && lc->members[1].loadfactor == 25);
	test_assert_str_eq(lc->members[2].address, "old.example:80");
	test_assert_str_eq(lc->admin_listen, "127.0.0.1:8081");
	test_assert_str_eq(lc->cluster_store, "redis://127.0.0.1:6379/0");
	test_assert(lc->member_ttl_ms == 5000 && lc->log_level == LOG_DEBUG);
	test_assert_int_eq(lc->announce_key.len, 32);
	test_assert_int_eq(lc->announce_key.bytes[0], 0x9f);
	lb_config_free(&lc);
	/* Discovery alone is enough; store = memory means nothing shared. */
	lc = load_ok(__LINE__, "[cluster]\nannounce = 239.255.67.80:6780\nstore = memory\n"
	                       "announce_key = " KEY_HEX "\n");
	if (lc != NULL)
		test_assert(lc->member_count == 0 && lc->cluster_store == NULL);
	lb_config_free(&lc);
}

static enum lb_access_result check(const struct lb_config *lc, const char *target, const char *ip)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return lb_access_check(lc->access, lc->access_count, strv_from_cstr(target),
	                       (struct sockaddr *)&sin);
}

/* The nodes' /admin and /metrics are closed through the proxy unless admin_allow opens them;
   an [access] section of the same path replaces the default, others stay beside it. */
static void test_default_access_rules(void)
{
	struct lb_config *lc = load_ok(__LINE__, MEMBER);
	if (lc != NULL) {
		test_assert_int_eq(lc->access_count, 2);
		test_assert(check(lc, "/admin/v1/servers", "127.0.0.1") == LB_ACCESS_DENIED);
		test_assert(check(lc, "/%6detrics", "127.0.0.1") == LB_ACCESS_DENIED);
		test_assert(check(lc, "/api/v1/login", "127.0.0.1") == LB_ACCESS_ALLOWED);
		test_assert(check(lc, "/metricsx", "127.0.0.1") == LB_ACCESS_ALLOWED);
	}
	lb_config_free(&lc);
	lc = load_ok(__LINE__,
	             MEMBER "[balancer]\nadmin_allow = 10.0.0.0/8\nadmin_allow = 192.0.2.1\n"
	                    "[access /metrics]\nallow = 198.51.100.0/24\n"
	                    "[access /api]\nallow = 127.0.0.1\n");
	if (lc != NULL) {
		test_assert_int_eq(lc->access_count, 3);
		test_assert_int_eq(lc->admin_paths_allow_count, 2);
		test_assert(check(lc, "/admin/v1", "10.1.2.3") == LB_ACCESS_ALLOWED);
		test_assert(check(lc, "/admin/v1", "192.0.2.1") == LB_ACCESS_ALLOWED);
		test_assert(check(lc, "/admin/v1", "192.0.2.2") == LB_ACCESS_DENIED);
		test_assert(check(lc, "/metrics", "10.1.2.3") == LB_ACCESS_DENIED);
		test_assert(check(lc, "/metrics", "198.51.100.7") == LB_ACCESS_ALLOWED);
		test_assert(check(lc, "/api/v1", "10.1.2.3") == LB_ACCESS_DENIED);
	}
	lb_config_free(&lc);
}

static void test_slow_client_settings(void)
{
	struct lb_config *lc =
	    load_ok(__LINE__, MEMBER "[listen]\nmax_connections_per_source = 0\n"
	                             "[balancer]\nbuffer_body = 1M\nbody_min_rate = 0\n"
	                             "body_rate_window = 1m\n");
	if (lc != NULL) {
		test_assert(lc->max_conns_per_source == 0 && lc->buffer_body == 1024 * 1024);
		test_assert(lc->body_min_rate == 0 && lc->body_rate_window_ms == 60000);
	}
	lb_config_free(&lc);
	BAD(MEMBER "[balancer]\nbuffer_body = 2M\n",
	    "@:4: [balancer] buffer_body must be at most 1M");
	BAD(MEMBER "[balancer]\nbody_min_rate = 2G\n",
	    "@:4: [balancer] body_min_rate must be at most 1G");
	BAD(MEMBER "[balancer]\nbody_rate_window = 500ms\n",
	    "@:4: [balancer] body_rate_window must be between 1s and 1h");
	BAD(MEMBER "[listen]\nmax_connections_per_source = 2000000\n",
	    "@:4: [listen] max_connections_per_source must be between 0 and 1000000");
	BAD(MEMBER "[balancer]\nadmin_allow = 10.0.0.1/8\n",
	    "@:4: [balancer] admin_allow: \"10.0.0.1/8\" has host bits set past the prefix");
}

static void test_errors(void)
{
	BAD("", "@: no [member ROUTE] section and no [cluster] announce: nothing to balance to");
	BAD(MEMBER "[balancer]\nbogus = 1\n", "@:4: [balancer] bogus: unknown key");
	BAD(MEMBER "[balancer]\nretry = soon\n",
	    "@:4: [balancer] retry: expected a duration such as 500ms, 30s, 5m, 2h, 1d or 1w, "
	    "got \"soon\"");
	BAD(MEMBER "[balancer]\nmethod = random\n",
	    "@:4: [balancer] method must be byrequests or bybusyness, got \"random\"");
	BAD(MEMBER "[balancer]\nsticky_separator = ..\n",
	    "@:4: [balancer] sticky_separator must be one punctuation character other than - _ "
	    "\" \\ , ; = & / ? #");
	BAD(MEMBER "[balancer]\nsticky_cookie = JSESSION ID\n",
	    "@:4: [balancer] sticky_cookie must be empty or a cookie name of 1 to 64 letters, "
	    "digits or !#$%&'*+-.^_`|~");
	BAD(MEMBER "[balancer]\nsticky_param = a=b\n",
	    "@:4: [balancer] sticky_param must be empty or 1 to 64 letters, digits, '.', '-', "
	    "'_' or '~'");
	BAD(MEMBER "[balancer]\nhealth_uri = health\n",
	    "@:4: [balancer] health_uri must be a path starting with '/' (at most 1024 bytes, no "
	    "fragment)");
	BAD(MEMBER "[balancer]\nhealth_rise = 0\n",
	    "@:4: [balancer] health_rise must be between 1 and 100");
	BAD(MEMBER "[balancer]\nhealth_interval = 500ms\nhealth_timeout = 1s\n",
	    "@:5: [balancer] health_timeout must be between 10ms and health_interval");
	BAD(MEMBER "[balancer]\nhealth_timeout = 2s\n",
	    "@:4: [balancer] health_timeout must be between 10ms and health_interval");
	BAD(MEMBER "[balancer]\nconnect_timeout = 2m\n",
	    "@:4: [balancer] connect_timeout must be between 10ms and 60s");
	BAD(MEMBER "[balancer]\npool_max = 4\npool_min = 5\n",
	    "@:5: [balancer] pool_min must be between 0 and 4");
	BAD(MEMBER "[balancer]\ntrusted_proxies = 10.0.0.1/8\n",
	    "@:4: [balancer] trusted_proxies: \"10.0.0.1/8\" has host bits set past the prefix");
	BAD(MEMBER "[balancer]\ntrusted_proxies = 10.0.0.0/33\n",
	    "@:4: [balancer] trusted_proxies: \"10.0.0.0/33\" is not an address or address/prefix");
	BAD(MEMBER "[listen]\naddress = localhost\n",
	    "@:4: [listen] address: expected host:port or [v6]:port, got \"localhost\"");
	/* Several problems at once, in file order per check. */
	BAD(MEMBER "[balancer]\nmethod = x\nhealth_fall = 101\n",
	    "@:4: [balancer] method must be byrequests or bybusyness, got \"x\"\n"
	    "@:5: [balancer] health_fall must be between 1 and 100");
}

static void test_member_errors(void)
{
	BAD("[member OX-1]\nloadfactor = 10\n", "@:1: [member OX-1] url is required");
	BAD("[member OX-1]\nurl = https://a:1\n",
	    "@:2: [member OX-1] url: https:// members are not supported yet (use "
	    "http://host:port), got \"https://a:1\"");
	BAD("[member OX-1]\nurl = http://a:1/app\n",
	    "@:2: [member OX-1] url: a path is not supported (expected http://host:port), got "
	    "\"http://a:1/app\"");
	BAD("[member OX-1]\nurl = ftp://a:1\n",
	    "@:2: [member OX-1] url: expected http://host:port, got \"ftp://a:1\"");
	BAD("[member OX-1]\nurl = http://a:99999\n",
	    "@:2: [member OX-1] url: expected a port number 0-65535, got \"http://a:99999\"");
	BAD("[member OX-1]\nurl = http://a:0\n",
	    "@:2: [member OX-1] url: port must be 1-65535, got \"http://a:0\"");
	BAD("[member OX-1]\nurl = http://a:1?x=1\n",
	    "@:2: [member OX-1] url: expected http://host:port without user, query or fragment, "
	    "got \"http://a:1?x=1\"");
	BAD("[member OX-1]\nurl = http://\n",
	    "@:2: [member OX-1] url: host is missing, got \"http://\"");
	BAD("[member OX-1]\nurl = http://a:1\nloadfactor = 0\n",
	    "@:3: [member OX-1] loadfactor must be between 1 and 100");
	BAD("[member OX-1]\nurl = http://a:1\nloadfactor = 101\n",
	    "@:3: [member OX-1] loadfactor must be between 1 and 100");
	BAD("[member OX-1]\nurl = http://a:1\nstate = paused\n",
	    "@:3: [member OX-1] state must be ready, drain, maint, disabled or standby, got "
	    "\"paused\"");
	BAD("[member OX.1]\nurl = http://a:1\n",
	    "@:1: [member OX.1]: the route must be 1 to 48 letters, digits, '-' or '_'");
	BAD("\n[member OX-1]\nurl = http://a:1\n[member OX-1]\nloadfactor = 3\n",
	    "@:4: [member OX-1] already defined on line 2");
	BAD("[member OX-1]\nurl = http://a:1\n[member ox-1]\nurl = http://b:1\n",
	    "@:3: [member ox-1]: route differs from [member OX-1] on line 1 only in case");
	BAD("[member OX-1]\nurl = http://a:1\nurl = http://b:1\n",
	    "@:3: [member OX-1] url: already set on line 2");
	BAD("[member ]\nurl = http://a:1\n", "@:1: unknown section [member ]");
}

static void test_admin_cluster_log_errors(void)
{
	BAD(MEMBER "[admin]\nlisten = 127.0.0.1:8081\n",
	    "@:4: [admin] listen needs user\n@:4: [admin] listen needs password or password_hash");
	BAD(MEMBER "[admin]\nlisten = 127.0.0.1:8081\nuser = a\npassword = x\npassword_hash = y\n",
	    "@:7: [admin] give password or password_hash, not both\n"
	    "@:7: [admin] password_hash must be an argon2id string ($argon2id$v=19$...)");
	BAD(MEMBER "[admin]\nuser = a:b\n", "@:4: [admin] user must be non-empty and without ':'");
	BAD(MEMBER "[admin]\nallow = 10.0.0.0/8 nonsense\n",
	    "@:4: [admin] allow: \"nonsense\" is not an address or address/prefix");
	BAD(MEMBER "[admin]\nlisten = 127.0.0.1:8081\nuser = a\npassword = x\nallow = ,\n",
	    "@:7: [admin] allow lists no network: nobody could use the manager");
	BAD(MEMBER "[cluster]\nname = a.b\n",
	    "@:4: [cluster] name must be 1-64 letters, digits, '-' or '_'");
	BAD(MEMBER "[cluster]\nstore = mysql://x\n",
	    "@:4: [cluster] store must be memory, redis://host:port/db, rediss://host:port/db "
	    "(TLS), redis-sentinel://host:port,.../mastername or "
	    "rediss-sentinel://host:port,.../mastername (TLS)");
	BAD(MEMBER "[cluster]\nstore = redis://h:0\n",
	    "@:4: [cluster] store: Redis URL has a bad host:port");
	BAD(MEMBER "[cluster]\nstore = redis://tandem@h\n",
	    "@:4: [cluster] store: the URL names the user 'tandem' but no password "
	    "(a password in the URL, or store_password_file)");
	BAD(MEMBER "[cluster]\nstore = redis://h\nstore_tls_ca = ca.pem\n",
	    "@:5: [cluster] store_tls_ca: needs a rediss:// or rediss-sentinel:// store (TLS)");
	BAD(MEMBER "[cluster]\nstore = rediss://h\nstore_tls_cert = c.pem\n",
	    "@:5: [cluster] store_tls_cert: store_tls_cert and store_tls_key go together");
	BAD(MEMBER "[cluster]\nstore = redis://h\nstore_sentinel_password = x\n",
	    "@:5: [cluster] store_sentinel_password: needs a redis-sentinel:// or "
	    "rediss-sentinel:// store");
	BAD(MEMBER "[cluster]\nstore_password_file = /nonexistent/pw\n",
	    "@:4: [cluster] store_password_file: is set but [cluster] store is not Redis");
	BAD(MEMBER "[cluster]\nstore = redis://h\nstore_password_file = /nonexistent/pw\n",
	    "@:5: [cluster] store_password_file: /nonexistent/pw: cannot open: No such file or "
	    "directory");
	BAD(MEMBER "[cluster]\nannounce = 10.0.0.1:6780\nannounce_key = " KEY_HEX "\n",
	    "@:4: [cluster] announce group 10.0.0.1:6780: not an IPv4 multicast address "
	    "(224.0.0.0-239.255.255.255)");
	/* announcements are authenticated: no discovery without a key */
	BAD("[cluster]\nannounce = 239.255.67.80:6780\n",
	    "@:2: [cluster] announce needs announce_key or announce_key_file: announcements are "
	    "authenticated with a key shared by the nodes and balancers (docs/cluster.md, "
	    "\"Announce key\")");
	BAD(MEMBER "[cluster]\nannounce = 239.255.67.80:6780\nannounce_key = 00112233\n",
	    "@:5: [cluster] announce_key: too short: at least 64 hex digits (32 bytes) are "
	    "needed; `openssl rand -hex 32` makes one");
	BAD(MEMBER "[cluster]\nannounce_key = secret-secret\n",
	    "@:4: [cluster] announce_key: not hexadecimal: only the digits 0-9 a-f A-F may appear");
	BAD(MEMBER "[cluster]\nannounce = 239.255.67.80:6780\nannounce_key = " KEY_HEX "\n"
	           "announce_key_file = /etc/tandem/announce.key\n",
	    "@:6: [cluster] announce_key and announce_key_file are both set: give one");
	BAD(MEMBER "[cluster]\nannounce = 239.255.67.80:6780\n"
	           "announce_key_file = /nonexistent/announce.key\n",
	    "@:5: [cluster] announce_key_file: /nonexistent/announce.key: No such file or "
	    "directory");
	BAD(MEMBER "[cluster]\nmember_ttl = 10ms\n",
	    "@:4: [cluster] member_ttl must be between 100ms and 1h");
	BAD(MEMBER "[log]\nlevel = chatty\n",
	    "@:4: [log] level must be debug, info, warn or error");
	BAD("[member OX-1]\n", "@:1: [member OX-1] url is required");
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	return ss;
}

static bool match(const struct lb_cidr *c, size_t n, const char *text)
{
	struct sockaddr_storage ss = addr(text);
	return lb_cidr_match(c, n, (const struct sockaddr *)&ss);
}

static void test_cidr(void)
{
	struct lb_cidr *c;
	size_t n;
	const char *error;

	test_assert(lb_cidr_parse_list("10.0.0.0/8, 192.168.1.7 fd00::/8,::1 0.0.0.0/0x", &c, &n,
	                               &error) < 0);
	test_assert_str_eq(error, "\"0.0.0.0/0x\" is not an address or address/prefix");
	test_assert(lb_cidr_parse_list("10.0.0.0/8, 192.168.1.7\tfd00::/8,::1,172.16.0.0/12", &c,
	                               &n, &error) == 0);
	test_assert_int_eq(n, 5);
	test_assert(match(c, n, "10.1.2.3") && match(c, n, "192.168.1.7"));
	test_assert(!match(c, n, "192.168.1.8") && !match(c, n, "11.0.0.1"));
	test_assert(match(c, n, "172.31.255.255") && !match(c, n, "172.32.0.0"));
	test_assert(match(c, n, "fd12::1") && match(c, n, "::1") && !match(c, n, "fe80::1"));
	test_assert(match(c, n, "::ffff:10.9.9.9") && !match(c, n, "::ffff:11.9.9.9"));
	test_assert(!lb_cidr_match(c, n, NULL));
	mem_free(&c);
	test_assert(lb_cidr_parse_list("0.0.0.0/0 ::/0", &c, &n, &error) == 0);
	test_assert(match(c, n, "1.2.3.4") && match(c, n, "2001:db8::1"));
	mem_free(&c);
	test_assert(lb_cidr_parse_list("", &c, &n, &error) == 0 && n == 0);
	test_assert(!match(c, n, "1.2.3.4"));
	mem_free(&c);
	test_assert(lb_cidr_parse_list("10.0.0.0/", &c, &n, &error) < 0);
	test_assert(lb_cidr_parse_list("10.0.0.0/0008", &c, &n, &error) < 0);
	test_assert(lb_cidr_parse_list("fd00::1/8", &c, &n, &error) < 0);
	test_assert(lb_cidr_parse_list("10.0.0.0/-1", &c, &n, &error) < 0);
}

static void test_url(void)
{
	char a[BALANCER_ADDRESS_MAX + 1];
	const char *error;
	test_assert(lb_member_url_parse("http://h:1", a, sizeof(a), &error) == 0);
	test_assert_str_eq(a, "h:1");
	test_assert(lb_member_url_parse("http://h", a, sizeof(a), &error) == 0);
	test_assert_str_eq(a, "h:80");
	test_assert(lb_member_url_parse("http://[fe80::1]", a, sizeof(a), &error) == 0);
	test_assert_str_eq(a, "[fe80::1]:80");
	test_assert(lb_member_url_parse("http://[fe80::1]:81/", a, sizeof(a), &error) == 0);
	test_assert_str_eq(a, "[fe80::1]:81");
	test_assert(lb_member_url_parse("http://fe80::1:81", a, sizeof(a), &error) < 0);
	test_assert(lb_member_url_parse("http://h:1?x", a, sizeof(a), &error) < 0);
	test_assert(lb_member_url_parse("http://h:1//", a, sizeof(a), &error) < 0);
	test_assert(lb_member_url_parse("http://h :1", a, sizeof(a), &error) < 0);
	test_assert(lb_member_url_parse("http://[::1", a, sizeof(a), &error) < 0);
	char longurl[200] = "http://";
	memset(longurl + 7, 'a', 90);
	test_assert(lb_member_url_parse(longurl, a, sizeof(a), &error) < 0);
	test_assert_str_eq(error, "host:port too long");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"defaults", test_defaults},
	    {"full", test_full},
	    {"short_health_interval", test_short_health_interval},
	    {"errors", test_errors},
	    {"default_access_rules", test_default_access_rules},
	    {"slow_client_settings", test_slow_client_settings},
	    {"member_errors", test_member_errors},
	    {"admin_cluster_log_errors", test_admin_cluster_log_errors},
	    {"cidr", test_cidr},
	    {"url", test_url},
	    {NULL, NULL},
	};
	return test_run(cases);
}
