/* SPDX-License-Identifier: MIT */
/* The command line every daemon shares (docs/architecture.md): --config FILE, --check-config,
   --version,
   --help. */
#ifndef TANDEM_DAEMON_ARGS_H
#define TANDEM_DAEMON_ARGS_H

#include <stdbool.h>
#include <stdio.h>

struct daemon_args {
	const char *config_path; /* NULL when not given */
	bool check_only;
};

/* Parses argv. Returns -1 to go on with *args_r filled, or the exit code after --version
   (0, prints "<name> <version>"), --help (0, usage to stdout) or a usage error (2, the
   problem and usage to stderr). */
int daemon_args_parse(int argc, char **argv, const char *name, const char *version,
                      void (*usage)(FILE *out), struct daemon_args *args_r);

#endif
