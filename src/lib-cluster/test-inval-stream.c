/* SPDX-License-Identifier: MIT */
/* Invalidation stream against a real redis-server: two "nodes" (bus + stream) share one
   stream; events cross over, the fence waits for a slow reader or flushes past its timeout,
   and trimmed, deleted or unreachable streams make the reader flush. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "inval-stream.h"
#include "invalidation.h"
#include "redis.h"
#include "test-redis-server.h"
#include "test.h"

#define KEY "tandem:test:v1:inval"

struct node {
	struct inval_bus *bus;
	struct inval_stream *stream;
	_Atomic int entered, events, flushes;
	_Atomic unsigned handler_sleep_ms;
	int64_t last_key;
};

static struct redis_pool *pool;

static void on_folder(const struct inval_event *ev, void *ctx)
{
	struct node *n = ctx;
	atomic_fetch_add(&n->entered, 1);
	unsigned ms = atomic_load(&n->handler_sleep_ms);
	if (ms > 0)
		test_sleep_ms(ms);
	n->last_key = ev->key;
	atomic_fetch_add(&n->events, 1);
}

static void on_flush(void *ctx)
{
	struct node *n = ctx;
	atomic_fetch_add(&n->flushes, 1);
}

static void node_start_fence(struct node *n, const char *id, unsigned fence_timeout_ms)
{
	memset(n, 0, sizeof(*n));
	n->bus = inval_bus_create();
	inval_subscribe(n->bus, INVAL_FOLDER, on_folder, n);
	inval_subscribe_flush(n->bus, on_flush, n);
	struct inval_stream_settings set = {
	    .pool = pool,
	    .key = KEY,
	    .node_id = id,
	    .maxlen = 1000,
	    .block_ms = 200,
	    .fence_timeout_ms = fence_timeout_ms,
	};
	n->stream = inval_stream_start(n->bus, &set);
	/* connected: its position is set, so it sees everything published from now on */
	uint64_t deadline = clock_mono_ms() + 5000;
	struct inval_stream_stats st;
	do {
		inval_stream_stats(n->stream, &st);
		if (!st.connected)
			test_sleep_ms(10);
	} while (!st.connected && clock_mono_ms() < deadline);
	test_assert(st.connected);
}

/* A generous fence timeout: on a loaded machine a slow reader must still be waited for. */
static void node_start(struct node *n, const char *id)
{
	node_start_fence(n, id, 3000);
}

static void node_stop(struct node *n)
{
	inval_stream_stop(&n->stream);
	inval_bus_destroy(&n->bus);
}

static void stats(struct node *n, struct inval_stream_stats *st)
{
	inval_stream_stats(n->stream, st);
}

/* The stream's newest id, as a session lookup would report it. */
static void head(char *out, size_t size)
{
	redisReply *r = test_redis_cmd("XREVRANGE %s + - COUNT 1", KEY);
	out[0] = '\0';
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1)
		snprintf(out, size, "%s", r->element[0]->element[0]->str);
	else
		snprintf(out, size, "0-0");
	freeReplyObject(r);
}

static bool wait_until(_Atomic int *v, int want, unsigned ms)
{
	uint64_t deadline = clock_mono_ms() + ms;
	while (atomic_load(v) < want && clock_mono_ms() < deadline)
		test_sleep_ms(5);
	return atomic_load(v) >= want;
}

static void test_ids(void)
{
	struct stream_id a, b;
	test_assert_int_eq(stream_id_parse("1700000000000-3", 15, &a), 0);
	test_assert(a.ms == 1700000000000ULL && a.seq == 3);
	test_assert_int_eq(stream_id_parse("1700000000000-10", 16, &b), 0);
	test_assert(stream_id_cmp(a, b) < 0 && stream_id_cmp(b, a) > 0 && stream_id_cmp(a, a) == 0);
	test_assert_int_eq(stream_id_parse("17-", 3, &a), -1);
	test_assert_int_eq(stream_id_parse("-1", 2, &a), -1);
	test_assert_int_eq(stream_id_parse("1-2-3", 5, &a), -1);
	test_assert_int_eq(stream_id_parse("x", 1, &a), -1);
}

static void test_events_cross_over(void)
{
	struct node a, b;
	node_start(&a, "node-a");
	node_start(&b, "node-b");
	inval_publish(a.bus, INVAL_FOLDER, 7, 42);
	test_assert_int_eq(a.events, 1); /* its own handlers at once */
	char id[48];
	head(id, sizeof(id));
	inval_stream_fence(b.stream, id);
	/* the fence returned: b has applied it */
	test_assert_int_eq(b.events, 1);
	test_assert(b.last_key == 42);
	/* a's reader skips its own event */
	inval_stream_fence(a.stream, id);
	test_assert_int_eq(a.events, 1);
	struct inval_stream_stats st;
	stats(&a, &st);
	test_assert_int_eq(st.appended, 1);
	test_assert_int_eq(st.received, 0);
	stats(&b, &st);
	test_assert_int_eq(st.received, 1);
	test_assert_int_eq(a.flushes + b.flushes, 0);
	node_stop(&a);
	node_stop(&b);
}

/* A slow reader: the fence waits until it has applied the head, not only read it. */
static void test_fence_waits_for_a_slow_reader(void)
{
	struct node a, b;
	node_start(&a, "node-a");
	node_start(&b, "node-b");
	atomic_store(&b.handler_sleep_ms, 120);
	inval_publish(a.bus, INVAL_FOLDER, 1, 1);
	inval_publish(a.bus, INVAL_FOLDER, 1, 2);
	char id[48];
	head(id, sizeof(id));
	inval_stream_fence(b.stream, id);
	test_assert_int_eq(b.events, 2);
	test_assert(b.last_key == 2);
	struct inval_stream_stats st;
	stats(&b, &st);
	test_assert(st.fence_waits >= 1);
	test_assert_int_eq(st.fence_timeouts, 0);
	test_assert_int_eq(b.flushes, 0);
	node_stop(&a);
	node_stop(&b);
}

/* Slower than the fence's timeout: the request does not wait longer, the caches go. */
static void test_fence_timeout_flushes(void)
{
	struct node a, b;
	node_start(&a, "node-a");
	node_start_fence(&b, "node-b", 250);
	atomic_store(&b.handler_sleep_ms, 1500);
	inval_publish(a.bus, INVAL_FOLDER, 1, 1);
	char id[48];
	head(id, sizeof(id));
	uint64_t t0 = clock_mono_ms();
	inval_stream_fence(b.stream, id);
	uint64_t took = clock_mono_ms() - t0;
	test_assert(took >= 200 && took < 1300);
	test_assert_int_eq(b.flushes, 1);
	struct inval_stream_stats st;
	stats(&b, &st);
	test_assert_int_eq(st.fence_timeouts, 1);
	test_assert(wait_until(&b.events, 1, 5000));
	node_stop(&a);
	node_stop(&b);
}

/* Entries b had not read yet are trimmed away while it is busy: b notices and flushes. */
static void test_trim_past_the_position_is_a_gap(void)
{
	struct node a, b;
	node_start(&a, "node-a");
	node_start(&b, "node-b");
	atomic_store(&b.handler_sleep_ms, 300);
	inval_publish(a.bus, INVAL_FOLDER, 1, 1);
	test_assert(wait_until(&b.entered, 1, 3000)); /* b is inside its handler now */
	for (int i = 0; i < 5; i++)
		inval_publish(a.bus, INVAL_FOLDER, 1, 10 + i);
	freeReplyObject(test_redis_cmd("XTRIM %s MAXLEN 0", KEY));
	atomic_store(&b.handler_sleep_ms, 0);
	test_assert(wait_until(&b.flushes, 1, 3000));
	struct inval_stream_stats st;
	stats(&b, &st);
	test_assert_int_eq(st.gaps, 1);
	test_assert_int_eq(b.events, 1); /* the trimmed five never arrived */
	/* and it goes on from there */
	inval_publish(a.bus, INVAL_FOLDER, 1, 99);
	char id[48];
	head(id, sizeof(id));
	inval_stream_fence(b.stream, id);
	test_assert(b.last_key == 99);
	stats(&b, &st);
	test_assert_int_eq(st.gaps, 1);
	node_stop(&a);
	node_stop(&b);
}

static void test_deleted_stream_is_a_gap(void)
{
	struct node a, b;
	node_start(&a, "node-a");
	node_start(&b, "node-b");
	inval_publish(a.bus, INVAL_FOLDER, 1, 1);
	test_assert(wait_until(&b.events, 1, 3000));
	freeReplyObject(test_redis_cmd("DEL %s", KEY));
	test_assert(wait_until(&b.flushes, 1, 3000));
	test_assert(wait_until(&a.flushes, 1, 3000));
	inval_publish(a.bus, INVAL_FOLDER, 1, 2);
	test_assert(wait_until(&b.events, 2, 3000));
	struct inval_stream_stats st;
	stats(&b, &st);
	test_assert_int_eq(st.gaps, 1);
	node_stop(&a);
	node_stop(&b);
}

/* An append that fails (Redis gone) makes every node flush once Redis answers again. */
static void test_failed_append_broadcasts_a_flush(void)
{
	struct node a, b;
	node_start(&a, "node-a");
	node_start(&b, "node-b");
	test_redis_signal(SIGKILL);
	inval_publish(a.bus, INVAL_FOLDER, 1, 1);
	test_assert_int_eq(a.events, 1); /* applied here all the same */
	struct inval_stream_stats st;
	stats(&a, &st);
	test_assert_int_eq(st.append_failures, 1);
	test_redis_start();
	/* both readers reconnect (and flush for that), then b reads a's flush entry */
	test_assert(wait_until(&b.flushes, 2, 8000));
	redisReply *r = test_redis_cmd("XRANGE %s - +", KEY);
	bool flush_entry = false;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *f = r->element[i]->element[1];
		for (size_t j = 0; j + 1 < f->elements; j += 2)
			flush_entry |= strcmp(f->element[j]->str, "r") == 0 &&
			               strcmp(f->element[j + 1]->str, "flush") == 0;
	}
	freeReplyObject(r);
	test_assert(flush_entry);
	stats(&b, &st);
	test_assert(st.reconnects >= 1);
	node_stop(&a);
	node_stop(&b);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"ids", test_ids},
	    {"events cross over", test_events_cross_over},
	    {"fence waits for a slow reader", test_fence_waits_for_a_slow_reader},
	    {"fence timeout flushes", test_fence_timeout_flushes},
	    {"trim past the position is a gap", test_trim_past_the_position_is_a_gap},
	    {"deleted stream is a gap", test_deleted_stream_is_a_gap},
	    {"failed append broadcasts a flush", test_failed_append_broadcasts_a_flush},
	    {NULL, NULL},
	};
	test_redis_start();
	pool = test_redis_pool(500);
	int ret = test_run(cases);
	redis_pool_destroy(&pool);
	test_redis_stop();
	return ret;
}
