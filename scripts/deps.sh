#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages Tandem builds, runs and tests with. Idempotent: does nothing
# when everything is present. Usage: scripts/deps.sh [build|run|test|bench]...
# (build is always included; run adds what scripts/start.sh runs besides Tandem itself: Redis,
# the demo mail system's Dovecot and Postfix, and jq for docs/quickstart.md)
set -euo pipefail

build=(build-essential cmake ninja-build pkg-config curl libsodium-dev libinih-dev libsqlite3-dev
       libmariadb-dev libjansson-dev libssl-dev libhiredis-dev liburing-dev
       libxml2-dev libical-dev libetpan-dev libgmime-3.0-dev libcurl4-gnutls-dev)
test=(clang libclang-rt-14-dev llvm clang-format python3-pytest python3-caldav vdirsyncer khal khard curl sqlite3 mariadb-server
      mariadb-client galera-4 rsync socat redis-server redis-sentinel redis-tools apache2 haproxy jq
      keepalived iproute2 lintian rsyslog litmus cadaver rclone chromium nodejs
      dovecot-imapd dovecot-lmtpd postfix)
# daemons whose Debian packages would start and enable a system service listening beyond
# loopback: installed with services held off (below); the tests run private instances
# (scripts/mail-system.sh, bench/webui_sogo.py)
no_service=(dovecot-core dovecot-imapd dovecot-lmtpd postfix sogo memcached postgresql-15)
run=(redis-server jq dovecot-imapd dovecot-lmtpd postfix)
# nginx-extras: nginx with the dav-ext module (bench/webdav.sh) that also serves the plain configs
# of the other benchmarks; it swaps libluajit-5.1-2 for libluajit2-5.1-2, which wrk runs on too.
# sogo, memcached, postgresql-15: SOGo's web UI beside Tandem's (bench/webui.sh), run privately
bench=(wrk nginx-extras haproxy apache2 cyrus-caldav sasl2-bin radicale sogo memcached
       postgresql-15)

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
# A temporary policy-rc.d (exit 101: "action forbidden") keeps invoke-rc.d from starting
# the daemons these packages bring; on a host with systemd they are then disabled and
# stopped as well, so nothing of theirs listens beyond what the tests start themselves.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
  trap '$SUDO rm -f "$policy"' EXIT
fi
# Postfix: no system configuration (it would ask, and listen on port 25); the tests and the demo
# run a private instance (scripts/mail-system.sh). It replaces exim4 as the mail transport agent
# that cyrus-common (bench) depends on.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
for p in "${missing[@]}"; do
  case " ${no_service[*]} " in
  *" $p "*)
    if [ -d /run/systemd/system ]; then
      case "$p" in
        dovecot-*) units="dovecot.service dovecot.socket" ;;
        postgresql-*) units="postgresql.service" ;;
        *) units="$p.service" ;;
      esac
      # shellcheck disable=SC2086
      $SUDO systemctl disable --now $units >/dev/null 2>&1 || true
    fi ;;
  esac
done
[ -z "$own_policy" ] || { $SUDO rm -f "$policy"; trap - EXIT; }
