#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cluster layer: (a) a permission change on node 1 until node 2 shows it, p50/p99 over N
# changes; (b) session validation with the Redis store vs the memory store (wrk, tandemd and
# redis-server CPU µs per request, p99); (c) Redis memory per session over 100,000 sessions.
# Usage: bench/cluster.sh [CHANGES=1000] [ROUNDS=3] [DURATION=4s] [SESSIONS=100000]
# TANDEM_BASELINE_BUILD_DIR=DIR (a release build of another commit) adds that build's nodes to
# (b), run in the same rounds, with this build's CPU and p99 as ratios of the baseline's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/cluster.py "${1:-1000}" "${2:-3}" "${3:-4s}" "${4:-100000}"
