/* SPDX-License-Identifier: MIT */
/* A background check of the configdb for /health: a thread connects and runs SELECT 1 every
   interval under a timeout; /health only reads the last result, so it never waits on SQL. */
#ifndef TANDEMD_CONFIGDB_PROBE_H
#define TANDEMD_CONFIGDB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct configdb_probe;

/* Starts probing url every interval_ms, each probe bounded by timeout_ms (connect, read and
   write). The first probe runs at once. */
struct configdb_probe *configdb_probe_start(const char *url, uint64_t interval_ms,
                                            uint64_t timeout_ms);
/* True while the configdb answers (or has not been probed yet, or is an SQLite file not
   created yet: a fresh node before initconfigdb). False with a short reason for /health
   ("configdb unreachable", "configdb not answering"): the detail goes to the log when the
   state changes, not to clients. A probe stuck longer than its timeout counts as down.
   NULL-safe (no probe: true). Any thread; takes a lock only for a copy. */
bool configdb_probe_ok(struct configdb_probe *probe, const char **reason_r);
/* Stops the thread (waits for a probe in flight). NULL-safe. */
void configdb_probe_stop(struct configdb_probe **probe);

#endif
