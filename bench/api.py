# SPDX-License-Identifier: MIT
# Driver for bench/api.sh.
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from conftest import free_port, wait_listening  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402


def cpu_ticks(pid):
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        if int(d) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


def wrk(url, headers, duration, conns, pid):
    before = cpu_ticks(pid)
    argv = ["wrk", "-t2", f"-c{conns}", f"-d{duration}", "--latency"]
    for h in headers:
        argv += ["-H", h]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    after = cpu_ticks(pid)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses")
    us = (after - before) / os.sysconf("SC_CLK_TCK") * 1e6 / reqs
    return rps, p99_ms, us


def main():
    rounds, duration, conns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with tempfile.TemporaryDirectory(prefix="tandem-bench-api-") as d:
        # BENCH_ACCESS_LOG=1: with the access log on ([log] access), to measure its cost
        access = f"access = {d}/access.log\n" if os.environ.get("BENCH_ACCESS_LOG") else ""
        c = Cluster(d, f"sqlite://{d}/configdb.sqlite", extra=f"[log]\nlevel = warn\n{access}")
        node = c.start_node()
        nginx = None
        try:
            c.ok("registerfilestore", "-t", f"file://{d}/fs")
            c.ok("registerdatabase", "-n", "db", "--url", f"sqlite://{d}/udb/", "-m", "true")
            c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", "-u", "admin",
                 "-d", "A", "-g", "A", "-s", "A", "-p", "pw", "-e", "a@example.com")
            c.ok("createuser", "-c", "1", "-u", "alice", "-d", "Alice", "-g", "A", "-s", "A",
                 "-p", "alice_pw", "-e", "alice@example.com")
            api = ApiClient(node.port)
            assert api.login("alice", "alice_pw")[0] == 200
            status, folders, _ = api.request("GET", "/api/v1/folders?parent=4")
            myfiles = [f for f in folders["folders"] if f["module"] == "infostore"][0]["id"]
            payload = os.urandom(4096)
            status, f, _ = api.request("PUT", f"/api/v1/files?folder={myfiles}&name=small.bin",
                                       raw=payload)
            assert status in (200, 201), f
            fid = f["id"]
            headers = [f"X-Session: {api.session}", "User-Agent: tandem-tests/1",
                       "Cookie: " + "; ".join(f"{k}={v}" for k, v in api.cookies.items())]

            # nginx serving the same 4 KiB file from disk, one worker like the reference run
            os.makedirs(f"{d}/nginx/logs")
            with open(f"{d}/nginx/small.bin", "wb") as out:
                out.write(payload)
            nport = free_port()
            with open(f"{d}/nginx/nginx.conf", "w") as conf:
                conf.write(f"user root; worker_processes 2; daemon off; pid {d}/nginx/nginx.pid;\n"
                           f"error_log {d}/nginx/logs/error.log warn;\n"
                           "events { worker_connections 4096; }\n"
                           f"http {{ access_log off; sendfile on; server {{ listen 127.0.0.1:"
                           f"{nport}; root {d}/nginx; }} }}\n")
            nginx = subprocess.Popen(["nginx", "-c", f"{d}/nginx/nginx.conf", "-p",
                                      f"{d}/nginx"])
            wait_listening(nport, nginx)

            cases = [
                ("folders", f"http://127.0.0.1:{node.port}/api/v1/folders?parent=4", headers,
                 node.pid),
                ("download", f"http://127.0.0.1:{node.port}/api/v1/files/{fid}/content",
                 headers, node.pid),
                ("nginx-file", f"http://127.0.0.1:{nport}/small.bin", [], nginx.pid),
            ]
            results = {name: [] for name, *_ in cases}
            for name, url, h, pid in cases:  # warm-up
                wrk(url, h, "1s", conns, pid)
            for r in range(rounds):
                for name, url, h, pid in cases:
                    rps, p99, us = wrk(url, h, duration, conns, pid)
                    results[name].append((rps, p99, us))
                    print(f"{name:10s} round {r + 1}: {rps:9.0f} req/s  p99 {p99:7.2f} ms  "
                          f"CPU {us:6.1f} us/request")
            print()
            med = {}
            for name, rows in results.items():
                med[name] = tuple(statistics.median(x[i] for x in rows) for i in range(3))
                print(f"median {name:10s} {med[name][0]:9.0f} req/s  p99 {med[name][1]:7.2f} ms"
                      f"  CPU {med[name][2]:6.1f} us/request")
            print(f"download CPU per request vs nginx static file: "
                  f"{med['download'][2] / med['nginx-file'][2]:.2f}x")
        finally:
            if nginx is not None:
                nginx.terminate()
                nginx.wait()
            c.stop()


if __name__ == "__main__":
    main()
