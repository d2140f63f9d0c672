/* SPDX-License-Identifier: MIT */
/* The balancer's request path: pick a member, forward the request over a pooled connection,
   stream both bodies, retry where nothing was sent, answer 502/503/504 otherwise. */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "balancer.h"
#include "clock.h"
#include "forward.h"
#include "http-chunked.h"
#include "http-response-parser.h"
#include "lb-access.h"
#include "ioloop.h"
#include "log.h"
#include "mem.h"

#define OUT_HIGH        (256 * 1024) /* request bytes buffered before the client is paused */
#define OUT_LOW         (64 * 1024)  /* ... and resumed */
#define OUT_KEEP        (64 * 1024)  /* requests up to this size stay whole for a resend */
#define IN_INITIAL      (16 * 1024)
#define FAST_BODY_MAX   (64 * 1024) /* smaller answers are collected and sent in one piece */
#define COOKIES_MAX     8
#define ATTEMPTS_MAX    BALANCER_EXCLUDE_MAX
#define STALE_RETRY_MAX 2
#define SPARES_MAX      64
#define SPARE_BUF_MAX   (64 * 1024)
#define EXPECT_WAIT_MS  1000 /* for a member's answer to Expect: 100-continue, as curl waits */

struct proxy_req;

struct proxy_thread {
	struct proxy *p;
	unsigned generation;     /* of the settings its upstream pools run with */
	struct proxy_req *spare; /* finished requests kept with their buffers for the next ones */
	unsigned spare_count;
	struct ioloop *loop;
	struct upstream_thread *ut;
	struct proxy_thread *next; /* all threads, under p->lock */
};

/* One generation of settings. A reload publishes a new one; requests keep the one they
   started with, so old generations stay until the proxy is destroyed (reloads are rare). */
struct proxy_generation {
	struct proxy_settings set;
	unsigned number;
	struct proxy_generation *older;
};

struct proxy {
	struct balancer *b;
	struct proxy_generation *_Atomic current;
	struct http_limits response_limits;
	pthread_mutex_t lock;
	struct proxy_thread *threads;
	struct upstream_counters gone; /* counters of stopped threads */
	_Atomic uint64_t forwarded, retries, no_member, bad_gateway, gateway_timeout, client_aborts;
	_Atomic uint64_t access_denied;
};

static __thread struct proxy_thread *current_pt;

/* One client request on its way through a member. Lives from on_head until the answer is
   handed over (detach) or the request is aborted. */
struct proxy_req {
	struct proxy *p;
	const struct proxy_settings *set; /* the generation current when the request came */
	struct proxy_thread *pt;
	struct http_request *req;
	struct balancer_member *member; /* reserved by balancer_pick() */
	struct balancer_exclude exclude;
	struct strv route;
	struct upstream_conn *uc;
	unsigned attempts, stale_retries;
	bool begun; /* balancer_begin() done for member */

	/* towards the member */
	struct buf out;
	size_t out_sent;
	bool out_trimmed; /* sent bytes were dropped: no resend possible */
	enum forward_body body;
	bool body_done;   /* the whole client body is in out */
	bool body_paused; /* the sink said HTTP_SINK_PAUSE */
	bool need_resume;
	bool write_failed;
	bool idempotent;
	bool head_request;
	bool buffering;         /* a small body is read whole before a member is picked */
	bool no_member_pending; /* found while buffering, inside the sink: on_request answers */
	bool awaiting_continue; /* the member has Expect: 100-continue; the client body waits */
	uint64_t bytes_in, bytes_out;

	/* from the member */
	char *in;
	size_t in_off, in_len, in_cap;
	struct http_response_parser rp;
	struct http_header *rheaders;
	struct http_response_head rh;
	size_t rhead_len;
	bool got_any;
	bool head_done;
	bool streaming;
	bool blocked; /* the producer is waiting for member input */
	bool failed;  /* the exchange failed: the member counts an error */
	uint64_t rest;
	struct http_chunked_decoder dec;
	struct proxy_req *spare_next;
};

static void counter_inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- lifecycle */

static int discard_sink(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static void pr_destroy(struct proxy_req *pr)
{
	buf_free(&pr->out);
	mem_free(&pr->in);
	mem_free(&pr->rheaders);
	mem_free(&pr);
}

/* A request's state with its buffers, from the thread's spares when there is one: most
   requests look alike, and the allocations and zeroing are a measurable share of the
   balancer's own CPU time per request. */
static struct proxy_req *pr_new(struct proxy_thread *pt)
{
	struct proxy_req *pr = pt->spare;
	if (pr == NULL) {
		pr = mem_calloc(1, sizeof(*pr));
		buf_init(&pr->out, SIZE_MAX / 2);
		pr->rheaders =
		    mem_alloc(pt->p->response_limits.max_headers * sizeof(*pr->rheaders));
		return pr;
	}
	pt->spare = pr->spare_next;
	pt->spare_count--;
	struct buf out = pr->out;
	char *in = pr->in;
	size_t in_cap = pr->in_cap;
	struct http_header *rheaders = pr->rheaders;
	memset(pr, 0, sizeof(*pr));
	pr->out = out;
	pr->in = in;
	pr->in_cap = in_cap;
	pr->rheaders = rheaders;
	return pr;
}

static void pr_free(struct proxy_req *pr, bool reusable)
{
	struct proxy_thread *pt = pr->pt;

	upstream_release(&pr->uc, reusable);
	if (pr->member != NULL)
		balancer_end(&pr->member, pr->bytes_in, pr->bytes_out, pr->failed);
	if (pt->spare_count >= SPARES_MAX || pr->out.cap > SPARE_BUF_MAX ||
	    pr->in_cap > SPARE_BUF_MAX) {
		pr_destroy(pr);
		return;
	}
	buf_reset(&pr->out);
	pr->spare_next = pt->spare;
	pt->spare = pr;
	pt->spare_count++;
}

/* The request no longer needs pr: no callback will reach it again. */
static void detach(struct proxy_req *pr, bool reusable)
{
	struct http_request *req = pr->req;
	http_request_set_abort_handler(req, NULL, NULL);
	http_request_set_context(req, NULL);
	if (pr->body != FORWARD_BODY_NONE)
		http_request_set_body_sink(req, discard_sink, NULL);
	pr_free(pr, reusable);
}

/* Answers the client with an error of our own; pr is gone afterwards. */
static void fail(struct proxy_req *pr, int status, const char *code, const char *message)
{
	struct http_request *req = pr->req;
	if (status == 503)
		counter_inc(&pr->p->no_member);
	else if (status == 504)
		counter_inc(&pr->p->gateway_timeout);
	else
		counter_inc(&pr->p->bad_gateway);
	log_info("proxy", "%s %.*s %.*s: %d %s", http_request_id(req),
	         (int)http_request_head(req)->method.len, http_request_head(req)->method.ptr,
	         (int)(http_request_head(req)->target.len > 200
	                   ? 200
	                   : http_request_head(req)->target.len),
	         http_request_head(req)->target.ptr, status, message);
	detach(pr, false);
	http_response_close(req);
	http_response_error(req, status, code, message);
}

static void on_abort(void *ctx)
{
	struct proxy_req *pr = ctx;
	if (!pr->failed)
		counter_inc(&pr->p->client_aborts);
	http_request_set_context(pr->req, NULL);
	pr_free(pr, false);
}

/* ---------------------------------------------------------------- attempts */

static void on_upstream(void *ctx, struct upstream_conn *uc, enum upstream_event ev);
static void connected(struct proxy_req *pr);

static uint64_t now_ms(struct proxy_req *pr)
{
	return ioloop_now_ms(pr->pt->loop);
}

/* Picks a member and gets a connection to it, moving on after connect failures. Nothing has
   been sent on any of them, so any method may go elsewhere. Returns false, having answered
   nothing, when no member can take the request: the caller answers with no_member(). */
static bool attempt(struct proxy_req *pr)
{
	for (;;) {
		enum balancer_pick_kind kind;
		pr->member = balancer_pick(pr->p->b, pr->route, &pr->exclude, now_ms(pr), &kind);
		if (pr->member == NULL)
			return false;
		pr->begun = false;
		int err = 0;
		enum upstream_acquire_result res =
		    upstream_acquire(pr->pt->ut, pr->member, false, on_upstream, pr, &pr->uc, &err);
		if (res == UPSTREAM_ACQ_READY) {
			connected(pr);
			return true;
		}
		if (res == UPSTREAM_ACQ_PENDING)
			return true;
		log_warn("proxy", "%s: cannot connect to %s (%s): %s", http_request_id(pr->req),
		         balancer_member_route(pr->member), balancer_member_address(pr->member),
		         strerror(err));
		balancer_member_failed(pr->member, now_ms(pr));
		bool room = balancer_exclude_add(&pr->exclude, pr->member);
		balancer_end(&pr->member, 0, 0, false);
		if (++pr->attempts >= ATTEMPTS_MAX || !room)
			return false;
		counter_inc(&pr->p->retries);
	}
}

/* 503 after attempt() found no member; pr is gone afterwards. */
static void no_member(struct proxy_req *pr)
{
	fail(pr, 503, "LB-0503",
	     pr->attempts == 0 ? "no member is available" : "no member could be reached");
}

static void connect_failed(struct proxy_req *pr)
{
	int err = upstream_conn_error(pr->uc);
	upstream_release(&pr->uc, false);
	log_warn("proxy", "%s: cannot connect to %s (%s): %s", http_request_id(pr->req),
	         balancer_member_route(pr->member), balancer_member_address(pr->member),
	         err == ETIMEDOUT ? "timed out"
	         : err == EBUSY   ? "all pool_max connections stayed busy"
	                          : strerror(err));
	if (err != EBUSY)
		balancer_member_failed(pr->member, now_ms(pr));
	bool room = balancer_exclude_add(&pr->exclude, pr->member);
	balancer_end(&pr->member, 0, 0, false);
	if (!room || ++pr->attempts >= ATTEMPTS_MAX) {
		fail(pr, 503, "LB-0503", "no member could be reached");
		return;
	}
	counter_inc(&pr->p->retries);
	if (!attempt(pr))
		no_member(pr);
}

/* Writes what is pending. Never answers the client or resumes its body (callers may be inside
   the server's own body delivery): a failure only marks write_failed, and the member's EOF or
   answer, read next, decides. */
static void flush(struct proxy_req *pr)
{
	while (pr->out_sent < pr->out.len && !pr->write_failed) {
		ssize_t n =
		    upstream_send(pr->uc, pr->out.data + pr->out_sent, pr->out.len - pr->out_sent);
		if (n > 0) {
			pr->out_sent += (size_t)n;
			pr->bytes_in += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			upstream_conn_want_write(pr->uc, true);
			upstream_conn_deadline(pr->uc, pr->set->write_timeout_ms);
			return;
		}
		pr->write_failed = true;
	}
	upstream_conn_want_write(pr->uc, false);
	if (!pr->write_failed && pr->out_sent == pr->out.len && pr->out.len > OUT_KEEP) {
		/* Small requests stay whole, for a resend elsewhere (refusal, stale connection). */
		buf_reset(&pr->out);
		pr->out_sent = 0;
		pr->out_trimmed = true;
	}
	if (pr->body_paused && pr->out.len - pr->out_sent <= OUT_LOW) {
		pr->body_paused = false;
		pr->need_resume = true;
	}
	if ((pr->body_done || pr->body == FORWARD_BODY_NONE) && pr->out_sent == pr->out.len &&
	    !pr->head_done)
		upstream_conn_deadline(pr->uc, pr->set->read_timeout_ms);
	else if (pr->awaiting_continue && pr->out_sent == pr->out.len)
		upstream_conn_deadline(pr->uc, EXPECT_WAIT_MS);
}

/* The member said 100 Continue, or nothing within EXPECT_WAIT_MS (then the body goes anyway,
   as a client's would, RFC 9110 10.1.1): the client's body may come, and lib-http tells the
   client "100 Continue" when on_upstream() resumes it. */
static void continue_body(struct proxy_req *pr)
{
	pr->awaiting_continue = false;
	upstream_conn_deadline(pr->uc, 0);
	pr->need_resume = true;
}

static void connected(struct proxy_req *pr)
{
	if (!pr->begun) {
		balancer_begin(pr->member);
		pr->begun = true;
	}
	flush(pr);
}

/* ---------------------------------------------------------------- the answer */

static bool all_sent(const struct proxy_req *pr)
{
	return !pr->write_failed && (pr->body_done || pr->body == FORWARD_BODY_NONE) &&
	       pr->out_sent == pr->out.len;
}

/* The member's connection can serve another request: the answer was read exactly and the
   request sent completely. */
static bool reusable(const struct proxy_req *pr)
{
	return pr->rh.keep_alive && all_sent(pr) && pr->in_off == pr->in_len && !pr->failed;
}

static void finished(struct proxy_req *pr)
{
	counter_inc(&pr->p->forwarded);
}

static ssize_t produce(void *ctx, char *buf, size_t size);

static void pass_head(struct proxy_req *pr)
{
	struct http_request *req = pr->req;
	http_request_set_log_route(req, balancer_member_route(pr->member)); /* the access log's */
	http_response_status(req, pr->rh.status);
	for (size_t i = 0; i < pr->rh.header_count; i++) {
		const struct http_header *h = &pr->rh.headers[i];
		if (!forward_response_field_dropped(pr->rh.headers, pr->rh.header_count, h->name))
			http_response_header_strv(req, h->name, h->value);
	}
}

/* The head is parsed: answer in one piece when the body is small and here, else stream.
   Returns false when pr is (or may be) gone. */
static bool deliver(struct proxy_req *pr)
{
	struct http_request *req = pr->req;
	size_t avail = pr->in_len - pr->in_off;

	if (pr->rh.body_kind == HTTP_RESPONSE_BODY_LENGTH &&
	    pr->rh.content_length <= FAST_BODY_MAX) {
		if (avail < pr->rh.content_length)
			return true; /* read on: the rest fits the buffer */
		pass_head(pr);
		buf_append(http_response_body(req), pr->in + pr->in_off,
		           (size_t)pr->rh.content_length);
		pr->in_off += (size_t)pr->rh.content_length;
		finished(pr);
		detach(pr, reusable(pr));
		http_response_send(req);
		return false;
	}
	pass_head(pr);
	if (pr->rh.body_kind == HTTP_RESPONSE_BODY_NONE) {
		if (pr->head_request && pr->rh.content_length > 0)
			http_response_head_length(req, pr->rh.content_length);
		finished(pr);
		detach(pr, reusable(pr));
		http_response_send(req);
		return false;
	}
	pr->streaming = true;
	upstream_conn_deadline(pr->uc, 0);
	if (pr->rh.body_kind == HTTP_RESPONSE_BODY_LENGTH) {
		pr->rest = pr->rh.content_length;
		http_response_stream_sized(req, produce, pr, pr->rh.content_length);
	} else {
		if (pr->rh.body_kind == HTTP_RESPONSE_BODY_CHUNKED)
			http_chunked_decoder_init(&pr->dec, &pr->p->response_limits);
		/* an event stream (the mail API's new-mail push): a client that leaves is noticed
		   while the member is silent, and the member's connection closes with it */
		struct strv type = http_response_head_header(&pr->rh, "Content-Type");
		struct strv sse = strv_from_cstr("text/event-stream");
		if (type.len >= sse.len && strv_eq_ci((struct strv){type.ptr, sse.len}, sse))
			http_response_stream_events(req, produce, pr);
		else
			http_response_stream(req, produce, pr);
	}
	http_response_send(req);
	return false;
}

static void rebase(struct strv *v, uintptr_t old_base, char *new_base)
{
	if (v->ptr != NULL)
		v->ptr = new_base + ((uintptr_t)v->ptr - old_base);
}

/* Room for at least want more bytes in the input buffer. While a small answer is collected
   (head parsed, not streaming), the head's views point into the buffer: nothing is dropped
   then, and a grown buffer takes the views along. */
static void in_reserve(struct proxy_req *pr, size_t want)
{
	bool views = pr->head_done && !pr->streaming;
	if (!views && pr->in_off > 0) {
		memmove(pr->in, pr->in + pr->in_off, pr->in_len - pr->in_off);
		pr->in_len -= pr->in_off;
		pr->in_off = 0;
	}
	if (pr->in_cap - pr->in_len >= want)
		return;
	size_t cap = pr->in_cap == 0 ? IN_INITIAL : pr->in_cap;
	while (cap - pr->in_len < want)
		cap *= 2;
	uintptr_t old_base = (uintptr_t)pr->in;
	pr->in = mem_realloc(pr->in, cap);
	pr->in_cap = cap;
	if (views) {
		rebase(&pr->rh.reason, old_base, pr->in);
		for (size_t i = 0; i < pr->rh.header_count; i++) {
			rebase(&pr->rh.headers[i].name, old_base, pr->in);
			rebase(&pr->rh.headers[i].value, old_base, pr->in);
		}
	}
}

/* A reused connection that ends before any answer was most likely closed by the member while
   idle: an idempotent request whose bytes are all still here goes again, on a new connection
   to the same member. Returns true if it did. */
static bool stale_retry(struct proxy_req *pr)
{
	if (pr->got_any || !upstream_conn_reused(pr->uc) || !pr->idempotent || pr->out_trimmed ||
	    pr->stale_retries >= STALE_RETRY_MAX)
		return false;
	pr->stale_retries++;
	counter_inc(&pr->p->retries);
	upstream_release(&pr->uc, false);
	pr->out_sent = 0;
	pr->write_failed = false;
	int err = 0;
	enum upstream_acquire_result res =
	    upstream_acquire(pr->pt->ut, pr->member, true, on_upstream, pr, &pr->uc, &err);
	if (res == UPSTREAM_ACQ_READY) {
		connected(pr);
	} else if (res == UPSTREAM_ACQ_FAILED) {
		balancer_member_failed(pr->member, now_ms(pr));
		bool room = balancer_exclude_add(&pr->exclude, pr->member);
		balancer_end(&pr->member, 0, 0, false);
		if (!room) {
			fail(pr, 503, "LB-0503", "no member could be reached");
			return true;
		}
		if (!attempt(pr))
			no_member(pr);
	}
	return true;
}

/* The member answered that it did not act on the request (a draining node refusing a login,
   src/tandemd/sessions.c): mark it draining at once, without waiting for the next health
   check, and send the request, still whole, to another member. */
static void refused_retry(struct proxy_req *pr)
{
	log_info("proxy", "%s: member %s is draining: the request goes to another member",
	         http_request_id(pr->req), balancer_member_route(pr->member));
	balancer_set_draining(pr->member, true);
	upstream_release(&pr->uc, false);
	bool room = balancer_exclude_add(&pr->exclude, pr->member);
	balancer_end(&pr->member, pr->bytes_in, pr->bytes_out, false);
	pr->bytes_in = pr->bytes_out = 0;
	pr->in_off = pr->in_len = 0;
	pr->head_done = pr->got_any = pr->write_failed = false;
	pr->out_sent = 0;
	http_response_parser_init(&pr->rp, &pr->p->response_limits);
	if (!room || ++pr->attempts >= ATTEMPTS_MAX) {
		fail(pr, 503, "LB-0503", "no member could take the request");
		return;
	}
	counter_inc(&pr->p->retries);
	if (!attempt(pr))
		no_member(pr);
}

/* Reads and parses the answer's head. Returns false when pr is (or may be) gone. */
static bool read_head(struct proxy_req *pr)
{
	for (;;) {
		if (pr->head_done) {
			if (!deliver(pr))
				return false;
		} else if (pr->in_len > pr->in_off) {
			const char *error;
			enum http_parse_status st = http_response_parser_parse(
			    &pr->rp, pr->in + pr->in_off, pr->in_len - pr->in_off, pr->rheaders,
			    pr->head_request, &pr->rh, &pr->rhead_len, &error);
			if (st == HTTP_PARSE_ERROR) {
				pr->failed = true;
				fail(pr, 502, "LB-0502", error);
				return false;
			}
			if (st == HTTP_PARSE_OK) {
				pr->in_off += pr->rhead_len;
				if (pr->rh.status == 101) {
					pr->failed = true;
					fail(pr, 502, "LB-0502", "the member switched protocols");
					return false;
				}
				if (pr->rh.status < 200) {
					/* 100 Continue and friends: lib-http tells the client about
					   its body itself; wait for the final answer. */
					if (pr->rh.status == 100 && pr->awaiting_continue)
						continue_body(pr);
					http_response_parser_init(&pr->rp, &pr->p->response_limits);
					continue;
				}
				if (pr->rh.status == 503 && !pr->out_trimmed &&
				    http_response_head_header(&pr->rh, "X-Tandem-Refused").ptr !=
				        NULL) {
					refused_retry(pr);
					return false;
				}
				pr->head_done = true;
				upstream_conn_deadline(pr->uc, pr->set->read_timeout_ms);
				continue;
			}
		}
		size_t want = pr->head_done ? pr->rh.content_length - (pr->in_len - pr->in_off)
		                            : IN_INITIAL / 2;
		in_reserve(pr, want);
		ssize_t n = upstream_recv(pr->uc, pr->in + pr->in_len, pr->in_cap - pr->in_len);
		if (n > 0) {
			pr->got_any = true;
			pr->in_len += (size_t)n;
			pr->bytes_out += (uint64_t)n;
			if (!pr->head_done &&
			    pr->in_len - pr->in_off > pr->p->response_limits.max_header_bytes + 8) {
				pr->failed = true;
				fail(pr, 502, "LB-0502", "the member's answer head is too large");
				return false;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		/* EOF or reset before a complete answer. */
		if (stale_retry(pr))
			return false;
		pr->failed = true;
		balancer_member_failed(pr->member, now_ms(pr));
		fail(pr, 502, "LB-0502",
		     pr->got_any ? "the member closed the connection in the middle of its answer"
		                 : "the member closed the connection without answering");
		return false;
	}
}

/* Streams the member's body to the client (called by the server when the client can take
   bytes). Reads the member's socket directly: no bytes wait in between. */
static ssize_t produce(void *ctx, char *buf, size_t size)
{
	struct proxy_req *pr = ctx;

	if (pr->failed)
		return -1;
	for (;;) {
		size_t avail = pr->in_len - pr->in_off;
		if (avail > 0) {
			const char *src = pr->in + pr->in_off;
			size_t n = avail < size ? avail : size;
			switch (pr->rh.body_kind) {
			case HTTP_RESPONSE_BODY_LENGTH:
				if (n > pr->rest)
					n = (size_t)pr->rest;
				memcpy(buf, src, n);
				pr->in_off += n;
				pr->rest -= n;
				if (pr->rest == 0) {
					/* The server asks no more of a sized stream. */
					finished(pr);
					detach(pr, reusable(pr));
				}
				return (ssize_t)n;
			case HTTP_RESPONSE_BODY_CHUNKED: {
				size_t consumed, data_len;
				const char *data;
				int status;
				const char *error;
				enum http_parse_status st = http_chunked_decode(
				    &pr->dec, src, n, &consumed, &data, &data_len, &status, &error);
				if (st == HTTP_PARSE_ERROR) {
					log_warn("proxy", "%s: member %s: bad chunked body: %s",
					         http_request_id(pr->req),
					         balancer_member_route(pr->member), error);
					pr->failed = true;
					return -1;
				}
				pr->in_off += consumed;
				if (st == HTTP_PARSE_AGAIN)
					continue;
				if (data_len == 0) {
					finished(pr);
					detach(pr, reusable(pr));
					return 0;
				}
				memmove(buf, data, data_len);
				return (ssize_t)data_len;
			}
			default:
				memcpy(buf, src, n);
				pr->in_off += n;
				return (ssize_t)n;
			}
		}
		pr->in_off = pr->in_len = 0;
		in_reserve(pr, IN_INITIAL);
		ssize_t r = upstream_recv(pr->uc, pr->in, pr->in_cap);
		if (r > 0) {
			pr->in_len = (size_t)r;
			pr->bytes_out += (uint64_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			pr->blocked = true;
			upstream_conn_deadline(pr->uc, pr->set->read_timeout_ms);
			return HTTP_PRODUCER_AGAIN;
		}
		if (pr->rh.body_kind == HTTP_RESPONSE_BODY_CLOSE && r == 0) {
			finished(pr);
			detach(pr, false);
			return 0;
		}
		log_warn("proxy", "%s: member %s closed the connection in the middle of a body",
		         http_request_id(pr->req), balancer_member_route(pr->member));
		pr->failed = true;
		return -1;
	}
}

/* ---------------------------------------------------------------- member events */

static void on_upstream(void *ctx, struct upstream_conn *uc, enum upstream_event ev)
{
	struct proxy_req *pr = ctx;
	(void)uc;

	switch (ev) {
	case UPSTREAM_READY:
		connected(pr);
		break;
	case UPSTREAM_FAILED:
		connect_failed(pr);
		return;
	case UPSTREAM_TIMEOUT:
		if (pr->awaiting_continue) {
			continue_body(pr);
			break;
		}
		if (pr->streaming) {
			log_warn("proxy", "%s: member %s stopped sending its body",
			         http_request_id(pr->req), balancer_member_route(pr->member));
			pr->failed = true;
			if (pr->blocked) {
				pr->blocked = false;
				http_response_resume(pr->req);
			}
			return;
		}
		pr->failed = true;
		balancer_member_failed(pr->member, now_ms(pr));
		fail(pr, 504, "LB-0504",
		     all_sent(pr) ? "the member did not answer in time"
		                  : "the member did not take the request in time");
		return;
	case UPSTREAM_IO:
		if (pr->streaming) {
			if (pr->blocked) {
				pr->blocked = false;
				http_response_resume(pr->req);
			}
			return;
		}
		if (pr->out_sent < pr->out.len)
			flush(pr);
		break;
	}
	if (!read_head(pr))
		return;
	if (pr->need_resume) {
		pr->need_resume = false;
		http_request_resume_body(pr->req);
	}
}

/* ---------------------------------------------------------------- the request */

static int body_sink(void *ctx, const char *data, size_t len)
{
	struct proxy_req *pr = ctx;

	if (len == 0) {
		if (pr->body == FORWARD_BODY_CHUNKED)
			buf_append_lit(&pr->out, "0\r\n\r\n");
		pr->body_done = true;
	} else {
		if (pr->body == FORWARD_BODY_CHUNKED) {
			char line[24];
			buf_append(&pr->out, line, http_chunked_format_size(line, len));
		}
		buf_append(&pr->out, data, len);
		if (pr->body == FORWARD_BODY_CHUNKED)
			buf_append_lit(&pr->out, "\r\n");
	}
	if (pr->buffering) {
		/* No member yet (on_head): the whole body goes in one piece from on_request,
		   unless a chunked one outgrows buffer_body and goes on as a stream. The sink
		   must not answer the client: a failure waits for on_request. */
		if (len == 0 || http_request_body_size(pr->req) <= pr->set->buffer_body)
			return 0;
		pr->buffering = false;
		if (!attempt(pr)) {
			pr->no_member_pending = true;
			return -1;
		}
	}
	if (pr->write_failed) {
		/* The member stopped taking bytes; its answer decides. Keep a small request for a
		   resend elsewhere, drop the rest of a large one. */
		if (pr->out.len > OUT_KEEP || pr->out_trimmed) {
			buf_reset(&pr->out);
			pr->out_sent = 0;
			pr->out_trimmed = true;
		}
		return 0;
	}
	if (pr->uc != NULL && pr->begun)
		flush(pr);
	if (pr->out.len - pr->out_sent > OUT_HIGH) {
		pr->body_paused = true;
		return HTTP_SINK_PAUSE;
	}
	return 0;
}

/* The peer's address as a sockaddr for network lists; NULL if it is not an IP address. */
static const struct sockaddr *peer_addr(const char *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)ss)->sin_addr) == 1)
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1)
		ss->ss_family = AF_INET6;
	else
		return NULL;
	return (const struct sockaddr *)ss;
}

static bool peer_trusted(const struct proxy_settings *set, const char *ip)
{
	struct sockaddr_storage ss;
	return set->trusted_proxy_count > 0 &&
	       lb_cidr_match(set->trusted_proxies, set->trusted_proxy_count, peer_addr(ip, &ss));
}

/* [access PATH] rules; answers and returns false when the request may not pass. */
static bool access_allowed(struct proxy *p, const struct proxy_settings *set,
                           struct http_request *req)
{
	struct sockaddr_storage ss;
	const char *ip = http_request_peer_ip(req);
	enum lb_access_result r = lb_access_check(set->access, set->access_count,
	                                          http_request_head(req)->path, peer_addr(ip, &ss));
	if (r == LB_ACCESS_ALLOWED)
		return true;
	log_info("proxy", "%s: refused for %s: %s", http_request_id(req), ip,
	         r == LB_ACCESS_DENIED ? "path not allowed from this network" : "malformed path");
	if (r == LB_ACCESS_DENIED) {
		counter_inc(&p->access_denied);
		http_response_error(req, 403, "LB-0403",
		                    "this path is not available from your network");
	} else {
		http_response_error(req, 400, "LB-0400", "malformed path");
	}
	return false;
}

/* A node verb sent to the balancer (forward_node_path()): 421 naming the members' URLs,
   which is where the verb should go. The client already passed the /admin access rules. */
static void refuse_node_path(struct proxy *p, struct http_request *req)
{
	enum { LISTED_MAX = 16 };
	char text[2048];
	struct buf b;
	struct balancer_member_info *infos;
	size_t n = balancer_snapshot(p->b, clock_mono_ms(), &infos);

	buf_init_fixed(&b, text, sizeof(text));
	buf_append_str(&b, "this is a balancer: /admin/v1/node and /admin/v1/drain address one "
	                   "node and would reach any member; use a node's own URL");
	for (size_t i = 0; i < n && i < LISTED_MAX; i++)
		buf_printf(&b, "%s %s http://%s", i == 0 ? ":" : ",", infos[i].route,
		           infos[i].address);
	if (n > LISTED_MAX)
		buf_printf(&b, " and %zu more", n - LISTED_MAX);
	mem_free(&infos);
	log_info("proxy", "%s: refused for %s: a node's own path", http_request_id(req),
	         http_request_peer_ip(req));
	http_response_error(req, 421, "LB-0421", text);
}

static void on_head(struct http_request *req, void *ctx)
{
	struct proxy *p = ctx;
	const struct http_request_head *head = http_request_head(req);

	if (strv_eq_cstr(head->method, "CONNECT")) {
		http_response_header(req, "Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
		http_response_error(req, 405, "LB-0405", "CONNECT is not proxied");
		return;
	}
	const struct proxy_generation *gen =
	    atomic_load_explicit(&p->current, memory_order_acquire);
	const struct proxy_settings *set = &gen->set;
	if (set->access_count > 0 && !access_allowed(p, set, req))
		return;
	if (forward_node_path(head->path)) {
		refuse_node_path(p, req);
		return;
	}
	struct proxy_thread *pt = current_pt;
	if (pt->generation != gen->number) {
		upstream_thread_set_settings(pt->ut, &set->upstream);
		pt->generation = gen->number;
	}
	struct proxy_req *pr = pr_new(pt);
	pr->set = set;
	pr->p = p;
	pr->pt = current_pt;
	pr->req = req;
	pr->idempotent = forward_method_idempotent(head->method);
	pr->head_request = strv_eq_cstr(head->method, "HEAD");
	pr->body = head->body_kind == HTTP_BODY_NONE     ? FORWARD_BODY_NONE
	           : head->body_kind == HTTP_BODY_LENGTH ? FORWARD_BODY_LENGTH
	                                                 : FORWARD_BODY_CHUNKED;
	/* A slow client must not hold a member connection while its body trickles in: small
	   bodies (and chunked ones until they outgrow buffer_body) are read first. A larger
	   upload streams; its Expect: 100-continue goes to the member, so that a refusal (quota)
	   comes before the client sends anything. */
	pr->buffering =
	    pr->body != FORWARD_BODY_NONE && set->buffer_body > 0 &&
	    (pr->body == FORWARD_BODY_CHUNKED || head->content_length <= set->buffer_body);
	pr->awaiting_continue = head->expect_continue && head->version_minor == 1 &&
	                        pr->body == FORWARD_BODY_LENGTH && !pr->buffering;
	http_response_parser_init(&pr->rp, &p->response_limits);

	struct strv cookies[COOKIES_MAX];
	size_t ncookies = 0;
	for (size_t i = 0; i < head->header_count && ncookies < COOKIES_MAX; i++) {
		if (strv_eq_ci_cstr(head->headers[i].name, "Cookie"))
			cookies[ncookies++] = head->headers[i].value;
	}
	sticky_route(&set->sticky, head->path, head->query, cookies, ncookies, &pr->route);

	const char *ip = http_request_peer_ip(req);
	struct forward_client client = {
	    .ip = ip,
	    .trusted = peer_trusted(set, ip),
	    .proto = http_request_is_tls(req) ? "https" : set->proto,
	    .authority = "localhost",
	    .expect_continue = pr->awaiting_continue,
	};
	forward_request_head(&pr->out, head, &client, pr->body);

	http_request_set_context(req, pr);
	http_request_set_abort_handler(req, on_abort, pr);
	if (pr->body != FORWARD_BODY_NONE)
		http_request_set_body_sink(req, body_sink, pr);
	if (pr->awaiting_continue)
		http_request_pause_body(req);
	if (!pr->buffering && !attempt(pr))
		no_member(pr);
}

/* The body is complete (or its sink gave up). Streamed requests have their member since
   on_head and the answer goes out when it comes; a buffered one gets its member now. */
static void on_request(struct http_request *req, void *ctx)
{
	struct proxy_req *pr = http_request_get_context(req);
	(void)ctx;

	if (pr == NULL)
		return; /* answered already */
	if (pr->no_member_pending) {
		no_member(pr);
	} else if (pr->buffering) {
		pr->buffering = false;
		if (!attempt(pr))
			no_member(pr);
	}
}

/* ---------------------------------------------------------------- threads */

static void thread_start(struct ioloop *loop, void *ctx)
{
	struct proxy *p = ctx;
	struct proxy_thread *pt = mem_calloc(1, sizeof(*pt));
	pt->p = p;
	pt->loop = loop;
	const struct proxy_generation *gen = atomic_load(&p->current);
	pt->ut = upstream_thread_create(loop, &gen->set.upstream);
	pt->generation = gen->number;
	pthread_mutex_lock(&p->lock);
	pt->next = p->threads;
	p->threads = pt;
	pthread_mutex_unlock(&p->lock);
	current_pt = pt;
}

static void thread_stop(struct ioloop *loop, void *ctx)
{
	struct proxy *p = ctx;
	struct proxy_thread *pt = current_pt;
	(void)loop;

	pthread_mutex_lock(&p->lock);
	for (struct proxy_thread **link = &p->threads; *link != NULL; link = &(*link)->next) {
		if (*link == pt) {
			*link = pt->next;
			break;
		}
	}
	upstream_thread_counters(pt->ut, &p->gone);
	p->gone.idle = p->gone.busy = 0;
	pthread_mutex_unlock(&p->lock);
	upstream_thread_destroy(&pt->ut);
	while (pt->spare != NULL) {
		struct proxy_req *pr = pt->spare;
		pt->spare = pr->spare_next;
		pr_destroy(pr);
	}
	mem_free(&pt);
	current_pt = NULL;
}

struct proxy *proxy_create(struct balancer *b, const struct proxy_settings *set)
{
	struct proxy *p = mem_calloc(1, sizeof(*p));
	p->b = b;
	struct proxy_generation *gen = mem_calloc(1, sizeof(*gen));
	gen->set = *set;
	atomic_store(&p->current, gen);
	http_limits_default(&p->response_limits);
	/* Members are trusted more than clients, but their heads still have a bound. */
	p->response_limits.max_line = 16 * 1024;
	p->response_limits.max_header_bytes = 64 * 1024;
	p->response_limits.max_headers = 200;
	p->response_limits.max_body = UINT64_MAX;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void proxy_destroy(struct proxy **pp)
{
	struct proxy *p = *pp;
	if (p == NULL)
		return;
	struct proxy_generation *gen = atomic_load(&p->current);
	while (gen != NULL) {
		struct proxy_generation *older = gen->older;
		mem_free(&gen);
		gen = older;
	}
	pthread_mutex_destroy(&p->lock);
	mem_free(pp);
}

void proxy_set_settings(struct proxy *p, const struct proxy_settings *set)
{
	struct proxy_generation *old = atomic_load(&p->current);
	struct proxy_generation *gen = mem_calloc(1, sizeof(*gen));
	gen->set = *set;
	gen->number = old->number + 1;
	gen->older = old;
	atomic_store_explicit(&p->current, gen, memory_order_release);
}

/* Clients behind a trusted front proxy all share its address: the proxy is not counted
   against max_conns_per_source (the settings current at the accept). */
static bool source_exempt(const struct sockaddr *peer, void *ctx)
{
	struct proxy *p = ctx;
	const struct proxy_generation *gen =
	    atomic_load_explicit(&p->current, memory_order_acquire);
	return gen->set.trusted_proxy_count > 0 &&
	       lb_cidr_match(gen->set.trusted_proxies, gen->set.trusted_proxy_count, peer);
}

void proxy_server_settings(struct proxy *p, struct http_server_settings *set)
{
	set->on_head = on_head;
	set->on_request = on_request;
	set->on_thread_start = thread_start;
	set->on_thread_stop = thread_stop;
	set->source_exempt = source_exempt;
	set->ctx = p;
}

void proxy_get_stats(struct proxy *p, struct proxy_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	stats_r->forwarded = atomic_load(&p->forwarded);
	stats_r->retries = atomic_load(&p->retries);
	stats_r->no_member = atomic_load(&p->no_member);
	stats_r->bad_gateway = atomic_load(&p->bad_gateway);
	stats_r->gateway_timeout = atomic_load(&p->gateway_timeout);
	stats_r->client_aborts = atomic_load(&p->client_aborts);
	stats_r->access_denied = atomic_load(&p->access_denied);
	pthread_mutex_lock(&p->lock);
	stats_r->upstream = p->gone;
	for (struct proxy_thread *pt = p->threads; pt != NULL; pt = pt->next)
		upstream_thread_counters(pt->ut, &stats_r->upstream);
	pthread_mutex_unlock(&p->lock);
}
