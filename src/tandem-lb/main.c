/* SPDX-License-Identifier: MIT */
/* tandem-lb, the session-aware balancer: for now it only loads and checks its configuration. */
#include <stdio.h>

#include "daemon-args.h"
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
	struct daemon_args args;
	struct lb_config *lc;
	const char *error;
	int code = daemon_args_parse(argc, argv, "tandem-lb", TANDEM_LB_VERSION, usage, &args);
	if (code >= 0)
		return code;
	if (args.config_path == NULL) {
		fputs("tandem-lb: --config FILE is required\n", stderr);
		usage(stderr);
		return 2;
	}
	if (lb_config_load(args.config_path, &lc, &error) < 0) {
		fprintf(stderr, "tandem-lb: configuration invalid:\n%s\n", error);
		return 1;
	}
	if (args.check_only) {
		printf("%s: configuration OK (%zu static member%s, %s%s)\n", args.config_path,
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
