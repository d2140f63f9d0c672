#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Virtual IP failover drill: two tandem-lb hosts holding one virtual IP with keepalived (VRRP),
# run for real in private network namespaces on this machine, under load. docs/operations.md
# ("Virtual IP with keepalived") explains the configuration and the figures.
#
#   tvip-sw   a bridge joining the others (10.213.0.0/24, nothing else on it)
#   tvip-be   Redis (sessions, the balancers' shared state) and tandemd OX-1, OX-2  .10
#   tvip-lb1  tandem-lb + keepalived, priority 254                                 .11
#   tvip-lb2  tandem-lb + keepalived, priority 252                                 .12
#   tvip-cl   the load client                                                      .20
#   VIP       10.213.0.100, both keepalived start as BACKUP with nopreempt (no failback)
#
# The client logs N users in through the VIP and keeps requesting with their sessions while the
# drill (a) stops the active tandem-lb gracefully (hands the VIP over, then SIGTERM), (b) starts
# it again and checks that the VIP stays where it is, (c) kills the active tandem-lb (SIGKILL),
# (d) crashes the active host (its link down, keepalived and tandem-lb SIGKILLed together). It prints the failover
# times, the requests that failed, the sessions lost (every session is checked at the end) and
# whether the VIP failed back, and exits 1 when a goal is missed (graceful <= 1 s, crash <= 4 s,
# 0 sessions lost, no failback) unless --report-only.
#
# Needs root, iproute2, keepalived, redis-server, curl, /usr/bin/python3 and a build
# (scripts/build.sh release). Never touches the host's interfaces or routes: everything lives in
# the namespaces above, which are deleted on exit (also on Ctrl-C); leftovers of an earlier run
# that was killed are removed at start.
# shellcheck disable=SC2317 # functions run through trap and wait_for
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOT'
usage: scripts/drill-vip.sh [options]
  --users N       users logged in through the VIP (default 100)
  --quick         10 users, shorter pauses (for tests)
  --json          print the result as one JSON object on stdout (progress goes to stderr)
  --report-only   exit 0 even when a goal is missed (still 2 when the drill cannot run)
  --preempt       leave out nopreempt (shows what failback looks like; the goal then fails)
  --advert S      keepalived advert_int in seconds (default 0.5)
  --keep          keep the run directory (configs and logs) even on success
  --bin DIR       directory with tandemd/, tandem-lb/, tandemctl/ (default $TANDEM_BIN or
                  build/release/src)
EOT
}

users=100 quick=0 json=0 report_only=0 preempt=0 advert=0.5 keep=0
bin=${TANDEM_BIN:-build/release/src}
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=${2:-}; shift ;;
    --quick) quick=1; users=10 ;;
    --json) json=1 ;;
    --report-only) report_only=1 ;;
    --preempt) preempt=1 ;;
    --advert) advert=${2:-}; shift ;;
    --keep) keep=1 ;;
    --bin) bin=${2:-}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "drill-vip.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

die() { echo "drill-vip.sh: $*" >&2; exit 2; }
say() { echo "drill: $*" >&2; }
if ! [[ "$users" =~ ^[0-9]+$ ]] || [ "$users" -lt 1 ] || [ "$users" -gt 1000 ]; then
  die "--users must be 1..1000, not '$users'"
fi
[[ "$advert" =~ ^(0\.[1-9][0-9]?|[1-5](\.[0-9][0-9]?)?)$ ]] ||
  die "--advert must be 0.1..5 seconds (at most two decimals), not '$advert'"
[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces)"
for tool in ip keepalived redis-server redis-cli curl flock; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/deps.sh test installs it)"
done
python=/usr/bin/python3
[ -x $python ] || die "$python not found"
for b in tandemd/tandemd tandem-lb/tandem-lb tandemctl/tandemctl; do
  [ -x "$bin/$b" ] || die "$bin/$b not found (build with scripts/build.sh release, or --bin DIR)"
done
bin=$(cd "$bin" && pwd)
here=$(pwd)

P=tvip                     # every namespace this drill creates starts with "tvip-"
NS=(sw be lb1 lb2 cl)
NET=10.213.0
VIP=$NET.100
declare -A ADDR=([be]=$NET.10 [lb1]=$NET.11 [lb2]=$NET.12 [cl]=$NET.20)
declare -A MAC=([lb1]=02:13:00:00:00:11 [lb2]=02:13:00:00:00:12)
declare -A PRIO=([lb1]=254 [lb2]=252)
if [ $quick = 1 ]; then settle=1.5 warm=0.8; else settle=2.0 warm=2.0; fi

# One drill at a time on this machine (the names are fixed).
exec 8>/run/lock/tandem-drill-vip.lock
flock -n 8 || die "another drill-vip.sh is running"

now() { echo "$EPOCHREALTIME"; }
in_ns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# --- teardown: by PID, then whatever still runs in our namespaces, then the namespaces.
remove_namespaces() {
  local ns p
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.05; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

run=""
declare -A pid=()
cleanup() {
  local code=$? name p
  set +e
  trap '' INT TERM HUP
  for name in "${!pid[@]}"; do
    p=${pid[$name]:-}
    alive "$p" && kill -TERM "$p" 2>/dev/null
  done
  for _ in $(seq 50); do
    p=""
    for name in "${!pid[@]}"; do alive "${pid[$name]}" && p=1; done
    [ -z "$p" ] && break
    sleep 0.1
  done
  for name in "${!pid[@]}"; do alive "${pid[$name]}" && kill -KILL "${pid[$name]}" 2>/dev/null; done
  wait 2>/dev/null
  remove_namespaces
  if [ -n "$run" ]; then
    if [ "$keep" = 1 ] || [ "$code" -gt 1 ]; then
      say "configs and logs kept in $run"
    else
      rm -rf "$run"
    fi
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM HUP

leftover=$(ip netns list | awk '{print $1}' | grep -c "^$P-" || true)
[ "$leftover" = 0 ] || { say "removing $leftover namespace(s) left by an earlier run"; remove_namespaces; }
run=$(mktemp -d /tmp/drill-vip.XXXXXX)
chmod 755 "$run"

# --- the network: a bridge in tvip-sw, one veth pair per host.
for ns in "${NS[@]}"; do
  ip netns add "$P-$ns"
  ip -n "$P-$ns" link set lo up
done
ip -n $P-sw link add br0 type bridge
ip -n $P-sw link set br0 up
for ns in be lb1 lb2 cl; do
  ip -n $P-sw link add "v-$ns" type veth peer name eth0 netns "$P-$ns"
  ip -n $P-sw link set "v-$ns" master br0 up
  [ -z "${MAC[$ns]:-}" ] || ip -n "$P-$ns" link set eth0 address "${MAC[$ns]}"
  ip -n "$P-$ns" addr add "${ADDR[$ns]}/24" dev eth0
  ip -n "$P-$ns" link set eth0 up
done

# Waits up to $2 seconds for "$3..." to succeed; 1 on timeout.
wait_for() {
  local what=$1 secs=$2 deadline
  shift 2
  deadline=$(($(date +%s%N) / 1000000 + ${secs%.*} * 1000))
  until "$@"; do
    [ $(($(date +%s%N) / 1000000)) -lt $deadline ] || { say "timed out waiting for $what"; return 1; }
    sleep 0.05
  done
}
launch() { # name ns logfile argv... (in its own process group, so Ctrl-C reaches only us)
  local name=$1 ns=$2 log=$3
  shift 3
  set -m
  ip netns exec "$P-$ns" "$@" </dev/null >>"$log" 2>&1 8>&- &
  pid[$name]=$!
  set +m
}
tail_log() { echo "--- last lines of $1:" >&2; tail -n 20 "$1" >&2 || true; }

# --- Redis and two nodes in tvip-be.
be=$run/be
mkdir -p "$be/redis" "$be/OX-1" "$be/OX-2"
launch redis be "$be/redis.log" redis-server --bind "${ADDR[be]}" --port 6379 --save '' \
  --appendonly no --daemonize no --dir "$be/redis" --protected-mode no
redis_up() { [ "$(in_ns be redis-cli -h "${ADDR[be]}" -p 6379 ping 2>/dev/null)" = PONG ]; }
store=redis://${ADDR[be]}:6379/0
salt=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
in_ns be "$bin/tandemctl/tandemctl" initconfigdb --configdb-url "sqlite://$be/configdb.sqlite" \
  --master-user drillmaster --master-pass drill-master-pw >/dev/null
for i in 1 2; do
  cat >"$be/OX-$i.ini" <<INI
[server]
route = OX-$i
listen = ${ADDR[be]}:800$i
data_dir = $be/OX-$i
trusted_proxies = $NET.0/24
[configdb]
url = sqlite://$be/configdb.sqlite
[session]
cookie_salt = $salt
[cluster]
name = drill
store = $store
[log]
file = $be/OX-$i.log
INI
done
wait_for "Redis" 10 redis_up || { tail_log "$be/redis.log"; exit 2; }
for i in 1 2; do
  launch "OX-$i" be "$be/OX-$i.stderr" "$bin/tandemd/tandemd" --config "$be/OX-$i.ini"
done
node_up() { in_ns be curl -sf -m 2 -o /dev/null "http://${ADDR[be]}:800$1/health"; }
for i in 1 2; do
  wait_for "OX-$i" 30 node_up "$i" || { tail_log "$be/OX-$i.log"; tail_log "$be/OX-$i.stderr"; exit 2; }
done
say "provisioning a context and $users users"
ctl() {
  in_ns be "$bin/tandemctl/tandemctl" --url "http://${ADDR[be]}:8001" -A drillmaster \
    -P drill-master-pw "$@" >/dev/null
}
ctl registerfilestore -t "file://$be/filestore"
ctl registerdatabase -n userdb --url "sqlite://$be/userdb/" -m true
ctl createcontext -c 1 -q 0 -L defaultcontext -u oxadmin -d Admin -g A -s D -p admin-pw \
  -e oxadmin@example.com
for i in $(seq -f %04g "$users"); do
  ctl createuser -c 1 -u "drill$i" -d "drill$i" -g D -s U -p "drill$i-pw" -e "drill$i@example.com"
done

# --- the balancers: tandem-lb under a supervisor that writes keepalived's track file (0 once
# /health answers, 1 as soon as tandem-lb has exited, however it ended), then keepalived.
lb_conf() { # n
  cat <<INI
[listen]
address = 0.0.0.0:80
threads = 2
[balancer]
sticky_cookie = JSESSIONID
health_uri = /health
health_interval = 500ms
health_fall = 2
health_rise = 1
[member OX-1]
url = http://${ADDR[be]}:8001
[member OX-2]
url = http://${ADDR[be]}:8002
[cluster]
name = drill
store = $store
[log]
file = $run/$1/tandem-lb.log
INI
}
ka_conf() { # n
  local peer=lb2 nopreempt="nopreempt"
  [ "$1" = lb1 ] || peer=lb1
  [ $preempt = 0 ] || nopreempt="# nopreempt left out (--preempt)"
  cat <<CONF
global_defs {
    router_id tandem-$1
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 2
    vrrp_rt_priority 50
    vrrp_rlimit_rttime 200000
}
track_file tandem_lb_up {
    file "$run/$1/track"
    weight 0
    init_file 1
}
vrrp_instance tandem {
    state BACKUP
    $nopreempt
    interface eth0
    virtual_router_id 67
    version 3
    priority ${PRIO[$1]}
    advert_int $advert
    unicast_src_ip ${ADDR[$1]}
    unicast_peer {
        ${ADDR[$peer]}
    }
    check_unicast_src
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
    track_file {
        tandem_lb_up
    }
}
CONF
}
start_lb() { # n
  local n=$1 d=$run/$1
  echo 1 >"$d/track"
  set -m
  (
    trap - EXIT INT TERM HUP
    ip netns exec "$P-$n" "$bin/tandem-lb/tandem-lb" --config "$d/tandem-lb.ini" </dev/null \
      >>"$d/tandem-lb.stderr" 2>&1 &
    lb=$!
    echo "$lb" >"$d/tandem-lb.pid"
    for _ in $(seq 200); do
      alive "$lb" || break
      if ip netns exec "$P-$n" curl -sf -m 1 -o /dev/null http://127.0.0.1/health; then
        echo 0 >"$d/track"
        break
      fi
      sleep 0.05
    done
    wait "$lb" 2>/dev/null || true
    echo 1 >"$d/track"
  ) 8>&- &
  pid[sup-$n]=$!
  set +m
}
lb_pid() { cat "$run/$1/tandem-lb.pid" 2>/dev/null; }
lb_ready() { [ "$(cat "$run/$1/track" 2>/dev/null)" = 0 ]; }
for n in lb1 lb2; do
  mkdir -p "$run/$n"
  lb_conf $n >"$run/$n/tandem-lb.ini"
  ka_conf $n >"$run/$n/keepalived.conf"
  keepalived -t -f "$run/$n/keepalived.conf" 2>"$run/$n/keepalived-t.log" ||
    { tail_log "$run/$n/keepalived-t.log"; die "keepalived rejects $run/$n/keepalived.conf"; }
  in_ns $n "$bin/tandem-lb/tandem-lb" --config "$run/$n/tandem-lb.ini" --check-config \
    >"$run/$n/check.log" 2>&1 || { tail_log "$run/$n/check.log"; die "tandem-lb rejects its config"; }
  start_lb $n
done
for n in lb1 lb2; do
  wait_for "tandem-lb on $n" 30 lb_ready $n || { tail_log "$run/$n/tandem-lb.stderr"; exit 2; }
done
start_keepalived() { # n
  launch "ka-$1" "$1" "$run/$1/keepalived.log" keepalived -n -l -D -P -f "$run/$1/keepalived.conf" \
    -p "$run/$1/keepalived.pid" -r "$run/$1/vrrp.pid"
}
vip_on() { ip -n "$P-$1" -4 -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }
start_keepalived lb1
wait_for "the VIP on lb1" 20 vip_on lb1 || { tail_log "$run/lb1/keepalived.log"; exit 2; }
start_keepalived lb2
sleep "$settle"
! vip_on lb2 || die "the VIP is on both balancers"

# --- the load client.
launch client cl "$run/client.log" $python "$here/scripts/drill-vip-load.py" load --vip "$VIP" \
  --users "$users" --host "lb1=${MAC[lb1]}" --host "lb2=${MAC[lb2]}" --ready "$run/ready" \
  --stop "$run/stop" --out "$run/requests.json"
client_ready() { [ -e "$run/ready" ] || ! alive "${pid[client]}"; }
if ! wait_for "the client to log in $users users" 120 client_ready || [ ! -e "$run/ready" ]; then
  tail_log "$run/client.log"
  exit 2
fi
sleep "$warm"

events=$run/events.json
echo "[" >"$events"
event() { # name host [extra json]
  echo "{\"event\":\"$1\",\"host\":\"$2\",\"t\":$3${4:+,$4}}," >>"$events"
}
other() { [ "$1" = lb1 ] && echo lb2 || echo lb1; }
active() { if vip_on lb1; then echo lb1; elif vip_on lb2; then echo lb2; fi; }

# Waits up to 10 s for the VIP on host $2, then $settle s; records when it arrived.
takeover() { # phase host t0
  local t
  if wait_for "the VIP on $2" 10 vip_on "$2"; then
    t=$(now)
    event "$1-vip" "$2" "$t"
    say "$1: the VIP is on $2 after $(awk "BEGIN{printf \"%d\", ($t - $3) * 1000}") ms"
  else
    event "$1-vip-timeout" "$2" "$(now)"
  fi
  sleep "$settle"
}

# (a) graceful, as `systemctl stop tandem-lb` does it with the drop-in of docs/operations.md:
# the track file says "down" first (keepalived gives the VIP up with a priority-0 advert while
# tandem-lb still serves), then SIGTERM once the peer holds the VIP (tandem-lb finishes the
# requests in flight and exits).
a=$(active)
[ -n "$a" ] || die "no balancer holds the VIP"
b=$(other "$a")
say "(a) graceful: $a hands the VIP over, then SIGTERM to its tandem-lb"
t0=$(now)
echo 1 >"$run/$a/track"
event graceful "$a" "$t0" "\"to\":\"$b\""
wait_for "the VIP on $b" 3 vip_on "$b" || true
kill -TERM "$(lb_pid "$a")"
takeover graceful "$b" "$t0"

# (b) no failback: start tandem-lb on the first host again; the VIP must stay where it is.
say "(b) starting tandem-lb on $a again; the VIP must stay on $b"
restart_log=$(stat -c %s "$run/$a/keepalived.log")
start_lb "$a"
wait_for "tandem-lb on $a" 30 lb_ready "$a" || { tail_log "$run/$a/tandem-lb.stderr"; exit 2; }
t0=$(now)
event restart "$a" "$t0"
hold=$(awk "BEGIN{print 3 + 4 * $advert}")
failback=false
end=$(($(date +%s%N) / 1000000 + ${hold%.*} * 1000))
while [ $(($(date +%s%N) / 1000000)) -lt $end ]; do
  if vip_on "$a"; then failback=true; break; fi
  sleep 0.05
done
# keepalived logs "Receive advertisement timeout" when it takes over because the master's
# adverts stopped (a starved keepalived on an overloaded host), not by preempting it.
missed=false
tail -c "+$((restart_log + 1))" "$run/$a/keepalived.log" | grep -q "Receive advertisement timeout" &&
  missed=true
event failback-check "$a" "$(now)" "\"failback\":$failback,\"adverts_missed\":$missed"
if [ $failback = true ]; then
  say "(b) the VIP went back to $a (failback)"
  [ $missed = false ] ||
    say "(b) $a took over because no advert from $b came for 3 x $advert s (overloaded host?)"
  wait_for "the VIP to leave $b" 5 eval "! vip_on $b" || true
  b=$a a=$(other "$a")
else
  say "(b) no failback: the VIP stayed on $b for ${hold} s"
fi

# (c) crash of tandem-lb: SIGKILL (keepalived on that host is still alive and sees it go).
say "(c) crash: SIGKILL to tandem-lb on $b"
t0=$(now)
kill -KILL "$(lb_pid "$b")"
event crash "$b" "$t0" "\"to\":\"$a\""
takeover crash "$a" "$t0"
start_lb "$b"
wait_for "tandem-lb on $b" 30 lb_ready "$b" || { tail_log "$run/$b/tandem-lb.stderr"; exit 2; }
sleep "$(awk "BEGIN{print 4 * $advert}")"

# (d) host crash: the active host's link goes down and keepalived and tandem-lb die at once;
# only the missing adverts tell the peer.
c=$(active)
[ -n "$c" ] || die "no balancer holds the VIP before the host crash"
d=$(other "$c")
say "(d) host crash: $c loses its link, keepalived and tandem-lb are SIGKILLed"
t0=$(now)
ip -n "$P-$c" link set eth0 down
kill -KILL "$(cat "$run/$c/vrrp.pid")" "${pid[ka-$c]}" "$(lb_pid "$c")" 2>/dev/null || true
wait "${pid[ka-$c]}" 2>/dev/null || true
unset "pid[ka-$c]"
event host-crash "$c" "$t0" "\"to\":\"$d\""
takeover host-crash "$d" "$t0"

echo "{\"event\":\"end\",\"host\":\"\",\"t\":$(now)}]" >>"$events"
touch "$run/stop"
client_done() { ! alive "${pid[client]}"; }
wait_for "the client to check every session" 120 client_done ||
  { tail_log "$run/client.log"; exit 2; }
rc=0
wait "${pid[client]}" || rc=$?
unset "pid[client]"
[ $rc = 0 ] || { tail_log "$run/client.log"; die "the load client failed ($rc)"; }

args=(report --requests "$run/requests.json" --events "$events" --advert "$advert")
[ $json = 0 ] || args+=(--json)
[ $report_only = 0 ] || args+=(--report-only)
rc=0
$python "$here/scripts/drill-vip-load.py" "${args[@]}" || rc=$?
exit $rc
