# SPDX-License-Identifier: MIT
# Driver for bench/lb.sh: tandem-lb, HAProxy, nginx and Apache mod_proxy_balancer side by side in
# front of the same two tandemd nodes, all sticky by the JSESSIONID route.
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BUILD = os.environ.get("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))
TANDEMD = os.path.join(BUILD, "src", "tandemd", "tandemd")
TANDEM_LB = os.path.join(BUILD, "src", "tandem-lb", "tandem-lb")

import peers  # noqa: E402

ROUTES = ("OX-1", "OX-2")
PATH = "/health"  # answered on tandemd's loop thread: the cheapest request a node serves
COOKIE = "JSESSIONID=x.OX-1"
HZ = os.sysconf("SC_CLK_TCK")


def start_node(d, route):
    """A tandemd on embedded defaults with route; GET /health answers with that route."""
    nd = os.path.join(d, route)
    os.makedirs(nd)
    port = peers.free_port()
    conf = os.path.join(nd, "tandemd.ini")
    with open(conf, "w") as f:
        f.write(f"[server]\nroute = {route}\nlisten = 127.0.0.1:{port}\nio_threads = 1\n"
                f"workers = 2\ndata_dir = {nd}/data\n[log]\nlevel = warn\n")
    return peers.Peer(route, [TANDEMD, "--config", conf], port, nd)


def start_tandem_lb(d, members):
    """tandem-lb with one loop thread, or (None, why) when it cannot run (yet)."""
    if not os.access(TANDEM_LB, os.X_OK):
        return None, f"{TANDEM_LB} is not built"
    ld = os.path.join(d, "tandem-lb")
    os.makedirs(ld)
    port = peers.free_port()
    # wrk and the idle connections all come from one address, and the peers have no cap
    text = (f"[listen]\naddress = 127.0.0.1:{port}\nthreads = 1\n"
            f"max_connections_per_source = 1000000\n[balancer]\nhealth_interval = 1s\n")
    for route, host, mport in members:
        text += f"[member {route}]\nurl = http://{host}:{mport}\nloadfactor = 50\n"
    conf = os.path.join(ld, "tandem-lb.ini")
    with open(conf, "w") as f:
        f.write(text + "[log]\nlevel = warn\n")
    try:
        return peers.Peer("tandem-lb", [TANDEM_LB, "--config", conf], port, ld, timeout=5), None
    except RuntimeError as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        return None, " ".join([lines[0].replace(TANDEM_LB, "tandem-lb")] + lines[1:][-2:])


def health_route(port, route):
    """(status, route in the body) of GET /health with the cookie for route."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{PATH}",
                                 headers={"Cookie": f"JSESSIONID=x.{route}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError as e:
        return str(e), None
    m = re.search(r'"route":"([^"]*)"', body)
    return status, m.group(1) if m else None


def sticky_problem(port):
    """None if every route's cookie reaches that route's node, else what went wrong."""
    for route in ROUTES:
        for _ in range(4):
            status, got = health_route(port, route)
            if status != 200 or got != route:
                return f"GET {PATH} with JSESSIONID=x.{route} answered {status} from {got}"
    return None


def latency_ms(out, label):
    m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def wrk_stats(out):
    """requests, req/s, p50 and p99 (ms) and errors (non-2xx/3xx answers and socket errors)
    of wrk --latency output."""
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return {"reqs": reqs, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency_ms(out, "50%"), "p99": latency_ms(out, "99%"), "errors": errors}


def run_wrk(port, pid, duration, conns):
    before = peers.cpu_ticks(pid)
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{duration}", "--latency",
                          "-H", f"Cookie: {COOKIE}", f"http://127.0.0.1:{port}{PATH}"],
                         capture_output=True, text=True, check=True).stdout
    after = peers.cpu_ticks(pid)
    x = wrk_stats(out)
    x["us"] = (after - before) / HZ * 1e6 / max(x["reqs"], 1)
    return x


def pss_kib(pid):
    total = 0
    for p in peers.descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))


def idle_memory(port, pid, n):
    """Bytes of RSS and PSS (the process and its children) per idle keep-alive client
    connection: n connections each make one request and stay open."""
    request = (f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {COOKIE}\r\n\r\n").encode()
    time.sleep(1.0)
    rss0, pss0 = peers.rss_kib(pid), pss_kib(pid)
    socks, failed = [], None
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(s)
            try:
                s.sendall(request)
                read_response(s)
            except OSError as e:
                failed = f"connection {len(socks)}: {e}"
                socks.pop().close()
                break
        time.sleep(1.0)
        rss1, pss1 = peers.rss_kib(pid), pss_kib(pid)
    finally:
        for s in socks:
            s.close()
    k = max(len(socks), 1)
    return {"rss": (rss1 - rss0) * 1024 / k, "pss": (pss1 - pss0) * 1024 / k,
            "open": len(socks), "failed": failed}


def main():
    sys.stdout.reconfigure(line_buffering=True)
    rounds, duration, conns, idle = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                     int(sys.argv[4]))
    with tempfile.TemporaryDirectory(prefix="tandem-bench-lb-") as d:
        started = []
        try:
            nodes = [start_node(d, r) for r in ROUTES]
            started += nodes
            members = [(r, "127.0.0.1", n.port) for r, n in zip(ROUTES, nodes)]
            lbs = []
            tlb, why = start_tandem_lb(d, members)
            if tlb is None:
                print(f"tandem-lb: skipped, it does not run yet ({why})")
            else:
                started.append(tlb)
                lbs.append(tlb)
            # one thread or worker each, like tandem-lb; Apache's threads are summed
            for name, start in (("haproxy", lambda: peers.start_haproxy(d, members, threads=1)),
                                ("nginx", lambda: peers.start_nginx(d, members, workers=1)),
                                ("apache", lambda: peers.start_apache(
                                    d, members, paths=peers.APACHE_PATHS + (PATH,),
                                    servers=1, threads=64, server_limit=8))):
                why = peers.missing("apache2" if name == "apache" else name)
                if why:
                    print(f"{name}: skipped, {why}")
                    continue
                lb = start()
                started.append(lb)
                lbs.append(lb)
            for lb in list(lbs):
                problem = sticky_problem(lb.port)
                if problem:
                    print(f"{lb.name}: skipped, not sticky by route: {problem}")
                    lbs.remove(lb)
            if not lbs:
                sys.exit("no balancer to measure")
            print(f"{len(lbs)} balancers, 2 tandemd backends, GET {PATH} with Cookie: {COOKIE}, "
                  f"wrk -t1 -c{conns} -d{duration}, {rounds} interleaved rounds")

            for lb in lbs:  # warm-up
                run_wrk(lb.port, lb.pid, "1s", conns)
            results = {lb.name: [] for lb in lbs}
            for r in range(rounds):
                for lb in lbs:
                    x = run_wrk(lb.port, lb.pid, duration, conns)
                    results[lb.name].append(x)
                    err = f"  ERRORS {x['errors']}" if x["errors"] else ""
                    print(f"{lb.name:9s} round {r + 1}: {x['rps']:9.0f} req/s  "
                          f"p50 {x['p50']:6.3f} ms  p99 {x['p99']:6.3f} ms  "
                          f"CPU {x['us']:6.1f} us/request{err}")
            mem = {lb.name: idle_memory(lb.port, lb.pid, idle) for lb in lbs}
        finally:
            for p in reversed(started):
                p.stop()

    med = {name: {k: statistics.median(x[k] for x in rows) for k in ("rps", "p50", "p99", "us")}
           for name, rows in results.items()}
    print()
    print(f"{'median':9s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'CPU us/req':>11s} "
          f"{'idle conn RSS B':>16s} {'PSS B':>8s}")
    for name, m in med.items():
        im = mem[name]
        note = f"  (only {im['open']} of {idle} opened: {im['failed']})" if im["failed"] else ""
        print(f"{name:9s} {m['rps']:9.0f} {m['p50']:8.3f} {m['p99']:8.3f} {m['us']:11.1f} "
              f"{im['rss']:16.0f} {im['pss']:8.0f}{note}")
    print()
    for ref in ("haproxy", "apache"):
        if ref not in med:
            continue
        for name, m in med.items():
            if name == ref:
                continue
            ref_rss = mem[ref]["rss"]
            idle_ratio = f"{mem[name]['rss'] / ref_rss:.2f}" if ref_rss > 0 else "n/a"
            print(f"ratio {name}/{ref}: CPU per request {m['us'] / med[ref]['us']:.2f}, "
                  f"p99 {m['p99'] / med[ref]['p99']:.2f}, "
                  f"req/s {m['rps'] / med[ref]['rps']:.2f}, idle connection RSS {idle_ratio}")
    if "tandem-lb" not in med:
        print("(tandem-lb not measured: run again once its proxy runs)")


if __name__ == "__main__":
    main()
