/* SPDX-License-Identifier: MIT */
/* Remote syslog: RFC 5424 messages over UDP, or over TCP with RFC 6587 octet-counting
   framing, sent by a thread of their own from a bounded queue, so a syslog server that is
   down or slow never holds up the caller (docs/internals/lib.md "Remote syslog"). */
#ifndef TANDEM_LOG_SYSLOG_H
#define TANDEM_LOG_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostport.h"
#include "log.h"

enum log_syslog_transport {
	LOG_SYSLOG_UDP,
	LOG_SYSLOG_TCP,
};

/* RFC 5424 severities used here. */
enum log_syslog_severity {
	LOG_SYSLOG_ERR = 3,
	LOG_SYSLOG_WARNING = 4,
	LOG_SYSLOG_INFO = 6,
	LOG_SYSLOG_DEBUG = 7,
};

#define LOG_SYSLOG_APP_MAX  48   /* RFC 5424 APP-NAME */
#define LOG_SYSLOG_HOST_MAX 255  /* RFC 5424 HOSTNAME */
#define LOG_SYSLOG_MSG_MAX  2048 /* a whole message, header included; longer ones are cut */
#define LOG_SYSLOG_QUEUE    1024 /* messages waiting; more are dropped (and counted) */

struct log_syslog_settings {
	enum log_syslog_transport transport;
	char host[HOSTPORT_HOST_MAX + 1];
	uint16_t port;
	unsigned facility;                     /* 0-23 */
	char app_name[LOG_SYSLOG_APP_MAX + 1]; /* printable US-ASCII, no SP */
};

/* Parses "udp://host:port" or "tcp://host:port" ([v6] in brackets; the port defaults to
   514) into set's transport, host and port. Returns 0, or -1 with a static *error_r. */
int log_syslog_parse_url(const char *url, struct log_syslog_settings *set, const char **error_r);
/* "kern", "user", "daemon", "auth", "syslog", "local0" … "local7" and the rest of RFC 5424's
   names → 0-23. Returns 0, or -1 with a static *error_r listing them. */
int log_syslog_parse_facility(const char *name, unsigned *facility_r, const char **error_r);
/* Checks an APP-NAME: 1-48 printable US-ASCII characters without SP. 0 or -1 (*error_r). */
int log_syslog_check_app_name(const char *name, const char **error_r);

/* Formats one RFC 5424 message (no framing) into out[size] (size >= 64):
     <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
   with PRI = facility * 8 + severity, TIMESTAMP in UTC with milliseconds, "-" for an empty
   hostname or msgid. msg is cut (at a UTF-8 boundary) to fit; control characters in it
   become spaces. Returns the length (no NUL counted; out is NUL-terminated). */
size_t log_syslog_format(char *out, size_t size, unsigned facility, unsigned severity,
                         uint64_t wall_ms, const char *hostname, const char *app_name, long pid,
                         const char *msgid, const char *msg, size_t msg_len);
/* RFC 6587 octet counting: writes "<len> " for a message of len bytes into out (at least 12
   bytes); returns its length. */
size_t log_syslog_frame_prefix(char *out, size_t len);

/* [log] syslog, syslog_facility and syslog_app as both daemons take them: url (NULL = no
   remote syslog: returns 0 with *enabled_r false), a facility name and an APP-NAME. Returns
   0, or -1 with the key at fault in *key_r and a static *error_r naming the key. */
int log_syslog_configure(const char *url, const char *facility, const char *app_name,
                         struct log_syslog_settings *set_r, bool *enabled_r, const char **key_r,
                         const char **error_r);

struct log_syslog;

/* Starts the sender thread (it resolves and connects; a failure is retried with backoff:
   100 ms doubling to 5 s). */
struct log_syslog *log_syslog_start(const struct log_syslog_settings *set);
/* Queues a message (formatted now, with the current time). Never blocks on the network: with
   LOG_SYSLOG_QUEUE messages waiting, it is dropped and counted. Thread-safe. NULL-safe. */
void log_syslog_send(struct log_syslog *syslog, unsigned severity, const char *msgid,
                     const char *msg, size_t msg_len);
/* A log_tee_fn (log.h) for ctx, a struct log_syslog: daemon log lines go out with MSGID
   "log" and the severity of their level. */
void log_syslog_tee(enum log_level level, const char *line, size_t len, void *ctx);
/* Messages dropped: the queue was full, or a datagram could not be sent. */
uint64_t log_syslog_dropped(const struct log_syslog *syslog);
/* Messages handed to the network. */
uint64_t log_syslog_sent(const struct log_syslog *syslog);
/* Appends <prefix>syslog_sent_total and <prefix>syslog_dropped_total (0 for NULL: no remote
   syslog) as Prometheus metrics. */
struct buf;
void log_syslog_metrics(struct buf *out, const char *prefix, const struct log_syslog *syslog);
/* Tries for up to timeout_ms to send what is queued, then stops the thread. NULL-safe. */
void log_syslog_stop(struct log_syslog **syslog, uint64_t timeout_ms);

#endif
