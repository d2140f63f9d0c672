# SPDX-License-Identifier: MIT
# Driver for bench/replication.sh: two replicated clusters side by side (each a MariaDB
# primary + GTID replica, a Redis, two tandemd nodes), one with replica reads on and one
# primary-only ([database] replica_reads = false). Rounds alternate between them; each round
# runs wrk against both nodes of one cluster at once with a 90% GET / 10% PATCH folder mix.
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from api import cpu_ticks  # noqa: E402
from cluster_setup import ADMIN, cluster_config  # noqa: E402
from conftest import scrape_metrics  # noqa: E402
from mariadb import start_pair, stop_pair  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402
from redis_harness import Redis  # noqa: E402

MIX_LUA = r"""
local n = 0
local folder = os.getenv("BENCH_FOLDER")
local prefix = os.getenv("BENCH_PREFIX")
request = function()
  n = n + 1
  if n % 10 == 0 then
    local h = {}
    for k, v in pairs(wrk.headers) do h[k] = v end
    h["Content-Type"] = "application/json"
    return wrk.format("PATCH", "/api/v1/folders/" .. folder, h,
                      '{"title":"' .. prefix .. n .. '"}')
  end
  return wrk.format("GET", "/api/v1/folders/" .. folder)
end
"""


class Setup:
    """One replicated cluster with a logged-in session and one folder per node."""

    def __init__(self, workdir, replica_reads):
        self.name = "replica reads" if replica_reads else "primary only"
        self.primary, self.replica = start_pair()
        self.redis = Redis().start()
        extra = (f"read_url = {self.replica.url('configdb')}\n"
                 + cluster_config(self.redis.url) + "[log]\nlevel = warn\n"
                 + f"[database]\nreplica_reads = {'true' if replica_reads else 'false'}\n")
        self.c = Cluster(workdir, self.primary.url("configdb"), extra=extra)
        for route in ("OX-1", "OX-2"):
            self.c.start_node(route)
        c = self.c
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        db = c.json("registerdatabase", "-n", "db1", "--url", self.primary.url(""), "-m", "true")
        c.ok("registerdatabase", "-n", "db1r", "--url", self.replica.url(""), "-m", "false",
             "--masterid", str(db["id"]))
        c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
        c.ok("createuser", "-c", "1", "-u", "alice", "-d", "alice", "-g", "G", "-s", "S",
             "-p", "alice_pw", "-e", "alice@example.com")
        api = ApiClient(c.nodes[0].port)
        assert api.login("alice", "alice_pw")[0] == 200
        self.headers = [f"X-Session: {api.session}", "User-Agent: tandem-tests/1",
                        "Cookie: " + "; ".join(f"{k}={v}" for k, v in api.cookies.items())]
        self.folders = []
        for i in range(2):
            status, f, _ = api.request("POST", "/api/v1/folders",
                                       {"parent": 1, "title": f"bench{i}",
                                        "module": "calendar"})
            assert status == 201, f
            self.folders.append(f["id"])
        self.replica.wait_replica_caught_up()

    def counters(self):
        """User-database reads by replica/primary and GTID waits, summed over both nodes."""
        out = {"replica": 0.0, "primary": 0.0, "waits": 0.0, "wait_s": 0.0}
        for n in self.c.nodes:
            for key, value in scrape_metrics(n.port).items():
                if 'db="configdb"' in key or not key.startswith("tandem_db_"):
                    continue
                if key.startswith("tandem_db_reads_total"):
                    out["replica" if 'served="replica"' in key else "primary"] += value
                elif key.startswith("tandem_db_gtid_waits_total"):
                    out["waits"] += value
                elif key.startswith("tandem_db_gtid_wait_seconds_total"):
                    out["wait_s"] += value
        return out

    def stop(self):
        self.c.stop()
        self.redis.stop()
        stop_pair(self.primary, self.replica)


def parse_wrk(out):
    def ms(label):
        m = re.search(label + r"\s+([\d.]+)(us|ms|s)\b", out)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    bad = (int(non2xx.group(1)) if non2xx else 0) + \
        (sum(int(g) for g in errors.groups()) if errors else 0)
    return reqs, ms("50%"), ms("99%"), bad


def run_round(s, script, duration, conns):
    """wrk on both nodes at once; returns req/s, p50, p99 (worse node), CPU µs/request,
    replica share, GTID waits per read, mean wait ms, errors."""
    before = s.counters()
    ticks = sum(cpu_ticks(n.proc.pid) for n in s.c.nodes)
    procs = []
    for i, n in enumerate(s.c.nodes):
        env = dict(os.environ, BENCH_FOLDER=str(s.folders[i]), BENCH_PREFIX=f"n{i}-")
        argv = ["wrk", "-t1", f"-c{max(1, conns // 2)}", f"-d{duration}", "--latency",
                "-s", script]
        for h in s.headers:
            argv += ["-H", h]
        procs.append(subprocess.Popen(argv + [f"http://127.0.0.1:{n.port}/"], env=env,
                                      stdout=subprocess.PIPE, text=True))
    outs = [p.communicate()[0] for p in procs]
    ticks = sum(cpu_ticks(n.proc.pid) for n in s.c.nodes) - ticks
    after = s.counters()
    parsed = [parse_wrk(o) for o in outs]
    seconds = float(re.match(r"([\d.]+)", duration).group(1)) * (60 if duration.endswith("m")
                                                                   else 1)
    reqs = sum(p[0] for p in parsed)
    reads = (after["replica"] - before["replica"]) + (after["primary"] - before["primary"])
    waits = after["waits"] - before["waits"]
    return {
        "rps": reqs / seconds,
        "p50": max(p[1] for p in parsed),
        "p99": max(p[2] for p in parsed),
        "cpu_us": ticks / os.sysconf("SC_CLK_TCK") * 1e6 / max(reqs, 1),
        "share": (after["replica"] - before["replica"]) / reads if reads else 0.0,
        "waits": waits / reads if reads else 0.0,
        "wait_ms": (after["wait_s"] - before["wait_s"]) * 1e3 / waits if waits else 0.0,
        "errors": sum(p[3] for p in parsed),
    }


def main():
    rounds, duration, conns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    print(f"bench/replication.sh {rounds} {duration} {conns}: {rounds} rounds of {duration} per "
          f"mode, {conns} connections over 2 nodes, 90% GET / 10% PATCH of a folder", flush=True)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-repl-") as d:
        script = os.path.join(d, "mix.lua")
        with open(script, "w") as f:
            f.write(MIX_LUA)
        setups = []
        try:
            for on in (True, False):
                os.makedirs(os.path.join(d, str(on)))
                setups.append(Setup(os.path.join(d, str(on)), on))
            results = {s.name: [] for s in setups}
            for r in range(rounds):
                for s in setups:
                    res = run_round(s, script, duration, conns)
                    results[s.name].append(res)
                    print(f"round {r + 1} {s.name:14} {res['rps']:8.0f} req/s  p50 "
                          f"{res['p50']:6.2f} ms  p99 {res['p99']:6.2f} ms  "
                          f"{res['cpu_us']:6.0f} µs CPU/req  replica share "
                          f"{res['share'] * 100:5.1f}%  errors {res['errors']}", flush=True)
        finally:
            for s in setups:
                s.stop()
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
           for name, rs in results.items()}
    print("\nmedians            req/s   p50 ms   p99 ms  CPU µs/req  replica share  "
          "GTID waits/read  mean wait ms")
    for name, m in med.items():
        print(f"{name:14} {m['rps']:9.0f} {m['p50']:8.2f} {m['p99']:8.2f} {m['cpu_us']:11.0f} "
              f"{m['share'] * 100:13.1f}% {m['waits']:16.3f} {m['wait_ms']:13.2f}")
    on, off = med["replica reads"], med["primary only"]
    print(f"\nreplica reads / primary only: throughput {on['rps'] / off['rps']:.2f}x, "
          f"p99 {on['p99'] / off['p99']:.2f}x, CPU per request {on['cpu_us'] / off['cpu_us']:.2f}x")
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    if errors:
        print(f"FAILED: {errors} error responses or socket errors")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
