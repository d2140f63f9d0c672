#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: install what is needed, build, and run a Tandem node on embedded defaults
# (SQLite configdb and user database, local filestore, all under ./tandem-data), provisioned
# with a demo context and users on first start. Prints where to log in. Ctrl-C drains and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh release
bin=build/release/src
listen=${TANDEM_LISTEN:-127.0.0.1:8009}
data=$PWD/tandem-data
master_user=oxadminmaster
master_pass=${TANDEM_MASTER_PASS:-admin_master_password}
mkdir -p "$data"

if [ ! -e "$data/configdb.sqlite" ]; then
  "$bin/tandemctl/tandemctl" initconfigdb --configdb-url "sqlite://$data/configdb.sqlite" \
    --master-user "$master_user" --master-pass "$master_pass"
fi

conf=build/release/tandemd-local.ini
cat >"$conf" <<INI
[server]
listen = $listen
data_dir = $data
[configdb]
url = sqlite://$data/configdb.sqlite
INI

"$bin/tandemd/tandemd" --config "$conf" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 100); do
  curl -sf "http://$listen/health" >/dev/null && break
  sleep 0.1
done

ctl() { "$bin/tandemctl/tandemctl" --url "http://$listen" -A "$master_user" -P "$master_pass" "$@"; }
if ! ctl listcontext | grep -q defaultcontext; then
  echo "provisioning the demo context (first start)"
  ctl registerserver -n tandem
  ctl registerfilestore -t "file://$data/filestore" -s 10000
  ctl registerdatabase -n userdb --url "sqlite://$data/userdb/" -m true
  ctl createcontext -c 1 -q 1000 -N demo -L defaultcontext -u oxadmin -d "Context Admin" \
    -g Context -s Admin -p admin_password -e oxadmin@example.com
  ctl createuser -c 1 -u alice -d "Alice Adams" -g Alice -s Adams -p alice_password \
    -e alice@example.com
  ctl createuser -c 1 -u bob -d "Bob Brown" -g Bob -s Brown -p bob_password -e bob@example.com
fi

cat <<EOT

Tandem is running on http://$listen/  (data in $data)
  health:          curl http://$listen/health
  demo users:      alice@defaultcontext / alice_password, bob@defaultcontext / bob_password
  log in:          curl -c alice.jar -H 'Content-Type: application/json' \\
                     -d '{"login":"alice","password":"alice_password"}' http://$listen/api/v1/login
  walk-through:    docs/quickstart.md (folders, sharing, files with curl)
  context admin:   oxadmin / admin_password (context 1, "demo")
  master admin:    $master_user / $master_pass
  provisioning:    $bin/tandemctl/tandemctl -A $master_user -P $master_pass listuser -c 1
  stop:            Ctrl-C (drains in-flight requests, then exits)

EOT
wait $pid
