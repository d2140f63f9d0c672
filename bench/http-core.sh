#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tandemd GET /health vs nginx returning an equally small JSON body, side by side.
# wrk runs interleaved (tandemd, nginx, tandemd, nginx, ...); for each run we read the server's
# CPU time from /proc and print req/s, p99 and CPU µs per request, then the medians and the
# ratio. Both servers get one event-loop thread/worker so that wrk has the other core.
# Usage: bench/http-core.sh [ROUNDS=3] [DURATION=5s] [CONNECTIONS=50]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-5s}
conns=${3:-50}

scripts/deps.sh build bench >/dev/null
scripts/build.sh release >/dev/null

tmp=$(mktemp -d /tmp/tandem-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

tport=$(port)
cat >"$tmp/tandemd.ini" <<INI
[server]
listen = 127.0.0.1:$tport
io_threads = 1
workers = 2
data_dir = $tmp/data
[log]
level = warn
INI
build/release/src/tandemd/tandemd --config "$tmp/tandemd.ini" 2>"$tmp/tandemd.log" &
tpid=$!
pids+=("$tpid")

nport=$(port)
body=$(curl -s "http://127.0.0.1:$tport/health" || true)
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nport reuseport;
    location = /health {
      default_type "application/json; charset=utf-8";
      add_header Cache-Control no-store;
      return 200 '$body
';
    }
  }
}
NGX
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" &
npid=$!
pids+=("$npid")
wait_port "$tport"
wait_port "$nport"
tsize=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$tport/health")
nsize=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$nport/health")
echo "response bodies: tandemd $tsize bytes, nginx $nsize bytes"

# CPU ticks of a process and all its children (nginx's worker is a child of its master).
cpu_ticks() {
  /usr/bin/python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])  # ppid, utime+stime
total = 0
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        ppid, ticks = stat(d)
    except OSError:
        continue
    if int(d) == root or ppid == root:
        total += ticks
print(total)
PY
}

hz=$(getconf CLK_TCK)
results="$tmp/results"
: >"$results"
run() { # run NAME PID PORT
  local before after out reqs rps p99
  before=$(cpu_ticks "$2")
  out=$(wrk -t1 -c"$conns" -d"$duration" --latency "http://127.0.0.1:$3/health")
  after=$(cpu_ticks "$2")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local us
  us=$(/usr/bin/python3 -c "print(f'{($after-$before)/$hz*1e6/$reqs:.2f}')")
  printf '%-8s round %d: %10s req/s  p99 %8s  CPU %6s us/request\n' "$1" "$round" "$rps" "$p99" "$us"
  echo "$1 $rps $p99 $us" >>"$results"
}

wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$tport/health" >/dev/null   # warm-up
wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$nport/health" >/dev/null
for round in $(seq "$rounds"); do
  run tandemd "$tpid" "$tport"
  run nginx "$npid" "$nport"
done

/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def p99_ms(s):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if s.endswith(unit):
            return float(s[:-len(unit)]) * f
    return float(s)
med = {}
for name in ("tandemd", "nginx"):
    r = [x for x in rows if x[0] == name]
    med[name] = (statistics.median(float(x[1]) for x in r),
                 statistics.median(p99_ms(x[2]) for x in r),
                 statistics.median(float(x[3]) for x in r))
print()
for name, (rps, p99, us) in med.items():
    print(f"median {name:8s} {rps:10.0f} req/s  p99 {p99:7.3f} ms  CPU {us:6.2f} us/request")
ratio = med["tandemd"][2] / med["nginx"][2]
print(f"ratio tandemd/nginx CPU per request: {ratio:.2f} (goal <= 0.80)")
print(f"ratio tandemd/nginx p99: {med['tandemd'][1] / med['nginx'][1]:.2f}")
PY
