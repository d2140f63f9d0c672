#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web UI's budgets (issue 17, docs/webui.md): JS+CSS bytes of the first view (gzip as
# sent, and uncompressed), time until the sign-in form is visible, and time from signing in
# until a folder of 1,000 files is listed, in Debian's chromium with a cold cache each round.
# Then SOGo the same way beside it (bench/webui_sogo.py; "skipped" with the reason if it cannot run).
# Usage: bench/webui.sh [ROUNDS=5] [FILES=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test >/dev/null
scripts/build.sh release >/dev/null
(cd tests/webui && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund >/dev/null; })
exec /usr/bin/python3 bench/webui.py "${1:-5}" "${2:-1000}"
