/* SPDX-License-Identifier: MIT */
/* Event loop: fd readiness, timer order and removal, cross-thread posts and stop; ring
   operations, provided buffers, cancellation at stop, and the epoll-only mode. */
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "ioloop.h"
#include "test.h"

struct pipe_ctx {
	struct ioloop *loop;
	int fd;
	char got[16];
	size_t len;
};

static void on_readable(void *ctx, unsigned events)
{
	struct pipe_ctx *p = ctx;
	test_assert(events & IO_READ);
	ssize_t n = read(p->fd, p->got + p->len, sizeof(p->got) - p->len);
	if (n > 0)
		p->len += (size_t)n;
	if (p->len >= 3)
		ioloop_stop(p->loop);
}

static void test_io_read(void)
{
	int fds[2];
	test_assert(pipe(fds) == 0);
	struct ioloop *loop = ioloop_create();
	struct pipe_ctx p = {.loop = loop, .fd = fds[0]};
	struct io *io = io_add(loop, fds[0], IO_READ, on_readable, &p);
	test_assert(write(fds[1], "abc", 3) == 3);
	test_assert_int_eq(ioloop_run(loop), 0);
	test_assert(p.len == 3 && memcmp(p.got, "abc", 3) == 0);
	io_remove(&io);
	test_assert(io == NULL);
	ioloop_destroy(&loop);
	test_assert(loop == NULL);
	close(fds[0]);
	close(fds[1]);
}

struct timer_ctx {
	struct ioloop *loop;
	int order[8];
	int count;
	struct timer *victim;
};

static void timer_a(void *ctx)
{
	struct timer_ctx *t = ctx;
	t->order[t->count++] = 1;
	/* A timer may remove another one that has not fired yet. */
	timer_remove(&t->victim);
}

static void timer_b(void *ctx)
{
	struct timer_ctx *t = ctx;
	t->order[t->count++] = 2;
	ioloop_stop(t->loop);
}

static void timer_never(void *ctx)
{
	struct timer_ctx *t = ctx;
	t->order[t->count++] = 99;
}

static void test_timers(void)
{
	struct ioloop *loop = ioloop_create();
	struct timer_ctx t = {.loop = loop};
	uint64_t start = clock_mono_ms();
	timer_add(loop, 60, timer_b, &t);
	t.victim = timer_add(loop, 40, timer_never, &t);
	timer_add(loop, 20, timer_a, &t);
	ioloop_run(loop);
	uint64_t elapsed = clock_mono_ms() - start;
	test_assert_int_eq(t.count, 2);
	test_assert_int_eq(t.order[0], 1);
	test_assert_int_eq(t.order[1], 2);
	test_assert(elapsed >= 60 && elapsed < 2000);
	ioloop_destroy(&loop);
}

struct post_ctx {
	struct ioloop *loop;
	pthread_t loop_thread;
	int hits;
	bool on_loop_thread;
};

static void posted(void *ctx)
{
	struct post_ctx *p = ctx;
	p->on_loop_thread = pthread_equal(pthread_self(), p->loop_thread);
	if (++p->hits == 100)
		ioloop_stop(p->loop);
}

static void *poster(void *arg)
{
	struct post_ctx *p = arg;
	for (int i = 0; i < 100; i++)
		ioloop_post(p->loop, posted, p);
	return NULL;
}

static void test_post_from_other_thread(void)
{
	struct ioloop *loop = ioloop_create();
	struct post_ctx p = {.loop = loop, .loop_thread = pthread_self()};
	pthread_t th;
	pthread_create(&th, NULL, poster, &p);
	ioloop_run(loop);
	pthread_join(th, NULL);
	test_assert_int_eq(p.hits, 100);
	test_assert(p.on_loop_thread);
	ioloop_destroy(&loop);
}

/* Posts that meet the loop asleep, waking up and busy: one at a time (each waits for the
   last to run: a lost wake-up stalls it, and the watchdog timer ends the loop short), and
   bursts from several threads (the worker pool's answers come back this way). */
#define PINGS    3000
#define BURSTERS 3
#define BURST    5000

struct pingpong {
	struct ioloop *loop;
	atomic_int hits;
	int want;
};

static void ping(void *ctx)
{
	struct pingpong *pp = ctx;
	if (atomic_fetch_add(&pp->hits, 1) + 1 == pp->want)
		ioloop_stop(pp->loop);
}

static void *pinger(void *arg)
{
	struct pingpong *pp = arg;
	for (int i = 1; i <= PINGS; i++) {
		ioloop_post(pp->loop, ping, pp);
		for (int spin = 0; atomic_load(&pp->hits) < i && spin < 2000000; spin++)
			if (spin % 64 == 63)
				usleep(i % 3 == 0 ? 200 : 0); /* some find the loop asleep */
		if (atomic_load(&pp->hits) < i)
			break; /* lost: the watchdog ends the test */
	}
	return NULL;
}

static void *burster(void *arg)
{
	struct pingpong *pp = arg;
	for (int i = 0; i < BURST; i++)
		ioloop_post(pp->loop, ping, pp);
	return NULL;
}

static void watchdog(void *ctx)
{
	ioloop_stop(ctx);
}

static void test_post_wakeups(void)
{
	struct ioloop *loop = ioloop_create();
	struct pingpong pp = {.loop = loop, .want = PINGS + BURSTERS * BURST};
	atomic_init(&pp.hits, 0);
	timer_add(loop, 30000, watchdog, loop);
	pthread_t th[BURSTERS + 1];
	pthread_create(&th[0], NULL, pinger, &pp);
	for (int i = 1; i <= BURSTERS; i++)
		pthread_create(&th[i], NULL, burster, &pp);
	ioloop_run(loop);
	for (int i = 0; i <= BURSTERS; i++)
		pthread_join(th[i], NULL);
	test_assert_int_eq(atomic_load(&pp.hits), pp.want);
	ioloop_destroy(&loop);
}

struct ring_ctx {
	struct ioloop *loop;
	int sv[2];
	struct ring_op recv_op, send_op, idle_op;
	bool had_ring;
	char got[16];
	int recv_res, send_res;
	bool idle_done;
};

static void ring_recv_done(struct ring_op *op, int res, unsigned flags)
{
	struct ring_ctx *r = RING_OP_OWNER(op, struct ring_ctx, recv_op);
	r->recv_res = res;
	if (res > 0) {
		struct ring_rx rx = {0};
		ioloop_ring_rx_set(r->loop, &rx, res, flags, NULL);
		ioloop_ring_rx_take(r->loop, &rx, r->got, sizeof(r->got) - 1);
	}
	if (r->send_res != 0)
		ioloop_stop(r->loop);
}

static void ring_send_done(struct ring_op *op, int res, unsigned flags)
{
	struct ring_ctx *r = RING_OP_OWNER(op, struct ring_ctx, send_op);
	(void)flags;
	r->send_res = res;
	if (r->recv_res != 0)
		ioloop_stop(r->loop);
}

static void ring_idle_done(struct ring_op *op, int res, unsigned flags)
{
	struct ring_ctx *r = RING_OP_OWNER(op, struct ring_ctx, idle_op);
	(void)res;
	(void)flags;
	r->idle_done = true;
}

static void ring_start_ops(void *ctx)
{
	struct ring_ctx *r = ctx;
	r->had_ring = ioloop_ring(r->loop);
	if (!r->had_ring) {
		ioloop_stop(r->loop);
		return;
	}
	r->recv_op.done = ring_recv_done;
	r->send_op.done = ring_send_done;
	r->idle_op.done = ring_idle_done;
	ioloop_ring_recv(r->loop, &r->recv_op, r->sv[0]);
	io_uring_prep_send(ioloop_ring_sqe(r->loop, &r->send_op), r->sv[1], "ping", 4, 0);
	/* Never completes: nothing is sent the other way. ioloop_run() must cancel it. */
	static char sink[8];
	io_uring_prep_recv(ioloop_ring_sqe(r->loop, &r->idle_op), r->sv[1], sink, sizeof(sink), 0);
}

static void test_ring_ops(void)
{
	struct ioloop *loop = ioloop_create();
	struct ring_ctx r = {.loop = loop};
	test_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, r.sv) == 0);
	timer_add(loop, 0, ring_start_ops, &r);
	uint64_t start = clock_mono_ms();
	test_assert_int_eq(ioloop_run(loop), 0);
	test_assert(clock_mono_ms() - start < 2000);
	test_assert(r.had_ring); /* io_uring works on the machines Tandem supports */
	test_assert_int_eq(r.send_res, 4);
	test_assert_int_eq(r.recv_res, 4);
	test_assert(strcmp(r.got, "ping") == 0);
	test_assert(!r.idle_done);       /* cancelled at stop: no callback after ioloop_run() */
	test_assert(!ioloop_ring(loop)); /* the ring lives while the loop runs */
	ioloop_destroy(&loop);
	close(r.sv[0]);
	close(r.sv[1]);
}

static void test_epoll_only_mode(void)
{
	setenv("TANDEM_IOLOOP", "epoll", 1);
	struct ioloop *loop = ioloop_create();
	struct ring_ctx r = {.loop = loop, .had_ring = true};
	timer_add(loop, 0, ring_start_ops, &r);
	test_assert_int_eq(ioloop_run(loop), 0);
	test_assert(!r.had_ring);
	ioloop_destroy(&loop);
	unsetenv("TANDEM_IOLOOP");
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"io read", test_io_read},
	    {"timers", test_timers},
	    {"post from other thread", test_post_from_other_thread},
	    {"post wake-ups", test_post_wakeups},
	    {"ring operations", test_ring_ops},
	    {"epoll-only mode", test_epoll_only_mode},
	    {NULL, NULL},
	};
	return test_run(cases);
}
