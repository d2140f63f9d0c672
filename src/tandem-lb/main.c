/* SPDX-License-Identifier: MIT */
/* tandem-lb, the session-aware balancer: for now it only loads and checks its configuration. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "lb-config.h"

static void usage(FILE *out)
{
	fputs(
	    "Usage: tandem-lb --config FILE [--check-config] [--version] [--help]\n"
	    "\n"
	    "The Tandem load balancer: sticky by the JSESSIONID route, weighted by loadfactor,\n"
	    "with health checks and members from [member ROUTE] sections or multicast announce.\n"
	    "\n"
	    "  -c, --config FILE   read settings from FILE (INI; see docs/internals/balancer.md)\n"
	    "      --check-config  validate the configuration, print problems, exit 0 or 1\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n"
	    "\n"
	    "Proxying is not implemented yet: without --check-config, tandem-lb checks the\n"
	    "configuration, says that it cannot serve yet and exits 1.\n",
	    out);
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
	const char *config_path = NULL, *error;
	struct lb_config *lc;
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
			printf("tandem-lb %s\n", TANDEM_LB_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || config_path == NULL) {
		if (optind < argc)
			fprintf(stderr, "tandem-lb: unexpected argument '%s'\n", argv[optind]);
		else
			fputs("tandem-lb: --config FILE is required\n", stderr);
		usage(stderr);
		return 2;
	}
	if (lb_config_load(config_path, &lc, &error) < 0) {
		fprintf(stderr, "tandem-lb: configuration invalid:\n%s\n", error);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK (%zu static member%s, %s%s)\n", config_path,
		       lc->member_count, lc->member_count == 1 ? "" : "s",
		       balancer_method_name(lc->method),
		       lc->announce != NULL ? ", discovery by announce" : "");
		lb_config_free(&lc);
		return 0;
	}
	fputs("tandem-lb: configuration OK, but proxying is not implemented yet\n", stderr);
	lb_config_free(&lc);
	return 1;
}
