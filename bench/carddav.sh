#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CardDAV side by side: tandemd (release build, SQLite), Cyrus IMAP's httpd (cyrus-caldav) and
# Radicale, each with the same address book of CARDS generated vCards, CLIENTS concurrent
# clients each sending until MOST requests or SECONDS have passed (at least one), ROUNDS
# interleaved rounds per operation:
# addressbook-query text-match (FN contains, EMAIL starts-with), addressbook-multiget of 50,
# incremental sync-collection after 5 changes. Prints per server CPU µs per request (its
# processes, /proc), p50/p99, req/s, and the tandem/cyrus and tandem/radicale ratios. A peer
# that is not installed is reported as skipped. CARDDAV_TARGETS=tandem,cyrus limits the run.
# Usage: bench/carddav.sh [CARDS=10000] [ROUNDS=3] [SECONDS=5] [CLIENTS=4] [MOST=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/carddav.py "${1:-10000}" "${2:-3}" "${3:-5}" "${4:-4}" \
  "${5:-2000}"
