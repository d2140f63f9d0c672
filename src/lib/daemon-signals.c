/* SPDX-License-Identifier: MIT */
/* The signals every daemon takes on its main thread: SIGTERM, SIGINT and SIGHUP. */
#include "daemon-signals.h"

#include <pthread.h>

void daemon_signals_block(sigset_t *set_r)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(set_r);
	sigaddset(set_r, SIGTERM);
	sigaddset(set_r, SIGINT);
	sigaddset(set_r, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set_r, NULL);
	signal(SIGPIPE, SIG_IGN);
}
