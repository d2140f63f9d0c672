#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CalDAV side by side: tandemd (release build, SQLite) beside Cyrus IMAP's httpd (Debian
# cyrus-caldav) and Radicale, each with the same generated calendar (2,000 events, 10 % weekly
# series) loaded once through PUT, on its own loopback port. wrk rounds (4 clients) run
# interleaved per operation: a one-week calendar-query REPORT (time-range), an incremental
# sync-collection after a few changes, PUT of new events, GET of one event; requests, server
# CPU µs per request (all its processes), p50/p99, req/s, medians and the ratios
# tandem/cyrus and tandem/radicale with issue 15's goals. A peer that is not installed or does
# not start is reported as skipped and the others still run.
# `memory` mode: tandemd's RSS before and after a one-month query of a 100,000-event calendar.
# `cluster` mode: two nodes on Redis; a PUT through node A until a sync-collection through
# node B reports it, p50/p99 over CHANGES changes.
# Usage: bench/caldav.sh [ROUNDS=3] [DURATION=5s] [CONNECTIONS=4]
#        bench/caldav.sh memory
# CALDAV_TARGETS=tandem,cyrus leaves the others out (Radicale takes minutes to fill);
# CALDAV_EVENTS=300 loads a smaller calendar (a quick check; default 2,000).
#        bench/caldav.sh cluster [CHANGES=500]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
case "${1:-}" in
  memory) exec /usr/bin/python3 bench/caldav.py memory ;;
  cluster) exec /usr/bin/python3 bench/caldav.py cluster "${2:-500}" ;;
esac
exec /usr/bin/python3 bench/caldav.py load "${1:-3}" "${2:-5s}" "${3:-4}"
