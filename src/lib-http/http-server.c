/* SPDX-License-Identifier: MIT */
/* The HTTP server: listeners and accept, the loop threads, shutdown and statistics. The
   connection state machine is in http-conn.c, the application API in http-request.c and
   http-response.c (docs/internals/http.md). */
#include "http-server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "http-server-private.h"
#include "http-tls.h"
#include "ioloop.h"
#include "log.h"
#include "prom.h"
#include "mem.h"
#include "pool.h"
#include "random.h"

__thread struct loop_thread *http_server__current_lt;

/* ---------------------------------------------------------------- listeners */

static int bind_socket(const char *host, uint16_t port, bool reuseport, int *fd_r, uint16_t *port_r,
                       const char **error_r)
{
	static __thread char err[160];
	struct sockaddr_storage ss;
	socklen_t sslen;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
	} else {
		snprintf(err, sizeof(err), "%s: not a numeric IPv4 or IPv6 address", host);
		*error_r = err;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, sizeof(err), "socket: %s", strerror(errno));
		*error_r = err;
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		snprintf(err, sizeof(err), "bind %s:%u: %s", host, port, strerror(errno));
		*error_r = err;
		close(fd);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		*port_r = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
	*fd_r = fd;
	return 0;
}

static int listen_add(struct http_server *server, const char *address, struct http_tls_ctx *tls,
                      bool https_redirect, bool ajp, const char **error_r)
{
	static __thread char err[200];
	if (server->spec_count == MAX_LISTENERS) {
		*error_r = "too many listen addresses";
		return -1;
	}
	struct listen_spec *spec = &server->specs[server->spec_count];
	const char *perr;
	if (config_parse_address(address, spec->host, sizeof(spec->host), &spec->port, &perr) < 0) {
		snprintf(err, sizeof(err), "listen %s: %s", address, perr);
		*error_r = err;
		return -1;
	}
	/* SO_REUSEPORT would let us silently share a port with another running server, so first
	   prove the address is free with a plain bind. */
	int probe, fd;
	uint16_t port;
	if (bind_socket(spec->host, spec->port, false, &probe, &port, error_r) < 0)
		return -1;
	close(probe);
	if (bind_socket(spec->host, port, true, &fd, &port, error_r) < 0)
		return -1;
	if (listen(fd, SOMAXCONN) < 0) {
		snprintf(err, sizeof(err), "listen %s: %s", address, strerror(errno));
		*error_r = err;
		close(fd);
		return -1;
	}
	spec->port = port;
	/* Formatted in a local buffer: gcc's -Wrestrict cannot tell two members apart. */
	char bound[sizeof(spec->bound)];
	bool v6 = strchr(spec->host, ':') != NULL;
	snprintf(bound, sizeof(bound), "%s%s%s:%u", v6 ? "[" : "", spec->host, v6 ? "]" : "", port);
	memcpy(spec->bound, bound, sizeof(bound));
	spec->https_redirect = https_redirect;
	spec->ajp = ajp;
	if (tls != NULL) {
		http_tls_ctx_ref(tls);
		spec->tls = tls;
		if (server->https_port == 0)
			server->https_port = port;
	}
	server->first_fds[server->spec_count++] = fd;
	return 0;
}

int http_server_listen(struct http_server *server, const char *address, const char **error_r)
{
	return listen_add(server, address, NULL, false, false, error_r);
}

int http_server_listen_tls(struct http_server *server, const char *address,
                           struct http_tls_ctx *tls, const char **error_r)
{
	assert(tls != NULL);
	return listen_add(server, address, tls, false, false, error_r);
}

int http_server_listen_https_redirect(struct http_server *server, const char *address,
                                      const char **error_r)
{
	return listen_add(server, address, NULL, true, false, error_r);
}

int http_server_listen_ajp(struct http_server *server, const char *address, const char *secret,
                           const char **error_r)
{
	if (listen_add(server, address, NULL, false, true, error_r) < 0)
		return -1;
	if (secret != NULL)
		server->specs[server->spec_count - 1].ajp_secret = mem_strdup(secret);
	return 0;
}

const char *http_server_address(struct http_server *server, unsigned i)
{
	return i < server->spec_count ? server->specs[i].bound : NULL;
}

/* ---------------------------------------------------------------- accept */

/* The address the client connected to, for a request without Host (HTTP/1.0). */
static void local_host(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "localhost";

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 && ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]", ip);
		return;
	}
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
	snprintf(out, size, "%s", ip);
}

/* on_head of an HTTPS-redirect listener: 301 to the same host and target on the TLS port.
   The parser has checked Host's characters (no '/', '@', blanks or controls), so it cannot
   redirect anywhere but to a host of that name. */
static void https_redirect(struct http_request *req, void *ctx)
{
	const struct http_request_head *h = &req->head;
	struct conn *c = req->conn;
	uint16_t port = c->lt->server->https_port;
	char local[INET6_ADDRSTRLEN + 2];
	struct strv host = h->host, target = h->target;
	(void)ctx;

	if (host.len == 0) {
		local_host(c->fd, local, sizeof(local));
		host = strv_from_cstr(local);
	} else if (host.ptr[0] == '[') {
		ptrdiff_t end = strv_find_char(host, ']');
		if (end > 0)
			host.len = (size_t)end + 1;
	} else {
		ptrdiff_t colon = strv_find_char(host, ':');
		if (colon >= 0)
			host.len = (size_t)colon;
	}
	/* Absolute-form: only the path and query; "*" and CONNECT's authority: the root. */
	if (target.len == 0 || target.ptr[0] != '/')
		target = h->path.len > 0 && h->path.ptr[0] == '/' ? h->path : STRV_LIT("/");
	size_t size = host.len + target.len + h->query.len + 32;
	struct buf loc;
	buf_init_fixed(&loc, pool_alloc(http_request_pool(req), size), size);
	buf_append_lit(&loc, "https://");
	buf_append_strv(&loc, host);
	if (port != 443) {
		buf_append_char(&loc, ':');
		buf_append_u64(&loc, port);
	}
	buf_append_strv(&loc, target);
	if (target.ptr != h->target.ptr && h->query.len > 0) {
		buf_append_char(&loc, '?');
		buf_append_strv(&loc, h->query);
	}
	http_response_status(req, 301);
	http_response_header_strv(req, STRV_LIT("Location"), buf_strv(&loc));
	http_response_send(req);
}

static void accept_ready(void *ctx, unsigned events)
{
	struct loop_thread *lt = ctx;
	struct http_server *server = lt->server;

	for (unsigned i = 0; i < server->spec_count; i++) {
		for (;;) {
			struct sockaddr_storage ss;
			socklen_t sslen = sizeof(ss);
			int fd = accept4(lt->listen_fds[i], (struct sockaddr *)&ss, &sslen,
			                 SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				if (errno != EAGAIN)
					log_error("http", "accept: %m");
				break;
			}
			const struct listen_spec *spec = &server->specs[i];
			struct http_source_key key;
			bool counted;
			if (!http_conn__admit(lt, fd, &ss, spec->tls == NULL && !spec->ajp, &key,
			                      &counted))
				continue;
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

			struct conn *c = mem_calloc(1, sizeof(*c));
			c->lt = lt;
			c->fd = fd;
			c->source = key;
			c->source_counted = counted;
			char ip[INET6_ADDRSTRLEN] = "?";
			uint16_t port = 0;
			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
				inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
				port = ntohs(sin->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
				inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
				port = ntohs(sin6->sin6_port);
			}
			snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, port);
			memcpy(c->peer_ip, ip, sizeof(c->peer_ip));
			c->req.file_fd = -1;
			/* Input buffer, header array, request pool and output buffer come with the
			   first request and go again when the connection idles (sweep): an idle
			   keep-alive connection costs little more than this struct. */
			http_conn__request_reset(c);
			c->on_head = spec->https_redirect ? https_redirect : server->set.on_head;
			if (spec->tls != NULL) {
				c->tls = http_tls__conn_create(spec->tls, fd);
				c->state = CS_HANDSHAKE;
				http_conn__set_deadline(c, server->set.limits.header_timeout_ms);
			} else {
				c->state = CS_HEAD;
				http_conn__set_deadline(c, server->set.limits.idle_timeout_ms);
			}
			c->next = lt->conns;
			if (lt->conns != NULL)
				lt->conns->prev = c;
			lt->conns = c;
			lt->conn_count++;
			counter_inc(&lt->accepted);
			atomic_store_explicit(&lt->open, lt->conn_count, memory_order_relaxed);
			c->ajp = spec->ajp;
			c->ajp_secret = spec->ajp_secret;
			/* AJP sends its small control packets directly: no ring operations */
			c->ring = c->tls == NULL && !c->ajp && ioloop_ring(lt->loop);
			if (!c->ring)
				c->io = io_add(lt->loop, fd, IO_READ, http_conn__io, c);
			http_conn__run(c);
		}
	}
}

/* ---------------------------------------------------------------- threads */

static void *loop_main(void *arg)
{
	struct loop_thread *lt = arg;
	struct http_server *server = lt->server;

	http_server__current_lt = lt;
	char name[16];
	snprintf(name, sizeof(name), "http-%u", lt->index);
	pthread_setname_np(pthread_self(), name);
	for (unsigned i = 0; i < server->spec_count; i++)
		lt->listen_ios[i] = io_add(lt->loop, lt->listen_fds[i], IO_READ, accept_ready, lt);
	lt->sweep = timer_add(lt->loop, SWEEP_MS, http_conn__sweep, lt);
	if (server->set.on_thread_start != NULL)
		server->set.on_thread_start(lt->loop, server->set.ctx);
	ioloop_run(lt->loop);

	/* Stopped: whatever is left (a forced shutdown) is cut. */
	timer_remove(&lt->sweep);
	for (unsigned i = 0; i < server->spec_count; i++) {
		io_remove(&lt->listen_ios[i]);
		if (lt->listen_fds[i] >= 0) {
			close(lt->listen_fds[i]);
			lt->listen_fds[i] = -1;
		}
	}
	struct conn *c = lt->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if (c->state != CS_HANDLING)
			http_conn__free(c);
		c = next;
	}
	if (server->set.on_thread_stop != NULL)
		server->set.on_thread_stop(lt->loop, server->set.ctx);
	http_conn__spares_free(lt);
	pthread_mutex_lock(&server->lock);
	server->threads_running--;
	pthread_cond_broadcast(&server->cond);
	pthread_mutex_unlock(&server->lock);
	return NULL;
}

struct http_server *http_server_create(const struct http_server_settings *settings)
{
	assert(settings->on_request != NULL);
	struct http_server *server = mem_calloc(1, sizeof(*server));
	server->set = *settings;
	if (settings->max_conns_per_source > 0)
		server->sources = http_source_cap_create(settings->max_conns_per_source);
	pthread_mutex_init(&server->lock, NULL);
	pthread_cond_init(&server->cond, NULL);
	return server;
}

int http_server_start(struct http_server *server, const char **error_r)
{
	unsigned n = server->set.threads;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (server->spec_count == 0) {
		*error_r = "no listen address";
		return -1;
	}
	for (unsigned i = 0; i < server->spec_count; i++) {
		if (server->specs[i].https_redirect && server->https_port == 0) {
			*error_r = "an HTTPS redirect needs a TLS listener";
			return -1;
		}
	}
	server->thread_count = n;
	server->threads = mem_calloc(n, sizeof(*server->threads));
	for (unsigned t = 0; t < n; t++) {
		struct loop_thread *lt = &server->threads[t];
		lt->server = server;
		lt->index = t;
		lt->loop = ioloop_create();
		random_bytes(&lt->id_prefix, sizeof(lt->id_prefix));
		for (unsigned i = 0; i < server->spec_count; i++) {
			if (t == 0) {
				lt->listen_fds[i] = server->first_fds[i];
				continue;
			}
			uint16_t port;
			if (bind_socket(server->specs[i].host, server->specs[i].port, true,
			                &lt->listen_fds[i], &port, error_r) < 0)
				return -1;
			if (listen(lt->listen_fds[i], SOMAXCONN) < 0) {
				*error_r = "listen failed";
				return -1;
			}
		}
	}
	server->started = true;
	atomic_store_explicit(&server->stats_threads, n, memory_order_release);
	server->threads_running = n;
	for (unsigned t = 0; t < n; t++) {
		if (pthread_create(&server->threads[t].thread, NULL, loop_main,
		                   &server->threads[t]) != 0) {
			*error_r = "pthread_create failed";
			return -1;
		}
	}
	return 0;
}

static void begin_drain(void *ctx)
{
	struct loop_thread *lt = ctx;
	lt->draining = true;
	for (unsigned i = 0; i < lt->server->spec_count; i++) {
		io_remove(&lt->listen_ios[i]);
		close(lt->listen_fds[i]);
		lt->listen_fds[i] = -1;
	}
	struct conn *c = lt->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if ((c->state == CS_HEAD && c->in_len == c->in_off) || c->state == CS_HANDSHAKE) {
			c->state = CS_CLOSED;
			http_conn__run(c);
		}
		c = next;
	}
	if (lt->conn_count == 0)
		ioloop_stop(lt->loop);
}

unsigned http_server_shutdown(struct http_server *server, uint64_t timeout_ms)
{
	if (!server->started)
		return 0;
	for (unsigned t = 0; t < server->thread_count; t++)
		ioloop_post(server->threads[t].loop, begin_drain, &server->threads[t]);

	struct timespec deadline = clock_realtime_deadline(timeout_ms);
	pthread_mutex_lock(&server->lock);
	while (server->threads_running > 0) {
		if (pthread_cond_timedwait(&server->cond, &server->lock, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&server->lock);

	unsigned cut = 0;
	for (unsigned t = 0; t < server->thread_count; t++) {
		struct loop_thread *lt = &server->threads[t];
		cut += (unsigned)atomic_load(&lt->open);
		ioloop_stop(lt->loop);
		pthread_join(lt->thread, NULL);
	}
	server->started = false;
	return cut;
}

void http_server_destroy(struct http_server **serverp)
{
	struct http_server *server = *serverp;
	if (server == NULL)
		return;
	if (server->started)
		http_server_shutdown(server, 0);
	atomic_store(&server->stats_threads, 0);
	for (unsigned t = 0; t < server->thread_count; t++)
		ioloop_destroy(&server->threads[t].loop);
	if (server->threads == NULL) {
		for (unsigned i = 0; i < server->spec_count; i++)
			close(server->first_fds[i]);
	}
	for (unsigned i = 0; i < server->spec_count; i++) {
		http_tls_ctx_unref(&server->specs[i].tls);
		mem_free(&server->specs[i].ajp_secret);
	}
	mem_free(&server->threads);
	http_source_cap_destroy(&server->sources);
	pthread_cond_destroy(&server->cond);
	pthread_mutex_destroy(&server->lock);
	mem_free(serverp);
}

void http_server_get_stats(struct http_server *server, struct http_server_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	unsigned n = atomic_load_explicit(&server->stats_threads, memory_order_acquire);
	for (unsigned t = 0; t < n; t++) {
		struct loop_thread *lt = &server->threads[t];
		stats_r->connections_accepted += atomic_load(&lt->accepted);
		stats_r->connections_open += atomic_load(&lt->open);
		stats_r->requests += atomic_load(&lt->requests);
		stats_r->parse_errors += atomic_load(&lt->parse_errors);
		stats_r->timeouts += atomic_load(&lt->timeouts);
		stats_r->tls_handshake_failures += atomic_load(&lt->tls_failures);
		stats_r->head_timeouts += atomic_load(&lt->head_timeouts);
		stats_r->body_timeouts += atomic_load(&lt->body_timeouts);
		stats_r->source_refusals += atomic_load(&lt->source_refusals);
	}
}

void http_server_stats_format(struct buf *out, const char *prefix,
                              const struct http_server_stats *st)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} fields[] = {
	    {"connections_accepted_total", "counter", "Connections accepted since start.",
	     offsetof(struct http_server_stats, connections_accepted)},
	    {"connections_open", "gauge", "Connections open now.",
	     offsetof(struct http_server_stats, connections_open)},
	    {"requests_total", "counter", "Request heads parsed since start.",
	     offsetof(struct http_server_stats, requests)},
	    {"parse_errors_total", "counter",
	     "Requests refused as malformed or over a limit (400, 413, 417, 431).",
	     offsetof(struct http_server_stats, parse_errors)},
	    {"timeouts_total", "counter",
	     "Connections timed out reading a request or writing a response.",
	     offsetof(struct http_server_stats, timeouts)},
	    {"tls_handshake_failures_total", "counter", "TLS handshakes that failed.",
	     offsetof(struct http_server_stats, tls_handshake_failures)},
	    {"head_timeouts_total", "counter",
	     "Requests cut with 408: the head took longer than header_timeout.",
	     offsetof(struct http_server_stats, head_timeouts)},
	    {"body_timeouts_total", "counter",
	     "Requests cut with 408: the body fell silent or below its minimum rate.",
	     offsetof(struct http_server_stats, body_timeouts)},
	    {"source_refusals_total", "counter",
	     "Connections refused: their address had its most connections open.",
	     offsetof(struct http_server_stats, source_refusals)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char name[128];
		snprintf(name, sizeof(name), "%.64s%s", prefix, fields[i].name);
		prom_metric(out, name, fields[i].type, fields[i].help,
		            *(const uint64_t *)((const char *)st + fields[i].offset));
	}
}
