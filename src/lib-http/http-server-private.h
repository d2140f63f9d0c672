/* SPDX-License-Identifier: MIT */
/* The HTTP server's state shared by its files (http-server.c: listeners, accept, threads;
   http-conn.c: the connection state machine; http-conn-write.c: responses on the wire;
   http-request.c and http-response.c: the application API; http-conn-tls.c: TLS I/O;
   http-conn-ring.c: io_uring I/O; http-conn-guard.c: slow and greedy clients;
   http-conn-ajp.c: AJP13 connections). Not for applications. */
#ifndef TANDEM_HTTP_SERVER_PRIVATE_H
#define TANDEM_HTTP_SERVER_PRIVATE_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "buf.h"
#include "http-chunked.h"
#include "http-parser.h"
#include "http-server.h"
#include "http-source-cap.h"
#include "ioloop.h"

#define MAX_LISTENERS    16
#define IN_BUF_INITIAL   4096
#define IN_BUF_BODY      (64 * 1024)
#define STREAM_CHUNK     (16 * 1024)
#define LINGER_MS        2000
#define LINGER_MAX_BYTES (1024 * 1024)
#define SWEEP_MS         250
#define RECYCLE_MAX      (64 * 1024)
#define SMALL_BODY       (8 * 1024)
#define OUT_BUF_MAX      (64 * 1024 * 1024)
#define SPARES_MAX       256         /* parked workspaces per loop thread */
#define TLS_FILE_CHUNK   (64 * 1024) /* pread() + SSL_write() in place of sendfile() */

enum conn_state {
	CS_HANDSHAKE, /* TLS listener: the handshake runs before anything is read */
	CS_HEAD,      /* waiting for / reading a request head */
	CS_BODY,      /* reading the request body */
	CS_HANDLING,  /* the application owns the request */
	CS_WRITING,   /* sending the response */
	CS_LINGER,    /* response sent, write side shut, draining input before close */
	CS_CLOSED,
};

struct listen_spec {
	char host[64];
	uint16_t port;
	char bound[80];
	struct http_tls_ctx *tls; /* a reference; NULL = plain */
	bool https_redirect;
	bool ajp;         /* an AJP13 listener (docs/internals/ajp.md) */
	char *ajp_secret; /* owned; NULL = requests need none */
};

struct loop_thread;

struct http_request {
	struct conn *conn;
	struct pool *pool;
	struct http_request_head head;
	char id[17];
	bool forwarded_tls; /* AJP: the front end says its client used TLS (is_ssl) */

	http_body_sink_fn *sink;
	void *sink_ctx;
	bool sink_failed;
	bool body_paused; /* the sink said HTTP_SINK_PAUSE: no body reads until resumed */
	bool body_held;   /* http_request_pause_body(): not even the body's end until resumed */
	bool continue_pending; /* 100 Continue is owed once the held body is resumed */
	struct buf body;
	uint64_t body_received;
	uint64_t body_remaining; /* Content-Length framing */
	struct http_chunked_decoder chunked;
	bool body_done;

	int status;
	struct buf resp_headers;
	struct buf resp_body;
	int file_fd;
	off_t file_off;
	uint64_t file_left;
	http_body_producer_fn *producer;
	void *producer_ctx;
	bool close_after;
	bool responded;
	bool head_only;
	bool chunked_out;
	bool stream_sized;    /* http_response_stream_sized(): Content-Length, no chunks */
	bool stream_hangup;   /* http_response_stream_events(): a half-close ends it */
	uint64_t stream_left; /* sized stream: bytes the producer still owes */
	bool head_length_set; /* http_response_head_length() */
	uint64_t head_length;
	http_abort_fn *abort_fn;
	void *abort_ctx;
	void *app_ctx;

	/* http_router_find()'s answer (http-router.c); router NULL: not looked up yet */
	const struct http_router *router;
	const struct http_route *route;
	const struct http_route_param *params; /* in pool; values NUL-terminated */
	unsigned param_count;
	/* access log (settings.on_access) */
	uint64_t start_us; /* monotonic, the head's first byte */
	uint64_t body_out; /* response body bytes */
	const char *user;  /* in pool, or NULL */
	const char *log_route;
};

struct conn {
	struct loop_thread *lt;
	struct conn *prev, *next;
	int fd;
	struct io *io;
	struct http_tls_conn *tls; /* NULL on plain listeners */
	http_head_fn *on_head;     /* the application's, or the HTTPS redirect */
	char peer[64];
	char peer_ip[INET6_ADDRSTRLEN];
	enum conn_state state;

	char *in;
	size_t in_off, in_len, in_cap;
	struct http_request_parser parser;
	struct http_header *headers;
	struct http_request req;
	bool keep_alive;
	bool in_callback;
	bool read_drained; /* the last read was short: wait for the next epoll edge */
	bool busy;         /* a request arrived since the last sweep */
	bool waiting_write;
	bool stream_blocked;
	bool stream_eof;
	/* Set on the loop thread only, when the handler's response has reached the loop: a
	   worker's req->responded is never read by the loop, which would race with its post. */
	bool response_ready;
	/* AJP13 (http-conn-ajp.c): ajp_asked, a GET_BODY_CHUNK is unanswered (or the first body
	   packet is on its way unasked); ajp_ended, END_RESPONSE is in out. */
	bool ajp, ajp_asked, ajp_ended;
	const char *ajp_secret; /* the listener's, NULL = none needed */

	struct buf out;
	size_t out_sent;
	size_t body_sent;
	uint64_t deadline_ms;
	uint64_t linger_bytes;
	/* body_min_rate: the body bytes received by the start of the current window */
	uint64_t rate_mark_ms, rate_mark_bytes;
	bool source_counted; /* source is counted in the server's per-source cap */
	struct http_source_key source;

	/* Socket I/O as ring operations (plain connections on a loop with a ring): at most one
	   recv, one send and one poll in flight, and the connection is freed only when none is. */
	bool ring;
	bool recv_busy, send_busy, poll_busy;
	bool hup_busy;     /* a poll for the peer's hang-up while a streamed response waits */
	bool recv_direct;  /* the recv in flight writes into in, not into a provided buffer */
	bool recv_eof;     /* a recv found the end of the stream or failed */
	bool received;     /* a recv brought bytes before */
	bool cancelling;   /* freed while operations were in flight: they are being cancelled */
	struct ring_rx rx; /* received, not yet taken into in */
	struct ring_op recv_op, send_op, poll_op, hup_op;
	struct iovec iov[2];
	struct msghdr msg;
};

/* The buffers a connection needs only while it has a request. They are parked on the loop
   thread while the connection idles and lent to the next connection that gets a request, so
   thousands of idle keep-alive connections cost little more than their struct conn. */
struct workspace {
	struct workspace *next;
	char *in; /* IN_BUF_INITIAL bytes */
	struct http_header *headers;
	struct pool *pool;
	struct buf out, body, resp_headers, resp_body;
};

struct loop_thread {
	struct http_server *server;
	struct workspace *spare; /* parked, with buffers */
	struct workspace *empty; /* lent out: the structs alone */
	unsigned spare_count;
	unsigned index;
	pthread_t thread;
	struct ioloop *loop;
	int listen_fds[MAX_LISTENERS];
	struct io *listen_ios[MAX_LISTENERS];
	struct conn *conns;
	unsigned conn_count;
	struct timer *sweep;
	bool draining;
	bool stopped;
	char date_line[48];
	size_t date_line_len;
	time_t date_sec;
	uint32_t id_prefix;
	uint32_t id_counter;
	_Atomic uint64_t accepted, requests, parse_errors, timeouts, open, tls_failures;
	_Atomic uint64_t head_timeouts, body_timeouts, source_refusals;
};

struct http_server {
	struct http_server_settings set;
	struct listen_spec specs[MAX_LISTENERS];
	int first_fds[MAX_LISTENERS]; /* thread 0's sockets, bound in http_server_listen */
	unsigned spec_count;
	uint16_t https_port; /* the first TLS listener's, for redirects */
	struct loop_thread *threads;
	unsigned thread_count;
	/* Loop threads whose counters other threads may read (http_server_get_stats() runs on
	   e.g. a heartbeat thread while the server starts or goes away). */
	_Atomic unsigned stats_threads;
	bool started;
	struct http_source_cap *sources; /* max_conns_per_source set */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned threads_running;
};

static inline void counter_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

/* http-server.c: the loop thread this thread runs, NULL on other threads. */
extern __thread struct loop_thread *http_server__current_lt;

/* http-response.c: the house error body {"error":{"code":…,"message":…}} and a newline,
   appended to body; http_response_error() and the server's own answers share it. */
void http_response__error_body(struct buf *body, const char *code, const char *message);

/* http-conn.c */
void http_conn__run(struct conn *c);
void http_conn__borrow(struct conn *c);
void http_conn__set_deadline(struct conn *c, uint64_t ms);
void http_conn__recycle(struct buf *b);
void http_conn__request_reset(struct conn *c);
void http_conn__request_abort(struct http_request *req);
void http_conn__free(struct conn *c);
/* Hands the finished (or broken) exchange to settings.on_access, once. */
void http_conn__log_access(struct conn *c, bool complete);
void http_conn__io(void *ctx, unsigned events);
void http_conn__spares_free(struct loop_thread *lt);
/* The loop thread's timer: timeouts, the minimum body rate, trimming idle connections. */
void http_conn__sweep(void *ctx);

static inline bool http_conn__status_has_body(int status)
{
	return !(status < 200 || status == 204 || status == 304);
}

/* http-conn-write.c */
void http_conn__send_continue(struct conn *c);
/* Whether the connection stays open after this response. */
bool http_conn__response_keep(const struct conn *c);
/* The Content-Length of a response without a producer, or a sized stream. */
uint64_t http_conn__response_length(const struct http_request *req);
/* The response file's next bytes (at most size) into data, its offset and count advanced:
   the count, or -1 on a read error or a file that shrank (where sendfile() cannot serve). */
ssize_t http_conn__file_read(struct http_request *req, char *data, size_t size);
/* A response without a body (HEAD, 204, 304): its buffer, file and producer let go. */
void http_conn__response_drop_body(struct http_request *req);
/* "\r\nDate: <IMF-fixdate>\r\n", formatted once per second per loop thread. */
struct strv http_conn__date_line(struct loop_thread *lt);
void http_conn__begin_response(struct conn *c);
int http_conn__write_response(struct conn *c);

/* http-conn-ajp.c: the head from the next FORWARD_REQUEST (CPINGs before it answered), a
   body packet (asking for it when none is buffered), the response's packets. A status of 0
   with HTTP_PARSE_ERROR means the connection must close without an answer. */
enum http_parse_status http_conn__ajp_head(struct conn *c, size_t *head_len_r, int *status_r,
                                           const char **error_r);
enum http_parse_status http_conn__ajp_body(struct conn *c, const char **data_r, size_t *len_r,
                                           int *status_r, const char **error_r);
void http_conn__ajp_begin_response(struct conn *c);
int http_conn__ajp_file_chunk(struct conn *c);
/* Puts END_RESPONSE (reuse = c->keep_alive) into out. */
void http_conn__ajp_end(struct conn *c);

/* http-conn-guard.c */
/* A new connection fd from ss: counted under its source (*key_r, *counted_r) and true, or
   refused (429 on a plain listener, closed, counted) and false. */
bool http_conn__admit(struct loop_thread *lt, int fd, const struct sockaddr_storage *ss, bool plain,
                      struct http_source_key *key_r, bool *counted_r);
/* body_min_rate, at the end of each window of a body being read: true when the window
   brought too few bytes; else the next window starts. A paused body is not the client's
   doing: its window starts again on resume. */
bool http_conn__body_too_slow(struct conn *c, uint64_t now);

/* http-conn-tls.c: each returns 1 on progress (done, for the handshake), 0 to wait, -1 on
   failure (state set to CS_CLOSED where the caller expects it). */
void http_conn__tls_want_write(struct conn *c, bool want);
int http_conn__tls_handshake(struct conn *c);
int http_conn__tls_read(struct conn *c, size_t room);
int http_conn__tls_write(struct conn *c, size_t head_left, size_t body_left);
int http_conn__tls_file_chunk(struct conn *c);

/* http-conn-ring.c */
void http_conn__ring_recv(struct conn *c, size_t room);
int http_conn__ring_read(struct conn *c, size_t room);
void http_conn__ring_send(struct conn *c, size_t head_left, size_t body_left);
void http_conn__ring_poll_out(struct conn *c);
/* A streamed response waits for its producer and nothing is read meanwhile: learn of the
   peer's hang-up (an event stream's client went away) by a poll for POLLRDHUP. */
void http_conn__ring_poll_hup(struct conn *c);
void http_conn__ring_linger(struct conn *c);
/* Before freeing c: true while its operations are in flight (they are being cancelled and
   their completions free it), else gives back a provided buffer it held. */
bool http_conn__ring_release(struct conn *c);

#endif
