/* SPDX-License-Identifier: MIT */
/* TLS for the HTTP server: an OpenSSL server context per certificate, and the per-connection
   calls the HTTP server's connections make, so that only http-tls.c includes OpenSSL. */
#ifndef TANDEM_HTTP_TLS_H
#define TANDEM_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A server context: one certificate chain and its key, and the protocol policy (TLS 1.2 and
   1.3 only; for 1.2 ECDHE key exchange with AEAD ciphers only; no compression, no
   renegotiation; session tickets on). Refcounted; shared by the loop threads read-only. */
struct http_tls_ctx;
/* One connection's TLS state. */
struct http_tls_conn;

/* Loads cert_file (PEM: the leaf certificate first, then any intermediates) and key_file (PEM,
   unencrypted) and checks that the key belongs to the certificate. Returns 0 with a context
   holding one reference in *ctx_r, or -1 with a message naming the file and the reason
   ("tls: /etc/x.pem: no certificate or not PEM"), valid until the next call on this thread. */
int http_tls_ctx_create(const char *cert_file, const char *key_file, struct http_tls_ctx **ctx_r,
                        const char **error_r);
void http_tls_ctx_ref(struct http_tls_ctx *ctx);
/* Drops a reference and sets *ctx to NULL; NULL is a no-op. Thread-safe. */
void http_tls_ctx_unref(struct http_tls_ctx **ctx);

/* --- per connection: for the server's http-conn*.c only --- */

/* Negative results of the calls below besides -1 (fatal: close without a TLS shutdown). */
#define HTTP_TLS_WANT_READ  (-2) /* retry the same call once the socket is readable */
#define HTTP_TLS_WANT_WRITE (-3) /* retry the same call once the socket is writable */

/* A server-side connection on the non-blocking socket fd (which stays the caller's). */
struct http_tls_conn *http_tls__conn_create(struct http_tls_ctx *ctx, int fd);
/* Frees the TLS state (never sends anything); NULL is a no-op. */
void http_tls__conn_free(struct http_tls_conn **tc);
/* Advances the handshake: 1 when done, HTTP_TLS_WANT_*, or -1 with a short reason in
 *error_r ("wrong version number", "connection closed"). */
int http_tls__handshake(struct http_tls_conn *tc, const char **error_r);
/* Decrypted bytes (> 0), 0 at the peer's close (close_notify or plain EOF), HTTP_TLS_WANT_*,
   or -1. After a short or full read more may be buffered inside OpenSSL: only
   HTTP_TLS_WANT_READ means the socket was drained. */
ssize_t http_tls__read(struct http_tls_conn *tc, void *buf, size_t len);
/* Bytes taken (> 0; may be fewer than len), HTTP_TLS_WANT_*, or -1. After a WANT result the
   next call must pass the same bytes again (at least the same length). */
ssize_t http_tls__write(struct http_tls_conn *tc, const void *buf, size_t len);
/* Sends close_notify if the connection is still sound; best effort, never blocks. */
void http_tls__shutdown(struct http_tls_conn *tc);

#endif
