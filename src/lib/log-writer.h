/* SPDX-License-Identifier: MIT */
/* A buffered line writer for high-rate logs (the access log): callers copy a line into memory,
   a background thread writes it out, so no caller ever waits for the disk. */
#ifndef TANDEM_LOG_WRITER_H
#define TANDEM_LOG_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct log_writer;

/* What a writer hands its lines to, on its own thread, in batches of whole lines. */
typedef void log_writer_sink_fn(const char *data, size_t len, void *ctx);

/* Opens path for append (created 0640) and starts the flusher thread. Returns 0, or -1 with
   a static *error_r naming the path. */
int log_writer_open(const char *path, struct log_writer **writer_r, const char **error_r);
/* The same, handing batches to sink(ctx) instead of a file (e.g. the syslog sender). */
struct log_writer *log_writer_open_sink(log_writer_sink_fn *sink, void *ctx);
/* Queues line[0..len) (one or more whole lines with their '\n'). Never blocks on I/O: when
   LOG_WRITER_BUFFER bytes are already waiting, the line is dropped and counted. Any thread. */
void log_writer_write(struct log_writer *writer, const char *line, size_t len);
/* Reopens the file at its path (SIGHUP, after rotation); lines queued meanwhile go to the new
   file. No-op for a sink. Returns 0, or -1 with a static *error_r (the old file stays). */
int log_writer_reopen(struct log_writer *writer, const char **error_r);
/* Lines dropped because the buffer was full. */
uint64_t log_writer_dropped(const struct log_writer *writer);
/* Writes what is queued, stops the thread, closes the file. NULL-safe. */
void log_writer_close(struct log_writer **writer);

#define LOG_WRITER_BUFFER (1024 * 1024)

#endif
