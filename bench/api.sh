#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Authenticated API throughput: GET /api/v1/folders and a small file download at 64
# connections (wrk), with tandemd's CPU µs per request and p99; nginx serving the same file
# from disk runs beside it as the reference for the download.
# Usage: bench/api.sh [ROUNDS=3] [DURATION=5s] [CONNECTIONS=64]
# BENCH_ACCESS_LOG=1 turns tandemd's access log on (to a file) to measure what it costs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/api.py "${1:-3}" "${2:-5s}" "${3:-64}"
