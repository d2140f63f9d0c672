/* SPDX-License-Identifier: MIT */
/* Redis connections over TLS and with AUTH against a real redis-server (plain and TLS port,
   a throwaway CA), and Sentinel AUTH against a scripted sentinel. */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "mem.h"
#include "redis-transport.h"
#include "redis.h"
#include "test-redis-server.h"
#include "test.h"

static char dir[64];
static char ca_path[128], other_ca_path[128], srv_cert[128], srv_key[128], cli_cert[128],
    cli_key[128];
static uint16_t tls_port;

/* ---------------------------------------------------------------- a throwaway CA */

static EVP_PKEY *new_key(const char *path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	FILE *f = fopen(path, "w");
	test_assert(key != NULL && f != NULL);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return key;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	test_assert(ext != NULL);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key written to path: a CA when issuer is NULL, else signed by it. */
static X509 *new_cert(const char *path, const char *cn, EVP_PKEY *key, X509 *issuer,
                      EVP_PKEY *issuer_key, const char *san)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
		add_ext(x, x, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
		if (san != NULL)
			add_ext(x, issuer, NID_subject_alt_name, san);
	}
	test_assert(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	FILE *f = fopen(path, "w");
	test_assert(f != NULL);
	PEM_write_X509(f, x);
	fclose(f);
	return x;
}

static void make_pki(void)
{
	char key_path[128];
	snprintf(dir, sizeof(dir), "/tmp/test-redis-tls-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
	snprintf(other_ca_path, sizeof(other_ca_path), "%s/other-ca.pem", dir);
	snprintf(srv_cert, sizeof(srv_cert), "%s/server.pem", dir);
	snprintf(srv_key, sizeof(srv_key), "%s/server.key", dir);
	snprintf(cli_cert, sizeof(cli_cert), "%s/client.pem", dir);
	snprintf(cli_key, sizeof(cli_key), "%s/client.key", dir);

	snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
	EVP_PKEY *ca_key = new_key(key_path);
	X509 *ca = new_cert(ca_path, "Tandem test CA", ca_key, NULL, NULL, NULL);
	EVP_PKEY *k = new_key(srv_key);
	X509_free(new_cert(srv_cert, "localhost", k, ca, ca_key, "IP:127.0.0.1,DNS:localhost"));
	EVP_PKEY_free(k);
	k = new_key(cli_key);
	X509_free(new_cert(cli_cert, "tandem", k, ca, ca_key, NULL));
	EVP_PKEY_free(k);
	snprintf(key_path, sizeof(key_path), "%s/other-ca.key", dir);
	k = new_key(key_path);
	X509_free(new_cert(other_ca_path, "Someone else's CA", k, NULL, NULL, NULL));
	EVP_PKEY_free(k);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
}

static void remove_pki(void)
{
	static const char *const names[] = {"ca.pem",       "ca.key",     "other-ca.pem",
	                                    "other-ca.key", "server.pem", "server.key",
	                                    "client.pem",   "client.key"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ---------------------------------------------------------------- helpers */

static struct redis_url url_of(const char *text)
{
	struct redis_url u;
	const char *error = NULL;
	if (redis_url_parse(text, &u, &error) < 0) {
		printf("Bail out! %s: %s\n", text, error);
		exit(1);
	}
	return u;
}

/* rediss://127.0.0.1:<tls port> trusting the test CA. */
static struct redis_url tls_url(const char *credentials)
{
	char text[200];
	snprintf(text, sizeof(text), "rediss://%s127.0.0.1:%u", credentials, tls_port);
	struct redis_url u = url_of(text);
	snprintf(u.tls_config.ca_file, sizeof(u.tls_config.ca_file), "%s", ca_path);
	return u;
}

static struct redis_conn *open_conn(const struct redis_url *u, char *err, size_t err_size)
{
	struct redis_settings set;
	redis_settings_default(&set);
	set.connect_timeout_ms = 2000;
	set.timeout_ms = 2000;
	err[0] = '\0';
	return redis_conn_open(u, &set, err, err_size);
}

/* Opening fails and the message holds want. */
static void assert_refused(const struct redis_url *u, const char *want)
{
	char err[400];
	struct redis_conn *c = open_conn(u, err, sizeof(err));
	test_assert(c == NULL);
	test_set_context(err);
	test_assert(strstr(err, want) != NULL);
	redis_conn_close(&c);
}

static void admin(const char *fmt, const char *arg)
{
	redisReply *r = test_redis_cmd(fmt, arg);
	test_assert(r->type != REDIS_REPLY_ERROR);
	freeReplyObject(r);
}

/* ---------------------------------------------------------------- tests */

static void test_tls_round_trip(void)
{
	struct redis_url u = tls_url("");
	char err[400];
	struct redis_conn *c = open_conn(&u, err, sizeof(err));
	test_set_context(err);
	test_assert(c != NULL);
	if (c == NULL)
		return;
	/* more than one TLS record each way, and more than the reader's first chunk */
	size_t big = (size_t)3 << 20;
	char *value = mem_alloc(big);
	for (size_t i = 0; i < big; i++)
		value[i] = (char)('a' + i % 23);
	const char *set[] = {"SET", "tls:big", value};
	size_t lens[] = {3, 7, big};
	redisReply *r = redis_command(c, 3, set, lens);
	test_assert(r != NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = redis_commandf(c, "GET tls:big");
	test_assert(r != NULL && r->type == REDIS_REPLY_STRING && r->len == big &&
	            memcmp(r->str, value, big) == 0);
	freeReplyObject(r);
	mem_free(&value);
	/* a pipeline: every reply in order */
	for (int i = 0; i < 200; i++)
		redis_appendf(c, "INCR tls:n");
	for (long long i = 1; i <= 200; i++) {
		r = redis_get_reply(c);
		test_assert(redis_reply_int(r, -1) == i);
		freeReplyObject(r);
	}
	test_assert(redis_conn_ok(c));
	redis_conn_close(&c);
}

static void test_tls_refuses_an_untrusted_server(void)
{
	struct redis_url u = tls_url("");
	snprintf(u.tls_config.ca_file, sizeof(u.tls_config.ca_file), "%s", other_ca_path);
	assert_refused(&u, "TLS: the server's certificate is not trusted");
	u.tls_config.ca_file[0] = '\0'; /* the system's store does not know the test CA */
	assert_refused(&u, "TLS: the server's certificate is not trusted");
}

static void copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	test_assert(in != NULL && out != NULL);
	size_t n = fread(buf, 1, sizeof(buf), in);
	fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

/* Contexts are reused between connects, but a changed file is loaded again. */
static void test_tls_notices_a_new_ca_file(void)
{
	char path[128], err[400];
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
	copy_file(ca_path, path);
	struct redis_url u = tls_url("");
	snprintf(u.tls_config.ca_file, sizeof(u.tls_config.ca_file), "%s", path);
	for (int i = 0; i < 2; i++) {
		struct redis_conn *c = open_conn(&u, err, sizeof(err));
		test_assert(c != NULL);
		redis_conn_close(&c);
	}
	test_sleep_ms(20); /* a visibly different modification time */
	copy_file(other_ca_path, path);
	assert_refused(&u, "not trusted");
	unlink(path);
}

static void test_tls_checks_the_name(void)
{
	struct redis_url u = tls_url("");
	snprintf(u.tls_config.server_name, sizeof(u.tls_config.server_name), "redis.example");
	assert_refused(&u, "not valid for redis.example");
	snprintf(u.tls_config.server_name, sizeof(u.tls_config.server_name), "localhost");
	char err[400];
	struct redis_conn *c = open_conn(&u, err, sizeof(err));
	test_assert(c != NULL);
	redis_conn_close(&c);
	/* the certificate names 127.0.0.1 but not ::1 */
	snprintf(u.tls_config.server_name, sizeof(u.tls_config.server_name), "::1");
	assert_refused(&u, "not valid for ::1");
}

static void test_plain_and_tls_ports_mixed_up(void)
{
	char text[100];
	snprintf(text, sizeof(text), "redis://127.0.0.1:%u", tls_port);
	struct redis_url u = url_of(text);
	assert_refused(&u, "(a TLS port? then use rediss://)");
	snprintf(text, sizeof(text), "rediss://127.0.0.1:%u", test_redis_port());
	u = url_of(text);
	snprintf(u.tls_config.ca_file, sizeof(u.tls_config.ca_file), "%s", ca_path);
	assert_refused(&u, "redis://");
}

static void test_tls_client_certificate(void)
{
	admin("CONFIG SET tls-auth-clients %s", "yes");
	struct redis_url u = tls_url("");
	char err[400];
	struct redis_conn *c = open_conn(&u, err, sizeof(err));
	/* TLS 1.3: the server's refusal arrives after the handshake, as an alert or a reset */
	test_assert(c == NULL);
	test_set_context(err);
	test_assert(strstr(err, "client certificate") != NULL);
	redis_conn_close(&c);
	snprintf(u.tls_config.cert_file, sizeof(u.tls_config.cert_file), "%s", cli_cert);
	snprintf(u.tls_config.key_file, sizeof(u.tls_config.key_file), "%s", cli_key);
	c = open_conn(&u, err, sizeof(err));
	test_set_context(err);
	test_assert(c != NULL);
	redis_conn_close(&c);
	admin("CONFIG SET tls-auth-clients %s", "optional");
}

static void test_auth_with_an_acl_user(void)
{
	admin("ACL SETUSER tandem reset on >%s ~tandem:* +@all", "s3cret pass");
	struct redis_url u = tls_url("tandem:s3cret pass@");
	char err[400];
	struct redis_conn *c = open_conn(&u, err, sizeof(err));
	test_set_context(err);
	test_assert(c != NULL);
	if (c != NULL) {
		redisReply *r = redis_commandf(c, "ACL WHOAMI");
		test_assert(r != NULL && r->type == REDIS_REPLY_STRING &&
		            strcmp(r->str, "tandem") == 0);
		freeReplyObject(r);
		r = redis_commandf(c, "SET elsewhere:x 1"); /* the ACL applies */
		test_assert(r != NULL && r->type == REDIS_REPLY_ERROR &&
		            strncmp(r->str, "NOPERM", 6) == 0);
		freeReplyObject(r);
		redis_conn_close(&c);
	}
	u = tls_url("tandem:wrong@");
	assert_refused(&u, "AUTH failed: WRONGPASS");

	/* a password on the default user (requirepass) */
	admin("CONFIG SET requirepass %s", "top");
	u = tls_url(":top@");
	c = open_conn(&u, err, sizeof(err));
	test_assert(c != NULL);
	redis_conn_close(&c);
	u = tls_url("");
	assert_refused(&u, "ROLE failed: NOAUTH");
	assert_refused(&u, "store_password_file");
	admin("CONFIG SET requirepass %s", "");
	admin("ACL DELUSER %s", "tandem");
}

/* An idle pooled TLS connection is reused: the session tickets a TLS 1.3 server sends after
   the handshake are not mistaken for the server closing it. */
static void test_pool_reuses_an_idle_tls_connection(void)
{
	struct redis_url u = tls_url("");
	struct redis_settings set;
	redis_settings_default(&set);
	struct redis_pool *pool = redis_pool_create(&u, &set);
	char err[400];
	for (int i = 0; i < 3; i++) {
		struct redis_conn *c = redis_pool_get(pool, err, sizeof(err));
		test_assert(c != NULL);
		if (c == NULL)
			break;
		redisReply *r = redis_commandf(c, "PING");
		test_assert(r != NULL && r->type == REDIS_REPLY_STATUS);
		freeReplyObject(r);
		redis_pool_put(pool, &c);
		test_sleep_ms(30);
	}
	struct redis_pool_stats st;
	redis_pool_stats(pool, &st);
	test_assert_int_eq(st.connects, 1);
	test_assert_int_eq(st.broken, 0);
	redis_pool_destroy(&pool);
}

static void *blocked_pop(void *arg)
{
	struct redis_conn *c = arg;
	return redis_commandf(c, "BLPOP tls:nothing 10");
}

static void test_interrupt_and_timeout_over_tls(void)
{
	struct redis_url u = tls_url("");
	char err[400];
	struct redis_conn *c = open_conn(&u, err, sizeof(err));
	test_assert(c != NULL);
	if (c == NULL)
		return;
	redis_conn_set_timeout(c, 20000);
	pthread_t th;
	uint64_t t0 = clock_mono_ms();
	pthread_create(&th, NULL, blocked_pop, c);
	test_sleep_ms(200);
	redis_conn_interrupt(c);
	void *reply;
	pthread_join(th, &reply);
	test_assert(reply == NULL && clock_mono_ms() - t0 < 5000);
	test_assert(!redis_conn_ok(c));
	redis_conn_close(&c);

	c = open_conn(&u, err, sizeof(err));
	test_assert(c != NULL);
	if (c == NULL)
		return;
	redis_conn_set_timeout(c, 300);
	test_redis_signal(SIGSTOP);
	redisReply *r = redis_commandf(c, "PING");
	test_redis_signal(SIGCONT);
	test_assert(r == NULL);
	test_set_context(redis_conn_error(c));
	test_assert(strstr(redis_conn_error(c), "no answer within 300 ms") != NULL);
	redis_conn_close(&c);
}

static void test_tls_files_are_checked(void)
{
	struct redis_tls tls;
	const char *bad;
	char err[400];
	memset(&tls, 0, sizeof(tls));
	snprintf(tls.ca_file, sizeof(tls.ca_file), "%s", ca_path);
	test_assert(redis_transport_tls_check(&tls, &bad, err, sizeof(err)) == 0);
	snprintf(tls.cert_file, sizeof(tls.cert_file), "%s", cli_cert);
	snprintf(tls.key_file, sizeof(tls.key_file), "%s", cli_key);
	test_assert(redis_transport_tls_check(&tls, &bad, err, sizeof(err)) == 0);

	snprintf(tls.key_file, sizeof(tls.key_file), "%s", srv_key);
	test_assert(redis_transport_tls_check(&tls, &bad, err, sizeof(err)) < 0);
	test_assert(bad == tls.key_file && strstr(err, "key does not match the certificate"));
	snprintf(tls.cert_file, sizeof(tls.cert_file), "%s", cli_key);
	test_assert(redis_transport_tls_check(&tls, &bad, err, sizeof(err)) < 0);
	test_assert(bad == tls.cert_file && strstr(err, "no certificate or not PEM"));
	snprintf(tls.ca_file, sizeof(tls.ca_file), "%s/missing.pem", dir);
	test_assert(redis_transport_tls_check(&tls, &bad, err, sizeof(err)) < 0);
	test_assert(bad == tls.ca_file && strstr(err, "No such file"));
	snprintf(tls.ca_file, sizeof(tls.ca_file), "%s", cli_key);
	test_assert(redis_transport_tls_check(&tls, &bad, err, sizeof(err)) < 0);
	test_assert(bad == tls.ca_file && strstr(err, cli_key));
}

/* ---------------------------------------------------------------- a scripted sentinel */

struct fake_sentinel {
	int fd;
	uint16_t port;
	const char *password; /* NULL: no AUTH wanted */
	pthread_t thread;
};

static void reply(int fd, const char *text)
{
	(void)!write(fd, text, strlen(text));
}

/* AUTH [user] password and SENTINEL get-master-addr-by-name, as a sentinel with requirepass
   answers them. */
static void serve(struct fake_sentinel *fs, int fd)
{
	redisReader *reader = redisReaderCreate();
	bool authed = fs->password == NULL;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		redisReaderFeed(reader, buf, (size_t)n);
		void *obj;
		while (redisReaderGetReply(reader, &obj) == REDIS_OK && obj != NULL) {
			redisReply *cmd = obj;
			const char *name = cmd->elements > 0 ? cmd->element[0]->str : "";
			if (strcasecmp(name, "AUTH") == 0) {
				const char *pw = cmd->element[cmd->elements - 1]->str;
				authed = fs->password != NULL && strcmp(pw, fs->password) == 0;
				reply(fd, authed ? "+OK\r\n"
				                 : "-WRONGPASS invalid username-password pair\r\n");
			} else if (!authed) {
				reply(fd, "-NOAUTH Authentication required.\r\n");
			} else {
				char ans[100];
				char port[8];
				snprintf(port, sizeof(port), "%u", test_redis_port());
				snprintf(ans, sizeof(ans),
				         "*2\r\n$9\r\n127.0.0.1\r\n$%zu\r\n%s\r\n", strlen(port),
				         port);
				reply(fd, ans);
			}
			freeReplyObject(cmd);
		}
	}
	redisReaderFree(reader);
}

static void *sentinel_main(void *arg)
{
	struct fake_sentinel *fs = arg;
	int fd;
	while ((fd = accept(fs->fd, NULL, NULL)) >= 0) {
		serve(fs, fd);
		close(fd);
	}
	return NULL;
}

static void sentinel_start(struct fake_sentinel *fs, const char *password)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	fs->password = password;
	fs->fd = socket(AF_INET, SOCK_STREAM, 0);
	test_assert(bind(fs->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	            listen(fs->fd, 8) == 0 &&
	            getsockname(fs->fd, (struct sockaddr *)&sa, &len) == 0);
	fs->port = ntohs(sa.sin_port);
	pthread_create(&fs->thread, NULL, sentinel_main, fs);
}

static void sentinel_stop(struct fake_sentinel *fs)
{
	shutdown(fs->fd, SHUT_RDWR);
	pthread_join(fs->thread, NULL);
	close(fs->fd);
}

static void test_sentinel_auth(void)
{
	struct fake_sentinel fs;
	sentinel_start(&fs, "sentinel-pw");
	char text[100];
	snprintf(text, sizeof(text), "redis-sentinel://127.0.0.1:%u/tandem", fs.port);
	struct redis_url u = url_of(text);
	assert_refused(&u, "NOAUTH Authentication required. (set [cluster] "
	                   "store_sentinel_password)");
	snprintf(u.sentinel_password, sizeof(u.sentinel_password), "wrong");
	assert_refused(&u, "AUTH failed: WRONGPASS");
	snprintf(u.sentinel_user, sizeof(u.sentinel_user), "watcher");
	snprintf(u.sentinel_password, sizeof(u.sentinel_password), "sentinel-pw");
	char err[400];
	struct redis_conn *c = open_conn(&u, err, sizeof(err));
	test_set_context(err);
	test_assert(c != NULL);
	redis_conn_close(&c);
	sentinel_stop(&fs);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"tls round trip", test_tls_round_trip},
	    {"tls refuses an untrusted server", test_tls_refuses_an_untrusted_server},
	    {"tls notices a new ca file", test_tls_notices_a_new_ca_file},
	    {"tls checks the name", test_tls_checks_the_name},
	    {"plain and tls ports mixed up", test_plain_and_tls_ports_mixed_up},
	    {"tls client certificate", test_tls_client_certificate},
	    {"auth with an acl user", test_auth_with_an_acl_user},
	    {"pool reuses an idle tls connection", test_pool_reuses_an_idle_tls_connection},
	    {"interrupt and timeout over tls", test_interrupt_and_timeout_over_tls},
	    {"tls files are checked", test_tls_files_are_checked},
	    {"sentinel auth", test_sentinel_auth},
	    {NULL, NULL},
	};
	char port[8];
	make_pki();
	tls_port = test_free_port();
	snprintf(port, sizeof(port), "%u", tls_port);
	const char *const args[] = {"--tls-port",
	                            port,
	                            "--tls-cert-file",
	                            srv_cert,
	                            "--tls-key-file",
	                            srv_key,
	                            "--tls-ca-cert-file",
	                            ca_path,
	                            "--tls-auth-clients",
	                            "optional",
	                            NULL};
	test_redis_set_args(args);
	test_redis_start();
	int code = test_run(cases);
	test_redis_stop();
	remove_pki();
	return code;
}
