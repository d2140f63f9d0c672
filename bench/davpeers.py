# SPDX-License-Identifier: MIT
# What bench/caldav.py and bench/carddav.py share: a keep-alive DAV client of one collection
# with the server's CPU accounting, the multistatus helpers, the tandemd node, Cyrus IMAP's
# httpd and Radicale as targets (CalDAV or CardDAV by their parameters), filling a collection
# through PUT and starting the targets in turn. bench/webdav.py starts its node here too.
import base64
import http.client
import itertools
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

import peers  # noqa: E402
from cluster import provision  # noqa: E402
from provisioning import Cluster  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
DAV = "DAV:"
CYRUS_BIN = "/usr/lib/cyrus/bin"
SYNC_CHANGES = 5  # changes an incremental sync-collection reports


class Unavailable(Exception):
    """A target that cannot be measured: the message says why."""


@dataclass
class Server:
    """A started target: collection is the URL path of the bench collection (ends with /);
    content_type that of its resources (a PUT's); cpu() the server's CPU ticks so far (all its
    processes)."""
    port: int
    collection: str
    user: str
    password: str
    pids: list
    stop: Callable
    content_type: str
    reaper: int = 0  # a process whose cutime/cstime count too (Cyrus's master: ended workers)
    fill: Callable = None  # fill(items, deadline) when PUTs are not the way in
    local: threading.local = field(default_factory=threading.local)

    def auth(self):
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def cpu(self):
        ticks = sum(peers.cpu_ticks(p) for p in self.pids)
        if self.reaper:
            try:
                with open(f"/proc/{self.reaper}/stat") as f:
                    s = f.read()
                fields = s[s.rindex(")") + 2:].split()
                ticks += int(fields[13]) + int(fields[14])
            except OSError:
                pass
        return ticks

    def request(self, method, path, body=None, headers=None, timeout=120):
        """(status, body) on this thread's keep-alive connection; a kept connection the server
        closed meanwhile (its idle timeout) is opened again once."""
        h = {"Authorization": self.auth(), **(headers or {})}
        resp, data = keepalive(self.local, self.port, method, path, body, h, timeout)
        return resp.status, data

    def put(self, name, text):
        status, body = self.request("PUT", self.collection + name, text,
                                    {"Content-Type": self.content_type})
        if status not in (201, 204):
            raise RuntimeError(f"PUT {name} answered {status}: {body[:300]!r}")

    def report(self, body, depth="1"):
        return self.request("REPORT", self.collection, body,
                            {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"})


def keepalive(local, port, method, path, body, headers, timeout=120):
    """(response, body) on this thread's keep-alive connection to 127.0.0.1:port, kept in
    local.conn; a kept connection the server closed meanwhile is opened again once."""
    if isinstance(body, str):
        body = body.encode()
    for attempt in (1, 2):
        conn = getattr(local, "conn", None)
        fresh = conn is None
        if fresh:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            break
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            if fresh or attempt == 2:
                raise
    if resp.getheader("Connection", "").lower() == "close":
        conn.close()
        local.conn = None
    return resp, data


def hrefs(body):
    """{last path segment: status} of a multistatus (status 200 when a propstat holds it)."""
    out = {}
    for r in ET.fromstring(body).findall(f"{{{DAV}}}response"):
        href = r.findtext(f"{{{DAV}}}href").rstrip("/").rsplit("/", 1)[-1]
        st = r.findtext(f"{{{DAV}}}status") or r.findtext(f"{{{DAV}}}propstat/{{{DAV}}}status")
        out[href] = int(st.split()[1]) if st else 0
    return out


def sync_body(token):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>\n")


def sync_token(body):
    return ET.fromstring(body).findtext(f"{{{DAV}}}sync-token")


def current_token(server):
    """The collection's sync token now: sync-collection from the empty token, and again from
    the token it gave while the answer says it was cut (RFC 6578 §3.6, 507 for the
    collection; Tandem answers 5,000 changes at a time)."""
    token = ""
    for _ in range(100):
        status, body = server.report(sync_body(token))
        if status != 207 or not sync_token(body):
            raise Unavailable(f"sync-collection from {token!r} answered {status}")
        token = sync_token(body)
        if hrefs(body).get(server.collection.rstrip("/").rsplit("/", 1)[-1]) != 507:
            return token
    raise Unavailable("sync-collection still cut after 100 pages")


CHANGE_SETS = itertools.count()


def sync_changes(server, items, first, sets, prop):
    """A sync token followed by SYNC_CHANGES changed items (from items[first] on, a new set
    and text every call, sets sets before they come again: a PUT of the same bytes is no
    change to Radicale; prop is the property whose value changes), checked: what the sync op
    reports from."""
    n = next(CHANGE_SETS) % sets
    token = current_token(server)
    changed = items[first + n * SYNC_CHANGES:first + (n + 1) * SYNC_CHANGES]
    for item in changed:
        server.put(item.name, item.text.replace(f"{prop}:", f"{prop}:changed {n} "))
    status, body = server.report(sync_body(token))
    got = hrefs(body) if status == 207 else {}
    if set(got) != {item.name for item in changed}:
        raise Unavailable(f"incremental sync-collection answered {status} with {len(got)} "
                          f"responses ({sorted(got)[:8]}), expected {len(changed)}")
    return token


# ------------------------------------------------------------------------------- targets

def start_tandem_node(workdir):
    """One tandemd node on SQLite as bench/api.py starts it, provisioned (user alice):
    (its Cluster, the node)."""
    d = os.path.join(workdir, "tandem")
    os.makedirs(d)
    c = Cluster(d, f"sqlite://{d}/configdb.sqlite",
                extra="[log]\nlevel = warn\n[limits]\nmax_objects_per_context = 0\n")
    node = c.start_node()
    try:
        provision(c, d)
    except BaseException:
        c.stop()
        raise
    return c, node


def start_cyrus(workdir, module, collection, content_type, what, extra_conf=""):
    """Cyrus 3.6's httpd (httpmodules: module, caldav or carddav) under its master process as
    user cyrus, a private configuration (extra_conf: more imapd.conf lines); lmtpd with
    autocreate makes the user's mailbox (there is no imapd here: Debian's cyrus-imapd
    conflicts with dovecot-imapd), then the DAV home and its Default collection exist; what
    names that collection in the error when a PROPFIND of it fails."""
    for tool in ("master", "httpd", "lmtpd"):
        if not os.path.exists(f"{CYRUS_BIN}/{tool}"):
            raise Unavailable(f"{CYRUS_BIN}/{tool} is missing (scripts/deps.sh bench installs "
                              "cyrus-caldav)")
    if shutil.which("saslpasswd2") is None:
        raise Unavailable("saslpasswd2 is missing (scripts/deps.sh bench installs sasl2-bin)")
    d = os.path.join(workdir, "cyrus")
    for sub in ("conf/socket", "conf/db", "conf/log", "conf/proc", "conf/lock", "spool",
                "proc", "lock"):
        os.makedirs(os.path.join(d, sub))
    http_port, lmtp_port = peers.free_port(), peers.free_port()
    conf = os.path.join(d, "imapd.conf")
    with open(conf, "w") as f:
        f.write(f"""configdirectory: {d}/conf
partition-default: {d}/spool
servername: 127.0.0.1
httpmodules: {module}
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {d}/sasldb2
allowplaintext: yes
unixhierarchysep: yes
proc_path: {d}/proc
mboxname_lockpath: {d}/lock
autocreate_quota: 0
autocreate_post: yes
{extra_conf}syslog_prefix: cyrus-bench
""")
    with open(os.path.join(d, "cyrus.conf"), "w") as f:
        # four httpd workers kept (prefork) for the four clients
        f.write(f"""START {{
  recover cmd="{CYRUS_BIN}/ctl_cyrusdb -r -C {conf}"
}}
SERVICES {{
  lmtp cmd="{CYRUS_BIN}/lmtpd -a -C {conf}" listen="127.0.0.1:{lmtp_port}" prefork=0
  http cmd="{CYRUS_BIN}/httpd -C {conf}" listen="127.0.0.1:{http_port}" prefork=4
}}
EVENTS {{
}}
DAEMON {{
}}
""")
    # the realm Cyrus asks for is its servername
    subprocess.run(["saslpasswd2", "-p", "-c", "-f", f"{d}/sasldb2", "-u", "127.0.0.1",
                    "bench"], input=b"bench-pw", check=True)
    subprocess.run(["chown", "-R", "cyrus:mail", d], check=True)
    peer = peers.Peer("cyrus", ["runuser", "-u", "cyrus", "--", f"{CYRUS_BIN}/master", "-C",
                                conf, "-M", f"{d}/cyrus.conf", "-p", f"{d}/master.pid"],
                      http_port, d)
    try:
        peers._wait_port(lmtp_port, peer.proc, peer.log_path, 15)
        lmtp = smtplib.LMTP("127.0.0.1", lmtp_port)
        lmtp.sendmail("bench@127.0.0.1", ["bench"], "Subject: hello\r\n\r\nmailbox\r\n")
        lmtp.quit()
        master = [p for p in peers.descendants(peer.pid) if p != peer.pid]  # runuser's child
        server = Server(http_port, collection, "bench", "bench-pw", [peer.pid], peer.stop,
                        content_type, reaper=master[0] if master else peer.pid)
        status, _ = server.request("PROPFIND", server.collection, headers={"Depth": "0"})
        if status != 207:
            raise Unavailable(f"PROPFIND of the {what} answered {status}")
    except BaseException:
        peer.stop()
        raise
    return server


def start_radicale(workdir, collection, content_type, method, body, what, write_files=False):
    """Radicale with a plain htpasswd file; collection (what names it in errors) is made by
    method (MKCALENDAR, an extended MKCOL) with body. write_files: the collection is filled by
    writing its files (one PUT per item re-reads the collection: hours for 10,000), which
    Radicale reads and caches on the first request."""
    if shutil.which("radicale") is None:
        raise Unavailable("radicale is missing (scripts/deps.sh bench installs radicale)")
    d = os.path.join(workdir, "radicale")
    os.makedirs(os.path.join(d, "collections"))
    with open(os.path.join(d, "users"), "w") as f:
        f.write("bench:bench-pw\n")
    port = peers.free_port()
    conf = os.path.join(d, "config")
    with open(conf, "w") as f:
        f.write(f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {d}/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = {d}/collections
[logging]
level = warning
""")
    peer = peers.Peer("radicale", ["radicale", "--config", conf], port, d)
    folder = os.path.join(d, "collections", "collection-root", *collection.strip("/").split("/"))

    def fill(items, deadline):
        for item in items:
            with open(os.path.join(folder, item.name), "w", newline="") as f:
                f.write(item.text)
        if time.monotonic() > deadline:
            raise TimeoutError(f"filling the {what} took too long")

    server = Server(port, collection, "bench", "bench-pw", [peer.pid], peer.stop, content_type,
                    fill=fill if write_files else None)
    try:
        status, answer = server.request(method, server.collection, body)
        if status != 201:
            raise Unavailable(f"{method} answered {status}: {answer[:200]!r}")
    except BaseException:
        peer.stop()
        raise
    return server


# ------------------------------------------------------------------------------- running

def put_all(server, items, deadline, what, threads=4):
    """PUTs items (.name, .text), threads at a time; what names the collection in the
    error when deadline passes."""
    def one(item):
        if time.monotonic() > deadline:
            raise TimeoutError(f"filling the {what} took too long")
        server.put(item.name, item.text)

    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(one, items):
            pass


def target_names(targets, env, prog):
    """The names of targets that environment variable env lists (comma-separated), all of
    them without it; prog exits naming an unknown one."""
    names = os.environ.get(env, ",".join(targets)).split(",")
    unknown = set(names) - set(targets)
    if unknown:
        sys.exit(f"{prog}: {env} names {sorted(unknown)}; known: {list(targets)}")
    return names


def start_all(workdir, targets, names, items, prepare):
    """Starts and prepares (prepare(name, server, items)) the targets named, in turn: the
    (name, server) pairs that run; one that cannot run is reported and left out."""
    running = []
    for name in names:
        try:
            server = targets[name](workdir)
        except Unavailable as e:
            print(f"{name}: skipped, {e}")
            continue
        try:
            prepare(name, server, items)
        except (Unavailable, TimeoutError) as e:
            print(f"{name}: left out, {e}")
            server.stop()
            continue
        except BaseException:
            server.stop()
            stop_all(running)
            raise
        running.append((name, server))
    return running


def stop_all(running):
    for _, server in reversed(running):
        server.stop()


# ------------------------------------------------------------------------------- output

def run_rounds(running, ops, rounds, width, measure):
    """A warm-up round 0 and rounds interleaved rounds of every op on every running (name,
    server): measure(name, server, op, r) one run; a line a run (op padded to width); returns
    {(name, op): [run, ...]}."""
    results = {}
    for r in range(rounds + 1):
        for op in ops:
            for name, server in running:
                x = measure(name, server, op, r)
                if r == 0:
                    continue
                results.setdefault((name, op), []).append(x)
                print_round(r, op, width, name, x)
    return results


def print_round(r, op, width, name, x):
    """A round's line of one target and op (op padded to width)."""
    err = f"  ERRORS {x['errors']}" if x["errors"] else ""
    print(f"round {r} {op:{width}s} {name:8s} {x['reqs']:7d} req {x['rps']:8.1f} "
          f"req/s  p50 {x['p50']:8.2f} ms  p99 {x['p99']:8.2f} ms  "
          f"CPU {x['us']:9.1f} us/request{err}")


def print_medians(names, ops, results, width):
    """The table of medians over the rounds; returns them, {(name, op): {key: median}}."""
    med = {key: {k: statistics.median(x[k] for x in rows) for k in ("reqs", "rps", "p50", "p99",
                                                                      "us")}
           for key, rows in results.items()}
    print()
    print(f"{'median':{width}s} {'target':8s} {'requests':>8s} {'CPU us/req':>11s} "
          f"{'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>8s}")
    for op in ops:
        for name in names:
            m = med[name, op]
            print(f"{op:{width}s} {name:8s} {m['reqs']:8.0f} {m['us']:11.1f} {m['p50']:8.2f} "
                  f"{m['p99']:8.2f} {m['rps']:8.1f}")
    return med


def peer_columns(names, med, op, ratio):
    """op's tandem/cyrus and tandem/radicale columns; ratio(a, b, key) formats one ratio."""
    t = med["tandem", op]
    cols = []
    for peer in ("cyrus", "radicale"):
        if peer not in names:
            cols.append(f"{'tandem/' + peer + ': not run':46s}")
            continue
        p = med[peer, op]
        cols.append(f"tandem/{peer:8s} CPU {ratio(t['us'], p['us'], 'us')} p99 "
                    f"{ratio(t['p99'], p['p99'], 'p99')} req/s "
                    f"{ratio(t['rps'], p['rps'], 'rps')}")
    return "   ".join(cols)
