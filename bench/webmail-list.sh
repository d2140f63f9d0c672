#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web UI's mail view on bench/mail.sh's 100,000-message INBOX in Debian's chromium: time to
# the first rows, scrolled to the middle and the end (rows in the page bounded), the last
# message opened (bench/webmail_list.py, docs/webui.md "Mail view"). Not in CI. Needs root.
# Usage: bench/webmail-list.sh [MESSAGES=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/webmail_list.py "${1:-100000}"
