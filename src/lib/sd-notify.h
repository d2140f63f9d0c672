/* SPDX-License-Identifier: MIT */
/* systemd's service notification protocol (sd_notify(3)) without libsystemd: one datagram of
   "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET. */
#ifndef TANDEM_SD_NOTIFY_H
#define TANDEM_SD_NOTIFY_H

/* Sends state ("READY=1", lines separated by '\n') to $NOTIFY_SOCKET: a path, or an abstract
   socket written with a leading '@'. Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset or
   empty (not run by systemd as Type=notify: nothing to do), -1 with *error_r naming the socket
   and the reason. Never blocks: a full receive queue is an error. Thread-safe. */
int sd_notify_send(const char *state, const char **error_r);

/* The daemons' states; each logs a failure at warn and otherwise does nothing. READY=1 once
   the service takes requests; STOPPING=1 when a stop (drain) begins; RELOADING=1 (with
   MONOTONIC_USEC, as systemd 253's Type=notify-reload wants) at SIGHUP, followed by
   sd_notify_ready() when the reload is done. status, when not NULL, goes along as STATUS=. */
void sd_notify_ready(const char *status);
void sd_notify_stopping(const char *status);
void sd_notify_reloading(void);

#endif
