/* SPDX-License-Identifier: MIT */
/* tandemd: the groupware node. Parse options and config, init, run until a signal, deinit. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "daemon-args.h"
#include "daemon-signals.h"
#include "log.h"
#include "node-logs.h"
#include "node.h"
#include "random.h"
#include "sd-notify.h"

static void usage(FILE *out)
{
	fputs("Usage: tandemd [--config FILE] [--check-config] [--version] [--help]\n"
	      "\n"
	      "The Tandem groupware node. Without --config it runs on embedded defaults:\n"
	      "listening on 127.0.0.1:8009 with its data under ./tandem-data.\n"
	      "\n"
	      "  -c, --config FILE   read settings from FILE (INI; see docs/configuration.md)\n"
	      "      --check-config  validate the configuration, print problems, exit 0 or 1\n"
	      "  -V, --version       print the version and exit\n"
	      "  -h, --help          print this help and exit\n"
	      "\n"
	      "Signals: SIGTERM/SIGINT drain and exit 0 (a second one cuts [server] drain_grace\n"
	      "short), SIGHUP reopens the log file.\n",
	      out);
}

static sigset_t signals; /* daemon_signals_block() */
static bool stopping;    /* systemd was told STOPPING=1: a SIGHUP is no reload for it then */
static struct node *reopen_node; /* whose access log SIGHUP reopens */

/* Takes signals on the main thread: SIGHUP reopens the log; returns true at SIGTERM or SIGINT,
   false once timeout_ms have passed (UINT64_MAX: never). The admin API's drain call wakes this
   thread with a SIGTERM of the process's own (api-node.c); with ignore_own such a signal is
   skipped, so during the grace only an operator's second signal cuts it short. */
static bool wait_for_stop(uint64_t timeout_ms, bool ignore_own)
{
	uint64_t end = timeout_ms == UINT64_MAX ? UINT64_MAX : clock_mono_ms() + timeout_ms;
	for (;;) {
		siginfo_t info;
		int sig;
		if (end == UINT64_MAX) {
			sig = sigwaitinfo(&signals, &info);
		} else {
			uint64_t now = clock_mono_ms();
			if (now >= end)
				return false;
			struct timespec left = {(time_t)((end - now) / 1000),
			                        (long)((end - now) % 1000) * 1000000L};
			sig = sigtimedwait(&signals, &info, &left);
		}
		if (sig < 0)
			continue; /* EINTR, or EAGAIN at the deadline: the clock decides above */
		if (sig == SIGHUP) {
			const char *error;
			if (!stopping)
				sd_notify_reloading();
			if (log_reopen(&error) < 0)
				log_error("main", "reopening log: %s", error);
			else if (node_logs_reopen(reopen_node, &error) < 0)
				log_error("main", "reopening access log: %s", error);
			else
				log_info("main", "log reopened");
			if (!stopping)
				sd_notify_ready(NULL);
			continue;
		}
		bool own = info.si_code == SI_USER && info.si_pid == getpid();
		if (own && ignore_own)
			continue;
		if (own)
			log_info("main", "woken for the drain asked for through the admin API");
		else
			log_info("main", "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return true;
	}
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	int code = daemon_args_parse(argc, argv, "tandemd", TANDEM_VERSION, usage, &args);
	if (code >= 0)
		return code;

	struct node node;
	struct config *cfg = NULL;
	memset(&node, 0, sizeof(node));
	const char *error;
	if (node_config_load(args.config_path, &node.cfg, &cfg, &error) < 0) {
		fprintf(stderr, "tandemd: configuration invalid:\n%s\n", error);
		return 1;
	}
	if (args.check_only) {
		printf("%s: configuration OK\n",
		       args.config_path != NULL ? args.config_path : "(defaults)");
		config_free(&cfg);
		return 0;
	}

	daemon_signals_block(&signals);

	random_init();
	if (log_init(node.cfg.route, node.cfg.log_level, node.cfg.log_file, &error) < 0) {
		fprintf(stderr, "tandemd: %s\n", error);
		config_free(&cfg);
		return 1;
	}
	int ret = 1;
	reopen_node = &node;
	if (node_init(&node, &error) < 0 || node_start(&node, &error) < 0) {
		log_error("main", "startup failed: %s", error);
		goto out;
	}
	sd_notify_ready("serving");
	wait_for_stop(UINT64_MAX, false);
	stopping = true;
	sd_notify_stopping("draining");
	/* Draining but still serving for drain_grace, so balancers see /health's 503 before the
	   listeners close; a second signal cuts the grace short (in-flight requests still
	   finish). */
	node_drain_begin(&node);
	if (node.cfg.drain_grace_ms > 0 && wait_for_stop(node.cfg.drain_grace_ms, true))
		log_info("main", "drain grace cut short");
	node_drain(&node);
	log_info("main", "stopped");
	ret = 0;
out:
	node_deinit(&node);
	log_deinit();
	config_free(&cfg);
	return ret;
}
