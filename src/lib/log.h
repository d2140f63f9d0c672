/* SPDX-License-Identifier: MIT */
/* Structured logging: one logfmt line per event on stderr (or a log file). */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

struct buf;

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines look like:
   ts=2026-11-22T03:49:20.123Z level=info node=OX-1 comp=http req=5f3a… msg="listening on …"
   Messages are escaped so a line is always one line. Thread-safe; one write(2) per line. */

/* node may be NULL. path NULL = stderr; otherwise the file is opened for append. */
int log_init(const char *node, enum log_level level, const char *path, const char **error_r);
void log_deinit(void);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
/* Reopens the log file (SIGHUP, after rotation); no-op when logging to stderr. Safe to call
   from the main thread while other threads log. */
int log_reopen(const char **error_r);
/* Parses "debug|info|warn|error". */
int log_parse_level(const char *s, enum log_level *level_r);

/* The request id attached to this thread's log lines (NULL = none); the string must outlive
   its use. Handlers set it at the start of a request and clear it at the end. */
void log_set_request_id(const char *id);

/* Appends " name=value" to b, value bare when it is only letters, digits and -_.:/@+, else
   quoted with the escapes of a log line (an empty value is ""). For other logfmt writers
   (the access log). */
void log_append_field(struct buf *b, const char *name, struct strv value);

/* A second destination for every line that is logged (remote syslog): fn gets the level and
   the line from "level=" on, without the ts= field (the receiver stamps its own) nor the
   newline, on the logging thread. It must not block and must not log. Set it before other
   threads log, clear it (NULL) after they stopped. */
typedef void log_tee_fn(enum log_level level, const char *line, size_t len, void *ctx);
void log_set_tee(log_tee_fn *fn, void *ctx);

void log_msg(enum log_level level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *comp, const char *fmt, va_list args)
    __attribute__((format(printf, 3, 0)));

#define log_debug(comp, ...)                                                                       \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_msg(LOG_DEBUG, comp, __VA_ARGS__);                                     \
	} while (0)
#define log_info(comp, ...)  log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)

#endif
