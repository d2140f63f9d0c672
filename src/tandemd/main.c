/* SPDX-License-Identifier: MIT */
/* tandemd: the groupware node. Parse options and config, init, run until a signal, deinit. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "node.h"
#include "random.h"

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
	      "Signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reopens the log file.\n",
	      out);
}

/* Waits for signals on the main thread; returns when asked to stop. */
static void wait_for_stop(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			const char *error;
			if (log_reopen(&error) < 0)
				log_error("main", "reopening log: %s", error);
			else
				log_info("main", "log reopened");
			continue;
		}
		log_info("main", "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check_only = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'V':
			printf("tandemd %s\n", TANDEM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tandemd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	struct node node;
	struct config *cfg = NULL;
	memset(&node, 0, sizeof(node));
	const char *error;
	if (node_config_load(config_path, &node.cfg, &cfg, &error) < 0) {
		fprintf(stderr, "tandemd: configuration invalid:\n%s\n", error);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK\n", config_path != NULL ? config_path : "(defaults)");
		config_free(&cfg);
		return 0;
	}

	/* A shell starting us in the background may have set SIGINT to "ignore", and an ignored
	   signal never reaches sigwait: take the defaults back first. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* Block the signals in every thread; the main thread takes them with sigwait. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	random_init();
	if (log_init(node.cfg.route, node.cfg.log_level, node.cfg.log_file, &error) < 0) {
		fprintf(stderr, "tandemd: %s\n", error);
		config_free(&cfg);
		return 1;
	}
	int ret = 1;
	if (node_init(&node, &error) < 0 || node_start(&node, &error) < 0) {
		log_error("main", "startup failed: %s", error);
		goto out;
	}
	wait_for_stop();
	node_drain(&node);
	log_info("main", "stopped");
	ret = 0;
out:
	node_deinit(&node);
	log_deinit();
	config_free(&cfg);
	return ret;
}
