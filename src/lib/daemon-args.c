/* SPDX-License-Identifier: MIT */
/* getopt_long for the options every daemon takes. */
#include "daemon-args.h"

#include <getopt.h>

int daemon_args_parse(int argc, char **argv, const char *name, const char *version,
                      void (*usage)(FILE *out), struct daemon_args *args_r)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	args_r->config_path = NULL;
	args_r->check_only = false;
	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			args_r->config_path = optarg;
			break;
		case 'C':
			args_r->check_only = true;
			break;
		case 'V':
			printf("%s %s\n", name, version);
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
		fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}
