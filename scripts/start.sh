#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: install what is needed, build, and run a Tandem node on embedded defaults
# (data under ./tandem-data), printing where it listens. Ctrl-C drains and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh release
listen=${TANDEM_LISTEN:-127.0.0.1:8009}
conf=build/release/tandemd-local.ini
cat >"$conf" <<INI
[server]
listen = $listen
data_dir = ./tandem-data
INI
echo
echo "Tandem node starting on http://$listen/"
echo "  health:  curl http://$listen/health"
echo "  stop:    Ctrl-C (drains in-flight requests, then exits)"
echo
exec build/release/src/tandemd/tandemd --config "$conf"
