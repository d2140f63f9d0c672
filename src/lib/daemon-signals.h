/* SPDX-License-Identifier: MIT */
/* The signals every daemon takes on its main thread: SIGTERM, SIGINT and SIGHUP. */
#ifndef TANDEM_DAEMON_SIGNALS_H
#define TANDEM_DAEMON_SIGNALS_H

#include <signal.h>

/* Call before any thread starts. Restores the default action of SIGTERM, SIGINT and SIGHUP (a
   shell starting the daemon in the background may have set SIGINT to "ignore", and an ignored
   signal never reaches sigwait), blocks them in every thread to come, and ignores SIGPIPE (a
   closed peer is an error return). *set_r is the set for sigwait() on the main thread. */
void daemon_signals_block(sigset_t *set_r);

#endif
