/* SPDX-License-Identifier: MIT */
/* Unit tests for TLS contexts and the server's TLS connections: certificate errors, file
   responses without sendfile(), streamed bodies, 100-continue, a pipeline read through
   OpenSSL's buffer, garbage handshakes and the HTTPS redirect. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "http-server.h"
#include "http-tls.h"
#include "mem.h"
#include "test.h"

static char dir[64];
static char cert_path[128], key_path[128], other_key_path[128], file_path[128];

/* ---------------------------------------------------------------- fixtures */

static EVP_PKEY *write_key(const char *path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	FILE *f = fopen(path, "w");
	test_assert(key != NULL && f != NULL);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return key;
}

static void make_files(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-http-tls-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	snprintf(other_key_path, sizeof(other_key_path), "%s/other.pem", dir);
	snprintf(file_path, sizeof(file_path), "%s/data", dir);

	EVP_PKEY *key = write_key(key_path);
	EVP_PKEY_free(write_key(other_key_path));
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(x, name);
	test_assert(X509_sign(x, key, EVP_sha256()) > 0);
	FILE *f = fopen(cert_path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void remove_files(void)
{
	const char *files[] = {cert_path, key_path, other_key_path, file_path};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(dir);
}

static char pattern_byte(size_t i)
{
	return (char)('a' + (i * 7 + i / 977) % 26);
}

/* ---------------------------------------------------------------- contexts */

static void test_ctx_errors(void)
{
	struct http_tls_ctx *ctx;
	const char *error;
	char missing[160];

	test_assert(http_tls_ctx_create(cert_path, key_path, &ctx, &error) == 0);
	struct http_tls_ctx *second = ctx;
	http_tls_ctx_ref(second);
	http_tls_ctx_unref(&ctx);
	test_assert(ctx == NULL);
	http_tls_ctx_unref(&second); /* the last reference frees it (ASan checks) */

	snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
	test_assert(http_tls_ctx_create(missing, key_path, &ctx, &error) < 0);
	test_assert(ctx == NULL && strstr(error, missing) != NULL &&
	            strstr(error, "No such file") != NULL);
	test_assert(http_tls_ctx_create(cert_path, other_key_path, &ctx, &error) < 0);
	test_assert(strstr(error, "key does not match the certificate") != NULL);
	test_assert(http_tls_ctx_create(key_path, key_path, &ctx, &error) < 0);
	test_assert(strstr(error, "no certificate or not PEM") != NULL);
	test_assert(http_tls_ctx_create(cert_path, cert_path, &ctx, &error) < 0);
	test_assert(strstr(error, "no private key or not PEM") != NULL);
	http_tls_ctx_unref(&ctx); /* NULL: no-op */
}

/* ---------------------------------------------------------------- a server */

struct stream {
	unsigned left;
};

static ssize_t produce(void *ctx, char *buf, size_t size)
{
	struct stream *st = ctx;
	if (st->left == 0)
		return 0;
	st->left--;
	size_t n = size < 10000 ? size : 10000;
	memset(buf, 's', n);
	return (ssize_t)n;
}

static struct stream stream_state;

static void on_request(struct http_request *req, void *ctx)
{
	const struct http_request_head *h = http_request_head(req);
	(void)ctx;
	if (strv_eq_cstr(h->path, "/file")) {
		int fd = open(file_path, O_RDONLY | O_CLOEXEC);
		http_response_file(req, fd, 1, 3000000);
		http_response_send(req);
	} else if (strv_eq_cstr(h->path, "/stream")) {
		stream_state.left = 10;
		http_response_stream(req, produce, &stream_state);
		http_response_send(req);
	} else if (strv_eq_cstr(h->path, "/echo")) {
		struct strv body = http_request_body(req);
		http_response_simple(req, 200, "text/plain", body.ptr, body.len);
	} else {
		const char *tls = http_request_is_tls(req) ? "tls" : "plain";
		http_response_simple(req, 200, "text/plain", tls, strlen(tls));
	}
}

static struct http_server *server;
static struct http_tls_ctx *server_ctx;
static unsigned short tls_port, plain_port, redirect_port;

static unsigned short port_of(unsigned i)
{
	const char *a = http_server_address(server, i);
	return (unsigned short)strtoul(strrchr(a, ':') + 1, NULL, 10);
}

static void start_server(void)
{
	struct http_server_settings set = {.threads = 1, .on_request = on_request};
	const char *error;
	http_limits_default(&set.limits);
	set.limits.max_buffered_body = 4 * 1024 * 1024;
	server = http_server_create(&set);
	test_assert(http_tls_ctx_create(cert_path, key_path, &server_ctx, &error) == 0);
	test_assert(http_server_listen_tls(server, "127.0.0.1:0", server_ctx, &error) == 0);
	test_assert(http_server_listen(server, "127.0.0.1:0", &error) == 0);
	test_assert(http_server_listen_https_redirect(server, "127.0.0.1:0", &error) == 0);
	http_tls_ctx_unref(&server_ctx); /* the server holds its own reference */
	test_assert(http_server_start(server, &error) == 0);
	tls_port = port_of(0);
	plain_port = port_of(1);
	redirect_port = port_of(2);
}

/* ---------------------------------------------------------------- a blocking client */

static SSL_CTX *client_ctx;

static int tcp_connect(unsigned short port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 20};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	test_assert(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	return fd;
}

static SSL *tls_connect(int fd)
{
	SSL *ssl = SSL_new(client_ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	test_assert(SSL_connect(ssl) == 1);
	return ssl;
}

static void tls_send(SSL *ssl, const char *data, size_t len)
{
	while (len > 0) {
		int n = SSL_write(ssl, data, (int)(len > 65536 ? 65536 : len));
		test_assert(n > 0);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* Reads until the server closes (every request here ends with Connection: close). */
static char *tls_read_all(SSL *ssl, size_t *len_r)
{
	size_t cap = 1 << 16, len = 0;
	char *out = mem_alloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			out = mem_realloc(out, cap);
		}
		int n = SSL_read(ssl, out + len, (int)(cap - len));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	*len_r = len;
	return out;
}

static bool contains(const char *data, size_t len, const char *needle)
{
	return memmem(data, len, needle, strlen(needle)) != NULL;
}

/* One request on a new TLS connection; returns the whole answer (mem_free it). */
static char *tls_exchange(const char *request, size_t *len_r)
{
	int fd = tcp_connect(tls_port);
	SSL *ssl = tls_connect(fd);
	tls_send(ssl, request, strlen(request));
	char *out = tls_read_all(ssl, len_r);
	SSL_free(ssl);
	close(fd);
	return out;
}

static size_t head_end(const char *data, size_t len)
{
	const char *p = memmem(data, len, "\r\n\r\n", 4);
	return p == NULL ? len : (size_t)(p - data) + 4;
}

/* ---------------------------------------------------------------- cases */

static void test_file_response_without_sendfile(void)
{
	int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char block[4096];
	for (size_t off = 0; off < 3000001; off += sizeof(block)) {
		for (size_t i = 0; i < sizeof(block); i++)
			block[i] = pattern_byte(off + i);
		test_assert(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block));
	}
	close(fd);

	size_t len;
	char *out =
	    tls_exchange("GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &len);
	size_t body = head_end(out, len);
	test_assert(contains(out, body, "HTTP/1.1 200 OK\r\n"));
	test_assert(contains(out, body, "Content-Length: 3000000\r\n"));
	test_assert_int_eq(len - body, 3000000);
	bool same = true;
	for (size_t i = 0; i < len - body && same; i++)
		same = out[body + i] == pattern_byte(i + 1); /* sent from offset 1 */
	test_assert(same);
	mem_free(&out);
}

static void test_streamed_response(void)
{
	size_t len;
	char *out = tls_exchange("GET /stream HTTP/1.0\r\n\r\n", &len);
	size_t body = head_end(out, len);
	test_assert(contains(out, body, "HTTP/1.0 200 OK\r\n"));
	test_assert_int_eq(len - body, 100000); /* close-delimited for HTTP/1.0 */
	mem_free(&out);
}

static void test_expect_continue_and_echo(void)
{
	size_t n = 3 * 1024 * 1024;
	char *payload = mem_alloc(n);
	for (size_t i = 0; i < n; i++)
		payload[i] = pattern_byte(i * 3);
	char head[200];
	snprintf(head, sizeof(head),
	         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\nExpect: 100-continue\r\n"
	         "Connection: close\r\n\r\n",
	         n);
	int fd = tcp_connect(tls_port);
	SSL *ssl = tls_connect(fd);
	tls_send(ssl, head, strlen(head));
	char cont[64];
	int got = SSL_read(ssl, cont, sizeof(cont));
	test_assert(got == 25 && memcmp(cont, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
	tls_send(ssl, payload, n);
	size_t len;
	char *out = tls_read_all(ssl, &len);
	size_t body = head_end(out, len);
	test_assert(contains(out, body, "HTTP/1.1 200 OK\r\n"));
	test_assert(len - body == n && memcmp(out + body, payload, n) == 0);
	mem_free(&out);
	mem_free(&payload);
	SSL_free(ssl);
	close(fd);
}

/* Requests of 3 KiB, 60 of them in one write: a dozen full 16 KiB records, more than the
   server's 4 KiB head buffer takes per read. Whatever OpenSSL has read but not handed out,
   and every record after it, arrived before the server looked: the server must keep reading
   without waiting for a new edge from the socket. */
static void test_pipeline_through_openssl_buffer(void)
{
	enum { N = 60, PAD = 3000 };
	char *reqs = mem_alloc(N * (PAD + 100) + 100);
	char *pad = mem_alloc(PAD + 1);
	memset(pad, 'p', PAD);
	pad[PAD] = '\0';
	size_t off = 0;
	for (unsigned i = 0; i < N; i++)
		off +=
		    (size_t)snprintf(reqs + off, PAD + 100,
		                     "GET /t%u HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", i, pad);
	off += (size_t)snprintf(reqs + off, 100,
	                        "GET /last HTTP/1.1\r\nConnection: close\r\n"
	                        "Host: x\r\n\r\n");
	int fd = tcp_connect(tls_port);
	SSL *ssl = tls_connect(fd);
	tls_send(ssl, reqs, off);
	size_t len;
	char *out = tls_read_all(ssl, &len);
	unsigned answers = 0;
	for (const char *p = out;
	     (p = memmem(p, len - (size_t)(p - out), "\r\n\r\ntls", 7)) != NULL; p += 7)
		answers++;
	test_assert_int_eq(answers, N + 1);
	mem_free(&out);
	mem_free(&pad);
	mem_free(&reqs);
	SSL_free(ssl);
	close(fd);
}

static void test_garbage_and_plain_listener(void)
{
	struct http_server_stats before, after;
	http_server_get_stats(server, &before);
	const char *inputs[] = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	                        "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
	                        "\x16\x03\x01\xff\xff garbage"};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		int fd = tcp_connect(tls_port);
		test_assert(send(fd, inputs[i], strlen(inputs[i]) + 1, MSG_NOSIGNAL) > 0);
		shutdown(fd, SHUT_WR);
		char buf[256];
		while (recv(fd, buf, sizeof(buf), 0) > 0) {
		}
		close(fd);
	}
	http_server_get_stats(server, &after);
	test_assert_int_eq(after.tls_handshake_failures - before.tls_handshake_failures, 3);

	int fd = tcp_connect(plain_port);
	const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	test_assert(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) > 0);
	char buf[1024];
	size_t len = 0;
	ssize_t n;
	while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)n;
	close(fd);
	test_assert(len > 5 && memcmp(buf + len - 5, "plain", 5) == 0);
}

static void test_redirect(void)
{
	struct {
		const char *request, *host, *target;
	} cases[] = {
	    {"GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "example.com", "/a?b=c"},
	    {"GET http://h.example?q HTTP/1.1\r\nHost: h.example\r\n\r\n", "h.example", "/?q"},
	    {"OPTIONS * HTTP/1.1\r\nHost: [::1]\r\n\r\n", "[::1]", "/"},
	    {"GET /old HTTP/1.0\r\n\r\n", "127.0.0.1", "/old"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[200], buf[2048];
		snprintf(want, sizeof(want), "https://%s:%u%s", cases[i].host, tls_port,
		         cases[i].target);
		int fd = tcp_connect(redirect_port);
		test_assert(send(fd, cases[i].request, strlen(cases[i].request), MSG_NOSIGNAL) > 0);
		shutdown(fd, SHUT_WR);
		size_t len = 0;
		ssize_t n;
		while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
			len += (size_t)n;
		buf[len] = '\0';
		close(fd);
		test_set_context(cases[i].request);
		test_assert(strstr(buf, " 301 Moved Permanently\r\n") != NULL);
		char line[240];
		snprintf(line, sizeof(line), "\r\nLocation: %s\r\n", want);
		test_assert(strstr(buf, line) != NULL);
	}
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"ctx_errors", test_ctx_errors},
	    {"file_response_without_sendfile", test_file_response_without_sendfile},
	    {"streamed_response", test_streamed_response},
	    {"expect_continue_and_echo", test_expect_continue_and_echo},
	    {"pipeline_through_openssl_buffer", test_pipeline_through_openssl_buffer},
	    {"garbage_and_plain_listener", test_garbage_and_plain_listener},
	    {"redirect", test_redirect},
	    {NULL, NULL},
	};
	make_files();
	client_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_load_verify_locations(client_ctx, cert_path, NULL);
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
	start_server();
	int code = test_run(cases);
	http_server_shutdown(server, 5000);
	http_server_destroy(&server);
	SSL_CTX_free(client_ctx);
	remove_files();
	return code;
}
