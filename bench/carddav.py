# SPDX-License-Identifier: MIT
# Driver for bench/carddav.sh: tandemd's CardDAV beside Cyrus IMAP's httpd (Debian
# cyrus-caldav, which serves CardDAV too) and Radicale, the same address book of generated
# vCards in each, the same clients (threads on keep-alive connections, each sending until a
# count or a time is reached), interleaved rounds: addressbook-query text-match,
# addressbook-multiget of 50 cards, incremental sync-collection after a few changes. Not wrk:
# a Radicale query takes seconds, and CPU read while requests are still running (wrk's end)
# would count work for requests that are not counted.
import base64
import http.client
import itertools
import os
import random
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
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
from cluster import pct, provision  # noqa: E402
from provisioning import Cluster  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
DAV, CARD = "DAV:", "urn:ietf:params:xml:ns:carddav"
NS = f'xmlns:D="DAV:" xmlns:C="{CARD}"'
CYRUS_BIN = "/usr/lib/cyrus/bin"
MULTIGET = 50  # cards named in one addressbook-multiget
SYNC_CHANGES = 5  # changes an incremental sync-collection reports
GIVEN = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas",
         "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara"]
SUR = ["Meyer", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch",
       "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Hartmann"]
ORGS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
# the query: FN contains QUERY_FN (any case) or an EMAIL starts with QUERY_EMAIL
QUERY_FN, QUERY_EMAIL = "greta koch", "ida.wolf"

OPS = ("query", "multiget", "sync")


class Unavailable(Exception):
    """A target that cannot be measured: the message says why."""


@dataclass
class Card:
    name: str  # resource name (NAME.vcf)
    uid: str
    fn: str
    email: str
    text: str


def vcard(uid, given, sur, i, email, org, note=""):
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {sur}\r\n"
            f"N:{sur};{given};;;\r\nEMAIL;TYPE=work:{email}\r\n"
            f"TEL;TYPE=cell:+49 30 {1000000 + i}\r\nORG:{org}\r\n"
            f"ADR;TYPE=work:;;Street {i % 200};Berlin;;{10000 + i % 9000};Germany\r\n"
            f"NOTE:{note or 'generated for bench/carddav.sh'}\r\nEND:VCARD\r\n")


def generate(n, seed=16):
    rnd = random.Random(seed)
    cards = []
    for i in range(n):
        g, s = rnd.choice(GIVEN), rnd.choice(SUR)
        uid = f"bench-{i:06d}"
        email = f"{g.lower()}.{s.lower()}{i}@corp.example"
        cards.append(Card(f"c{i:06d}.vcf", uid, f"{g} {s}", email,
                          vcard(uid, g, s, i, email, rnd.choice(ORGS))))
    return cards


def expected(cards):
    return {c.name for c in cards
            if QUERY_FN in c.fn.lower() or c.email.startswith(QUERY_EMAIL)}


def query_body():
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<C:addressbook-query {NS}>'
            "<D:prop><D:getetag/><C:address-data/></D:prop>"
            '<C:filter test="anyof">'
            f'<C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" '
            f'match-type="contains">{QUERY_FN}</C:text-match></C:prop-filter>'
            f'<C:prop-filter name="EMAIL"><C:text-match collation="i;unicode-casemap" '
            f'match-type="starts-with">{QUERY_EMAIL}</C:text-match></C:prop-filter>'
            "</C:filter></C:addressbook-query>")


def multiget_body(collection, cards):
    hrefs = "".join(f"<D:href>{collection}{c.name}</D:href>" for c in cards)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<C:addressbook-multiget {NS}>'
            f"<D:prop><D:getetag/><C:address-data/></D:prop>{hrefs}"
            "</C:addressbook-multiget>")


def sync_body(token):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>")


@dataclass
class Server:
    """A started target: collection is the URL path of the bench address book (ends with /);
    cpu() the server's CPU ticks so far (all its processes)."""
    port: int
    collection: str
    user: str
    password: str
    pids: list
    stop: Callable
    reaper: int = 0  # a process whose cutime/cstime count too (Cyrus's master: ended workers)
    fill: Callable = None  # fill(cards, deadline) when PUTs are not the way in
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
        closed meanwhile is opened again once."""
        h = {"Authorization": self.auth(), **(headers or {})}
        if isinstance(body, str):
            body = body.encode()
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            fresh = conn is None
            if fresh:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                    timeout=timeout)
            try:
                conn.request(method, path, body=body, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if fresh or attempt == 2:
                    raise
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
            self.local.conn = None
        return resp.status, data

    def put(self, name, text):
        status, body = self.request("PUT", self.collection + name, text,
                                    {"Content-Type": "text/vcard; charset=utf-8"})
        if status not in (201, 204):
            raise RuntimeError(f"PUT {name} answered {status}: {body[:300]!r}")

    def report(self, body, depth="1"):
        return self.request("REPORT", self.collection, body,
                            {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"})


def hrefs(body):
    """{last path segment: status} of a multistatus (status 200 when a propstat holds it)."""
    out = {}
    for r in ET.fromstring(body).findall(f"{{{DAV}}}response"):
        href = r.findtext(f"{{{DAV}}}href").rstrip("/").rsplit("/", 1)[-1]
        st = r.findtext(f"{{{DAV}}}status") or r.findtext(f"{{{DAV}}}propstat/{{{DAV}}}status")
        out[href] = int(st.split()[1]) if st else 0
    return out


def with_data(body):
    """How many responses of a multistatus hold a vCard."""
    return sum(1 for r in ET.fromstring(body).iter(f"{{{CARD}}}address-data")
               if (r.text or "").startswith("BEGIN:VCARD"))


def sync_token(body):
    return ET.fromstring(body).findtext(f"{{{DAV}}}sync-token")


# ------------------------------------------------------------------------------- targets

def start_tandem(workdir):
    """One tandemd node on SQLite as bench/api.py starts it; alice's default address book."""
    d = os.path.join(workdir, "tandem")
    os.makedirs(d)
    c = Cluster(d, f"sqlite://{d}/configdb.sqlite",
                extra="[log]\nlevel = warn\n[limits]\nmax_objects_per_context = 0\n")
    node = c.start_node()
    try:
        provision(c, d)
        home = Server(node.port, "/dav/addressbooks/alice/", "alice", "alice_pw", [node.pid],
                      c.stop)
        status, body = home.request("PROPFIND", home.collection, headers={"Depth": "1"})
        books = [r.findtext(f"{{{DAV}}}href") for r in ET.fromstring(body).iter(
                 f"{{{DAV}}}response") if r.find(f".//{{{CARD}}}addressbook") is not None
                 ] if status == 207 else []
        if not books:
            raise Unavailable(f"PROPFIND of alice's address book home answered {status}")
        home.collection = books[0].rstrip("/") + "/"
    except BaseException:
        c.stop()
        raise
    return home


def start_cyrus(workdir):
    """Cyrus 3.6's httpd (CardDAV) under its master process as user cyrus, a private
    configuration; lmtpd with autocreate makes the user's mailbox (Debian's cyrus-imapd
    conflicts with dovecot-imapd), then the DAV home and its Default address book exist."""
    for tool in ("master", "httpd", "lmtpd"):
        if not os.path.exists(f"{CYRUS_BIN}/{tool}"):
            raise Unavailable(f"{CYRUS_BIN}/{tool} is missing (apt-get install cyrus-caldav)")
    if shutil.which("saslpasswd2") is None:
        raise Unavailable("saslpasswd2 is missing (apt-get install sasl2-bin)")
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
httpmodules: carddav
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {d}/sasldb2
allowplaintext: yes
unixhierarchysep: yes
proc_path: {d}/proc
mboxname_lockpath: {d}/lock
autocreate_quota: 0
autocreate_post: yes
syslog_prefix: cyrus-bench
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
        server = Server(http_port, "/dav/addressbooks/user/bench/Default/", "bench",
                        "bench-pw", [peer.pid], peer.stop,
                        reaper=master[0] if master else peer.pid)
        status, _ = server.request("PROPFIND", server.collection, headers={"Depth": "0"})
        if status != 207:
            raise Unavailable(f"PROPFIND of the address book answered {status}")
    except BaseException:
        peer.stop()
        raise
    return server


def start_radicale(workdir):
    """Radicale with a plain htpasswd file; the address book is made by an extended MKCOL and
    filled by writing its files (one PUT per card re-reads the collection: hours for 10,000),
    which Radicale reads and caches on the first request."""
    if shutil.which("radicale") is None:
        raise Unavailable("radicale is missing (apt-get install radicale)")
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
    folder = os.path.join(d, "collections", "collection-root", "bench", "contacts")

    def fill(cards, deadline):
        for c in cards:
            with open(os.path.join(folder, c.name), "w", newline="") as f:
                f.write(c.text)
        if time.monotonic() > deadline:
            raise TimeoutError("filling the address book took too long")

    server = Server(port, "/bench/contacts/", "bench", "bench-pw", [peer.pid], peer.stop,
                    fill=fill)
    try:
        status, body = server.request(
            "MKCOL", server.collection,
            f'<?xml version="1.0"?><D:mkcol {NS}><D:set><D:prop><D:resourcetype>'
            "<D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>")
        if status != 201:
            raise Unavailable(f"MKCOL answered {status}: {body[:200]!r}")
    except BaseException:
        peer.stop()
        raise
    return server


TARGETS = {"tandem": start_tandem, "cyrus": start_cyrus, "radicale": start_radicale}


# ------------------------------------------------------------------------------- filling

def put_all(server, cards, deadline, threads=4):
    def one(c):
        if time.monotonic() > deadline:
            raise TimeoutError("filling the address book took too long")
        server.put(c.name, c.text)

    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(one, cards):
            pass


def check(server, cards):
    """None when the query and the multiget answer exactly what they should, else why not."""
    status, body = server.report(query_body())
    if status != 207:
        return f"addressbook-query answered {status}: {body[:200]!r}"
    got = {n for n, st in hrefs(body).items() if st == 200}
    want = expected(cards)
    if got != want or with_data(body) != len(want):
        return (f"addressbook-query found {len(got)} cards ({with_data(body)} with data), "
                f"expected {len(want)} (missing {sorted(want - got)[:3]}, "
                f"extra {sorted(got - want)[:3]})")
    some = cards[100:100 + MULTIGET]
    status, body = server.report(multiget_body(server.collection, some))
    got = {n for n, st in hrefs(body).items() if st == 200} if status == 207 else set()
    if got != {c.name for c in some} or with_data(body) != MULTIGET:
        return f"addressbook-multiget answered {status} with {len(got)} cards"
    return None


def prepare(name, server, cards):
    t0 = time.monotonic()
    if server.fill is not None:
        server.fill(cards, t0 + 900)
    else:
        put_all(server, cards, t0 + 900)
    print(f"{name}: {len(cards)} cards in {time.monotonic() - t0:.1f} s")
    why = check(server, cards)
    if why:
        raise Unavailable(why)
    sync_changes(server, cards)


CHANGE_SETS = itertools.count()


def sync_changes(server, cards):
    """A sync token followed by SYNC_CHANGES changed cards (new text every call), checked: what
    the sync op reports from."""
    n = next(CHANGE_SETS) % 1000
    token = current_token(server)
    changed = cards[200 + n * SYNC_CHANGES:200 + (n + 1) * SYNC_CHANGES]
    for c in changed:
        server.put(c.name, c.text.replace("NOTE:", f"NOTE:changed {n} "))
    status, body = server.report(sync_body(token))
    got = hrefs(body) if status == 207 else {}
    if set(got) != {c.name for c in changed}:
        raise Unavailable(f"incremental sync-collection answered {status} with {len(got)} "
                          f"responses ({sorted(got)[:8]}), expected {len(changed)}")
    return token


def current_token(server):
    """The collection's sync token now: sync-collection from the empty token, and again from
    the token it gave while the answer says it was cut (RFC 6578 §3.6, 507 for the
    collection)."""
    token = ""
    for _ in range(100):
        status, body = server.report(sync_body(token))
        if status != 207 or not sync_token(body):
            raise Unavailable(f"sync-collection from {token!r} answered {status}")
        token = sync_token(body)
        if hrefs(body).get(server.collection.rstrip("/").rsplit("/", 1)[-1]) != 507:
            return token
    raise Unavailable("sync-collection still cut after 100 pages")


# ------------------------------------------------------------------------------- load

def request_body(server, op, cards, token):
    if op == "query":
        return query_body()
    if op == "sync":
        return sync_body(token)
    return multiget_body(server.collection, cards[100:100 + MULTIGET])


def run_clients(server, op, body, seconds, conns, most):
    """conns client threads, each on its own keep-alive connection sending the REPORT until
    it has sent `most` or `seconds` have passed (at least one each); the server's CPU read
    once they have all finished, so no request is half counted."""
    depth = "0" if op == "sync" else "1"
    lat, bad = [[] for _ in range(conns)], [0] * conns

    def client(k):
        deadline = time.monotonic() + seconds
        while len(lat[k]) < most and (not lat[k] or time.monotonic() < deadline):
            t = time.perf_counter()
            status, _ = server.report(body, depth)
            lat[k].append((time.perf_counter() - t) * 1000)
            bad[k] += status != 207

    threads = [threading.Thread(target=client, args=(k,)) for k in range(conns)]
    before, t0 = server.cpu(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, after = time.perf_counter() - t0, server.cpu()
    all_lat = [x for one in lat for x in one]
    return {"reqs": len(all_lat), "rps": len(all_lat) / wall, "p50": pct(all_lat, 50),
            "p99": pct(all_lat, 99), "errors": sum(bad),
            "us": (after - before) / HZ * 1e6 / len(all_lat)}


def measure(server, cards, op, seconds, conns, most):
    token = sync_changes(server, cards) if op == "sync" else None
    return run_clients(server, op, request_body(server, op, cards, token), seconds, conns, most)


def start_all(workdir, names, cards):
    running = []
    for name in names:
        try:
            server = TARGETS[name](workdir)
        except Unavailable as e:
            print(f"{name}: skipped, {e}")
            continue
        try:
            prepare(name, server, cards)
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


def load(workdir, count, rounds, seconds, conns, most):
    cards = generate(count)
    # CARDDAV_TARGETS=tandem,cyrus: fewer targets
    names = os.environ.get("CARDDAV_TARGETS", ",".join(TARGETS)).split(",")
    unknown = set(names) - set(TARGETS)
    if unknown:
        sys.exit(f"carddav.sh: CARDDAV_TARGETS names {sorted(unknown)}; known: {list(TARGETS)}")
    running = start_all(workdir, names, cards)
    results = {}
    try:
        if not running:
            sys.exit("no target to measure")
        print(f"{len(running)} targets; {count} cards; addressbook-query FN contains "
              f"'{QUERY_FN}' or EMAIL starts-with '{QUERY_EMAIL}' ({len(expected(cards))} "
              f"cards with data), addressbook-multiget of {MULTIGET} with data, "
              f"sync-collection reporting {SYNC_CHANGES} changes (etags); {conns} clients, each "
              f"for {seconds:g} s or {most} requests, {rounds} interleaved rounds; CPU = the "
              "server's processes")
        for r in range(rounds + 1):  # round 0 warms up
            for op in OPS:
                for name, server in running:
                    x = measure(server, cards, op, 1 if r == 0 else seconds, conns, most)
                    if r == 0:
                        continue
                    results.setdefault((name, op), []).append(x)
                    err = f"  ERRORS {x['errors']}" if x["errors"] else ""
                    print(f"round {r} {op:8s} {name:8s} {x['reqs']:7d} req {x['rps']:8.1f} "
                          f"req/s  p50 {x['p50']:8.2f} ms  p99 {x['p99']:8.2f} ms  "
                          f"CPU {x['us']:9.1f} us/request{err}")
    finally:
        stop_all(running)
    report([name for name, _ in running], results)


GOALS = {"query": 0.25, "sync": 0.5}  # tandem/cyrus CPU per request at most


def ratio(a, b):
    return f"{a / b:6.3g}" if b else "   n/a"


def report(names, results):
    med = {key: {k: statistics.median(x[k] for x in rows) for k in ("reqs", "rps", "p50", "p99",
                                                                      "us")}
           for key, rows in results.items()}
    print()
    print(f"{'median':8s} {'target':8s} {'requests':>8s} {'CPU us/req':>11s} {'p50 ms':>8s} "
          f"{'p99 ms':>8s} {'req/s':>8s}")
    for op in OPS:
        for name in names:
            m = med[name, op]
            print(f"{op:8s} {name:8s} {m['reqs']:8.0f} {m['us']:11.1f} {m['p50']:8.2f} "
                  f"{m['p99']:8.2f} {m['rps']:8.1f}")
    if "tandem" not in names:
        return
    print("\nratios tandem/peer (CPU per request, p99, req/s); goals against Cyrus: query CPU "
          "<= 0.25x, sync CPU <= 0.5x")
    for op in OPS:
        t = med["tandem", op]
        cols = []
        for peer in ("cyrus", "radicale"):
            if peer not in names:
                cols.append(f"{'tandem/' + peer + ': not run':46s}")
                continue
            p = med[peer, op]
            cols.append(f"tandem/{peer:8s} CPU {ratio(t['us'], p['us'])} p99 "
                        f"{ratio(t['p99'], p['p99'])} req/s {ratio(t['rps'], p['rps'])}")
        line = f"{op:8s} " + "   ".join(cols)
        if "cyrus" in names and op in GOALS:
            met = t["us"] <= GOALS[op] * med["cyrus", op]["us"]
            line += f"   goal CPU <= {GOALS[op]}x: {'met' if met else 'MISSED'}"
        print(line)


def main():
    sys.stdout.reconfigure(line_buffering=True)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-carddav-") as d:
        os.chmod(d, 0o755)  # Cyrus runs as user cyrus and must reach its directory
        load(d, int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]),
             int(sys.argv[5]))


if __name__ == "__main__":
    main()
