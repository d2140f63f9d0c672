/* SPDX-License-Identifier: MIT */
/* Checks of a configuration against the host it is to run on, shared by the daemons'
   configuration loaders, so that --check-config refuses what the start would: files and
   directories the daemon will write, addresses it will bind. They use the calling process's
   permissions: run --check-config as the user the service runs as. Nothing is created, bound
   for longer than the check or written. Messages stay valid until the next call on this
   thread. */
#ifndef TANDEM_CONFIG_CHECK_H
#define TANDEM_CONFIG_CHECK_H

#include <stddef.h>

/* A file the daemon opens for appending (a log file): it exists and is writable, or its
   directory exists and lets the process create it. 0, or -1 with a message naming the path
   and the reason. */
int config_check_writable_file(const char *path, const char **error_r);

/* A directory the daemon creates files in (mkdir of the last component only, as at start):
   it is a writable directory, or its parent lets the process create it. */
int config_check_dir(const char *path, const char **error_r);

/* A numeric IPv4 or IPv6 address (no port) that belongs to this host: a socket can be bound
   to it. */
int config_check_local_host(const char *host, const char **error_r);

/* The listen addresses of a daemon ("host:port", "[v6]:port"): each has a numeric host of
   this host, and no two of them clash (the same port on the same address, or on the
   wildcard address of the same family; port 0 never clashes). Returns 0, or -1 with *bad_r
   the index of the address at fault (the later one of a pair). */
int config_check_listeners(const char *const *addresses, size_t count, size_t *bad_r,
                           const char **error_r);

#endif
