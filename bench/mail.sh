#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tandem's mail API beside Roundcube and SOGo's webmail on one private Dovecot with a
# 100,000-message INBOX (made once, kept in $MAIL_BENCH_DIR, default /var/tmp/tandem-bench-mail):
# first page of the list, opening a message, a search; server and Dovecot CPU per request, p99,
# IMAP commands per request; then Tandem's RSS over the whole INBOX and its IMAP connections
# under 16 clients (bench/mail.py, docs/internals/mail.md "Performance"). Needs root.
# Usage: bench/mail.sh [ROUNDS=3] [SECONDS=5] [MESSAGES=100000] [CLIENTS=2]
#        bench/mail.sh smoke          (1 round of 1 s on 2,000 messages: does it all work)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
if [ "${1:-}" = smoke ]; then
  exec /usr/bin/python3 bench/mail.py 1 1 2000 2
fi
exec /usr/bin/python3 bench/mail.py "${1:-3}" "${2:-5}" "${3:-100000}" "${4:-2}"
