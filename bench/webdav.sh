#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# WebDAV side by side: tandemd (/dav/files/home/), Apache mod_dav and nginx with dav-ext, each
# on its own loopback port with its own copy of the same tree (a folder of 1,000 small files,
# a 4 KiB and a 1 MiB file), Basic auth on all three. wrk rounds run interleaved per operation
# (tandem apache nginx, tandem apache nginx, ...): PROPFIND depth 1 allprop of the folder, GET
# and PUT of 4 KiB and 1 MiB; req/s, p99 and the server's CPU µs per request (all its
# processes), medians and ratios against Apache. A target that does not answer DAV yet (tandemd
# before its handlers land) is reported as not available and the others still run.
# `memory` mode: the server's RSS growth during one PROPFIND depth 1 of 100,000 empty files.
# Usage: bench/webdav.sh [ROUNDS=3] [DURATION=5s] [CONNECTIONS=16]
#        bench/webdav.sh memory
# WEBDAV_OPS=get-4k,put-1m (of propfind get-4k get-1m put-4k put-1m) and
# WEBDAV_TARGETS=tandem,apache (of tandem apache nginx) narrow a run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test bench >/dev/null
scripts/build.sh release >/dev/null
if [ "${1:-}" = memory ]; then
  exec /usr/bin/python3 bench/webdav.py memory
fi
exec /usr/bin/python3 bench/webdav.py "${1:-3}" "${2:-5s}" "${3:-16}"
