#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: install what is needed, build, and run a local Tandem cluster on embedded
# defaults: a private Redis, two tandemd nodes (OX-1, OX-2) sharing one SQLite configdb, one
# filestore and their sessions, and tandem-lb in front of them, all under ./tandem-data. The
# first start provisions a demo context and users. Prints where to log in. Ctrl-C (or SIGTERM)
# stops the balancer, drains the nodes, then stops Redis. A node that is drained
# (`tandemctl drainnode`) exits while the rest keep serving; SIGUSR1 starts the nodes that are
# down again. Redis keeps its data (append-only file), so sessions outlive a restart.
#
# Environment (all optional; the defaults are what the README describes):
#   TANDEM_DATA        data directory                      (./tandem-data)
#   TANDEM_BIN         directory with tandemd/, tandem-lb/, tandemctl/   (build/release/src)
#   TANDEM_SKIP_BUILD  1: do not install packages or build (use TANDEM_BIN as it is)
#   TANDEM_LISTEN      the balancer's address               (127.0.0.1:8009)
#   TANDEM_ADMIN_PORT  the balancer manager's port on 127.0.0.1   (8010)
#   TANDEM_NODE_PORTS  the nodes' ports on 127.0.0.1, one node per port ("8011 8012");
#                      or TANDEM_NODE1_PORT / TANDEM_NODE2_PORT
#   TANDEM_REDIS_PORT  the private Redis's port on 127.0.0.1   (6390)
#   TANDEM_MAIL        0: no demo mail system (by default, when run as root with Dovecot
#                      installed, scripts/mail-system.sh gives alice and bob mailboxes)
#   TANDEM_MASTER_PASS the master admin's password on first start (admin_master_password)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${TANDEM_SKIP_BUILD:-}" != 1 ]; then
  scripts/deps.sh build run
  scripts/build.sh release
fi

bin=${TANDEM_BIN:-build/release/src}
data=${TANDEM_DATA:-tandem-data}
listen=${TANDEM_LISTEN:-127.0.0.1:8009}
admin_port=${TANDEM_ADMIN_PORT:-8010}
redis_port=${TANDEM_REDIS_PORT:-6390}
read -r -a node_ports <<<"${TANDEM_NODE_PORTS:-${TANDEM_NODE1_PORT:-8011} ${TANDEM_NODE2_PORT:-8012}}"
master_user=oxadminmaster
master_pass=${TANDEM_MASTER_PASS:-admin_master_password}
lb_user=lbadmin
host=127.0.0.1

die() { echo "start.sh: $*" >&2; exit 1; }
for p in "$admin_port" "$redis_port" "${node_ports[@]}" "${listen##*:}"; do
  if ! [[ "$p" =~ ^[0-9]+$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then die "bad port '$p'"; fi
done
[ ${#node_ports[@]} -ge 1 ] || die "TANDEM_NODE_PORTS names no port"
for b in tandemd/tandemd tandem-lb/tandem-lb tandemctl/tandemctl; do
  [ -x "$bin/$b" ] || die "$bin/$b not found (build with scripts/build.sh release, or set TANDEM_BIN)"
done
redis_server=$(command -v redis-server) || die "redis-server not found (scripts/deps.sh run)"
bin=$(cd "$bin" && pwd)
mkdir -p "$data"
data=$(cd "$data" && pwd)
logs=$data/logs
mkdir -p "$logs" "$data/redis" "$data/conf"

# One start.sh per data directory. The daemons do not inherit the lock (9>&- below).
exec 9>"$data/start.lock"
flock -n 9 || die "another scripts/start.sh is running on $data"

# shellcheck disable=SC2016 # expanded by the inner bash
listening() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }
for p in "$redis_port" "${node_ports[@]}" "$admin_port"; do
  ! listening "$host" "$p" || die "port $host:$p is already in use (set the TANDEM_*_PORT variables)"
done
! listening "${listen%:*}" "${listen##*:}" || die "$listen is already in use (set TANDEM_LISTEN)"

# Secrets made on first start and kept: every node must use the same cookie salt.
secret() {
  [ -s "$1" ] || (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$1")
  cat "$1"
}
cookie_salt=$(secret "$data/cookie_salt")
lb_pass=$(secret "$data/lb_admin_password")

# --- processes: started in their own process groups (a terminal's Ctrl-C reaches only this
# script, which stops them in order), stopped by PID.
declare -A pid=() log=() log_start=()
order=()
hurry=0

alive() {
  local s
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  s=${s##*) }
  [ "${s%% *}" != Z ]
}

tail_log() { # the lines this run wrote
  echo "--- last lines of ${log[$1]}:" >&2
  tail -c "+$((log_start[$1] + 1))" "${log[$1]}" | tail -n 25 >&2 || true
  echo "---" >&2
}

launch() { # name logfile argv...
  local name=$1
  log[$name]=$2
  log_start[$name]=$(stat -c %s "$2" 2>/dev/null || echo 0)
  shift 2
  set -m
  "$@" </dev/null >>"${log[$name]}" 2>&1 9>&- &
  pid[$name]=$!
  set +m
  [[ " ${order[*]} " == *" $name "* ]] || order+=("$name")
}

# Fails the start when name has exited.
check_alive() {
  local name=$1 rc=0
  alive "${pid[$name]}" && return 0
  wait "${pid[$name]}" || rc=$?
  unset "pid[$name]"
  echo "start.sh: $name exited at start with status $rc" >&2
  tail_log "$name"
  exit 1
}

# Waits up to 30 s for `cmd...` to succeed while name is running.
wait_ready() { # name what cmd...
  local name=$1 what=$2
  shift 2
  for _ in $(seq 300); do
    check_alive "$name"
    "$@" && return 0
    sleep 0.1
  done
  echo "start.sh: $name: $what not ready after 30s" >&2
  tail_log "$name"
  exit 1
}

# SIGTERM to each, then waits (up to 40 s, more than tandemd's drain_timeout) and reaps.
stop() {
  local name p rc deadline=$((SECONDS + 40))
  for name in "$@"; do
    [ -n "${pid[$name]:-}" ] && kill -TERM "${pid[$name]}" 2>/dev/null
  done
  for name in "$@"; do
    p=${pid[$name]:-}
    [ -n "$p" ] || continue
    while alive "$p" && [ $SECONDS -lt $deadline ] && [ $hurry = 0 ]; do sleep 0.1; done
    if alive "$p"; then
      echo "start.sh: $name (pid $p) still running: killing it" >&2
      kill -KILL "$p" 2>/dev/null
    fi
    rc=0
    wait "$p" || rc=$?
    unset "pid[$name]"
    if [ $rc != 0 ]; then
      echo "start.sh: $name exited with status $rc" >&2
      tail_log "$name"
      failed=1
    fi
  done
}

mail_started=0
stop_mail() {
  [ $mail_started = 0 ] || scripts/mail-system.sh stop "$data/mail"
  mail_started=0
}

failed=0
cleanup() {
  local code=$? nodes=() name
  set +e
  trap 'hurry=1' INT TERM HUP
  trap '' USR1
  [ ${#pid[@]} -gt 0 ] || { stop_mail; exit $code; }
  echo "stopping: balancer, then nodes (draining), then Redis"
  for name in "${order[@]}"; do
    [[ "$name" == OX-* ]] && nodes+=("$name")
  done
  stop lb
  stop "${nodes[@]}"
  stop redis
  stop_mail
  [ $failed = 0 ] || [ $code != 0 ] || code=1
  [ $code != 0 ] || echo "stopped"
  exit $code
}
trap cleanup EXIT
trap 'exit 0' INT TERM HUP

# --- Redis: sessions, the invalidation stream and membership for the nodes.
cat >"$data/redis/redis.conf" <<CONF
# Generated by scripts/start.sh on every start.
bind $host
port $redis_port
protected-mode yes
daemonize no
save ""
appendonly yes
appendfsync everysec
dir $data/redis
logfile ""
CONF
launch redis "$logs/redis.log" "$redis_server" "$data/redis/redis.conf"
redis_ping() {
  (exec 3<>"/dev/tcp/$host/$redis_port" && printf 'PING\r\n' >&3 && IFS= read -r -t 2 r <&3 &&
   [ "${r%$'\r'}" = +PONG ]) 2>/dev/null
}
wait_ready redis "PING" redis_ping

# --- the nodes.
declare -A node_port=()
start_node() { launch "$1" "$logs/$1.log" "$bin/tandemd/tandemd" --config "$data/conf/$1.ini"; }
node_health() { curl -sf -m 2 -o /dev/null "http://$host:${node_port[$1]}/health"; }

# SIGUSR1: starts the nodes that are down again (a drained node exits), each within 30 s.
revive=0
trap 'revive=1' USR1
revive_nodes() {
  local route rc
  revive=0
  for route in "${!node_port[@]}"; do
    [ -z "${pid[$route]:-}" ] || continue
    echo "start.sh: starting $route again"
    start_node "$route"
    for _ in $(seq 300); do
      if ! alive "${pid[$route]}" || node_health "$route"; then break; fi
      sleep 0.1
    done
    if ! alive "${pid[$route]}"; then
      rc=0
      wait "${pid[$route]}" || rc=$?
      unset "pid[$route]"
      echo "start.sh: $route exited at start with status $rc; the other nodes keep serving" >&2
      tail_log "$route"
    elif node_health "$route"; then
      echo "start.sh: $route is back on http://$host:${node_port[$route]}/"
    else
      echo "start.sh: $route: /health not ready after 30s, still starting" >&2
    fi
  done
}

if [ ! -e "$data/configdb.sqlite" ]; then
  "$bin/tandemctl/tandemctl" initconfigdb --configdb-url "sqlite://$data/configdb.sqlite" \
    --master-user "$master_user" --master-pass "$master_pass"
fi
# --- the demo mail system (docs/mail.md): Dovecot on loopback, ports chosen now.
mail_conf=""
mail_text="none (needs root, Dovecot and Postfix: scripts/deps.sh run; or TANDEM_MAIL=0)"
if [ "${TANDEM_MAIL:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v dovecot >/dev/null &&
  command -v postfix >/dev/null; then
  # Dovecot does not inherit the lock (9>&-)
  if scripts/mail-system.sh start "$data/mail" alice:alice_password bob:bob_password \
    >"$logs/mail-system.log" 2>&1 9>&-; then
    mail_started=1
  else
    echo "start.sh: no demo mail system, it did not start: $logs/mail-system.log" >&2
  fi
fi
if [ $mail_started = 1 ]; then
  imap_url=$(sed -n 's/^MAIL_IMAP_URL=//p' "$data/mail/env")
  smtp_url=$(sed -n 's/^MAIL_SMTP_URL=//p' "$data/mail/env")
  mail_conf=$'[mail]\nimap_url = '"$imap_url"$'\nsmtp_url = '"$smtp_url"$'\nmaster_user = tandem\nmaster_password_file = '"$data/mail/master-password"
  mail_text="$imap_url, $smtp_url (Dovecot, Postfix in $data/mail; alice, bob)"
  if [ ! -e "$data/mail/welcomed" ]; then
    for u in alice bob; do
      printf 'From: Tandem <postmaster@localhost>\r\nTo: %s@example.com\r\nSubject: Welcome to Tandem mail\r\nDate: %s\r\n\r\nThis mailbox is served by the demo Dovecot of scripts/start.sh.\r\n' \
        "$u" "$(date -R)" | scripts/mail-system.sh deliver "$data/mail" "$u"
    done
    touch "$data/mail/welcomed"
  fi
fi

i=0
for port in "${node_ports[@]}"; do
  i=$((i + 1))
  route=OX-$i
  mkdir -p "$data/$route"
  conf=$data/conf/$route.ini
  (umask 077 && cat >"$conf") <<INI
; Generated by scripts/start.sh on every start.
[server]
route = $route
listen = $host:$port
data_dir = $data/$route
; a drained node keeps serving this long, so that the balancer (a check every 1s, 3 bad
; in a row) moves new sessions elsewhere before the node stops listening
drain_grace = 3s
; the balancer below connects from here: its X-Forwarded-For names the client
trusted_proxies = $host/32
[configdb]
url = sqlite://$data/configdb.sqlite
[session]
cookie_salt = $cookie_salt
[cluster]
name = local
store = redis://$host:$redis_port/0
[log]
file = $logs/$route.log
$mail_conf
INI
  node_port[$route]=$port
  start_node "$route"
done
for route in "${!node_port[@]}"; do
  wait_ready "$route" "/health" node_health "$route"
done

# --- the balancer, with its manager when this tandem-lb accepts an [admin] section.
lb_conf=$data/conf/tandem-lb.ini
lb_config() { # with_admin
  echo "; Generated by scripts/start.sh on every start."
  printf '[listen]\naddress = %s\n[balancer]\nsticky_cookie = JSESSIONID\nhealth_uri = /health\n' \
    "$listen"
  # tandemctl on this host provisions through the balancer: let this host reach /admin.
  local own=""
  [[ ! ${listen%:*} =~ ^[0-9.]+$ || ${listen%:*} == 0.0.0.0 ]] || own=", ${listen%:*}"
  printf 'admin_allow = 127.0.0.0/8, ::1%s\n' "$own"
  i=0
  for port in "${node_ports[@]}"; do
    i=$((i + 1))
    printf '[member OX-%d]\nurl = http://%s:%s\nloadfactor = 50\n' "$i" "$host" "$port"
  done
  [ "$1" = 0 ] ||
    printf '[admin]\nlisten = %s:%s\nuser = %s\npassword = %s\n' "$host" "$admin_port" \
      "$lb_user" "$lb_pass"
  printf '[log]\nfile = %s\n' "$logs/tandem-lb.log"
}
manager=1
(umask 077 && lb_config 1 >"$lb_conf")
if ! check=$("$bin/tandem-lb/tandem-lb" --config "$lb_conf" --check-config 2>&1); then
  manager=0
  (umask 077 && lb_config 0 >"$lb_conf")
  check=$("$bin/tandem-lb/tandem-lb" --config "$lb_conf" --check-config 2>&1) ||
    die "tandem-lb rejects $lb_conf:"$'\n'"$check"
fi
launch lb "$logs/tandem-lb.log" "$bin/tandem-lb/tandem-lb" --config "$lb_conf"
wait_ready lb "/health through the balancer" curl -sf -m 2 -o /dev/null "http://$listen/health"
# The manager listener comes up with the balancer; a tandem-lb that only checks [admin]
# serves none.
[ $manager = 0 ] || listening "$host" "$admin_port" || manager=0

# --- first start: the demo context, through the balancer like any client.
ctl() { "$bin/tandemctl/tandemctl" --url "http://$listen" -A "$master_user" -P "$master_pass" "$@"; }
contexts=$(ctl listcontext)
if ! grep -q defaultcontext <<<"$contexts"; then
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

nodes_text=""
i=0
for port in "${node_ports[@]}"; do
  i=$((i + 1))
  nodes_text+="OX-$i http://$host:$port/, "
done
if [ $manager = 1 ]; then
  manager_text="http://$host:$admin_port/manager/  ($lb_user / $lb_pass)"
else
  manager_text="not served by this tandem-lb build"
fi
cat <<EOT

Tandem is running on http://$listen/  (data in $data)
  health:          curl http://$listen/health
  demo users:      alice@defaultcontext / alice_password, bob@defaultcontext / bob_password
  log in:          curl -c alice.jar -H 'Content-Type: application/json' \\
                     -d '{"login":"alice","password":"alice_password"}' http://$listen/api/v1/login
  walk-through:    docs/quickstart.md (folders, sharing, files with curl)
  mail:            $mail_text
  context admin:   oxadmin / admin_password (context 1, "demo")
  master admin:    $master_user / $master_pass
  provisioning:    $bin/tandemctl/tandemctl --url http://$listen -A $master_user -P $master_pass listuser -c 1
  nodes:           ${nodes_text%, } (sessions shared through Redis on $host:$redis_port)
  node verbs:      need a node's URL, not the balancer's (it refuses them), e.g.
                     TANDEM_URL=http://$host:${node_ports[0]} $bin/tandemctl/tandemctl -A $master_user -P $master_pass nodestatus
  drain a node:    $bin/tandemctl/tandemctl --url http://$host:${node_ports[0]} -A $master_user -P $master_pass drainnode
                     (it stops taking new sessions, then exits; the other nodes keep serving)
  bring it back:   kill -USR1 $$  (starts every node that is down again)
  balancer:        manager $manager_text
  logs:            $logs/
  stop:            Ctrl-C or kill -TERM $$ (stops the balancer, drains the nodes, stops Redis
                     and the demo mail system)

Open the web app in a browser: http://$listen/  (sign in as alice / alice_password)

EOT

# Runs until a signal (the trap stops everything) or until a process dies on its own. A node
# that exits 0 has drained: the others keep serving and SIGUSR1 starts it again.
while :; do
  [ $revive = 0 ] || revive_nodes
  rc=0
  died=""
  wait -n -p died "${pid[@]}" || rc=$?
  [ -n "${died:-}" ] || continue
  for name in "${!pid[@]}"; do
    [ "${pid[$name]}" = "$died" ] || continue
    unset "pid[$name]"
    if [[ $name == OX-* ]] && [ $rc = 0 ]; then
      echo "start.sh: $name has drained and exited; the other nodes keep serving." \
        "To start it again: kill -USR1 $$"
      continue 2
    fi
    echo "start.sh: $name (pid $died) exited on its own with status $rc" >&2
    tail_log "$name"
  done
  exit 1
done
