/* SPDX-License-Identifier: MIT */
/* tandemctl: provisioning and operations CLI. Global options, then dispatch to the verb. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

struct verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static const struct verb verbs[] = {
#define CTL_VERB(name, summary) {#name, summary, cmd_##name},
#include "verbs.h"
#undef CTL_VERB
};

static void usage(FILE *out)
{
	fputs("Usage: tandemctl [global options] <verb> [options]\n"
	      "\n"
	      "Provisions and operates a Tandem cluster through tandemd's admin API.\n"
	      "\n"
	      "Verbs:\n",
	      out);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-20s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\nGlobal options (before or after the verb):\n", out);
	ctl_print_global_help(out);
	fputs("  -V, --version                print the version and exit\n"
	      "\n"
	      "'tandemctl <verb> --help' describes a verb's options. Exit status: 0 done,\n"
	      "1 the server or the connection failed, 2 bad command line (nothing was sent).\n",
	      out);
}

int main(int argc, char **argv)
{
	int i = 1;

	ctl_init();
	while (i < argc) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CTL_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("tandemctl %s\n", TANDEMCTL_VERSION);
			return CTL_EXIT_OK;
		}
		int r = ctl_parse_global(argc, argv, &i);
		if (r < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			break;
	}
	if (i == argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (argv[i][0] == '-')
		return ctl_usage_error("unknown option '%s'", argv[i]);
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(verbs[v].name, argv[i]) == 0)
			return verbs[v].run(argc - i, argv + i);
	}
	return ctl_usage_error("unknown verb '%s'", argv[i]);
}
