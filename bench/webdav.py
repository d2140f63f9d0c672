# SPDX-License-Identifier: MIT
# Driver for bench/webdav.sh: tandemd's WebDAV beside Apache mod_dav and nginx with dav-ext,
# the same tree in each, the same wrk client, interleaved rounds; or (mode "memory") the
# server's RSS during one PROPFIND depth 1 of a folder with 100,000 empty files.
import base64
import hashlib
import http.client
import os
import pwd
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

import peers  # noqa: E402
from davpeers import start_tandem_node  # noqa: E402
from lb import wrk_stats  # noqa: E402
from provisioning import ApiClient  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
MANY = 1000  # files in the PROPFIND folder
HUGE = 100000  # files in the memory check's folder
SMALL, LARGE = 4096, 1 << 20
ALLPROP = ('<?xml version="1.0" encoding="utf-8"?>\n'
           '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>\n')
NGINX_DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"
APACHE_DAV_MODULES = ("mpm_event", "authn_core", "authn_file", "auth_basic", "authz_core",
                      "authz_user", "dav", "dav_fs")
# What a node answers while it has no DAV handler (or no such method on the path).
NOT_AVAILABLE = (404, 405, 501)

# op: (method, path below the target's prefix, request body: None, bytes or a Lua expression)
OPS = {
    "propfind": ("PROPFIND", "many/", None),
    "get-4k": ("GET", "get-4k.bin", None),
    "get-1m": ("GET", "get-1m.bin", None),
    "put-4k": ("PUT", "put-4k.bin", f'string.rep("p", {SMALL})'),
    "put-1m": ("PUT", "put-1m.bin", f'string.rep("p", {LARGE})'),
}


# WEBDAV_OPS=get-4k,put-1m and WEBDAV_TARGETS=tandem,apache narrow a run (comma lists).
if os.environ.get("WEBDAV_OPS"):
    _want = os.environ["WEBDAV_OPS"].split(",")
    _bad = [o for o in _want if o not in OPS]
    if _bad:
        sys.exit(f"webdav.sh: WEBDAV_OPS names unknown operations {_bad}; known: {list(OPS)}")
    OPS = {o: OPS[o] for o in _want}


class Unavailable(Exception):
    """A target that cannot be measured (yet): the message says why."""


@dataclass
class Server:
    """A started target. prefix is the URL path of the bench tree (ends with /); put(path,
    data) and mkdir(path) fill it, path relative to prefix; pids are measured with their
    descendants."""
    port: int
    prefix: str
    user: str
    password: str
    pids: list
    put: Callable
    mkdir: Callable
    stop: Callable

    def auth(self):
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def request(self, method, path, body=None, headers=None, timeout=120):
        """(status, body); a header given as None is left out."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = {"Authorization": self.auth(), **(headers or {})}
            conn.request(method, self.prefix + path, body=body,
                         headers={k: v for k, v in h.items() if v is not None})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def propfind(self, path):
        return self.request("PROPFIND", path, ALLPROP.encode(),
                            {"Depth": "1", "Content-Type": "application/xml"})


@dataclass
class Target:
    name: str
    start: Callable  # start(workdir) -> Server, or raises Unavailable


# ------------------------------------------------------------------------------- peers

def htpasswd(path, user, password):
    """One {SHA} entry (Apache and nginx both read it): one SHA-1 per request, about what a
    cached credential check costs, so the table measures DAV and not htpasswd's default
    1,000 MD5 rounds that Tandem's cache avoids."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    with open(path, "w") as f:
        f.write(f"{user}:{{SHA}}{digest}\n")


def disk_tree(data, owner=None):
    """put/mkdir callables that write below data, owned by owner (a uid) when given."""
    def fix(p):
        if owner is not None:
            os.chown(p, owner, owner)

    def put(path, content):
        p = os.path.join(data, path)
        with open(p, "wb") as f:
            f.write(content)
        fix(p)

    def mkdir(path):
        p = os.path.join(data, path)
        os.makedirs(p, exist_ok=True)
        fix(p)

    return put, mkdir


def start_apache(workdir):
    if peers.missing("apache2"):
        raise Unavailable(peers.missing("apache2"))
    d = os.path.join(workdir, "apache")
    env = peers.apache_env(d)
    for key in ("APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"):
        os.makedirs(env[key], exist_ok=True)
    data = os.path.join(d, "htdocs", "dav")
    os.makedirs(data)
    os.makedirs(os.path.join(d, "davlock"))
    uid = pwd.getpwnam(env["APACHE_RUN_USER"]).pw_uid
    for p in (data, os.path.join(d, "davlock")):  # mod_dav_fs writes as the run user
        os.chown(p, uid, uid)
    htpasswd(os.path.join(d, "htpasswd"), "bench", "bench-pw")
    front = f"""\
DocumentRoot {d}/htdocs
# like nginx's "sendfile on" (Apache's default is off)
EnableSendfile On
DavLockDB {d}/davlock/lockdb
<Directory {data}>
    Dav On
    Options None
    AllowOverride None
    AuthType Basic
    AuthName bench
    AuthBasicProvider file
    AuthUserFile {d}/htpasswd
    Require valid-user
</Directory>
"""
    port = peers.free_port()
    conf = os.path.join(d, "apache2.conf")
    with open(conf, "w") as f:
        # like api.py's nginx: two processes for the two cores, threads enough for wrk
        f.write(peers.apache_config(port, front, threads=32, servers=2, server_limit=4,
                                    modules=APACHE_DAV_MODULES))
    peer = peers.Peer("apache", [peers.binary("apache2"), "-f", conf, "-DFOREGROUND"], port, d,
                      env=env)
    put, mkdir = disk_tree(data, uid)
    return Server(port, "/dav/", "bench", "bench-pw", [peer.pid], put, mkdir, peer.stop)


def start_nginx(workdir):
    if peers.missing("nginx"):
        raise Unavailable(peers.missing("nginx"))
    if not os.path.exists(NGINX_DAV_EXT):
        raise Unavailable(f"{NGINX_DAV_EXT} is missing (scripts/deps.sh bench installs "
                          "nginx-extras)")
    d = os.path.join(workdir, "nginx")
    data = os.path.join(d, "htdocs", "dav")
    for sub in ("logs", "tmp"):
        os.makedirs(os.path.join(d, sub))
    os.makedirs(data)
    htpasswd(os.path.join(d, "htpasswd"), "bench", "bench-pw")
    port = peers.free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""\
load_module {NGINX_DAV_EXT};
user root;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {d}/tmp;
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        root {d}/htdocs;
        location /dav/ {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            create_full_put_path on;
            client_max_body_size 2m;
            auth_basic bench;
            auth_basic_user_file {d}/htpasswd;
        }}
    }}
}}
""")
    peer = peers.Peer("nginx", [peers.binary("nginx"), "-c", conf, "-p", d, "-g", "daemon off;"],
                      port, d)
    put, mkdir = disk_tree(data)
    return Server(port, "/dav/", "bench", "bench-pw", [peer.pid], put, mkdir, peer.stop)


# ------------------------------------------------------------------------------- tandem

def start_tandem(workdir):
    """One tandemd node on SQLite as bench/api.py starts it, user alice; the tree is filled
    through the JSON API and read through /dav/files/home/ (alice's "My files")."""
    c, node = start_tandem_node(workdir)
    try:
        api = ApiClient(node.port)
        status, body, _ = api.login("alice", "alice_pw")
        if status != 200:
            raise RuntimeError(f"tandem: login answered {status}: {body}")
        status, body, _ = api.request("GET", "/api/v1/folders?parent=4")
        folders = {"": [f for f in body["folders"] if f["module"] == "infostore"
                        and f.get("default")][0]["id"]}
    except BaseException:
        c.stop()
        raise

    local = threading.local()
    token = base64.b64encode(b"alice:alice_pw").decode()

    def put(path, content):
        """Thread-safe: each thread uploads through WebDAV on a keep-alive connection of its
        own (100,000 uploads on fresh connections would run out of loopback ports)."""
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=120)
        url = "/dav/files/home/" + urllib.parse.quote(path)
        local.conn.request("PUT", url, body=content, headers={"Authorization": f"Basic {token}"})
        resp = local.conn.getresponse()
        body = resp.read()
        if resp.status not in (201, 204):
            raise RuntimeError(f"tandem: upload of {path} answered {resp.status}: {body}")

    def mkdir(path):
        parent, _, title = path.rstrip("/").rpartition("/")
        status, body, _ = api.request("POST", "/api/v1/folders",
                                      {"parent": folders[parent], "title": title})
        if status != 201:
            raise RuntimeError(f"tandem: creating folder {path} answered {status}: {body}")
        folders[path.rstrip("/")] = body["id"]

    server = Server(node.port, "/dav/files/home/", "alice", "alice_pw", [node.pid], put, mkdir,
                    c.stop)
    try:
        status, _ = server.propfind("")
    except BaseException:
        c.stop()
        raise
    if status in NOT_AVAILABLE:
        c.stop()
        raise Unavailable(f"DAV not available (status {status})")
    return server


TARGETS = [Target("tandem", start_tandem), Target("apache", start_apache),
           Target("nginx", start_nginx)]


# ------------------------------------------------------------------------------- checks

def put_all(server, files, deadline):
    """Uploads {path: bytes} on 4 threads (a node's uploads wait on commits, not on CPU);
    gives up once time.monotonic() passes deadline."""
    def one(item):
        if time.monotonic() > deadline:
            raise TimeoutError("filling the tree took too long")
        server.put(*item)

    with ThreadPoolExecutor(4) as pool:
        for _ in pool.map(one, files.items()):
            pass


def fill(server):
    server.mkdir("many")
    put_all(server, {f"many/f{i:04d}.txt": f"file {i}\n".encode() * 16 for i in range(MANY)},
            time.monotonic() + 600)
    server.put("get-4k.bin", os.urandom(SMALL))
    server.put("get-1m.bin", os.urandom(LARGE))


def count_responses(body):
    return len(ET.fromstring(body).findall("{DAV:}response"))


def check(name, server):
    """None when the server answers every operation as expected, else what is wrong."""
    status, _ = server.request("GET", "get-4k.bin", headers={"Authorization": None})
    if status != 401:
        return f"GET get-4k.bin without credentials answered {status}, expected 401"
    status, body = server.propfind("many/")
    if status != 207:
        return f"PROPFIND many/ answered {status}"
    n = count_responses(body)
    if n != MANY + 1:
        return f"PROPFIND many/ listed {n} responses, expected {MANY + 1}"
    for path, size in (("get-4k.bin", SMALL), ("get-1m.bin", LARGE)):
        status, body = server.request("GET", path)
        if status != 200 or len(body) != size:
            return f"GET {path} answered {status} with {len(body)} bytes, expected {size}"
    for path, size in (("put-4k.bin", SMALL), ("put-1m.bin", LARGE)):
        status, _ = server.request("PUT", path, b"p" * size)
        if status not in (200, 201, 204):
            return f"PUT {path} answered {status}"
    return None


# ------------------------------------------------------------------------------- load

def seconds(duration):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", duration)
    if not m:
        sys.exit(f"webdav.sh: DURATION {duration!r} is not like 5s or 1m")
    return float(m.group(1)) * {"ms": 1e-3, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def lua_script(path, server, op):
    method, _, body = OPS[op]
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "{server.auth()}"']
    if method == "PROPFIND":
        lines += ['wrk.headers["Depth"] = "1"',
                  'wrk.headers["Content-Type"] = "application/xml"',
                  f"wrk.body = [[{ALLPROP}]]"]
    elif body is not None:
        lines += ['wrk.headers["Content-Type"] = "application/octet-stream"',
                  f"wrk.body = {body}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def cpu_ticks(pids):
    return sum(peers.cpu_ticks(p) for p in pids)


def run_wrk(server, script, op, duration, conns):
    url = f"http://127.0.0.1:{server.port}{server.prefix}{OPS[op][1]}"
    before = cpu_ticks(server.pids)
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{duration}", "--latency", "-s",
                          script, url], capture_output=True, text=True, check=True,
                         timeout=seconds(duration) + 60).stdout
    after = cpu_ticks(server.pids)
    if OPS[op][0] == "PUT":
        # Tandem keeps every PUT as a version: drop them all so the disk does not fill up
        # (harmless for the peers, whose PUT replaces the file)
        status, _ = server.request("DELETE", OPS[op][1])
        if status not in (200, 204, 404):
            raise RuntimeError(f"DELETE {OPS[op][1]} answered {status}")
    x = wrk_stats(out)
    x["us"] = (after - before) / HZ * 1e6 / max(x["reqs"], 1)
    return x


def start_all(workdir, prepare):
    """[(name, Server)] of the targets that run and pass prepare(name, server) (None or the
    reason to leave the target out); the rest are reported and stopped."""
    running = []
    wanted = os.environ.get("WEBDAV_TARGETS")
    for t in TARGETS:
        if wanted and t.name not in wanted.split(","):
            continue
        try:
            server = t.start(workdir)
        except Unavailable as e:
            print(f"{t.name}: {e}")
            continue
        try:
            why = prepare(t.name, server)
        except TimeoutError as e:
            why = str(e)
        except BaseException:
            server.stop()
            raise
        if why:
            print(f"{t.name}: left out, {why}")
            server.stop()
            continue
        running.append((t.name, server))
    return running


def stop_all(running):
    for _, server in reversed(running):
        server.stop()


def prepare_load(name, server):
    fill(server)
    return check(name, server)


def load(workdir, rounds, duration, conns):
    running = start_all(workdir, prepare_load)
    try:
        if not running:
            sys.exit("no target to measure")
        scripts = {}
        for name, server in running:
            for op in OPS:
                scripts[name, op] = os.path.join(workdir, f"{name}-{op}.lua")
                lua_script(scripts[name, op], server, op)
        print(f"{len(running)} targets; PROPFIND depth 1 allprop of {MANY} files, GET and PUT "
              f"of 4 KiB and 1 MiB; wrk -t1 -c{conns} -d{duration}, {rounds} interleaved "
              "rounds; CPU = the server's processes")
        for name, server in running:  # warm-up
            for op in OPS:
                run_wrk(server, scripts[name, op], op, "1s", conns)
        results = {(name, op): [] for name, _ in running for op in OPS}
        for r in range(rounds):
            for op in OPS:
                for name, server in running:
                    x = run_wrk(server, scripts[name, op], op, duration, conns)
                    results[name, op].append(x)
                    err = f"  ERRORS {x['errors']}" if x["errors"] else ""
                    print(f"round {r + 1} {op:8s} {name:7s} {x['rps']:9.0f} req/s  "
                          f"p99 {x['p99']:8.2f} ms  CPU {x['us']:8.1f} us/request{err}")
    finally:
        stop_all(running)
    report([name for name, _ in running], results)


def report(names, results):
    med = {key: {k: statistics.median(x[k] for x in rows) for k in ("rps", "p99", "us")}
           for key, rows in results.items()}
    print()
    print(f"{'median':8s} {'target':7s} {'req/s':>9s} {'p99 ms':>9s} {'CPU us/req':>11s}")
    for op in OPS:
        for name in names:
            m = med[name, op]
            print(f"{op:8s} {name:7s} {m['rps']:9.0f} {m['p99']:9.2f} {m['us']:11.1f}")
    if "apache" not in names:
        print("\n(no ratios: Apache did not run)")
        return
    print("\nratios against Apache mod_dav (goals for tandem: CPU <= 0.50 on every operation, "
          "PROPFIND p99 <= 1.00)")
    for op in OPS:
        ref = med["apache", op]
        for name in names:
            if name == "apache":
                continue
            m = med[name, op]
            print(f"{op:8s} {name}/apache: CPU per request {m['us'] / ref['us']:.2f}, "
                  f"p99 {m['p99'] / ref['p99']:.2f}, req/s {m['rps'] / ref['rps']:.2f}")
    if "tandem" not in names:
        print("(tandem not measured: run again once its DAV handlers answer)")


# ------------------------------------------------------------------------------- memory

def reset_hwm(pids):
    """Sets VmHWM back to the current RSS (clear_refs 5) so that the filling does not count."""
    for pid in pids:
        for p in peers.descendants(pid):
            try:
                with open(f"/proc/{p}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                continue


def memory_kib(pids, key):
    """Sum of a /proc/<pid>/status field (VmRSS, VmHWM) over pids and their descendants."""
    total = 0
    for pid in pids:
        for p in peers.descendants(pid):
            try:
                with open(f"/proc/{p}/status") as f:
                    for line in f:
                        if line.startswith(key + ":"):
                            total += int(line.split()[1])
            except OSError:
                continue
    return total


def prepare_memory(name, server):
    t0 = time.monotonic()
    server.mkdir("huge")
    put_all(server, {f"huge/f{i:06d}": b"" for i in range(HUGE)}, t0 + 1800)
    print(f"{name}: {HUGE} empty files in {time.monotonic() - t0:.1f} s")
    return None


def stream_propfind(workdir, server, timeout):
    """One PROPFIND depth 1 of huge/ by curl to /dev/null, RSS sampled meanwhile."""
    body = os.path.join(workdir, "allprop.xml")
    with open(body, "w") as f:
        f.write(ALLPROP)
    time.sleep(0.5)
    reset_hwm(server.pids)
    rss0, hwm0 = memory_kib(server.pids, "VmRSS"), memory_kib(server.pids, "VmHWM")
    curl = subprocess.Popen(["curl", "-sS", "-o", "/dev/null", "--max-time", str(timeout),
                             "-w", "%{http_code} %{size_download} %{time_total}",
                             "-X", "PROPFIND", "-H", "Depth: 1",
                             "-H", "Content-Type: application/xml", "--data-binary", f"@{body}",
                             "-u", f"{server.user}:{server.password}",
                             f"http://127.0.0.1:{server.port}{server.prefix}huge/"],
                            stdout=subprocess.PIPE, text=True)
    peak = rss0
    while curl.poll() is None:
        peak = max(peak, memory_kib(server.pids, "VmRSS"))
        time.sleep(0.01)
    status, size, secs = curl.stdout.read().split()
    hwm1 = memory_kib(server.pids, "VmHWM")
    return {"status": int(status), "bytes": int(size), "secs": float(secs), "rss0": rss0,
            "peak": peak - rss0, "hwm": hwm1 - hwm0}


def memory(workdir):
    running = start_all(workdir, prepare_memory)
    rows = {}
    try:
        for name, server in running:
            rows[name] = stream_propfind(workdir, server, 600)
    finally:
        stop_all(running)
    print(f"\nPROPFIND depth 1 allprop of {HUGE} empty files, streamed by curl to /dev/null; "
          "RSS of the server's processes (MiB)")
    print(f"{'target':7s} {'status':>6s} {'MiB sent':>9s} {'seconds':>8s} {'RSS before':>11s} "
          f"{'peak growth':>12s} {'HWM growth':>11s}")
    for name, x in rows.items():
        print(f"{name:7s} {x['status']:6d} {x['bytes'] / 2**20:9.1f} {x['secs']:8.2f} "
              f"{x['rss0'] / 1024:11.1f} {x['peak'] / 1024:12.1f} {x['hwm'] / 1024:11.1f}"
              + ("" if x["status"] == 207 else "  not a multistatus: not valid"))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-webdav-") as d:
        os.chmod(d, 0o755)  # Apache's workers run as www-data and must reach their tree
        if sys.argv[1] == "memory":
            memory(d)
        else:
            load(d, int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
