/* SPDX-License-Identifier: MIT */
/* The invalidation bus across nodes (docs/internals/cluster.md): every event published on a node is
   appended to one Redis stream, and a reader thread per node applies the other nodes' events in
   order. Lossless: the reader resumes from its last id after a reconnect, and flushes every cache
   when it cannot be sure it saw everything (stream trimmed past its id, stream gone or gone
   back, a lost connection, an append that failed anywhere). */
#ifndef TANDEM_INVAL_STREAM_H
#define TANDEM_INVAL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inval_bus;
struct redis_pool;

struct inval_stream_settings {
	struct redis_pool *pool;   /* appends run on the publishing thread; not owned */
	const char *key;           /* e.g. "tandem:<cluster>:v1:inval" (copied) */
	const char *node_id;       /* origin of this node's events (copied) */
	uint64_t maxlen;           /* XADD MAXLEN ~ */
	unsigned block_ms;         /* XREAD BLOCK (default 1000): also the reader's poll period */
	unsigned fence_timeout_ms; /* inval_stream_fence's wait before it flushes (default 250) */
};

struct inval_stream;

/* Installs itself as bus's forwarder and starts the reader thread (it connects on its own,
   retrying with backoff). The bus must outlive the stream. */
struct inval_stream *inval_stream_start(struct inval_bus *bus,
                                        const struct inval_stream_settings *set);
/* Stops and joins the reader (within about block_ms) and removes the forwarder. */
void inval_stream_stop(struct inval_stream **stream);

/* Read-your-writes across nodes: head is the stream's newest id as Redis reported it at the
   start of this request ("ms-seq"). Returns once the reader has applied everything up to
   head, waiting at most fence_timeout_ms; past that, or while the reader is disconnected,
   it flushes every cache instead, so the caller never sees data older than head. */
void inval_stream_fence(struct inval_stream *stream, const char *head);

struct inval_stream_stats {
	bool connected;
	char applied_id[48];      /* the reader's position */
	uint64_t appended;        /* this node's events appended */
	uint64_t append_failures; /* appends that failed (each leads to a broadcast flush) */
	uint64_t received;        /* other nodes' events applied */
	uint64_t gaps;            /* stream trimmed past the position, or gone, or gone back */
	uint64_t reconnects;
	uint64_t fence_waits;    /* fences that had to wait for the reader */
	uint64_t fence_wait_us;  /* total time spent waiting */
	uint64_t fence_timeouts; /* fences that flushed instead */
};
void inval_stream_stats(struct inval_stream *stream, struct inval_stream_stats *stats_r);

/* Stream ids "ms-seq" as two numbers, for comparisons. -1 for anything else. */
struct stream_id {
	uint64_t ms, seq;
};
int stream_id_parse(const char *s, size_t len, struct stream_id *id_r);
int stream_id_cmp(struct stream_id a, struct stream_id b);

#endif
