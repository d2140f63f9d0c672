#!/bin/sh
# SPDX-License-Identifier: MIT
# Database failover drill (docs/database.md "Failover"): MariaDB primary + replica, two nodes,
# a bounded write loop, SIGKILL to the primary, `tandemctl promotedatabase`, then the figures:
# write outage, writes lost (must be 0), the old primary fenced after it returns.
#   scripts/drill-db-failover.sh [--json] [--quick] [--rounds N] [--detect SECONDS] [--async]
# Uses the build in $TANDEM_BUILD_DIR (default build/asan) and Debian's /usr/bin/python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${TANDEM_BUILD_DIR:=$here/../build/asan}"
export TANDEM_BUILD_DIR
exec /usr/bin/python3 "$here/drill-db-failover.py" "$@"
