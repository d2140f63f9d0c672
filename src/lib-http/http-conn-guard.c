/* SPDX-License-Identifier: MIT */
/* The server's protection from slow and greedy clients (docs/internals/http.md, "Slow and
   greedy clients"): the per-source connection cap at accept, and the minimum body rate the
   sweep checks. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http-server-private.h"

/* A connection beyond max_conns_per_source: a plain one hears why (one send into an empty
   socket buffer), then it is closed without ever getting a struct conn. */
static void refuse(struct loop_thread *lt, int fd, bool plain)
{
	static const char body[] = "{\"error\":{\"code\":\"HTTP-0429\",\"message\":\"too many "
	                           "connections from your address\"}}\n";
	counter_inc(&lt->source_refusals);
	if (plain) {
		char msg[512];
		struct strv date = http_conn__date_line(lt);
		int n =
		    snprintf(msg, sizeof(msg),
		             "HTTP/1.1 429 Too Many Requests%.*sContent-Type: application/json; "
		             "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		             (int)date.len, date.ptr, sizeof(body) - 1, body);
		if (n > 0 && (size_t)n < sizeof(msg))
			(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

bool http_conn__admit(struct loop_thread *lt, int fd, const struct sockaddr_storage *ss, bool plain,
                      struct http_source_key *key_r, bool *counted_r)
{
	struct http_server *server = lt->server;
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	*counted_r = false;
	if (server->sources == NULL || !http_source_key(sa, key_r) ||
	    (server->set.source_exempt != NULL && server->set.source_exempt(sa, server->set.ctx)))
		return true;
	if (!http_source_cap_take(server->sources, key_r)) {
		refuse(lt, fd, plain);
		return false;
	}
	*counted_r = true;
	return true;
}

bool http_conn__body_too_slow(struct conn *c, uint64_t now)
{
	const struct http_server_settings *set = &c->lt->server->set;
	uint64_t window = set->body_rate_window_ms != 0 ? set->body_rate_window_ms : 10000;
	if (set->body_min_rate == 0 || c->state != CS_BODY || c->req.body_paused ||
	    c->req.body_held || now - c->rate_mark_ms < window)
		return false;
	uint64_t got = c->req.body_received - c->rate_mark_bytes;
	c->rate_mark_ms = now;
	c->rate_mark_bytes = c->req.body_received;
	return got < set->body_min_rate * window / 1000;
}
