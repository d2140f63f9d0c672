#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages Tandem builds, runs and tests with. Idempotent: does nothing
# when everything is present. Usage: scripts/deps.sh [build|run|test|bench]...
# (build is always included; run adds what scripts/start.sh runs besides Tandem itself, and jq
# for docs/quickstart.md)
set -euo pipefail

build=(build-essential cmake ninja-build pkg-config curl libsodium-dev libinih-dev libsqlite3-dev
       libmariadb-dev libjansson-dev libssl-dev libhiredis-dev liburing-dev
       libxml2-dev libical-dev)
test=(clang libclang-rt-14-dev llvm clang-format python3-pytest python3-caldav vdirsyncer khal curl sqlite3 mariadb-server
      mariadb-client galera-4 rsync socat redis-server redis-sentinel redis-tools apache2 haproxy jq
      keepalived iproute2 lintian rsyslog litmus cadaver rclone chromium nodejs)
run=(redis-server jq)
# nginx-extras: nginx with the dav-ext module (bench/webdav.sh) that also serves the plain configs
# of the other benchmarks; it swaps libluajit-5.1-2 for libluajit2-5.1-2, which wrk runs on too.
bench=(wrk nginx-extras haproxy apache2 cyrus-caldav sasl2-bin radicale)

want=("${build[@]}")
for set in "$@"; do
  case "$set" in
    build) ;;
    run) want+=("${run[@]}") ;;
    test) want+=("${test[@]}") ;;
    bench) want+=("${bench[@]}") ;;
    *) echo "deps.sh: unknown set '$set' (build|run|test|bench)" >&2; exit 2 ;;
  esac
done

# the browser tests' npm (tests/webui): Debian's, unless the Node.js present brings its own
if [[ " ${want[*]} " == *" nodejs "* ]] && ! command -v npm >/dev/null 2>&1; then
  want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
