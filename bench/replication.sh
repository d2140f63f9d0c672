#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replica reads on vs primary only: API throughput, p50/p99 and tandemd CPU per request under a
# 90% read / 10% write mix on two nodes, and the share of reads the replica served. Two
# clusters run side by side (MariaDB primary + GTID replica, Redis, two tandemd nodes each);
# rounds alternate between them.
# Usage: bench/replication.sh [ROUNDS=3] [DURATION=5s] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n 3,7p "$0" | sed 's/^# //'; exit 0 ;; esac
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/replication.py "${1:-3}" "${2:-5s}" "${3:-32}"
