#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replica reads on vs primary only ([database] replica_reads = false): a 90% GET / 10% PATCH
# folder mix from CONNS clients (own session, folder and keep-alive connections) over two nodes;
# req/s, read and write p50/p99, share of user-database reads served by the replica, GTID waits
# per read and their mean time, ratios on/off. Two clusters (MariaDB primary + GTID replica,
# Redis, two tandemd nodes each) run side by side; rounds alternate between them.
# Exits 1 if a request failed or a read missed its own write. With TANDEM_BUILD_DIR set, that
# build is used as it is (nothing is built).
# Usage: bench/replication.sh [ROUNDS=3] [SECONDS=5] [CONNS=16]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n 3,10p "$0" | sed 's/^# //'; exit 0 ;; esac
scripts/deps.sh build test >/dev/null
if [ -z "${TANDEM_BUILD_DIR:-}" ]; then
  scripts/build.sh release >/dev/null
elif [ ! -x "$TANDEM_BUILD_DIR/src/tandemd/tandemd" ]; then
  echo "replication.sh: no tandemd in TANDEM_BUILD_DIR=$TANDEM_BUILD_DIR" >&2; exit 2
fi
exec /usr/bin/python3 bench/replication.py "${1:-3}" "${2:-5}" "${3:-16}"
