/* SPDX-License-Identifier: MIT */
/* Event loop: fd readiness, timer order and removal, cross-thread posts and stop. */
#include <pthread.h>
#include <string.h>
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

int main(void)
{
	static const struct test_case cases[] = {
	    {"io read", test_io_read},
	    {"timers", test_timers},
	    {"post from other thread", test_post_from_other_thread},
	    {NULL, NULL},
	};
	return test_run(cases);
}
