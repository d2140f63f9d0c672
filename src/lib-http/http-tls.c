/* SPDX-License-Identifier: MIT */
/* OpenSSL server contexts and the non-blocking per-connection calls behind http-tls.h. */
#include "http-tls.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mem.h"

/* TLS 1.2 only: forward secrecy (ECDHE) and AEAD ciphers; TLS 1.3's own suites are all
   AEAD and stay at OpenSSL's default. */
#define TLS12_CIPHERS                                                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"

struct http_tls_ctx {
	SSL_CTX *ssl_ctx;
	_Atomic unsigned refs;
};

struct http_tls_conn {
	SSL *ssl;
	bool fatal; /* OpenSSL forbids SSL_shutdown() after SSL_ERROR_SSL or _SYSCALL */
};

/* ---------------------------------------------------------------- contexts */

struct passwd_state {
	bool asked;
};

/* An encrypted key would make OpenSSL prompt on the terminal: refuse instead, and remember
   why the key did not load. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	struct passwd_state *st = userdata;
	(void)buf;
	(void)size;
	(void)rwflag;
	st->asked = true;
	return -1;
}

/* OpenSSL's reason, in words an operator can act on. The first queued error is the cause;
   later ones only say where it surfaced ("PEM lib"). */
static const char *openssl_reason(bool key)
{
	unsigned long e = ERR_peek_error();
	const char *reason;

	if (e == 0)
		return key ? "no private key or not PEM" : "no certificate or not PEM";
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		return key ? "no private key or not PEM" : "no certificate or not PEM";
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_EE_KEY_TOO_SMALL)
		return "the certificate's key is too small (RSA needs at least 2048 bits)";
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CA_MD_TOO_WEAK)
		return "the certificate is signed with a weak digest (MD5 or SHA-1)";
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CA_KEY_TOO_SMALL)
		return "an intermediate certificate's key is too small";
	reason = ERR_reason_error_string(e);
	if (reason == NULL)
		return key ? "no private key or not PEM" : "no certificate or not PEM";
	/* OpenSSL 3's decoders say "unsupported" for a file that holds no key they know. */
	if (key && strcmp(reason, "unsupported") == 0)
		return "no private key or not PEM";
	if (ERR_GET_LIB(e) == ERR_LIB_PEM || ERR_GET_LIB(e) == ERR_LIB_ASN1) {
		static __thread char msg[160];
		snprintf(msg, sizeof(msg), "not a valid PEM %s (%s)",
		         key ? "private key" : "certificate", reason);
		return msg;
	}
	return reason;
}

/* The file must exist and be readable; OpenSSL would only say "system lib". */
static int check_readable(const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, err_size, "tls: %s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

int http_tls_ctx_create(const char *cert_file, const char *key_file, struct http_tls_ctx **ctx_r,
                        const char **error_r)
{
	static __thread char err[4500];
	struct passwd_state pw = {false};
	SSL_CTX *sc = NULL;
	int ret = -1;

	*ctx_r = NULL;
	ERR_clear_error();
	if (check_readable(cert_file, err, sizeof(err)) < 0 ||
	    check_readable(key_file, err, sizeof(err)) < 0)
		goto out;
	sc = SSL_CTX_new(TLS_server_method());
	if (sc == NULL) {
		snprintf(err, sizeof(err), "tls: cannot create a context: %s",
		         ERR_reason_error_string(ERR_peek_last_error()));
		goto out;
	}
	/* Pinned here rather than taken from the system's openssl.cnf, so the policy is the
	   same on every host: level 2 refuses RSA keys under 2048 bits and SHA-1 signatures. */
	SSL_CTX_set_security_level(sc, 2);
	if (SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(sc, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(sc, TLS_GROUPS) != 1) {
		snprintf(err, sizeof(err), "tls: the protocol policy is not supported: %s",
		         ERR_reason_error_string(ERR_peek_last_error()));
		goto out;
	}
	SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                            SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Partial writes let a write be accounted like send(); the buffer may move between
	   retries because the connection's output buffer is a growable one. Idle keep-alive
	   connections give their ~34 KiB of record buffers back. */
	SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                         SSL_MODE_RELEASE_BUFFERS);
	/* Tickets (stateless resumption) are on by default; the id context lets TLS 1.2
	   session-id resumption work too. */
	SSL_CTX_set_session_id_context(sc, (const unsigned char *)"tandem", 6);
	SSL_CTX_set_default_passwd_cb(sc, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(sc, &pw);

	if (SSL_CTX_use_certificate_chain_file(sc, cert_file) != 1) {
		snprintf(err, sizeof(err), "tls: %s: %s", cert_file, openssl_reason(false));
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(sc, key_file, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_error();
		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			snprintf(err, sizeof(err), "tls: %s: key does not match the certificate %s",
			         key_file, cert_file);
		else if (pw.asked)
			snprintf(err, sizeof(err),
			         "tls: %s: the key is encrypted (a passphrase is not supported)",
			         key_file);
		else
			snprintf(err, sizeof(err), "tls: %s: %s", key_file, openssl_reason(true));
		goto out;
	}
	if (SSL_CTX_check_private_key(sc) != 1) {
		snprintf(err, sizeof(err), "tls: %s: key does not match the certificate %s",
		         key_file, cert_file);
		goto out;
	}
	SSL_CTX_set_default_passwd_cb(sc, NULL);
	SSL_CTX_set_default_passwd_cb_userdata(sc, NULL);

	struct http_tls_ctx *ctx = mem_calloc(1, sizeof(*ctx));
	ctx->ssl_ctx = sc;
	atomic_init(&ctx->refs, 1);
	sc = NULL;
	*ctx_r = ctx;
	ret = 0;
out:
	SSL_CTX_free(sc);
	ERR_clear_error();
	if (ret < 0)
		*error_r = err;
	return ret;
}

void http_tls_ctx_ref(struct http_tls_ctx *ctx)
{
	atomic_fetch_add(&ctx->refs, 1);
}

void http_tls_ctx_unref(struct http_tls_ctx **ctxp)
{
	struct http_tls_ctx *ctx = *ctxp;
	if (ctx == NULL)
		return;
	*ctxp = NULL;
	if (atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	mem_free(&ctx);
}

/* ---------------------------------------------------------------- connections */

struct http_tls_conn *http_tls__conn_create(struct http_tls_ctx *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx->ssl_ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		abort(); /* out of memory: as the allocator wrapper would */
	SSL_set_accept_state(ssl);
	struct http_tls_conn *tc = mem_calloc(1, sizeof(*tc));
	tc->ssl = ssl;
	return tc;
}

void http_tls__conn_free(struct http_tls_conn **tcp)
{
	struct http_tls_conn *tc = *tcp;
	if (tc == NULL)
		return;
	SSL_free(tc->ssl);
	mem_free(tcp);
}

/* Maps a failed call's result. The error queue is emptied before every call and after every
   failure, so SSL_get_error() only ever sees this connection's errors. */
static int failure(struct http_tls_conn *tc, int n)
{
	switch (SSL_get_error(tc->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return HTTP_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return HTTP_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		tc->fatal = true;
		ERR_clear_error();
		return -1;
	}
}

int http_tls__handshake(struct http_tls_conn *tc, const char **error_r)
{
	static __thread char reason[128];

	ERR_clear_error();
	int n = SSL_do_handshake(tc->ssl);
	if (n == 1)
		return 1;
	int err = SSL_get_error(tc->ssl, n);
	if (err == SSL_ERROR_WANT_READ)
		return HTTP_TLS_WANT_READ;
	if (err == SSL_ERROR_WANT_WRITE)
		return HTTP_TLS_WANT_WRITE;
	tc->fatal = true;
	unsigned long e = ERR_peek_last_error();
	if (e != 0) {
		const char *r = ERR_reason_error_string(e);
		snprintf(reason, sizeof(reason), "%s", r != NULL ? r : "protocol error");
	} else if (err == SSL_ERROR_SYSCALL && errno != 0) {
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	} else {
		snprintf(reason, sizeof(reason), "connection closed");
	}
	*error_r = reason;
	ERR_clear_error();
	return -1;
}

ssize_t http_tls__read(struct http_tls_conn *tc, void *buf, size_t len)
{
	ERR_clear_error();
	int n = SSL_read(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	return failure(tc, n);
}

ssize_t http_tls__write(struct http_tls_conn *tc, const void *buf, size_t len)
{
	ERR_clear_error();
	int n = SSL_write(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	int ret = failure(tc, n);
	return ret == 0 ? -1 : ret; /* the peer's close_notify does not make a write succeed */
}

void http_tls__shutdown(struct http_tls_conn *tc)
{
	if (tc->fatal || !SSL_is_init_finished(tc->ssl))
		return;
	ERR_clear_error();
	/* One call sends our close_notify; waiting for the peer's is not worth a round trip. */
	(void)SSL_shutdown(tc->ssl);
	ERR_clear_error();
}
