/* SPDX-License-Identifier: MIT */
/* epoll event loop with a timer heap and an eventfd for cross-thread posts; while it runs,
   an io_uring that waits for the epoll set as one of its operations. */
#include "ioloop.h"

#include <assert.h>
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include <stdlib.h>

#define MAX_EVENTS    256
#define RING_ENTRIES  1024
#define RING_BUFS     256 /* provided receive buffers per loop: 1 MiB */
#define RING_BUFS_MAX 32768
#define RING_BGID     1
#define EPOLL_TAG     1 /* user_data of the poll on the epoll fd (ops are aligned pointers) */

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

	bool ring_on;
	bool epoll_armed;       /* the poll on epfd is in flight */
	uint64_t ring_inflight; /* entries queued or in the kernel */
	struct io_uring ring;
	struct io_uring_buf_ring *bufring;
	unsigned nbufs;
	char *bufs;
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

static void dispatch_epoll(struct ioloop *loop, const struct epoll_event *events, int n)
{
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
}

static int run_epoll(struct ioloop *loop)
{
	struct epoll_event events[MAX_EVENTS];

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
		dispatch_epoll(loop, events, n);
		free_removed(loop);
		run_timers(loop);
	}
	return 0;
}

/* ---------------------------------------------------------------- io_uring */

/* TANDEM_IOLOOP: unset, empty or "io_uring" = a ring when the kernel allows, "epoll" = none. */
static bool ring_wanted(void)
{
	static atomic_bool told;
	const char *mode = getenv("TANDEM_IOLOOP");
	if (mode != NULL && strcmp(mode, "epoll") == 0)
		return false;
	if (mode != NULL && mode[0] != '\0' && strcmp(mode, "io_uring") != 0 &&
	    !atomic_exchange(&told, true))
		log_warn("ioloop",
		         "TANDEM_IOLOOP=%s: unknown, expected epoll or io_uring; using io_uring",
		         mode);
	return true;
}

static char *buf_at(struct ioloop *loop, unsigned bid)
{
	return loop->bufs + (size_t)bid * IOLOOP_RING_BUF_SIZE;
}

static void buf_release(struct ioloop *loop, unsigned bid)
{
	io_uring_buf_ring_add(loop->bufring, buf_at(loop, bid), IOLOOP_RING_BUF_SIZE,
	                      (unsigned short)bid, io_uring_buf_ring_mask(loop->nbufs), 0);
	io_uring_buf_ring_advance(loop->bufring, 1);
}

/* RING_BUFS, or TANDEM_IOLOOP_BUFS (a power of two): tests make the kernel run out. */
static unsigned bufs_wanted(void)
{
	const char *v = getenv("TANDEM_IOLOOP_BUFS");
	unsigned long n = v != NULL ? strtoul(v, NULL, 10) : 0;
	if (n == 0 || n > RING_BUFS_MAX || (n & (n - 1)) != 0)
		return RING_BUFS;
	return (unsigned)n;
}

static bool bufs_setup(struct ioloop *loop)
{
	unsigned nbufs = bufs_wanted();
	size_t ring_size = nbufs * sizeof(struct io_uring_buf);
	void *br =
	    mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		return false;
	struct io_uring_buf_reg reg = {
	    .ring_addr = (unsigned long)br, .ring_entries = nbufs, .bgid = RING_BGID};
	if (io_uring_register_buf_ring(&loop->ring, &reg, 0) < 0) {
		munmap(br, ring_size);
		return false;
	}
	loop->bufring = br;
	loop->nbufs = nbufs;
	loop->bufs = mem_alloc((size_t)nbufs * IOLOOP_RING_BUF_SIZE);
	io_uring_buf_ring_init(loop->bufring);
	int mask = io_uring_buf_ring_mask(nbufs);
	for (unsigned i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(loop->bufring, buf_at(loop, i), IOLOOP_RING_BUF_SIZE,
		                      (unsigned short)i, mask, (int)i);
	io_uring_buf_ring_advance(loop->bufring, (int)nbufs);
	return true;
}

/* Called on the thread that runs the loop: with a single issuer, only it may submit. */
static void ring_start(struct ioloop *loop)
{
	static atomic_bool told;
	struct io_uring_params p = {.flags =
	                                IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
	const char *why = NULL;

	if (!ring_wanted())
		return;
	int ret = io_uring_queue_init_params(RING_ENTRIES, &loop->ring, &p);
	if (ret < 0) {
		why = strerror(-ret);
	} else if (!(p.features & IORING_FEAT_EXT_ARG)) {
		why = "no IORING_FEAT_EXT_ARG";
		io_uring_queue_exit(&loop->ring);
	} else if (!bufs_setup(loop)) {
		why = "no provided buffer rings";
		io_uring_queue_exit(&loop->ring);
	}
	if (why != NULL) {
		if (!atomic_exchange(&told, true))
			log_info("ioloop", "io_uring unavailable (%s): socket I/O by system calls",
			         why);
		return;
	}
	loop->ring_on = true;
	loop->epoll_armed = false;
	loop->ring_inflight = 0;
}

/* Cancels whatever is in flight and waits for it (bounded), so no operation outlives the
   memory its owner frees after ioloop_run() returns. */
static void ring_stop(struct ioloop *loop)
{
	if (!loop->ring_on)
		return;
	struct io_uring_sqe *sqe = ioloop_ring_sqe(loop, NULL);
	io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
	uint64_t deadline = clock_mono_ms() + 1000;
	while (loop->ring_inflight > 0 && clock_mono_ms() < deadline) {
		struct __kernel_timespec ts = {.tv_nsec = 100 * 1000 * 1000};
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
		while (io_uring_peek_cqe(&loop->ring, &cqe) == 0) {
			if (!(cqe->flags & IORING_CQE_F_MORE))
				loop->ring_inflight--;
			io_uring_cqe_seen(&loop->ring, cqe);
		}
	}
	if (loop->ring_inflight > 0)
		log_error("ioloop", "%llu io_uring operations did not finish",
		          (unsigned long long)loop->ring_inflight);
	io_uring_unregister_buf_ring(&loop->ring, RING_BGID);
	io_uring_queue_exit(&loop->ring);
	munmap(loop->bufring, loop->nbufs * sizeof(struct io_uring_buf));
	mem_free(&loop->bufs);
	loop->bufring = NULL;
	loop->ring_on = false;
}

bool ioloop_ring(const struct ioloop *loop)
{
	return loop->ring_on;
}

struct io_uring_sqe *ioloop_ring_sqe(struct ioloop *loop, struct ring_op *op)
{
	assert(loop->ring_on);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);
	if (sqe == NULL) {
		/* The queue is full: hand it to the kernel now, not at the next wait. */
		io_uring_submit(&loop->ring);
		sqe = io_uring_get_sqe(&loop->ring);
		assert(sqe != NULL);
	}
	io_uring_sqe_set_data(sqe, op);
	loop->ring_inflight++;
	return sqe;
}

struct io_uring_sqe *ioloop_ring_recv(struct ioloop *loop, struct ring_op *op, int fd)
{
	struct io_uring_sqe *sqe = ioloop_ring_sqe(loop, op);
	io_uring_prep_recv(sqe, fd, NULL, IOLOOP_RING_BUF_SIZE, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RING_BGID;
	return sqe;
}

void ioloop_ring_rx_set(struct ioloop *loop, struct ring_rx *rx, int res, unsigned flags,
                        const char *own)
{
	assert(res > 0 && rx->len == 0);
	if (flags & IORING_CQE_F_BUFFER) {
		rx->bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
		rx->data = buf_at(loop, (unsigned)rx->bid);
	} else {
		rx->bid = -1;
		rx->data = own;
	}
	rx->len = (size_t)res;
}

size_t ioloop_ring_rx_take(struct ioloop *loop, struct ring_rx *rx, char *dst, size_t max)
{
	size_t n = rx->len < max ? rx->len : max;
	memcpy(dst, rx->data, n);
	rx->data += n;
	rx->len -= n;
	if (rx->len == 0 && rx->bid >= 0)
		buf_release(loop, (unsigned)rx->bid);
	return n;
}

size_t ioloop_ring_rx_drop(struct ioloop *loop, struct ring_rx *rx)
{
	size_t left = rx->len;
	if (left > 0 && rx->bid >= 0 && loop->ring_on)
		buf_release(loop, (unsigned)rx->bid);
	rx->len = 0;
	return left;
}

void ioloop_ring_discard(struct ioloop *loop, unsigned flags)
{
	if ((flags & IORING_CQE_F_BUFFER) && loop->ring_on)
		buf_release(loop, flags >> IORING_CQE_BUFFER_SHIFT);
}

static void ring_reap(struct ioloop *loop, bool *epoll_ready)
{
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&loop->ring, &cqe) == 0) {
		uint64_t tag = cqe->user_data;
		int res = cqe->res;
		unsigned flags = cqe->flags;
		io_uring_cqe_seen(&loop->ring, cqe);
		if (!(flags & IORING_CQE_F_MORE))
			loop->ring_inflight--;
		if (tag == EPOLL_TAG) {
			loop->epoll_armed = false;
			*epoll_ready = true;
		} else if (tag != 0) {
			struct ring_op *op = (struct ring_op *)(uintptr_t)tag;
			op->done(op, res, flags);
		}
	}
}

static int run_ring(struct ioloop *loop)
{
	struct epoll_event events[MAX_EVENTS];

	while (!atomic_load(&loop->stop)) {
		loop->now_ms = clock_mono_ms();
		if (!loop->epoll_armed) {
			/* One-shot, re-armed after each use: level-triggered on the epoll set. */
			struct io_uring_sqe *sqe = ioloop_ring_sqe(loop, NULL);
			io_uring_prep_poll_add(sqe, loop->epfd, POLLIN);
			io_uring_sqe_set_data64(sqe, EPOLL_TAG);
			loop->epoll_armed = true;
		}
		int timeout = next_timeout(loop);
		struct __kernel_timespec ts = {.tv_sec = timeout / 1000,
		                               .tv_nsec = (long long)(timeout % 1000) * 1000000};
		struct io_uring_cqe *cqe;
		int ret = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1,
		                                           timeout < 0 ? NULL : &ts, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			log_error("ioloop", "io_uring_enter: %s", strerror(-ret));
			return -1;
		}
		loop->now_ms = clock_mono_ms();
		bool epoll_ready = false;
		ring_reap(loop, &epoll_ready);
		if (epoll_ready) {
			int n;
			do {
				n = epoll_wait(loop->epfd, events, MAX_EVENTS, 0);
				if (n > 0)
					dispatch_epoll(loop, events, n);
			} while (n == MAX_EVENTS);
		}
		free_removed(loop);
		run_timers(loop);
	}
	return 0;
}

int ioloop_run(struct ioloop *loop)
{
	atomic_store(&loop->stop, false);
	ring_start(loop);
	int ret = loop->ring_on ? run_ring(loop) : run_epoll(loop);
	ring_stop(loop);
	return ret;
}
