#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Provisioning throughput: N contexts x M users through tandemctl and the admin API, on SQLite
# and on MariaDB, printing users/s and total time for each.
# Usage: bench/provision.sh [CONTEXTS=1000] [USERS_PER_CONTEXT=100] [sqlite|mariadb|both]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/provision.py "${1:-1000}" "${2:-100}" "${3:-both}"
