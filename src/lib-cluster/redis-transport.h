/* SPDX-License-Identifier: MIT */
/* The byte stream under a Redis connection: TCP, or TLS through OpenSSL with the server's
   certificate verified, every call bounded by a deadline. Inside lib-cluster only: redis.c
   speaks RESP over it (hiredis's reader and formatter), redis-config.c checks TLS files with
   it; only redis-transport.c includes OpenSSL. */
#ifndef TANDEM_REDIS_TRANSPORT_H
#define TANDEM_REDIS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct redis_tls;
struct redis_transport;

/* Results of read and write besides a byte count. */
#define REDIS_TRANSPORT_ERROR   (-1) /* broken: err says why */
#define REDIS_TRANSPORT_TIMEOUT (-2) /* the deadline passed; the stream is out of step */

/* Loads what a TLS connect would load (the CA file or the system's store, the client
   certificate and key, and checks that they belong together). Returns 0, or -1 with err
   naming the file and the reason and *bad_file_r pointing at that member of tls. */
int redis_transport_tls_check(const struct redis_tls *tls, const char **bad_file_r, char *err,
                              size_t err_size);

/* Connects to host:port (each address it resolves to in turn) and, with tls != NULL, does the
   TLS handshake verifying the certificate's chain and name (tls->server_name, else host). All
   within timeout_ms. Returns NULL with err ("connect: Connection refused", "TLS: the
   server's certificate is not trusted: …"); no prefix naming the server. */
struct redis_transport *redis_transport_connect(const char *host, uint16_t port,
                                                const struct redis_tls *tls, unsigned timeout_ms,
                                                char *err, size_t err_size);
/* Closes (with a TLS close_notify when the stream is sound); NULL is a no-op. */
void redis_transport_close(struct redis_transport **t);
/* Writes all len bytes before deadline_ms (clock_mono_ms()): 0 or REDIS_TRANSPORT_*. */
int redis_transport_write(struct redis_transport *t, const void *buf, size_t len,
                          uint64_t deadline_ms, char *err, size_t err_size);
/* Reads at least one byte before deadline_ms: the count, or REDIS_TRANSPORT_* (the server
   closing the connection is an error). */
ssize_t redis_transport_read(struct redis_transport *t, void *buf, size_t len, uint64_t deadline_ms,
                             char *err, size_t err_size);
/* From another thread: makes a read or write blocked on t fail at once (shutdown of the
   socket). t must stay open meanwhile. */
void redis_transport_interrupt(struct redis_transport *t);
/* For a connection with no reply outstanding: false when the server closed it or sent
   something unasked for. Never waits. (TLS messages such as session tickets are taken.) */
bool redis_transport_idle_ok(struct redis_transport *t);

#endif
