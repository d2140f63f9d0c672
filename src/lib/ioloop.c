/* SPDX-License-Identifier: MIT */
/* epoll event loop with a timer heap and an eventfd for cross-thread posts. */
#include "ioloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include <stdlib.h>

#define MAX_EVENTS 256

struct io {
	struct ioloop *loop;
	int fd;
	unsigned events;
	io_callback_fn *cb;
	void *ctx;
	/* epoll may still hold an event for an io removed earlier in the same batch, so removed
	   ios are parked on a list and freed after the batch. */
	bool removed;
	struct io *next_removed;
};

struct timer {
	struct ioloop *loop;
	uint64_t due_ms;
	uint64_t seq; /* FIFO order among timers due at the same ms */
	size_t heap_idx;
	timer_callback_fn *cb;
	void *ctx;
};

struct post {
	ioloop_post_fn *fn;
	void *ctx;
	struct post *next;
};

struct ioloop {
	int epfd;
	int wake_fd;
	atomic_bool stop;
	uint64_t now_ms;

	struct timer **heap;
	size_t heap_count, heap_cap;
	uint64_t timer_seq;

	struct io *removed;

	pthread_mutex_t post_lock;
	struct post *post_head, *post_tail;
};

static bool timer_before(const struct timer *a, const struct timer *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_set(struct ioloop *loop, size_t i, struct timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct ioloop *loop, size_t i)
{
	struct timer *t = loop->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct ioloop *loop, size_t i)
{
	struct timer *t = loop->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= loop->heap_count)
			break;
		if (child + 1 < loop->heap_count &&
		    timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_set(loop, i, loop->heap[child]);
		i = child;
	}
	heap_set(loop, i, t);
}

static void heap_remove(struct ioloop *loop, struct timer *t)
{
	size_t i = t->heap_idx;
	struct timer *last = loop->heap[--loop->heap_count];
	if (last == t)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx);
}

struct ioloop *ioloop_create(void)
{
	struct ioloop *loop = mem_calloc(1, sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->wake_fd < 0) {
		log_error("ioloop", "epoll/eventfd: %m");
		abort();
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
		log_error("ioloop", "epoll_ctl(eventfd): %m");
		abort();
	}
	pthread_mutex_init(&loop->post_lock, NULL);
	loop->now_ms = clock_mono_ms();
	return loop;
}

static void free_removed(struct ioloop *loop)
{
	while (loop->removed != NULL) {
		struct io *io = loop->removed;
		loop->removed = io->next_removed;
		mem_free(&io);
	}
}

void ioloop_destroy(struct ioloop **loopp)
{
	struct ioloop *loop = *loopp;
	if (loop == NULL)
		return;
	free_removed(loop);
	for (size_t i = 0; i < loop->heap_count; i++)
		mem_free(&loop->heap[i]);
	mem_free(&loop->heap);
	while (loop->post_head != NULL) {
		struct post *p = loop->post_head;
		loop->post_head = p->next;
		mem_free(&p);
	}
	pthread_mutex_destroy(&loop->post_lock);
	close(loop->epfd);
	close(loop->wake_fd);
	mem_free(loopp);
}

static void wake(struct ioloop *loop)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the loop will wake anyway. */
	if (write(loop->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("ioloop", "eventfd write: %m");
}

void ioloop_stop(struct ioloop *loop)
{
	atomic_store(&loop->stop, true);
	wake(loop);
}

void ioloop_post(struct ioloop *loop, ioloop_post_fn *fn, void *ctx)
{
	struct post *p = mem_alloc(sizeof(*p));
	p->fn = fn;
	p->ctx = ctx;
	p->next = NULL;
	pthread_mutex_lock(&loop->post_lock);
	bool was_empty = loop->post_head == NULL;
	if (loop->post_tail != NULL)
		loop->post_tail->next = p;
	else
		loop->post_head = p;
	loop->post_tail = p;
	pthread_mutex_unlock(&loop->post_lock);
	if (was_empty)
		wake(loop);
}

static void run_posts(struct ioloop *loop)
{
	uint64_t count;
	if (read(loop->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_error("ioloop", "eventfd read: %m");
	pthread_mutex_lock(&loop->post_lock);
	struct post *p = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	pthread_mutex_unlock(&loop->post_lock);
	while (p != NULL) {
		struct post *next = p->next;
		p->fn(p->ctx);
		mem_free(&p);
		p = next;
	}
}

static uint32_t epoll_mask(unsigned events)
{
	uint32_t mask = EPOLLET | EPOLLRDHUP;
	if (events & IO_READ)
		mask |= EPOLLIN;
	if (events & IO_WRITE)
		mask |= EPOLLOUT;
	return mask;
}

struct io *io_add(struct ioloop *loop, int fd, unsigned events, io_callback_fn *cb, void *ctx)
{
	struct io *io = mem_calloc(1, sizeof(*io));
	io->loop = loop;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->ctx = ctx;
	struct epoll_event ev = {.events = epoll_mask(events), .data.ptr = io};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_error("ioloop", "epoll_ctl(ADD, %d): %m", fd);
		abort();
	}
	return io;
}

void io_set_events(struct io *io, unsigned events)
{
	if (io->events == events)
		return;
	io->events = events;
	struct epoll_event ev = {.events = epoll_mask(events), .data.ptr = io};
	/* With edge triggering, MOD re-arms: a level that is already true is reported again. */
	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		log_error("ioloop", "epoll_ctl(MOD, %d): %m", io->fd);
}

void io_remove(struct io **iop)
{
	struct io *io = *iop;
	if (io == NULL)
		return;
	*iop = NULL;
	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL) < 0)
		log_error("ioloop", "epoll_ctl(DEL, %d): %m", io->fd);
	io->removed = true;
	io->next_removed = io->loop->removed;
	io->loop->removed = io;
}

struct timer *timer_add(struct ioloop *loop, uint64_t ms, timer_callback_fn *cb, void *ctx)
{
	struct timer *t = mem_calloc(1, sizeof(*t));
	t->loop = loop;
	t->due_ms = clock_mono_ms() + ms;
	t->seq = loop->timer_seq++;
	t->cb = cb;
	t->ctx = ctx;
	if (loop->heap_count == loop->heap_cap) {
		loop->heap_cap = loop->heap_cap == 0 ? 16 : loop->heap_cap * 2;
		loop->heap = mem_realloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
	}
	loop->heap[loop->heap_count] = t;
	t->heap_idx = loop->heap_count++;
	heap_up(loop, t->heap_idx);
	return t;
}

void timer_remove(struct timer **tp)
{
	struct timer *t = *tp;
	if (t == NULL)
		return;
	*tp = NULL;
	heap_remove(t->loop, t);
	mem_free(&t);
}

uint64_t ioloop_now_ms(const struct ioloop *loop)
{
	return loop->now_ms;
}

static void run_timers(struct ioloop *loop)
{
	while (loop->heap_count > 0 && loop->heap[0]->due_ms <= loop->now_ms) {
		struct timer *t = loop->heap[0];
		heap_remove(loop, t);
		timer_callback_fn *cb = t->cb;
		void *ctx = t->ctx;
		mem_free(&t);
		cb(ctx);
	}
}

static int next_timeout(const struct ioloop *loop)
{
	if (loop->heap_count == 0)
		return -1;
	uint64_t due = loop->heap[0]->due_ms;
	if (due <= loop->now_ms)
		return 0;
	uint64_t wait = due - loop->now_ms;
	return wait > 60000 ? 60000 : (int)wait;
}

int ioloop_run(struct ioloop *loop)
{
	struct epoll_event events[MAX_EVENTS];

	atomic_store(&loop->stop, false);
	while (!atomic_load(&loop->stop)) {
		loop->now_ms = clock_mono_ms();
		int n = epoll_wait(loop->epfd, events, MAX_EVENTS, next_timeout(loop));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("ioloop", "epoll_wait: %m");
			return -1;
		}
		loop->now_ms = clock_mono_ms();
		for (int i = 0; i < n; i++) {
			struct io *io = events[i].data.ptr;
			if (io == NULL) {
				run_posts(loop);
				continue;
			}
			if (io->removed)
				continue;
			unsigned ev = 0;
			if (events[i].events & (EPOLLIN | EPOLLRDHUP))
				ev |= IO_READ;
			if (events[i].events & EPOLLOUT)
				ev |= IO_WRITE;
			if (events[i].events & (EPOLLERR | EPOLLHUP))
				ev |= IO_ERROR | IO_READ | IO_WRITE;
			io->cb(io->ctx, ev);
		}
		free_removed(loop);
		run_timers(loop);
	}
	return 0;
}
