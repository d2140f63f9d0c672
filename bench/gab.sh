#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The global address book of a 100,000-user context: search latency (p50, p99) and tandemd's
# CPU per request for substring, prefix and no-match queries on /api/v1/contacts/directory,
# after provisioning the users by a direct SQL bulk insert (docs/contacts.md).
# Usage: bench/gab.sh [USERS=100000] [REQUESTS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/gab.py "${1:-100000}" "${2:-2000}"
