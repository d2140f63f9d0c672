# SPDX-License-Identifier: MIT
# Driver for bench/cluster.sh.
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from api import wrk  # noqa: E402
import provisioning  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402
from redis_harness import Redis  # noqa: E402

BUILD = os.environ["TANDEM_BUILD_DIR"]
# Optional: an earlier build (e.g. of the last release) measured side by side in (b).
BASELINE = os.environ.get("TANDEM_BASELINE_BUILD_DIR")


def provision(c, d):
    c.ok("registerfilestore", "-t", f"file://{d}/fs")
    c.ok("registerdatabase", "-n", "db", "--url", f"sqlite://{d}/udb/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", "-u", "admin",
         "-d", "A", "-g", "A", "-s", "A", "-p", "pw", "-e", "a@example.com")
    for name in ("alice", "bob"):
        c.ok("createuser", "-c", "1", "-u", name, "-d", name, "-g", "A", "-s", "A",
             "-p", f"{name}_pw", "-e", f"{name}@example.com")


def login(port, name):
    api = ApiClient(port)
    st, body, _ = api.login(name, f"{name}_pw")
    assert st == 200, body
    api.uid = body["user_id"]
    return api


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return 0.0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def visibility(c, changes):
    n1, n2 = c.nodes
    alice, bob = login(n1.port, "alice"), login(n2.port, "bob")
    st, f, _ = alice.request("POST", "/api/v1/folders",
                             {"parent": 4, "title": "Bench", "module": "infostore"})
    folder = f["id"]
    grant = [{"entity": bob.uid, "group": False, "bits": 257}]
    path = f"/api/v1/files?folder={folder}"
    lat, polls = [], 0
    waits0 = metric(n2.port, "tandem_inval_stream_fence_waits_total")
    wait_s0 = metric(n2.port, "tandem_inval_stream_fence_wait_seconds_total")
    for i in range(changes):
        perms, want = (grant, 200) if i % 2 == 0 else ([], 404)
        st, body, _ = alice.request("PATCH", f"/api/v1/folders/{folder}", {"permissions": perms})
        assert st == 200, body
        t0 = time.perf_counter()
        while True:
            polls += 1
            if bob.request("GET", path)[0] == want:
                break
        lat.append((time.perf_counter() - t0) * 1000)
    waits = metric(n2.port, "tandem_inval_stream_fence_waits_total") - waits0
    wait_s = metric(n2.port, "tandem_inval_stream_fence_wait_seconds_total") - wait_s0
    print(f"(a) permission change on node 1 -> seen on node 2, {changes} changes:")
    print(f"    p50 {pct(lat, 50):.2f} ms  p99 {pct(lat, 99):.2f} ms  max {max(lat):.2f} ms  "
          f"(requests on node 2 per change: {polls / changes:.2f}; goal p99 <= 100 ms)")
    print(f"    node 2 fences that waited for its stream reader: {waits:.0f}, "
          f"mean wait {wait_s / waits * 1000 if waits else 0:.2f} ms")


def validation(d, redis, rounds, duration):
    """The same GET /api/v1/session on a node with the memory store and one with Redis (and
    the same two of the baseline build, when one is given)."""
    results = {}
    nodes = {}
    variants = [("memory", BUILD), ("redis", BUILD)]
    if BASELINE:
        variants += [("memory@base", BASELINE), ("redis@base", BASELINE)]
    for store, build in variants:
        sd = os.path.join(d, store)
        os.makedirs(sd)
        url = redis.url if store.startswith("redis") else "memory"
        c = Cluster(sd, f"sqlite://{sd}/configdb.sqlite",
                    extra=f"[log]\nlevel = warn\n[cluster]\nname = b{store.replace('@', '')}\n"
                          f"store = {url}\n")
        own = provisioning.TANDEMD
        provisioning.TANDEMD = os.path.join(build, "src", "tandemd", "tandemd")
        try:
            c.start_node("OX-1")
        finally:
            provisioning.TANDEMD = own
        provision(c, sd)
        api = login(c.nodes[0].port, "alice")
        headers = [f"X-Session: {api.session}", "User-Agent: tandem-tests/1",
                   "Cookie: " + "; ".join(f"{k}={v}" for k, v in api.cookies.items())]
        nodes[store] = (c, f"http://127.0.0.1:{c.nodes[0].port}/api/v1/session", headers)
        results[store] = []
    try:
        for store, (c, url, headers) in nodes.items():  # warm-up
            wrk(url, headers, "1s", 50, c.nodes[0].pid)
        for r in range(rounds):
            for store, (c, url, headers) in nodes.items():
                before = redis_cpu(redis)
                rps, p99, us = wrk(url, headers, duration, 50, c.nodes[0].pid)
                reqs = rps * float(duration.rstrip("s"))
                rus = (redis_cpu(redis) - before) / os.sysconf("SC_CLK_TCK") * 1e6 / reqs \
                    if store.startswith("redis") else 0.0
                results[store].append((rps, p99, us, rus))
                print(f"    {store:11s} round {r + 1}: {rps:8.0f} req/s  p99 {p99:6.2f} ms  "
                      f"tandemd {us:5.1f} us/req  redis-server {rus:5.1f} us/req")
    finally:
        for c, _, _ in nodes.values():
            c.stop()
    med = {s: [statistics.median(x[i] for x in rows) for i in range(4)]
           for s, rows in results.items()}
    for s, (rps, p99, us, rus) in med.items():
        print(f"    median {s:11s} {rps:8.0f} req/s  p99 {p99:6.2f} ms  tandemd {us:5.1f} us  "
              f"redis-server {rus:5.1f} us per request")
    print(f"    Redis store vs memory store: tandemd CPU {med['redis'][2] / med['memory'][2]:.2f}x,"
          f" p99 {med['redis'][1] / med['memory'][1]:.2f}x")
    for store in ("memory", "redis") if BASELINE else ():
        new, base = med[store], med[store + "@base"]
        print(f"    {store} store, this build vs baseline: tandemd CPU {new[2] / base[2]:.2f}x, "
              f"p99 {new[1] / base[1]:.2f}x, req/s {new[0] / base[0]:.2f}x"
              + (f", redis-server CPU {new[3] / base[3]:.2f}x" if store == "redis" else ""))


def redis_cpu(redis):
    with open(f"/proc/{redis.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def memory(redis, sessions):
    tool = os.path.join(BUILD, "src", "lib-cluster", "bench-session-memory")
    out = subprocess.run([tool, str(redis.port), str(sessions)], capture_output=True, text=True,
                         check=True).stdout
    print(f"(c) {out.strip()}  (goal < 1024 bytes)")


def main():
    changes, rounds, duration, sessions = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                           int(sys.argv[4]))
    with tempfile.TemporaryDirectory(prefix="tandem-bench-cluster-") as d:
        redis = Redis().start()
        try:
            c = Cluster(d, f"sqlite://{d}/configdb.sqlite",
                        extra=f"[log]\nlevel = warn\n[session]\ncookie_salt = bench\n"
                              f"[cluster]\nname = bench\nstore = {redis.url}\n")
            c.start_node("OX-1")
            c.start_node("OX-2")
            try:
                provision(c, d)
                visibility(c, changes)
            finally:
                c.stop()
            print("(b) session validation, GET /api/v1/session, wrk -t2 -c50:")
            validation(d, redis, rounds, duration)
            memory(redis, sessions)
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
