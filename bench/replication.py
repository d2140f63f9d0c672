# SPDX-License-Identifier: MIT
# Driver for bench/replication.sh: two replicated clusters side by side (each a MariaDB primary
# + GTID replica, a Redis and two tandemd nodes), one with replica reads on (the default) and one
# primary-only ([database] replica_reads = false). Rounds alternate between them; in each round
# CONNS clients (each its own session, folder and keep-alive connection to both nodes, spread over
# worker processes) run a 90% GET / 10% PATCH folder mix, alternating nodes request by request.
import http.client
import json
import multiprocessing
import os
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BUILD_FROM_ENV = os.environ.get("TANDEM_BUILD_DIR")
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from cluster_setup import ADMIN, cluster_config  # noqa: E402
from conftest import scrape_metrics  # noqa: E402
from mariadb import start_pair, stop_pair  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402
from redis_harness import Redis, require_redis  # noqa: E402

USAGE = "usage: bench/replication.sh [ROUNDS=3] [SECONDS=5] [CONNS=16]"
MODES = (("replica reads", True), ("primary only", False))
WARMUP_SECONDS = 1.0
REQUEST_TIMEOUT = 10.0  # a request slower than this counts as an error
MAX_PROCS = 64          # beyond this many clients, a worker process runs several in threads
USER_AGENT = "tandem-tests/1"
LABEL = re.compile(r'(\w+)="([^"]*)"')


def log(*args):
    print(*args, flush=True)


# --- one replicated cluster ------------------------------------------------------------------

class Setup:
    """A MariaDB pair, a Redis and two tandemd nodes; context 1 with user alice on the pair."""

    def __init__(self, name, replica_reads, workdir, conns, cleanup):
        self.name = name
        self.primary, self.replica = start_pair()
        cleanup.append((f"{name}: MariaDB pair",
                        lambda: stop_pair(self.primary, self.replica)))
        self.redis = Redis().start()
        cleanup.append((f"{name}: Redis", self.redis.stop))
        extra = (f"read_url = {self.replica.url('configdb')}\n"
                 + cluster_config(self.redis.url, session="max_per_user = 1000\n")
                 + "[log]\nlevel = warn\n")
        if not replica_reads:
            extra += "[database]\nreplica_reads = false\n"
        self.c = Cluster(workdir, self.primary.url("configdb"), extra=extra)
        for route in ("OX-1", "OX-2"):
            node = self.c.start_node(route)
            cleanup.append((f"{name}: tandemd {route}",
                            lambda n=node, r=route: self.stop_node(n, r)))
        c = self.c
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        db = c.json("registerdatabase", "-n", "db1", "--url", self.primary.url(""), "-m", "true")
        c.ok("registerdatabase", "-n", "db1r", "--url", self.replica.url(""), "-m", "false",
             "--masterid", str(db["id"]))
        c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
        c.ok("createuser", "-c", "1", "-u", "alice", "-d", "alice", "-g", "G", "-s", "S",
             "-p", "alice_pw", "-e", "alice@example.com")
        self.ports = [n.port for n in c.nodes]
        self.clients = [self.new_client(i) for i in range(conns)]
        self.replica.wait_replica_caught_up()

    def new_client(self, i):
        """A session of its own (logged in on node i % 2) and a folder of its own."""
        api = ApiClient(self.ports[i % 2], user_agent=USER_AGENT)
        status, body, _ = api.login("alice", "alice_pw")
        if status != 200:
            raise RuntimeError(f"{self.name}: login {i} answered {status}: {body}")
        title = f"c{i}-0"
        status, f, _ = api.request("POST", "/api/v1/folders",
                                   {"parent": 1, "title": title, "module": "calendar"})
        if status != 201:
            raise RuntimeError(f"{self.name}: creating folder {i} answered {status}: {f}")
        headers = {"User-Agent": USER_AGENT, "X-Session": api.session,
                   "Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())}
        return {"index": i, "ports": self.ports, "headers": headers, "folder": f["id"],
                "title": title}

    def stop_node(self, node, route):
        code = node.stop()
        if code != 0:
            raise RuntimeError(f"tandemd {route} exited with {code}:\n{node.stderr()[-2000:]}")

    def pids(self):
        return {"tandemd": [n.pid for n in self.c.nodes],
                "mariadbd": [self.primary.pid, self.replica.pid],
                "redis": [self.redis.pid]}

    def counters(self):
        """User-database counters (db != configdb) summed over both nodes."""
        out = {"replica": 0.0, "primary": 0.0, "waits": 0.0, "wait_s": 0.0,
               "lag": 0.0, "error": 0.0, "unknown": 0.0}
        for port in self.ports:
            for key, value in scrape_metrics(port).items():
                name, _, labels = key.partition("{")
                labels = dict(LABEL.findall(labels))
                if not name.startswith("tandem_db_") or labels.get("db", "configdb") == "configdb":
                    continue
                if name == "tandem_db_reads_total":
                    served = labels.get("served")
                    if served in ("replica", "primary"):
                        out[served] += value
                elif name == "tandem_db_primary_reads_total":
                    reason = labels.get("reason")
                    if reason in out:
                        out[reason] += value
                elif name == "tandem_db_gtid_waits_total":
                    out["waits"] += value
                elif name == "tandem_db_gtid_wait_seconds_total":
                    out["wait_s"] += value
        return out

    def log_problems(self):
        """tandemd warnings and errors (the nodes log at warn), first few lines per node."""
        lines = []
        for route, n in zip(("OX-1", "OX-2"), self.c.nodes):
            got = [x for x in n.stderr().splitlines() if x.strip()]
            if got:
                lines.append(f"{self.name}: tandemd {route} logged {len(got)} lines, e.g.:")
                lines += ["    " + x[:200] for x in got[:3]]
        return lines


def cpu_ticks(pid):
    """User + system ticks of one process (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def machine_ticks():
    """(busy, process, total) ticks of all CPUs since boot from /proc/stat: busy is all but
    idle and iowait, process is user + nice + system (what processes are charged with; irq and
    softirq time, e.g. loopback networking, is charged to none)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    total = sum(v[:8])  # guest time is already in user/nice
    return total - v[3] - v[4], v[0] + v[1] + v[2], total


# --- load ------------------------------------------------------------------------------------

def run_client(spec, start_at, end_at, res):
    """One client: a keep-alive connection per node, requests alternate between the nodes;
    every tenth request renames the folder, the others read it and check the title."""
    conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=REQUEST_TIMEOUT)
             for p in spec["ports"]]
    i = spec["index"]
    path = f"/api/v1/folders/{spec['folder']}"
    get_headers = spec["headers"]
    patch_headers = dict(get_headers, **{"Content-Type": "application/json"})
    title = spec["title"]
    n = 0
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    perf = time.perf_counter
    try:
        while time.monotonic() < end_at:
            n += 1
            conn = conns[(i + n) % 2]
            write = (i + n) % 10 == 0
            if write:
                new_title = f"c{i}-{n}"
                method, body, headers = "PATCH", json.dumps({"title": new_title}), patch_headers
            else:
                method, body, headers = "GET", None, get_headers
            t0 = perf()
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                res["errors"] += 1
                if write:
                    title = None  # the rename may or may not have happened
                if len(res["samples"]) < 5:
                    res["samples"].append(f"{method} port {conn.port}: {e!r}")
                continue
            ms = (perf() - t0) * 1e3
            if r.will_close:
                conn.close()
            if not 200 <= r.status < 300:
                res["errors"] += 1
                if len(res["samples"]) < 5:
                    res["samples"].append(f"{method} port {conn.port}: {r.status} "
                                          f"{data[:200]!r}")
            elif write:
                title = new_title
                res["writes"].append(ms)
            else:
                res["reads"].append(ms)
                got = json.loads(data).get("title")
                if title is not None and got != title:
                    res["stale"] += 1
                    if len(res["samples"]) < 5:
                        res["samples"].append(f"stale read on port {conn.port}: {got!r}, "
                                              f"{title!r} written before")
    finally:
        for conn in conns:
            conn.close()
        res["titles"][i] = title


def worker(specs, start_at, end_at, queue):
    """One process: its clients in threads (one client runs on the main thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us on Ctrl-C
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    res = {"reads": [], "writes": [], "errors": 0, "stale": 0, "samples": [], "titles": {}}
    lock = threading.Lock()

    def one(spec):
        mine = {"reads": [], "writes": [], "errors": 0, "stale": 0, "samples": [],
                "titles": {}}
        try:
            run_client(spec, start_at, end_at, mine)
        except Exception:
            mine["errors"] += 1
            mine["samples"].append(traceback.format_exc(limit=3))
        with lock:
            for k in ("reads", "writes", "samples"):
                res[k] += mine[k]
            res["errors"] += mine["errors"]
            res["stale"] += mine["stale"]
            res["titles"].update(mine["titles"])

    if len(specs) == 1:
        one(specs[0])
    else:
        threads = [threading.Thread(target=one, args=(s,)) for s in specs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    queue.put(res)


def load(setup, seconds):
    """All clients of a setup for `seconds`; returns the merged client results."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    nprocs = min(len(setup.clients), MAX_PROCS)
    groups = [setup.clients[k::nprocs] for k in range(nprocs)]
    start_at = time.monotonic() + 0.2 + 0.01 * nprocs
    end_at = start_at + seconds
    procs = [ctx.Process(target=worker, args=(g, start_at, end_at, queue), daemon=True)
             for g in groups]
    merged = {"reads": [], "writes": [], "errors": 0, "stale": 0, "samples": []}
    try:
        # SIGINT stays pending while we fork (the children ignore it), then interrupts us
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for p in procs:
                p.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        for _ in procs:
            left = end_at + REQUEST_TIMEOUT + 30 - time.monotonic()
            try:
                res = queue.get(timeout=max(left, 1.0))
            except Exception:
                merged["errors"] += 1
                merged["samples"].append("a client process gave no result in time")
                break
            for k in ("reads", "writes", "samples"):
                merged[k] += res[k]
            merged["errors"] += res["errors"]
            merged["stale"] += res["stale"]
            for i, title in res["titles"].items():  # the next round checks reads against it
                setup.clients[i]["title"] = title
    finally:
        for p in procs:
            if p.pid is not None:
                p.join(timeout=5)
                if p.is_alive():
                    p.terminate()
                    p.join()
    return merged


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def run_round(s, seconds):
    """One measured round on one setup."""
    before = s.counters()
    pids = s.pids()
    ticks = {k: sum(cpu_ticks(p) for p in v) for k, v in pids.items()}
    client0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, proc0, total0 = machine_ticks()
    res = load(s, seconds)
    busy1, proc1, total1 = machine_ticks()
    client1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ticks = {k: sum(cpu_ticks(p) for p in v) - ticks[k] for k, v in pids.items()}
    after = s.counters()
    d = {k: after[k] - before[k] for k in after}
    reqs = len(res["reads"]) + len(res["writes"])
    reads = d["replica"] + d["primary"]
    hz = os.sysconf("SC_CLK_TCK")
    client_cpu = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
    return {
        "rps": reqs / seconds,
        "r50": pct(res["reads"], 50), "r99": pct(res["reads"], 99),
        "w50": pct(res["writes"], 50), "w99": pct(res["writes"], 99),
        "share": d["replica"] / reads if reads else 0.0,
        "waits": d["waits"] / reads if reads else 0.0,
        "wait_ms": d["wait_s"] * 1e3 / d["waits"] if d["waits"] else 0.0,
        "lag": d["lag"], "error": d["error"], "unknown": d["unknown"], "dbreads": reads,
        "tandemd_us": ticks["tandemd"] / hz * 1e6 / max(reqs, 1),
        "mariadb_us": ticks["mariadbd"] / hz * 1e6 / max(reqs, 1),
        "redis_us": ticks["redis"] / hz * 1e6 / max(reqs, 1),
        "client_pct": client_cpu / (seconds * (os.cpu_count() or 1)) * 100,
        # everything else on the machine meanwhile (other clusters, other jobs): noise
        "other_pct": max(0.0, (proc1 - proc0) - sum(ticks.values()) - client_cpu * hz)
        / max(total1 - total0, 1) * 100,
        "busy_pct": (busy1 - busy0) / max(total1 - total0, 1) * 100,
        "reqs": reqs, "errors": res["errors"], "stale": res["stale"],
        "samples": res["samples"],
    }


# --- report ----------------------------------------------------------------------------------

def round_line(r, name, res):
    return (f"round {r} {name:13} {res['rps']:7.0f} req/s  read p50/p99 {res['r50']:6.2f}/"
            f"{res['r99']:6.2f} ms  write p50/p99 {res['w50']:6.2f}/{res['w99']:6.2f} ms  "
            f"replica {res['share'] * 100:5.1f}%  waits/read {res['waits']:.3f} "
            f"({res['wait_ms']:.2f} ms)  primary lag/error/unknown {res['lag']:.0f}/"
            f"{res['error']:.0f}/{res['unknown']:.0f}  CPU busy {res['busy_pct']:3.0f}% (client "
            f"{res['client_pct']:.0f}%, other {res['other_pct']:.0f}%)  "
            f"errors {res['errors']}  stale {res['stale']}")


def report(results, rounds, seconds, conns, command):
    med = {name: {k: statistics.median(r[k] for r in rs) for k in
                  ("rps", "r50", "r99", "w50", "w99", "share", "waits", "wait_ms",
                   "tandemd_us", "mariadb_us", "redis_us", "client_pct", "other_pct",
                   "busy_pct")}
           for name, rs in results.items()}
    tot = {name: {k: sum(r[k] for r in rs) for k in ("reqs", "errors", "stale")}
           for name, rs in results.items()}
    log(f"\nmedians of {rounds} rounds x {seconds:g} s, {conns} clients over 2 nodes, "
        "90% GET / 10% PATCH folder (latency in ms):")
    log(f"{'mode':13} {'req/s':>7} {'read p50':>9} {'read p99':>9} {'write p50':>10} "
        f"{'write p99':>10} {'replica share':>14} {'GTID waits/read':>16} "
        f"{'mean wait ms':>13} {'errors':>7}")
    for name, m in med.items():
        log(f"{name:13} {m['rps']:7.0f} {m['r50']:9.2f} {m['r99']:9.2f} {m['w50']:10.2f} "
            f"{m['w99']:10.2f} {m['share'] * 100:13.1f}% {m['waits']:16.3f} "
            f"{m['wait_ms']:13.2f} {tot[name]['errors']:7d}")
    log(f"\n{'mode':13} {'tandemd CPU':>12} {'MariaDB CPU':>12} {'Redis CPU':>10} "
        f"{'machine busy':>13} {'client CPU':>11} {'other CPU':>10} {'requests':>9} "
        f"{'stale reads':>12}")
    log(f"{'':13} {'µs/req':>12} {'µs/req':>12} {'µs/req':>10} {f'% of {os.cpu_count()} CPUs':>13}"
        f" {'%':>11} {'%':>10}")
    for name, m in med.items():
        log(f"{name:13} {m['tandemd_us']:12.0f} {m['mariadb_us']:12.0f} {m['redis_us']:10.0f} "
            f"{m['busy_pct']:12.0f}% {m['client_pct']:10.0f}% {m['other_pct']:9.0f}% "
            f"{tot[name]['reqs']:9d} {tot[name]['stale']:12d}")
    on, off = med["replica reads"], med["primary only"]

    def ratio(a, b):
        return f"{a / b:.2f}x" if b else "n/a"
    log(f"\nreplica reads / primary only: throughput {ratio(on['rps'], off['rps'])}, "
        f"read p99 {ratio(on['r99'], off['r99'])}, write p99 {ratio(on['w99'], off['w99'])}")
    log(f"command: {command}")
    errors = sum(t["errors"] for t in tot.values())
    stale = sum(t["stale"] for t in tot.values())
    if errors or stale:
        log(f"FAILED: {errors} failed requests (non-2xx, connection errors or timeouts), "
            f"{stale} stale reads")
        for name, rs in results.items():
            for s in [x for r in rs for x in r["samples"]][:5]:
                log(f"  {name}: {s}")
        return 1
    return 0


def parse_args(argv):
    if any(a in ("-h", "--help") for a in argv):
        log(USAGE)
        sys.exit(0)
    try:
        rounds = int(argv[0]) if len(argv) > 0 else 3
        seconds = float(argv[1].rstrip("s")) if len(argv) > 1 else 5.0
        conns = int(argv[2]) if len(argv) > 2 else 16
    except ValueError:
        rounds, seconds, conns = 0, 0.0, 0
    if len(argv) > 3 or rounds < 1 or not 0 < seconds <= 600 or not 1 <= conns <= 1000:
        print(USAGE + "\n(ROUNDS >= 1, 0 < SECONDS <= 600, 1 <= CONNS <= 1000)", file=sys.stderr)
        sys.exit(2)
    return rounds, seconds, conns


def main():
    rounds, seconds, conns = parse_args(sys.argv[1:])
    command = (f"TANDEM_BUILD_DIR={BUILD_FROM_ENV} " if BUILD_FROM_ENV else "") + \
        f"bench/replication.sh {rounds} {seconds:g} {conns}"
    log(f"{command}: {rounds} rounds x {seconds:g} s per mode, interleaved, {conns} clients "
        "(own session, folder and keep-alive connections) over 2 nodes, 90% GET / 10% PATCH")
    require_redis()
    # SIGTERM unwinds like Ctrl-C so everything started below is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="tandem-bench-repl-")
    cleanup = []
    setups = []
    problems = []
    status = 1
    try:
        for name, on in MODES:
            t0 = time.monotonic()
            d = os.path.join(workdir, "on" if on else "off")
            os.makedirs(d)
            setups.append(Setup(name, on, d, conns, cleanup))
            log(f"{name}: cluster up in {time.monotonic() - t0:.1f} s "
                f"(nodes on ports {setups[-1].ports[0]}, {setups[-1].ports[1]})")
        for s in setups:  # warm-up: pools, caches, replica positions
            res = load(s, WARMUP_SECONDS)
            if res["errors"] or res["stale"]:
                problems.append(f"{s.name}: warm-up had {res['errors']} failed requests, "
                                f"{res['stale']} stale reads: {res['samples'][:3]}")
        results = {s.name: [] for s in setups}
        for r in range(1, rounds + 1):
            for s in setups:
                res = run_round(s, seconds)
                results[s.name].append(res)
                log(round_line(r, s.name, res))
        status = report(results, rounds, seconds, conns, command)
        if problems:
            status = 1
        for s in setups:
            problems += s.log_problems()
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        for what, stop in reversed(cleanup):
            try:
                stop()
            except BaseException as e:  # keep stopping the rest
                problems.append(f"stopping {what}: {e}")
                status = status or 1
        shutil.rmtree(workdir, ignore_errors=True)
    for p in problems:
        log(p)
    return status


if __name__ == "__main__":
    sys.exit(main())
