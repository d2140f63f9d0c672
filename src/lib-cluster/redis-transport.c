/* SPDX-License-Identifier: MIT */
/* TCP and TLS streams to Redis with deadlines (see redis-transport.h). The socket is
   non-blocking and every wait is a poll() bounded by the caller's deadline, so a silent
   server or a stalled handshake costs at most the configured timeout. */
#include "redis-transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "hostport.h"
#include "mem.h"
#include "redis-url.h"

struct redis_transport {
	int fd;
	SSL *ssl;   /* NULL: plain TCP */
	bool fatal; /* OpenSSL forbids SSL_shutdown() after SSL_ERROR_SSL or _SYSCALL */
};

/* 1 when fd is ready for events (or has an error to report), 0 at the deadline, -1 on a
   poll() failure. */
static int wait_ready(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = clock_mono_ms();
		if (now >= deadline_ms)
			return 0;
		uint64_t left = deadline_ms - now;
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* ---------------------------------------------------------------- TLS contexts */

/* An encrypted key would make OpenSSL prompt on the terminal: refuse instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)userdata = true;
	return -1;
}

/* OpenSSL's first queued reason, which names the cause; later ones only say where it
   surfaced. */
static const char *openssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	if (reason == NULL ||
	    (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
		return fallback;
	return reason;
}

/* OpenSSL would only say "system lib" for a file it cannot open. */
static int check_readable(const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* Client policy: TLS 1.2 or 1.3, security level 2 (no RSA under 2048 bits, no SHA-1), the
   peer's certificate verified. */
static SSL_CTX *client_ctx(const struct redis_tls *tls, const char **bad_file_r, char *err,
                           size_t err_size)
{
	bool asked = false;
	SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
	*bad_file_r = NULL;
	ERR_clear_error();
	if (sc == NULL) {
		snprintf(err, err_size, "TLS: cannot create a context: %s",
		         openssl_reason("unknown error"));
		return NULL;
	}
	SSL_CTX_set_security_level(sc, 2);
	SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION);
	SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_default_passwd_cb(sc, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(sc, &asked);
	if (tls->ca_file[0] == '\0') {
		if (SSL_CTX_set_default_verify_paths(sc) != 1) {
			snprintf(err, err_size, "TLS: cannot load the system's CA store: %s",
			         openssl_reason("unknown error"));
			goto fail;
		}
	} else {
		*bad_file_r = tls->ca_file;
		if (check_readable(tls->ca_file, err, err_size) < 0)
			goto fail;
		if (SSL_CTX_load_verify_locations(sc, tls->ca_file, NULL) != 1) {
			snprintf(err, err_size, "%s: %s", tls->ca_file,
			         openssl_reason("no CA certificate or not PEM"));
			goto fail;
		}
	}
	if (tls->cert_file[0] != '\0') {
		*bad_file_r = tls->cert_file;
		if (check_readable(tls->cert_file, err, err_size) < 0)
			goto fail;
		if (SSL_CTX_use_certificate_chain_file(sc, tls->cert_file) != 1) {
			snprintf(err, err_size, "%s: %s", tls->cert_file,
			         openssl_reason("no certificate or not PEM"));
			goto fail;
		}
		*bad_file_r = tls->key_file;
		if (check_readable(tls->key_file, err, err_size) < 0)
			goto fail;
		if (SSL_CTX_use_PrivateKey_file(sc, tls->key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(sc) != 1) {
			unsigned long e = ERR_peek_error();
			if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
			    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
				snprintf(err, err_size, "%s: key does not match the certificate %s",
				         tls->key_file, tls->cert_file);
			else if (asked)
				snprintf(err, err_size,
				         "%s: the key is encrypted (a passphrase is not supported)",
				         tls->key_file);
			else
				snprintf(err, err_size, "%s: %s", tls->key_file,
				         openssl_reason("no private key or not PEM"));
			goto fail;
		}
	}
	SSL_CTX_set_default_passwd_cb(sc, NULL);
	SSL_CTX_set_default_passwd_cb_userdata(sc, NULL);
	*bad_file_r = NULL;
	ERR_clear_error();
	return sc;
fail:
	SSL_CTX_free(sc);
	ERR_clear_error();
	return NULL;
}

/* Loading a context costs up to ~20 ms (the system's store is ~140 certificates): one per
   TLS setting is kept for the process and reused by every connect, and loaded again when a
   file it was loaded from changes (a renewed client certificate, a new CA bundle). */
#define CTX_CACHE_MAX 8

struct ctx_cache_entry {
	struct redis_tls tls;
	struct timespec mtimes[3]; /* ca, cert, key; zero when unset or missing */
	SSL_CTX *ctx;
};

static pthread_mutex_t ctx_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_cache_entry ctx_cache[CTX_CACHE_MAX];
static unsigned ctx_cache_next; /* the slot to replace when all are taken */

static bool same_files(const struct redis_tls *a, const struct redis_tls *b)
{
	return strcmp(a->ca_file, b->ca_file) == 0 && strcmp(a->cert_file, b->cert_file) == 0 &&
	       strcmp(a->key_file, b->key_file) == 0;
}

static void file_mtimes(const struct redis_tls *tls, struct timespec mtimes[3])
{
	const char *files[3] = {tls->ca_file, tls->cert_file, tls->key_file};
	for (int i = 0; i < 3; i++) {
		struct stat st;
		memset(&mtimes[i], 0, sizeof(mtimes[i]));
		if (files[i][0] != '\0' && stat(files[i], &st) == 0)
			mtimes[i] = st.st_mtim;
	}
}

/* A context for tls with a reference for the caller. */
static SSL_CTX *cached_ctx(const struct redis_tls *tls, char *err, size_t err_size)
{
	struct timespec mtimes[3];
	const char *bad_file;
	file_mtimes(tls, mtimes);
	pthread_mutex_lock(&ctx_cache_lock);
	for (unsigned i = 0; i < CTX_CACHE_MAX; i++) {
		struct ctx_cache_entry *e = &ctx_cache[i];
		if (e->ctx != NULL && same_files(&e->tls, tls) &&
		    memcmp(e->mtimes, mtimes, sizeof(mtimes)) == 0) {
			SSL_CTX *sc = e->ctx;
			SSL_CTX_up_ref(sc);
			pthread_mutex_unlock(&ctx_cache_lock);
			return sc;
		}
	}
	pthread_mutex_unlock(&ctx_cache_lock);

	SSL_CTX *sc = client_ctx(tls, &bad_file, err, err_size); /* outside the lock: slow */
	if (sc == NULL)
		return NULL;
	pthread_mutex_lock(&ctx_cache_lock);
	struct ctx_cache_entry *slot = NULL;
	for (unsigned i = 0; i < CTX_CACHE_MAX && slot == NULL; i++) {
		if (ctx_cache[i].ctx == NULL || same_files(&ctx_cache[i].tls, tls))
			slot = &ctx_cache[i];
	}
	if (slot == NULL)
		slot = &ctx_cache[ctx_cache_next++ % CTX_CACHE_MAX];
	SSL_CTX_free(slot->ctx); /* connections made with it hold their own references */
	slot->tls = *tls;
	memcpy(slot->mtimes, mtimes, sizeof(mtimes));
	slot->ctx = sc;
	SSL_CTX_up_ref(sc);
	pthread_mutex_unlock(&ctx_cache_lock);
	return sc;
}

int redis_transport_tls_check(const struct redis_tls *tls, const char **bad_file_r, char *err,
                              size_t err_size)
{
	SSL_CTX *sc = client_ctx(tls, bad_file_r, err, err_size);
	if (sc == NULL)
		return -1;
	SSL_CTX_free(sc);
	return 0;
}

/* ---------------------------------------------------------------- connect */

static int tcp_connect(const char *host, uint16_t port, uint64_t deadline_ms, unsigned timeout_ms,
                       char *err, size_t err_size)
{
	struct addrinfo *res;
	const char *why;
	int fd = -1;

	if (hostport_resolve(host, port, &res, &why) < 0) {
		snprintf(err, err_size, "cannot resolve %s: %s", host, why);
		return -1;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			snprintf(err, err_size, "socket: %s", strerror(errno));
			continue;
		}
		int so_error = 0;
		socklen_t len = sizeof(so_error);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			so_error = errno;
			if (so_error == EINPROGRESS) {
				int w = wait_ready(fd, POLLOUT, deadline_ms);
				if (w == 0) {
					snprintf(err, err_size, "connect timed out after %u ms",
					         timeout_ms);
					close(fd);
					fd = -1;
					break; /* the deadline is shared by every address */
				}
				so_error = w < 0 ? errno : 0;
				if (w > 0 &&
				    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
					so_error = errno;
			}
		}
		if (so_error == 0)
			break;
		snprintf(err, err_size, "%s", strerror(so_error));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

/* The name the certificate must carry: an IP address is checked against the certificate's
   IP entries, a DNS name against its DNS names (and sent as SNI). */
static int set_peer_name(SSL *ssl, const char *name)
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, name) != 1 || SSL_set_tlsext_host_name(ssl, name) != 1)
		return -1;
	return 0;
}

static void handshake_error(struct redis_transport *t, int ret, const char *name, char *err,
                            size_t err_size)
{
	long verify = SSL_get_verify_result(t->ssl);
	int e = SSL_get_error(t->ssl, ret);
	t->fatal = true;
	if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(err, err_size, "TLS: the server's certificate is not valid for %s", name);
	else if (verify != X509_V_OK)
		snprintf(err, err_size, "TLS: the server's certificate is not trusted: %s",
		         X509_verify_cert_error_string(verify));
	else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(
		    err, err_size, "TLS: the server closed the connection in the handshake%s%s",
		    errno != 0 ? ": " : " (not a TLS port?)", errno != 0 ? strerror(errno) : "");
	else if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_WRONG_VERSION_NUMBER)
		snprintf(err, err_size,
		         "TLS: the server does not speak TLS (wrong version number): "
		         "for a plain port use redis://");
	else
		snprintf(err, err_size, "TLS: handshake failed: %s",
		         openssl_reason("unknown error"));
}

static int tls_handshake(struct redis_transport *t, const char *host, const struct redis_tls *tls,
                         uint64_t deadline_ms, unsigned timeout_ms, char *err, size_t err_size)
{
	const char *name = tls->server_name[0] != '\0' ? tls->server_name : host;
	SSL_CTX *sc = cached_ctx(tls, err, err_size);
	if (sc == NULL)
		return -1;
	t->ssl = SSL_new(sc);
	SSL_CTX_free(sc); /* the connection holds its own reference */
	if (t->ssl == NULL || SSL_set_fd(t->ssl, t->fd) != 1 || set_peer_name(t->ssl, name) < 0) {
		snprintf(err, err_size, "TLS: cannot set up the connection to %s: %s", name,
		         openssl_reason("unknown error"));
		t->fatal = true;
		ERR_clear_error();
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int ret = SSL_connect(t->ssl);
		if (ret == 1)
			return 0;
		int e = SSL_get_error(t->ssl, ret);
		short events = e == SSL_ERROR_WANT_READ    ? POLLIN
		               : e == SSL_ERROR_WANT_WRITE ? POLLOUT
		                                           : 0;
		if (events == 0) {
			handshake_error(t, ret, name, err, err_size);
			ERR_clear_error();
			return -1;
		}
		int w = wait_ready(t->fd, events, deadline_ms);
		if (w <= 0) {
			if (w == 0)
				snprintf(
				    err, err_size,
				    "TLS: no handshake within %u ms (not a TLS port? for a plain "
				    "port use redis://)",
				    timeout_ms);
			else
				snprintf(err, err_size, "TLS: poll: %s", strerror(errno));
			t->fatal = true;
			return -1;
		}
	}
}

struct redis_transport *redis_transport_connect(const char *host, uint16_t port,
                                                const struct redis_tls *tls, unsigned timeout_ms,
                                                char *err, size_t err_size)
{
	uint64_t deadline = clock_mono_ms() + timeout_ms;
	int fd = tcp_connect(host, port, deadline, timeout_ms, err, err_size);
	if (fd < 0)
		return NULL;
	struct redis_transport *t = mem_calloc(1, sizeof(*t));
	t->fd = fd;
	if (tls != NULL && tls_handshake(t, host, tls, deadline, timeout_ms, err, err_size) < 0)
		redis_transport_close(&t);
	return t;
}

void redis_transport_close(struct redis_transport **tp)
{
	struct redis_transport *t = *tp;
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		if (!t->fatal)
			(void)SSL_shutdown(t->ssl); /* one non-blocking attempt */
		SSL_free(t->ssl);
		ERR_clear_error();
	}
	close(t->fd);
	mem_free(tp);
}

/* ---------------------------------------------------------------- I/O */

/* After a TLS call failed: the events to wait for, or 0 with err set. */
static short tls_failed(struct redis_transport *t, int ret, char *err, size_t err_size)
{
	switch (SSL_get_error(t->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, err_size, "connection closed by the server");
		return 0;
	case SSL_ERROR_SYSCALL:
		t->fatal = true;
		if (ERR_peek_error() == 0) {
			snprintf(err, err_size, "%s",
			         errno != 0 ? strerror(errno) : "connection closed by the server");
			return 0;
		}
		/* fall through */
	default:
		t->fatal = true;
		snprintf(err, err_size, "TLS: %s", openssl_reason("unknown error"));
		return 0;
	}
}

/* Plain socket result: 0 done (n > 0), else the events to wait for, or -1 with err. */
static int plain_failed(ssize_t n, bool reading, char *err, size_t err_size)
{
	if (n == 0) {
		if (!reading)
			return POLLOUT;
		snprintf(err, err_size, "connection closed by the server");
		return -1;
	}
	if (errno == EINTR)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return reading ? POLLIN : POLLOUT;
	snprintf(err, err_size, "%s", strerror(errno));
	return -1;
}

/* One step of a read or write: bytes moved (> 0), or 0 to wait for *events_r, or -1. */
static ssize_t step(struct redis_transport *t, bool reading, void *buf, size_t len, short *events_r,
                    char *err, size_t err_size)
{
	int chunk = len > INT_MAX ? INT_MAX : (int)len;
	*events_r = 0;
	if (t->ssl != NULL) {
		ERR_clear_error();
		errno = 0;
		int n = reading ? SSL_read(t->ssl, buf, chunk) : SSL_write(t->ssl, buf, chunk);
		if (n > 0)
			return n;
		*events_r = tls_failed(t, n, err, err_size);
		return *events_r != 0 ? 0 : -1;
	}
	ssize_t n = reading ? recv(t->fd, buf, len, 0) : send(t->fd, buf, len, MSG_NOSIGNAL);
	if (n > 0)
		return n;
	int w = plain_failed(n, reading, err, err_size);
	if (w < 0)
		return -1;
	*events_r = (short)w;
	return 0;
}

static ssize_t transfer(struct redis_transport *t, bool reading, void *buf, size_t len,
                        uint64_t deadline_ms, char *err, size_t err_size)
{
	for (;;) {
		short events;
		ssize_t n = step(t, reading, buf, len, &events, err, err_size);
		if (n != 0)
			return n > 0 ? n : REDIS_TRANSPORT_ERROR;
		if (events == 0)
			continue; /* EINTR */
		int w = wait_ready(t->fd, events, deadline_ms);
		if (w == 0)
			return REDIS_TRANSPORT_TIMEOUT;
		if (w < 0) {
			snprintf(err, err_size, "poll: %s", strerror(errno));
			return REDIS_TRANSPORT_ERROR;
		}
	}
}

int redis_transport_write(struct redis_transport *t, const void *buf, size_t len,
                          uint64_t deadline_ms, char *err, size_t err_size)
{
	size_t done = 0;
	while (done < len) {
		/* A TLS write that must be retried is retried with the same arguments: the
		   chunk is the same as long as the remaining length is. */
		ssize_t n =
		    transfer(t, false, (char *)buf + done, len - done, deadline_ms, err, err_size);
		if (n < 0)
			return (int)n;
		done += (size_t)n;
	}
	return 0;
}

ssize_t redis_transport_read(struct redis_transport *t, void *buf, size_t len, uint64_t deadline_ms,
                             char *err, size_t err_size)
{
	return transfer(t, true, buf, len, deadline_ms, err, err_size);
}

void redis_transport_interrupt(struct redis_transport *t)
{
	shutdown(t->fd, SHUT_RDWR);
}

bool redis_transport_idle_ok(struct redis_transport *t)
{
	struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
	int n = poll(&pfd, 1, 0);
	if (n == 0)
		return true;
	if (n < 0 || t->ssl == NULL || (pfd.revents & (POLLERR | POLLNVAL)) != 0)
		return false;
	/* TLS 1.3 servers send session tickets after the handshake: those are no reply. */
	char c, why[128];
	ERR_clear_error();
	int r = SSL_peek(t->ssl, &c, 1);
	if (r > 0)
		return false;
	short events = tls_failed(t, r, why, sizeof(why));
	ERR_clear_error();
	return events == POLLIN;
}
