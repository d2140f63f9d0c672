/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 server: listeners, one epoll loop per thread, connections, request/response API. */
#ifndef TANDEM_HTTP_SERVER_H
#define TANDEM_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "http-parser.h"
#include "strv.h"

struct http_route;
struct http_server;
struct http_request;
struct http_tls_ctx;
struct ioloop;
struct pool;

/* Called on the loop thread when a request head has been parsed, before its body is read. May
   attach a body sink, or answer at once (http_response_send) to refuse the request; then the
   body is never read and the connection closes after the response. Optional. */
typedef void http_head_fn(struct http_request *req, void *ctx);
/* Called on the loop thread once the request (and its body) is complete. The handler answers
   inline, or hands req to another thread that calls http_response_send() later. */
typedef void http_request_fn(struct http_request *req, void *ctx);
/* Receives body bytes on the loop thread; len == 0 marks the end of the body. Returns 0;
   HTTP_SINK_PAUSE when it took the bytes but can take no more for now (no body is read until
   http_request_resume_body(); the client waits on TCP back-pressure and the body timeout does
   not run meanwhile); or -1 to stop reading (the request still reaches http_request_fn, whose
   handler knows why). */
typedef int http_body_sink_fn(void *ctx, const char *data, size_t len);
#define HTTP_SINK_PAUSE 1

/* Produces streamed response body bytes into buf[0..size). Returns the count (> 0), 0 at the
   end, HTTP_PRODUCER_AGAIN when nothing is ready yet (call http_response_resume() later), or
   -1 on failure (the connection is closed). Runs on the loop thread. */
typedef ssize_t http_body_producer_fn(void *ctx, char *buf, size_t size);
#define HTTP_PRODUCER_AGAIN (-2)

/* Runs on each loop thread: on_thread_start before it serves anything, on_thread_stop after
   its loop stopped (the loop still exists: ios and timers added there can be removed). */
typedef void http_thread_fn(struct ioloop *loop, void *ctx);

/* True if a new connection from peer is not counted against max_conns_per_source (a trusted
   front proxy whose clients all share its address). Runs on a loop thread for each accept. */
typedef bool http_source_exempt_fn(const struct sockaddr *peer, void *ctx);

/* What an access log line needs beyond the request itself. */
struct http_access_entry {
	int status;
	uint64_t bytes;       /* response body bytes (as Apache's %b): 0 for HEAD, 204, 304 */
	uint64_t duration_us; /* from the first byte of the head to the last of the response */
	bool complete;        /* false: the connection broke before the response was all sent */
};
/* Called on the loop thread exactly once per request that got a response, the server's own
   refusals (400, 408, 413, 431, …) included, when the response has been written or the
   connection broke while writing it. For a refused head, http_request_head() is zeroed (no
   method, no path). Must not block: queue the line, write it elsewhere. */
typedef void http_access_fn(struct http_request *req, const struct http_access_entry *entry,
                            void *ctx);

struct http_server_settings {
	struct http_limits limits;
	unsigned threads;        /* loop threads; 0 = one per CPU */
	const char *server_name; /* Server: header value, NULL = none */
	http_head_fn *on_head;
	http_request_fn *on_request;
	http_thread_fn *on_thread_start; /* optional */
	http_thread_fn *on_thread_stop;  /* optional */
	void *ctx;
	http_access_fn *on_access; /* optional, with its own access_ctx */
	void *access_ctx;
	/* Slow and greedy clients (docs/internals/http.md); each 0 = off. A connection beyond
	   max_conns_per_source open ones from one address (IPv6: one /64) is answered 429
	   (plain listeners) and closed at once. A request body that brings fewer than
	   body_min_rate bytes per second over a body_rate_window_ms (default 10 s) is cut
	   with 408, except while it is paused. */
	unsigned max_conns_per_source;
	http_source_exempt_fn *source_exempt; /* optional, with ctx */
	uint64_t body_min_rate;
	uint64_t body_rate_window_ms;
};

struct http_server_stats {
	uint64_t connections_accepted;
	uint64_t connections_open;
	uint64_t requests;
	uint64_t parse_errors; /* requests refused by the parser (400/417/431/413) */
	uint64_t timeouts;
	uint64_t tls_handshake_failures; /* TLS handshakes refused, broken off or timed out */
	/* Refusals of slow or greedy clients (the first two are part of timeouts). */
	uint64_t head_timeouts;   /* 408: a head not complete within header_timeout */
	uint64_t body_timeouts;   /* 408: a body silent for body_timeout or below body_min_rate */
	uint64_t source_refusals; /* connections refused by max_conns_per_source */
};

/* settings->on_request is required; the settings are copied. */
struct http_server *http_server_create(const struct http_server_settings *settings);
/* Binds "host:port" (repeatable; port 0 picks a free port). Before http_server_start(). */
int http_server_listen(struct http_server *server, const char *address, const char **error_r);
/* The same for a TLS listener (docs/internals/tls.md): every connection starts with a TLS
   handshake under limits.header_timeout_ms with tls's certificate; a failed handshake just
   closes. The server takes a reference on tls. Listeners keep the order they were added in. */
int http_server_listen_tls(struct http_server *server, const char *address,
                           struct http_tls_ctx *tls, const char **error_r);
/* A plain listener that answers every request itself with 301 to https://<Host without
   port>[:port]<target> (the port of the first TLS listener, left out when 443), never calling
   the application. http_server_start() fails when the server has no TLS listener. */
int http_server_listen_https_redirect(struct http_server *server, const char *address,
                                      const char **error_r);
/* An AJP13 listener for a web server in front (Apache mod_proxy_ajp; docs/internals/ajp.md):
   requests arrive as FORWARD_REQUEST packets and reach the same handlers as HTTP ones, with
   the front end's client as http_request_peer_ip() and its is_ssl as http_request_is_tls().
   With secret (copied), a request whose "secret" attribute differs is answered 403 and the
   connection closed; NULL lets any peer that can connect in, so bind it to loopback. */
int http_server_listen_ajp(struct http_server *server, const char *address, const char *secret,
                           const char **error_r);
/* The bound address of listener i ("127.0.0.1:8009"), or NULL. */
const char *http_server_address(struct http_server *server, unsigned i);
/* Starts the loop threads. */
int http_server_start(struct http_server *server, const char **error_r);
/* Graceful stop: close listeners, answer in-flight requests with Connection: close, close idle
   connections; waits until all connections are gone or timeout_ms has passed, then stops the
   loops. Returns the number of connections that had to be cut. */
unsigned http_server_shutdown(struct http_server *server, uint64_t timeout_ms);
void http_server_destroy(struct http_server **server);
void http_server_get_stats(struct http_server *server, struct http_server_stats *stats_r);
/* Appends the stats as Prometheus metrics named <prefix>connections_accepted_total,
   <prefix>connections_open, <prefix>requests_total, <prefix>parse_errors_total,
   <prefix>timeouts_total, <prefix>tls_handshake_failures_total,
   <prefix>head_timeouts_total, <prefix>body_timeouts_total and
   <prefix>source_refusals_total. */
void http_server_stats_format(struct buf *out, const char *prefix,
                              const struct http_server_stats *st);

/* --- request (valid until the response is sent) --- */
const struct http_request_head *http_request_head(const struct http_request *req);
/* Drops the parameters of the path's last segment from what the application sees as the path
   ("/api/v1/session;jsessionid=x.OX-2" → "/api/v1/session"), as servlet URL rewriting appends
   them; the target stays as received. */
void http_request_drop_path_params(struct http_request *req);
struct strv http_request_header(const struct http_request *req, const char *name);
/* Request-scoped memory, freed after the response is sent. */
struct pool *http_request_pool(struct http_request *req);
/* 16 hex digits, unique per process; for logs and X-Request-Id. */
const char *http_request_id(const struct http_request *req);
/* Peer address as "ip:port", and its address alone. */
const char *http_request_peer(const struct http_request *req);
const char *http_request_peer_ip(const struct http_request *req);
/* True when the request came over a TLS listener, or over AJP from a front end whose client
   used TLS (X-Forwarded-Proto: https). */
bool http_request_is_tls(const struct http_request *req);
/* The loop the request's connection lives on. */
struct ioloop *http_request_loop(struct http_request *req);
/* From http_head_fn: deliver the body to sink instead of buffering it in memory. Later
   (loop thread) only to switch to another sink, e.g. one that discards the rest. */
void http_request_set_body_sink(struct http_request *req, http_body_sink_fn *sink, void *ctx);
/* From http_head_fn or a body sink (loop thread): hold the body until
   http_request_resume_body() or http_request_stop_body(). Nothing more is read, neither bytes
   nor the body's end reach the sink, http_request_fn is not called, and a 100 Continue the
   client asked for is sent only on resume: a handler can decide (on another thread) whether
   to take the body at all, a proxy can ask its backend first. The body timeout and the
   minimum body rate do not run meanwhile. */
void http_request_pause_body(struct http_request *req);
/* The sink that returned HTTP_SINK_PAUSE, or a held body, can take bytes again; sends the
   held-back "100 Continue". Loop thread only. May run the request's callbacks (sink,
   http_request_fn, abort handler) before it returns: call it as the last thing that touches
   the caller's own request state. A response sent while the body is paused or held goes out
   at once, and the connection closes after it without reading the body. */
void http_request_resume_body(struct http_request *req);
/* Loop thread: read no more of the body, as if the sink had returned -1 (a 100 Continue not
   yet sent never is): the request goes to http_request_fn now, whose handler knows why, and
   the connection closes after its response. Same caution as http_request_resume_body(). */
void http_request_stop_body(struct http_request *req);
/* An application pointer carried from http_head_fn to http_request_fn (NULL by default). */
void http_request_set_context(struct http_request *req, void *ctx);
void *http_request_get_context(const struct http_request *req);
/* The route http_router_find() (http-router.h) chose for req, or NULL. */
const struct http_route *http_request_route(const struct http_request *req);
/* A parameter of that route's pattern ("cid" of "/contexts/{cid:id}"), NUL-terminated in the
   request's pool, as received (not percent-decoded); NULL when the pattern has none so named. */
const char *http_request_param(const struct http_request *req, const char *name);
/* A {name:id} parameter's value (> 0); asserts that the route's pattern has it. */
int64_t http_request_param_id(const struct http_request *req, const char *name);
/* For the access log: the user the request acted as, and the route or upstream that
   answered it. Copied into the request's pool; from the thread that owns req, before the
   response is sent. NULL when never set. */
void http_request_set_user(struct http_request *req, const char *user);
const char *http_request_user(const struct http_request *req);
void http_request_set_log_route(struct http_request *req, const char *route);
const char *http_request_log_route(const struct http_request *req);
/* The buffered body (no sink set), complete when http_request_fn runs. */
struct strv http_request_body(const struct http_request *req);
/* Total body bytes received so far. */
uint64_t http_request_body_size(const struct http_request *req);

/* --- response: build it from the thread that owns req, then send it exactly once --- */
void http_response_status(struct http_request *req, int status);
/* name and value must not contain CR or LF (asserted: handlers never copy raw input here). */
void http_response_header(struct http_request *req, const char *name, const char *value);
/* The same from views (a proxy passing a member's fields on; the parser let no CR/LF in). */
void http_response_header_strv(struct http_request *req, struct strv name, struct strv value);
void http_response_headerf(struct http_request *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* In-memory body; append with buf_* (its cap is limits.max_buffered_body * 16). */
struct buf *http_response_body(struct http_request *req);
/* Sends len bytes of fd from offset with sendfile(); the server closes fd when done. */
void http_response_file(struct http_request *req, int fd, off_t offset, uint64_t len);
/* Streams the body from producer (chunked for HTTP/1.1, close-delimited for 1.0). */
void http_response_stream(struct http_request *req, http_body_producer_fn *producer, void *ctx);
/* The same for an endless stream (Server-Sent Events): the client never sends again, so a
   peer that shuts its side down while the producer has nothing is taken as gone (the abort
   handler runs) instead of being noticed only at the next write. */
void http_response_stream_events(struct http_request *req, http_body_producer_fn *producer,
                                 void *ctx);
/* The answer to a HEAD request announces length (what a GET would carry) instead of the
   length of its (unsent) body: a proxy passing on a backend's HEAD answer. No effect on
   other requests. */
void http_response_head_length(struct http_request *req, uint64_t length);
/* Streams exactly length bytes with Content-Length (a proxy passing a backend's body on). The
   producer is never asked for more than it still owes; ending early or failing cuts the
   connection, since the length was promised. For HEAD the length is sent and the producer is
   never called (its owner hears of it through the abort handler). */
void http_response_stream_sized(struct http_request *req, http_body_producer_fn *producer,
                                void *ctx, uint64_t length);
/* Asks to close the connection after this response. */
void http_response_close(struct http_request *req);
/* Hands the response to the connection. Thread-safe; req must not be used afterwards. */
void http_response_send(struct http_request *req);
/* A stream producer that returned HTTP_PRODUCER_AGAIN has data again. Loop thread only. Like
   http_request_resume_body(), it may run the request's callbacks before it returns. */
void http_response_resume(struct http_request *req);
/* fn(ctx) runs once on the loop thread when the request ends before the application is done
   with it: the connection dies (while the body is read, the handler works, or a streamed
   response is unfinished), the server answers it itself (a body timeout or a malformed chunk
   while a sink reads it), or a streamed response turns out to need no body (HEAD, 204, 304).
   It does not run once a response without a producer was handed over, or after the producer
   returned 0. req is invalid once fn returns. For handlers on the loop thread only. */
typedef void http_abort_fn(void *ctx);
void http_request_set_abort_handler(struct http_request *req, http_abort_fn *fn, void *ctx);

/* Convenience: status + Content-Type + body, then send. */
void http_response_simple(struct http_request *req, int status, const char *content_type,
                          const char *body, size_t body_len);
/* JSON error in the house format {"error":{"code":…,"message":…}}, then send. */
void http_response_error(struct http_request *req, int status, const char *code,
                         const char *message);

/* Reason phrase for a status ("Not Found"); "Unknown" if none. */
const char *http_status_reason(int status);

#endif
